/**
 * The kubectl process: spawning the binary with a private kubeconfig, its timeouts, streamed calls (snapshots) and
 * long-running ones (port-forward). What is sent through it is built in vaultScripts.ts and read in vaultOutput.ts.
 */
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { privateFolder, releaseFolder, track } from "./tempFolders";

export interface KubectlResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** What a streamed call sends: a short text first (a token, one line), then a file's bytes. */
export interface StreamInput {
    text: string;
    file?: string;
    /** Told the running total of bytes streamed (read from the file, or written to the output file). */
    onBytes?: (total: number) => void;
}

/** Runs one kubectl command line: the real binary in production, the simulator's in tests. */
export interface KubectlRunner {
    run(args: string[], stdin?: string): Promise<KubectlResult>;
    /**
     * Like run, for data too large or too binary for a string (a raft snapshot): stdin is `input` (the file streamed
     * after the text), stdout goes to `outputFile` (0600) as it arrives. The output file is removed if the call fails.
     */
    stream(args: string[], input: StreamInput, outputFile?: string): Promise<{ code: number; stderr: string }>;
    /**
     * Starts a long-running kubectl (`port-forward`) with the same kubeconfig, for the caller to stop. Its stdout
     * comes line by line; it keeps running until it exits by itself or stop() is called.
     */
    background(args: string[]): BackgroundProcess;
    /** Removes whatever the runner keeps on disk (the kubeconfig file). */
    dispose(): void;
}

/** A kubectl that runs until it is stopped. */
export interface BackgroundProcess {
    /** Called with each complete line of stdout, in order (lines printed before the call are passed at once). */
    onLine(listener: (line: string) => void): void;
    /** Settles when the process has ended, by itself or by stop(): its exit code (128 + signal) and stderr. */
    readonly exited: Promise<{ code: number; stderr: string }>;
    /** Ends it (SIGTERM) and waits until it has. Safe to call more than once, or after it ended. */
    stop(): Promise<void>;
}

/** Line splitting and replay for BackgroundProcess implementations. */
export class LineFeed {
    private buffer = "";
    private readonly lines: string[] = [];
    private readonly listeners: Array<(line: string) => void> = [];

    push(chunk: string): void {
        this.buffer += chunk;
        let nl: number;
        while ((nl = this.buffer.indexOf("\n")) >= 0) {
            const line = this.buffer.slice(0, nl).replace(/\r$/, "");
            this.buffer = this.buffer.slice(nl + 1);
            this.lines.push(line);
            for (const l of this.listeners) l(line);
        }
    }

    onLine(listener: (line: string) => void): void {
        this.listeners.push(listener);
        for (const line of this.lines) listener(line);
    }
}

/** How long a background kubectl may print nothing at all before it is stopped (wall clock, like callTimeoutMs). */
export const BACKGROUND_SILENCE_MS = 120_000;

export class Kubectl implements KubectlRunner {
    private readonly kubeconfigFile: string;
    private readonly dir: string;

    /** The kubeconfig is written to a private temporary file (never passed as an argument) and removed by dispose(). */
    constructor(
        kubeconfig: string,
        private readonly callTimeoutMs = 120_000,
    ) {
        this.dir = privateFolder();
        this.kubeconfigFile = path.join(this.dir, "kubeconfig");
        fs.writeFileSync(this.kubeconfigFile, kubeconfig, { mode: 0o600 });
    }

    dispose(): void {
        releaseFolder(this.dir);
    }

    run(args: string[], stdin?: string): Promise<KubectlResult> {
        return new Promise((resolve, reject) => {
            const env = { ...process.env, KUBECONFIG: this.kubeconfigFile };
            const child = spawn("kubectl", args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: this.callTimeoutMs });
            track(child);
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", (err) =>
                reject(
                    new Error((err as NodeJS.ErrnoException).code === "ENOENT" ? "kubectl was not found on PATH" : `kubectl failed to start: ${err.message}`),
                ),
            );
            child.on("close", (code, signal) =>
                resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkubectl ${args[0]} was stopped (${signal})` : stderr }),
            );
            child.stdin.on("error", () => undefined);
            child.stdin.end(stdin ?? "");
        });
    }

    background(args: string[]): BackgroundProcess {
        // No stdin (the kubeconfig is the file KUBECONFIG names, as for every call); tracked, so that the process's
        // exit and signal handlers stop it with the step (tempFolders.ts).
        const child = spawn("kubectl", args, { env: { ...process.env, KUBECONFIG: this.kubeconfigFile }, stdio: ["ignore", "pipe", "pipe"] });
        track(child);
        const feed = new LineFeed();
        let stderr = "";
        let printed = false;
        let silenced = false;
        // kubectl bounds its own waits (--pod-running-timeout, the API server's dial); this is the backstop for a
        // kubectl that hangs before printing anything.
        const silence = setTimeout(() => {
            if (printed) return;
            silenced = true;
            child.kill("SIGTERM");
        }, BACKGROUND_SILENCE_MS);
        silence.unref();
        child.stdout.on("data", (d) => {
            printed = true;
            feed.push(String(d));
        });
        child.stderr.on("data", (d) => (stderr += d));
        const exited = new Promise<{ code: number; stderr: string }>((resolve) => {
            child.on("error", (err) => {
                clearTimeout(silence);
                const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
                resolve({ code: 127, stderr: missing ? "kubectl was not found on PATH" : `kubectl failed to start: ${err.message}` });
            });
            child.on("close", (code, signal) => {
                clearTimeout(silence);
                const note = silenced ? `\nkubectl ${args[0]} printed nothing for ${BACKGROUND_SILENCE_MS / 1000}s and was stopped (${signal})` : "";
                resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), stderr: stderr + note });
            });
        });
        return {
            onLine: (listener) => feed.onLine(listener),
            exited,
            stop: async () => {
                if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
                await exited;
            },
        };
    }

    stream(args: string[], input: StreamInput, outputFile?: string): Promise<{ code: number; stderr: string }> {
        // An hour at most: a stalled exec must not hang a snapshot, a restore or the roll for ever.
        const child = spawn("kubectl", args, { env: { ...process.env, KUBECONFIG: this.kubeconfigFile }, stdio: ["pipe", "pipe", "pipe"], timeout: 3_600_000 });
        track(child);
        return streamChild(child, input, outputFile);
    }
}

/** Streams a call's stdin from `input` and its stdout into `outputFile`, for Kubectl.stream. */
export function streamChild(child: ChildProcessWithoutNullStreams, input: StreamInput, outputFile?: string): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        const out = outputFile ? fs.createWriteStream(outputFile, { mode: 0o600, flags: "wx" }) : undefined;
        // Only a file this call created is removed on failure: never one that was there before (flags "wx").
        let created = false;
        out?.on("open", () => (created = true));
        let total = 0;
        const count = (chunk: Buffer) => {
            total += chunk.length;
            input.onBytes?.(total);
        };
        if (out) {
            child.stdout.on("data", count);
            child.stdout.pipe(out);
        } else {
            child.stdout.resume();
        }
        const written = out ? new Promise<void>((done) => out.on("close", () => done())) : Promise.resolve();
        // A file that cannot be written (it exists, the disk is full) stops the call instead of crashing the process.
        out?.on("error", (err) => {
            child.kill("SIGTERM");
            reject(new Error(`could not write ${outputFile}: ${err.message}`));
        });
        child.on("error", (err) => reject(err));
        child.on("close", (code, signal) => {
            void written.then(() => {
                const result = { code: code ?? (signal ? 128 : 1), stderr };
                if (result.code !== 0 && outputFile && created) fs.rmSync(outputFile, { force: true });
                resolve(result);
            });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.write(input.text);
        if (input.file) {
            const source = fs.createReadStream(input.file);
            source.on("error", (err) => {
                child.kill("SIGTERM");
                reject(new Error(`could not read ${input.file}: ${err.message}`));
            });
            source.on("data", (chunk) => count(chunk as Buffer));
            source.pipe(child.stdin);
        } else {
            child.stdin.end();
        }
    });
}
