/**
 * KvProof: the blog's section 2, as a check that fails the update when it does not hold. Through VAULT_ADDR, with
 * TLS verified against the cluster CA, it enables kv-v2 at <kvMount>, writes <kvMount>/logins/study
 * (username=demo, a generated password) and reads it back.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { kvProofEnvironment, stepCommand } from "./bootstrap/commandSpec";
import { projectDir } from "./vaultBootstrap";

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
    /** The generated password stored there (secret). */
    public readonly password: pulumi.Output<string>;

    constructor(name: string, args: KvProofArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:KvProof", name, {}, opts);

        const password = new random.RandomPassword(`${name}-password`, { length: 24, special: false }, { parent: this });

        const proof = new command.local.Command(
            `${name}-roundtrip`,
            {
                create: stepCommand("kv-proof"),
                environment: pulumi.all([args.vaultAddr, args.mount]).apply(([vaultAddr, mount]) =>
                    kvProofEnvironment({ vaultAddr, mount, path: KV_PATH, username: KV_USERNAME, timeoutSeconds: 300 }),
                ),
                // Token and password on stdin: never an argument or an environment variable.
                stdin: pulumi.secret(
                    pulumi.all([args.rootToken, password.result, args.caCert]).apply(([rootToken, pw, caCert]) => JSON.stringify({ rootToken, password: pw, caCert })),
                ),
                dir: projectDir(),
                addPreviousOutputInEnv: false,
                logging: command.types.enums.local.Logging.StdoutAndStderr,
            },
            { parent: this, deletedWith: opts?.deletedWith, dependsOn: opts?.dependsOn, customTimeouts: { create: "10m", update: "10m" } },
        );

        this.path = proof.stdout.apply((out) => (JSON.parse(out) as { path: string }).path);
        this.password = pulumi.secret(password.result);
        this.registerOutputs({ path: this.path });
    }
}
