/**
 * KvProof: the blog's section 2, as a check that fails the update when it does not hold. Through VAULT_ADDR, with
 * TLS verified against the cluster CA, it enables kv-v2 at <kvMount>, writes <kvMount>/logins/study
 * (username=demo, a generated password) and reads it back.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Logging, stepResource } from "../stepCommand/stepResource";
import { inCluster } from "../inCluster";

export const KV_PATH = "logins/study";
export const KV_USERNAME = "demo";

export interface KvProofArgs {
    vaultAddr: pulumi.Input<string>;
    /** The CA to verify Vault with; undefined for plain HTTP. */
    caCert: pulumi.Input<string | undefined>;
    rootToken: pulumi.Input<string>;
    mount: pulumi.Input<string>;
    /** The certificate name to verify against when vaultAddr's host is not one of them (a load balancer's IP). */
    tlsServerName?: pulumi.Input<string | undefined>;
    /** With a ClusterIP Vault: the Service the proof opens its own `kubectl port-forward` to (then closes). */
    portForward?: pulumi.Input<PortForward | undefined>;
    /** The kubeconfig (secret) for that port-forward; only sent to the step when there is one. */
    kubeconfig?: pulumi.Input<string>;
    /** How long Vault may take to answer at vaultAddr (300 s when absent). */
    timeoutSeconds?: number;
}

export interface PortForward {
    namespace: string;
    service: string;
    port: number;
}

export class KvProof extends pulumi.ComponentResource {
    /** Where the secret was written, e.g. mysecret/logins/study. */
    public readonly path: pulumi.Output<string>;

    constructor(name: string, args: KvProofArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:KvProof", name, {}, opts);

        const password = new random.RandomPassword(`${name}-password`, { length: 24, special: false }, { parent: this });

        const proof = stepResource(
            `${name}-roundtrip`,
            {
                step: "kv-proof",
                params: pulumi
                    .all([args.vaultAddr, args.mount, args.tlsServerName, args.portForward])
                    .apply(([vaultAddr, kvMount, tlsServerName, forward]) => ({
                        vaultAddr,
                        kvMount,
                        kvPath: KV_PATH,
                        kvUsername: KV_USERNAME,
                        timeoutSeconds: args.timeoutSeconds ?? 300,
                        // Absent on kind's NodePort: the step's environment is then the one existing states hold.
                        ...(tlsServerName ? { tlsServerName } : {}),
                        ...(forward ? { portForwardNamespace: forward.namespace, portForwardService: forward.service, portForwardPort: forward.port } : {}),
                    })),
                // Token and password on stdin: never an argument or an environment variable. The kubeconfig only
                // where the step opens a port-forward: stdin is in the state, and unchanged stdin re-runs nothing.
                // (Keys in the order existing states hold them: the same stdin re-runs nothing.)
                secrets: pulumi
                    .all([args.rootToken, password.result, args.caCert, args.portForward, args.kubeconfig])
                    .apply(([rootToken, pass, caCert, forward, kubeconfig]) => ({
                        rootToken,
                        password: pass,
                        caCert,
                        ...(forward && kubeconfig ? { kubeconfig } : {}),
                    })),
                logging: Logging.StdoutAndStderr,
            },
            inCluster(this, opts),
        );

        this.path = proof.stdout.apply((out) => (JSON.parse(out) as { path: string }).path);
        this.registerOutputs({ path: this.path });
    }
}
