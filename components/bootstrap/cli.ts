/**
 * The step runner's entry point, at the path every step's Command has always named (see STEP_RUNNER in
 * components/stepCommand/contract.ts: a new path would re-run every step of existing stacks). The runner itself is
 * components/runner/; this file only starts it.
 */
import { runProcess } from "../runner/main";

runProcess();
