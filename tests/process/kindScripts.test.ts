import { strict as assert } from "assert";
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { KIND_DELETE_SCRIPT, KIND_NODES_SCRIPT, NODE_INSPECT_FORMAT } from "../../components/kind/kindCluster";
import { kindShape, liveShapeChanges, parseNodesReport } from "../../components/kind/kindShape";
import { kindConfigYaml, markKindConfigYaml, OWNER_LABEL_KEY, ownerLabelValue } from "../../components/kind/kindConfig";
import { parseSettings } from "../../components/config/settings";
import { runProgram } from "../support/program";

const DOUBLES = path.join(__dirname, "../doubles/kind");
const settings = parseSettings({}).settings;
/** The kind config of the cluster's shape, as the program built it before it marked its clusters. */
const PLAIN_CONFIG = kindConfigYaml(settings);
const ADOPT = "VAULT_HA_ADOPT_KIND_CLUSTER";

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs a shell script the way @pulumi/command does (/bin/sh -c, environment, stdin), with the fake kind, docker and kubectl. */
function runScript(script: string, state: string, env: Record<string, string>, stdin = ""): Run {
    return spawnSync("/bin/sh", ["-c", script], {
        input: stdin,
        encoding: "utf8",
        env: { ...process.env, PATH: `${DOUBLES}:${process.env.PATH}`, FAKE_KIND_STATE: state, ...env },
    });
}

/** One of the fake tools, called directly (to set up a cluster vault-ha did not create, for instance). */
function fake(tool: string, args: string[], state: string, stdin = "", env: Record<string, string> = {}): Run {
    return spawnSync(path.join(DOUBLES, tool), args, { input: stdin, encoding: "utf8", env: { ...process.env, FAKE_KIND_STATE: state, ...env } });
}

describe("kind create/delete scripts (against fake kind, docker and kubectl)", () => {
    /** The kind cluster command exactly as index.ts registers it for project vault-ha, stack dev. */
    let registered: { create: string; stdin: string; environment: Record<string, string>; triggers: unknown[] };
    let providerIdentifier: string;
    let state: string;

    before(async () => {
        const program = await runProgram();
        registered = program.one("command:local:Command", "kind-cluster").inputs as typeof registered;
        providerIdentifier = program.one("pulumi:providers:kubernetes", "kind-k8s").inputs.clusterIdentifier;
    });
    beforeEach(() => {
        state = mkdtempSync(path.join(tmpdir(), "fake-kind-"));
    });
    afterEach(() => rmSync(state, { recursive: true, force: true }));

    /** The create command as registered; `stack` runs it as another stack of the project would register it. */
    const create = (env: Record<string, string> = {}, stack = "dev") => {
        const owner = ownerLabelValue("vault-ha", stack);
        const stdin = stack === "dev" ? registered.stdin : markKindConfigYaml(PLAIN_CONFIG, owner);
        return runScript(registered.create, state, { ...registered.environment, ...(stack === "dev" ? {} : { VAULT_HA_OWNER: owner }), ...env }, stdin);
    };
    const calls = () => (existsSync(path.join(state, "calls.log")) ? readFileSync(path.join(state, "calls.log"), "utf8").trim().split("\n") : []);
    const nodes = (): Array<{ name: string; role: string; labels: Record<string, string> }> =>
        JSON.parse(readFileSync(path.join(state, "vault.nodes.json"), "utf8"));
    const kubeconfig = () => fake("kind", ["get", "kubeconfig", "--name", "vault"], state).stdout;
    /** A cluster named vault that vault-ha did not create: the blog's lab config, without the mark. */
    const foreignCluster = () => {
        const made = fake(
            "kind",
            ["create", "cluster", "--name", "vault", "--image", "kindest/node:v1.35.8", "--config", "-", "--wait", "5m"],
            state,
            PLAIN_CONFIG,
        );
        assert.equal(made.status, 0, made.stderr);
    };
    /** Everything a refusal must leave as it was: the fake's cluster files, byte for byte. */
    const snapshot = () =>
        ["vault.cluster", "vault.nodes.json", "vault.stopped"].map((f) => (existsSync(path.join(state, f)) ? readFileSync(path.join(state, f), "utf8") : null));
    const changingCalls = (from: number) =>
        calls()
            .slice(from)
            .filter((c) => /^kind (create|delete)|^kubectl .* label |^docker (start|stop|rm)/.test(c));

    it("registers the owner mark without touching the cluster's triggers, so existing clusters are not rebuilt", () => {
        assert.equal(registered.environment.VAULT_HA_OWNER, "vault-ha.dev");
        assert.equal(registered.stdin, markKindConfigYaml(PLAIN_CONFIG, "vault-ha.dev"));
        // The same triggers and provider identity as before vault-ha marked its clusters: a change would replace them.
        assert.deepEqual(registered.triggers, [settings.clusterName, settings.kindNodeImage, PLAIN_CONFIG]);
        const before = `vault-${createHash("sha256").update(`${settings.kindNodeImage}\n${PLAIN_CONFIG}`).digest("hex").slice(0, 12)}`;
        assert.equal(providerIdentifier, before);
    });

    it("creates the cluster from the config on stdin, every node labelled with this stack's owner, and prints only the kubeconfig", () => {
        const result = create();
        assert.equal(result.status, 0, result.stderr);
        assert.equal(readFileSync(path.join(state, "vault.cluster"), "utf8"), registered.stdin);
        assert.deepEqual(
            nodes().map((n) => [n.name, n.labels[OWNER_LABEL_KEY]]),
            [
                ["vault-control-plane", "vault-ha.dev"],
                ["vault-worker", "vault-ha.dev"],
                ["vault-worker2", "vault-ha.dev"],
                ["vault-worker3", "vault-ha.dev"],
            ],
        );
        assert.equal(nodes()[0].labels["ingress-ready"], "true");
        assert.equal(result.stdout, kubeconfig());
        assert.match(result.stderr, /Creating cluster "vault"/);
        assert.ok(calls().includes(`kind create cluster --name vault --image ${settings.kindNodeImage} --config - --wait 5m`));
    });

    it("reuses its own cluster on a re-run (after an interrupted up) instead of failing", () => {
        assert.equal(create().status, 0);
        const again = create();
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stderr, /kind cluster vault already exists and its nodes carry this stack's mark vault-ha\.dev\/owner=vault-ha\.dev: reusing it/);
        assert.equal(calls().filter((c) => c.startsWith("kind create")).length, 1);
        assert.equal(again.stdout, kubeconfig());
    });

    it("refuses a cluster of that name that it did not create, names the commands to adopt or delete it, and changes nothing", () => {
        foreignCluster();
        const before = snapshot();
        const from = calls().length;
        const result = create();
        assert.notEqual(result.status, 0);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /refusing to use the existing kind cluster vault: this stack \(vault-ha\.dev\) did not create it/);
        assert.match(result.stderr, /its nodes do not carry the label vault-ha\.dev\/owner=vault-ha\.dev/);
        assert.match(result.stderr, /VAULT_HA_ADOPT_KIND_CLUSTER=1 npm run up/);
        assert.match(result.stderr, /kind delete cluster --name vault/);
        assert.deepEqual(snapshot(), before);
        assert.deepEqual(changingCalls(from), []);
    });

    it("refuses a cluster that another stack of the project created and marked", () => {
        assert.equal(create({}, "prod").status, 0);
        assert.equal(nodes()[0].labels[OWNER_LABEL_KEY], "vault-ha.prod");
        const before = snapshot();
        const from = calls().length;
        const result = create();
        assert.notEqual(result.status, 0);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /labelled vault-ha\.dev\/owner for another vault-ha project or stack, not vault-ha\.dev/);
        assert.match(result.stderr, /VAULT_HA_ADOPT_KIND_CLUSTER=1 npm run up/);
        assert.match(result.stderr, /kind delete cluster --name vault/);
        assert.deepEqual(snapshot(), before);
        assert.deepEqual(changingCalls(from), []);
    });

    it(`adopts a cluster it did not create only when ${ADOPT}=1: labels its nodes, then reuses it without the variable`, () => {
        foreignCluster();
        const adopted = create({ [ADOPT]: "1" });
        assert.equal(adopted.status, 0, adopted.stderr);
        assert.match(adopted.stderr, /adopted as VAULT_HA_ADOPT_KIND_CLUSTER=1 asked/);
        assert.equal(adopted.stdout, kubeconfig());
        assert.ok(nodes().every((n) => n.labels[OWNER_LABEL_KEY] === "vault-ha.dev"));
        assert.equal(calls().filter((c) => c.startsWith("kind create")).length, 1, "only the foreign cluster was created");
        const again = create();
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stderr, /reusing it/);
    });

    it("names stopped node containers and the docker start command, instead of kind's raw kubeconfig error, and changes nothing", () => {
        assert.equal(create().status, 0);
        writeFileSync(path.join(state, "vault.stopped"), "vault-control-plane\nvault-worker\nvault-worker2\nvault-worker3\n");
        // What kind itself says in that state (kind pkg/cluster/internal/kubeconfig/kubeconfig.go, moby daemon/exec.go).
        assert.match(
            fake("kind", ["get", "kubeconfig", "--name", "vault"], state).stderr,
            /failed to get cluster internal kubeconfig: .* Error response from daemon: container [0-9a-f]{64} is not running/s,
        );
        const before = snapshot();
        const from = calls().length;
        const result = create();
        assert.notEqual(result.status, 0);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /kind cluster vault exists, but some of its node containers are not running/);
        assert.match(result.stderr, /Start Docker if it is not running/);
        assert.match(result.stderr, /^ {2}docker start vault-control-plane vault-worker vault-worker2 vault-worker3$/m);
        assert.doesNotMatch(result.stderr, /failed to get cluster internal kubeconfig/);
        assert.deepEqual(snapshot(), before);
        assert.deepEqual(changingCalls(from), []);
    });

    it("refuses a cluster whose workers alone are stopped (Vault's pods could not run), naming only those", () => {
        assert.equal(create().status, 0);
        writeFileSync(path.join(state, "vault.stopped"), "vault-worker2\n");
        const result = create();
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /^ {2}vault-worker2 \(exited\)$/m);
        assert.match(result.stderr, /^ {2}docker start vault-worker2$/m);
    });

    it("fails without creating anything when Docker does not answer, and says to start it", () => {
        const result = create({ FAKE_DOCKER_DOWN: "1" });
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /Cannot connect to the Docker daemon/);
        assert.match(result.stderr, /Is Docker running\? Start Docker/);
        assert.ok(!calls().some((c) => c.startsWith("kind create")));
        assert.equal(result.stdout, "");
    });

    it("checks ownership with kubectl on a private 0600 kubeconfig file it removes, and never puts the kubeconfig on a command line", () => {
        assert.equal(create().status, 0); // create
        assert.equal(create().status, 0); // reuse
        assert.equal(fake("kind", ["delete", "cluster", "--name", "vault"], state).status, 0);
        foreignCluster();
        assert.notEqual(create().status, 0); // refuse
        assert.equal(create({ [ADOPT]: "1" }).status, 0); // adopt
        const secret = /client-key-data: (\S+)/.exec(kubeconfig())![1];
        const used = readFileSync(path.join(state, "kubeconfigs.log"), "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split(" "));
        assert.ok(used.length >= 3, "kubectl read the cluster through a kubeconfig file");
        for (const [file, mode] of used) {
            assert.equal(mode, "0600", `${file} is private`);
            assert.ok(!existsSync(path.dirname(file)), `${path.dirname(file)} was removed`);
        }
        for (const call of calls()) {
            assert.ok(!call.includes(secret) && !call.includes("client-key-data") && !call.includes("apiVersion"), `kubeconfig in argv: ${call}`);
        }
        assert.ok(calls().some((c) => c.startsWith("kubectl --kubeconfig ")));
    });

    it("deletes the cluster, and succeeds again when it is already gone", () => {
        assert.equal(create().status, 0);
        const env = { KIND_CLUSTER_NAME: "vault" };
        assert.equal(runScript(KIND_DELETE_SCRIPT, state, env).status, 0);
        assert.ok(!existsSync(path.join(state, "vault.cluster")));
        assert.equal(fake("kind", ["get", "clusters"], state).stdout, "");
        const again = runScript(KIND_DELETE_SCRIPT, state, env);
        assert.equal(again.status, 0, again.stderr);
    });
});

describe("the node check (KIND_NODES_SCRIPT) against fake kind and docker", () => {
    let registered: { create: string; stdin: string; environment: Record<string, string> };
    let state: string;
    before(async () => {
        registered = (await runProgram()).one("command:local:Command", "kind-cluster").inputs as typeof registered;
    });
    beforeEach(() => {
        state = mkdtempSync(path.join(tmpdir(), "fake-kind-"));
    });
    afterEach(() => rmSync(state, { recursive: true, force: true }));
    const create = () => runScript(registered.create, state, registered.environment, registered.stdin);
    const check = (env: Record<string, string> = {}) => {
        const run = runScript(KIND_NODES_SCRIPT, state, { KIND_CLUSTER_NAME: "vault", VAULT_HA_CHECK: "presence", ...env });
        assert.equal(run.status, 0, run.stderr);
        return parseNodesReport(run.stdout);
    };
    const desired = (config: Record<string, string> = {}) => {
        const s = parseSettings(config).settings;
        return kindShape(s, kindConfigYaml(s));
    };

    it("reads the cluster the create script made, which matches the settings it was made from", () => {
        assert.equal(create().status, 0);
        const report = check();
        assert.equal(report.docker, "ok");
        if (report.docker !== "ok") return;
        assert.deepEqual(
            report.containers.map((c) => [c.name, c.role, c.state, c.image]),
            ["vault-control-plane", "vault-worker", "vault-worker2", "vault-worker3"].map((n, i) => [
                n,
                i ? "worker" : "control-plane",
                "running",
                settings.kindNodeImage,
            ]),
        );
        assert.deepEqual(liveShapeChanges(report.containers, desired(), "dev"), []);
    });

    it("names what differs from other settings: workers, host ports, node ports", () => {
        assert.equal(create().status, 0);
        const report = check();
        if (report.docker !== "ok") return assert.fail("docker answered");
        const changes = liveShapeChanges(report.containers, desired({ workers: "5", ingressHttpsPort: "8443", nodePorts: "[30000]" }), "dev");
        assert.deepEqual(
            changes.map((c) => `${c.setting}: ${c.from} → ${c.to}`),
            ["workers: 3 → 5", "ingressHttpsPort: 443 → 8443", "nodePorts: [30000, 30001] → [30000]"],
        );
    });

    it("lists stopped node containers (a Docker restart is not a vanished cluster), none once the cluster is deleted", () => {
        assert.equal(create().status, 0);
        writeFileSync(path.join(state, "vault.stopped"), "vault-control-plane\nvault-worker\nvault-worker2\nvault-worker3\n");
        const stopped = check();
        assert.ok(stopped.docker === "ok" && stopped.containers.length === 4 && stopped.containers.every((c) => c.state === "exited"));
        assert.equal(runScript(KIND_DELETE_SCRIPT, state, { KIND_CLUSTER_NAME: "vault" }).status, 0);
        assert.deepEqual(check(), { docker: "ok", containers: [] });
    });

    it("reports Docker not answering, with Docker's error, instead of an empty cluster", () => {
        assert.equal(create().status, 0);
        const report = check({ FAKE_DOCKER_DOWN: "1" });
        assert.equal(report.docker, "unavailable");
        assert.match(report.docker === "unavailable" ? report.detail : "", /Cannot connect to the Docker daemon/);
    });

    it("never changes anything, and puts no kubeconfig on a command line", () => {
        assert.equal(create().status, 0);
        const before = readFileSync(path.join(state, "vault.nodes.json"), "utf8");
        const from = readFileSync(path.join(state, "calls.log"), "utf8").trim().split("\n").length;
        check();
        const calls = readFileSync(path.join(state, "calls.log"), "utf8").trim().split("\n").slice(from);
        assert.deepEqual(
            calls.map((c) => c.split(" ").slice(0, 2).join(" ")),
            ["docker ps", "docker inspect"],
        );
        assert.equal(readFileSync(path.join(state, "vault.nodes.json"), "utf8"), before);
    });

    it("the fake docker inspect knows only the script's template and refuses unknown containers, as docker does", () => {
        assert.equal(create().status, 0);
        assert.equal(fake("docker", ["inspect", "--format", "{{json .}}", "vault-worker"], state).status, 64);
        assert.equal(fake("docker", ["inspect", "--format", NODE_INSPECT_FORMAT, "vault-worker"], state).status, 0);
        const missing = fake("docker", ["inspect", "--format", NODE_INSPECT_FORMAT, "vault-worker", "nope"], state);
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, /Error: No such object: nope/);
    });
});

describe("the fake kind, docker and kubectl are no more lenient than the real tools", () => {
    let state: string;
    beforeEach(() => {
        state = mkdtempSync(path.join(tmpdir(), "fake-kind-"));
    });
    afterEach(() => rmSync(state, { recursive: true, force: true }));
    const createWith = (config: string) =>
        fake("kind", ["create", "cluster", "--name", "vault", "--image", "x", "--config", "-", "--wait", "5m"], state, config);

    it("kind: a label value that is not a string, or one the kubelet rejects, fails the create", () => {
        const base = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n    labels:\n";
        assert.notEqual(createWith(`${base}      ingress-ready: true\n`).status, 0, "a YAML boolean");
        assert.notEqual(createWith(`${base}      node-role.kubernetes.io/worker: "x"\n`).status, 0, "a kubernetes.io label");
        assert.notEqual(createWith(`${base}      vault-ha.dev/owner: "-bad-"\n`).status, 0, "an invalid value");
        assert.equal(createWith(`${base}      vault-ha.dev/owner: vault-ha.dev\n`).status, 0);
        assert.match(createWith(`${base}      a: b\n`).stderr, /node\(s\) already exist for a cluster with the name "vault"/);
    });

    it("kind: no kubeconfig for a cluster that does not exist; get clusters lists stopped clusters too", () => {
        assert.match(
            fake("kind", ["get", "kubeconfig", "--name", "vault"], state).stderr,
            /could not locate any control plane nodes for cluster named 'vault'/,
        );
        assert.equal(createWith("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n").status, 0);
        writeFileSync(path.join(state, "vault.stopped"), "vault-control-plane\n");
        assert.equal(fake("kind", ["get", "clusters"], state).stdout, "vault\n");
        assert.equal(
            fake("docker", ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=vault", "--format", "{{.Names}} {{.State}}"], state).stdout,
            "vault-control-plane exited\n",
        );
    });

    it("kubectl: answers only with the cluster's own kubeconfig, refuses while the control plane is stopped, and refuses unknown commands", () => {
        assert.equal(createWith("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n").status, 0);
        const file = path.join(state, "kc");
        writeFileSync(file, fake("kind", ["get", "kubeconfig", "--name", "vault"], state).stdout, { mode: 0o600 });
        assert.equal(fake("kubectl", ["--kubeconfig", file, "get", "nodes", "-o", "name"], state).stdout, "node/vault-control-plane\n");
        assert.equal(
            fake("kubectl", ["--kubeconfig", file, "get", "nodes", "-o", "name", "-l", "x!=y"], state).stdout,
            "node/vault-control-plane\n",
            "!= matches nodes without the key",
        );
        assert.equal(fake("kubectl", ["--kubeconfig", file, "get", "nodes", "-o", "json"], state).status, 64);
        assert.match(fake("kubectl", ["--kubeconfig", file, "label", "nodes", "--all", "a=b"], state).stdout, /node\/vault-control-plane labeled/);
        assert.match(
            fake("kubectl", ["--kubeconfig", file, "label", "nodes", "--all", "a=c"], state).stderr,
            /'a' already has a value \(b\), and --overwrite is false/,
        );
        writeFileSync(path.join(state, "other"), "apiVersion: v1\nkind: Config\ncurrent-context: kind-vault\n");
        assert.match(fake("kubectl", ["--kubeconfig", path.join(state, "other"), "get", "nodes", "-o", "name"], state).stderr, /Unauthorized/);
        writeFileSync(path.join(state, "vault.stopped"), "vault-control-plane\n");
        assert.match(
            fake("kubectl", ["--kubeconfig", file, "get", "nodes", "-o", "name"], state).stderr,
            /The connection to the server 127\.0\.0\.1:\d+ was refused/,
        );
    });
});
