/**
 * The step runner's former entry point, kept as a shim: Pulumi states written before the runner moved to
 * components/runner/main.ts hold Commands whose `delete` is `node ... components/bootstrap/cli.ts forget-keys`, and
 * `pulumi destroy` runs exactly that. It forwards to the runner; nothing else may import it.
 */
import { runProcess } from "../runner/main";

runProcess();
