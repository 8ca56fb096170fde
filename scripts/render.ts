/**
 * npm run render [-- --stack NAME]: prints what `pulumi up` would apply for a stack (kind config, chart values, Vault
 * server HCL), using the same functions as the program. Needs neither a cluster nor the Pulumi CLI.
 *
 * npm run render -- --manifests [--stack NAME]: prints instead every manifest Helm installs for each release, rendered
 * by Helm from the pinned chart archives (see scripts/charts.ts), to diff a setting or a version bump before `up`.
 *
 * npm run render -- --help: the flags (RENDER_ARGS); any other flag is refused with exit code 2.
 */
import { stringify as yamlStringify } from "yaml";
import { kindConfigYaml, ownerLabelValue } from "../components/kind/kindConfig";
import { ConfigError, PROJECT, Settings } from "../components/config/settings";
import { readStackSettings, stackName } from "../components/config/stackFile";
import { caChainManifests, vaultCertificateSans } from "../components/tls/tlsConfig";
import { UNSEALER_NAMES, unsealerDeployment, unsealerServiceAccount } from "../components/unsealer/unsealerManifests";
import { PlannedRelease, plannedGatewayObjects, renderAssumptions, StackPlan, stackPlan } from "../components/stackPlan";
import { VAULT_RELEASE_NAME } from "../components/vault/names";
import { autoSealServer, vaultServerHcl } from "../components/vault/vaultValues";
import { isAutoSealPlan } from "../components/seal/sealPlan";
import { KIND_RELEASE } from "../components/config/versions";
import { CommandSpec, flagValue, ParsedArgs, runWithArgs } from "./args";
import { chartSource, findChartArchive, findHelm, helmTemplate, kubeVersionOfNodeImage, PINNED_CHARTS } from "./charts";

export type { PlannedRelease } from "../components/stackPlan";

/** Plain YAML: a value the program uses twice (a volume mount, for one) is printed twice, not as an anchor and alias. */
const stringify = (value: unknown): string => yamlStringify(value, { aliasDuplicateObjects: false });

/**
 * The program's plan of the stack (components/stackPlan.ts), the one index.ts wires. On an existing cluster the
 * choices `up` makes from the live cluster are renderAssumptions', which decidedAtUp names in the output.
 */
export function renderPlan(stack: string, settings: Settings): StackPlan {
    return stackPlan(settings, ownerLabelValue(PROJECT, stack), settings.cluster === "kind" ? undefined : renderAssumptions(settings));
}

/**
 * On an existing cluster some choices are made at `up` from what the cluster reports (antiAffinity auto, whether
 * cert-manager is installed): the render shows the install with the chart's required rule, and says so.
 */
function decidedAtUp(settings: Settings): string {
    if (settings.cluster === "kind") return "";
    const open = [
        ...(settings.antiAffinity === "auto" ? ["antiAffinity auto is decided at up from the nodes (rendered: required)"] : []),
        ...(settings.tls && settings.certManager === "auto" ? ["certManager auto is decided at up (rendered: installed)"] : []),
    ];
    return open.length > 0 ? `# On cluster: existing, ${open.join("; ")}.\n` : "";
}

export function render(stack: string, settings: Settings): string {
    const section = (title: string, body: string) => `# ==== ${title}\n${body.endsWith("\n") ? body : body + "\n"}`;
    const plan = renderPlan(stack, settings);
    const release = (r: PlannedRelease) => section(`${r.chart} chart ${r.version} values (${chartSource(PINNED_CHARTS[r.chart])})`, stringify(r.values));
    const chartOf = (chart: PlannedRelease["chart"]) => plan.releases.filter((r) => r.chart === chart).map(release);
    return [
        `# vault-ha render of stack "${stack}": what \`pulumi up\` applies. Secrets are never rendered.\n${decidedAtUp(settings)}`,
        ...(plan.cluster === "kind" ? [section(`kind cluster config (kind ${KIND_RELEASE}; image ${settings.kindNodeImage})`, kindConfigYaml(settings))] : []),
        ...chartOf("ingress-nginx"),
        ...chartOf("gateway-helm"),
        ...gatewaySection(plan, section),
        ...chartOf("vault"),
        section(
            "Vault server configuration (server.ha.raft.config)",
            vaultServerHcl(
                plan.vault.tls,
                autoSealServer(plan.vault.seal, plan.vault.replicas),
                plan.vault.telemetry ? { unauthenticated: plan.vault.monitoring !== undefined } : undefined,
            ),
        ),
        ...sealSection(plan, section),
        ...chartOf("cert-manager"),
        ...caChainSection(plan, section),
        ...unsealerSection(plan, section),
    ].join("\n");
}

export const GATEWAY_SECTION = "Gateway API objects vault-ha creates";

/**
 * The Gateway front door's objects (components/stackPlan.ts plannedGatewayObjects): on kind vault-ha's EnvoyProxy,
 * GatewayClass and Gateway, and on both cluster modes the routes; on an existing cluster they attach to its Gateway.
 */
function gatewaySection(plan: StackPlan, section: (title: string, body: string) => string, stream = false): string[] {
    const objects = plannedGatewayObjects(plan);
    if (objects.length === 0 || plan.ingress?.source !== "gateway") return [];
    const { gateway } = plan.ingress;
    const whose = gateway.install ? "" : ` (on the cluster's Gateway ${gateway.namespace}/${gateway.name}, which the preview checks)`;
    // In --manifests every document opens with ---, as Helm's do, so that the whole output is one YAML stream.
    const body = stream ? objects.map((o) => `---\n${stringify(o)}`).join("") : objects.map(stringify).join("---\n");
    return [section(`${GATEWAY_SECTION}${whose}`, body)];
}

/** cert-manager's CA chain and Vault's certificate, as VaultTls creates them from the plan. */
function caChainSection(plan: StackPlan, section: (title: string, body: string) => string): string[] {
    if (!plan.vaultTls || !plan.certManager) return [];
    const sans = vaultCertificateSans({
        release: VAULT_RELEASE_NAME,
        namespace: plan.vaultNamespace.name,
        replicas: plan.vaultTls.replicas,
        ingressHost: plan.vaultTls.ingressHost,
        extraNames: plan.vaultTls.tlsExtraNames,
    });
    const chain = caChainManifests({
        certManagerNamespace: plan.certManager.namespace,
        vaultNamespace: plan.vaultNamespace.name,
        sans,
        issuerScope: plan.vaultTls.issuerScope,
    });
    return [
        section(
            "cert-manager CA chain and Vault's server certificate",
            [chain.selfSignedIssuer, chain.caCertificate, chain.caIssuer, chain.serverCertificate].map(stringify).join("---\n"),
        ),
    ];
}

/** autoUnseal in-cluster: the unsealer's objects as InClusterUnsealer creates them (its keys Secret is not shown). */
function unsealerSection(plan: StackPlan, section: (title: string, body: string) => string): string[] {
    if (!plan.unsealer) return [];
    const namespace = plan.vaultNamespace.name;
    return [
        section(
            `in-cluster unsealer (and Secret ${namespace}/${UNSEALER_NAMES.keysSecret}, not shown: ${plan.unsealer.keyThreshold} unseal keys)`,
            [unsealerServiceAccount(namespace), unsealerDeployment(plan.unsealer, namespace)].map(stringify).join("---\n"),
        ),
    ];
}

/** An auto seal: what it asks and through which identity, and the seal's Secret (its token never shown). */
function sealSection(plan: StackPlan, section: (title: string, body: string) => string): string[] {
    if (!isAutoSealPlan(plan.seal)) return [];
    const seal = plan.seal;
    const secret = seal.secret
        ? [
              `Secret ${plan.vaultNamespace.name}/${seal.secret.name}, created before the release: ${seal.secret.tokenKey} (vault-ha:sealTransitToken, not shown)` +
                  (seal.secret.caCert ? `, ${seal.secret.caCert.key} (sealTransitCaCert)` : ""),
          ]
        : [];
    return [section(`seal ${seal.type}`, [`Vault opens itself with the ${seal.describe}.`, ...secret].map((line) => `# ${line}`).join("\n"))];
}

/** Helm or a chart archive is missing: a one-line message, not a stack trace. */
class CannotRender extends Error {}

/** Every Helm release of the stack as the program installs it: the plan's, with the same values as the components. */
export function plannedReleases(settings: Settings, stack = "dev"): PlannedRelease[] {
    return renderPlan(stack, settings).releases;
}

/**
 * Every manifest Helm installs for the stack, release by release, as `helm template` prints it; then the Gateway API
 * objects the program itself creates (no chart renders them).
 */
export async function renderManifests(stack: string, settings: Settings, helm: string): Promise<string> {
    const kubeVersion = kubeVersionOfNodeImage(settings.kindNodeImage);
    const plan = renderPlan(stack, settings);
    const releases = await Promise.all(
        plan.releases.map(async (r) => {
            const found = findChartArchive(r.chart, r.version);
            if ("skip" in found) throw new CannotRender(`npm run render -- --manifests: ${found.skip}`);
            const text = await helmTemplate({ helm, archive: found.archive, release: r.release, namespace: r.namespace, values: r.values, kubeVersion });
            return `# ==== release ${r.release}: chart ${r.chart} ${r.version}, namespace ${r.namespace}\n${text.endsWith("\n") ? text : text + "\n"}`;
        }),
    );
    const section = (title: string, body: string) => `# ==== ${title}\n${body.endsWith("\n") ? body : body + "\n"}`;
    return [
        `# vault-ha render --manifests of stack "${stack}": what Helm installs for each release (Kubernetes ${kubeVersion}).\n`,
        ...releases,
        ...gatewaySection(plan, section, true),
    ].join("\n");
}

/** The arguments of `npm run render`: strict, so that a mistyped flag is refused instead of rendering something else. */
export const RENDER_ARGS: CommandSpec = {
    command: "npm run render",
    summary: "Prints what `npm run up` would apply for a stack (kind config, chart values, Vault's HCL), without a cluster or the Pulumi CLI.",
    flags: [
        { name: "stack", short: "s", value: "NAME", help: "the stack whose Pulumi.<NAME>.yaml is rendered (default: $PULUMI_STACK, else dev)" },
        { name: "manifests", help: "print every manifest Helm installs for each release instead (needs Helm and the chart archives: npm run charts)" },
    ],
};

export interface MainOptions {
    /** Where Pulumi.<stack>.yaml is: the project's root unless a test says otherwise. */
    projectDir?: string;
    /** Where messages go: stderr unless a test says otherwise. */
    error?: (text: string) => void;
}

export async function main(argv: string[], write: (text: string) => void, options: MainOptions = {}): Promise<number> {
    const error = options.error ?? ((text: string) => console.error(text));
    return runWithArgs(argv, RENDER_ARGS, (args) => renderStack(args, write, error, options.projectDir), { out: write, error });
}

async function renderStack(args: ParsedArgs, write: (text: string) => void, error: (text: string) => void, projectDir?: string): Promise<number> {
    try {
        const stack = flagValue(args, "stack") ?? stackName([]);
        const { settings, warnings } = readStackSettings(stack, projectDir);
        for (const warning of warnings) error(`warning: ${warning}`);
        if (!args.flags.manifests) {
            write(render(stack, settings));
            return 0;
        }
        const helm = findHelm();
        if ("skip" in helm) throw new CannotRender(`npm run render -- --manifests: ${helm.skip}`);
        write(await renderManifests(stack, settings, helm.helm));
        return 0;
    } catch (err) {
        if (!(err instanceof ConfigError || err instanceof CannotRender)) throw err;
        error(err.message);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), (text) => process.stdout.write(text)).then((code) => {
        process.exitCode = code;
    });
}
