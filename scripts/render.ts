/**
 * npm run render [-- --stack NAME]: prints what `pulumi up` would apply for a stack (kind config, chart values, Vault
 * server HCL), using the same functions as the program. Needs neither a cluster nor the Pulumi CLI.
 */
import { stringify } from "yaml";
import { ingressNginxValues } from "../components/ingressNginxValues";
import { kindConfigYaml } from "../components/kindConfig";
import { ConfigError, Settings } from "../components/settings";
import { readStackSettings, stackName } from "../components/stackFile";
import { caChainManifests, certManagerValues, vaultCertificateSans } from "../components/tlsConfig";
import { VAULT_RELEASE_NAME, vaultHelmValues, vaultServerHcl } from "../components/vaultValues";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART, KIND_RELEASE, VAULT_CHART } from "../components/versions";

export function render(stack: string, settings: Settings): string {
    const section = (title: string, body: string) => `# ==== ${title}\n${body.endsWith("\n") ? body : body + "\n"}`;
    return [
        `# vault-ha render of stack "${stack}": what \`pulumi up\` applies. Secrets are never rendered.\n`,
        section(`kind cluster config (kind ${KIND_RELEASE}; image ${settings.kindNodeImage})`, kindConfigYaml(settings)),
        section(`ingress-nginx chart ${settings.ingressNginxChartVersion} values (${INGRESS_NGINX_CHART.repo})`, stringify(ingressNginxValues())),
        section(`vault chart ${settings.vaultChartVersion} values (${VAULT_CHART.repo})`, stringify(vaultHelmValues(settings))),
        section("Vault server configuration (server.ha.raft.config)", vaultServerHcl(settings.tls)),
        ...(settings.tls ? tlsSections(settings, section) : []),
    ].join("\n");
}

function tlsSections(settings: Settings, section: (title: string, body: string) => string): string[] {
    const sans = vaultCertificateSans({ release: VAULT_RELEASE_NAME, namespace: settings.vaultNamespace, replicas: settings.vaultReplicas, ingressHost: settings.ingressHost });
    const chain = caChainManifests({ certManagerNamespace: settings.certManagerNamespace, vaultNamespace: settings.vaultNamespace, sans });
    return [
        section(`cert-manager chart ${settings.certManagerChartVersion} values (${CERT_MANAGER_CHART.repo})`, stringify(certManagerValues())),
        section("cert-manager CA chain and Vault's server certificate", [chain.selfSignedIssuer, chain.caCertificate, chain.caIssuer, chain.serverCertificate].map((m) => stringify(m)).join("---\n")),
    ];
}

if (require.main === module) {
    const stack = stackName();
    try {
        const { settings, warnings } = readStackSettings(stack);
        for (const warning of warnings) console.error(`warning: ${warning}`);
        process.stdout.write(render(stack, settings));
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(1);
    }
}
