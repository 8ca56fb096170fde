/**
 * A simulated Pulumi engine for the bootstrap: what `pulumi up` does with VaultBootstrap's Commands, faithfully
 * enough for the properties the chaos tests check.
 *
 * - The state records each step's inputs and stdout after it succeeded (the init step's stdout, a secret output, is
 *   where the Pulumi state keeps the keys). A failed or killed step records nothing.
 * - With an auto seal, the steps get the seal's parameters as VaultBootstrap passes them (init its type; unseal, join
 *   and roll its type and description) and the roll the recovery keys.
 * - An up runs the plan as a graph (followers in parallel, as Pulumi does); a step runs when its inputs (its own
 *   parameters, secrets and triggers) differ from the recorded ones (a Command re-runs `create` on any change, and
 *   its triggers are the pods' identities, read anew on every up by the pod-identities invoke once the roll step is
 *   done, which it depends on); a step whose dependency failed does not run.
 */
import type { AutoSealType } from "../../components/seal/sealTypes";
import { ENV, type StepName, type VaultKeys } from "../../components/stepCommand/contract";
import { bootstrapPlan } from "../../components/vault/bootstrapPlan";
import { Secrets, Simulation, SimulationOptions, SimulationSnapshot, simulatedSealPlan, StepRun } from "../doubles/vault/harness";

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
        /** The stack's auto seal; absent: Shamir. */
        readonly seal?: AutoSealType,
    ) {}

    /** The keys the state holds: the init step's recorded stdout (recoveryKeys only with an auto seal). */
    keysInState(): VaultKeys | undefined {
        const init = this.state.get("init");
        if (!init) return undefined;
        const { unsealKeys, rootToken, recoveryKeys } = JSON.parse(init.stdout) as VaultKeys;
        return { unsealKeys, rootToken, ...(recoveryKeys?.length ? { recoveryKeys } : {}) };
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
                    const env = this.sealEnv(planned.step);
                    const params = { ...this.sim.stepParams(planned.step, planned.pod), ...env };
                    const inputs = JSON.stringify({ pod: planned.pod, secrets, triggers: await Promise.all(triggers), params });
                    if (this.state.get(planned.id)?.inputs === inputs) return true;
                    const run = await this.sim.runStep(planned.step, { pod: planned.pod, secrets, env });
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

    /** The seal's step parameters VaultBootstrap adds for an auto seal (none for Shamir). */
    private sealEnv(step: StepName): Record<string, string> {
        if (!this.seal) return {};
        if (step === "init") return { [ENV.seal]: this.seal };
        if (step === "unseal" || step === "join" || step === "roll")
            return { [ENV.seal]: this.seal, [ENV.sealDescription]: simulatedSealPlan(this.seal).describe };
        return {};
    }

    /** The step's stdin; with an auto seal the roll also gets the recovery keys (kept with the snapshot it saves). */
    private secretsFor(step: StepName): Secrets & { recoveryKeys?: string[] } {
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
                return { unsealKeys: keys?.unsealKeys, rootToken: keys?.rootToken, ...(this.seal ? { recoveryKeys: keys?.recoveryKeys ?? [] } : {}) };
            default:
                return {};
        }
    }
}

/** Per test process: the cluster one `up` leaves for given options, and that up's Pulumi state. */
const bootstrapped = new Map<string, Promise<{ snapshot: SimulationSnapshot; state: Array<[string, { inputs: string; stdout: string }]> }>>();

/**
 * A live cluster: a fresh install with these options, bootstrapped by one `up` of the simulated engine, for tests
 * that start from a live cluster and check what happens after. The first call in a test process bootstraps and
 * snapshots the result; each call gets a new simulation restored from it (its own folder, an empty calls log, no
 * output yet) and an engine holding that up's state. Tests that share a snapshot share its random values (unseal keys,
 * root token, cluster id, pod uids). Not for tests of the bootstrap itself: its calls and output are not in the copy.
 */
export async function bootstrappedCluster(options: SimulationOptions = {}): Promise<{ sim: Simulation; engine: SimulatedEngine }> {
    if (options.clock === "wall") throw new Error("bootstrappedCluster runs on simulated time");
    // The defaults spelt out or left out make the same cluster (Simulation.create).
    const key = canonical({ replicas: 3, keyShares: 5, keyThreshold: 3, timeoutSeconds: 600, tls: false, ...defined(options) });
    let cached = bootstrapped.get(key);
    if (!cached) {
        cached = (async () => {
            const sim = await Simulation.create(options);
            try {
                const engine = new SimulatedEngine(sim, undefined, options.seal?.type);
                const up = await engine.up();
                if (!up.ok) throw new Error(`the bootstrap failed:\n${up.runs.map((r) => r.stderr).join("\n")}`);
                return { snapshot: sim.snapshot(), state: [...engine.state] };
            } finally {
                sim.dispose();
            }
        })();
        bootstrapped.set(key, cached);
        // A failed bootstrap is not kept: the next test tries again, and reports its own failure.
        cached.catch(() => bootstrapped.delete(key));
    }
    const { snapshot, state } = await cached;
    const sim = Simulation.restore(snapshot);
    const engine = new SimulatedEngine(sim, undefined, options.seal?.type);
    for (const [id, entry] of state) engine.state.set(id, { ...entry });
    return { sim, engine };
}

function defined(options: SimulationOptions): SimulationOptions {
    return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** JSON with object keys sorted at every level: equal options give equal cache keys. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value && typeof value === "object")
        return `{${Object.entries(value)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
            .join(",")}}`;
    return JSON.stringify(value);
}
