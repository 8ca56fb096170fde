/**
 * A simulated Pulumi engine for the bootstrap: what `pulumi up` does with VaultBootstrap's Commands, faithfully
 * enough for the properties the chaos tests check.
 *
 * - The state records each step's inputs and stdout after it succeeded (the init step's stdout, a secret output, is
 *   where the Pulumi state keeps the keys). A failed or killed step records nothing.
 * - An up runs the plan as a graph (followers in parallel, as Pulumi does); a step runs when its inputs (its own
 *   parameters, secrets and triggers) differ from the recorded ones (a Command re-runs `create` on any change, and
 *   its triggers are the pods' identities, read anew on every up by the pod-identities invoke once the roll step is
 *   done, which it depends on); a step whose dependency failed does not run.
 */
import type { StepName, VaultKeys } from "../../components/steps/contract";
import { bootstrapPlan } from "../../components/vault/bootstrapPlan";
import type { Secrets, Simulation, StepRun } from "../doubles/vault/harness";

export interface EngineRun extends StepRun {
    id: string;
}

export interface UpResult {
    ok: boolean;
    /** The steps that ran (not the ones left unchanged). */
    runs: EngineRun[];
}

export class SimulatedEngine {
    /** The Pulumi state: per step, the inputs it last succeeded with and its stdout. */
    readonly state = new Map<string, { inputs: string; stdout: string }>();

    constructor(
        private readonly sim: Simulation,
        /** vault-ha:unsealKeys / vault-ha:rootToken from config, if set. */
        readonly adopted?: VaultKeys,
    ) {}

    /** The keys the state holds: the init step's recorded stdout. */
    keysInState(): VaultKeys | undefined {
        const init = this.state.get("init");
        if (!init) return undefined;
        const { unsealKeys, rootToken } = JSON.parse(init.stdout) as VaultKeys;
        return { unsealKeys, rootToken };
    }

    async up(): Promise<UpResult> {
        const runs: EngineRun[] = [];
        const done = new Map<string, Promise<boolean>>();
        // The pod-identities invoke: it runs on every preview and up, after the roll step (its dependency, which it
        // waits for even when that step failed), and never fails an up.
        let identitiesRead: Promise<Record<string, string>> | undefined;
        const identities = () =>
            (identitiesRead ??= done
                .get("roll")!
                .then(async () => JSON.parse((await this.sim.runStep("pod-identities")).stdout || "{}") as Record<string, string>));
        for (const planned of bootstrapPlan(this.sim.pods)) {
            done.set(
                planned.id,
                (async () => {
                    const deps = await Promise.all(planned.after.map((id) => done.get(id)!));
                    if (deps.some((ok) => !ok)) return false;
                    const secrets = this.secretsFor(planned.step);
                    const triggers =
                        planned.step === "unseal" || planned.step === "join"
                            ? [(await identities())[planned.pod!]]
                            : planned.step === "verify"
                              ? this.sim.pods.map((p) => identities().then((known) => known[p]))
                              : [];
                    const params = this.sim.stepParams(planned.step, planned.pod);
                    const inputs = JSON.stringify({ pod: planned.pod, secrets, triggers: await Promise.all(triggers), params });
                    if (this.state.get(planned.id)?.inputs === inputs) return true;
                    const run = await this.sim.runStep(planned.step, { pod: planned.pod, secrets });
                    runs.push({ id: planned.id, ...run });
                    if (run.code !== 0) return false;
                    this.state.set(planned.id, { inputs, stdout: run.stdout });
                    return true;
                })(),
            );
        }
        const results = await Promise.all(done.values());
        return { ok: results.every(Boolean), runs };
    }

    private secretsFor(step: StepName): Secrets {
        const keys = this.keysInState();
        switch (step) {
            case "init":
                return this.adopted ? { ...this.adopted } : {};
            case "unseal":
                return { unsealKeys: keys?.unsealKeys };
            case "join":
                return { unsealKeys: keys?.unsealKeys, rootToken: keys?.rootToken };
            case "verify":
                return { rootToken: keys?.rootToken };
            case "roll":
                return { unsealKeys: keys?.unsealKeys, rootToken: keys?.rootToken };
            default:
                return {};
        }
    }
}
