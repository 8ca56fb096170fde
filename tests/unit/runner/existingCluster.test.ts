/**
 * The existing-cluster pieces of the runner that need no cluster: reading nodes, storage classes and a Service's load
 * balancer status; kubectl port-forward's command line and its "Forwarding from" line; and the real Kubectl class
 * running a background kubectl (a shell script in its place on PATH): the kubeconfig in a 0600 file named by
 * KUBECONFIG, never in argv, and the process stopped by stop().
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Kubectl, LineFeed } from "../../../components/runner/kubectl";
import { forwardedPort, portForwardArgs } from "../../../components/runner/portForward";
import { clusterResourceNamespaceOf, nodeAddressOf, schedulable, storageClassFacts } from "../../../components/runner/handlers/clusterFacts";
import { loadBalancerAddress } from "../../../components/runner/handlers/vaultAddress";

const node = (extra: { conditions?: object[]; unschedulable?: boolean; taints?: object[]; addresses?: object[] }) => ({
    spec: { unschedulable: extra.unschedulable, taints: extra.taints },
    status: { conditions: extra.conditions ?? [{ type: "Ready", status: "True" }], addresses: extra.addresses ?? [] },
});

describe("existing-cluster readers", () => {
    it("a schedulable node is Ready, not cordoned, without a NoSchedule or NoExecute taint", () => {
        assert.equal(schedulable(node({})), true);
        assert.equal(schedulable(node({ conditions: [{ type: "Ready", status: "False" }] })), false);
        assert.equal(schedulable(node({ conditions: [{ type: "Ready", status: "Unknown" }] })), false);
        assert.equal(schedulable(node({ conditions: [] })), false, "no Ready condition: not a node that takes pods");
        assert.equal(schedulable(node({ unschedulable: true })), false);
        assert.equal(schedulable(node({ taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] })), false);
        assert.equal(schedulable(node({ taints: [{ key: "x", effect: "NoExecute" }] })), false);
        assert.equal(schedulable(node({ taints: [{ key: "x", effect: "PreferNoSchedule" }] })), true);
    });

    it("a node's address: ExternalIP first, then InternalIP, never a host name", () => {
        assert.equal(
            nodeAddressOf(
                node({
                    addresses: [
                        { type: "InternalIP", address: "10.0.0.4" },
                        { type: "ExternalIP", address: "203.0.113.4" },
                    ],
                }),
            ),
            "203.0.113.4",
        );
        assert.equal(
            nodeAddressOf(
                node({
                    addresses: [
                        { type: "Hostname", address: "n1" },
                        { type: "InternalIP", address: "10.0.0.4" },
                    ],
                }),
            ),
            "10.0.0.4",
        );
        assert.equal(nodeAddressOf(node({ addresses: [{ type: "Hostname", address: "n1" }] })), undefined);
    });

    it('the default storage class is the one annotated exactly "true"', () => {
        const sc = (name: string, annotations?: Record<string, string>) => ({ metadata: { name, annotations } });
        assert.deepEqual(
            storageClassFacts({
                items: [
                    sc("a", { "storageclass.kubernetes.io/is-default-class": "true" }),
                    sc("b", { "storageclass.kubernetes.io/is-default-class": "True" }),
                    sc("c"),
                    sc("d", { "storageclass.beta.kubernetes.io/is-default-class": "true" }),
                ],
            }),
            [
                { name: "a", isDefault: true },
                { name: "b", isDefault: false },
                { name: "c", isDefault: false },
                { name: "d", isDefault: true },
            ],
        );
    });

    it("cert-manager's --cluster-resource-namespace, expanded as the kubelet does; kube-system without it; unknown with --config", () => {
        const controller = (args: string[], env: object[] = [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }]) => ({
            metadata: { namespace: "cm" },
            spec: { template: { spec: { containers: [{ image: "quay.io/jetstack/cert-manager-controller:v1.21.1", args, env }] } } },
        });
        assert.equal(clusterResourceNamespaceOf(controller(["--cluster-resource-namespace=$(POD_NAMESPACE)"])), "cm");
        assert.equal(clusterResourceNamespaceOf(controller(["--cluster-resource-namespace", "pki"])), "pki");
        assert.equal(clusterResourceNamespaceOf(controller(["--v=2"])), "kube-system");
        assert.equal(clusterResourceNamespaceOf(controller(["--config=/var/cert-manager/config/config.yaml"])), undefined);
        assert.equal(clusterResourceNamespaceOf(controller(["--cluster-resource-namespace=$(UNKNOWN)"])), undefined);
        assert.equal(clusterResourceNamespaceOf(undefined), undefined);
    });

    it("a load balancer's address: the first ingress point's ip, else its hostname; none while the status is empty", () => {
        assert.equal(loadBalancerAddress({ status: { loadBalancer: { ingress: [{ ip: "203.0.113.1" }, { ip: "203.0.113.2" }] } } }), "203.0.113.1");
        assert.equal(loadBalancerAddress({ status: { loadBalancer: { ingress: [{ hostname: "lb.example" }] } } }), "lb.example");
        assert.equal(loadBalancerAddress({ status: { loadBalancer: {} } }), undefined);
        assert.equal(loadBalancerAddress({ status: {} }), undefined);
        assert.equal(loadBalancerAddress({ status: { loadBalancer: { ingress: [{ ip: "" }] } } }), undefined);
    });
});

describe("kubectl port-forward", () => {
    it("forwards a Service's port to a local port of kubectl's choosing, on 127.0.0.1 only", () => {
        assert.deepEqual(portForwardArgs({ namespace: "vault", service: "vault", remotePort: 8200 }, 60), [
            "port-forward",
            "-n",
            "vault",
            "service/vault",
            "--address",
            "127.0.0.1",
            "--pod-running-timeout=60s",
            ":8200",
        ]);
    });

    it("reads the local port from kubectl's Forwarding line, and nothing else", () => {
        assert.equal(forwardedPort("Forwarding from 127.0.0.1:41237 -> 8200"), 41237);
        assert.equal(forwardedPort("Forwarding from 127.0.0.1:41237 -> 8200\r"), 41237);
        assert.equal(forwardedPort("Forwarding from [::1]:41237 -> 8200"), undefined);
        assert.equal(forwardedPort("Handling connection for 41237"), undefined);
    });

    it("LineFeed splits chunks into lines and replays earlier lines to a late listener", () => {
        const feed = new LineFeed();
        feed.push("Forwarding from 127.0.0.1:1");
        const seen: string[] = [];
        feed.push("234 -> 8200\nHandling ");
        feed.onLine((l) => seen.push(l));
        feed.push("connection for 1234\n");
        assert.deepEqual(seen, ["Forwarding from 127.0.0.1:1234 -> 8200", "Handling connection for 1234"]);
    });
});

describe("Kubectl.background with a stand-in kubectl", function () {
    this.timeout(20_000);
    let dir: string;
    let savedPath: string | undefined;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-bg-"));
        // Records its argv, its KUBECONFIG's mode and whether the secret is in its environment, prints the line, waits.
        fs.writeFileSync(
            path.join(dir, "kubectl"),
            `#!/bin/sh
printf '%s\\n' "$*" > "${dir}/argv"
stat -c %a "$KUBECONFIG" > "${dir}/mode" 2>/dev/null || stat -f %Lp "$KUBECONFIG" > "${dir}/mode"
env | grep -c client-key-data > "${dir}/env-leak"
echo $$ > "${dir}/pid"
echo "Forwarding from 127.0.0.1:45678 -> 8200"
exec sleep 30
`,
            { mode: 0o755 },
        );
        savedPath = process.env.PATH;
        process.env.PATH = `${dir}:${savedPath}`;
    });
    afterEach(() => {
        process.env.PATH = savedPath;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("prints lines as they come, keeps the kubeconfig out of argv and env, and stop() ends the process", async () => {
        const kubeconfig = "apiVersion: v1\nusers:\n- user:\n    client-key-data: U0VDUkVUIEtFWQ==\n";
        const kubectl = new Kubectl(kubeconfig);
        try {
            const proc = kubectl.background(portForwardArgs({ namespace: "vault", service: "vault", remotePort: 8200 }, 10));
            const line = await new Promise<string>((resolve) => proc.onLine(resolve));
            assert.equal(forwardedPort(line), 45678);
            const pid = Number(fs.readFileSync(path.join(dir, "pid"), "utf8"));
            assert.ok(!fs.readFileSync(path.join(dir, "argv"), "utf8").includes("U0VDUkVU"));
            assert.equal(fs.readFileSync(path.join(dir, "mode"), "utf8").trim(), "600");
            assert.equal(fs.readFileSync(path.join(dir, "env-leak"), "utf8").trim(), "0");
            await proc.stop();
            const end = await proc.exited;
            assert.equal(end.code, 143);
            assert.throws(() => process.kill(pid, 0), /ESRCH/, "the process is gone");
            await proc.stop();
        } finally {
            kubectl.dispose();
        }
    });
});
