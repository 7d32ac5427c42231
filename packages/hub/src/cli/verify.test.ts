/** `latchkey verify`, run as the real command in a child process. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../../..");
const bin = join(root, "packages/hub/bin/latchkey.js");
const sample = join(root, "examples/evidence/sample-bundle.json");
const tampered = join(root, "examples/evidence/sample-tampered.json");

function latchkey(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, "verify", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("latchkey verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-verify-"));

  it("exits 0 for the sample and prints the plain-language summary", () => {
    const r = latchkey(sample);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("VALID evidence bundle");
    expect(r.stdout).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised",
    );
  });

  it("exits 1 for a bundle with one byte changed and names the first failing element", () => {
    const r = latchkey(tampered);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("first failing element: locks[0].events[0] (bad-signature)");
  });

  it("exits 2 for a missing file, a file that is not a bundle, and a bad command line", () => {
    expect(latchkey(join(dir, "absent.json")).code).toBe(2);
    const notBundle = join(dir, "not-bundle.json");
    writeFileSync(notBundle, '{"hello":"world"}');
    const r = latchkey(notBundle);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("UNREADABLE");
    expect(latchkey("--frobnicate", sample).code).toBe(2);
  });

  it("--json prints the report and --report writes the HTML page", () => {
    const html = join(dir, "report.html");
    const r = latchkey(sample, "--json", "--report", html);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; doors: { door: string }[] };
    expect(report.verdict).toBe("valid");
    expect(report.doors[0]?.door).toBe("Front door");
    expect(readFileSync(html, "utf8")).toContain('data-verdict="valid"');
    const bad = latchkey(tampered, "--json");
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as { failure: { element: string } }).failure.element).toBe(
      "locks[0].events[0]",
    );
  });

  it("--owner-key refuses a bundle from another owner", () => {
    const r = latchkey(sample, "--owner-key", "07".repeat(32));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("owner.publicKey");
  });
});
