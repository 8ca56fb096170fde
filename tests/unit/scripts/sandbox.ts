/**
 * A throwaway copy of the project for running its shell commands (up.sh, down.sh, config.sh, e2e.sh) with fake
 * tools: the scripts, package.json and tsconfig.json copied, components/ and node_modules/ linked to the real ones,
 * and a PATH that holds only the fakes and a few system commands, so that a tool is missing exactly when the test
 * leaves its fake out, whatever the machine has installed.
 *
 * Its package-lock.json is the real node_modules' own record (node_modules/.package-lock.json), so the dependency
 * check finds node_modules up to date; a fake npm is on PATH all the same, so that nothing can install into the real
 * node_modules.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../../..");

/** System commands the scripts (and the fakes) use besides the tools under test. */
const SYSTEM = [
    "node",
    "bash",
    "sh",
    "env",
    "dirname",
    "mkdir",
    "mktemp",
    "rm",
    "cat",
    "cp",
    "grep",
    "sed",
    "awk",
    "head",
    "tail",
    "tr",
    "wc",
    "uname",
    "sleep",
];

/** One call of a fake: which tool, where, with which backend, with which arguments. */
export interface Call {
    tool: string;
    cwd: string;
    backend: string;
    args: string;
}

export interface Sandbox {
    dir: string;
    project: string;
    bin: string;
    /** Writes a fake command that logs each call, then runs the shell body. */
    fake(name: string, body?: string): void;
    /** The fake tools' calls so far. */
    calls(): Call[];
    /** Runs a script of the copy from another folder, in an environment with no PULUMI_* variables (a new shell). */
    run(script: string, args?: string[], env?: Record<string, string>): SpawnSyncReturns<string>;
    remove(): void;
}

/** Fakes that answer like the real tools at the versions the preflight asks for. */
export const FAKES = {
    docker: `case "$1" in version) echo 28.2.2 ;; ps) echo "vault-control-plane running" ;; esac`,
    kind: `case "$1" in version) echo "kind v0.33.0 go1.25.3 linux/amd64" ;; get) echo vault ;; esac`,
    kubectl: `echo "Client Version: v1.35.1"`,
    /**
     * kubectl with a kubeconfig whose context "prod" reaches a cluster that allows everything: 4 nodes (one a tainted
     * control plane), a default StorageClass, no cert-manager. Global flags come first, as the preflight passes them.
     */
    kubectlCluster: `while :; do case "$1" in --context|--kubeconfig) shift 2 ;; --request-timeout=*) shift ;; *) break ;; esac; done
case "$*" in
  "version --client") echo "Client Version: v1.35.1" ;;
  "config get-contexts -o name") printf 'kind-vault\nprod\n' ;;
  "config current-context") echo kind-vault ;;
  "version -o json") echo '{"clientVersion":{"gitVersion":"v1.35.1"},"serverVersion":{"gitVersion":"v1.34.2"}}' ;;
  "get --raw /readyz") echo ok ;;
  "auth can-i "*) echo yes ;;
  "get storageclasses.storage.k8s.io -o json") echo '{"items":[{"metadata":{"name":"standard","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}]}' ;;
  "get nodes -o json") echo '{"items":[{"metadata":{"name":"cp"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]},"status":{"conditions":[{"type":"Ready","status":"True"}]}},{"metadata":{"name":"w1"},"spec":{},"status":{"conditions":[{"type":"Ready","status":"True"}]}},{"metadata":{"name":"w2"},"spec":{},"status":{"conditions":[{"type":"Ready","status":"True"}]}},{"metadata":{"name":"w3"},"spec":{},"status":{"conditions":[{"type":"Ready","status":"True"}]}}]}' ;;
  "get customresourcedefinitions.apiextensions.k8s.io "*) : ;;
  "get deployments.apps "*) echo '{"items":[]}' ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 1 ;;
esac`,
    // A file backend: `stack select` fails for a stack it has not created, like Pulumi's "no stack named ... found".
    pulumi: `state="\${PULUMI_BACKEND_URL#file://}"
case "$1" in
  version) echo v3.250.0 ;;
  stack)
    if [ "$2" = select ]; then
      case " $* " in
        *" --create "*) : > "$state/stack-$3" ;;
        *) [ -f "$state/stack-$3" ] || { echo "error: no stack named '$3' found" >&2; exit 255; } ;;
      esac
    fi ;;
esac`,
};

export function sandbox(): Sandbox {
    const dir = mkdtempSync(path.join(tmpdir(), "vault-ha-scripts-"));
    const project = path.join(dir, "project");
    const bin = path.join(dir, "bin");
    const log = path.join(dir, "calls.log");
    mkdirSync(path.join(project, "scripts"), { recursive: true });
    mkdirSync(bin);
    for (const f of [
        "lib.sh",
        "up.sh",
        "down.sh",
        "config.sh",
        "e2e.sh",
        "e2e-existing.sh",
        "e2e-timings.mjs",
        "ensure-deps.js",
        "preflight.ts",
        "preflightArgs.ts",
        "versionRanges.ts",
        "preflightExisting.ts",
        "args.ts",
    ]) {
        copyFileSync(path.join(ROOT, "scripts", f), path.join(project, "scripts", f));
        if (f.endsWith(".sh")) chmodSync(path.join(project, "scripts", f), 0o755);
    }
    for (const f of ["package.json", "tsconfig.json"]) copyFileSync(path.join(ROOT, f), path.join(project, f));
    copyFileSync(path.join(ROOT, "node_modules", ".package-lock.json"), path.join(project, "package-lock.json"));
    symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
    symlinkSync(path.join(ROOT, "components"), path.join(project, "components"));
    for (const cmd of SYSTEM) {
        const where = spawnSync("bash", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
        if (where.startsWith("/")) symlinkSync(where, path.join(bin, cmd));
    }

    const fake = (name: string, body = "") => {
        writeFileSync(path.join(bin, name), `#!/bin/sh\nprintf '%s\\t%s\\t%s\\t%s\\n' ${name} "$PWD" "\${PULUMI_BACKEND_URL:-}" "$*" >> "${log}"\n${body}\n`);
        chmodSync(path.join(bin, name), 0o755);
    };
    fake("npm", `echo "fake npm: not installing into the real node_modules" >&2`);

    return {
        dir,
        project,
        bin,
        fake,
        calls: () =>
            existsSync(log)
                ? readFileSync(log, "utf8")
                      .split("\n")
                      .filter(Boolean)
                      .map((line) => {
                          const [tool, cwd, backend, args] = line.split("\t");
                          return { tool, cwd, backend, args };
                      })
                : [],
        run: (script, args = [], env = {}) =>
            spawnSync(path.join(project, "scripts", script), args, {
                cwd: dir,
                encoding: "utf8",
                env: { PATH: bin, HOME: path.join(dir, "home"), ...env },
                timeout: 60_000,
            }),
        remove: () => rmSync(dir, { recursive: true, force: true }),
    };
}
