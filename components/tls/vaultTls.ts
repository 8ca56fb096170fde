/**
 * VaultTls: the CA chain in cert-manager (self-signed issuer -> CA -> CA issuer) and Vault's server certificate, in
 * the secret the Vault pods mount. Outputs the CA certificate that clients verify Vault with.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { stepCommand, stepEnvironment } from "../stepCommand/contract";
import { Logging, projectDir, stepResource, stepStdin } from "../stepCommand/stepResource";
import { inCluster } from "../inCluster";
import { CA_NAMES, CaChain, caChainManifests, IssuerScope, Manifest, Sans, SERVER_TLS_SECRET, TLS_FILES, vaultCertificateSans } from "./tlsConfig";
import { VAULT_RELEASE_NAME } from "../vault/names";

export interface VaultTlsArgs {
    certManagerNamespace: pulumi.Input<string>;
    /** Pass VaultNamespace.name (an Output, not a string): the server certificate lives there and must wait for it. */
    vaultNamespace: pulumi.Input<string>;
    replicas: number;
    ingressHost: string;
    /**
     * More names for Vault's certificate (the tlsExtraNames setting): DNS names, IPv4 and IPv6 addresses. None when
     * absent or empty, and then the certificate is exactly the one of before (no re-issue on upgrade).
     */
    tlsExtraNames?: readonly string[];
    /** Admin kubeconfig (secret), to read the CA certificate. */
    kubeconfig: pulumi.Input<string>;
    /** ClusterIssuers (kind) or Issuers in Vault's namespace (a cluster vault-ha does not own): tlsConfig.ts. */
    issuerScope: IssuerScope;
    /** cert-manager's webhook gate (CertManager.webhookReady): nothing here is created before it passed. */
    certManagerReady: pulumi.Resource;
}

/** Pulumi waits for a resource with this annotation until the condition holds (cert-manager sets Ready). */
const WAIT_READY = { "pulumi.com/waitFor": "condition=Ready" };

export class VaultTls extends pulumi.ComponentResource {
    /** Ready once cert-manager has written the server certificate to its secret: the Vault release depends on it. */
    public readonly serverCertificate: k8s.apiextensions.CustomResource;
    /** PEM of the CA that signed Vault's certificate (public). */
    public readonly caCert: pulumi.Output<string>;
    /** Where the Vault pods find that CA (the chart mounts the certificate's secret there): joins verify with it. */
    public readonly podCaFile = TLS_FILES.ca;
    /**
     * The names the server certificate holds: with certificateCovers (tlsConfig.ts), whether a client reaching Vault
     * at an address (a load balancer's) needs VAULT_TLS_SERVER_NAME.
     */
    public readonly sans: pulumi.Output<Sans>;

    constructor(name: string, args: VaultTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:tls:VaultTls", name, {}, opts);

        const issuerScope = args.issuerScope;
        // The namespaces come from resources (so the objects wait for them); the rest are settings.
        this.sans = pulumi.output(args.vaultNamespace).apply((namespace) =>
            vaultCertificateSans({
                release: VAULT_RELEASE_NAME,
                namespace,
                replicas: args.replicas,
                ingressHost: args.ingressHost,
                extraNames: args.tlsExtraNames,
            }),
        );
        const chain: pulumi.Output<CaChain> = pulumi
            .all([args.certManagerNamespace, args.vaultNamespace, this.sans])
            .apply(([certManagerNamespace, vaultNamespace, sans]) => caChainManifests({ certManagerNamespace, vaultNamespace, sans, issuerScope }));
        // apiVersion and kind must be known when the program runs; they never depend on settings.
        const resource = (
            id: string,
            kind: "ClusterIssuer" | "Issuer" | "Certificate",
            pick: (c: CaChain) => Manifest,
            waitReady: boolean,
            after: pulumi.Resource[],
        ) => {
            const manifest = chain.apply((c) => pick(c) as pulumi.Unwrap<Manifest>);
            return new k8s.apiextensions.CustomResource(
                `${name}-${id}`,
                {
                    apiVersion: "cert-manager.io/v1",
                    kind,
                    metadata: manifest.metadata.apply((m) => ({ ...m, annotations: waitReady ? WAIT_READY : undefined })),
                    spec: manifest.spec,
                },
                inCluster(this, opts, { dependsOn: [...after] }),
            );
        };

        // On a cluster vault-ha does not own, `pulumi destroy` also removes the secrets cert-manager wrote for these
        // certificates (it keeps them otherwise: runner/handlers/deleteSecrets.ts). A Command with only a delete: the
        // chain depends on it, so it runs after every Certificate is gone. On kind the cluster takes them along.
        const cleanup =
            issuerScope === "namespace"
                ? new command.local.Command(
                      `${name}-secrets-cleanup`,
                      {
                          delete: stepCommand("delete-secrets"),
                          environment: pulumi.output(args.vaultNamespace).apply((namespace) =>
                              stepEnvironment("delete-secrets", {
                                  namespace,
                                  secretNames: [CA_NAMES.caSecret, SERVER_TLS_SECRET].join(","),
                                  timeoutSeconds: 120,
                              }),
                          ),
                          stdin: stepStdin({ kubeconfig: args.kubeconfig }),
                          dir: projectDir(),
                          addPreviousOutputInEnv: false,
                          logging: Logging.StdoutAndStderr,
                      },
                      inCluster(this, opts),
                  )
                : undefined;

        const issuerKind = issuerScope === "namespace" ? "Issuer" : "ClusterIssuer";
        const selfSigned = resource("selfsigned-issuer", issuerKind, (c) => c.selfSignedIssuer, false, [args.certManagerReady, ...(cleanup ? [cleanup] : [])]);
        const ca = resource("ca-certificate", "Certificate", (c) => c.caCertificate, true, [selfSigned]);
        const caIssuer = resource("ca-issuer", issuerKind, (c) => c.caIssuer, false, [ca]);
        this.serverCertificate = resource("server-certificate", "Certificate", (c) => c.serverCertificate, true, [caIssuer]);

        // Read through kubectl rather than Secret.get: only the public CA certificate enters the state, never the
        // secret's private key.
        const readCa = stepResource(
            `${name}-read-ca`,
            {
                step: "read-ca",
                params: pulumi.output(args.vaultNamespace).apply((namespace) => ({ namespace, tlsSecret: SERVER_TLS_SECRET, timeoutSeconds: 300 })),
                secrets: { kubeconfig: args.kubeconfig },
                logging: Logging.Stderr,
            },
            inCluster(this, opts, { dependsOn: [this.serverCertificate] }),
        );
        this.caCert = readCa.stdout.apply((out) => (JSON.parse(out) as { caCert: string }).caCert);

        this.registerOutputs({ caCert: this.caCert });
    }
}
