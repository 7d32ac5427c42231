/**
 * The evidence test vectors (examples/evidence/vectors): regenerated from the sample scenario they
 * must equal the committed files byte for byte, and the real `latchkey verify` command gives every
 * vector its expected exit code, reason codes and failing element. (The offline page is checked
 * on the same vectors in verifier-page.test.ts, in one browser.)
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  makeEvidenceVectors,
  VECTORS_DIR,
  VECTORS_HAND_WRITTEN,
  type EvidenceVector,
} from "../../../../scripts/make-evidence-vectors.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

const root = join(import.meta.dirname, "../../../..");
const manifest = JSON.parse(readFileSync(join(VECTORS_DIR, "manifest.json"), "utf8")) as {
  vectors: EvidenceVector[];
};

interface Conclusion {
  verdict: string;
  exitCode: number;
  reasons: { code: string; element: string; message: string }[];
}

function latchkeyVerify(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...LATCHKEY_FROM_SOURCE, "verify", ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `fn` over `items`, `n` at a time (each CLI run is mostly Node's start-up). */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const HEADLINES: Record<string, string> = {
  proven: "PROVEN",
  "not-conclusive": "NOT CONCLUSIVE",
  invalid: "INVALID",
  unreadable: "UNREADABLE",
};

const label = (v: EvidenceVector): string => `${v.file} with ${v.trust ?? "nothing pinned"}`;

describe("evidence test vectors", () => {
  it("are what the generator makes from the sample scenario, byte for byte", async () => {
    const made = await makeEvidenceVectors();
    const committed = readdirSync(VECTORS_DIR).filter((f) => !VECTORS_HAND_WRITTEN.includes(f));
    expect(committed.sort()).toEqual([...made.files.keys()].sort());
    for (const [name, bytes] of made.files) {
      const same = Buffer.from(bytes).equals(readFileSync(join(VECTORS_DIR, name)));
      expect(same, `${name} differs: run npm run evidence:vectors and review the change`).toBe(true);
    }
  });

  it("cover every verdict and exit code, the pinning rules and the missing-range rule", () => {
    const v = manifest.vectors;
    expect(new Set(v.map((x) => x.exitCode))).toEqual(new Set([0, 1, 2, 3]));
    expect(v.filter((x) => x.verdict === "proven").every((x) => x.trust !== null)).toBe(true);
    expect(v.some((x) => x.reasons.includes("missing-events") && x.trust !== null)).toBe(true);
    expect(v.some((x) => x.file === "attacker-keys.json" && x.verdict === "invalid")).toBe(true);
  });

  it(
    "each gets its expected verdict from `latchkey verify` (exit code, reasons, first element)",
    { timeout: 180_000 },
    async () => {
      const runs = await pool(manifest.vectors, 3, async (v) => {
        const args = [join(VECTORS_DIR, v.file), "--json"];
        if (v.trust !== null) args.push("--trust", join(VECTORS_DIR, v.trust));
        return { v, args, json: await latchkeyVerify(args) };
      });
      for (const { v, json } of runs) {
        expect(json.code, `${label(v)}: ${json.stderr}`).toBe(v.exitCode);
        const c = (JSON.parse(json.stdout) as { conclusion: Conclusion }).conclusion;
        expect([c.verdict, c.exitCode], label(v)).toEqual([v.verdict, v.exitCode]);
        expect(
          c.reasons.map((r) => r.code),
          label(v),
        ).toEqual(v.reasons);
        expect(c.reasons[0]?.element ?? null, label(v)).toBe(v.element);
      }
      // The text output of one vector per verdict: the headline comes first, on stdout for 0 and 3.
      const one = [0, 1, 2, 3].map((code) => runs.find((r) => r.v.exitCode === code)!);
      for (const { v, args } of one) {
        const text = await latchkeyVerify(args.filter((a) => a !== "--json"));
        expect(text.code, label(v)).toBe(v.exitCode);
        const shown = v.exitCode === 0 || v.exitCode === 3 ? text.stdout : text.stderr;
        expect(shown, label(v)).toMatch(new RegExp(`^(latchkey verify: )?${HEADLINES[v.verdict]}: `));
      }
    },
  );
});
