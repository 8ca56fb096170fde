/**
 * npm run render (scripts/render.ts) as a user runs it: the stack file checked the way the program checks its config,
 * a clear message and exit code 1 for every mistake, and plain YAML out.
 */
import { strict as assert } from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { main, render } from "../../../scripts/render";

describe("npm run render: the stack file and the output", () => {
    let dir: string;
    let out: string[];
    let err: string[];
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "vault-ha-render-"));
        out = [];
        err = [];
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const write = (stack: string, text: string) => writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    const run = (...argv: string[]) =>
        main(argv, (text) => void out.push(text), {
            projectDir: dir,
            error: (text) => void err.push(text),
        });

    it("prints plain YAML: no anchors or aliases for values the program repeats", () => {
        const text = render("dev", parseSettings({}).settings);
        assert.doesNotMatch(text, /&a\d+|\*a\d+/);
    });

    it("on an existing cluster: no kind config or ingress-nginx, Vault with the mode's choices, cert-manager marked as the stack's", async () => {
        write("prod", "config:\n  vault-ha:cluster: existing\n  vault-ha:kubeContext: prod-eu\n  vault-ha:tlsExtraNames: [vault.example.com]\n");
        assert.equal(await run("--stack", "prod"), 0, err.join("\n"));
        const text = out.join("");
        assert.doesNotMatch(text, /kind cluster config|ingress-nginx chart/);
        assert.match(text, /antiAffinity auto is decided at up from the nodes \(rendered: required\)/);
        assert.match(text, /serviceType: LoadBalancer/);
        assert.match(text, /cpu: 250m/);
        assert.match(text, /vault-ha\.dev\/owner: vault-ha\.prod/);
        assert.match(text, /- vault\.example\.com/);
        // kind keeps what it rendered before: no owner label, a NodePort.
        const kind = render("dev", parseSettings({}).settings);
        assert.match(kind, /kind cluster config/);
        assert.doesNotMatch(kind, /vault-ha\.dev\/owner/);
        assert.match(kind, /serviceType: NodePort/);
    });

    it("on an existing cluster, the CA chain `up` creates: Issuers in Vault's namespace, never ClusterIssuers", () => {
        const text = render("prod", parseSettings({ cluster: "existing", kubeContext: "prod-eu", ingress: "existing", vaultNamespace: "team-vault" }).settings);
        const chain = text.split("# ==== cert-manager CA chain")[1];
        assert.ok(chain !== undefined, "the CA chain is rendered");
        assert.doesNotMatch(chain, /kind: ClusterIssuer/);
        assert.equal(chain.match(/kind: Issuer\n\s*metadata:\n\s*name: \S+\n\s*namespace: team-vault/g)?.length, 2, chain);
        assert.doesNotMatch(text, /ingress-nginx chart/, "an ingress class the cluster has: nothing installed");
        assert.match(render("dev", parseSettings({}).settings), /kind: ClusterIssuer/);
    });

    describe("ingress: gateway", () => {
        const titles = (text: string) => [...text.matchAll(/^# ==== (.*)$/gm)].map((m) => m[1]);
        const gatewayKinds = (text: string) =>
            [...(text.split(/^# ==== Gateway API objects.*$/m)[1]?.split(/^# ==== /m)[0] ?? "").matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);

        for (const tls of ["true", "false"]) {
            it(`on kind (tls ${tls}): Envoy Gateway's chart values, then vault-ha's EnvoyProxy, GatewayClass, Gateway and routes; no ingress-nginx`, () => {
                const text = render("dev", parseSettings({ ingress: "gateway", tls }).settings);
                const shown = titles(text);
                assert.ok(shown.includes("gateway-helm chart v1.9.0 values (oci://docker.io/envoyproxy/gateway-helm)"), shown.join("\n"));
                assert.ok(shown.includes("Gateway API objects vault-ha creates"), shown.join("\n"));
                assert.ok(!shown.some((t) => t.startsWith("ingress-nginx chart")));
                assert.deepEqual(gatewayKinds(text), ["EnvoyProxy", "GatewayClass", "Gateway", tls === "true" ? "TLSRoute" : "HTTPRoute", "HTTPRoute"]);
            });

            it(`on an existing cluster (tls ${tls}): only the routes, on the Gateway the settings name, and no chart of it`, () => {
                const settings = parseSettings({
                    cluster: "existing",
                    kubeContext: "prod-eu",
                    ingress: "gateway",
                    tls,
                    gatewayName: "public",
                    gatewayNamespace: "gateways",
                });
                const text = render("prod", settings.settings);
                const shown = titles(text);
                assert.ok(
                    shown.includes("Gateway API objects vault-ha creates (on the cluster's Gateway gateways/public, which the preview checks)"),
                    shown.join("\n"),
                );
                assert.ok(!shown.some((t) => t.startsWith("gateway-helm chart")));
                assert.deepEqual(gatewayKinds(text), [tls === "true" ? "TLSRoute" : "HTTPRoute", "HTTPRoute"]);
                assert.match(text, /parentRefs:\n\s+- name: public\n\s+namespace: gateways\n/);
            });
        }

        it("with another front door: no Gateway section", () => {
            assert.ok(!titles(render("dev", parseSettings({}).settings)).some((t) => /gateway/i.test(t)));
        });
    });

    it("refuses unseal keys stored in plain text, as the program does, without printing them", async () => {
        write("dev", "config:\n  vault-ha:unsealKeys: notjson\n  vault-ha:rootToken: hvs.PLAIN\n");
        assert.equal(await run(), 1);
        assert.deepEqual(out, []);
        const message = err.join("\n");
        assert.match(
            message,
            /vault-ha:unsealKeys is stored in plain text\. Fix: type the keys as a JSON list, .* when asked: npm run config -- set --secret vault-ha:unsealKeys$/m,
        );
        assert.match(
            message,
            /vault-ha:rootToken is stored in plain text\. Fix: type the root token when asked: npm run config -- set --secret vault-ha:rootToken$/m,
        );
        assert.ok(!message.includes("notjson") && !message.includes("hvs.PLAIN"), "a secret value is repeated");
    });

    it("reports invalid YAML with file, line, column and problem, not a parser stack", async () => {
        write("dev", "config:\n  vault-ha:workers: 3\n  vault-ha:tls: true: false\n");
        assert.equal(await run(), 1);
        const message = err.join("\n");
        assert.match(message, /Pulumi\.dev\.yaml:3:17: Nested mappings are not allowed in compact mappings/);
        assert.doesNotMatch(message, /YAMLParseError|\n\s+at /);
    });

    it("refuses a stack name that is a typo of one with a file, instead of rendering the defaults under it", async () => {
        write("dev", "config: {}\n");
        write("prod", "config: {}\n");
        assert.equal(await run("--stack", "prdo"), 1);
        assert.deepEqual(out, []);
        assert.match(err.join("\n"), /Pulumi\.prdo\.yaml does not exist .*did you mean prod\?/);
    });

    it("renders the defaults of a new stack without a file, saying so", async () => {
        write("dev", "config: {}\n");
        assert.equal(await run("--stack", "staging"), 0);
        assert.match(out.join(""), /^# vault-ha render of stack "staging"/);
        assert.match(err.join("\n"), /^warning: Pulumi\.staging\.yaml does not exist .* every setting is its default/);
    });

    it("names the stack in the fixes (--stack=NAME read too)", async () => {
        write("prod", "config:\n  vault-ha:workers: 2\n");
        assert.equal(await run("--stack=prod"), 1);
        assert.match(err.join("\n"), /Fix: (PULUMI_STACK=prod npm run config -- set|npm run config -- set --stack prod) vault-ha:workers 3/);
    });

    it("renders a good stack and prints its warnings apart", async () => {
        write("prod", "config:\n  vault-ha:vaultReplicas: 2\n");
        assert.equal(await run("--stack", "prod"), 0);
        assert.match(out.join(""), /^# vault-ha render of stack "prod"/);
        assert.deepEqual(
            err.map((e) => e.split(":")[0]),
            ["warning"],
        );
    });
});
