/**
 * The parallel signature check must not change a verdict: on every evidence vector, the sample
 * bundles and a bundle with one event's signature damaged, verification with worker threads
 * gives exactly the one-thread result (status and failure, or the verified bundle).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  encodeEvidenceBundle,
  parseEvidenceBundle,
  readEvidenceBundle,
  verifyEvidenceBundle,
  verifyParsedEvidenceBundle,
  type EvidenceVerification,
} from "@latchkey/protocol";
import { nodeEd25519, nodeSha256Parts } from "@latchkey/protocol/node";
import { nodeMerkleHasher } from "../ledger/index.js";
import { startParallelSignatures } from "./parallel-signatures.js";

const examples = join(import.meta.dirname, "../../../../examples/evidence");
const opts = { hasher: nodeMerkleHasher, sha256: nodeSha256Parts };

function oneThread(file: Uint8Array): EvidenceVerification {
  return verifyEvidenceBundle(file, { ed25519: nodeEd25519, ...opts });
}

function parallel(file: Uint8Array): EvidenceVerification {
  const parsed = readEvidenceBundle(file, nodeSha256Parts);
  if (parsed.bundle === null) return parsed.result;
  const signatures = startParallelSignatures(parsed.bundle, nodeEd25519, { minEvents: 0, workers: 2 });
  try {
    return verifyParsedEvidenceBundle(parsed, { ed25519: signatures.ed25519, ...opts });
  } finally {
    signatures.stop();
  }
}

const files = [
  ...readdirSync(join(examples, "vectors"))
    .filter((f) => f.endsWith(".json") && f !== "manifest.json" && !f.startsWith("trust-"))
    .map((f) => join(examples, "vectors", f)),
  join(examples, "sample-bundle.json"),
  join(examples, "sample-tampered.json"),
];

describe("parallel signature check", () => {
  it.each(files)("gives the one-thread verdict on %s", (path) => {
    const file = new Uint8Array(readFileSync(path));
    expect(parallel(file)).toEqual(oneThread(file));
  });

  it("names the same event when one event's signature is damaged", () => {
    const sample = new Uint8Array(readFileSync(join(examples, "sample-bundle.json")));
    const bundle = parseEvidenceBundle(sample);
    const lock = bundle.locks[0]!;
    const k = Math.floor(lock.events.length / 2);
    const record = lock.events[k]!.record.slice();
    record[record.length - 1]! ^= 1;
    const events = lock.events.map((e, i) => (i === k ? { ...e, record } : e));
    const damaged = encodeEvidenceBundle({
      ...bundle,
      locks: [{ ...lock, events }, ...bundle.locks.slice(1)],
    });
    const expected = oneThread(damaged);
    expect(expected.status).toBe("invalid");
    expect(expected.status === "invalid" && expected.failure.reason).toBe("bad-signature");
    expect(parallel(damaged)).toEqual(expected);
  });

  it("takes the workers' answers for the events' signatures", async () => {
    const file = new Uint8Array(readFileSync(join(examples, "sample-bundle.json")));
    const parsed = readEvidenceBundle(file, nodeSha256Parts);
    if (parsed.bundle === null) throw new Error("sample does not parse");
    let ownChecks = 0;
    const counting = {
      ...nodeEd25519,
      verify: (p: Uint8Array, m: Uint8Array, s: Uint8Array) => (ownChecks++, nodeEd25519.verify(p, m, s)),
    };
    const signatures = startParallelSignatures(parsed.bundle, counting, { minEvents: 0, workers: 1 });
    // Give the worker time to check every event before the verifier asks.
    await new Promise((r) => setTimeout(r, 1000));
    const result = verifyParsedEvidenceBundle(parsed, { ed25519: signatures.ed25519, ...opts });
    signatures.stop();
    expect(result).toEqual(oneThread(file));
    const events = parsed.bundle.locks.reduce((n, l) => n + l.events.length, 0);
    // Left to this thread: the commissioning records, the checkpoints and the seal.
    expect(ownChecks).toBeLessThan(parsed.bundle.locks.length + parsed.bundle.checkpoints.length + 2);
    expect(events).toBeGreaterThan(10);
  });
});
