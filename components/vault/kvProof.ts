/**
 * KvProof: the blog's section 2, as a check that fails the update when it does not hold. Through VAULT_ADDR, with
 * TLS verified against the cluster CA, it enables kv-v2 at <kvMount>, writes <kvMount>/logins/study
 * (username=demo, a generated password) and reads it back.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Logging, stepResource } from "../steps/stepResource";
import { inCluster } from "../inCluster";

export const KV_PATH = "logins/study";
export const KV_USERNAME = "demo";

export interface KvProofArgs {
    vaultAddr: pulumi.Input<string>;
    /** The CA to verify Vault with; undefined for plain HTTP. */
    caCert: pulumi.Input<string | undefined>;
    rootToken: pulumi.Input<string>;
    mount: pulumi.Input<string>;
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
                    .all([args.vaultAddr, args.mount])
                    .apply(([vaultAddr, kvMount]) => ({ vaultAddr, kvMount, kvPath: KV_PATH, kvUsername: KV_USERNAME, timeoutSeconds: 300 })),
                // Token and password on stdin: never an argument or an environment variable.
                secrets: { rootToken: args.rootToken, password: password.result, caCert: args.caCert },
                logging: Logging.StdoutAndStderr,
            },
            inCluster(this, opts),
        );

        this.path = proof.stdout.apply((out) => (JSON.parse(out) as { path: string }).path);
        this.registerOutputs({ path: this.path });
    }
}
