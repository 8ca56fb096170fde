// @ts-check
/**
 * SIMULATOR — the command lines of kubectl and of the Vault CLI inside a Vault pod, over the model (model.js). Not
 * kubectl, not Vault: it accepts exactly what the real tools accept for the commands vault-ha sends, parses flags the
 * way they do, and fails the way they do. Used in-process by the simulator harness and by the bin/ wrappers.
 *
 *   kubectl get pods -n NS -l SELECTOR -o json
 *   kubectl get secret NAME -n NS -o jsonpath={.data.KEY}
 *   kubectl create --dry-run=server -f - -o name
 *   kubectl exec [-i] -n NS POD [-c CONTAINER] -- COMMAND...      (vault runs in-process; sh needs a real shell)
 *   kubectl get statefulset NAME -n NS -o json
 *   kubectl delete pod NAME -n NS --wait=false --ignore-not-found=true
 *   kubectl get pvc -n NS -o json, kubectl delete pvc NAME -n NS --wait=false --ignore-not-found=true
 *   vault status | operator init [-recovery-shares/-threshold] | write sys/unseal key=- (or - with a JSON body: migrate) | operator unseal -reset
 *   vault operator raft join | operator raft list-peers
 *   vault operator raft remove-peer | operator raft autopilot state | operator step-down
 *   vault status | write sys/unseal key=- | operator unseal -reset from a pod that is not a Vault pod (VAULT_SIM_POD=@...),
 *     to the Vault pod its VAULT_ADDR names (the in-cluster unsealer)
 *   kubectl get nodes|storageclasses|crd|deployments|service ..., kubectl api-resources, kubectl port-forward
 *     (the cluster around Vault: kubeObjects.js)
 */
const fs = require("fs");
const model = require("./model.js");
const kubeObjects = require("./kubeObjects.js");

/** @typedef {import("./model.js").State} State */
/** @typedef {{ code: number, stdout: string, stderr: string }} Result */
/** @typedef {{ shell: { command: string[], env: Record<string, string>, stdin: string, pod: string, home: string, dropAnswer: boolean } }} ShellRequest */

// ---------------------------------------------------------------------------------------------------------------
// Flag parsing

/**
 * Go's flag package, which the Vault CLI uses (command/base_flags.go builds on it): flags come first and parsing stops
 * at the first non-flag argument or at "--"; "-name=value", "-name value" and "--name" all work; a boolean takes no
 * separate value; an undefined flag is an error.
 * @param {string[]} args @param {Record<string, "bool" | "string">} spec
 * @returns {{ flags: Record<string, string | true>, positional: string[] } | { error: string }}
 */
function parseGoFlags(args, spec) {
    /** @type {Record<string, string | true>} */
    const flags = {};
    let i = 0;
    for (; i < args.length; i++) {
        const a = args[i];
        if (a === "--") {
            i++;
            break;
        }
        if (!a.startsWith("-") || a === "-") break;
        const body = a.replace(/^--?/, "");
        const eq = body.indexOf("=");
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const kind = spec[name];
        if (!kind) return { error: `flag provided but not defined: -${name}` };
        if (kind === "bool") flags[name] = eq >= 0 ? body.slice(eq + 1) : true;
        else if (eq >= 0) flags[name] = body.slice(eq + 1);
        else if (i + 1 < args.length) flags[name] = args[++i];
        else return { error: `flag needs an argument: -${name}` };
    }
    return { flags, positional: args.slice(i) };
}

/**
 * kubectl's flags (spf13/pflag): flags may stand anywhere among the arguments, "--" ends them, short flags take
 * their value as the next argument or after "=".
 * @param {string[]} args @param {Record<string, { kind: "bool" | "string", long?: string }>} spec keyed by short or long name
 * @returns {{ flags: Record<string, string | true>, positional: string[], command: string[] } | { error: string }}
 */
function parsePflags(args, spec) {
    /** @type {Record<string, string | true>} */
    const flags = {};
    /** @type {string[]} */
    const positional = [];
    /** @type {string[]} */
    let command = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--") {
            command = args.slice(i + 1);
            break;
        }
        if (!a.startsWith("-") || a === "-") {
            positional.push(a);
            continue;
        }
        const long = a.startsWith("--");
        const body = a.slice(long ? 2 : 1);
        const eq = body.indexOf("=");
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const entry = Object.entries(spec).find(([key, v]) => key === name || v.long === name);
        if (!entry) return { error: long ? `error: unknown flag: --${name}` : `error: unknown shorthand flag: '${name[0]}' in -${body}` };
        const [key, { kind }] = entry;
        if (kind === "bool") flags[key] = eq >= 0 ? body.slice(eq + 1) : true;
        else if (eq >= 0) flags[key] = body.slice(eq + 1);
        else if (i + 1 < args.length) flags[key] = args[++i];
        else return { error: `error: flag needs an argument: ${a}` };
    }
    return { flags, positional, command };
}

// The Vault CLI's HTTP and output flag sets (command/base_flags.go): every command here accepts them.
/** @type {Record<string, "bool" | "string">} */
const VAULT_COMMON = {
    address: "string",
    "agent-address": "string",
    "ca-cert": "string",
    "ca-path": "string",
    "client-cert": "string",
    "client-key": "string",
    namespace: "string",
    "tls-server-name": "string",
    "tls-skip-verify": "bool",
    "wrap-ttl": "string",
    "policy-override": "bool",
    header: "string",
    "non-interactive": "bool",
    format: "string",
};

// ---------------------------------------------------------------------------------------------------------------
// vault

const fail = model.fail;

/**
 * The Vault CLI in a pod. `env` is the container's environment; `stdin` what kubectl passed (-i); `token` what the CLI
 * would find in VAULT_TOKEN or ~/.vault-token (the bin/ wrapper reads the real file).
 * @param {State} s @param {string} pod @param {string[]} argv @param {Record<string, string | undefined>} env @param {string} stdin @param {string | undefined} token
 * @returns {Result}
 */
function vault(s, pod, argv, env, stdin, token) {
    const commands = [
        { words: ["operator", "raft", "list-peers"], flags: {}, api: "sys/storage/raft/configuration" },
        { words: ["operator", "raft", "autopilot", "state"], flags: { "dr-token": "string" }, api: "sys/storage/raft/autopilot/state" },
        { words: ["operator", "step-down"], flags: {}, api: "sys/step-down" },
        { words: ["operator", "raft", "snapshot", "save"], flags: {}, api: "sys/storage/raft/snapshot" },
        { words: ["operator", "raft", "snapshot", "restore"], flags: { force: "bool" }, api: "sys/storage/raft/snapshot" },
        { words: ["operator", "raft", "remove-peer"], flags: { "dr-token": "string" }, api: "sys/storage/raft/remove-peer" },
        {
            words: ["operator", "raft", "join"],
            flags: {
                "leader-ca-cert": "string",
                "leader-client-cert": "string",
                "leader-client-key": "string",
                retry: "bool",
                "non-voter": "bool",
                "auto-join-scheme": "string",
                "auto-join-port": "string",
            },
            api: "sys/storage/raft/join",
        },
        {
            words: ["operator", "init"],
            flags: {
                "key-shares": "string",
                "key-threshold": "string",
                "pgp-keys": "string",
                "root-token-pgp-key": "string",
                status: "bool",
                "recovery-shares": "string",
                "recovery-threshold": "string",
                "recovery-pgp-keys": "string",
            },
            api: "sys/init",
        },
        { words: ["operator", "unseal"], flags: { reset: "bool", migrate: "bool" }, api: "sys/unseal" },
        { words: ["status"], flags: {}, api: "sys/seal-status" },
        { words: ["write"], flags: { force: "bool", field: "string" }, api: "" },
    ];
    const command = commands.find((c) => c.words.every((w, i) => argv[i] === w));
    if (!command) return fail(127, `Usage: vault <command> [args]\n(simulator: unsupported: vault ${argv.join(" ")})`);
    const parsed = parseGoFlags(argv.slice(command.words.length), { ...VAULT_COMMON, .../** @type {Record<string, "bool" | "string">} */ (command.flags) });
    if ("error" in parsed) return fail(1, parsed.error);
    const { flags, positional } = parsed;
    const name = command.words.join(" ");
    const json = flags.format === "json";
    const tooMany = (/** @type {number} */ max) =>
        positional.length > max ? fail(1, `Too many arguments (expected ${max}, got ${positional.length})`) : undefined;

    if (pod.startsWith("@")) return remoteVault(s, name, flags, positional, env, stdin);

    const apiPath = name === "write" ? (positional[0] ?? "") : command.api;
    const transport = model.localTransportError(s, pod, { ...env, ...(flags["tls-skip-verify"] ? { VAULT_SKIP_VERIFY: "1" } : {}) }, apiPath);

    switch (name) {
        case "status": {
            const extra = tooMany(0);
            if (extra) return extra;
            if (transport) return fail(1, `Error checking seal status: ${transport}`);
            return model.status(s, pod);
        }
        case "operator init": {
            const extra = tooMany(0);
            if (extra) return extra;
            if (transport) return fail(transport.startsWith("Error loading CA File") ? 1 : 2, `Error initializing: ${transport}`);
            if (!json) return fail(1, "(simulator: vault-ha reads init's answer as JSON; pass -format=json)");
            // http/sys_init.go validateInitParameters: the parameters of the other kind of seal are refused, named in
            // this order, with the seal's type (the CLI sends a flag's value only when it is given: inference, Vault's
            // newer command/operator_init.go has no defaults for them).
            const given = (/** @type {string[]} */ names) => names.filter((n) => flags[n] !== undefined && Number(flags[n]) !== 0);
            const barrier = given(["key-shares", "key-threshold", "pgp-keys"]).map(
                (n) => ({ "key-shares": "secret_shares", "key-threshold": "secret_threshold", "pgp-keys": "pgp_keys" })[n],
            );
            const recovery = given(["recovery-shares", "recovery-threshold", "recovery-pgp-keys"]).map((n) => n.replace(/-/g, "_"));
            const podSeal = model.podSeal(s, pod);
            const sealType = podSeal ? podSeal.type : "shamir";
            const wrong = podSeal ? barrier : recovery;
            if (wrong.length > 0)
                return model.fail(
                    2,
                    `Error initializing: ${model.apiErrorText("PUT", `${env.VAULT_ADDR}/v1/sys/init`, 400, `parameters ${wrong.join(",")} not applicable to seal type ${sealType}`)}`,
                );
            if (podSeal) return model.init(s, pod, Number(flags["recovery-shares"] ?? 5), Number(flags["recovery-threshold"] ?? 3));
            return model.init(s, pod, Number(flags["key-shares"] ?? 5), Number(flags["key-threshold"] ?? 3));
        }
        case "operator unseal": {
            if (!flags.reset) return fail(1, "(simulator: only -reset is supported; keys go through `vault write sys/unseal key=-`)");
            const extra = tooMany(0);
            if (extra) return extra;
            if (transport) return fail(2, `Error resetting unseal process: ${transport}`);
            return model.resetUnseal(s, pod);
        }
        case "write": {
            // `vault write PATH key=value...`: a value of "-" is read from stdin (command/base_helpers.go parseArgsData).
            if (positional[0] !== "sys/unseal") return fail(1, `(simulator: unsupported write path ${positional[0] ?? "(none)"})`);
            const body = unsealBody(positional.slice(1), stdin);
            if ("error" in body) return fail(1, body.error);
            const { key, migrate } = body;
            if (transport) return fail(2, `Error writing data to sys/unseal: ${transport}`);
            const url = `${env.VAULT_ADDR}/v1/sys/unseal`;
            if (migrate !== undefined && typeof migrate !== "boolean")
                return model.fail(2, `Error writing data to sys/unseal: ${model.apiErrorText("PUT", url, 400, migrateTypeError(migrate))}`);
            if (key !== undefined && typeof key !== "string") return fail(1, "(simulator: a JSON unseal body whose key is not a string is not modelled)");
            if (key === undefined)
                return model.fail(
                    2,
                    "Error writing data to sys/unseal: Error making API request.\n\nCode: 400. Errors:\n\n* 'key' must be specified in request body as JSON, or 'reset' set to true",
                );
            const result = migrate === undefined ? model.unseal(s, pod, key) : model.unseal(s, pod, key, undefined, migrate);
            // sys/unseal's answer is the bare seal status, which api/secret.go ParseSecret nests under "data": that is
            // what command/write.go prints (nothing reads it here, but it must not look like more than Vault gives).
            if (result.code !== 0 || !json) return result;
            return model.ok({ request_id: "", lease_id: "", lease_duration: 0, renewable: false, data: JSON.parse(result.stdout), warnings: null });
        }
        case "operator raft join": {
            // 0 arguments means auto-join, which needs retry_join config that vault-ha does not write.
            if (positional.length === 0)
                return fail(
                    2,
                    "Error joining the node to the Raft cluster: Error making API request.\n\nCode: 400. Errors:\n\n* raft leader address not provided",
                );
            if (positional.length > 1) {
                // command/base.go: flags after the first positional argument are not parsed (Go's flag package).
                const late = positional.filter((a) => a.startsWith("-"));
                const warning = late.length
                    ? `WARNING! Command flags must be provided before positional arguments. The following arguments will not be parsed as flags: [${late.join(",")}]\n`
                    : "";
                return fail(1, `${warning}Too many arguments (expected 0-1, got ${positional.length})`);
            }
            // -leader-ca-cert takes PEM or @file (command/operator_raft_join.go, parseFlagFile): a file that cannot be
            // read is a local error, exit 1, before any request.
            let ca;
            const flag = flags["leader-ca-cert"];
            if (typeof flag === "string") {
                if (flag.startsWith("@")) {
                    ca = model.readPodFile(s, pod, flag.slice(1));
                    if (ca === undefined)
                        return fail(1, `Failed to parse leader CA certificate: error reading file: open ${flag.slice(1)}: no such file or directory`);
                } else {
                    ca = flag;
                }
            }
            if (transport) return fail(2, `Error joining the node to the Raft cluster: ${transport}`);
            const result = model.join(s, pod, positional[0], ca);
            if (result.code !== 0 || json) return result;
            return model.ok("Key       Value\n---       -----\nJoined    true\n");
        }
        case "operator raft remove-peer": {
            if (positional.length !== 1) return fail(1, `Incorrect arguments (expected 1, got ${positional.length})`);
            if (transport) return fail(2, `Error removing the peer from raft cluster: ${transport}`);
            return model.removePeer(s, pod, token || env.VAULT_TOKEN, positional[0].trim());
        }
        case "operator raft autopilot state": {
            // command/operator_raft_autopilot_state.go: exactly 0 arguments; its default format is "pretty".
            if (positional.length !== 0) return fail(1, `Incorrect arguments (expected 0, got ${positional.length})`);
            if (transport) return fail(2, `Error checking autopilot state: ${transport}`);
            if (!json) return fail(1, "(simulator: vault-ha reads the autopilot state as JSON; pass -format=json)");
            return model.autopilotState(s, pod, token || env.VAULT_TOKEN);
        }
        case "operator step-down": {
            // command/operator_step_down.go: no arguments; exit 2 on an API error.
            const extra = tooMany(0);
            if (extra) return extra;
            if (transport) return fail(2, `Error stepping down: ${transport}`);
            return model.stepDown(s, pod, token || env.VAULT_TOKEN);
        }
        case "operator raft snapshot save": {
            // command/operator_raft_snapshot_save.go: exactly one argument, the file it opens and writes; exit 2 on errors.
            if (positional.length !== 1) return fail(1, `Incorrect arguments (expected 1, got ${positional.length})`);
            if (positional[0] !== "/dev/stdout") return fail(1, "(simulator: vault-ha streams snapshots to /dev/stdout)");
            if (transport) return fail(2, `Error taking the snapshot: ${transport}`);
            return model.snapshotSave(s, pod, token || env.VAULT_TOKEN);
        }
        case "operator raft snapshot restore": {
            // command/operator_raft_snapshot_restore.go: exactly one argument, the file it reads; -force for another cluster.
            if (positional.length !== 1) return fail(1, `Incorrect arguments (expected 1, got ${positional.length})`);
            // It os.Opens the path before anything else: an unreadable file is exit 2, "Error opening policy file" (sic).
            // /dev/stdin is the exec stream; any other path is a file in the pod, read here from the pod's $HOME on
            // this machine (the shell expanded it), so its body reaches Vault at loopback speed (model.snapshotRestore).
            const fromStdin = positional[0] === "/dev/stdin";
            let content = stdin;
            if (!fromStdin) {
                try {
                    content = fs.readFileSync(positional[0], "utf8");
                } catch (err) {
                    return fail(
                        2,
                        `Error opening policy file: open ${positional[0]}: ${/** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT" ? "no such file or directory" : "permission denied"}`,
                    );
                }
            }
            if (transport) return fail(2, `Error installing the snapshot: ${transport}`);
            return model.snapshotRestore(
                s,
                pod,
                token || env.VAULT_TOKEN,
                content,
                flags.force === true || flags.force === "true",
                fromStdin ? "exec" : "file",
            );
        }
        case "operator raft list-peers": {
            const extra = tooMany(0);
            if (extra) return extra;
            if (transport) return fail(2, `Error reading the raft cluster configuration: ${transport}`);
            if (!json) return fail(1, "(simulator: vault-ha reads list-peers as JSON; pass -format=json)");
            return model.listPeers(s, pod, token || env.VAULT_TOKEN);
        }
    }
    return fail(127, "unreachable");
}

/**
 * The body `vault write sys/unseal ...` sends (command/base_helpers.go parseArgsData): `-` alone reads a JSON object
 * from stdin, sent as it is; otherwise K=V pairs, every value a string, a value of "-" read from stdin (kvbuilder:
 * Go's base64 decoder later skips only \r and \n, encoding/base64).
 * @param {string[]} args @param {string} stdin @returns {{ key?: unknown, migrate?: unknown } | { error: string }}
 */
function unsealBody(args, stdin) {
    if (args.length === 1 && args[0] === "-") {
        try {
            const data = JSON.parse(stdin);
            if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("not an object");
            return { key: data.key, migrate: data.migrate };
        } catch {
            return { error: "Failed to parse K=V data: failed to parse JSON input" };
        }
    }
    if (args.some((kv) => !kv.includes("="))) return { error: "Failed to parse K=V data: invalid key/value pair" };
    const data = Object.fromEntries(args.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    return { key: data.key === "-" ? stdin.replace(/[\r\n]/g, "") : data.key, migrate: data.migrate };
}

/**
 * sys/unseal decodes its body into UnsealRequest{Key string; Reset, Migrate bool} (http/sys_seal.go): a `migrate`
 * that is not a JSON boolean, such as the string K=V pairs give (`migrate=true`), fails the decoding, and
 * parseJSONRequest (http/handler.go) answers 400 "failed to parse JSON input: <encoding/json's error>". Only a JSON
 * body (`vault write sys/unseal -`) or `vault operator unseal -migrate` (api.UnsealOpts) sends the boolean.
 * @param {unknown} value
 */
function migrateTypeError(value) {
    const kind = typeof value === "string" ? "string" : typeof value === "number" ? "number" : Array.isArray(value) ? "array" : "object";
    return `failed to parse JSON input: json: cannot unmarshal ${kind} into Go struct field UnsealRequest.Migrate of type bool`;
}

/** The fields of `vault status -format=json` that the CLI adds from sys/leader: not in sys/unseal's body. */
const LEADER_FIELDS = /^(ha_enabled|active_time|is_self|leader_address|leader_cluster_address|performance_standby|raft_.*)$/;

/**
 * The Vault CLI in a pod that is not a Vault pod (`caller`, e.g. "@unsealer": model.remoteTransportError): the call
 * goes to the pod its VAULT_ADDR (or -address) names. Only what such a caller of vault-ha sends is modelled: the seal
 * status, key shares and a reset; anything else fails loudly, so that a script that starts doing more is seen.
 * @param {State} s @param {string} name the command's words @param {Record<string, string | true>} flags
 * @param {string[]} positional @param {Record<string, string | undefined>} env @param {string} stdin
 * @returns {Result}
 */
function remoteVault(s, name, flags, positional, env, stdin) {
    const json = flags.format === "json";
    // command/base.go Client(): -address, -ca-cert, -tls-server-name and -tls-skip-verify override the environment.
    const callerEnv = {
        ...env,
        ...(typeof flags.address === "string" ? { VAULT_ADDR: flags.address } : {}),
        ...(typeof flags["ca-cert"] === "string" ? { VAULT_CACERT: flags["ca-cert"] } : {}),
        ...(typeof flags["tls-server-name"] === "string" ? { VAULT_TLS_SERVER_NAME: flags["tls-server-name"] } : {}),
        ...(flags["tls-skip-verify"] ? { VAULT_SKIP_VERIFY: "1" } : {}),
    };
    switch (name) {
        case "status": {
            if (positional.length > 0) return fail(1, `Too many arguments (expected 0, got ${positional.length})`);
            const { pod, error } = model.remoteTransportError(s, callerEnv, "GET", "sys/seal-status");
            if (error || !pod) return fail(1, `Error checking seal status: ${error}`);
            return model.status(s, pod);
        }
        case "write": {
            if (positional[0] !== "sys/unseal") return fail(1, `(simulator: unsupported write path ${positional[0] ?? "(none)"} from ${env.VAULT_SIM_POD})`);
            if (positional.slice(1).some((kv) => !kv.includes("="))) return fail(1, "Failed to parse K=V data: invalid key/value pair");
            const data = Object.fromEntries(positional.slice(1).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
            // kvbuilder reads "-" from stdin as it is (command/base_helpers.go parseArgsData); of what a file may add,
            // only newlines are harmless: Go's base64 decoder skips \r and \n (encoding/base64 Decode).
            const key = data.key === "-" ? stdin.replace(/[\r\n]/g, "") : data.key;
            if (data.migrate !== undefined) return fail(1, `(simulator: migrate from ${env.VAULT_SIM_POD} is not modelled)`);
            const { pod, url, error, loadError } = model.remoteTransportError(s, callerEnv, "PUT", "sys/unseal");
            if (error || !pod) return fail(loadError ? 1 : 2, `Error writing data to sys/unseal: ${error}`);
            if (key === undefined)
                return fail(
                    2,
                    `Error writing data to sys/unseal: ${model.apiErrorText("PUT", url, 400, "'key' must be specified in request body as JSON, or 'reset' set to true")}`,
                );
            if (!json) return fail(1, "(simulator: the unsealer reads write's answer as JSON; pass -format=json)");
            const result = model.unseal(s, pod, key, url);
            if (result.code !== 0) return result;
            // sys/unseal answers the seal status itself, not a secret: api/secret.go ParseSecret finds no secret field in
            // it and puts the whole body under `data`, and command/write.go prints that Secret (OutputSecret; the JSON
            // formatter indents by two, Go sorts a map's keys). So the answer's `sealed` is under "data", not at the top.
            const body = JSON.parse(result.stdout);
            const answer = Object.fromEntries(
                Object.keys(body)
                    .filter((k) => !LEADER_FIELDS.test(k))
                    .sort()
                    .map((k) => [k, body[k]]),
            );
            return model.ok({ request_id: "", lease_id: "", lease_duration: 0, renewable: false, data: answer, warnings: null });
        }
        case "operator unseal": {
            if (!flags.reset) return fail(1, "(simulator: only -reset is supported; keys go through `vault write sys/unseal key=-`)");
            if (positional.length > 0) return fail(1, `Too many arguments (expected 0, got ${positional.length})`);
            const { pod, error } = model.remoteTransportError(s, callerEnv, "PUT", "sys/unseal");
            if (error || !pod) return fail(2, `Error resetting unseal process: ${error}`);
            return model.resetUnseal(s, pod);
        }
    }
    return fail(127, `(simulator: vault ${name} from a pod that is not a Vault pod (${env.VAULT_SIM_POD}) is not modelled)`);
}

// ---------------------------------------------------------------------------------------------------------------
// kubectl

/** @param {string} selector @param {Record<string, string>} labels */
function matches(selector, labels) {
    return selector
        .split(",")
        .filter(Boolean)
        .every((term) => {
            const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
            if (!m) return term in labels;
            return m[2] === "!=" ? labels[m[1]] !== m[3] : labels[m[1]] === m[3];
        });
}

/** `kubectl get pods -o json` of one pod, as the kubelet reports it. @param {State} s @param {string} name */
function podJson(s, name) {
    const p = s.pods[name];
    const missing = model.missingSecret(s, name);
    const isRunning = model.running(s, name) && !missing;
    const unschedulable = p.reason?.startsWith("Unschedulable");
    /** @type {any} */
    let state;
    if (p.terminatingUntil) state = { terminated: { exitCode: 0, reason: "Completed" } };
    else if (isRunning) state = { running: { startedAt: new Date(/** @type {number} */ (p.runningAt)).toISOString().replace(/\.\d{3}Z$/, "Z") } };
    else if (p.reason === model.CRASH_LOOP && p.crash)
        state = {
            waiting: {
                reason: p.reason,
                message: `back-off ${Math.round(p.crash.backOffMs / 1000)}s restarting failed container=${p.containers[0].name} pod=${name}_${s.namespace}(${p.uid})`,
            },
        };
    else if (p.reason && !unschedulable) state = { waiting: { reason: p.reason } };
    else if (!unschedulable) state = { waiting: { reason: "ContainerCreating" } };
    // The kubelet lists container statuses sorted by container name (pkg/kubelet/kubelet_pods.go sorts them with
    // kubecontainer.SortContainerStatusesByCreationTime... then by name in convertToAPIContainerStatuses).
    const statuses = unschedulable
        ? []
        : p.containers
              .map((c) => ({ name: c.name, ready: false, restartCount: p.restartCount, state, ...lastState(p, c.name) }))
              .sort((a, b) => a.name.localeCompare(b.name));
    // A container that keeps exiting is restarted by the kubelet: the pod stays in phase Running (restartPolicy Always).
    const crashLooping = p.reason === model.CRASH_LOOP && !missing && !p.terminatingUntil;
    return {
        metadata: {
            name,
            namespace: s.namespace,
            uid: p.uid,
            labels: p.labels,
            ...(p.terminatingUntil ? { deletionTimestamp: new Date(s.now).toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
        },
        spec: { containers: p.containers.map((c) => ({ name: c.name, image: c.image })), volumes: p.volumes },
        status: {
            phase: isRunning || crashLooping ? "Running" : "Pending",
            conditions: unschedulable
                ? [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: p.reason?.replace(/^Unschedulable: /, "") }]
                : [],
            containerStatuses: statuses,
        },
    };
}

/**
 * The last exit of a Vault container that crashed (an auto seal without its KMS: model.js startVaultServer), as the
 * kubelet reports it in lastState: exit code 1, reason Error. @param {import("./model.js").Pod} p @param {string} container
 */
function lastState(p, container) {
    if (!p.crash || container !== p.containers[0].name) return {};
    const at = new Date(p.crash.exitedAt).toISOString().replace(/\.\d{3}Z$/, "Z");
    return { lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: at, finishedAt: at } } };
}

/**
 * kubectl as vault-ha calls it, with the kubeconfig it was given (its content) and its stdin. `exec` of `vault` runs
 * the fake Vault CLI here; `exec` of `sh` asks the caller to run a real shell ("shell" in the result).
 * @param {State} s @param {string[]} argv @param {{ kubeconfig: string, stdin: string, log?: (entry: Record<string, unknown>) => void }} io
 * @returns {Result | ShellRequest}
 */
function kubectl(s, argv, io) {
    const parsed = parsePflags(argv, {
        n: { kind: "string", long: "namespace" },
        c: { kind: "string", long: "container" },
        i: { kind: "bool", long: "stdin" },
        t: { kind: "bool", long: "tty" },
        l: { kind: "string", long: "selector" },
        o: { kind: "string", long: "output" },
        f: { kind: "string", long: "filename" },
        "dry-run": { kind: "string" },
        tail: { kind: "string" },
        p: { kind: "bool", long: "previous" },
        "since-time": { kind: "string" },
        wait: { kind: "bool" },
        "ignore-not-found": { kind: "bool" },
        A: { kind: "bool", long: "all-namespaces" },
        "api-group": { kind: "string" },
        address: { kind: "string" },
        "pod-running-timeout": { kind: "string" },
    });
    if ("error" in parsed) return fail(1, parsed.error);
    const { flags, positional, command } = parsed;
    if (io.kubeconfig !== s.kubeconfig) return fail(1, "error: You must be logged in to the server (Unauthorized)");
    // The cluster's API server is down (Docker stopped, the control-plane container not running).
    if (s.faults.apiServerDown) return fail(1, "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?");
    const namespace = typeof flags.n === "string" ? flags.n : "default";

    if (positional[0] === "get" && positional[1] === "pods") {
        if (flags.o !== "json") return fail(1, "(simulator: vault-ha reads pods as -o json)");
        const items =
            namespace !== s.namespace
                ? []
                : Object.keys(s.pods)
                      .filter((n) => s.pods[n].created && matches(typeof flags.l === "string" ? flags.l : "", s.pods[n].labels))
                      .map((n) => podJson(s, n));
        return model.ok({ apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } });
    }

    if (positional[0] === "get" && (positional[1] === "statefulset" || positional[1] === "statefulsets" || positional[1] === "sts")) {
        const sts = s.statefulSet;
        if (namespace !== s.namespace || positional[2] !== sts.name)
            return fail(1, `Error from server (NotFound): statefulsets.apps "${positional[2]}" not found`);
        if (flags.o !== "json") return fail(1, "(simulator: vault-ha reads the StatefulSet as -o json)");
        const spec = (sts.pending ?? sts.templates[sts.updateRevision]).spec;
        return model.ok({
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: sts.name, namespace, generation: sts.generation },
            // The claim templates as stored (the program compares them before a Helm upgrade: rollPlan.ts).
            spec: {
                // What the last apply asked for (harness scaleTo changes the count without a new template).
                replicas: sts.pending ? spec.replicas : sts.replicas,
                updateStrategy: spec.updateStrategy,
                volumeClaimTemplates: spec.volumeClaimTemplates,
                template: { spec: { affinity: spec.template?.spec?.affinity } },
            },
            status: {
                observedGeneration: sts.observedGeneration,
                replicas: sts.replicas,
                currentRevision: sts.currentRevision,
                updateRevision: sts.updateRevision,
            },
        });
    }

    if (positional[0] === "get" && (positional[1] === "configmap" || positional[1] === "configmaps" || positional[1] === "cm")) {
        // The chart's server configuration ConfigMap (vault-helm templates/server-config-configmap.yaml), the only one
        // vault-ha reads. kubectl prints nothing and exits 0 for a missing object with --ignore-not-found.
        const found = namespace === s.namespace && positional[2] === `${s.release}-config` && typeof s.serverConfig === "string";
        if (!found) return flags["ignore-not-found"] ? model.ok("") : fail(1, `Error from server (NotFound): configmaps "${positional[2]}" not found`);
        if (flags.o !== "json") return fail(1, "(simulator: vault-ha reads the ConfigMap as -o json)");
        return model.ok({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: positional[2], namespace },
            data: { "extraconfig-from-values.hcl": s.serverConfig },
        });
    }

    if (positional[0] === "delete" && positional[1] === "secret") {
        // Several names at once; with -o name each deleted object is printed as kind/name (kubectl/pkg/cmd/delete,
        // PrintObj through the name printer); --ignore-not-found skips a missing one silently, otherwise the first
        // missing one is a NotFound error (and kubectl exits 1 after deleting the others).
        const names = positional.slice(2);
        if (names.length === 0) return fail(1, "error: resource(s) were provided, but no name was specified");
        const ignore = flags["ignore-not-found"] === true || flags["ignore-not-found"] === "true";
        const refused = kubeObjects.forbidden(/** @type {any} */ (s).kube, "delete", "secrets", namespace, names[0]);
        if (refused) return refused;
        const out = [];
        const missing = [];
        for (const name of names) {
            const key = `${namespace}/${name}`;
            if (s.secrets[key] === undefined) missing.push(name);
            else {
                delete s.secrets[key];
                out.push(flags.o === "name" ? `secret/${name}` : `secret "${name}" deleted`);
            }
        }
        if (missing.length > 0 && !ignore) {
            return { code: 1, stdout: out.length ? `${out.join("\n")}\n` : "", stderr: `Error from server (NotFound): secrets "${missing[0]}" not found\n` };
        }
        return model.ok(out.length ? `${out.join("\n")}\n` : "");
    }

    if (positional[0] === "delete" && positional[1] === "pod") {
        // kubectl delete waits for the object to be gone unless --wait=false (kubectl/pkg/cmd/delete/delete.go); vault-ha
        // waits itself. --ignore-not-found turns NotFound into exit 0 with no output.
        if (flags.wait !== "false") return fail(1, "(simulator: vault-ha deletes pods with --wait=false and waits itself)");
        const pod = positional[2];
        const p = namespace === s.namespace ? s.pods[pod] : undefined;
        if (!p || !p.created)
            return flags["ignore-not-found"] === true || flags["ignore-not-found"] === "true"
                ? model.ok("")
                : fail(1, `Error from server (NotFound): pods "${pod}" not found`);
        model.deletePod(s, pod);
        return model.ok(`pod "${pod}" deleted\n`);
    }

    if (positional[0] === "get" && (positional[1] === "pvc" || positional[1] === "persistentvolumeclaims")) {
        // The raft volume claims (model.js State.claims); a claim being deleted carries its deletionTimestamp.
        if (flags.o !== "json") return fail(1, "(simulator: vault-ha reads claims as -o json)");
        const refused = kubeObjects.forbidden(/** @type {any} */ (s).kube, "list", "persistentvolumeclaims", namespace);
        if (refused) return refused;
        const claims = /** @type {Record<string, { uid: string, deleting: boolean }>} */ (/** @type {any} */ (s).claims ?? {});
        const items =
            namespace !== s.namespace
                ? []
                : Object.entries(claims).map(([name, c]) => ({
                      metadata: {
                          name,
                          namespace,
                          uid: c.uid,
                          ...(c.deleting ? { deletionTimestamp: new Date(s.now).toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
                      },
                      status: { phase: "Bound" },
                  }));
        return model.ok({ apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } });
    }

    if (positional[0] === "delete" && (positional[1] === "pvc" || positional[1] === "persistentvolumeclaims")) {
        // Like pods: vault-ha does not wait on kubectl (a claim in use stays until its pod is gone: pvc-protection).
        if (flags.wait !== "false") return fail(1, "(simulator: vault-ha deletes claims with --wait=false)");
        const name = positional[2];
        const refused = kubeObjects.forbidden(/** @type {any} */ (s).kube, "delete", "persistentvolumeclaims", namespace, name);
        if (refused) return refused;
        const outcome = namespace === s.namespace ? model.deleteClaim(s, name) : "not-found";
        if (outcome === "not-found")
            return flags["ignore-not-found"] === true || flags["ignore-not-found"] === "true"
                ? model.ok("")
                : fail(1, `Error from server (NotFound): persistentvolumeclaims "${name}" not found`);
        return model.ok(`persistentvolumeclaim "${name}" deleted\n`);
    }

    if (positional[0] === "get" && positional[1] === "secret") {
        const secret = s.secrets[`${namespace}/${positional[2]}`];
        if (!secret) return fail(1, `Error from server (NotFound): secrets "${positional[2]}" not found`);
        const key = /^jsonpath=\{\.data\.(.+)\}$/.exec(typeof flags.o === "string" ? flags.o : "")?.[1]?.replace(/\\\./g, ".");
        if (!key) return fail(1, "(simulator: vault-ha reads one key with -o jsonpath={.data.KEY})");
        return model.ok(secret[key] ?? "");
    }

    if (positional[0] === "create" && flags["dry-run"] === "server" && flags.f === "-") return model.certManagerProbe(s, io.stdin);

    if (positional[0] === "logs") {
        const pod = positional[1];
        const p = namespace === s.namespace ? s.pods[pod] : undefined;
        if (!p || !p.created) return fail(1, `Error from server (NotFound): pods "${pod}" not found`);
        const containerName = typeof flags.c === "string" ? flags.c : p.containers[0].name;
        if (!p.containers.some((c) => c.name === containerName)) return fail(1, `error: container ${containerName} is not valid for pod ${pod}`);
        // Reading a log is its own right (the pods/log subresource), which a user may lack.
        const refused = kubeObjects.forbidden(/** @type {any} */ (s).kube, "get", "pods/log", namespace, pod);
        if (refused) return refused;
        const tail = typeof flags.tail === "string" ? Number(flags.tail) : -1;
        // --since-time (RFC3339): only lines logged at or after it, by the time each line was written (the kubelet
        // keeps it with the line; here the model's time each line starts with). kubectl refuses an unparsable time.
        const since = typeof flags["since-time"] === "string" ? Date.parse(flags["since-time"]) : undefined;
        if (since !== undefined && Number.isNaN(since))
            return fail(1, `error: invalid argument "${flags["since-time"]}" for "--since-time" flag: parsing time`);
        // --previous: the container before the last restart; a container waiting in CrashLoopBackOff shows the one that
        // exited even without it (pkg/kubelet/kubelet_pods.go validateContainerLogStatus: lastState.Terminated).
        const previous = flags.p === true || flags.p === "true";
        if (previous || (p.crash && p.reason === model.CRASH_LOOP && containerName === p.containers[0].name)) {
            if (containerName !== p.containers[0].name || p.previousLogs === undefined)
                return fail(1, `Error from server (BadRequest): previous terminated container "${containerName}" in pod "${pod}" not found`);
            const earlier = p.previousLogs.filter((l) => since === undefined || l.at >= since).map((l) => l.text);
            return model.ok((tail >= 0 ? earlier.slice(-tail) : earlier).map((l) => `${l}\n`).join(""));
        }
        const all = containerName === "vault" ? (p.logs ?? []) : [];
        const lines = since === undefined ? all : all.filter((l) => Date.parse(l.slice(0, l.indexOf(" "))) >= since);
        return model.ok((tail >= 0 ? lines.slice(-tail) : lines).map((l) => `${l}\n`).join(""));
    }

    if (positional[0] === "exec") {
        const pod = positional[1];
        if (!pod)
            return fail(
                1,
                "error: expected 'exec POD_NAME COMMAND [ARG1] [ARG2] ... [ARGN]'.\nPOD_NAME and COMMAND are required arguments for the exec command",
            );
        if (positional.length > 2) return fail(1, "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead");
        if (command.length === 0) return fail(1, "error: you must specify at least one command for the container");
        const p = namespace === s.namespace ? s.pods[pod] : undefined;
        if (!p || !p.created) return fail(1, `Error from server (NotFound): pods "${pod}" not found`);
        let stderr = "";
        let containerName = typeof flags.c === "string" ? flags.c : undefined;
        if (containerName === undefined) {
            // kubectl picks the default-container annotation or the first container, and says so.
            containerName = p.containers[0].name;
            stderr += `Defaulted container "${containerName}" out of: ${p.containers.map((c) => c.name).join(", ")}\n`;
        }
        const container = p.containers.find((c) => c.name === containerName);
        // The API server validates the container name (pkg/registry/core/pod/strategy.go, validateContainer).
        if (!container) return fail(1, `Error from server (BadRequest): container ${containerName} is not valid for pod ${pod}`);
        if (!model.running(s, pod) || model.missingSecret(s, pod))
            return fail(1, `error: unable to upgrade connection: container not found ("${containerName}")`);
        // Without -i kubectl does not pass stdin: the command reads end-of-file.
        const stdin = flags.i ? io.stdin : "";
        if (command[0] === "vault") {
            const env = model.containerEnv(s, container);
            io.log?.({ tool: "vault", pod, container: containerName, argv: command.slice(1), env });
            const result = vault(s, pod, command.slice(1), env, stdin, undefined);
            if (takeDrop(s, command)) return LOST_ANSWER;
            return withExitNote({ ...result, stderr: stderr + result.stderr });
        }
        // The pod's $HOME is the chart's emptyDir: kept across container restarts, new with a new pod (uid).
        if (command[0] === "sh" || command[0] === "/bin/sh")
            return { shell: { command, env: model.containerEnv(s, container), stdin, pod, home: `${pod}-${p.uid}`, dropAnswer: takeDrop(s, command) } };
        return fail(
            126,
            `error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: "${command[0]}": executable file not found in $PATH: unknown`,
        );
    }

    if (positional[0] === "port-forward") return fail(1, "(simulator: port-forward runs until stopped: start it with KubectlRunner.background)");
    const cluster = kubeObjects.kubectlGet(/** @type {any} */ (s), positional, flags, matches);
    if (cluster) return cluster;

    return fail(1, `(simulator: unsupported: kubectl ${argv.join(" ")})`);
}

/**
 * `kubectl port-forward ...` up to the moment it listens (kubeObjects.js portForward): the pod it goes to, its
 * failure, or `waitForPod` while no pod matches yet (the caller asks again until kubectl's --pod-running-timeout,
 * then fails with kubeObjects.NO_POD_IN_TIME). The caller (the harness, bin/kubectl) plays the running process.
 * @param {State} s @param {string[]} argv @param {{ kubeconfig: string }} io
 */
function kubectlPortForward(s, argv, io) {
    const parsed = parsePflags(argv, {
        n: { kind: "string", long: "namespace" },
        address: { kind: "string" },
        "pod-running-timeout": { kind: "string" },
    });
    if ("error" in parsed) return { error: fail(1, parsed.error) };
    if (io.kubeconfig !== s.kubeconfig) return { error: fail(1, "error: You must be logged in to the server (Unauthorized)") };
    if (s.faults.apiServerDown) return { error: fail(1, "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?") };
    return kubeObjects.portForward(/** @type {any} */ (s), parsed.positional, parsed.flags, (name) => model.podView(s, name));
}

/**
 * Fault: the command runs in the pod, but its answer never reaches kubectl (the connection dropped). Armed with
 * s.faults.dropAnswers = {"<text in the command line>": N}.
 * @param {State} s @param {string[]} command
 */
function takeDrop(s, command) {
    const line = command.join(" ");
    const key = Object.keys(s.faults.dropAnswers ?? {}).find((text) => line.includes(text) && (s.faults.dropAnswers?.[text] ?? 0) > 0);
    if (!key || !s.faults.dropAnswers) return false;
    s.faults.dropAnswers[key]--;
    return true;
}

const LOST_ANSWER = fail(1, "error: error reading from error stream: next reader: read tcp 172.18.0.1:50412->172.18.0.2:6443: read: connection reset by peer");

/** kubectl exec reports a command's non-zero exit on stderr and exits with it (kubectl/pkg/cmd/util/helpers.go). @param {Result} r */
function withExitNote(r) {
    return r.code === 0 ? r : { ...r, stderr: `${r.stderr}command terminated with exit code ${r.code}\n` };
}

module.exports = { parseGoFlags, parsePflags, vault, kubectl, kubectlPortForward, withExitNote, matches, podJson, LOST_ANSWER };
