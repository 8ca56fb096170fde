import { strict as assert } from "assert";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
// semver comes with the dependencies (@pulumi/pulumi and npm's own libraries use it): it is npm's reading of ranges.
import * as semver from "semver";
import { parse } from "yaml";
import { NODE_ENGINES, satisfiesRange } from "../../../scripts/preflight";
import { ROOT } from "./sandbox";

interface Installed {
    where: string;
    id: string;
    node: string;
}

/** Every package under node_modules (nested ones too) whose package.json has engines.node. */
function installedEngines(dir = path.join(ROOT, "node_modules")): Installed[] {
    const found: Installed[] = [];
    for (const entry of readdirSync(dir)) {
        if (entry.startsWith(".")) continue;
        const at = path.join(dir, entry);
        if (entry.startsWith("@")) {
            found.push(...installedEngines(at));
            continue;
        }
        const manifest = path.join(at, "package.json");
        if (existsSync(manifest)) {
            const pkg = JSON.parse(readFileSync(manifest, "utf8"));
            if (typeof pkg.engines?.node === "string") found.push({ where: path.relative(ROOT, at), id: `${pkg.name}@${pkg.version}`, node: pkg.engines.node });
        }
        if (existsSync(path.join(at, "node_modules"))) found.push(...installedEngines(path.join(at, "node_modules")));
    }
    return found;
}

describe("the Node.js versions: package.json's engines, the dependencies, the preflight and CI agree", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const engines: string = pkg.engines.node;
    const installed = installedEngines();

    it("reads every installed package's engines (eslint and mocha among them)", () => {
        assert.ok(installed.length > 100, `${installed.length} packages with engines.node`);
        for (const name of ["eslint", "mocha", "@pulumi/pulumi"]) {
            assert.ok(
                installed.some((p) => p.where === path.join("node_modules", name)),
                name,
            );
        }
    });

    it("is no wider than any dependency's engines.node", () => {
        assert.ok(semver.validRange(engines), engines);
        const narrower = installed.filter((p) => semver.validRange(p.node) && !semver.subset(engines, p.node));
        assert.deepEqual(
            narrower.map((p) => `${p.id} (${p.where}) needs node ${p.node}`),
            [],
            `package.json engines.node "${engines}" allows versions these packages refuse: narrow it to the intersection`,
        );
        const unreadable = installed.filter((p) => !semver.validRange(p.node));
        assert.deepEqual(
            unreadable.map((p) => `${p.id}: ${p.node}`),
            [],
        );
    });

    it("is the intersection, not narrower: the version just below each range's start is refused by some dependency", () => {
        for (const alternative of new semver.Range(engines).set) {
            const start = semver.minVersion(alternative.map((c) => c.value).join(" "))!;
            const below =
                start.minor > 0 ? `${start.major}.${start.minor - 1}.99` : start.patch > 0 ? `${start.major}.0.${start.patch - 1}` : `${start.major - 1}.99.99`;
            const refusing = installed.filter((p) => !semver.satisfies(below, p.node));
            assert.ok(refusing.length > 0, `node ${below} is refused by engines "${engines}" but by no dependency: widen engines`);
        }
    });

    it("is the same in package-lock.json (npm copies it there)", () => {
        assert.equal(lock.packages[""].engines?.node, engines);
    });

    it("is what the preflight checks, read the way npm reads it", () => {
        assert.equal(NODE_ENGINES, engines);
        const ranges = [engines, ...new Set(installed.map((p) => p.node))].filter((r) => {
            try {
                satisfiesRange([20, 0, 0], r);
                return true;
            } catch {
                return false; // a syntax the preflight refuses (such as "6.* || 8.*"): it only needs to read ours
            }
        });
        assert.ok(ranges.length > 10);
        const versions: string[] = [];
        for (let major = 16; major <= 27; major++)
            for (const minor of [0, 8, 9, 12, 13, 17, 18, 19, 20]) for (const patch of [0, 1]) versions.push(`${major}.${minor}.${patch}`);
        for (const range of ranges) {
            for (const v of versions) {
                assert.equal(satisfiesRange(v.split(".").map(Number), range), semver.satisfies(v, range), `${v} in "${range}"`);
            }
        }
        assert.throws(() => satisfiesRange([22, 0, 0], "~22.1"), /unsupported version range syntax/);
    });

    it("CI tests each Node.js major that engines names (the first major of each of its ranges)", () => {
        const majors = new semver.Range(engines).set.map((alternative) => semver.minVersion(alternative.map((c) => c.value).join(" "))!.major);
        const ci = parse(readFileSync(path.join(ROOT, ".github", "workflows", "ci.yml"), "utf8"));
        const job = ci.jobs.test;
        assert.deepEqual(job.strategy.matrix.node, majors);
        assert.equal(job.steps.find((s: any) => s.uses?.startsWith("actions/setup-node"))?.with["node-version"], "${{ matrix.node }}");
    });
});
