// @ts-check
/**
 * SIMULATOR — not Vault. A model of a Vault raft cluster on Kubernetes that the fake `kubectl` and `vault` (cli.js,
 * and the bin/ wrappers around it) operate on, so that the bootstrap's real code runs here, where there is no Docker.
 *
 * It must never be more lenient than the real tools. Each behaviour names the upstream source it follows; where the
 * source leaves something open, the model picks the stricter reading and says so ("inference").
 *
 * Time is the model's: `s.now` in milliseconds. With the simulated clock (simClock.ts) it moves only when
 * the code under test waits, so timeouts and elections do not depend on the machine's speed; the process-level tests
 * run it on the wall clock instead. Events (a pod starting, an election, a follower finishing its unseal, autopilot
 * promoting a voter) happen in time order when the clock passes them.
 *
 * State lives in one JSON file so that separate processes (the fake commands run by a shell) share it; a lock
 * directory serialises changes. Every fake call appends its argv and environment to calls.jsonl next to it.
 * Where one test process answers every call itself (the simulator tier: ./vaultServer.ts answers the pods' `vault`),
 * `keepInMemory` holds the file's text and the calls log in memory instead: the same JSON round trip on each change,
 * without the file system's cost; `shareOnDisk` writes both out again before another process is given the file.
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { defaultKube } = require("./kubeObjects.js");
const autoSeal = require("./autoSeal.js");

/**
 * @typedef {{ initialized: boolean, sealed: boolean, member: boolean, voter: boolean, progress: string[],
 *   pending: null | { at: number }, completeAt: number | null, promoteAt: number | null, unsealedAt: number | null,
 *   sealCache?: null | { threshold: number, shares: number }, removed?: boolean, removedCheckAt?: number | null,
 *   foreign?: null | { id: string, keys: string[], threshold: number, shares: number },
 *   autoUnsealAt?: number | null, retryJoinAt?: number | null, migration?: boolean, migrated?: boolean, migrationTo?: string }} VaultNode
 * @typedef {{ name: string, image: string, env: Record<string, string>, mounts: Array<{ name: string, mountPath: string }>,
 *   secretEnv?: Record<string, { secretName: string, key: string }> }} Container
 * @typedef {{ uid: string, created: boolean, ordinal: number, runningAt: number | null, reason?: string, restartCount: number, logs?: string[],
 *   apiUpAt: number, labels: Record<string, string>, containers: Container[], volumes: Array<{ name: string, secret?: { secretName: string } }>,
 *   terminatingUntil?: number | null, registeredBy?: string | null, vault: VaultNode,
 *   booted?: string, crash?: null | { backOffMs: number, exitedAt: number }, previousLogs?: Array<{ at: number, text: string }>,
 *   startedSeal?: string }} Pod
 *   startedSeal: the seal the process's configuration named when it started: "shamir" (no stanza), "<type>", or
 *   "<type> disabled" (the stanza with `disabled = "true"`: a Shamir barrier with <type> as the seal to migrate from)
 * @typedef {{ name: string, generation: number, observedGeneration: number, observeAt: number | null, replicas: number,
 *   updateRevision: string, currentRevision: string, templates: Record<string, any>, pending: any }} StatefulSetModel
 * @typedef {{ id: string, keys: string[], threshold: number, shares: number, rootToken: string, reportedThreshold?: number, reportedShares?: number,
 *   sealType?: string, recovery?: { keys: string[], threshold: number, shares: number } }} Cluster
 * @typedef {{ type: string, kmsUp: boolean, stanza: Record<string, string>, retryJoin: import("./autoSeal.js").RetryJoin[], disabled?: boolean }} AutoSealState
 * @typedef {{
 *   clock: "sim" | "wall", now: number, namespace: string, release: string, kubeconfig: string,
 *   timing: { electionMs: number, followerUnsealMs: number, stabilizationMs: number, apiStartMs: number, restartMs: number, callMs: number,
 *     catchUpMs: number, terminationMs: number, controllerMs: number, restoreApplyMs: number, restorePostUnsealMs?: number,
 *     execStreamBytesPerSec?: number, loopbackBytesPerSec?: number, httpReadTimeoutMs?: number, maxRequestDurationMs?: number },
 *   tls: null | { ca: string, serverNames: string[], ipAddresses: string[] },
 *   cluster: Cluster | null, active: string | null, activeSince: number | null, electionAt: number | null, raftIndex: number,
 *   inits: number, faults: { answerFailures: number, electionDelayMs: number, dropAnswers?: Record<string, number>, missingImages?: string[], rejoinMarkedRemoved?: number },
 *   certManager: { admitAfterProbes: number, probes: number }, secrets: Record<string, Record<string, string>>,
 *   pods: Record<string, Pod>, statefulSet: StatefulSetModel, data: Record<string, string>,
 *   stepDown: null | { node: string, until: number },
 *   pendingRestore?: null | { at: number, snapshot: any, pod?: string, phase?: "apply" | "postUnseal" },
 *   claims: Record<string, { uid: string, deleting: boolean }>,
 *   audit: { quorumLost: number, deletedWhileUnhealthy: string[], elections: number },
 *   kube: import("./kubeObjects.js").Kube,
 *   seal?: AutoSealState | null,
 *   retiredSeal?: AutoSealState | null
 * }} State
 *   seal: the seal the current server configuration names (null: no stanza); retiredSeal: the disabled seal a
 *   configuration without stanza replaced, which processes started before still use (and its KMS)
 * @typedef {{ code: number, stdout: string, stderr: string }} Result
 */

/** 2026-11-28T04:00:00Z: the simulated clock's start, so that pod start times read like real ones. */
const EPOCH = Date.UTC(2026, 10, 28, 4, 0, 0);
const API_PORT = 8200;
const CLUSTER_PORT = 8201;

/** The raft volume claim of a pod: `data-<pod>` (see State.claims). @param {string} pod */
const claimName = (pod) => `data-${pod}`;

/** @returns {VaultNode} */
function freshNode() {
    return {
        initialized: false,
        sealed: true,
        member: false,
        voter: false,
        progress: [],
        pending: null,
        completeAt: null,
        promoteAt: null,
        unsealedAt: null,
        removed: false,
        removedCheckAt: null,
    };
}

/**
 * A pod of the StatefulSet that Helm rendered from the chart and the program's values (tests/support/helm.ts): its
 * containers, their environment and mounts, its volumes and labels. Nothing of the chart is copied here: the kubelet's
 * part is modelled, as Kubernetes does it: `$(VAR)` in a value expands to an earlier variable of the same container
 * (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, third_party/forked/golang/expansion), fieldRef reads the pod.
 * @param {any} statefulSet @param {string} namespace @param {string} pod
 */
function podSpecFromStatefulSet(statefulSet, namespace, pod) {
    const template = statefulSet.spec.template;
    const ordinal = Number(pod.split("-").pop());
    const fields = {
        "metadata.name": pod,
        "metadata.namespace": namespace,
        "status.podIP": `10.244.1.${10 + ordinal}`,
        "status.hostIP": `172.18.0.${3 + ordinal}`,
        "spec.nodeName": `vault-worker${ordinal ? ordinal + 1 : ""}`,
    };
    /** @type {Container[]} */
    const containers = template.spec.containers.map((/** @type {any} */ c) => {
        /** @type {Record<string, string>} */
        const env = {};
        /** @type {Record<string, { secretName: string, key: string }>} */
        const secretEnv = {};
        for (const e of c.env ?? []) {
            if (e.valueFrom?.fieldRef) env[e.name] = fields[/** @type {keyof typeof fields} */ (e.valueFrom.fieldRef.fieldPath)] ?? "";
            // A Secret's key (the chart's server.extraSecretEnvironmentVars): read from the Secret when a process
            // starts in the container (containerEnv), so that the model's state never holds the value.
            else if (e.valueFrom?.secretKeyRef) secretEnv[e.name] = { secretName: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key };
            else
                env[e.name] = String(e.value ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (/** @type {string} */ whole, /** @type {string} */ name) =>
                    name in env ? env[name] : whole,
                );
        }
        return {
            name: c.name,
            image: String(c.image ?? ""),
            env,
            mounts: (c.volumeMounts ?? []).map((/** @type {any} */ m) => ({ name: m.name, mountPath: m.mountPath })),
            ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
        };
    });
    return {
        // controller-revision-hash: the revision the pod was made from (pkg/controller/statefulset/stateful_set_utils.go
        // setPodRevision); the StatefulSet's status.updateRevision names the newest one.
        labels: { ...(template.metadata?.labels ?? {}), "statefulset.kubernetes.io/pod-name": pod, "controller-revision-hash": revisionOf(statefulSet) },
        containers,
        volumes: template.spec.volumes ?? [],
    };
}

/**
 * The name of the ControllerRevision for a StatefulSet's pod template: `<name>-<hash of the template>` (kubernetes
 * pkg/controller/history/controller_history.go ControllerRevisionName, HashControllerRevision). The hash here is
 * sha256 rather than Kubernetes' fnv: only equality matters. @param {any} statefulSet
 */
function revisionOf(statefulSet) {
    return `${statefulSet.metadata.name}-${crypto.createHash("sha256").update(JSON.stringify(statefulSet.spec.template)).digest("hex").slice(0, 10)}`;
}

/**
 * The auto seal of a release, from the server configuration Helm rendered (the ConfigMap's HCL): its stanza and the
 * retry_join blocks, with the KMS answering. `expected` is the seal the test asked for: the rendered configuration must
 * say the same (null: Shamir, no seal stanza).
 * A stanza with `disabled = "true"` is a seal being migrated away from (command/server.go setSeal: with every seal
 * disabled, an implicit Shamir seal is the barrier seal and the disabled one the unwrap seal).
 * @param {string | undefined} serverConfig @param {{ type: string, disabled?: boolean } | undefined} expected @returns {AutoSealState | null}
 */
function sealFromConfig(serverConfig, expected) {
    const config = serverConfig === undefined ? undefined : autoSeal.parseServerConfig(serverConfig);
    if (!config?.seal) {
        if (expected) throw new Error(`(simulator: seal ${expected.type} asked for, but the rendered server configuration has no seal stanza)`);
        return null;
    }
    if (expected && expected.type !== config.seal.type)
        throw new Error(`(simulator: seal ${expected.type} asked for, the rendered server configuration has seal "${config.seal.type}")`);
    const disabled = config.seal.stanza.disabled === "true";
    if (disabled && config.seal.type === "shamir") throw new Error('(simulator: Vault refuses a disabled Shamir seal: "shamir seals cannot be set disabled")');
    if (expected && Boolean(expected.disabled) !== disabled)
        throw new Error(`(simulator: seal ${expected.type}${expected.disabled ? " disabled" : ""} asked for, the rendered stanza says disabled=${disabled})`);
    return { type: config.seal.type, kmsUp: true, stanza: config.seal.stanza, retryJoin: config.retryJoin, ...(disabled ? { disabled: true } : {}) };
}

/**
 * @param {{ statefulSet: any, services: any[], namespace?: string, kubeconfig?: string, clock?: "sim" | "wall",
 *   serverConfig?: string, seal?: { type: string, disabled?: boolean } }} options
 *   statefulSet and services: the manifests Helm rendered from the chart for the program's values; serverConfig the
 *   server configuration it rendered (the ConfigMap's HCL), which names the seal; seal the one the test expects there
 * @returns {State}
 */
function newState(options) {
    const replicas = options.statefulSet.spec.replicas;
    const release = options.statefulSet.metadata.name;
    const namespace = options.namespace ?? options.statefulSet.metadata.namespace ?? "vault";
    const clock = options.clock ?? "sim";
    const now = clock === "sim" ? EPOCH : Date.now();
    /** @type {Record<string, Pod>} */
    const pods = {};
    const startedSeal = configuredSeal(sealFromConfig(options.serverConfig, options.seal));
    for (let i = 0; i < replicas; i++) {
        const name = `${release}-${i}`;
        pods[name] = {
            startedSeal,
            uid: crypto.randomUUID(),
            created: true,
            ordinal: i,
            runningAt: now,
            restartCount: 0,
            apiUpAt: now,
            ...podSpecFromStatefulSet(options.statefulSet, namespace, name),
            vault: freshNode(),
        };
    }
    return {
        clock,
        now,
        namespace,
        release,
        kubeconfig: options.kubeconfig ?? "apiVersion: v1\nkind: Config\n# simulator kubeconfig\n",
        // Defaults near what Vault does: raft's election and leadership transfer take seconds (inference: the
        // timeouts scale with performance_multiplier, 5 by default); autopilot's server_stabilization_time is 10 s
        // (vault/raft autopilot defaults); a follower streams the leader's snapshot before it unseals.
        // A replaced follower replays the leader's log before autopilot counts it healthy again (raft-autopilot
        // IsHealthy: last index within max_trailing_logs of the leader's); the chart's preStop sleeps 5 s before
        // SIGTERM (server.preStopSleepSeconds); the StatefulSet controller observes a new spec a moment after it is applied.
        timing: {
            electionMs: 3000,
            followerUnsealMs: 1500,
            stabilizationMs: 10_000,
            apiStartMs: 0,
            restartMs: 2000,
            callMs: 100,
            catchUpMs: 1000,
            restoreApplyMs: 2000,
            terminationMs: 5000,
            controllerMs: 500,
        },
        tls: null,
        cluster: null,
        active: null,
        activeSince: null,
        electionAt: null,
        raftIndex: 0,
        inits: 0,
        // answerFailures: the next N challenge answers fail at the leader; dropAnswers: {"<vault args prefix>": N},
        // the next N such commands run in the pod but their answer is lost on the way back through kubectl.
        faults: { answerFailures: 0, electionDelayMs: 0, dropAnswers: {} },
        certManager: { admitAfterProbes: 0, probes: 0 },
        // The cluster around Vault (nodes, storage classes, cert-manager, Services, RBAC): kubeObjects.js.
        kube: defaultKube(namespace, options.services),
        // An auto-unseal seal and its KMS (null: Shamir, Vault's default without a seal stanza).
        seal: sealFromConfig(options.serverConfig, options.seal),
        // The chart's ConfigMap <release>-config holds it (kubectl get configmap: cli.js).
        serverConfig: options.serverConfig ?? null,
        secrets: {},
        pods,
        statefulSet: {
            name: release,
            generation: 1,
            observedGeneration: 1,
            observeAt: null,
            replicas,
            updateRevision: revisionOf(options.statefulSet),
            currentRevision: revisionOf(options.statefulSet),
            templates: { [revisionOf(options.statefulSet)]: options.statefulSet },
            pending: null,
        },
        data: {},
        // Each pod's raft volume claim, `data-<pod>` (the chart's volumeClaimTemplates entry "data"; the StatefulSet
        // controller names a claim <template>-<pod>: pkg/controller/statefulset/stateful_set_utils.go
        // getPersistentVolumeClaimName). The raft data lives on it: here, the pod's `vault` node state.
        claims: Object.fromEntries(Object.keys(pods).map((name) => [claimName(name), { uid: crypto.randomUUID(), deleting: false }])),
        stepDown: null,
        // What the tests check a roll against: moments without a quorum of live voters, pods deleted while autopilot
        // was not healthy, and how many elections there were.
        audit: { quorumLost: 0, deletedWhileUnhealthy: [], elections: 0 },
    };
}

// ---------------------------------------------------------------------------------------------------------------
// State on disk, shared by processes

/**
 * State files that no other process reads or writes while they are here: the state as JSON text (so a change that
 * throws leaves nothing behind, as an unsaved file would) and the calls not yet written to calls.jsonl.
 * @type {Map<string, { state: string, calls: string }>}
 */
const inMemory = new Map();

/** From now on this process alone uses the file: it is read once, then kept in memory. @param {string} file */
function keepInMemory(file) {
    inMemory.set(file, { state: fs.readFileSync(file, "utf8"), calls: "" });
}

/** Writes the state (and the calls log) to disk as they are now, keeping them in memory. @param {string} file */
function writeOut(file) {
    const kept = inMemory.get(file);
    if (!kept) return;
    writeAtomically(file, kept.state);
    if (kept.calls) fs.appendFileSync(callsLog(file), kept.calls);
    kept.calls = "";
}

/** Another process is about to use the file: write it out and read it from disk from now on. @param {string} file */
function shareOnDisk(file) {
    writeOut(file);
    inMemory.delete(file);
}

/** The simulation is over: drop what memory holds for it. @param {string} file */
function forget(file) {
    inMemory.delete(file);
}

/** @param {string} file @returns {State} */
function load(file) {
    return JSON.parse(inMemory.get(file)?.state ?? fs.readFileSync(file, "utf8"));
}

/** @param {string} file @param {State} state */
function save(file, state) {
    const kept = inMemory.get(file);
    if (kept) kept.state = JSON.stringify(state);
    else writeAtomically(file, JSON.stringify(state));
}

/** @param {string} file @param {string} text */
function writeAtomically(file, text) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
}

/** @param {number} ms */
function sleepSync(ms) {
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `change` on the state with the lock held, at the model's current time, then saves it.
 * @template T @param {string} file @param {(state: State) => T} change @param {number} [at] simulated time to move to first
 * @returns {T}
 */
function update(file, change, at) {
    // In memory, no other process can change it, and this one runs the change to its end before anything else.
    if (inMemory.has(file)) return changed(file, change, at);
    const lock = `${file}.lock`;
    const deadline = Date.now() + 10_000;
    for (;;) {
        try {
            fs.mkdirSync(lock);
            break;
        } catch {
            if (Date.now() > deadline) throw new Error(`simulator: could not lock ${file}`);
            sleepSync(2);
        }
    }
    try {
        return changed(file, change, at);
    } finally {
        fs.rmdirSync(lock);
    }
}

/** @template T @param {string} file @param {(state: State) => T} change @param {number} [at] @returns {T} */
function changed(file, change, at) {
    const state = load(file);
    advance(state, state.clock === "wall" ? Date.now() : Math.max(state.now, at ?? state.now));
    const result = change(state);
    reconcile(state);
    save(file, state);
    return result;
}

/** @param {string} file */
function callsLog(file) {
    return path.join(path.dirname(file), "calls.jsonl");
}

/** @param {string} file @param {Record<string, unknown>} entry */
function logCall(file, entry) {
    const line = JSON.stringify(entry) + "\n";
    const kept = inMemory.get(file);
    if (kept) kept.calls += line;
    else fs.appendFileSync(callsLog(file), line);
}

/** Every call logged for this state file, in order. @param {string} file @returns {Array<Record<string, any>>} */
function readCalls(file) {
    let text = "";
    try {
        text = fs.readFileSync(callsLog(file), "utf8");
    } catch {
        // No call was written to disk.
    }
    text += inMemory.get(file)?.calls ?? "";
    return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
}

// ---------------------------------------------------------------------------------------------------------------
// Time and raft

/** @param {State} s @param {string} name */
const running = (s, name) => {
    const p = s.pods[name];
    return Boolean(p?.created && p.runningAt !== null && p.runningAt <= s.now && !p.reason);
};

/** @param {State} s */
const voters = (s) => Object.keys(s.pods).filter((n) => s.pods[n].vault.member && s.pods[n].vault.voter);

/** Voters that take part in raft: running and unsealed (a sealed Vault has not started its raft backend). @param {State} s */
const liveVoters = (s) => voters(s).filter((n) => running(s, n) && !s.pods[n].vault.sealed);

/** @param {State} s */
const hasQuorum = (s) => {
    const all = voters(s);
    return all.length > 0 && liveVoters(s).length >= Math.floor(all.length / 2) + 1;
};

/**
 * Keeps the model consistent after every change and event: leadership (reconcileLeadership), then the labels each
 * running Vault puts on its own pod (registerLabels).
 * @param {State} s
 */
function reconcile(s) {
    reconcileLeadership(s);
    registerLabels(s);
}

/**
 * The labels of `service_registration "kubernetes"` (hashicorp/vault serviceregistration/kubernetes/
 * service_registration.go: labelVaultVersion "vault-version", labelActive "vault-active", labelSealed "vault-sealed",
 * labelPerfStandby "vault-perf-standby", labelInitialized "vault-initialized"; values toString(bool), "true"/"false").
 */
const REGISTRATION_LABELS = ["vault-version", "vault-active", "vault-sealed", "vault-perf-standby", "vault-initialized"];

/** A pod's labels without the ones Vault put there: what a new pod object from the template carries. @param {Record<string, string>} labels */
function templateLabels(labels) {
    return Object.fromEntries(Object.entries(labels).filter(([k]) => !REGISTRATION_LABELS.includes(k)));
}

/** Vault's process runs in the pod (its container started; not held in ContainerCreating). @param {State} s @param {string} name */
const vaultRuns = (s, name) => running(s, name) && !missingSecret(s, name);

/**
 * What Vault's Kubernetes service registration writes on its own pod, while its process runs (PATCHes through the
 * API server; nothing is written for a pod whose Vault has not started):
 * - at start (command/server.go: the state is "pre-running": IsInitialized false, IsSealed true, IsActive false,
 *   IsPerformanceStandby false, VaultVersion the binary's version), written by Run / the retry handler's
 *   setInitialState;
 * - on unseal vault-sealed=false and vault-initialized=true (vault/core.go unsealInternal: NotifySealedStateChange,
 *   NotifyInitializedStateChange); on seal vault-sealed=true;
 * - vault-active=true once the node is the active one (vault/ha.go advertiseLeader: NotifyActiveStateChange(true)),
 *   false when it is no longer (clearLeader, a step-down);
 * - vault-perf-standby stays false (performance standbys are Vault Enterprise).
 * When the process ends: a graceful shutdown (SIGTERM) leaves active=false, sealed=true, perf-standby=false,
 * initialized=false (onShutdown, deletePod below); a crash leaves whatever was last written (restart below: the
 * stricter reading, a restarted pod may still say vault-active=true until its new process starts and writes the
 * pre-running state). A pod made anew by the StatefulSet carries only its template's labels.
 * @param {State} s
 */
function registerLabels(s) {
    for (const [name, p] of Object.entries(s.pods)) {
        if (!p.created || !vaultRuns(s, name)) continue;
        const process = `${p.uid}/${p.restartCount}`;
        const sameProcess = p.registeredBy === process;
        p.registeredBy = process;
        Object.assign(p.labels, {
            "vault-version": versionOf(s, name),
            "vault-active": String(s.active === name),
            "vault-sealed": String(p.vault.sealed),
            "vault-perf-standby": "false",
            // Only an unseal of this process tells it (a seal does not take it back).
            "vault-initialized": String(!p.vault.sealed || (sameProcess && p.labels["vault-initialized"] === "true")),
        });
    }
}

/**
 * What kubectl sees of a pod when it picks one for a port-forward (kubeObjects.js attachablePod): its phase, and its
 * Ready condition, which the chart's readiness probe (sys/health?standbyok=true) gives an initialised, unsealed Vault
 * whose listener is up. @param {State} s @param {string} name
 */
function podView(s, name) {
    const p = s.pods[name];
    const runs = vaultRuns(s, name);
    const ready = runs && s.now >= p.apiUpAt && p.vault.initialized && !p.vault.sealed;
    return {
        assigned: !p.reason?.startsWith("Unschedulable"),
        running: runs,
        ready,
        readySince: ready ? Math.max(p.vault.unsealedAt ?? 0, p.apiUpAt) : null,
        restartCount: p.restartCount,
    };
}

/**
 * Keeps leadership consistent with the cluster: no active node without a quorum of live voters; an election scheduled
 * when a quorum exists without an active node. vault/core.go `unsealInternal` starts a node as a standby
 * (runStandby); it becomes active only once raft elects it, after the election timeout.
 * @param {State} s
 */
function reconcileLeadership(s) {
    if (s.active && !hasQuorum(s)) s.audit.quorumLost++;
    if (s.active && (!running(s, s.active) || s.pods[s.active].vault.sealed || !hasQuorum(s))) {
        s.active = null;
        s.activeSince = null;
    }
    if (s.active || !hasQuorum(s)) {
        if (!s.active) s.electionAt = null;
        return;
    }
    if (s.electionAt === null) {
        // A node that stepped down does not stand for election until its pause is over (vault/ha.go
        // manualStepDownSleepPeriod, 10 s); with nobody else to elect, the election waits for it.
        const others = liveVoters(s).filter((n) => n !== s.stepDown?.node);
        const after = others.length === 0 && s.stepDown ? s.stepDown.until : s.now;
        s.electionAt = Math.max(after, s.now) + s.timing.electionMs + s.faults.electionDelayMs;
    }
}

/** @param {State} s @returns {Array<[number, () => void]>} */
function dueEvents(s) {
    /** @type {Array<[number, () => void]>} */
    const events = [];
    if (s.electionAt !== null) {
        events.push([
            s.electionAt,
            () => {
                s.electionAt = null;
                if (s.active || !hasQuorum(s)) return;
                // The voter unsealed longest wins (inference: raft's randomised timeouts make any live voter possible).
                const paused = (/** @type {string} */ n) => s.stepDown !== null && s.stepDown.node === n && s.now < s.stepDown.until;
                const candidates = liveVoters(s).filter((n) => !paused(n));
                if (candidates.length === 0) return;
                const [winner] = candidates.sort((a, b) => (s.pods[a].vault.unsealedAt ?? 0) - (s.pods[b].vault.unsealedAt ?? 0) || a.localeCompare(b));
                s.active = winner;
                s.activeSince = s.now;
                s.raftIndex++;
                s.audit.elections++;
                if (!takeActiveDuty(s, winner)) {
                    s.active = null;
                    s.activeSince = null;
                }
            },
        ]);
    }
    const restoring = s.pendingRestore;
    if (restoring) events.push([restoring.at, () => applyRestore(s, restoring)]);
    const sts = s.statefulSet;
    if (sts.observeAt !== null) {
        events.push([
            sts.observeAt,
            () => {
                // The controller sees the new spec: the newest revision becomes the update revision, and with
                // OnDelete no pod changes (pkg/controller/statefulset/stateful_set_control.go).
                const next = sts.pending;
                sts.observeAt = null;
                sts.pending = null;
                sts.observedGeneration = sts.generation;
                const revision = revisionOf(next);
                sts.templates[revision] = next;
                sts.updateRevision = revision;
                if (next.spec.replicas !== sts.replicas) {
                    sts.replicas = next.spec.replicas;
                    scaleTo(s, next, next.spec.replicas);
                }
            },
        ]);
    }
    for (const [name, p] of Object.entries(s.pods)) {
        if (p.terminatingUntil !== undefined && p.terminatingUntil !== null) {
            // A pod deleted within the replica count is made again; one beyond it (a scale-down) is gone for good.
            events.push([p.terminatingUntil, () => (p.ordinal < s.statefulSet.replicas ? remake(s, name) : departed(s, name))]);
        }
        const node = p.vault;
        if (node.removedCheckAt) {
            events.push([
                node.removedCheckAt,
                () => {
                    // The first heartbeat needs an active node to answer it; until there is one, it is tried again.
                    if (!s.active) {
                        node.removedCheckAt = s.now + 1000;
                        return;
                    }
                    markRemoved(s, name);
                },
            ]);
        }
        if (node.completeAt !== null) {
            events.push([
                node.completeAt,
                () => {
                    // An auto-sealed follower has the data now, and stays sealed until runUnseal's next attempt
                    // reads the stored key through the seal (autoSealedJoinComplete).
                    if (podSeal(s, name)) return autoSealedJoinComplete(s, name);
                    // The follower has the leader's snapshot: it is a raft member now, unsealed, a non-voter until
                    // autopilot promotes it (vault/raft.go JoinRaftCluster / core.go unsealWithRaft).
                    Object.assign(node, {
                        completeAt: null,
                        pending: null,
                        initialized: true,
                        member: true,
                        voter: false,
                        sealed: false,
                        unsealedAt: s.now,
                        promoteAt: s.now + s.timing.stabilizationMs,
                    });
                    s.raftIndex++;
                    // hashicorp/vault#32099 (open, seen on 2.0.4) and #31732: a joining node's removed-checker can
                    // fire while it replays older configuration entries, and the node marks itself removed for good.
                    if ((s.faults.rejoinMarkedRemoved ?? 0) > 0) {
                        s.faults.rejoinMarkedRemoved--;
                        markRemoved(s, name, true);
                    }
                },
            ]);
        }
        if (node.promoteAt !== null) {
            events.push([
                node.promoteAt,
                () => {
                    // Autopilot promotes a healthy non-voter once it has been stable for server_stabilization_time;
                    // promotion needs a leader.
                    if (s.active && running(s, name) && !node.sealed) {
                        node.voter = true;
                        node.promoteAt = null;
                        s.raftIndex++;
                    } else {
                        node.promoteAt = s.now + 1000;
                    }
                },
            ]);
        }
        if (podSeal(s, name) || startChecksStorage(s, name)) events.push(...autoSealEvents(s, name));
    }
    return events;
}

/** Moves the model's clock to `to`, applying every event on the way in time order. @param {State} s @param {number} to */
function advance(s, to) {
    for (let guard = 0; guard < 10_000; guard++) {
        reconcile(s);
        const next = dueEvents(s)
            .filter(([at]) => at <= to)
            .sort((a, b) => a[0] - b[0])[0];
        if (!next) break;
        s.now = Math.max(s.now, next[0]);
        next[1]();
    }
    s.now = Math.max(s.now, to);
    reconcile(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Auto-unseal seals (autoSeal.js: the configuration and the KMS's errors; upstream sources listed there)

const CRASH_LOOP = "CrashLoopBackOff";
/** command/server.go runUnseal: a failed UnsealWithStoredKeys is tried again after 5 s. */
const RUN_UNSEAL_RETRY_MS = 5000;
/** vault/raft.go JoinRaftCluster: a failed retry_join is tried again after 2 s. */
const RETRY_JOIN_MS = 2000;

/** The process a pod's container runs: a new pod or a container restart is a new process. @param {Pod} p */
const processOf = (p) => `${p.uid}/${p.restartCount}`;

/** The pod's Vault process is the one that scheduled an attempt, and it runs. @param {State} s @param {string} name */
const sameProcessRuns = (s, name) => vaultRuns(s, name) && s.pods[name].booted === processOf(s.pods[name]);

/**
 * A log line of go-hclog with one key whose value may span lines (intlogger.go: a value with spaces is quoted on the
 * line; one with newlines goes on the following lines, each prefixed with "  | ").
 * @param {State} s @param {string} name @param {string} message "[LEVEL] name: text" @param {string} key @param {string} value
 */
function logWithValue(s, name, message, key, value) {
    const lines = value.split("\n");
    podLog(s, name, lines.length > 1 ? `${message}\n  ${key}=\n${lines.map((l) => `  | ${l}`).join("\n")}` : `${message} ${key}=${JSON.stringify(value)}`);
}

/** @param {State} s @param {string} name @returns {Array<[number, () => void]>} */
function autoSealEvents(s, name) {
    const p = s.pods[name];
    const node = p.vault;
    /** @type {Array<[number, () => void]>} */
    const events = [];
    // The container starts at its start time, once per process, and again after each crash's back-off; not while a
    // mounted Secret is missing (ContainerCreating) or its image cannot be pulled.
    const startable = p.created && !p.terminatingUntil && p.runningAt !== null && (!p.reason || p.reason === CRASH_LOOP) && !missingSecret(s, name);
    if (startable && p.runningAt !== null && (p.crash || p.booted !== processOf(p))) events.push([p.runningAt, () => startVaultServer(s, name)]);
    if (typeof node.autoUnsealAt === "number") events.push([node.autoUnsealAt, () => runUnsealAttempt(s, name)]);
    if (typeof node.retryJoinAt === "number") events.push([node.retryJoinAt, () => retryJoinAttempt(s, name)]);
    return events;
}

/**
 * `vault server` starts in the pod's container (command/server.go). setSeal configures the seal first, and the
 * wrapper's SetConfig asks the KMS about the key: without an answer the process prints "error parsing Seal
 * configuration: <error>" and exits 1, and the kubelet starts the container again after its back-off (meanwhile
 * waiting in CrashLoopBackOff; the restart count rises at each new start; `kubectl logs --previous` shows the line).
 * With an answer the server runs: runUnseal tries the stored key at once and then every 5 s, and a node without raft
 * data starts retry_join (vault/raft.go InitiateRetryJoin runs only while raft is not initialised).
 * @param {State} s @param {string} name
 */
function startVaultServer(s, name) {
    const p = s.pods[name];
    const seal = podSeal(s, name);
    const retiring = unwrapSeal(s, name);
    if (!seal && !startChecksStorage(s, name)) return;
    if (p.crash) Object.assign(p, { restartCount: p.restartCount + 1, reason: undefined });
    p.booted = processOf(p);
    // setSeal configures every stanza, a disabled one too, and so asks its KMS (seals.md §1; hashicorp/vault#9316).
    const checked = seal ?? retiring;
    if (checked && !checked.kmsUp) return exitAtStart(s, name, autoSeal.sealConfigurationError(checked));
    const node = p.vault;
    // vault/core.go checkForSealMigration, in NewCore: no stanza while storage holds an auto seal; storage untouched.
    if (!checked && holdsData(node) && storedSealType(s) !== "shamir")
        return exitAtStart(s, name, `Error initializing core: cannot seal migrate from "${storedSealType(s)}" to Shamir, no disabled seal in configuration`);
    p.crash = null;
    if (!checked) return;
    if (!seal) return entersMigrationToShamir(s, name, /** @type {AutoSealState} */ (retiring));
    const upAt = Math.max(s.now, p.apiUpAt);
    if (entersMigrationMode(s, name, seal)) return;
    node.autoUnsealAt = upAt;
    const joins = !node.initialized && !node.member && !node.pending && !node.removed && seal.retryJoin.length > 0;
    node.retryJoinAt = joins ? upAt : null;
    if (joins) podLog(s, name, "[INFO]  core: raft retry join initiated");
}

/**
 * `vault server` printed `error` and exited 1: the kubelet starts the container again after its back-off, meanwhile
 * waiting in CrashLoopBackOff; `kubectl logs --previous` shows the text.
 * @param {State} s @param {string} name @param {string} error
 */
function exitAtStart(s, name, error) {
    const p = s.pods[name];
    // What the process wrote (c.UI.Error: the text as it is, no timestamp), kept with the time it was written.
    p.previousLogs = error.split("\n").map((text) => ({ at: s.now, text }));
    const backOffMs = autoSeal.nextBackOffMs(p.crash?.backOffMs);
    Object.assign(p, { crash: { backOffMs, exitedAt: s.now }, reason: CRASH_LOOP, runningAt: s.now + backOffMs });
    p.apiUpAt = s.now + backOffMs + s.timing.apiStartMs;
    reconcile(s);
}

/**
 * One attempt of command/server.go runUnseal, i.e. vault/init.go UnsealWithStoredKeys: the stored root key is read
 * through the seal (the KMS decrypts it) and opens the barrier. Before the node has data there is no stored key
 * ("stored unseal keys are supported, but none were found"); without the KMS the fetch fails; both are logged
 * "failed to unseal core" and tried again after 5 s. Once unsealed the loop ends: a node sealed later (removed from
 * the cluster, a failed restore) stays sealed until its process starts again. An unsealed node keeps its barrier key
 * in memory, so a KMS outage does not touch it.
 * @param {State} s @param {string} name
 */
function runUnsealAttempt(s, name) {
    const node = s.pods[name].vault;
    const seal = podSeal(s, name);
    node.autoUnsealAt = null;
    if (!seal || !sameProcessRuns(s, name) || !node.sealed) return;
    const retry = (/** @type {string} */ error) => {
        logWithValue(s, name, "[WARN]  failed to unseal core:", "error", error);
        node.autoUnsealAt = s.now + RUN_UNSEAL_RETRY_MS;
    };
    podLog(s, name, "[INFO]  core: stored unseal keys supported, attempting fetch");
    if (!node.initialized || node.pending) return retry("stored unseal keys are supported, but none were found");
    if (!seal.kmsUp) return retry(`fetching stored unseal keys failed: ${autoSeal.kmsError(seal, "decrypt")}`);
    // The removed mark is read back from raft at every start (markRemoved); the exact text is inference.
    if (node.removed) return retry("unseal with stored key failed: node was removed from a HA cluster");
    Object.assign(node, { sealed: false, unsealedAt: s.now, progress: [] });
    podLog(s, name, "[INFO]  core: unsealed with stored key");
    // Autopilot promotes a follower that joined once it has been healthy for server_stabilization_time.
    if (node.member && !node.voter && node.promoteAt === null) node.promoteAt = s.now + s.timing.stabilizationMs;
    // Raft data of a node the cluster no longer has: as after a Shamir unseal (unseal below).
    if (!node.member && s.cluster) node.removedCheckAt = s.now + 1000;
    reconcile(s);
}

/**
 * An auto-sealed follower got the leader's data after its join: a raft member (a non-voter until autopilot promotes
 * it), initialised, still sealed: runUnseal's next attempt reads the stored key through the seal.
 * @param {State} s @param {string} name
 */
function autoSealedJoinComplete(s, name) {
    Object.assign(s.pods[name].vault, { completeAt: null, pending: null, initialized: true, member: true, voter: false });
    s.raftIndex++;
}

/**
 * The join of an auto-sealed node (vault/raft.go JoinRaftCluster's join()): it asks each leader for a challenge (Vault
 * asks all at once and takes the first answer; here in the configuration's order), logging each failure "failed to get
 * raft challenge"; a leader whose seal is of another type is refused in getRaftChallenge; the challenge is answered
 * with the seal (the KMS decrypts it: joinRaftSendAnswer) and the node is a raft peer receiving the leader's data.
 * @param {State} s @param {string} name @param {Array<{ leaderAddr: string, caPem: string | undefined }>} leaders
 * @returns {string | undefined} join()'s error, or undefined when the node joined
 */
function joinThroughSeal(s, name, leaders) {
    const seal = /** @type {AutoSealState} */ (podSeal(s, name));
    for (const { leaderAddr, caPem } of leaders) {
        const cause = challengeError(s, leaderAddr, caPem);
        // The leader's seal configuration comes with the challenge (seal_config).
        const leaderSeal = s.cluster?.sealType ?? "shamir";
        const error = cause
            ? `error during raft bootstrap init call: ${cause}`
            : leaderSeal !== seal.type
              ? `mismatching seal types between raft leader (${leaderSeal}) and follower (${seal.type})`
              : undefined;
        if (error) {
            logWithValue(s, name, `[ERROR] core: failed to get raft challenge: leader_addr=${leaderAddr}`, "error", error);
            continue;
        }
        if (!seal.kmsUp) return `failed to send answer to raft leader node: error decrypting challenge: ${autoSeal.kmsError(seal, "decrypt")}`;
        const node = s.pods[name].vault;
        Object.assign(node, { pending: { at: s.now }, progress: [], completeAt: s.now + s.timing.followerUnsealMs });
        podLog(s, name, `[INFO]  core: successfully joined the raft cluster: leader_addr=${leaderAddr}`);
        return undefined;
    }
    return "failed to get raft challenge";
}

/**
 * One attempt of retry_join (vault/raft.go JoinRaftCluster with retry: every 2 s until it joins): the leaders are the
 * rendered configuration's retry_join blocks, each verified with its leader_ca_cert_file as the pod mounts it.
 * @param {State} s @param {string} name
 */
function retryJoinAttempt(s, name) {
    const node = s.pods[name].vault;
    const seal = podSeal(s, name);
    node.retryJoinAt = null;
    if (!seal || !sameProcessRuns(s, name)) return;
    // join(): "returning from raft join as the node is initialized".
    if (node.initialized || node.member || node.pending || node.removed) return;
    const leaders = seal.retryJoin.map((j) => ({
        leaderAddr: j.leaderApiAddr,
        caPem: j.leaderCaCertFile ? readPodFile(s, name, j.leaderCaCertFile) : undefined,
    }));
    const error = joinThroughSeal(s, name, leaders);
    if (error === undefined) return;
    logWithValue(s, name, "[ERROR] core: failed to retry join raft cluster: retry=2s", "err", error);
    node.retryJoinAt = s.now + RETRY_JOIN_MS;
}

/**
 * A `helm upgrade` wrote a new server configuration (the ConfigMap): each Vault process reads it when it starts, so
 * the seal's stanza and retry_join apply from the next start on (each pod keeps the seal it started with:
 * Pod.startedSeal). Modelled: Shamir -> auto (a seal migration, below); auto X -> X with `disabled = "true"`, then
 * that -> no stanza (the way back, below: command/server.go setSeal, auto-to-shamir.md §1, §5). Refused loudly,
 * rather than pretended, is what Vault refuses or vault-ha never writes: auto -> auto needs both stanzas, which
 * parseServerConfig does not read (it refuses two); auto -> no stanza without the disabled step; a disabled stanza
 * enabled again (a migration back to the seal: auto-to-shamir.md §6.5, not modelled); a disabled stanza on Shamir.
 * @param {State} s @param {string} serverConfig
 */
function applyServerConfig(s, serverConfig) {
    const next = sealFromConfig(serverConfig, undefined);
    const from = configuredSeal(s.seal);
    const to = configuredSeal(next);
    const modelled = from === to || (from === "shamir" && !next?.disabled) || to === `${from}${DISABLED}` || (from.endsWith(DISABLED) && to === "shamir");
    if (!modelled)
        throw new Error(
            `(simulator: the seal changes from ${from} to ${to}: modelled are Shamir -> auto, auto -> the same seal disabled, and a disabled seal -> Shamir)`,
        );
    s.serverConfig = serverConfig;
    if (from === "shamir" && to !== "shamir") {
        // The pods that run keep the Shamir configuration they started with.
        for (const p of Object.values(s.pods)) p.startedSeal = p.startedSeal ?? "shamir";
        s.seal = next;
        return;
    }
    if (to === "shamir" && s.seal) {
        // Processes that started with the disabled stanza keep it, and its KMS (sealNamed).
        s.retiredSeal = s.seal;
        s.seal = null;
        return;
    }
    if (s.seal && next) {
        // The pods that run keep the enabled seal they started with (podSeal finds it by its type).
        for (const p of Object.values(s.pods)) p.startedSeal = p.startedSeal ?? s.seal.type;
        Object.assign(s.seal, { stanza: next.stanza, retryJoin: next.retryJoin, ...(next.disabled ? { disabled: true } : {}) });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Seal migration, Shamir -> auto (research: /work/research/seals.md §5). Upstream, hashicorp/vault:
// - vault/core.go adjustForSealMigration: a process whose configuration names an auto seal while storage holds the
//   Shamir barrier configuration enters migration mode (c.migrationInfo, with the Shamir seal as the migration seal)
//   and logs "entering seal migration mode; Vault will not automatically unseal even if using an autoseal:
//   from_barrier_type=shamir to_barrier_type=<type>"; adjustSealConfigDuringMigration caches a 1/1 barrier
//   configuration of the auto type and, as recovery configuration, the Shamir one (same shares and threshold);
// - command/server.go: `if !core.IsInSealMigrationMode() { go runUnseal(...) }`: such a process never unseals itself,
//   not even once the migration is done (vault/init.go UnsealWithStoredKeys: "cannot auto-unseal during seal migration");
// - vault/core.go unsealFragment: migrate without migration mode: "can't perform a seal migration, no migration seal
//   found"; migrate while joining raft: "... while joining a raft cluster"; no migrate while the migration is pending:
//   "migrate option not provided and seal migration is pending"; with migrate the shares are the Shamir seal's
//   (sealToUse = migrationInfo.seal: counted against its barrier configuration, the combined key opens the barrier;
//   the auto seal's KMS is not asked) and the node unseals as a standby (unsealInternal: c.ha != nil). http/sys_seal.go
//   handleSysUnseal answers these errors 500 (not ErrInvalidKey);
// - vault/ha.go waitForLeadership -> vault/core.go migrateSeal: the node that becomes active performs it: "seal
//   migration initiated", "migrating from shamir to auto-unseal: to=<type>", SetRecoveryKey(the combined Shamir key),
//   a new root key stored through the seal (SetStoredKeys: the KMS encrypts), migrateSealConfig, "seal migration
//   complete". An error there logs "seal migration error", seals the node and gives up the lock;
// - `migration` in the seal status is true while the process is in migration mode and storage still holds Shamir
//   (third-party runs: "migration stays true until a leader finalises it", then false; the exact expression of
//   GetSealStatus was not found in the stored sources: inference).

/** What a process that starts with `seal` in its configuration runs with (Pod.startedSeal). @param {AutoSealState | null | undefined} seal */
function configuredSeal(seal) {
    return seal ? `${seal.type}${seal.disabled ? DISABLED : ""}` : "shamir";
}

/** What a process that starts now runs with (Pod.startedSeal). @param {State} s */
const configuredSealType = (s) => configuredSeal(s.seal);

/** The seal type storage holds: the barrier configuration written at init or by a migration. @param {State} s */
const storedSealType = (s) => s.cluster?.sealType ?? "shamir";

/**
 * The auto seal the pod's Vault process runs with: the configuration's seal when the process started with it, null
 * for Shamir (a process keeps the configuration it read at its start).
 * @param {State} s @param {string} name @returns {AutoSealState | null}
 */
function podSeal(s, name) {
    const started = s.pods[name]?.startedSeal;
    if (started === undefined) return s.seal && !s.seal.disabled ? s.seal : null;
    return started.endsWith(DISABLED) ? null : sealNamed(s, started);
}

/**
 * The seal a process that started with a disabled stanza migrates from (command/server.go setSeal: the unwrap seal,
 * an autoSeal of that type; the barrier seal is Shamir). @param {State} s @param {string} name @returns {AutoSealState | null}
 */
function unwrapSeal(s, name) {
    const started = s.pods[name]?.startedSeal;
    return started?.endsWith(DISABLED) ? sealNamed(s, started.slice(0, -DISABLED.length)) : null;
}

const DISABLED = " disabled";

/**
 * The auto seal of that type as the configuration holds it, or as it held it before a configuration without stanza
 * replaced it: one KMS for every process that uses it, whenever it started. @param {State} s @param {string} type
 * @returns {AutoSealState | null}
 */
function sealNamed(s, type) {
    return [s.seal, s.retiredSeal].find((x) => x?.type === type) ?? null;
}

/**
 * The process's start has to look at the configuration and storage (command/server.go setSeal, vault/core.go
 * checkForSealMigration): it started with a disabled stanza, or it is crash-looping, or it starts without stanza on
 * raft data of an auto seal. A Shamir process on Shamir storage starts without any of that.
 * @param {State} s @param {string} name
 */
function startChecksStorage(s, name) {
    const p = s.pods[name];
    if (unwrapSeal(s, name) || p.crash) return true;
    return (p.startedSeal ?? "shamir") === "shamir" && holdsData(p.vault) && storedSealType(s) !== "shamir" && p.booted !== processOf(p);
}

/** The node has raft data of the cluster (not only a challenge). @param {VaultNode} node */
const holdsData = (node) => node.initialized && !node.pending;

/** The process is in migration mode and storage does not hold its target seal yet: the migration is pending. @param {State} s @param {string} name */
function migrationPending(s, name) {
    const node = s.pods[name].vault;
    // vault/logical_system.go GetSealStatus: Migration = IsInSealMigrationMode() && !IsSealMigrated(); IsSealMigrated
    // compares the stored barrier type with the process's barrier seal (core.go).
    if (node.migrationTo) return Boolean(node.migration) && storedSealType(s) !== node.migrationTo;
    return Boolean(node.migration) && storedSealType(s) === "shamir";
}

/**
 * At the start of an auto-sealed process (after setSeal's KMS check): with raft data whose barrier configuration is
 * Shamir, the process is in migration mode and runUnseal does not start. @param {State} s @param {string} name
 * @param {AutoSealState} seal @returns {boolean} the process is in migration mode
 */
function entersMigrationMode(s, name, seal) {
    const node = s.pods[name].vault;
    if (!node.initialized || node.pending || storedSealType(s) !== "shamir") return false;
    Object.assign(node, { migration: true, autoUnsealAt: null, retryJoinAt: null });
    podLog(
        s,
        name,
        `[WARN]  core: entering seal migration mode; Vault will not automatically unseal even if using an autoseal: from_barrier_type=shamir to_barrier_type=${seal.type}`,
    );
    return true;
}

/** The process ends: its migration mode with it. @param {VaultNode} node */
function endMigrationMode(node) {
    delete node.migration;
    delete node.migrated;
    delete node.migrationTo;
}

/** While the migration is pending the recovery configuration is the Shamir one (adjustSealConfigDuringMigration). @param {State} s @param {string} name */
function recoveryDuringMigration(s, name) {
    if (!migrationPending(s, name)) return s.cluster?.recovery;
    const node = s.pods[name].vault;
    return s.cluster ? { threshold: node.sealCache?.threshold ?? s.cluster.threshold, shares: node.sealCache?.shares ?? s.cluster.shares } : undefined;
}

/** unsealInternal on a standby-capable node: open, a standby until raft elects it. @param {State} s @param {string} name */
function openBarrier(s, name) {
    const node = s.pods[name].vault;
    Object.assign(node, { sealed: false, unsealedAt: s.now, progress: [] });
    if (!node.member && s.cluster) node.removedCheckAt = s.now + 1000;
    reconcile(s);
}

/**
 * `sys/unseal` with `migrate`, or on a process in migration mode (unsealFragment's checks, in its order, after the
 * handler's key decoding). With migrate the shares are Shamir unseal key shares, counted against the Shamir
 * threshold; once migrated a process in migration mode takes recovery keys without migrate (recoveryKeyUnseal), and
 * with migrate its Shamir seal reads a barrier configuration of the auto type, which it refuses (vault/seal.go
 * BarrierConfig type check; exact text: inference).
 * @param {State} s @param {string} name @param {string} key @param {string} url @param {boolean} migrate
 */
function unsealInMigration(s, name, key, url, migrate) {
    const node = s.pods[name].vault;
    const what = "writing data to sys/unseal";
    if (node.removed) return apiError(what, "PUT", url, 500, "node was removed from a HA cluster");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 33) {
        return apiError(what, "PUT", url, 400, "'key' must be a valid hex or base64 string");
    }
    if (migrate && !node.migration) return apiError(what, "PUT", url, 500, "can't perform a seal migration, no migration seal found");
    if (migrate && node.pending) return apiError(what, "PUT", url, 500, "can't perform a seal migration while joining a raft cluster");
    const pending = migrationPending(s, name);
    if (!migrate && pending) return apiError(what, "PUT", url, 500, "migrate option not provided and seal migration is pending");
    if (!migrate) return recoveryKeyUnseal(s, name, key, url);
    if (!node.sealed) return ok(sealStatus(s, name));
    const cluster = /** @type {Cluster} */ (s.cluster);
    if (!pending) {
        node.progress = [];
        return apiError(what, "PUT", url, 500, `barrier seal type of "${storedSealType(s)}" does not match loaded type of "shamir"`);
    }
    if (!node.progress.includes(key)) node.progress.push(key);
    const threshold = node.sealCache?.threshold ?? cluster.threshold;
    if (node.progress.length < threshold) return ok(sealStatus(s, name));
    const right = node.progress.every((k) => cluster.keys.includes(k)) && node.progress.length >= cluster.threshold;
    node.progress = [];
    if (!right) return apiError(what, "PUT", url, 400, "Unseal failed, invalid key");
    podLog(s, name, "[INFO]  core: unsealing using migration seal");
    node.migrated = true;
    openBarrier(s, name);
    return ok(sealStatus(s, name));
}

/**
 * The node raft just elected takes up the active duty (vault/ha.go waitForLeadership): a process unsealed with
 * migrate performs the pending migration (migrateSeal): the Shamir key becomes the recovery key (same shares and
 * threshold), the barrier configuration becomes the auto seal's 1/1 stored share; without the KMS it fails and the
 * node seals. A process still running with the Shamir configuration after the migration cannot read the barrier
 * configuration of the auto type (vault/seal.go BarrierConfig's type check, where the active duty clears and reloads
 * it: inference for the exact place and text): it seals, and starts with the configuration's seal at its next start.
 * @param {State} s @param {string} name @returns {boolean} the node keeps the active duty
 */
function takeActiveDuty(s, name) {
    const p = s.pods[name];
    const node = p.vault;
    const seal = podSeal(s, name);
    const giveUp = () => {
        podLog(s, name, "[WARN]  core: vault is sealed");
        Object.assign(node, { sealed: true, progress: [], unsealedAt: null });
        return false;
    };
    // The barrier seal of the process and storage's disagree once another node migrated storage: a Shamir process
    // after Shamir -> auto, an auto one after auto -> Shamir (which deleted the recovery configuration).
    const loaded = seal?.type ?? "shamir";
    const migratedAway = seal ? storedSealType(s) === "shamir" && !s.cluster?.recovery : (p.startedSeal ?? "shamir") === "shamir";
    if (!node.migration && storedSealType(s) !== loaded && migratedAway) {
        logWithValue(
            s,
            name,
            "[ERROR] core: error performing key upgrades:",
            "error",
            `barrier seal type of "${storedSealType(s)}" does not match loaded type of "${loaded}"`,
        );
        return giveUp();
    }
    if (node.migrationTo === "shamir") return takeActiveDutyToShamir(s, name, giveUp);
    if (!seal || !node.migrated || !migrationPending(s, name) || !s.cluster) return true;
    podLog(s, name, "[INFO]  core: seal migration initiated");
    podLog(s, name, `[INFO]  core: migrating from shamir to auto-unseal: to=${seal.type}`);
    if (!seal.kmsUp) {
        logWithValue(
            s,
            name,
            "[ERROR] core: seal migration error:",
            "error",
            `error setting new recovery key information: ${autoSeal.kmsError(seal, "encrypt")}`,
        );
        return giveUp();
    }
    const shamir = s.cluster;
    // Running processes that started with Shamir keep the barrier configuration they cached; their start is over
    // (startChecksStorage: only a process that starts from now on reads the new barrier configuration).
    for (const [other, q] of Object.entries(s.pods)) {
        if (other !== name && vaultRuns(s, other) && !podSeal(s, other)) {
            q.vault.sealCache = q.vault.sealCache ?? { threshold: shamir.threshold, shares: shamir.shares };
            q.booted = processOf(q);
        }
    }
    s.cluster = {
        ...shamir,
        keys: [],
        threshold: 1,
        shares: 1,
        sealType: seal.type,
        recovery: { keys: shamir.keys, threshold: shamir.threshold, shares: shamir.shares },
    };
    s.raftIndex++;
    podLog(s, name, "[INFO]  core: seal migration complete");
    return true;
}

/** The seal's KMS (or the retired seal's) starts or stops answering, at the current time. @param {State} s @param {boolean} up */
function kms(s, up) {
    const seal = s.seal ?? s.retiredSeal;
    if (!seal) throw new Error("(simulator: a Shamir simulation has no KMS: create it with { seal: { type } })");
    seal.kmsUp = up;
}

// ---------------------------------------------------------------------------------------------------------------
// Seal migration, auto -> Shamir (research: /work/research/auto-to-shamir.md). Upstream, hashicorp/vault:
// - command/server.go setSeal: a lone `disabled = "true"` stanza gets an implicit Shamir seal next to it: the barrier
//   seal is Shamir (NewDefaultSeal), the disabled one the unwrap seal (NewAutoSeal); its wrapper is configured, KMS
//   check included, like an enabled one (startVaultServer: "error parsing Seal configuration", exit 1);
// - vault/core.go checkForSealMigration / adjustForSealMigration, in NewCore: (a) storage holds the disabled seal's
//   type: migration mode (migrationInfo.seal = the unwrap seal), adjustSealConfigDuringMigration caches a clone of the
//   recovery configuration as the Shamir barrier configuration (so seal-status says type shamir, t/n the recovery
//   ones, recovery_seal false); (b) storage holds Shamir already: still migration mode (same log line), nothing
//   cached; (c) no stanza while storage holds an auto seal: "cannot seal migrate from "<type>" to Shamir, no disabled
//   seal in configuration", `vault server` prints "Error initializing core: ..." and exits 1; storage untouched;
// - command/server.go: no runUnseal in migration mode: such a process never opens itself;
// - vault/core.go unsealFragment / getUnsealKey: with migrate the shares are counted against the unwrap seal's
//   recovery configuration and verified against the recovery key, which its KMS decrypts (VerifyRecoveryKey; 400
//   "invalid key: failed to verify recovery key: ..."); without migrate while pending: 500 "migrate option not provided
//   and seal migration is pending"; in (b) sealMigrated() is true and a plain Shamir unseal works, while migrate finds
//   no recovery configuration (seal_autoseal.go RecoveryConfig: nil once deleted): 500 "failed to obtain
//   seal/recovery configuration";
// - vault/ha.go waitForLeadership -> core.go migrateSeal: "seal migration initiated", "migrating from one auto-unseal
//   to shamir: from=<type>", the recovery key (KMS decrypt) becomes the Shamir key (SetShamirSealKey), the root key
//   is stored again under it, migrateSealConfig: barrier configuration = the recovery configuration (same shares and
//   threshold), core/recovery-config deleted; "seal migration complete". A KMS error logs "seal migration error:
//   error getting recovery key to set on new seal: ...", and the node seals and gives up the lock; a later leader
//   that finds storage migrated logs "migration is already performed".

/**
 * The start of a process whose configuration holds only a disabled stanza (after setSeal's KMS check, which passed):
 * with raft data of that seal it is in migration mode (case a), on Shamir raft data too (case b); a node without
 * data is a plain Shamir node. @param {State} s @param {string} name @param {AutoSealState} retiring
 */
function entersMigrationToShamir(s, name, retiring) {
    const node = s.pods[name].vault;
    if (!holdsData(node)) return;
    const stored = storedSealType(s);
    if (stored !== "shamir" && stored !== retiring.type)
        throw new Error(`(simulator: a disabled ${retiring.type} stanza on ${stored} storage is not modelled)`);
    Object.assign(node, { migration: true, migrationTo: "shamir", autoUnsealAt: null, retryJoinAt: null });
    const recovery = s.cluster?.recovery;
    if (stored === retiring.type && recovery) node.sealCache = { threshold: recovery.threshold, shares: recovery.shares };
    podLog(
        s,
        name,
        `[WARN]  core: entering seal migration mode; Vault will not automatically unseal even if using an autoseal: from_barrier_type=${retiring.type} to_barrier_type=shamir`,
    );
}

/**
 * `sys/unseal` on a process in migration mode towards Shamir (unsealFragment's checks, in its order).
 * @param {State} s @param {string} name @param {string} key @param {string} url @param {boolean} migrate
 */
function unsealToShamir(s, name, key, url, migrate) {
    const node = s.pods[name].vault;
    const what = "writing data to sys/unseal";
    if (node.removed) return apiError(what, "PUT", url, 500, "node was removed from a HA cluster");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 33) {
        return apiError(what, "PUT", url, 400, "'key' must be a valid hex or base64 string");
    }
    if (migrate && node.pending) return apiError(what, "PUT", url, 500, "can't perform a seal migration while joining a raft cluster");
    if (!node.sealed) return ok(sealStatus(s, name));
    const pending = migrationPending(s, name);
    if (!migrate && pending) return apiError(what, "PUT", url, 500, "migrate option not provided and seal migration is pending");
    if (!migrate) return shamirUnseal(s, name, key, url);
    // Shares refused before they are counted (getUnsealKey reads the configuration first): inference for the count.
    if (!pending) return apiError(what, "PUT", url, 500, "failed to obtain seal/recovery configuration");
    const retiring = /** @type {AutoSealState} */ (unwrapSeal(s, name));
    const recovery = /** @type {NonNullable<Cluster["recovery"]>} */ (s.cluster?.recovery);
    if (!node.progress.includes(key)) node.progress.push(key);
    if (node.progress.length < recovery.threshold) return ok(sealStatus(s, name));
    const right = node.progress.every((k) => recovery.keys.includes(k));
    node.progress = [];
    if (!retiring.kmsUp)
        return apiError(
            what,
            "PUT",
            url,
            400,
            `invalid key: failed to verify recovery key: failed to decrypt encrypted stored keys: ${autoSeal.kmsError(retiring, "decrypt")}`,
        );
    if (!right) return apiError(what, "PUT", url, 400, "invalid key: failed to verify recovery key: recovery key does not match submitted values");
    podLog(s, name, "[INFO]  core: unsealing using migration seal");
    node.migrated = true;
    openBarrier(s, name);
    return ok(sealStatus(s, name));
}

/**
 * The active duty of a process in migration mode towards Shamir (migrateSeal): the one unsealed with migrate while
 * storage still holds the auto seal migrates it; the others have nothing to do.
 * @param {State} s @param {string} name @param {() => boolean} giveUp @returns {boolean} the node keeps the active duty
 */
function takeActiveDutyToShamir(s, name, giveUp) {
    const node = s.pods[name].vault;
    const cluster = s.cluster;
    if (!node.migrated) return true;
    if (!migrationPending(s, name) || !cluster?.recovery) {
        podLog(s, name, "[INFO]  core: migration is already performed");
        return true;
    }
    const retiring = /** @type {AutoSealState} */ (unwrapSeal(s, name));
    podLog(s, name, "[INFO]  core: seal migration initiated");
    podLog(s, name, `[INFO]  core: migrating from one auto-unseal to shamir: from=${retiring.type}`);
    if (!retiring.kmsUp) {
        logWithValue(
            s,
            name,
            "[ERROR] core: seal migration error:",
            "error",
            `error getting recovery key to set on new seal: failed to decrypt encrypted stored keys: ${autoSeal.kmsError(retiring, "decrypt")}`,
        );
        return giveUp();
    }
    const recovery = cluster.recovery;
    // Running processes on the auto seal keep the recovery configuration their autoSeal cached (inference).
    for (const [other, q] of Object.entries(s.pods)) {
        if (other !== name && vaultRuns(s, other) && podSeal(s, other))
            q.vault.sealCache = q.vault.sealCache ?? { threshold: recovery.threshold, shares: recovery.shares };
    }
    const migrated = { ...cluster, keys: recovery.keys, threshold: recovery.threshold, shares: recovery.shares, sealType: "shamir" };
    delete migrated.recovery;
    s.cluster = migrated;
    node.sealCache = null;
    s.raftIndex++;
    podLog(s, name, "[INFO]  core: seal migration complete");
    return true;
}

/**
 * `sys/init` with an auto seal (http/sys_init.go, vault/init.go Initialize): recovery shares and threshold (Vault's
 * defaults 5 and 3 when not given: inference from third-party runs) validated like a seal configuration; the root
 * key is generated and stored encrypted by the seal (SetStoredKeys: the KMS must answer, else 400 "failed to store
 * keys: ..."; that nothing is left behind then is inference); the recovery keys are returned; then the handler calls
 * UnsealWithStoredKeys, so the node answers unsealed. `unseal_shares`/`unseal_threshold` are 1 (the stored share).
 * @param {State} s @param {string} name @param {number} shares @param {number} threshold
 */
/**
 * Why a split of `shares` with `threshold` is refused, if it is (vault/seal_config.go Validate: shares 1..255,
 * threshold 1..shares, threshold > 1 when shares > 1); the same rules for unseal and recovery shares.
 * @param {number} shares @param {number} threshold
 */
function splitRefusal(shares, threshold) {
    if (shares < 1) return "shares must be at least one";
    if (threshold < 1) return "threshold must be at least one";
    if (shares > 1 && threshold === 1) return "threshold must be greater than one for multiple shares";
    if (shares > 255) return "shares must be less than 256";
    if (threshold > shares) return "threshold cannot be larger than shares";
    return undefined;
}

function initAutoSealed(s, name, shares, threshold) {
    const seal = /** @type {AutoSealState} */ (podSeal(s, name));
    const node = s.pods[name].vault;
    const url = localUrl(s, name, "sys/init");
    if (node.initialized || node.pending || s.cluster) return apiError("initializing", "PUT", url, 400, "Vault is already initialized");
    const refused = splitRefusal(shares, threshold);
    if (refused) return apiError("initializing", "PUT", url, 400, `invalid recovery configuration: ${refused}`);
    if (!seal.kmsUp) return apiError("initializing", "PUT", url, 400, `failed to store keys: ${autoSeal.kmsError(seal, "encrypt")}`);
    const keys = Array.from({ length: shares }, () => crypto.randomBytes(33).toString("base64"));
    const rootToken = `hvs.${crypto.randomBytes(18).toString("base64url")}`;
    s.cluster = { id: crypto.randomUUID(), keys: [], threshold: 1, shares: 1, rootToken, sealType: seal.type, recovery: { keys, threshold, shares } };
    s.inits++;
    Object.assign(node, { initialized: true, member: true, voter: true, progress: [], sealed: false, unsealedAt: s.now });
    s.raftIndex++;
    podLog(s, name, "[INFO]  core: security barrier initialized: stored=1 shares=1 threshold=1");
    podLog(s, name, "[INFO]  core: unsealed with stored key");
    reconcile(s);
    return ok({
        unseal_keys_b64: [],
        unseal_keys_hex: [],
        unseal_shares: 1,
        unseal_threshold: 1,
        recovery_keys_b64: keys,
        recovery_keys_hex: keys.map((k) => Buffer.from(k, "base64").toString("hex")),
        recovery_keys_shares: shares,
        recovery_keys_threshold: threshold,
        root_token: rootToken,
    });
}

/**
 * `sys/unseal` on an auto-sealed node (http/sys_seal.go handleSysUnseal → vault/core.go unsealFragment): the shares are
 * recovery key shares, counted against the recovery configuration (getUnsealKey: RecoveryConfig); at the threshold
 * they are combined and only VERIFIED against the stored recovery key, which the seal must decrypt
 * (autoSeal.VerifyRecoveryKey → getRecoveryKeyInternal): without the KMS that fails, and a wrong key does not match;
 * both are ErrInvalidKey, 400 "failed to verify recovery key: ...". The root key is never derived from them: Vault
 * then reads it through the seal (unsealKeyToRootKey: GetStoredKeys), i.e. only the KMS opens the barrier (HashiCorp
 * KB 4404364271763: recovery keys "are not sufficient to unseal Vault if the AutoUnseal mechanism isn't working").
 * With the KMS answering, the node's own runUnseal does that within 5 s; the model leaves it to runUnseal (stricter:
 * this call answers still sealed), so that nothing can count recovery keys as a way to unseal.
 * @param {State} s @param {string} name @param {string} key @param {string} url
 */
function recoveryKeyUnseal(s, name, key, url) {
    const seal = /** @type {AutoSealState} */ (podSeal(s, name));
    const node = s.pods[name].vault;
    const what = "writing data to sys/unseal";
    if (!node.initialized) return apiError(what, "PUT", url, 400, "Vault is not initialized");
    if (node.removed) return apiError(what, "PUT", url, 500, "node was removed from a HA cluster");
    if (!node.sealed) return ok(sealStatus(s, name));
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 33) {
        return apiError(what, "PUT", url, 400, "'key' must be a valid hex or base64 string");
    }
    if (!node.progress.includes(key)) node.progress.push(key);
    const recovery = s.cluster?.recovery;
    if (!recovery || node.progress.length < recovery.threshold) return ok(sealStatus(s, name));
    const right = node.progress.every((k) => recovery.keys.includes(k));
    node.progress = [];
    if (!seal.kmsUp) return apiError(what, "PUT", url, 400, `failed to verify recovery key: ${autoSeal.kmsError(seal, "decrypt")}`);
    if (!right) return apiError(what, "PUT", url, 400, "failed to verify recovery key: recovery key does not match submitted values");
    // A process in seal migration mode has no runUnseal (command/server.go), so nothing else would open it: once the
    // migration is done, unsealFragment goes on with the auto seal, unsealKeyToRootKeyPreUnseal reads the stored root
    // key through the KMS (checked above) and unsealInternal opens the barrier, here as everywhere in Vault.
    if (node.migration) openBarrier(s, name);
    return ok(sealStatus(s, name));
}

// ---------------------------------------------------------------------------------------------------------------
// Faults and test helpers

/**
 * The node learned that the cluster removed it: it keeps the mark in its raft store (physical/raft/raft.go, key
 * "removed", read back at every start, so only new raft data clears it), seals, and answers unseal and join with
 * errors; `vault status` reports removed_from_cluster: true. The process keeps running (the chart passes no
 * -exit-on-core-shutdown), so the pod stays Running and never Ready.
 * @param {State} s @param {string} name @param {boolean} [stillInConfiguration]
 */
function markRemoved(s, name, stillInConfiguration = false) {
    const node = s.pods[name].vault;
    Object.assign(node, { removed: true, removedCheckAt: null, sealed: true, progress: [], unsealedAt: null });
    // The leader's configuration still lists a node that only believes it was removed (hashicorp/vault#32099): a
    // dead voter until it is removed or re-joins under its id.
    if (!stillInConfiguration) Object.assign(node, { member: false, voter: false });
    podLog(s, name, "[ERROR] core: node was removed from a HA cluster; sealing");
    reconcile(s);
}

/**
 * The pod's container restarts (crash, node reboot): Vault comes back sealed, and a follower that had only joined
 * forgets its challenge (it lives in memory: vault/raft.go raftInfo) and is uninitialised again.
 * @param {State} s @param {string} name
 */
function restart(s, name) {
    const p = s.pods[name];
    // The container that ran is the previous one now (kubectl logs --previous); a crash-looping one keeps its last
    // crash's, and starts again with the restart.
    if (p.crash) Object.assign(p, { crash: null, reason: undefined });
    else p.previousLogs = (p.logs ?? []).map((text) => ({ at: Date.parse(text.slice(0, text.indexOf(" "))), text }));
    p.restartCount++;
    p.runningAt = s.now + s.timing.restartMs;
    p.apiUpAt = p.runningAt + s.timing.apiStartMs;
    const node = p.vault;
    if (node.pending && !node.member) Object.assign(node, { pending: null, initialized: false });
    // A new process: nothing cached, the seal configuration is read from storage again (vault/seal.go BarrierConfig).
    Object.assign(node, { sealed: true, progress: [], completeAt: null, pending: null, unsealedAt: null, sealCache: null, removedCheckAt: null });
    endMigrationMode(node);
    p.startedSeal = configuredSealType(s);
    reconcile(s);
}

/** The pod is deleted and the StatefulSet recreates it: same name and volume, new uid. @param {State} s @param {string} name */
function recreate(s, name) {
    restart(s, name);
    s.pods[name].uid = crypto.randomUUID();
    s.pods[name].restartCount = 0;
    s.pods[name].labels = templateLabels(s.pods[name].labels);
    // A new pod has no previous container.
    delete s.pods[name].previousLogs;
}

/**
 * `kubectl delete pod`: the pod gets a deletionTimestamp, its containers stop (the chart's preStop, then SIGTERM), and
 * once it is gone the StatefulSet makes a pod of the same name from the update revision, with the same volume: raft
 * data kept, Vault sealed (stateful_set_control.go: a missing ordinal is created with newVersionedStatefulSetPod, which
 * under OnDelete uses the update revision). Stricter than the real preStop window: Vault leaves raft at once.
 * @param {State} s @param {string} name @param {boolean} [scaledDown] deleted by the controller's scale-down
 */
function deletePod(s, name, scaledDown = false) {
    const p = s.pods[name];
    if (!p || !p.created || p.terminatingUntil) return;
    // The danger a roll must avoid: taking away a serving node while raft is not healthy (a pod that serves nothing,
    // stuck or sealed, costs no quorum when it goes). A scale-down's deletions are the controller's, counted apart.
    if (running(s, name) && !p.vault.sealed && !scaledDown && !autopilot(s).Healthy) s.audit.deletedWhileUnhealthy.push(name);
    // SIGTERM: Vault's service registration leaves its shutdown labels (service_registration.go onShutdown).
    if (vaultRuns(s, name) && p.registeredBy)
        Object.assign(p.labels, { "vault-active": "false", "vault-sealed": "true", "vault-perf-standby": "false", "vault-initialized": "false" });
    p.terminatingUntil = s.now + s.timing.terminationMs;
    p.runningAt = null;
    // The process ends, and its cached seal configuration with it (vault/seal.go BarrierConfig).
    Object.assign(p.vault, { sealed: true, progress: [], completeAt: null, unsealedAt: null, sealCache: null, removedCheckAt: null });
    endMigrationMode(p.vault);
    if (p.vault.pending && !p.vault.member) Object.assign(p.vault, { pending: null, initialized: false });
    reconcile(s);
}

/**
 * The StatefulSet controller makes a deleted pod again from the update revision. An image the registry does not
 * have (`s.faults.missingImages`) leaves the container waiting in ImagePullBackOff (the kubelet's image puller).
 * @param {State} s @param {string} name
 */
function remake(s, name) {
    const p = s.pods[name];
    // A claim deleted while this pod used it goes once the pod is gone (kubernetes.io/pvc-protection), and the
    // controller makes a new, empty one for the new pod (stateful_set_control.go createPersistentVolumeClaims).
    if (s.claims[claimName(name)]?.deleting) {
        s.claims[claimName(name)] = { uid: crypto.randomUUID(), deleting: false };
        p.vault = freshNode();
    }
    const template = s.statefulSet.templates[s.statefulSet.updateRevision];
    const spec = podSpecFromStatefulSet(template, s.namespace, name);
    const missing = (s.faults.missingImages ?? []).includes(spec.containers[0].image);
    Object.assign(p, {
        reason: missing ? `ImagePullBackOff: Back-off pulling image "${spec.containers[0].image}"` : undefined,
        ...podSpecFromStatefulSet(template, s.namespace, name),
        uid: crypto.randomUUID(),
        terminatingUntil: null,
        restartCount: 0,
        runningAt: s.now + s.timing.restartMs,
        apiUpAt: s.now + s.timing.restartMs + s.timing.apiStartMs,
        logs: [],
        startedSeal: configuredSealType(s),
    });
    if (p.crash) p.crash = null;
    delete p.previousLogs;
    reconcile(s);
}

/**
 * `helm upgrade` of the release: the StatefulSet's spec changes (generation + 1) and the controller observes it a
 * moment later; with OnDelete the running pods keep their template.
 * @param {State} s @param {any} statefulSet
 */
function applyStatefulSet(s, statefulSet) {
    // The API server refuses any change to a StatefulSet's spec but replicas, ordinals, template, updateStrategy,
    // persistentVolumeClaimRetentionPolicy and minReadySeconds (kubernetes pkg/apis/apps/validation/validation.go
    // ValidateStatefulSetUpdate): a new volume claim template fails the whole Helm upgrade.
    const current = (s.statefulSet.pending ?? s.statefulSet.templates[s.statefulSet.updateRevision]).spec.volumeClaimTemplates;
    if (JSON.stringify(current ?? []) !== JSON.stringify(statefulSet.spec.volumeClaimTemplates ?? [])) {
        throw new Error(
            `StatefulSet.apps "${s.statefulSet.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
        );
    }
    s.statefulSet.generation++;
    s.statefulSet.pending = statefulSet;
    s.statefulSet.observeAt = s.now + s.timing.controllerMs;
}

/** The Vault version a pod runs: its image's tag (hashicorp/vault:2.0.4[@sha256:...]). @param {State} s @param {string} name */
function versionOf(s, name) {
    const image = s.pods[name].containers[0].image;
    return /:([^:@/]+)(@sha256:[0-9a-f]+)?$/.exec(image)?.[1] ?? "unknown";
}

/**
 * Autopilot's state as the API's struct (api/sys_raft.go AutopilotState), keyed as the CLI prints it: encoding/json of
 * a struct with only mapstructure tags, i.e. Go field names. A server is healthy once it runs unsealed and has caught
 * up with the leader; the cluster is healthy when every server is (raft-autopilot state: all servers healthy).
 * @param {State} s
 */
function autopilot(s) {
    const members = Object.keys(s.pods).filter((n) => s.pods[n].vault.member);
    const healthyNode = (/** @type {string} */ n) => {
        const node = s.pods[n].vault;
        return Boolean(s.active) && running(s, n) && !node.sealed && node.unsealedAt !== null && s.now >= node.unsealedAt + s.timing.catchUpMs;
    };
    const voterIds = members.filter((n) => s.pods[n].vault.voter);
    const healthyVoters = voterIds.filter(healthyNode).length;
    /** @type {Record<string, unknown>} */
    const servers = {};
    for (const n of members) {
        servers[n] = {
            ID: n,
            Name: n,
            Address: `${n}.${s.release}-internal:${CLUSTER_PORT}`,
            NodeStatus: running(s, n) ? "alive" : "left",
            LastContact: "0s",
            LastTerm: s.audit.elections,
            LastIndex: s.raftIndex,
            Healthy: healthyNode(n),
            StableSince: new Date(s.pods[n].vault.unsealedAt ?? s.now).toISOString(),
            Status: n === s.active ? "leader" : s.pods[n].vault.voter ? "voter" : "non-voter",
            Version: versionOf(s, n),
            NodeType: "voter",
        };
    }
    return {
        Healthy: members.length > 0 && members.every(healthyNode),
        FailureTolerance: Math.max(0, healthyVoters - (Math.floor(voterIds.length / 2) + 1)),
        OptimisticFailureTolerance: Math.max(0, healthyVoters - (Math.floor(voterIds.length / 2) + 1)),
        Servers: servers,
        Leader: s.active ?? "",
        Voters: voterIds,
        NonVoters: members.filter((n) => !s.pods[n].vault.voter),
    };
}

/**
 * `vault operator raft autopilot state`: needs a token and an active node (a standby forwards); exit 2 on an API
 * error (command/operator_raft_autopilot_state.go).
 * @param {State} s @param {string} name @param {string | undefined} token
 */
function autopilotState(s, name, token) {
    const url = localUrl(s, name, "sys/storage/raft/autopilot/state");
    const what = "checking autopilot state";
    if (s.pods[name].vault.sealed) return apiError(what, "GET", url, 503, "Vault is sealed");
    if (!s.active) return apiError(what, "GET", url, 500, NO_ACTIVE);
    if (!s.cluster || token !== s.cluster.rootToken) return apiError(what, "GET", url, 403, "permission denied");
    return ok(autopilot(s));
}

/**
 * `vault operator step-down` (PUT sys/step-down, root privileges): the active node gives up the HA lock, which with
 * raft transfers the leadership to another voter (physical/raft RaftLock.Unlock -> LeadershipTransfer), and it does
 * not stand again for 10 s (vault/ha.go manualStepDownSleepPeriod). The path is FORWARDED: http/handler.go registers
 * `/v1/sys/step-down` as handleRequestForwarding(core, handleSysStepDown(core)), so on a standby that knows the active
 * node the request goes to the active node (forwardRequest -> core.ForwardRequest), which steps down ITSELF; the CLI
 * prints success with the address it asked (command/operator_step_down.go). A standby that knows no active node
 * answers 500 "local node not active but active cluster node not found" (handleRequestForwarding); a sealed node,
 * whose core.Leader() is ErrSealed, answers 503. The token is checked where Core.StepDown runs (vault/ha.go), i.e.
 * on the active node. Core.StepDown on a node that became a standby meanwhile returns without doing anything.
 * @param {State} s @param {string} name @param {string | undefined} token
 */
function stepDown(s, name, token) {
    const url = localUrl(s, name, "sys/step-down");
    const what = "stepping down";
    if (s.pods[name].vault.sealed) return apiError(what, "PUT", url, 503, "Vault is sealed");
    if (!s.active) return apiError(what, "PUT", url, 500, NO_ACTIVE);
    // `s.active` is the node that runs Core.StepDown: this one, or the active node the request is forwarded to.
    const target = s.active;
    if (!s.cluster || token !== s.cluster.rootToken) return apiError(what, "PUT", url, 403, "permission denied");
    s.stepDown = { node: target, until: s.now + 10_000 };
    s.active = null;
    s.activeSince = null;
    s.electionAt = null;
    reconcile(s);
    return ok(`Success! Stepped down: ${s.pods[name].containers[0].env.VAULT_ADDR}\n`);
}

const SNAPSHOT_MARK = "vault-ha simulated raft snapshot";

/**
 * `sys/storage/raft/snapshot` (GET): the active node streams the raft data, which includes the keyring and the token
 * store, so the snapshot opens only with its own cluster's unseal keys. Needs a token and an active node. Here the
 * snapshot is text (the real one is a gzipped tar, which vault-ha never looks into).
 * @param {State} s @param {string} name @param {string | undefined} token
 */
function snapshotSave(s, name, token) {
    const url = localUrl(s, name, "sys/storage/raft/snapshot");
    if (s.pods[name].vault.sealed) return apiError("taking the snapshot", "GET", url, 503, "Vault is sealed");
    if (!s.active) return apiError("taking the snapshot", "GET", url, 500, NO_ACTIVE);
    if (!s.cluster || token !== s.cluster.rootToken) return apiError("taking the snapshot", "GET", url, 403, "permission denied");
    return { code: 0, stdout: JSON.stringify({ mark: SNAPSHOT_MARK, cluster: s.cluster, data: s.data }) + "\n", stderr: "" };
}

/**
 * The timing of a restore, with defaults where a test did not set them. The listener's limits are Vault's defaults,
 * which vault-ha's server config leaves alone: http_read_timeout 30 s, "the maximum duration for reading the entire
 * request, including the body" (docs: configuration/listener/tcp; hashicorp/vault#24245), and max_request_duration
 * 90 s (vault/request_handling.go DefaultMaxRequestDuration; hashicorp/vault#24255). How fast a body arrives depends
 * on where it comes from: through `kubectl exec`'s stdin it comes at the speed of the user's connection to the API
 * server (execStreamBytesPerSec: inference, a slow uplink), from a file in the pod over loopback at disk speed.
 * restorePostUnsealMs: how long postUnseal takes after the data is in (mount tables, leases: inference).
 * @param {State} s
 */
function restoreTiming(s) {
    return {
        restorePostUnsealMs: 3000,
        execStreamBytesPerSec: 1_048_576,
        loopbackBytesPerSec: 200 * 1_048_576,
        httpReadTimeoutMs: 30_000,
        maxRequestDurationMs: 90_000,
        ...s.timing,
    };
}

/**
 * `sys/storage/raft/snapshot` (POST) and `snapshot-force` (vault/logical_system_raft.go handleStorageRaftSnapshotWrite).
 * The handler first stores the whole body (WriteSnapshotToTemp) and answers only then; every error up to there is an
 * answer with an HTTP status, and nothing was restored (the restore goroutine has not started). Afterwards it answers
 * 204 at once and restores in a goroutine (applyRestore). `source` is where the CLI reads the body from: "exec" for
 * /dev/stdin, which in vault-ha's scripts is the `kubectl exec` stream (stricter: a stdin redirected from a file
 * would be faster), "file" for a file in the pod.
 * - A body that takes longer than http_read_timeout fails the read: 500 (Go's conn deadline, "i/o timeout"); a request
 *   (body plus storing it) longer than max_request_duration: 500 "context deadline exceeded" (exact texts: inference).
 * - A snapshot of another cluster without -force: 400 (its hash file is sealed with another keyring).
 * - Unreadable data: 500 (WriteSnapshotToTemp fails).
 * @param {State} s @param {string} name @param {string | undefined} token @param {string} content @param {boolean} force
 * @param {"exec" | "file"} [source]
 */
function snapshotRestore(s, name, token, content, force, source = "exec") {
    const url = localUrl(s, name, force ? "sys/storage/raft/snapshot-force" : "sys/storage/raft/snapshot");
    const what = "installing the snapshot";
    if (s.pods[name].vault.sealed) return apiError(what, "POST", url, 503, "Vault is sealed");
    if (!s.active) return apiError(what, "POST", url, 500, NO_ACTIVE);
    // The snapshot paths are in http/handler.go's alwaysRedirectPaths: a standby answers 307 to the active node's
    // api_addr. The CLI's client follows one redirect re-sending a body it has already read, and judges the first
    // answer (307 is no error: api/client.go, api/response.go), so it exits 0 while nothing was restored.
    if (s.active !== name) return ok("");
    if (!s.cluster || token !== s.cluster.rootToken) return apiError(what, "POST", url, 403, "permission denied");
    const t = restoreTiming(s);
    const bytes = Buffer.byteLength(content);
    const bodyMs = (bytes / (source === "exec" ? t.execStreamBytesPerSec : t.loopbackBytesPerSec)) * 1000;
    const requestMs = bodyMs + (bytes / t.loopbackBytesPerSec) * 1000;
    /** @param {string} error */
    const writeFailed = (error) => {
        podLog(s, s.active ?? name, `[ERROR] core: raft snapshot restore: failed to write snapshot: error="${error}"`);
        return apiError(what, "POST", url, 500, error);
    };
    if (bodyMs > t.httpReadTimeoutMs) return writeFailed("read tcp 127.0.0.1:8200->127.0.0.1:41872: i/o timeout");
    if (requestMs > t.maxRequestDurationMs) return writeFailed("context deadline exceeded");
    /** @type {any} */
    let snapshot;
    try {
        snapshot = JSON.parse(content);
    } catch {
        snapshot = undefined;
    }
    if (!snapshot || snapshot.mark !== SNAPSHOT_MARK) return writeFailed("failed to read snapshot file: unexpected EOF");
    if (snapshot.cluster.id !== s.cluster.id && !force)
        return apiError(
            what,
            "POST",
            url,
            400,
            "could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check",
        );
    // The active node runs the goroutine (a standby forwards the request to it: http/handler.go).
    s.pendingRestore = { at: s.now + requestMs + s.timing.restoreApplyMs, snapshot, pod: s.active, phase: "apply" };
    return ok("");
}

/**
 * The restore goroutine of handleStorageRaftSnapshotWrite (vault/logical_system_raft.go) on the node that took the
 * upload, with the lines it logs: "shutting down prior to restoring snapshot" (preSeal), "applying snapshot" (raft's
 * restore: the committed index moves here), the restore callback (vault/raft.go raftSnapshotRestoreCallback: "running
 * post snapshot restore invalidations", then performKeyUpgrades), then postUnseal (vault/core.go: "post-unseal setup
 * starting" ... "post-unseal setup complete"), which takes a while: until then the restore is not finished. Any
 * error seals the node (the goroutine's deferred sealInternalWithOptions, vault/core.go: "marked as sealed").
 * Another cluster's keyring fails the key upgrade ("failed to perform key upgrades, sealing") and every node seals
 * (the standbys run the same callback when raft installs the snapshot). Each running Vault process keeps the seal
 * configuration it has cached, the rebuilt cluster's (vault/seal.go defaultSeal.BarrierConfig returns d.config once
 * set; only ClearBarrierConfig, in postUnseal, which a failed restore never reaches, or a new process reads storage
 * again): unseal counts shares against it (vault/core.go getUnsealKey; hashicorp/vault#24975, #13416).
 * @param {State} s @param {NonNullable<State["pendingRestore"]>} restoring
 */
function applyRestore(s, restoring) {
    const pod = restoring.pod && s.pods[restoring.pod] ? restoring.pod : null;
    const log = (/** @type {string} */ line) => pod && podLog(s, pod, line);
    if (restoring.phase === "postUnseal") {
        s.pendingRestore = null;
        const faults = /** @type {{ restorePostUnsealFails?: number }} */ (s.faults);
        if (pod && (faults.restorePostUnsealFails ?? 0) > 0) {
            faults.restorePostUnsealFails = (faults.restorePostUnsealFails ?? 0) - 1;
            log('[ERROR] core: raft snapshot restore failed postUnseal: error="failed to setup mount table"');
            log("[INFO]  core: marked as sealed");
            Object.assign(s.pods[pod].vault, { sealed: true, progress: [], unsealedAt: null });
            reconcile(s);
            return;
        }
        log("[INFO]  core: post-unseal setup complete");
        // postUnseal's standardUnsealStrategy starts the active duty anew: a new active_time (vault/core.go, vault/ha.go).
        if (pod && s.active === pod) s.activeSince = s.now;
        return;
    }
    const snapshot = restoring.snapshot;
    log("[INFO]  core: shutting down prior to restoring snapshot");
    log("[INFO]  core: pre-seal teardown starting");
    log("[INFO]  core: pre-seal teardown complete");
    log("[INFO]  core: applying snapshot");
    s.data = { ...snapshot.data };
    s.raftIndex++;
    log("[INFO]  core: running post snapshot restore invalidations");
    if (s.cluster && snapshot.cluster.id !== s.cluster.id) {
        log(
            '[INFO]  core: failed to perform key upgrades, sealing: error="error reloading root key: failed to read root key: cipher: message authentication failed"',
        );
        const cached = { threshold: s.cluster.threshold, shares: s.cluster.shares };
        const c = snapshot.cluster;
        // The seal and recovery configurations are in the snapshot's storage too.
        s.cluster = {
            id: c.id,
            keys: c.keys,
            threshold: c.threshold,
            shares: c.shares,
            rootToken: c.rootToken,
            ...(c.sealType ? { sealType: c.sealType } : {}),
            ...(c.recovery ? { recovery: c.recovery } : {}),
        };
        for (const [name, p] of Object.entries(s.pods)) {
            if (vaultRuns(s, name)) p.vault.sealCache = p.vault.sealCache ?? cached;
            Object.assign(p.vault, { sealed: true, progress: [], unsealedAt: null });
        }
        s.pendingRestore = null;
        reconcile(s);
        return;
    }
    log("[INFO]  core: post-unseal setup starting");
    s.pendingRestore = { ...restoring, phase: "postUnseal", at: s.now + restoreTiming(s).restorePostUnsealMs };
}

/** Writes a value through the active node, as a client would (needs an active node). @param {State} s @param {string} key @param {string} value */
function writeData(s, key, value) {
    if (!s.active) throw new Error(`simulator: no active Vault node to write ${key} to`);
    s.data[key] = value;
    s.raftIndex++;
}

/** Reads a value through the active node. @param {State} s @param {string} key */
function readData(s, key) {
    if (!s.active) throw new Error(`simulator: no active Vault node to read ${key} from`);
    return s.data[key];
}

/** The cluster is rebuilt with new volumes: every pod new, Vault uninitialised, no cluster. @param {State} s */
function rebuild(s) {
    for (const p of Object.values(s.pods))
        Object.assign(p, {
            uid: crypto.randomUUID(),
            restartCount: 0,
            runningAt: s.now,
            apiUpAt: s.now,
            logs: [],
            labels: templateLabels(p.labels),
            vault: freshNode(),
        });
    Object.assign(s, { cluster: null, active: null, activeSince: null, electionAt: null, raftIndex: 0, data: {} });
}

/** Every pod restarts at once (laptop reboot, Docker restart). @param {State} s */
function restartAll(s) {
    for (const name of Object.keys(s.pods)) restart(s, name);
}

// ---------------------------------------------------------------------------------------------------------------
// Vault's answers

/** @param {State} s @param {string} name */
function apiAddrOf(s, name) {
    return s.pods[name].containers[0].env.VAULT_API_ADDR;
}

/**
 * `vault status -format=json`: command/format.go SealStatusOutput flattens api/sys_seal.go SealStatusResponse and adds
 * sys/leader's fields. A sealed node cannot read sys/leader (503), which the CLI masks as {ha_enabled: true}: only
 * `ha_enabled` and the zero `active_time` then. `is_self`, `leader_address` and friends are omitempty, so a standby
 * that knows no active node prints none of them. cluster_name/cluster_id only while unsealed (GetSealStatus).
 * @param {State} s @param {string} name
 */
function sealStatus(s, name) {
    const node = s.pods[name].vault;
    // A node that holds the leader's challenge reports initialised and the leader's seal configuration
    // (vault/init.go Initialized: isRaftUnseal; vault/seal.go caches the leader's barrier config at the join).
    // Raft data of another cluster on this pod's volume (`foreign`) carries that cluster's seal configuration.
    const seal = node.foreign ?? s.cluster;
    const knowsSeal = (node.initialized || node.pending) && seal;
    // With an auto seal, t and n are the recovery configuration's (vault/core.go GetSealStatus reads RecoveryConfig
    // when the seal supports recovery keys), known once the node has the cluster's data.
    const podAuto = podSeal(s, name);
    // A process on the auto seal after another node migrated storage to Shamir keeps what its autoSeal cached.
    const recovery =
        podAuto && node.initialized ? (node.migration ? recoveryDuringMigration(s, name) : (s.cluster?.recovery ?? node.sealCache ?? undefined)) : undefined;
    /** @type {Record<string, unknown>} */
    const status = {
        type: podAuto ? podAuto.type : "shamir",
        initialized: node.initialized || Boolean(node.pending),
        sealed: node.sealed,
        // The seal configuration this process has cached, else the one in storage (vault/seal.go BarrierConfig).
        t: podAuto ? (recovery?.threshold ?? 0) : knowsSeal ? (node.sealCache?.threshold ?? seal?.threshold) : 0,
        n: podAuto ? (recovery?.shares ?? 0) : knowsSeal ? (node.sealCache?.shares ?? seal?.shares) : 0,
        progress: node.progress.length,
        nonce: node.progress.length ? "5c5f4b1e-0c1e-4d4f-9a43-000000000000" : "",
        version: versionOf(s, name),
        build_date: "2026-10-01T00:00:00Z",
        migration: migrationPending(s, name),
        // api/sys_seal.go SealStatusResponse: recovery_seal_type is omitempty (absent with Shamir).
        recovery_seal: Boolean(podAuto),
        ...(podAuto ? { recovery_seal_type: "shamir" } : {}),
        storage_type: "raft",
        ha_enabled: true,
        // Present with raft storage (api/sys_seal.go RemovedFromCluster; Vault's own test scenario reads it from
        // `vault status -format=json`).
        removed_from_cluster: Boolean(node.removed),
        active_time: "0001-01-01T00:00:00Z",
    };
    if (node.sealed) return status;
    Object.assign(status, { cluster_name: "vault-cluster-simulated", cluster_id: seal?.id ?? "" });
    if (s.active === name) {
        Object.assign(status, { is_self: true, active_time: new Date(s.activeSince ?? s.now).toISOString() });
    }
    if (s.active)
        Object.assign(status, { leader_address: apiAddrOf(s, s.active), leader_cluster_address: `https://${s.active}.${s.release}-internal:${CLUSTER_PORT}` });
    // A node that was just unsealed replays the leader's log before its applied index reaches the committed one
    // (hashicorp/raft: a follower applies what the leader replicates to it).
    const caughtUp = node.unsealedAt !== null && s.now >= node.unsealedAt + s.timing.catchUpMs;
    if (s.raftIndex > 0)
        Object.assign(status, {
            raft_committed_index: s.raftIndex,
            raft_applied_index: caughtUp || s.active === name ? s.raftIndex : Math.max(0, s.raftIndex - 1),
        });
    return status;
}

const ok = (/** @type {unknown} */ body, code = 0) => ({ code, stdout: typeof body === "string" ? body : JSON.stringify(body, null, 2) + "\n", stderr: "" });
const fail = (/** @type {number} */ code, /** @type {string} */ stderr) => ({ code, stdout: "", stderr: stderr + "\n" });

/**
 * An API error as the CLI prints it (api/response.go ResponseError): exit 2.
 * @param {string} what @param {string} method @param {string} url @param {number} status @param {string} message
 */
function apiError(what, method, url, status, message) {
    return fail(2, `Error ${what}: ${apiErrorText(method, url, status, message)}`);
}

/** @param {string} method @param {string} url @param {number} status @param {string} message */
function apiErrorText(method, url, status, message) {
    return `Error making API request.\n\nURL: ${method} ${url}\nCode: ${status}. Errors:\n\n* ${message}`;
}

const NO_ACTIVE = "local node not active but active cluster node not found";

/** @param {State} s @param {string} name */
function localUrl(s, name, /** @type {string} */ p) {
    return `${s.pods[name].containers[0].env.VAULT_ADDR}/v1/${p}`;
}

/**
 * Why a call from the pod's own CLI (to VAULT_ADDR, 127.0.0.1) fails before it reaches Vault, if it does: the API is
 * not listening yet, or TLS does not verify with VAULT_CACERT (which must name a readable file holding the CA).
 * @param {State} s @param {string} name @param {Record<string, string | undefined>} env @param {string} p
 */
function localTransportError(s, name, env, p) {
    const url = `${env.VAULT_ADDR ?? "https://127.0.0.1:8200"}/v1/${p}`;
    if (s.now < s.pods[name].apiUpAt) return `Get "${url}": dial tcp 127.0.0.1:${API_PORT}: connect: connection refused`;
    const tls = servesTls(s, name);
    if (!tls) {
        if (url.startsWith("https:")) return `Get "${url}": http: server gave HTTP response to HTTPS client`;
        return undefined;
    }
    if (!url.startsWith("https:")) return apiErrorText("GET", url, 400, "Client sent an HTTP request to an HTTPS server.");
    if (env.VAULT_SKIP_VERIFY) return undefined;
    if (!env.VAULT_CACERT) return `Get "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`;
    const ca = readPodFile(s, name, env.VAULT_CACERT);
    if (ca === undefined) return `Error loading CA File: open ${env.VAULT_CACERT}: no such file or directory`;
    if (ca !== tls.ca) return `Get "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`;
    if (!tls.ipAddresses.includes("127.0.0.1"))
        return `Get "${url}": tls: failed to verify certificate: x509: certificate is valid for ${tls.serverNames.join(", ")}, not 127.0.0.1`;
    return undefined;
}

/**
 * A `vault` call from a pod that is not a Vault pod (the in-cluster unsealer), to the Vault pod that VAULT_ADDR names
 * by its headless-service name: which pod it reaches and why the call fails before Vault answers, if it does. The same
 * shapes as challengeError (a Go HTTP client reaching a pod through the headless Service), in the order the client
 * meets them:
 * - the CA file is loaded when the client is made, before any request (api/client.go DefaultConfig → ReadEnvironment →
 *   ConfigureTLS; hashicorp/go-rootcerts rootcerts.go LoadCAFile: "Error loading CA File: open ...", or "Couldn't
 *   parse PEM in: <file>"). The caller's VAULT_CACERT is a real file on this machine: it is read here;
 * - DNS: the headless Service publishes only pods that exist (vault-helm server-headless-service.yaml
 *   publishNotReadyAddresses): "no such host" for another name or a pod not created;
 * - TCP: "connection refused" while the pod's container does not run or its listener is not up yet;
 * - TLS: http against https and back, the CA compared with the one that signed the server certificate, and the host
 *   name (or VAULT_TLS_SERVER_NAME) checked against the certificate's names (crypto/tls, crypto/x509 VerifyHostname).
 * @param {State} s @param {Record<string, string | undefined>} env @param {"GET" | "PUT"} method @param {string} p
 * @returns {{ pod: string | undefined, url: string, error: string | undefined, loadError?: boolean }}
 */
function remoteTransportError(s, env, method, p) {
    // api/config.go DefaultConfig: https://127.0.0.1:8200 when VAULT_ADDR is not set.
    const addr = env.VAULT_ADDR ?? "https://127.0.0.1:8200";
    const url = `${addr}/v1/${p}`;
    const verb = method === "GET" ? "Get" : "Put";
    if (env.VAULT_CACERT && !env.VAULT_SKIP_VERIFY) {
        let ca;
        try {
            ca = fs.readFileSync(env.VAULT_CACERT, "utf8");
        } catch (err) {
            const code = /** @type {NodeJS.ErrnoException} */ (err).code;
            const why = code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : "permission denied";
            return { pod: undefined, url, error: `Error loading CA File: open ${env.VAULT_CACERT}: ${why}`, loadError: true };
        }
        if (!/-----BEGIN CERTIFICATE-----/.test(ca))
            return { pod: undefined, url, error: `Error loading CA File: Couldn't parse PEM in: ${env.VAULT_CACERT}`, loadError: true };
    }
    const m = /^(https?):\/\/([^/:]+):(\d+)$/.exec(addr);
    if (!m) return { pod: undefined, url, error: `${verb} "${url}": unsupported protocol scheme or address (simulator: ${addr})` };
    const [, scheme, host, port] = m;
    const hm = /^([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(host);
    const pod = hm?.[1] ?? "";
    // Nothing of Vault listens in the caller's own pod.
    if (host === "127.0.0.1" || host === "localhost")
        return { pod: undefined, url, error: `${verb} "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused` };
    if (!hm || hm[2] !== `${s.release}-internal` || !s.pods[pod]?.created)
        return { pod: undefined, url, error: `${verb} "${url}": dial tcp: lookup ${host} on 10.96.0.10:53: no such host` };
    if (Number(port) !== API_PORT || !running(s, pod) || s.now < s.pods[pod].apiUpAt)
        return { pod, url, error: `${verb} "${url}": dial tcp 10.244.1.${10 + s.pods[pod].ordinal}:${port}: connect: connection refused` };
    const tls = servesTls(s, pod);
    if (!tls) {
        if (scheme === "https") return { pod, url, error: `${verb} "${url}": http: server gave HTTP response to HTTPS client` };
        return { pod, url, error: undefined };
    }
    if (scheme !== "https") return { pod, url, error: apiErrorText(method, url, 400, "Client sent an HTTP request to an HTTPS server.") };
    if (env.VAULT_SKIP_VERIFY) return { pod, url, error: undefined };
    const ca = env.VAULT_CACERT ? fs.readFileSync(env.VAULT_CACERT, "utf8") : undefined;
    if (ca !== tls.ca) return { pod, url, error: `${verb} "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority` };
    const serverName = env.VAULT_TLS_SERVER_NAME || host;
    if (!tls.serverNames.includes(serverName))
        return {
            pod,
            url,
            error: `${verb} "${url}": tls: failed to verify certificate: x509: certificate is valid for ${tls.serverNames.join(", ")}, not ${serverName}`,
        };
    return { pod, url, error: undefined };
}

/**
 * The TLS a pod's Vault serves, if any: the certificate the model holds, for a pod whose template turned TLS on. The
 * chart writes the listener's TLS and the pod's VAULT_ADDR scheme from the same global.tlsDisable, so the scheme tells
 * which template the pod runs: a pod made before TLS was switched on keeps serving HTTP until it is replaced.
 * @param {State} s @param {string} name
 */
function servesTls(s, name) {
    return s.tls && String(s.pods[name].containers[0].env.VAULT_ADDR ?? "").startsWith("https:") ? s.tls : null;
}

/**
 * A file in the pod: what its vault container mounts from Secrets (kubelet projects each key as a file).
 * @param {State} s @param {string} name @param {string} file
 */
function readPodFile(s, name, file) {
    const pod = s.pods[name];
    for (const mount of pod.containers[0].mounts) {
        if (!file.startsWith(`${mount.mountPath}/`)) continue;
        const volume = pod.volumes.find((v) => v.name === mount.name);
        const secret = volume?.secret && s.secrets[`${s.namespace}/${volume.secret.secretName}`];
        const key = file.slice(mount.mountPath.length + 1);
        if (secret && secret[key] !== undefined) return Buffer.from(secret[key], "base64").toString("utf8");
    }
    return undefined;
}

/**
 * Secrets a pod mounts that do not exist keep it in ContainerCreating (kubelet: MountVolume.SetUp failed); so does a
 * Secret an environment variable reads (the kubelet refuses to make the container: CreateContainerConfigError, shown
 * here as waiting too). @param {State} s @param {string} name
 */
function missingSecret(s, name) {
    const pod = s.pods[name];
    for (const v of pod.volumes) {
        if (v.secret && !s.secrets[`${s.namespace}/${v.secret.secretName}`]) return v.secret.secretName;
    }
    for (const ref of Object.values(pod.containers[0].secretEnv ?? {})) {
        if (!s.secrets[`${s.namespace}/${ref.secretName}`]?.[ref.key]) return ref.secretName;
    }
    return undefined;
}

/**
 * The environment a process in the container gets: the template's, with the Secrets' keys it reads (a transit seal's
 * VAULT_TOKEN). The Vault CLI prefers VAULT_TOKEN to ~/.vault-token (command/base.go), so a `vault` call in such a pod
 * runs with the transit token unless the caller sets VAULT_TOKEN itself.
 * @param {State} s @param {Container} container @returns {Record<string, string>}
 */
function containerEnv(s, container) {
    if (!container.secretEnv) return container.env;
    /** @type {Record<string, string>} */
    const env = { ...container.env };
    for (const [name, ref] of Object.entries(container.secretEnv)) {
        const value = s.secrets[`${s.namespace}/${ref.secretName}`]?.[ref.key];
        if (value !== undefined) env[name] = Buffer.from(value, "base64").toString("utf8");
    }
    return env;
}

/** @param {State} s @param {string} name */
function status(s, name) {
    const st = sealStatus(s, name);
    // command/status.go: 0 unsealed, 2 sealed, 1 on error.
    return ok(st, st.sealed ? 2 : 0);
}

/**
 * vault/seal_config.go / vault/init.go: shares 1..255, threshold 1..shares, threshold > 1 when shares > 1.
 * @param {State} s @param {string} name @param {number} shares @param {number} threshold
 */
function init(s, name, shares, threshold) {
    if (podSeal(s, name)) return initAutoSealed(s, name, shares, threshold);
    const node = s.pods[name].vault;
    const url = localUrl(s, name, "sys/init");
    if (node.initialized || node.pending || s.cluster) return apiError("initializing", "PUT", url, 400, "Vault is already initialized");
    const refused = splitRefusal(shares, threshold);
    if (refused) return apiError("initializing", "PUT", url, 400, `invalid seal configuration: ${refused}`);
    const keys = Array.from({ length: shares }, () => crypto.randomBytes(33).toString("base64"));
    s.cluster = { id: crypto.randomUUID(), keys, threshold, shares, rootToken: `hvs.${crypto.randomBytes(18).toString("base64url")}`, sealType: "shamir" };
    s.inits++;
    Object.assign(node, { initialized: true, sealed: true, member: true, voter: true, progress: [] });
    s.raftIndex++;
    return ok({
        unseal_keys_b64: keys,
        unseal_keys_hex: keys.map((k) => Buffer.from(k, "base64").toString("hex")),
        unseal_shares: shares,
        unseal_threshold: threshold,
        recovery_keys_b64: [],
        recovery_keys_hex: [],
        recovery_keys_shares: 0,
        recovery_keys_threshold: 0,
        root_token: s.cluster.rootToken,
    });
}

/**
 * `sys/unseal` with one key share (http/sys_seal.go, vault/core.go). Progress counts distinct shares; a malformed
 * share is refused at once; at the threshold the shares are combined: wrong ones fail with 400 and reset progress.
 * A follower that holds a challenge answers it through the active node (unsealWithRaft → joinRaftSendAnswer): that
 * fails with a 500 while there is none, and on success the call returns still sealed; the follower unseals once it
 * has the leader's snapshot.
 * @param {State} s @param {string} name @param {string} key @param {string} [url] where the caller sent it (its VAULT_ADDR)
 */
function unseal(s, name, key, url = localUrl(s, name, "sys/unseal"), migrate = false) {
    if (s.pods[name].vault.migrationTo === "shamir") return unsealToShamir(s, name, key, url, migrate);
    if (migrate || s.pods[name].vault.migration) return unsealInMigration(s, name, key, url, migrate);
    if (podSeal(s, name)) return recoveryKeyUnseal(s, name, key, url);
    return shamirUnseal(s, name, key, url);
}

/** `sys/unseal` with a Shamir barrier seal (see unseal). @param {State} s @param {string} name @param {string} key @param {string} url */
function shamirUnseal(s, name, key, url) {
    const node = s.pods[name].vault;
    const what = "writing data to sys/unseal";
    if (!node.initialized && !node.pending) return apiError(what, "PUT", url, 400, "Vault is not initialized");
    // A node that knows the cluster removed it refuses to unseal (http/sys_seal.go: "node was removed from a HA cluster").
    if (node.removed) return apiError(what, "PUT", url, 500, "node was removed from a HA cluster");
    if (!node.sealed || node.completeAt !== null) return ok(sealStatus(s, name));
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 33) {
        return apiError(what, "PUT", url, 400, "'key' must be a valid hex or base64 string");
    }
    // A share already held is ignored (vault/core.go recordUnsealPart: subtle.ConstantTimeCompare → false, nil), so two
    // callers sending shares of the same key at once still reach the threshold.
    if (!node.progress.includes(key)) node.progress.push(key);
    // The keys that open this node's barrier: another cluster's when its volume holds that cluster's raft data.
    const cluster = node.foreign ?? s.cluster;
    // vault/core.go getUnsealKey combines as soon as there are as many parts as the threshold of the seal
    // configuration the process has cached (a stale one after a forced restore: applyRestore); shamir.Combine of
    // fewer shares than the split's real threshold yields a wrong key, which the barrier refuses.
    const threshold = node.sealCache?.threshold ?? cluster?.threshold ?? 0;
    if (!cluster || node.progress.length < threshold) return ok(sealStatus(s, name));
    const right = node.progress.every((k) => cluster.keys.includes(k)) && node.progress.length >= cluster.threshold;
    node.progress = [];
    if (!right) return apiError(what, "PUT", url, 400, "Unseal failed, invalid key");
    if (node.pending) {
        if (!s.active || s.faults.answerFailures > 0) {
            if (s.faults.answerFailures > 0) s.faults.answerFailures--;
            const leader = s.active ? apiAddrOf(s, s.active) : apiAddrOf(s, `${s.release}-0`);
            // joinRaftSendAnswer returns the leader's error as it is; handleSysUnseal answers 500 with it.
            return apiError(what, "PUT", url, 500, apiErrorText("PUT", `${leader}/v1/sys/storage/raft/bootstrap/answer`, 500, NO_ACTIVE));
        }
        node.completeAt = s.now + s.timing.followerUnsealMs;
        return ok(sealStatus(s, name));
    }
    node.sealed = false;
    node.unsealedAt = s.now;
    // Raft data of a node the cluster no longer has (its peer was removed, its volume kept): the unseal succeeds,
    // and the active node refuses its first heartbeat with NotHAMember (vault/request_forwarding.go), upon which
    // the node marks itself removed in raft.db and seals (physical/raft/raft.go, Vault 1.19+: GH-28875, GH-29090).
    if (!node.member && s.cluster) node.removedCheckAt = s.now + 1000;
    return ok(sealStatus(s, name));
}

/** @param {State} s @param {string} name */
function resetUnseal(s, name) {
    s.pods[name].vault.progress = [];
    // command/operator_unseal.go returns OutputSealStatus's code: 0, sealed or not.
    return ok(sealStatus(s, name));
}

/**
 * `sys/storage/raft/join` on the follower, which asks the leader for a challenge (vault/raft.go JoinRaftCluster,
 * http/sys_raft.go handleSysRaftJoinPost). A node with raft state answers joined: true and changes nothing; a node
 * that only holds a challenge asks again. The leader is reached at its headless-service name; with TLS its
 * certificate is verified with the given CA and must hold that name. Whatever goes wrong with the challenge, the
 * API answers only 500 "failed to join raft cluster: failed to get raft challenge": the cause goes to the joining
 * node's log (join() logs each leader's error), which is where kubectl logs finds it.
 * @param {State} s @param {string} name @param {string} leaderAddr @param {string | undefined} caPem
 */
function join(s, name, leaderAddr, caPem) {
    const node = s.pods[name].vault;
    const url = localUrl(s, name, "sys/storage/raft/join");
    // A removed node with its raft data is refused (the exact text is not in the sources read: the CLI's prefix and
    // the 500 are; inference for the message).
    if (node.removed) return apiError("joining the node to the Raft cluster", "POST", url, 500, "node was removed from a HA cluster");
    if (node.initialized) return ok({ joined: true });
    // An auto-sealed node that answered a challenge (retry_join's or an earlier call's) has raft state.
    if (podSeal(s, name) && node.pending) return ok({ joined: true });
    if (caPem !== undefined && !/-----BEGIN CERTIFICATE-----/.test(caPem)) {
        // tlsutil.ClientTLSConfig fails on a CA that is not PEM: 400 from the handler (exact text: inference).
        return apiError("joining the node to the Raft cluster", "POST", url, 400, "failed to create TLS config: failed to parse the CA certificate");
    }
    if (podSeal(s, name)) {
        // Without -retry the handler runs join() once and answers its error (vault/raft.go: "failed to join raft cluster: %w").
        const error = joinThroughSeal(s, name, [{ leaderAddr, caPem }]);
        return error ? apiError("joining the node to the Raft cluster", "POST", url, 500, `failed to join raft cluster: ${error}`) : ok({ joined: true });
    }
    const cause = challengeError(s, leaderAddr, caPem);
    if (cause) {
        // go-hclog (intlogger.go): a value with spaces is quoted on the line; a value with newlines goes on the
        // following lines, each prefixed with "  | ".
        const value = `error during raft bootstrap init call: ${cause}`;
        podLog(
            s,
            name,
            value.includes("\n")
                ? `[ERROR] core: failed to get raft challenge: leader_addr=${leaderAddr}\n  error=\n${value
                      .split("\n")
                      .map((l) => `  | ${l}`)
                      .join("\n")}`
                : `[ERROR] core: failed to get raft challenge: leader_addr=${leaderAddr} error=${JSON.stringify(value)}`,
        );
        return apiError("joining the node to the Raft cluster", "POST", url, 500, "failed to join raft cluster: failed to get raft challenge");
    }
    Object.assign(node, { pending: { at: s.now }, progress: [] });
    podLog(s, name, `[INFO]  core: attempting to join possible raft leader node: leader_addr=${leaderAddr}`);
    return ok({ joined: true });
}

/** Why the leader does not hand out a challenge, as the Go client would put it; undefined when it does. @param {State} s @param {string} leaderAddr @param {string | undefined} caPem */
function challengeError(s, leaderAddr, caPem) {
    const m = /^(https?):\/\/([a-z0-9-]+)\.([a-z0-9-]+):(\d+)$/.exec(leaderAddr);
    const host = m ? `${m[2]}.${m[3]}` : leaderAddr;
    const challengeUrl = `${leaderAddr}/v1/sys/storage/raft/bootstrap/challenge`;
    const leaderName = m?.[2] ?? "";
    if (!m || m[3] !== `${s.release}-internal` || !s.pods[leaderName]?.created)
        return `Put "${challengeUrl}": dial tcp: lookup ${host} on 10.96.0.10:53: no such host`;
    if (Number(m[4]) !== API_PORT || !running(s, leaderName) || s.now < s.pods[leaderName].apiUpAt) {
        return `Put "${challengeUrl}": dial tcp 10.244.1.${10 + s.pods[leaderName].ordinal}:${m[4]}: connect: connection refused`;
    }
    const tls = servesTls(s, leaderName);
    if (tls) {
        if (m[1] !== "https") return apiErrorText("PUT", challengeUrl, 400, "Client sent an HTTP request to an HTTPS server.");
        if (caPem !== tls.ca) return `Put "${challengeUrl}": tls: failed to verify certificate: x509: certificate signed by unknown authority`;
        if (!tls.serverNames.includes(host))
            return `Put "${challengeUrl}": tls: failed to verify certificate: x509: certificate is valid for ${tls.serverNames.join(", ")}, not ${host}`;
    } else if (m[1] === "https") {
        return `Put "${challengeUrl}": http: server gave HTTP response to HTTPS client`;
    }
    // http/handler.go handleRequestForwarding: a sealed node answers 503; a standby forwards to the active node, or
    // answers 500 when it knows none.
    if (s.pods[leaderName].vault.sealed) return apiErrorText("PUT", challengeUrl, 503, "Vault is sealed");
    if (!s.active) return apiErrorText("PUT", challengeUrl, 500, NO_ACTIVE);
    return undefined;
}

/** Appends a line to the vault container's log, with the model's time, as hclog writes it. @param {State} s @param {string} name @param {string} line */
function podLog(s, name, line) {
    const p = s.pods[name];
    p.logs = [...(p.logs ?? []), `${new Date(s.now).toISOString()} ${line}`].slice(-200);
}

/**
 * `sys/storage/raft/configuration`: needs a token, an unsealed node, and an active node to answer (a standby
 * forwards; without an active node it cannot).
 * @param {State} s @param {string} name @param {string | undefined} token
 */
function listPeers(s, name, token) {
    const node = s.pods[name].vault;
    const url = localUrl(s, name, "sys/storage/raft/configuration");
    const what = "reading the raft cluster configuration";
    if (node.sealed) return apiError(what, "GET", url, 503, "Vault is sealed");
    if (!s.active) return apiError(what, "GET", url, 500, NO_ACTIVE);
    if (!s.cluster || token !== s.cluster.rootToken) return apiError(what, "GET", url, 403, "permission denied");
    const members = Object.keys(s.pods).filter((n) => s.pods[n].vault.member);
    return ok({
        request_id: crypto.randomUUID(),
        lease_id: "",
        lease_duration: 0,
        renewable: false,
        data: {
            config: {
                index: s.raftIndex,
                servers: members.map((n) => ({
                    address: `${n}.${s.release}-internal:${CLUSTER_PORT}`,
                    leader: n === s.active,
                    node_id: n,
                    protocol_version: "3",
                    voter: s.pods[n].vault.voter,
                })),
            },
        },
        warnings: null,
    });
}

/**
 * `sys/storage/raft/remove-peer` (command/operator_raft_remove_peer.go writes it; vault/logical_system_raft.go): the
 * active node removes the server from the raft configuration. Needs a token and an active node, like list-peers.
 * @param {State} s @param {string} name @param {string | undefined} token @param {string} serverId
 */
function removePeer(s, name, token, serverId) {
    const node = s.pods[name].vault;
    const url = localUrl(s, name, "sys/storage/raft/remove-peer");
    const what = "removing the peer from raft cluster";
    if (node.sealed) return apiError(what, "PUT", url, 503, "Vault is sealed");
    if (!s.active) return apiError(what, "PUT", url, 500, NO_ACTIVE);
    if (!s.cluster || token !== s.cluster.rootToken) return apiError(what, "PUT", url, 403, "permission denied");
    const peer = s.pods[serverId]?.vault;
    if (!peer || !peer.member) return apiError(what, "PUT", url, 400, `failed to remove raft peer: server ${serverId} not found`);
    Object.assign(peer, { member: false, voter: false });
    s.raftIndex++;
    // A live node sees itself gone from the configuration (the removed checker runs every second; Vault's tests see
    // it seal within seconds): it marks itself removed and seals. Stricter here: at once.
    if (running(s, serverId) && !peer.sealed) markRemoved(s, serverId);
    return ok("Peer removed successfully!\n");
}

/**
 * The StatefulSet scaled to `replicas` (pkg/controller/statefulset/stateful_set_control.go, with the chart's
 * podManagementPolicy Parallel: every missing pod is created and every excess pod deleted in the same sync, without
 * waiting for one another):
 * - a missing ordinal gets its pod from the update revision, on its claim if the claim exists (the old raft data: the
 *   controller never deletes claims on a scale-down unless persistentVolumeClaimRetentionPolicy.whenScaled is
 *   Delete, which vault-ha leaves at the chart's default), on a new empty claim otherwise. A claim that is being
 *   deleted is not used: the controller fails the pod's creation until the claim is gone, then makes a new one;
 * - an excess pod is deleted like `kubectl delete pod` (deletePod: Vault stops at once, the object stays Terminating
 *   for the chart's preStop sleep and shutdown) and is then gone for good (departed), its claim left behind.
 * @param {State} s @param {any} statefulSet @param {number} replicas
 */
function scaleTo(s, statefulSet, replicas) {
    for (let i = 0; i < Math.max(replicas, Object.keys(s.pods).length); i++) {
        const name = `${s.release}-${i}`;
        const existing = s.pods[name];
        if (i < replicas && (!existing || !existing.created)) {
            const claim = s.claims[claimName(name)];
            if (claim?.deleting) continue; // made once the claim is gone (deleteClaim)
            if (!claim) s.claims[claimName(name)] = { uid: crypto.randomUUID(), deleting: false };
            s.pods[name] = {
                startedSeal: configuredSealType(s),
                uid: crypto.randomUUID(),
                created: true,
                ordinal: i,
                runningAt: s.now + s.timing.restartMs,
                restartCount: 0,
                apiUpAt: s.now + s.timing.restartMs + s.timing.apiStartMs,
                ...podSpecFromStatefulSet(statefulSet, s.namespace, name),
                vault: existing && claim ? existing.vault : freshNode(),
            };
        } else if (i >= replicas && existing?.created && !existing.terminatingUntil) {
            deletePod(s, name, true);
        }
    }
    reconcile(s);
}

/** A pod beyond the replica count has terminated: the object is gone; its claim (and the raft data on it) stays. @param {State} s @param {string} name */
function departed(s, name) {
    const p = s.pods[name];
    Object.assign(p, { created: false, runningAt: null, terminatingUntil: null });
    if (s.claims[claimName(name)]?.deleting) dropClaim(s, name);
    reconcile(s);
}

/** The claim and its volume are gone (reclaim policy Delete, kind's local-path and most clouds' default): so is the pod's raft data. @param {State} s @param {string} pod */
function dropClaim(s, pod) {
    delete s.claims[claimName(pod)];
    if (s.pods[pod]) s.pods[pod].vault = freshNode();
    // The controller creates a pod that waited for its claim (scaleTo).
    const sts = s.statefulSet;
    scaleTo(s, sts.templates[sts.updateRevision], sts.replicas);
}

/**
 * `kubectl delete pvc`: a claim a pod still uses gets a deletionTimestamp and stays until that pod is gone (the
 * kubernetes.io/pvc-protection finalizer: pkg/controller/volume/pvcprotection/pvc_protection_controller.go); an unused
 * one goes at once, with its volume.
 * @param {State} s @param {string} name claim name
 * @returns {"deleted" | "deleting" | "not-found"}
 */
function deleteClaim(s, name) {
    const claim = s.claims[name];
    if (!claim) return "not-found";
    const pod = name.replace(/^data-/, "");
    if (s.pods[pod]?.created) {
        claim.deleting = true;
        return "deleting";
    }
    dropClaim(s, pod);
    return "deleted";
}

/**
 * `kubectl create --dry-run=server` of a ClusterIssuer or an Issuer: refused until cert-manager's webhook serves. A
 * dry run is created like a real object, minus storage: an Issuer in a namespace that does not exist is refused by the
 * API server with NotFound (the namespace lifecycle admission plugin, k8s.io/apiserver
 * pkg/admission/plugin/namespace/lifecycle/admission.go). The simulator knows Vault's namespace and cert-manager's.
 * @param {State} s @param {string} stdin
 */
function certManagerProbe(s, stdin) {
    let manifest;
    try {
        manifest = JSON.parse(stdin || "{}");
    } catch {
        return fail(1, "error: error parsing STDIN: error converting YAML to JSON");
    }
    const kind = String(manifest.kind ?? "");
    const name = String(manifest.metadata?.name ?? "");
    const namespace = manifest.metadata?.namespace;
    if (kind === "Issuer" && namespace !== s.namespace && namespace !== "cert-manager") {
        return fail(1, `Error from server (NotFound): error when creating "STDIN": namespaces "${namespace ?? "default"}" not found`);
    }
    s.certManager.probes++;
    // What was probed, for the tests (stdin itself is never recorded).
    s.certManager.lastProbe = { kind, namespace: namespace ?? null };
    if (s.certManager.probes <= s.certManager.admitAfterProbes) {
        return fail(
            1,
            'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": dial tcp 10.96.0.10:443: connect: connection refused',
        );
    }
    return ok(`${kind.toLowerCase()}.cert-manager.io/${name} created (server dry run)\n`);
}

module.exports = {
    EPOCH,
    NO_ACTIVE,
    newState,
    podSpecFromStatefulSet,
    podLog,
    load,
    save,
    update,
    logCall,
    readCalls,
    keepInMemory,
    writeOut,
    shareOnDisk,
    forget,
    sleepSync,
    advance,
    reconcile,
    running,
    podView,
    REGISTRATION_LABELS,
    missingSecret,
    containerEnv,
    readPodFile,
    localTransportError,
    remoteTransportError,
    apiErrorText,
    freshNode,
    sealStatus,
    status,
    init,
    unseal,
    resetUnseal,
    join,
    listPeers,
    certManagerProbe,
    removePeer,
    markRemoved,
    scaleTo,
    claimName,
    deleteClaim,
    deletePod,
    applyStatefulSet,
    autopilot,
    autopilotState,
    stepDown,
    writeData,
    readData,
    snapshotSave,
    snapshotRestore,
    revisionOf,
    restart,
    recreate,
    restartAll,
    kms,
    applyServerConfig,
    podSeal,
    storedSealType,
    CRASH_LOOP,
    rebuild,
    ok,
    fail,
};
