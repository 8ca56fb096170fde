/**
 * Issue 13, the configuration part: `cluster: kind | existing` and the settings whose meaning depends on it. The mode
 * defaults ("auto") resolve to the lab's choices on kind and to a real cluster's elsewhere; a setting the mode cannot
 * honour is refused with a fix, before anything is created.
 */
import { strict as assert } from "assert";
import { ingressMode, vaultChartOptions, vaultResources, vaultServiceType, whoamiEnabled } from "../../../components/config/clusterModes";
import { DEFAULTS, parseConfig, parseSettings, ConfigEntry } from "../../../components/config/settings";
import { assertFixChangesSomething, rejectionOf } from "./problems";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };

describe("cluster modes", () => {
    describe("what auto means", () => {
        it("on kind: the lab as before (NodePort, ingress-nginx, no pod resources)", () => {
            const { settings } = parseSettings({});
            assert.equal(settings.cluster, "kind");
            assert.equal(vaultServiceType(settings), "NodePort");
            assert.equal(ingressMode(settings), "install");
            assert.deepEqual(vaultResources(settings), {});
            assert.equal(whoamiEnabled(settings), true);
        });

        it("on an existing cluster: a load balancer, no ingress, no whoami, the chart's example resources", () => {
            const { settings } = parseSettings(EXISTING);
            assert.equal(vaultServiceType(settings), "LoadBalancer");
            assert.equal(ingressMode(settings), "none");
            assert.deepEqual(vaultResources(settings), { cpu: "250m", memory: "256Mi" });
            assert.equal(whoamiEnabled(settings), false, "whoami proves an ingress; there is none");
        });

        it("explicit choices win over auto, and none removes a resource", () => {
            const { settings } = parseSettings({ ...EXISTING, vaultServiceType: "ClusterIP", ingress: "existing", vaultCpu: "none", vaultMemory: "1Gi" });
            assert.equal(vaultServiceType(settings), "ClusterIP");
            assert.equal(ingressMode(settings), "existing");
            assert.deepEqual(vaultResources(settings), { memory: "1Gi" });
            assert.deepEqual(vaultResources(parseSettings({ vaultCpu: "500m" }).settings), { cpu: "500m" });
        });

        it("refuses a name the certificate cannot hold, and one given twice in another spelling", () => {
            for (const [names, why] of [
                ['["https://vault.example.com"]', /without scheme, port or path/],
                ['["1.2.3.256"]', /last label is a number/],
                ['["vault.example.com","VAULT.example.com"]', /tlsExtraNames\[1\] \("VAULT.example.com"\) repeats tlsExtraNames\[0\]/],
                ['["[2001:db8::1]"]', /without brackets/],
            ] as const) {
                const problems = rejectionOf(() => parseSettings({ tlsExtraNames: names }));
                assert.match(problems[0].what, why, names);
            }
        });

        it("reads tlsExtraNames as a list of DNS names and IP addresses", () => {
            const { settings } = parseSettings({ ...EXISTING, tlsExtraNames: '["vault.example.com","*.vault.example.com","203.0.113.10","2001:db8::1"]' });
            assert.deepEqual(settings.tlsExtraNames, ["vault.example.com", "*.vault.example.com", "203.0.113.10", "2001:db8::1"]);
            assert.deepEqual(DEFAULTS.tlsExtraNames, []);
        });
    });

    describe("refuses what the mode cannot honour, with a fix", () => {
        const cases: Array<{ what: string; raw: Record<string, string>; problem: RegExp; fix: RegExp }> = [
            {
                what: "existing without a context",
                raw: { cluster: "existing" },
                problem: /^vault-ha:kubeContext = "" \(default\): must name the kubeconfig context/,
                fix: /^npm run config -- set vault-ha:kubeContext "\$\(kubectl config current-context\)", or npm run config -- set --secret vault-ha:kubeconfig/,
            },
            {
                what: "a kind-only setting on an existing cluster",
                raw: { ...EXISTING, workers: "5" },
                problem: /^vault-ha:workers = "5": is only used with cluster: kind/,
                fix: /^npm run config -- rm vault-ha:workers, or npm run config -- set vault-ha:cluster kind$/,
            },
            {
                what: "a context on kind",
                raw: { kubeContext: "prod-eu" },
                problem: /^vault-ha:kubeContext = "prod-eu": is only used with cluster: existing/,
                fix: /^npm run config -- rm vault-ha:kubeContext, or npm run config -- set vault-ha:cluster existing$/,
            },
            {
                what: "a load balancer on kind",
                raw: { vaultServiceType: "LoadBalancer" },
                problem: /^vault-ha:vaultServiceType = "LoadBalancer": cannot be LoadBalancer on kind/,
                fix: /^npm run config -- set vault-ha:vaultServiceType NodePort, or npm run config -- set vault-ha:vaultServiceType ClusterIP/,
            },
            {
                what: "an existing ingress class on kind",
                raw: { ingress: "existing" },
                problem: /^vault-ha:ingress = "existing": cannot be existing on kind/,
                fix: /^npm run config -- set vault-ha:ingress install, or npm run config -- set vault-ha:ingress none$/,
            },
            {
                what: "an existing cert-manager on kind",
                raw: { certManager: "existing" },
                problem: /^vault-ha:certManager = "existing": cannot be existing on kind/,
                fix: /^npm run config -- rm vault-ha:certManager$/,
            },
            {
                what: "keeping volumes on kind, where they die with the cluster",
                raw: { raftVolumesOnDestroy: "keep" },
                problem: /^vault-ha:raftVolumesOnDestroy = "keep": is only used with cluster: existing/,
                fix: /^npm run config -- rm vault-ha:raftVolumesOnDestroy$/,
            },
            {
                what: "a NodePort number without a NodePort",
                raw: { ...EXISTING, uiNodePort: "30005" },
                problem: /^vault-ha:uiNodePort = "30005": is only used when vaultServiceType is NodePort \(it is LoadBalancer\)/,
                fix: /^npm run config -- rm vault-ha:uiNodePort, or npm run config -- set vault-ha:vaultServiceType NodePort$/,
            },
            {
                what: "an ingress class without ingress: existing",
                raw: { ingressClassName: "traefik" },
                problem: /^vault-ha:ingressClassName = "traefik": is only used with ingress: existing \(ingress is install\)/,
                fix: /^npm run config -- rm vault-ha:ingressClassName, or npm run config -- set vault-ha:ingress existing$/,
            },
            {
                what: "whoami asked for with no ingress",
                raw: { ...EXISTING, whoami: "true" },
                problem: /^vault-ha:whoami = "true": is true, but there is no ingress for it to prove/,
                fix: /^npm run config -- set vault-ha:whoami false, or npm run config -- set vault-ha:ingress existing$/,
            },
            {
                what: "extra certificate names without TLS",
                raw: { tls: "false", tlsExtraNames: '["vault.example.com"]' },
                problem: /^vault-ha:tlsExtraNames = .*: names the certificate's extra names, but tls is false/,
                fix: /^npm run config -- rm vault-ha:tlsExtraNames, or npm run config -- set vault-ha:tls true$/,
            },
            {
                what: "a misspelled mode",
                raw: { cluster: "Existing" },
                problem: /^vault-ha:cluster = "Existing": must be one of kind, existing/,
                fix: /^npm run config -- set vault-ha:cluster kind/,
            },
            {
                what: "a service type in the wrong case",
                raw: { vaultServiceType: "nodeport" },
                problem: /^vault-ha:vaultServiceType = "nodeport": must be one of auto, NodePort, LoadBalancer, ClusterIP/,
                fix: /^npm run config -- set vault-ha:vaultServiceType auto/,
            },
            {
                what: "a CPU request below what runs Vault",
                raw: { vaultCpu: "1m" },
                problem: /^vault-ha:vaultCpu = "1m": must be at least 10m/,
                fix: /^npm run config -- set vault-ha:vaultCpu 250m/,
            },
            {
                what: "memory in a wrong unit",
                raw: { vaultMemory: "256M" + "i".repeat(0) + "Ei" },
                problem: /^vault-ha:vaultMemory = "256MEi": must be auto, none or a Kubernetes memory quantity/,
                fix: /^npm run config -- set vault-ha:vaultMemory 256Mi/,
            },
            {
                what: "a certificate name that is neither a DNS name nor an IP address",
                raw: { tlsExtraNames: '["Vault_Example"]' },
                problem: /^vault-ha:tlsExtraNames = .*: tlsExtraNames\[0\]: "Vault_Example" is not a DNS name: label "vault_example"/,
                fix: /^npm run config -- rm vault-ha:tlsExtraNames && npm run config -- set --path 'vault-ha:tlsExtraNames\[0\]' vault\.example\.com, /,
            },
        ];
        for (const c of cases) {
            it(c.what, () => {
                const problems = rejectionOf(() => parseSettings(c.raw));
                assert.equal(problems.length, 1, JSON.stringify(problems));
                assert.match(problems[0].what, c.problem);
                assert.match(problems[0].fix, c.fix);
                assertFixChangesSomething(problems[0].fix, c.raw);
            });
        }
    });

    describe("the kubeconfig secret", () => {
        const entries = (extra: Record<string, ConfigEntry>): Record<string, ConfigEntry> => ({
            "vault-ha:cluster": { value: "existing", secret: false },
            ...extra,
        });
        const KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts: []\n";

        it("stands in for kubeContext, and is handed to the program", () => {
            const { settings, kubeconfig } = parseConfig(entries({ "vault-ha:kubeconfig": { value: KUBECONFIG, secret: true } }));
            assert.equal(settings.kubeContext, "");
            assert.equal(kubeconfig, KUBECONFIG);
        });

        it("is refused in plain text, without repeating it", () => {
            const problems = rejectionOf(() => parseConfig(entries({ "vault-ha:kubeconfig": { value: KUBECONFIG, secret: false } })));
            assert.deepEqual(
                problems.map((p) => p.what),
                ["vault-ha:kubeconfig is stored in plain text"],
            );
            assert.ok(!problems.some((p) => p.fix.includes("current-context: prod")));
        });

        it("is refused when it is not a kubeconfig", () => {
            const problems = rejectionOf(() => parseConfig(entries({ "vault-ha:kubeconfig": { value: "~/.kube/config", secret: true } })));
            assert.match(problems[0].what, /does not look like a kubeconfig/);
            assert.ok(!problems[0].what.includes("~/.kube/config"), "a secret's value is not repeated");
        });

        it("is refused on kind, whose kubeconfig comes from kind", () => {
            const problems = rejectionOf(() => parseConfig({ "vault-ha:kubeconfig": { value: KUBECONFIG, secret: true } }));
            assert.match(problems[0].what, /^vault-ha:cluster = "kind" \(default\): is kind, but vault-ha:kubeconfig is set/);
            assert.equal(problems[0].fix, "npm run config -- rm vault-ha:kubeconfig, or npm run config -- set vault-ha:cluster existing");
        });
    });

    it("warns that the default ingress host is this machine's when an existing cluster gets an ingress", () => {
        assert.match(
            parseSettings({ ...EXISTING, ingress: "install" }).warnings.join("\n"),
            /ingressHost is vault\.localhost \(the default\), a name that resolves to your own machine.*npm run config -- set vault-ha:ingressHost vault\.example\.com/,
        );
        const hostWarnings = (raw: Record<string, string>) => parseSettings(raw).warnings.filter((w) => w.includes("ingressHost"));
        assert.deepEqual(hostWarnings({ ...EXISTING, ingress: "install", ingressHost: "vault.example.com" }), []);
        assert.deepEqual(hostWarnings(EXISTING), [], "no ingress, nothing to say");
        assert.deepEqual(parseSettings({}).warnings, [], "kind: localhost is right");
    });

    describe("a load balancer's reach", () => {
        it("warns that an unrestricted load balancer admits anyone who can reach it, with three ways to limit it", () => {
            const [warning] = parseSettings(EXISTING).warnings;
            assert.match(warning, /^Vault's API gets a load balancer that admits every client that can reach it/);
            assert.match(warning, /vaultLoadBalancerSourceRanges .*vaultServiceAnnotations .*vaultServiceType ClusterIP/);
            for (const limited of [
                { vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]' },
                { vaultServiceAnnotations: '["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"]' },
                { vaultServiceType: "ClusterIP" },
            ]) {
                assert.deepEqual(parseSettings({ ...EXISTING, ...limited }).warnings, [], JSON.stringify(limited));
            }
        });

        it("passes the ranges and annotations to the chart's API Service", () => {
            const { settings } = parseSettings({
                ...EXISTING,
                vaultLoadBalancerSourceRanges: '["10.0.0.0/8","2001:db8::/32"]',
                vaultServiceAnnotations: '["service.beta.kubernetes.io/aws-load-balancer-scheme=internal","a=b=c"]',
            });
            const options = vaultChartOptions(settings);
            assert.deepEqual(options.loadBalancerSourceRanges, ["10.0.0.0/8", "2001:db8::/32"]);
            assert.deepEqual(options.serviceAnnotations, { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal", a: "b=c" });
        });

        it("refuses a network that is not one, an annotation without a key, and ranges without a load balancer", () => {
            for (const [raw, why] of [
                [{ ...EXISTING, vaultLoadBalancerSourceRanges: '["10.0.0.0/33"]' }, /\[0\] \("10\.0\.0\.0\/33"\) has a prefix longer than an IPv4 address/],
                [{ ...EXISTING, vaultLoadBalancerSourceRanges: '["10.0.0.1"]' }, /must be a network such as 203\.0\.113\.0\/24/],
                [{ ...EXISTING, vaultServiceAnnotations: '["=internal"]' }, /must be key=value/],
                [{ ...EXISTING, vaultServiceAnnotations: '["Bad_Prefix/x=y"]' }, /key prefix \(Bad_Prefix\) that is not a DNS subdomain/],
                [{ vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]' }, /is only used with a LoadBalancer \(vaultServiceType is NodePort\)/],
            ] as const) {
                const problems = rejectionOf(() => parseSettings(raw));
                assert.match(problems[0].what, why, JSON.stringify(raw));
            }
        });
    });

    it("on an existing cluster, the namespaces of components that are not installed may coincide", () => {
        // ingress none: no ingress-nginx namespace is created, so its setting cannot collide.
        const { settings } = parseSettings({ ...EXISTING, ingressNginxNamespace: "vault" });
        assert.equal(settings.ingressNginxNamespace, "vault");
        assert.ok(rejectionOf(() => parseSettings({ ingressNginxNamespace: "vault" })).length > 0, "on kind it is installed, and collides");
    });
});
