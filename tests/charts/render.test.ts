/**
 * The charts rendered by a real Helm, from the pinned archives, with exactly the releases the program registers
 * (index.ts under Pulumi mocks): what `pulumi up` installs, checked for what the program means to deploy.
 *
 * Each check returns its problems as sentences naming the release, the manifest (with its chart template) and the
 * field, and each is shown to catch the defect it exists for: a wrong mount path, a probe on the wrong scheme, a raft
 * path off the data volume, an environment variable referring to one defined after it, a value the chart ignores.
 */
import { parse as parseHcl } from "@cdktf/hcl2json";
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { createServer } from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { INGRESS_CLASS } from "../../components/ingress/ingressNginxValues";
import { parseSettings, Settings } from "../../components/config/settings";
import { SERVER_TLS_SECRET, TLS_FILES } from "../../components/tls/tlsConfig";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { KIND_NODE_IMAGE } from "../../components/config/versions";
import {
    ChartName,
    digest,
    findChartArchive,
    helmTemplate,
    kubeVersionOfNodeImage,
    parseManifests,
    PINNED_CHARTS,
    pinnedChartOf,
    pullCharts,
    runHelm,
} from "../../scripts/charts";
import { main as renderMain, renderManifests } from "../../scripts/render";
import {
    describeManifest,
    helmAvailable,
    helmTemplateCount,
    lintChart,
    Manifest,
    manifestsOfKind,
    oneManifest,
    registeredKubeVersion,
    registeredReleases,
    RegisteredRelease,
    renderChart,
    renderChartText,
    renderedVaultStatefulSet,
    renderRegistered,
    requireHelm,
} from "../support/helm";
import { ProgramRun, runProgramOnce } from "../support/program";

const MODES = ["true", "false"] as const;
type Mode = (typeof MODES)[number];

interface Deployment {
    mode: Mode;
    settings: Settings;
    run: ProgramRun;
    kubeVersion: string;
    releases: RegisteredRelease[];
    rendered: Record<string, Manifest[]>;
}

async function deploy(mode: Mode): Promise<Deployment> {
    const run = await runProgramOnce({ tls: mode });
    const kubeVersion = registeredKubeVersion(run);
    const releases = registeredReleases(run);
    const rendered: Record<string, Manifest[]> = {};
    await Promise.all(releases.map(async (r) => (rendered[r.release] = await renderRegistered(r, kubeVersion))));
    return { mode, settings: parseSettings({ tls: mode }).settings, run, kubeVersion, releases, rendered };
}

// ---- reading manifests --------------------------------------------------------------------------------------------

const isSubset = (wanted: Record<string, string> = {}, have: Record<string, string> = {}) => Object.entries(wanted).every(([k, v]) => have[k] === v);

function portNumber(port: number | string, container: any): number | undefined {
    if (typeof port === "number") return port;
    if (/^\d+$/.test(port)) return Number(port);
    return (container?.ports ?? []).find((p: any) => p.name === port)?.containerPort;
}

interface FileSource {
    mount: any;
    volume?: any;
    claim?: any;
    /** The path below the mount. */
    relative: string;
}

/** Which volume (or claim template) of the pod a path inside `container` comes from: the deepest mount above it. */
function fileSource(sts: any, container: any, file: string): FileSource | undefined {
    const mounts = (container.volumeMounts ?? []).filter((m: any) => file.startsWith(m.mountPath.replace(/\/$/, "") + "/"));
    const mount = mounts.sort((a: any, b: any) => b.mountPath.length - a.mountPath.length)[0];
    if (!mount) return undefined;
    const relative = file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
    const volume = (sts.spec.template.spec.volumes ?? []).find((v: any) => v.name === mount.name);
    const claim = (sts.spec.volumeClaimTemplates ?? []).find((c: any) => c.metadata.name === mount.name);
    return { mount, volume, claim, relative };
}

/** The Secret key a file in a secret volume holds (items map keys to paths; without items every key is a file). */
function secretKey(source: FileSource | undefined): { secretName: string; key: string; mode: number } | undefined {
    const secret = source?.volume?.secret;
    if (!secret) return undefined;
    const item = (secret.items ?? []).find((i: any) => i.path === source!.relative);
    if (secret.items && !item) return undefined;
    return { secretName: secret.secretName, key: item?.key ?? source!.relative, mode: item?.mode ?? secret.defaultMode ?? 0o644 };
}

function describeSource(s: FileSource | undefined): string {
    if (!s) return "no volume is mounted above it";
    const kind = s.claim
        ? "claim template"
        : s.volume?.secret
          ? `Secret ${s.volume.secret.secretName}`
          : s.volume?.configMap
            ? `ConfigMap ${s.volume.configMap.name}`
            : "volume";
    return `it lies under the mount of ${kind} "${s.mount.name}" at ${s.mount.mountPath}`;
}

/** Environment value with $(VAR) references expanded as the kubelet does, a pod name for metadata.name. */
function expandEnv(env: any[], name: string, podName: string): string | undefined {
    const values = new Map<string, string>();
    for (const e of env) {
        const v =
            e.value !== undefined
                ? String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, ref) => values.get(ref) ?? whole)
                : e.valueFrom?.fieldRef?.fieldPath === "metadata.name"
                  ? podName
                  : undefined;
        if (v !== undefined) values.set(e.name, v);
    }
    return values.get(name);
}

// ---- what the program means to deploy: Vault --------------------------------------------------------------------

interface VaultIntent {
    release: string;
    namespace: string;
    replicas: number;
    raftStorageSize: string;
    uiNodePort: number;
    tls: boolean;
    /** The program's server Certificate (with TLS): the Secret it writes and the names it holds. */
    certificate?: { secretName: string; dnsNames: string[]; ipAddresses: string[] };
    /** The address the bootstrap joins followers to (VAULT_HA_LEADER_ADDR of the join steps). */
    leaderAddr?: string;
}

/** Keys cert-manager writes into a certificate's Secret. */
const CERT_KEYS = { tls_cert_file: "tls.crt", tls_key_file: "tls.key", tls_client_ca_file: "ca.crt" } as const;

async function vaultProblems(manifests: Manifest[], want: VaultIntent): Promise<string[]> {
    const problems: string[] = [];
    const sts = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === want.release);
    if (!sts) return [`release ${want.release}: renders no StatefulSet ${want.release}`];
    const at = (m: Manifest, field: string) => `release ${want.release}: ${describeManifest(m)}: ${field}`;
    const pod = sts.spec.template.spec;
    const c = "spec.template.spec.containers[vault]";
    const vault = pod.containers.find((x: any) => x.name === "vault");
    if (!vault) return [at(sts, "spec.template.spec.containers: no container named vault")];
    const scheme = want.tls ? "https" : "http";

    // Shape: replicas, one pod per node, a data volume of the configured size.
    if (sts.spec.replicas !== want.replicas) problems.push(at(sts, `spec.replicas is ${sts.spec.replicas}, expected ${want.replicas}`));
    const podLabels = sts.spec.template.metadata.labels;
    const spread = (pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
        (t: any) => t.topologyKey === "kubernetes.io/hostname" && t.labelSelector?.matchLabels && isSubset(t.labelSelector.matchLabels, podLabels),
    );
    if (!spread)
        problems.push(
            at(
                sts,
                "spec.template.spec.affinity.podAntiAffinity: no required term keeps two Vault pods off one node (topologyKey kubernetes.io/hostname, selecting the pod's labels)",
            ),
        );
    for (const m of pod.containers.flatMap((x: any) => (x.volumeMounts ?? []).map((vm: any) => ({ container: x.name, ...vm })))) {
        const known =
            (pod.volumes ?? []).some((v: any) => v.name === m.name) || (sts.spec.volumeClaimTemplates ?? []).some((t: any) => t.metadata.name === m.name);
        if (!known)
            problems.push(at(sts, `spec.template.spec.containers[${m.container}].volumeMounts[${m.name}]: no volume or claim template named ${m.name}`));
    }

    // Voluntary disruptions (drains) keep a raft quorum.
    const pdb = manifests.find((m) => m.kind === "PodDisruptionBudget" && isSubset(m.spec.selector?.matchLabels, podLabels));
    const quorumSafe = Math.floor((want.replicas - 1) / 2);
    if (!pdb) problems.push(`release ${want.release}: no PodDisruptionBudget selects the Vault pods`);
    else if (!(Number(pdb.spec.maxUnavailable) <= quorumSafe))
        problems.push(
            at(
                pdb,
                `spec.maxUnavailable is ${pdb.spec.maxUnavailable}: more than ${quorumSafe} of ${want.replicas} raft peers could be evicted at once, losing quorum`,
            ),
        );

    // The server configuration the container actually starts with: a ConfigMap key mounted where its command reads it.
    const command = [...(vault.command ?? []), ...(vault.args ?? [])].join(" ");
    let configText: string | undefined;
    for (const m of vault.volumeMounts ?? []) {
        const cmName = (pod.volumes ?? []).find((v: any) => v.name === m.name)?.configMap?.name;
        const cm = cmName && manifests.find((x) => x.kind === "ConfigMap" && x.metadata.name === cmName);
        for (const [key, text] of Object.entries<string>(cm?.data ?? {})) {
            if (command.includes(`${m.mountPath.replace(/\/$/, "")}/${key}`)) configText = text;
        }
    }
    if (configText === undefined) return [...problems, at(sts, `${c}: its command reads no server configuration from a mounted ConfigMap`)];
    const config: any = await parseHcl("vault.hcl", configText);
    const listener = config.listener?.tcp?.[0] ?? {};
    const port = Number(/:(\d+)$/.exec(listener.address ?? "")?.[1]);
    const clusterPort = Number(/:(\d+)$/.exec(listener.cluster_address ?? "")?.[1]);
    const hcl = "server configuration";
    for (const [what, p] of [
        ["address", port],
        ["cluster_address", clusterPort],
    ] as const) {
        if (!(vault.ports ?? []).some((x: any) => x.containerPort === p))
            problems.push(at(sts, `${c}.ports: the listener's ${what} port ${p} (${hcl}) is not a container port`));
    }

    // Raft on the persistent volume.
    const raftPath: string | undefined = config.storage?.raft?.[0]?.path;
    const raftSource = raftPath ? fileSource(sts, vault, `${raftPath}/raft.db`) : undefined;
    if (!raftPath) problems.push(at(sts, `${hcl}: no storage "raft" path`));
    else if (!raftSource?.claim)
        problems.push(at(sts, `${c}.volumeMounts: storage "raft" path ${raftPath} (${hcl}) is not on a persistent volume: ${describeSource(raftSource)}`));
    else {
        const size = raftSource.claim.spec?.resources?.requests?.storage;
        if (size !== want.raftStorageSize)
            problems.push(
                at(
                    sts,
                    `spec.volumeClaimTemplates[${raftSource.claim.metadata.name}].spec.resources.requests.storage is ${size}, expected ${want.raftStorageSize}`,
                ),
            );
    }

    // TLS: the listener's files are the keys of the Secret the program's Certificate writes, readable by Vault's user.
    const certFiles = Object.keys(CERT_KEYS).filter((k) => listener[k] !== undefined);
    if (want.tls) {
        if (listener.tls_disable !== false) problems.push(at(sts, `${hcl}: listener "tcp" tls_disable is ${listener.tls_disable}, expected false`));
        for (const [attr, key] of Object.entries(CERT_KEYS)) {
            const file = listener[attr];
            const source = file ? fileSource(sts, vault, file) : undefined;
            const secret = secretKey(source);
            if (!file) problems.push(at(sts, `${hcl}: listener "tcp" has no ${attr}`));
            else if (secret?.secretName !== want.certificate?.secretName || secret?.key !== key) {
                problems.push(
                    at(
                        sts,
                        `${c}.volumeMounts: listener "tcp" ${attr} = ${file} is not key ${key} of Secret ${want.certificate?.secretName} (the program's Certificate): ${describeSource(source)}`,
                    ),
                );
            } else {
                const sc = { ...pod.securityContext, ...vault.securityContext };
                const readable = secret.mode & 0o004 || (secret.mode & 0o040 && sc.fsGroup !== undefined) || (secret.mode & 0o400 && sc.runAsUser === 0);
                if (!readable)
                    problems.push(
                        at(
                            sts,
                            `spec.template.spec.volumes[${source!.volume.name}]: mode ${secret.mode.toString(8)} keeps ${file} from Vault's user (runAsUser ${sc.runAsUser}, fsGroup ${sc.fsGroup})`,
                        ),
                    );
            }
        }
    } else {
        if (listener.tls_disable !== true) problems.push(at(sts, `${hcl}: listener "tcp" tls_disable is ${listener.tls_disable}, expected true`));
        if (certFiles.length > 0) problems.push(at(sts, `${hcl}: listener "tcp" names ${certFiles.join(", ")} without TLS`));
    }

    // The probe and the CLI speak the listener's scheme on its port.
    const probe = vault.readinessProbe;
    const expectedScheme = scheme.toUpperCase();
    if (!probe?.httpGet) problems.push(at(sts, `${c}.readinessProbe: not an HTTP probe (${JSON.stringify(probe)})`));
    else {
        if (probe.httpGet.scheme !== expectedScheme)
            problems.push(
                at(
                    sts,
                    `${c}.readinessProbe.httpGet.scheme is ${probe.httpGet.scheme}, expected ${expectedScheme} (listener tls_disable = ${listener.tls_disable})`,
                ),
            );
        if (!String(probe.httpGet.path).startsWith("/v1/sys/health"))
            problems.push(at(sts, `${c}.readinessProbe.httpGet.path is ${probe.httpGet.path}, expected /v1/sys/health...`));
        if (portNumber(probe.httpGet.port, vault) !== port)
            problems.push(at(sts, `${c}.readinessProbe.httpGet.port is ${probe.httpGet.port}, expected the listener's ${port}`));
    }
    const env: any[] = vault.env ?? [];
    const envOf = (name: string) => env.find((e) => e.name === name)?.value;
    env.forEach((e, i) => {
        for (const [, ref] of String(e.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
            if (!env.slice(0, i).some((d) => d.name === ref))
                problems.push(at(sts, `${c}.env[${e.name}] refers to $(${ref}), which is not defined before it: Kubernetes leaves the text unexpanded`));
        }
    });
    if (envOf("VAULT_ADDR") !== `${scheme}://127.0.0.1:${port}`)
        problems.push(at(sts, `${c}.env[VAULT_ADDR] is ${envOf("VAULT_ADDR")}, expected ${scheme}://127.0.0.1:${port}`));
    const caCert = envOf("VAULT_CACERT");
    if (want.tls) {
        const secret = caCert ? secretKey(fileSource(sts, vault, caCert)) : undefined;
        if (secret?.secretName !== want.certificate?.secretName || secret?.key !== "ca.crt") {
            problems.push(
                at(
                    sts,
                    `${c}.env[VAULT_CACERT] is ${caCert}, not key ca.crt of Secret ${want.certificate?.secretName}: ${describeSource(caCert ? fileSource(sts, vault, caCert) : undefined)}`,
                ),
            );
        }
    } else if (caCert !== undefined) problems.push(at(sts, `${c}.env[VAULT_CACERT] is set (${caCert}) without TLS`));
    const apiAddr = expandEnv(env, "VAULT_API_ADDR", `${want.release}-0`);
    const api = /^(\w+):\/\/([^:/]+):(\d+)$/.exec(apiAddr ?? "");
    if (!api || api[1] !== scheme || Number(api[3]) !== port)
        problems.push(at(sts, `${c}.env[VAULT_API_ADDR] is ${apiAddr} for pod ${want.release}-0, expected ${scheme}://<name>:${port}`));
    else if (want.tls && ![...want.certificate!.dnsNames, ...want.certificate!.ipAddresses].includes(api[2])) {
        problems.push(at(sts, `${c}.env[VAULT_API_ADDR] advertises ${api[2]} for pod ${want.release}-0, a name the Certificate does not hold`));
    }

    // The followers join the leader by a name of the headless Service, which must resolve before the pods are Ready.
    const headless = manifests.find((m) => m.kind === "Service" && m.metadata.name === sts.spec.serviceName);
    if (!headless || headless.spec.clusterIP !== "None" || headless.spec.publishNotReadyAddresses !== true) {
        problems.push(
            at(headless ?? sts, `spec.serviceName ${sts.spec.serviceName}: not a headless Service that publishes not-ready pods (sealed pods are never Ready)`),
        );
    }
    if (want.leaderAddr) {
        const leader = /^(\w+):\/\/([^:/]+):(\d+)$/.exec(want.leaderAddr);
        const expectedHost = `${want.release}-0.${sts.spec.serviceName}`;
        if (!leader || leader[1] !== scheme || leader[2] !== expectedHost || Number(leader[3]) !== port) {
            problems.push(at(sts, `the bootstrap joins followers to ${want.leaderAddr}, expected ${scheme}://${expectedHost}:${port}`));
        } else if (want.tls && !want.certificate!.dnsNames.includes(leader[2])) {
            problems.push(at(sts, `the bootstrap joins followers to ${leader[2]}, a name the Certificate does not hold`));
        }
    }

    // The UI/API NodePort.
    const nodePorts = manifests.filter((m) => m.kind === "Service" && m.spec.type === "NodePort");
    if (nodePorts.length !== 1) problems.push(`release ${want.release}: ${nodePorts.length} NodePort Services, expected 1`);
    for (const svc of nodePorts) {
        const p = svc.spec.ports?.[0] ?? {};
        if (p.nodePort !== want.uiNodePort) problems.push(at(svc, `spec.ports[0].nodePort is ${p.nodePort}, expected ${want.uiNodePort}`));
        if (portNumber(p.targetPort ?? p.port, vault) !== port)
            problems.push(at(svc, `spec.ports[0].targetPort is ${p.targetPort}, expected the listener's ${port}`));
        // vault-active is not in the template: Vault's service registration puts it on the active node's pod at run
        // time (serviceregistration/kubernetes/service_registration.go), so it counts only with that stanza.
        const { "vault-active": active, ...templateSelector } = svc.spec.selector ?? {};
        if (!isSubset(templateSelector, podLabels)) problems.push(at(svc, `spec.selector ${JSON.stringify(svc.spec.selector)} does not select the Vault pods`));
        if (active !== undefined && (active !== "true" || !config.service_registration?.kubernetes))
            problems.push(at(svc, `spec.selector vault-active=${active} needs service_registration "kubernetes", which labels the active pod "true"`));
    }

    // service_registration "kubernetes" labels the pod it runs in: the pod's service account must be allowed to.
    if (config.service_registration?.kubernetes) {
        for (const name of ["VAULT_K8S_POD_NAME", "VAULT_K8S_NAMESPACE"]) {
            if (!env.some((e) => e.name === name)) problems.push(at(sts, `${c}.env has no ${name}, which service_registration "kubernetes" reads`));
        }
        const sa = pod.serviceAccountName;
        const allowed = manifests
            .filter(
                (m) =>
                    m.kind === "RoleBinding" && m.roleRef?.kind === "Role" && (m.subjects ?? []).some((s: any) => s.kind === "ServiceAccount" && s.name === sa),
            )
            .map((b) => manifests.find((m) => m.kind === "Role" && m.metadata.name === b.roleRef.name))
            .flatMap((role) => role?.rules ?? [])
            .filter((r: any) => r.resources?.includes("pods") && r.apiGroups?.includes(""))
            .flatMap((r: any) => r.verbs);
        const missing = ["get", "update", "patch"].filter((v) => !allowed.includes(v));
        if (missing.length > 0)
            problems.push(
                at(sts, `spec.template.spec.serviceAccountName ${sa} may not ${missing.join("/")} pods, which service_registration "kubernetes" does`),
            );
    }

    // No agent injector.
    for (const m of manifests.filter((m) => m.metadata.name.includes("injector") || m.kind === "MutatingWebhookConfiguration")) {
        problems.push(at(m, "rendered, but the agent injector is off"));
    }

    // The certificate reloader: signals Vault, reads the mounted certificate files, pulls no new image.
    const sidecars = pod.containers.filter((x: any) => x.name !== "vault");
    if (want.tls && sidecars.length === 0) problems.push(at(sts, "spec.template.spec.containers: no certificate reloader beside vault"));
    for (const side of sidecars) {
        const s = `spec.template.spec.containers[${side.name}]`;
        if (side.image !== vault.image) problems.push(at(sts, `${s}.image is ${side.image}, not Vault's ${vault.image}`));
        if (pod.shareProcessNamespace !== true)
            problems.push(at(sts, `spec.template.spec.shareProcessNamespace is not true: ${side.name} cannot signal vault`));
        if (!side.resources?.limits?.memory) problems.push(at(sts, `${s}.resources.limits.memory is not set`));
        const script = (side.command ?? []).concat(side.args ?? []).join("\n");
        for (const [file] of script.matchAll(/\/vault\/[\w./-]+/g)) {
            const secret = secretKey(fileSource(sts, side, file));
            if (secret?.secretName !== want.certificate?.secretName || !Object.values<string>(CERT_KEYS).includes(secret?.key ?? "")) {
                problems.push(
                    at(
                        sts,
                        `${s}: its command reads ${file}, not a key of Secret ${want.certificate?.secretName}: ${describeSource(fileSource(sts, side, file))}`,
                    ),
                );
            }
        }
    }
    return problems;
}

function vaultIntent(d: Deployment): VaultIntent {
    const cert = d.run.all("kubernetes:cert-manager.io/v1:Certificate").find((r) => r.inputs.spec?.secretName === SERVER_TLS_SECRET);
    const join = d.run.all("command:local:Command").find((r) => r.inputs.environment?.VAULT_HA_LEADER_ADDR);
    const release = d.releases.find((r) => r.chart === "vault")!;
    return {
        release: release.release,
        namespace: release.namespace,
        replicas: d.settings.vaultReplicas,
        raftStorageSize: d.settings.raftStorageSize,
        uiNodePort: d.settings.uiNodePort,
        tls: d.settings.tls,
        certificate: cert
            ? { secretName: cert.inputs.spec.secretName, dnsNames: cert.inputs.spec.dnsNames, ipAddresses: cert.inputs.spec.ipAddresses ?? [] }
            : undefined,
        leaderAddr: join?.inputs.environment.VAULT_HA_LEADER_ADDR,
    };
}

// ---- what the program means to deploy: ingress-nginx ------------------------------------------------------------

interface KindNode {
    role: string;
    labels?: Record<string, string>;
    extraPortMappings?: { containerPort: number; hostPort: number }[];
}

interface IngressIntent {
    release: string;
    /** The kind cluster's nodes as the program creates them. */
    nodes: KindNode[];
    /** Host ports the user reaches the ingress on (ingressHttpPort, ingressHttpsPort). */
    hostPorts: number[];
    ingressClass: string;
    /** ingressClassName of every Ingress the program creates. */
    ingressClassNames: string[];
}

/** Labels every kind node carries from the kubelet, beside the config's own; the control plane's role label too. */
function nodeLabels(node: KindNode): Record<string, string> {
    return {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        ...(node.role === "control-plane" ? { "node-role.kubernetes.io/control-plane": "" } : {}),
        ...node.labels,
    };
}

function tolerates(tolerations: any[] = [], taint: { key: string; effect: string }): boolean {
    return tolerations.some(
        (t) =>
            (t.key === taint.key || (t.key === undefined && t.operator === "Exists")) &&
            (t.operator === "Exists" || (t.value ?? "") === "") &&
            (!t.effect || t.effect === taint.effect),
    );
}

function ingressProblems(manifests: Manifest[], want: IngressIntent): string[] {
    const problems: string[] = [];
    const at = (m: Manifest, field: string) => `release ${want.release}: ${describeManifest(m)}: ${field}`;
    const deployment = manifests.find((m) => m.kind === "Deployment" && m.spec.template.spec.containers.some((x: any) => x.name === "controller"));
    if (!deployment) return [`release ${want.release}: renders no controller Deployment`];
    const pod = deployment.spec.template.spec;
    const controller = pod.containers.find((x: any) => x.name === "controller");
    const c = "spec.template.spec.containers[controller]";

    // It runs on the node whose ports kind maps to the host, and listens there with host ports.
    const mapped = want.nodes.filter((n) => (n.extraPortMappings ?? []).some((p) => want.hostPorts.includes(p.hostPort)));
    if (mapped.length !== 1) problems.push(`kind config: ${mapped.length} nodes map the ingress host ports ${want.hostPorts.join(", ")}, expected 1`);
    for (const node of mapped) {
        for (const hostPort of want.hostPorts) {
            const containerPort = node.extraPortMappings!.find((p) => p.hostPort === hostPort)!.containerPort;
            if (!(controller.ports ?? []).some((p: any) => p.hostPort === containerPort)) {
                problems.push(at(deployment, `${c}.ports: no hostPort ${containerPort}, where kind maps the host's port ${hostPort}`));
            }
        }
        if (!isSubset(pod.nodeSelector, nodeLabels(node)))
            problems.push(
                at(
                    deployment,
                    `spec.template.spec.nodeSelector ${JSON.stringify(pod.nodeSelector)} does not match the ${node.role} node whose ports are mapped`,
                ),
            );
        if (
            node.role === "control-plane" &&
            want.nodes.length > 1 &&
            !tolerates(pod.tolerations, { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" })
        ) {
            problems.push(
                at(deployment, "spec.template.spec.tolerations: the control-plane taint (node-role.kubernetes.io/control-plane:NoSchedule) is not tolerated"),
            );
        }
    }
    for (const node of want.nodes.filter((n) => !mapped.includes(n))) {
        if (isSubset(pod.nodeSelector, nodeLabels(node)))
            problems.push(
                at(
                    deployment,
                    `spec.template.spec.nodeSelector ${JSON.stringify(pod.nodeSelector)} also matches a ${node.role} node, which has no mapped ports`,
                ),
            );
    }

    const args: string[] = controller.args ?? [];
    if (!args.some((a) => a === "--enable-ssl-passthrough" || a === "--enable-ssl-passthrough=true"))
        problems.push(at(deployment, `${c}.args: no --enable-ssl-passthrough (${args.join(" ")})`));

    const classes = manifests.filter((m) => m.kind === "IngressClass");
    const ours = classes.find((m) => m.metadata.name === want.ingressClass);
    const controllerClass = args.find((a) => a.startsWith("--controller-class="))?.split("=")[1];
    if (!ours)
        problems.push(
            `release ${want.release}: renders no IngressClass ${want.ingressClass} (rendered: ${classes.map((m) => m.metadata.name).join(", ") || "none"})`,
        );
    else {
        if (ours.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"] !== "true")
            problems.push(at(ours, 'metadata.annotations[ingressclass.kubernetes.io/is-default-class] is not "true"'));
        if (ours.spec.controller !== controllerClass)
            problems.push(at(ours, `spec.controller is ${ours.spec.controller}, but the controller runs with --controller-class=${controllerClass}`));
    }
    for (const name of want.ingressClassNames.filter((n) => n !== ours?.metadata.name))
        problems.push(`release ${want.release}: the program's Ingresses use class ${name}, which it does not render`);

    for (const svc of manifests.filter((m) => m.kind === "Service" && m.spec.type === "LoadBalancer"))
        problems.push(at(svc, "spec.type is LoadBalancer, which kind never provisions"));
    return problems;
}

function ingressIntent(d: Deployment): IngressIntent {
    const kind = parse(d.run.one("command:local:Command", "kind-cluster").inputs.stdin);
    return {
        release: d.releases.find((r) => r.chart === "ingress-nginx")!.release,
        nodes: kind.nodes,
        hostPorts: [d.settings.ingressHttpPort, d.settings.ingressHttpsPort],
        ingressClass: INGRESS_CLASS,
        ingressClassNames: d.run.all("kubernetes:networking.k8s.io/v1:Ingress").map((r) => r.inputs.spec.ingressClassName),
    };
}

// ---- no value silently ignored ---------------------------------------------------------------------------------

type Scalar = string | number | boolean | null;
type Path = (string | number)[];

function leaves(value: unknown, at: Path = []): { path: Path; value: Scalar }[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...at, i]));
    if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]));
    return [{ path: at, value: value as Scalar }];
}

function withLeaf(values: Record<string, unknown>, at: Path, leaf: Scalar): Record<string, unknown> {
    const copy = structuredClone(values);
    let node: any = copy;
    for (const key of at.slice(0, -1)) node = node[key];
    node[at[at.length - 1]] = leaf;
    return copy;
}

/** Another value of the same type, valid wherever the original is. */
function changed(v: Scalar): Scalar {
    if (typeof v === "boolean") return !v;
    if (typeof v === "number") return v + 1;
    if (typeof v === "string") return `${v}-changed`;
    return "changed";
}

const dotted = (p: Path) =>
    p
        .map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`))
        .join("")
        .slice(1);

/**
 * Values whose change leaves Helm's output as it was: the chart ignores them. `only` narrows the leaves tried.
 * Texts are compared (Helm's output is deterministic: see the test), so a value that only reaches a comment counts.
 */
async function ignoredValues(r: RegisteredRelease, kubeVersion: string, only: (leaf: string) => boolean = () => true): Promise<string[]> {
    const render = (values: Record<string, unknown>) =>
        renderChartText({ chart: r.chart, release: r.release, namespace: r.namespace, values, version: r.version, kubeVersion });
    const base = await render(r.values);
    const found = await Promise.all(
        leaves(r.values)
            .filter((leaf) => only(dotted(leaf.path)))
            .map(async ({ path: at, value }) => {
                const mutated = changed(value);
                try {
                    if ((await render(withLeaf(r.values, at, mutated))) !== base) return undefined;
                } catch (err) {
                    // A value that makes the templates fail is read by them; one the values schema refuses proves nothing.
                    if (!/schema/i.test((err as Error).message)) return undefined;
                    return `release ${r.release} (${r.resource}): ${dotted(at)}: the chart's values schema refuses the test's change to ${JSON.stringify(mutated)}: pick another change`;
                }
                return `release ${r.release} (${r.resource}): ${dotted(at)} = ${JSON.stringify(value)} is ignored by chart ${r.chart} ${r.version}: changing it to ${JSON.stringify(mutated)} changes no rendered manifest`;
            }),
    );
    return found.filter((x): x is string => x !== undefined);
}

// ---- the suites ------------------------------------------------------------------------------------------------

/** Lint warnings that are the chart's own choices, not ours. */
const LINT_ACCEPTED = [
    // jetstack versions its chart like its releases, with a leading v; Helm accepts it everywhere but warns in lint.
    `cert-manager: [WARNING] Chart.yaml: version '${PINNED_CHARTS["cert-manager"].version}' is not a valid SemVerV2`,
];

describe("charts rendered by Helm, as the program registers them", function () {
    this.timeout(60_000);
    const deployments = {} as Record<Mode, Deployment>;

    before(async function () {
        requireHelm(this, "chart rendering tests");
        for (const mode of MODES) deployments[mode] = await deploy(mode);
    });

    it("renders for the pinned kind node image's Kubernetes version", () => {
        for (const mode of MODES) assert.equal(deployments[mode].kubeVersion, /:(v[\d.]+)@/.exec(KIND_NODE_IMAGE)![1]);
    });

    it("registers the pinned charts from their repositories: ingress-nginx and vault, and cert-manager with TLS", () => {
        for (const mode of MODES) {
            const d = deployments[mode];
            assert.deepEqual(
                d.releases.map((r) => [r.chart, r.repo, r.version, r.release, r.namespace]).sort(),
                (mode === "true" ? (["cert-manager", "ingress-nginx", "vault"] as ChartName[]) : (["ingress-nginx", "vault"] as ChartName[])).map((c) => [
                    c,
                    PINNED_CHARTS[c].repo,
                    PINNED_CHARTS[c].version,
                    c,
                    c === "vault" ? d.settings.vaultNamespace : c === "ingress-nginx" ? d.settings.ingressNginxNamespace : d.settings.certManagerNamespace,
                ]),
            );
        }
        // The cert-manager component lays its typed arguments over helmOptions.values: the program sets none.
        const component = deployments.true.run.one("kubernetes-cert-manager:index:CertManager");
        assert.deepEqual(Object.keys(component.inputs), ["helmOptions"]);
    });

    it("the chart archives are the pinned charts", async () => {
        const helm = helmAvailable() as { helm: string };
        for (const [chart, pin] of Object.entries(PINNED_CHARTS)) {
            const found = findChartArchive(chart as ChartName) as { archive: string };
            const shown = parse(await runHelm(helm.helm, ["show", "chart", found.archive]));
            assert.deepEqual([shown.name, shown.version], [pin.chart, pin.version], found.archive);
        }
    });

    it("helm lint passes every release in both TLS modes, with no warning but cert-manager's own version", async () => {
        const findings: string[] = [];
        await Promise.all(
            MODES.flatMap((mode) =>
                deployments[mode].releases.map(async (r) => {
                    const say = (line: string) => findings.push(`tls ${mode}: release ${r.release}: ${line}`);
                    try {
                        const out = await lintChart({
                            chart: r.chart,
                            release: r.release,
                            namespace: r.namespace,
                            values: r.values,
                            version: r.version,
                            kubeVersion: deployments[mode].kubeVersion,
                        });
                        for (const line of out.split("\n").filter((l) => /^\[(WARNING|ERROR)\]/.test(l))) {
                            if (!LINT_ACCEPTED.includes(`${r.chart}: ${line}`)) say(line);
                        }
                    } catch (err) {
                        say((err as Error).message);
                    }
                }),
            ),
        );
        assert.deepEqual(findings, []);
    });

    for (const mode of MODES) {
        describe(`tls: ${mode}`, () => {
            it("Vault: replicas, anti-affinity, raft on the data volume, listener, TLS files from the Certificate's Secret, probe, environment, NodePort, RBAC, reloader", async () => {
                const d = deployments[mode];
                assert.deepEqual(await vaultProblems(d.rendered.vault, vaultIntent(d)), []);
            });

            it("Vault: the pods start with exactly the program's server configuration, and nothing of the injector is rendered", () => {
                const d = deployments[mode];
                const values = d.releases.find((r) => r.chart === "vault")!.values as any;
                const config = oneManifest(d.rendered.vault, "ConfigMap", "vault-config");
                // The chart trims the trailing newline.
                assert.equal(config.data["extraconfig-from-values.hcl"], values.server.ha.raft.config.trimEnd());
                assert.deepEqual(d.rendered.vault.map((m) => m.kind).sort(), [
                    "ClusterRoleBinding",
                    "ConfigMap",
                    "PodDisruptionBudget",
                    "Role",
                    "RoleBinding",
                    "Service",
                    "Service",
                    "Service",
                    "Service",
                    "Service",
                    "ServiceAccount",
                    "StatefulSet",
                ]);
            });

            it("ingress-nginx: host ports where kind maps them, on the control-plane node, SSL passthrough, the default IngressClass, no LoadBalancer", () => {
                const d = deployments[mode];
                assert.deepEqual(ingressProblems(d.rendered["ingress-nginx"], ingressIntent(d)), []);
            });

            it("VAULT_ADDR reaches the rendered NodePort through kind's port mapping", () => {
                const d = deployments[mode];
                const addr = new URL(String(d.run.outputs.vaultAddr.value));
                assert.equal(addr.protocol, mode === "true" ? "https:" : "http:");
                const mapping = ingressIntent(d)
                    .nodes.flatMap((n) => n.extraPortMappings ?? [])
                    .find((p) => p.hostPort === Number(addr.port));
                const nodePort = manifestsOfKind(d.rendered.vault, "Service").find((m) => m.spec.type === "NodePort")?.spec.ports[0].nodePort;
                assert.equal(
                    mapping?.containerPort,
                    nodePort,
                    `kind maps localhost:${addr.port} to node port ${mapping?.containerPort}; release vault renders NodePort ${nodePort}`,
                );
            });

            it("every Ingress of the program points at a Service port that is rendered or registered", () => {
                const d = deployments[mode];
                const services = [
                    ...Object.values(d.rendered)
                        .flat()
                        .filter((m) => m.kind === "Service"),
                    ...d.run.all("kubernetes:core/v1:Service").map((r) => r.inputs as Manifest),
                ];
                const missing: string[] = [];
                for (const ingress of d.run.all("kubernetes:networking.k8s.io/v1:Ingress")) {
                    for (const p of ingress.inputs.spec.rules.flatMap((rule: any) => rule.http.paths)) {
                        const { name, port } = p.backend.service;
                        const svc = services.find((s) => s.metadata.name === name && s.metadata.namespace === ingress.inputs.metadata.namespace);
                        const ok = svc?.spec.ports.some((sp: any) => (port.number !== undefined ? sp.port === port.number : sp.name === port.name));
                        if (!ok)
                            missing.push(
                                `Ingress ${ingress.inputs.metadata.namespace}/${ingress.inputs.metadata.name}: backend ${name}:${port.number ?? port.name} is not a rendered or registered Service port`,
                            );
                    }
                }
                assert.deepEqual(missing, []);
            });
        });
    }

    it("cert-manager renders its CRDs (crds.enabled) and its webhook", () => {
        const rendered = deployments.true.rendered["cert-manager"];
        assert.deepEqual(
            manifestsOfKind(rendered, "CustomResourceDefinition")
                .map((m) => m.metadata.name)
                .sort(),
            [
                "certificaterequests.cert-manager.io",
                "certificates.cert-manager.io",
                "challenges.acme.cert-manager.io",
                "clusterissuers.cert-manager.io",
                "issuers.cert-manager.io",
                "orders.acme.cert-manager.io",
            ],
        );
        assert.equal(oneManifest(rendered, "Deployment", "cert-manager-webhook").spec.replicas, 1);
        assert.equal(manifestsOfKind(rendered, "ValidatingWebhookConfiguration").length, 1);
    });

    describe("no value is silently ignored", () => {
        it("Helm renders the same values the same way twice (so an unchanged render means an ignored value)", async () => {
            const d = deployments.true;
            await Promise.all(
                d.releases.map(async (r) => {
                    const archive = (findChartArchive(r.chart, r.version) as { archive: string }).archive;
                    const again = await helmTemplate({
                        helm: (helmAvailable() as { helm: string }).helm,
                        archive,
                        release: r.release,
                        namespace: r.namespace,
                        values: r.values,
                        kubeVersion: d.kubeVersion,
                    });
                    assert.equal(again, await renderChartText({ ...r, kubeVersion: d.kubeVersion }), r.release);
                }),
            );
        });

        // The exhaustive sweep (every value of every release, each changed alone) runs in the depth tier; the fast tier
        // keeps the detection itself ("the check finds a value the chart ignores").
        it(`changing any value the program sends to any chart changes what Helm renders, in both TLS modes${DEPTH}`, async () => {
            const ignored = (
                await Promise.all(MODES.flatMap((mode) => deployments[mode].releases.map((r) => ignoredValues(r, deployments[mode].kubeVersion))))
            ).flat();
            assert.deepEqual([...new Set(ignored)], []);
        });

        it("the check finds a value the chart ignores: a misspelled key", async () => {
            const r = deployments.true.releases.find((x) => x.chart === "vault")!;
            const values = r.values as any;
            const misspelled = {
                ...r,
                values: { ...values, server: { ...values.server, ha: { ...values.server.ha, raft: { ...values.server.ha.raft, setNodeID: true } } } },
            };
            // The misspelled key beside the right one, which is read.
            assert.deepEqual(await ignoredValues(misspelled, deployments.true.kubeVersion, (leaf) => leaf.startsWith("server.ha.raft.setNode")), [
                `release vault (vault-release): server.ha.raft.setNodeID = true is ignored by chart vault ${r.version}: changing it to false changes no rendered manifest`,
            ]);
        });
    });

    describe("the checks catch what they exist for", () => {
        const tlsValues = () => vaultHelmValues(parseSettings({}).settings) as any;

        it("a certificate mounted at the wrong path: names the release, the StatefulSet and the listener's files", async () => {
            const values = tlsValues();
            values.server.volumeMounts = [{ ...values.server.volumeMounts[0], mountPath: "/vault/userconfig/tls" }];
            const problems = await vaultProblems(
                await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }),
                vaultIntent(deployments.true),
            );
            const at = "release vault: StatefulSet vault/vault (vault/templates/server-statefulset.yaml): spec.template.spec.containers[vault]";
            assert.ok(
                problems.includes(
                    `${at}.volumeMounts: listener "tcp" tls_cert_file = ${TLS_FILES.cert} is not key tls.crt of Secret ${SERVER_TLS_SECRET} (the program's Certificate): no volume is mounted above it`,
                ),
                problems.join("\n"),
            );
            assert.ok(
                problems.includes(`${at}.env[VAULT_CACERT] is ${TLS_FILES.ca}, not key ca.crt of Secret ${SERVER_TLS_SECRET}: no volume is mounted above it`),
                problems.join("\n"),
            );
        });

        it("a probe on the wrong scheme: the chart's HTTP probe against Vault's TLS listener", async () => {
            const values = tlsValues();
            values.global.tlsDisable = true;
            const problems = await vaultProblems(
                await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }),
                vaultIntent(deployments.true),
            );
            assert.ok(
                problems.includes(
                    "release vault: StatefulSet vault/vault (vault/templates/server-statefulset.yaml): spec.template.spec.containers[vault].readinessProbe.httpGet.scheme is HTTP, expected HTTPS (listener tls_disable = false)",
                ),
                problems.join("\n"),
            );
            assert.ok(
                problems.some((p) => p.includes("env[VAULT_ADDR] is http://127.0.0.1:8200, expected https://127.0.0.1:8200")),
                problems.join("\n"),
            );
        });

        it("raft data off the persistent volume, and a volume size the program did not ask for", async () => {
            const values = tlsValues();
            values.server.dataStorage = { ...values.server.dataStorage, mountPath: "/vault/file", size: "1Gi" };
            const problems = await vaultProblems(
                await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }),
                vaultIntent(deployments.true),
            );
            assert.ok(
                problems.some((p) =>
                    /containers\[vault\]\.volumeMounts: storage "raft" path \/vault\/data \(server configuration\) is not on a persistent volume: no volume is mounted above it$/.test(
                        p,
                    ),
                ),
                problems.join("\n"),
            );
        });

        it("an advertised address built from a variable defined after it, and a name the certificate does not hold", async () => {
            const values = tlsValues();
            values.server.ha.apiAddr = "https://$(HOSTNAME).vault-internal:8200";
            let problems = await vaultProblems(
                await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }),
                vaultIntent(deployments.true),
            );
            assert.ok(
                problems.some((p) =>
                    p.endsWith(
                        "containers[vault].env[VAULT_API_ADDR] refers to $(HOSTNAME), which is not defined before it: Kubernetes leaves the text unexpanded",
                    ),
                ),
                problems.join("\n"),
            );
            values.server.ha.apiAddr = "https://$(POD_IP):8200";
            problems = await vaultProblems(await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }), vaultIntent(deployments.true));
            assert.ok(
                problems.some((p) =>
                    p.endsWith("containers[vault].env[VAULT_API_ADDR] advertises $(POD_IP) for pod vault-0, a name the Certificate does not hold"),
                ),
                problems.join("\n"),
            );
        });

        it("a reloader that reads a file its mounts do not hold", async () => {
            const values = tlsValues();
            values.server.extraContainers[0].command[2] = values.server.extraContainers[0].command[2].replace(TLS_FILES.cert, "/vault/tls/tls.crt");
            const problems = await vaultProblems(
                await renderChart({ chart: "vault", release: "vault", namespace: "vault", values }),
                vaultIntent(deployments.true),
            );
            assert.deepEqual(problems, [
                `release vault: StatefulSet vault/vault (vault/templates/server-statefulset.yaml): spec.template.spec.containers[tls-reloader]: its command reads /vault/tls/tls.crt, not a key of Secret ${SERVER_TLS_SECRET}: no volume is mounted above it`,
            ]);
        });

        it("an ingress controller off the mapped node, without passthrough, behind a LoadBalancer", async () => {
            const d = deployments.true;
            const r = d.releases.find((x) => x.chart === "ingress-nginx")!;
            const values = structuredClone(r.values) as any;
            values.controller.nodeSelector = { "kubernetes.io/os": "linux" };
            values.controller.extraArgs = { "publish-status-address": "localhost" };
            values.controller.service.type = "LoadBalancer";
            values.controller.hostPort.ports.https = 8443;
            const problems = ingressProblems(
                await renderChart({ chart: "ingress-nginx", release: r.release, namespace: r.namespace, values }),
                ingressIntent(d),
            );
            const at = "release ingress-nginx: Deployment ingress-nginx/ingress-nginx-controller (ingress-nginx/templates/controller-deployment.yaml)";
            const workers = ingressIntent(d).nodes.filter((n) => n.role === "worker").length;
            assert.deepEqual(
                problems.map((p) => p.replace(/ \(\/nginx-ingress-controller .*\)$/, " (...)")),
                [
                    `${at}: spec.template.spec.containers[controller].ports: no hostPort 443, where kind maps the host's port 443`,
                    ...Array.from(
                        { length: workers },
                        () => `${at}: spec.template.spec.nodeSelector {"kubernetes.io/os":"linux"} also matches a worker node, which has no mapped ports`,
                    ),
                    `${at}: spec.template.spec.containers[controller].args: no --enable-ssl-passthrough (...)`,
                    "release ingress-nginx: Service ingress-nginx/ingress-nginx-controller (ingress-nginx/templates/controller-service.yaml): spec.type is LoadBalancer, which kind never provisions",
                ],
            );
        });
    });

    describe("the render cache", () => {
        it("renders each values digest once per process", async () => {
            const values = structuredClone(deployments.true.releases.find((r) => r.chart === "vault")!.values);
            const before = helmTemplateCount();
            await renderedVaultStatefulSet(values);
            await renderedVaultStatefulSet(structuredClone(values));
            assert.equal(helmTemplateCount(), before, "the program's own values were rendered already");
            (values as any).server.ha.replicas = 7;
            const [a, b] = await Promise.all([renderedVaultStatefulSet(values), renderedVaultStatefulSet(structuredClone(values))]);
            assert.equal(helmTemplateCount(), before + 1);
            assert.equal(a.spec.replicas, 7);
            assert.equal(a, b);
        });
    });
});

describe("npm run render -- --manifests", function () {
    this.timeout(60_000);

    before(function () {
        requireHelm(this, "render --manifests tests");
    });

    const configs: Record<string, string>[] = [
        { tls: "true", workers: "5", vaultReplicas: "5", uiNodePort: "30001", raftStorageSize: "2Gi" },
        { tls: "false" },
    ];
    for (const config of configs) {
        it(`prints what Helm installs for each release the program registers (${JSON.stringify(config)})`, async () => {
            const settings = parseSettings(config).settings;
            const helm = (helmAvailable() as { helm: string }).helm;
            const text = await renderManifests("test", settings, helm);
            const sections = text.split(/^# ==== release (\S+):.*$/m);
            const printed: Record<string, Manifest[]> = {};
            for (let i = 1; i < sections.length; i += 2) printed[sections[i]] = parseManifests(sections[i + 1]);

            const run = await runProgramOnce(config);
            const kubeVersion = registeredKubeVersion(run);
            const expected: Record<string, Manifest[]> = {};
            for (const r of registeredReleases(run)) expected[r.release] = await renderRegistered(r, kubeVersion);
            assert.deepEqual(Object.keys(printed).sort(), Object.keys(expected).sort());
            for (const release of Object.keys(expected)) assert.equal(digest(printed[release]), digest(expected[release]), release);
            assert.equal(oneManifest(printed.vault, "StatefulSet").spec.replicas, settings.vaultReplicas);
        });
    }

    for (const tls of MODES) {
        it(`with ingress: gateway on kind (tls ${tls}): Envoy Gateway's release as the program registers it, then vault-ha's Gateway API objects, as one YAML stream${tls ? "" : DEPTH}`, async () => {
            const config = { ingress: "gateway", tls };
            const text = await renderManifests("test", parseSettings(config).settings, (helmAvailable() as { helm: string }).helm);
            const [releasesText, gatewayText] = text.split(/^# ==== Gateway API objects vault-ha creates\n/m);
            assert.ok(gatewayText !== undefined, "the Gateway API objects are printed");
            // Texts, not parsed manifests: the chart's CRDs make some 4 MB of YAML.
            const sections = releasesText.split(/^# ==== release (\S+):.*$/m);
            const printed: Record<string, string> = {};
            for (let i = 1; i < sections.length; i += 2) printed[sections[i]] = sections[i + 1].trim();

            const run = await runProgramOnce(config);
            const registered = run.one("kubernetes:helm.sh/v3:Release", "envoy-gateway-release").inputs;
            const chart = pinnedChartOf(registered.chart);
            assert.equal(chart, "gateway-helm");
            const expected = await renderChartText({
                chart: chart!,
                release: registered.name,
                namespace: registered.namespace,
                values: registered.values,
                version: registered.version,
            });
            assert.ok(printed[registered.name] === expected.trim(), "Envoy Gateway's release is printed as Helm renders the registered one");

            // The program registers them in its own order (the routes wait for their namespaces).
            const byKind = (a: { kind: string; metadata: { name: string } }, b: typeof a) =>
                `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
            const objects = run.registrations
                .filter((r) => /^kubernetes:gateway\.(networking\.k8s|envoyproxy)\.io\//.test(r.type))
                .map((r) => ({ apiVersion: r.inputs.apiVersion, kind: r.inputs.kind, metadata: r.inputs.metadata, spec: r.inputs.spec }));
            const shown = parseManifests(gatewayText);
            assert.deepEqual([...shown].sort(byKind), JSON.parse(JSON.stringify(objects)).sort(byKind));
            // Each document opens with ---, as Helm's do: the whole output is one YAML stream.
            assert.equal(gatewayText.match(/^---\n(?=apiVersion: )/gm)?.length, shown.length);
        });
    }

    it("takes --manifests (and --stack) on the command line; without it prints the values as before", async () => {
        let out = "";
        assert.equal(await renderMain(["--manifests", "--stack", "dev"], (t) => (out += t)), 0);
        assert.match(out, /^# vault-ha render --manifests of stack "dev"/);
        assert.ok(oneManifest(parseManifests(out), "StatefulSet", "vault"));
        out = "";
        assert.equal(await renderMain(["--stack", "dev"], (t) => (out += t)), 0);
        assert.match(out, /^# vault-ha render of stack "dev": what `pulumi up` applies/);
    });
});

describe("npm run charts", function () {
    this.timeout(60_000);
    let repo: string;
    let dest: string;
    let server: ReturnType<typeof createServer>;
    let url: string;

    before(async function () {
        const helm = requireHelm(this, "npm run charts tests");
        // A chart repository on the loopback interface, holding the pinned archives.
        repo = mkdtempSync(path.join(os.tmpdir(), "vault-ha-repo-"));
        dest = mkdtempSync(path.join(os.tmpdir(), "vault-ha-charts-"));
        for (const chart of Object.keys(PINNED_CHARTS) as ChartName[]) {
            const { archive } = findChartArchive(chart) as { archive: string };
            cpSync(archive, path.join(repo, path.basename(archive)));
        }
        server = createServer((req, res) => {
            try {
                res.end(readFileSync(path.join(repo, path.basename(req.url ?? ""))));
            } catch {
                res.statusCode = 404;
                res.end();
            }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        await runHelm(helm, ["repo", "index", repo, "--url", url]);
    });

    after(() => {
        server?.close();
        for (const dir of [repo, dest]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    // Every pin from the loopback repository, the OCI one too (its OCI pull: tests/unit/scripts/charts.test.ts).
    const pins = () =>
        Object.fromEntries(Object.entries(PINNED_CHARTS).map(([k, v]) => [k, { chart: v.chart, version: v.version, repo: url }])) as typeof PINNED_CHARTS;

    it("pulls each pinned chart at its version with helm pull, then leaves them be", async () => {
        const helm = (helmAvailable() as { helm: string }).helm;
        const lines: string[] = [];
        const archives = await pullCharts({ helm, dir: dest, charts: pins(), log: (l) => lines.push(l) });
        const files = Object.values(PINNED_CHARTS).map((p) => `${p.chart}-${p.version}.tgz`);
        assert.deepEqual(
            archives,
            files.map((f) => path.join(dest, f)),
        );
        assert.deepEqual(readdirSync(dest).sort(), [...files].sort());
        assert.ok(
            lines.every((l) => l.includes(`pulled from ${url}`)),
            lines.join("\n"),
        );
        lines.length = 0;
        await pullCharts({ helm, dir: dest, charts: pins(), log: (l) => lines.push(l) });
        assert.ok(
            lines.every((l) => l.includes(`already in ${dest}`)),
            lines.join("\n"),
        );
    });

    it("refuses an archive that is not the pinned chart", async () => {
        const helm = (helmAvailable() as { helm: string }).helm;
        const wrong = mkdtempSync(path.join(os.tmpdir(), "vault-ha-wrong-"));
        try {
            cpSync(
                path.join(repo, `ingress-nginx-${PINNED_CHARTS["ingress-nginx"].version}.tgz`),
                path.join(wrong, `vault-${PINNED_CHARTS.vault.version}.tgz`),
            );
            await assert.rejects(
                pullCharts({ helm, dir: wrong, charts: { vault: pins().vault } as typeof PINNED_CHARTS }),
                /holds ingress-nginx 4\.15\.1, not vault 0\.34\.1: delete it and run again/,
            );
        } finally {
            rmSync(wrong, { recursive: true, force: true });
        }
    });
});

describe("finding Helm and the chart archives", () => {
    it("names both places it looked, and npm run charts, when an archive is missing", () => {
        const found = findChartArchive("vault", "0.0.0-missing");
        assert.ok("skip" in found);
        assert.match(
            found.skip,
            /^no chart archive vault-0\.0\.0-missing\.tgz in .*shared\/reference\/charts \(present for developers and CI\) or .*\.cache\/charts \(run `npm run charts`, which needs network\)$/,
        );
    });

    it("reads the Kubernetes version from a kind node image, and refuses an image without one", () => {
        assert.equal(kubeVersionOfNodeImage("kindest/node:v1.35.8@sha256:" + "0".repeat(64)), "v1.35.8");
        assert.throws(() => kubeVersionOfNodeImage("kindest/node:latest"), /cannot read a Kubernetes version from the node image kindest\/node:latest/);
    });
});

describe("the vaultImage setting, rendered by Helm", function () {
    this.timeout(60_000);
    before(function () {
        requireHelm(this, "chart rendering tests");
    });

    it("a version pinned by digest reaches the vault container and the reloader as exactly that reference", async () => {
        const image = `hashicorp/vault:2.0.5@sha256:${"e".repeat(64)}`;
        const sts = await renderedVaultStatefulSet(vaultHelmValues({ ...parseSettings({ vaultImage: image }).settings }));
        const images = Object.fromEntries(sts.spec.template.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]));
        assert.deepEqual(images, { vault: image, "tls-reloader": image });
        assert.equal(sts.spec.updateStrategy.type, "OnDelete", "why the roll step exists: the chart's pods do not follow their template by themselves");
    });
});
