/**
 * The documentation is split by reader (README, docs/, CONTRIBUTING): every relative link between them, and every
 * #anchor, must lead somewhere, or a moved section leaves readers at a dead end. Anchors are GitHub's: the heading in
 * lower case, without punctuation but hyphens, spaces as hyphens.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const DOCS = ["README.md", "CONTRIBUTING.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));

export function githubAnchor(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/`/g, "")
        .replace(/[^\p{L}\p{N}\- ]/gu, "")
        .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubAnchor(m[1])));
}

describe("the documentation's links", () => {
    it("makes anchors as GitHub does", () => {
        assert.equal(githubAnchor("What happens on `pulumi up`"), "what-happens-on-pulumi-up");
        assert.equal(githubAnchor("After a reboot, or when a pod restarts"), "after-a-reboot-or-when-a-pod-restarts");
        assert.equal(githubAnchor("Chart rendering (real Helm)"), "chart-rendering-real-helm");
    });

    for (const file of DOCS) {
        it(`${file}: every relative link and anchor resolves`, () => {
            const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
            const broken: string[] = [];
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
                const [where, anchor] = target.split("#");
                const linked = where ? path.normalize(path.join(path.dirname(file), where)) : file;
                if (!fs.existsSync(path.join(ROOT, linked))) {
                    broken.push(`${target}: no file ${linked}`);
                    continue;
                }
                if (anchor && linked.endsWith(".md") && !anchorsOf(linked).has(anchor)) broken.push(`${target}: no heading #${anchor} in ${linked}`);
            }
            assert.deepEqual(broken, []);
        });
    }
});
