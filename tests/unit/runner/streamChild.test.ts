/**
 * The streamed kubectl call (components/runner/kubectlProcess.ts streamChild) with a real shell in kubectl's place: binary
 * data goes through unchanged both ways, and sh's `read` takes the token line and not a byte more, which is what the
 * snapshot scripts rely on (busybox and dash read a pipe one byte at a time for `read`).
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { streamChild } from "../../../components/runner/kubectl";

describe("streamChild: binary data through a real pipe", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-stream-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("stdin: the token line, then a file's bytes; stdout: into a private file, byte for byte", async () => {
        const input = path.join(dir, "in.bin");
        const output = path.join(dir, "out.bin");
        const tokenFile = path.join(dir, "token");
        const bytes = randomBytes(300_000);
        fs.writeFileSync(input, bytes);
        const child = spawn("sh", ["-c", `IFS= read -r token; printf '%s' "$token" > "${tokenFile}"; cat`], { stdio: ["pipe", "pipe", "pipe"] });
        const counted: number[] = [];
        const result = await streamChild(child, { text: "hvs.TOKEN\n", file: input, onBytes: (total) => counted.push(total) }, output);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(fs.readFileSync(tokenFile, "utf8"), "hvs.TOKEN");
        assert.ok(fs.readFileSync(output).equals(bytes), "the bytes after the token line arrive unchanged");
        assert.equal(fs.statSync(output).mode & 0o777, 0o600);
        // Progress counts both directions: the file read out, then the output written.
        assert.ok(counted.length > 1 && counted.every((n, i) => i === 0 || n > counted[i - 1]), "a growing running total");
        assert.equal(counted[counted.length - 1], 2 * bytes.length);
    });

    it("a failed call leaves no output file, and an output file that exists already is an error, not a crash", async () => {
        const output = path.join(dir, "out.bin");
        const failed = await streamChild(spawn("sh", ["-c", "echo partial; exit 3"], { stdio: ["pipe", "pipe", "pipe"] }), { text: "" }, output);
        assert.equal(failed.code, 3);
        assert.ok(!fs.existsSync(output), "the partial output was removed");
        fs.writeFileSync(output, "another backup");
        await assert.rejects(streamChild(spawn("sh", ["-c", "cat"], { stdio: ["pipe", "pipe", "pipe"] }), { text: "x" }, output), /could not write .*out\.bin/);
        await new Promise((resolve) => setTimeout(resolve, 300)); // the child's close, after the rejection
        assert.equal(fs.readFileSync(output, "utf8"), "another backup", "the existing file is untouched");
    });
});
