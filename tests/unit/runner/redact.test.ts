import { strict as assert } from "assert";
import { Redactor } from "../../../components/runner/redact";

describe("redactor", () => {
    it("scrubs every registered secret, the longest first", () => {
        const r = new Redactor();
        r.add("hvs.ROOTTOKEN-abcdef", "hvs.ROOTTOKEN-abcdef-and-more", "short");
        assert.equal(r.apply("a hvs.ROOTTOKEN-abcdef-and-more b hvs.ROOTTOKEN-abcdef c short"), "a <redacted> b <redacted> c short");
    });

    it("scrubs the base64 blobs of a kubeconfig (client key, certificates)", () => {
        const key = Buffer.from("-----BEGIN EC PRIVATE KEY----- not really a key, but long enough").toString("base64");
        const r = new Redactor();
        r.addKubeconfig(`users:\n- user:\n    client-key-data: ${key}\n`);
        assert.equal(r.apply(`failed: ${key}`), "failed: <redacted>");
    });
});
