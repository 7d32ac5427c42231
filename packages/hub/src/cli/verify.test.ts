/** `latchkey verify`, run as the real command in a child process. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

const root = join(import.meta.dirname, "../../../..");
const sample = join(root, "examples/evidence/sample-bundle.json");
const tampered = join(root, "examples/evidence/sample-tampered.json");

function latchkey(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...LATCHKEY_FROM_SOURCE, "verify", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const vectors = join(root, "examples/evidence/vectors");
const demoTrust = join(vectors, "trust-demo.json");
const demo = JSON.parse(readFileSync(demoTrust, "utf8")) as {
  owners: { publicKey: string }[];
  ledgers: { origin: string; publicKey: string }[];
};
const ownerB64 = demo.owners[0]!.publicKey;
const ledgerHex = Buffer.from(demo.ledgers[0]!.publicKey, "base64").toString("hex");

describe("latchkey verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-verify-"));

  it("exits 0 (proven) for the sample with its keys pinned, and prints the plain-language summary", () => {
    const r = latchkey(sample, "--trust", demoTrust);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^PROVEN: /);
    expect(r.stdout).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised",
    );
    // The same keys given one by one, in base64 and in hex.
    expect(latchkey(sample, "--owner-key", ownerB64, "--ledger-key", ledgerHex).code).toBe(0);
  });

  it("exits 3 (not conclusive) when a key is not pinned, printing the fingerprints to compare", () => {
    const r = latchkey(sample);
    expect(r.code).toBe(3);
    expect(r.stdout.split("\n")[0]).toMatch(/^NOT CONCLUSIVE: /);
    expect(r.stdout).toMatch(/owner key not pinned: compare fingerprint [0-9a-f]{4}( [0-9a-f]{4}){3}/);
    expect(r.stdout).toMatch(/ledger key not pinned: compare fingerprint [0-9a-f]{4}( [0-9a-f]{4}){3}/);
    const ownerOnly = latchkey(sample, "--owner-key", ownerB64);
    expect(ownerOnly.code).toBe(3);
    expect(ownerOnly.stdout).not.toContain("owner key not pinned");
  });

  it("exits 3 for declared missing events even with both keys pinned", () => {
    const r = latchkey(join(vectors, "missing-range.json"), "--trust", demoTrust);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/events seq (\d+)–\1 of Front door are missing from the hub's ledger/);
  });

  it("exits 1 for a bundle with one byte changed and names the first failing element", () => {
    const r = latchkey(tampered, "--trust", demoTrust);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(/^INVALID: /);
    expect(r.stderr).toContain("first failing element: locks[0].events[0] (bad-signature)");
    // Broken beats unpinned: still 1 with nothing pinned.
    expect(latchkey(tampered).code).toBe(1);
  });

  it("exits 1 for a consistent bundle whose owner key is not the pinned one", () => {
    const r = latchkey(sample, "--owner-key", "07".repeat(32));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("first failing element: owner.publicKey (untrusted-key)");
    expect(r.stderr).not.toContain("Front door was");
  });

  it("exits 2 for a missing file, a file that is not a bundle, and a bad command line", () => {
    const absent = latchkey(join(dir, "absent.json"));
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/UNREADABLE: cannot read bundle .*absent\.json: ENOENT/);
    const notBundle = join(dir, "not-bundle.json");
    writeFileSync(notBundle, '{"hello":"world"}');
    const r = latchkey(notBundle);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("UNREADABLE");
    expect(latchkey("--frobnicate", sample).code).toBe(2);
    expect(latchkey(sample, "--trust").code).toBe(2);
  });

  it("exits 2 with EVIDENCE_TRUST_INVALID for a bad trust file or a fingerprint given as a key", () => {
    const bad = latchkey(sample, "--trust", join(vectors, "trust-invalid.json"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/EVIDENCE_TRUST_INVALID: owners\[0\]\.publicKey: is a fingerprint/);
    const notJson = join(dir, "trust.json");
    writeFileSync(notJson, "owner: 470d 26c7");
    expect(latchkey(sample, "--trust", notJson).stderr).toContain(
      "EVIDENCE_TRUST_INVALID: file: is not JSON",
    );
    const fp = latchkey(sample, "--owner-key", "470d 26c7 4a54 90cd");
    expect(fp.code).toBe(2);
    expect(fp.stderr).toContain("--owner-key: is a fingerprint");
    expect(latchkey(sample, "--trust", join(dir, "absent-trust.json")).code).toBe(2);
  });

  it("--json carries the verdict and the report, and --report writes the HTML page", () => {
    const html = join(dir, "report.html");
    const r = latchkey(sample, "--json", "--report", html, "--trust", demoTrust);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      conclusion: { verdict: string; exitCode: number };
      doors: { door: string }[];
    };
    expect(report.conclusion).toMatchObject({ verdict: "proven", exitCode: 0 });
    expect(report.doors[0]?.door).toBe("Front door");
    expect(readFileSync(html, "utf8")).toContain('data-verdict="proven"');
    const bad = latchkey(tampered, "--json");
    expect(bad.code).toBe(1);
    const failed = JSON.parse(bad.stdout) as {
      conclusion: { verdict: string; reasons: { element: string }[] };
    };
    expect(failed.conclusion.verdict).toBe("invalid");
    expect(failed.conclusion.reasons[0]?.element).toBe("locks[0].events[0]");
    const unread = latchkey(join(dir, "absent.json"), "--json");
    expect(unread.code).toBe(2);
    expect((JSON.parse(unread.stdout) as { conclusion: { verdict: string } }).conclusion.verdict).toBe(
      "unreadable",
    );
  });
});
