/**
 * `npm run charts` (scripts/charts.ts) for the pin that lives in an OCI registry, Envoy Gateway's gateway-helm: the
 * `helm pull` it runs, with a fake helm that records its arguments (no registry here), and how the pins are found by
 * the chart a release names. The classic repositories' pulls run against a real Helm in tests/charts/render.test.ts.
 */
import { strict as assert } from "assert";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { GATEWAY_CHART, VAULT_CHART } from "../../../components/config/versions";
import { findChartArchive, helmPullArgs, PINNED_CHARTS, pinnedChartOf, pullCharts } from "../../../scripts/charts";

/**
 * A helm that logs each call and acts as Helm does for an OCI pull: it writes <chart>-<tag>.tgz into --destination
 * (helm pkg/downloader/chart_downloader.go DownloadTo), and `show chart` prints the name and version given to it.
 */
function fakeHelm(dir: string, shown: { name: string; version: string }): { helm: string; calls: () => string[] } {
    const log = path.join(dir, "calls.log");
    const helm = path.join(dir, "helm");
    writeFileSync(
        helm,
        [
            "#!/bin/sh",
            `echo "$*" >> '${log}'`,
            'case "$1" in',
            "  pull)",
            '    ref="$2"; version=""; dest="."',
            "    shift 2",
            '    while [ $# -gt 0 ]; do case "$1" in --version) version="$2"; shift 2;; --destination) dest="$2"; shift 2;; *) shift;; esac; done',
            '    echo archive > "$dest/${ref##*/}-$version.tgz" ;;',
            `  show) printf 'name: ${shown.name}\\nversion: ${shown.version}\\n' ;;`,
            "esac",
            "",
        ].join("\n"),
    );
    chmodSync(helm, 0o755);
    return { helm, calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []) };
}

describe("npm run charts: the OCI pin", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "vault-ha-charts-oci-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("pins Envoy Gateway's chart by its OCI reference at the version the program installs", () => {
        assert.deepEqual(PINNED_CHARTS["gateway-helm"], { oci: GATEWAY_CHART.oci, chart: "gateway-helm", version: "v1.9.0" });
    });

    it("pulls an OCI chart by its reference and --version, with no --repo; a classic chart by name from its --repo", () => {
        assert.deepEqual(helmPullArgs(PINNED_CHARTS["gateway-helm"], "/d"), [
            "pull",
            "oci://docker.io/envoyproxy/gateway-helm",
            "--version",
            "v1.9.0",
            "--destination",
            "/d",
        ]);
        assert.deepEqual(helmPullArgs(PINNED_CHARTS.vault, "/d"), [
            "pull",
            "vault",
            "--repo",
            VAULT_CHART.repo,
            "--version",
            VAULT_CHART.version,
            "--destination",
            "/d",
        ]);
    });

    it("pulls gateway-helm-v1.9.0.tgz, checks it is the pinned chart, and leaves it be on the next run", async () => {
        const fake = fakeHelm(dir, { name: "gateway-helm", version: "v1.9.0" });
        const dest = path.join(dir, "charts");
        const charts = { "gateway-helm": PINNED_CHARTS["gateway-helm"] } as typeof PINNED_CHARTS;
        const lines: string[] = [];
        const archives = await pullCharts({ helm: fake.helm, dir: dest, charts, log: (l) => lines.push(l) });
        const archive = path.join(dest, "gateway-helm-v1.9.0.tgz");
        assert.deepEqual(archives, [archive]);
        assert.deepEqual(fake.calls(), [`pull oci://docker.io/envoyproxy/gateway-helm --version v1.9.0 --destination ${dest}`, `show chart ${archive}`]);
        assert.deepEqual(lines, ["gateway-helm v1.9.0: pulled from oci://docker.io/envoyproxy/gateway-helm"]);

        await pullCharts({ helm: fake.helm, dir: dest, charts, log: (l) => lines.push(l) });
        assert.equal(fake.calls().filter((c) => c.startsWith("pull")).length, 1, "pulled once");
        assert.equal(lines[1], `gateway-helm v1.9.0: already in ${dest}`);
    });

    it("refuses what the registry handed over when it is not the pinned chart", async () => {
        const fake = fakeHelm(dir, { name: "gateway-helm", version: "v1.8.3" });
        const charts = { "gateway-helm": PINNED_CHARTS["gateway-helm"] } as typeof PINNED_CHARTS;
        await assert.rejects(pullCharts({ helm: fake.helm, dir, charts }), /holds gateway-helm v1\.8\.3, not gateway-helm v1\.9\.0: delete it and run again/);
    });

    it("looks for the archive under the name helm pull gives it", () => {
        const found = findChartArchive("gateway-helm");
        assert.equal("archive" in found ? path.basename(found.archive) : /no chart archive (\S+)/.exec(found.skip)?.[1], "gateway-helm-v1.9.0.tgz");
    });

    it("knows a release's pinned chart by the chart it names: a repository chart's name, or the OCI reference", () => {
        assert.equal(pinnedChartOf(GATEWAY_CHART.oci), "gateway-helm");
        assert.equal(pinnedChartOf("vault"), "vault");
        assert.equal(pinnedChartOf("cert-manager"), "cert-manager");
        // Only by its reference: a bare "gateway-helm" would be pulled from no repository.
        assert.equal(pinnedChartOf("gateway-helm"), undefined);
        assert.equal(pinnedChartOf("oci://example.com/other/gateway-helm"), undefined);
    });
});
