/**
 * Evidence bundles end to end: the sample is reproducible and verifies; every attack on it —
 * by someone who only has the file, and by a hub that holds its own signing key — is detected
 * and the first failing element is named.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import {
  ed25519NoteSigner,
  encodeEvidenceBundle,
  evidenceSealMessage,
  parseEvidenceBundle,
  parseNote,
  signCheckpoint,
  unsealedBundleBytes,
  verifyEvidenceBundle,
  type EvidenceBundle,
  type EvidenceVerification,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { nodeMerkleHasher } from "../ledger/index.js";
import { runSampleScenario, SAMPLE_ORIGIN, sampleKeys, type SampleEvidence } from "./sample-scenario.js";

const examples = join(import.meta.dirname, "../../../../examples/evidence");
const committed = new Uint8Array(readFileSync(join(examples, "sample-bundle.json")));
const verify = (b: Uint8Array): EvidenceVerification =>
  verifyEvidenceBundle(b, { ed25519: nodeEd25519, hasher: nodeMerkleHasher });

function failureOf(b: Uint8Array): { element: string; reason: string } {
  const r = verify(b);
  if (r.status === "valid") throw new Error("expected the bundle to be refused");
  return { element: r.failure.element, reason: r.failure.reason };
}

/** Re-seals a modified bundle with the (demo) hub key: the attacker is the hub itself. */
function reseal(b: Omit<EvidenceBundle, "seal">): Uint8Array {
  const signer = ed25519NoteSigner(SAMPLE_ORIGIN, sampleKeys().hubSeed, nodeEd25519);
  const unsealed = { ...b } as Omit<EvidenceBundle, "seal"> & { seal?: Uint8Array };
  delete unsealed.seal;
  return encodeEvidenceBundle({
    ...unsealed,
    seal: signer.sign(evidenceSealMessage(unsealedBundleBytes(unsealed))),
  });
}

function withEvents(
  b: EvidenceBundle,
  edit: (events: EvidenceBundle["locks"][0]["events"][number][]) => void,
): EvidenceBundle {
  const lock = b.locks[0]!;
  const events = [...lock.events];
  edit(events);
  return { ...b, locks: [{ ...lock, events }] };
}

let sample: SampleEvidence;
beforeAll(async () => {
  sample = await runSampleScenario();
});

describe("the sample bundle", () => {
  it("is reproducible byte for byte, verifies, and tells the night in plain words", async () => {
    const again = await runSampleScenario();
    expect(Buffer.from(again.bytes).equals(Buffer.from(sample.bytes))).toBe(true);
    expect(verify(sample.bytes).status).toBe("valid");
    expect(sample.report.doors[0]?.summary).toMatch(
      /^Front door was locked with the door closed at 21:30:00; .*locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised; tamper alarm \(FrontEscutcheonRemoved\) 03:12:41/,
    );
  });

  it("the committed sample (examples/evidence) verifies too, with the same story", () => {
    const result = verify(committed);
    expect(result.status).toBe("valid");
    expect(readFileSync(join(examples, "sample-report.html"), "utf8")).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised",
    );
  });

  it("carries the lock's acknowledgement of a checkpoint after the break-in", () => {
    const acks = sample.report.trust?.lockAcknowledgements ?? [];
    expect(acks.at(-1)?.local).toBe("2026-03-07 03:15:02");
  });
});

describe("attacks by someone holding only the file (the seal is intact)", () => {
  // Every position takes ~10 minutes; set LATCHKEY_EVIDENCE_EVERY_BYTE=1 to run them all.
  const every = process.env.LATCHKEY_EVIDENCE_EVERY_BYTE === "1";
  it(
    `detects a change of any byte (${every ? "every position" : "sampled: every 149th position plus the first and last 64"})`,
    { timeout: every ? 7_200_000 : 60_000 },
    () => {
      const base = sample.bytes;
      const positions = new Set<number>();
      for (let i = 0; i < base.length; i += every ? 1 : 149) positions.add(i);
      for (let i = 0; i < 64; i++) positions.add(i).add(base.length - 1 - i);
      for (const i of positions) {
        const b = base.slice();
        b[i] = (b[i] ?? 0) ^ 0x01;
        const r = verify(b);
        expect(r.status, `byte ${i}`).not.toBe("valid");
        if (r.status !== "valid") expect(r.failure.element.length).toBeGreaterThan(0);
      }
    },
  );

  it("names the seal when only unsigned fields change (window, export time)", () => {
    const b = parseEvidenceBundle(sample.bytes);
    const moved = encodeEvidenceBundle({
      ...b,
      window: { ...b.window, from: (b.window.from + 1) as typeof b.window.from },
    });
    expect(failureOf(moved)).toEqual({ element: "seal", reason: "bad-signature" });
    const later = encodeEvidenceBundle({ ...b, generatedAt: (b.generatedAt + 1) as typeof b.generatedAt });
    expect(failureOf(later)).toEqual({ element: "seal", reason: "bad-signature" });
  });

  it("detects a deleted event even without re-sealing", () => {
    const b = withEvents(parseEvidenceBundle(sample.bytes), (e) => e.splice(20, 1));
    expect(failureOf(encodeEvidenceBundle(b))).toEqual({ element: "locks[0].events[20]", reason: "gap" });
  });
});

describe("attacks by the hub itself (re-sealed with the hub's own key)", () => {
  const bundle = () => parseEvidenceBundle(sample.bytes);

  it("a deleted event is a gap at its position", () => {
    expect(failureOf(reseal(withEvents(bundle(), (e) => e.splice(20, 1))))).toEqual({
      element: "locks[0].events[20]",
      reason: "gap",
    });
  });

  it("two reordered events are named", () => {
    const b = withEvents(bundle(), (e) => {
      const [x, y] = [e[30]!, e[31]!];
      e[30] = y;
      e[31] = x;
    });
    expect(failureOf(reseal(b))).toEqual({ element: "locks[0].events[30]", reason: "gap" });
  });

  it("a truncated log is named", () => {
    expect(failureOf(reseal(withEvents(bundle(), (e) => e.splice(e.length - 5, 5))))).toEqual({
      element: "locks[0].events",
      reason: "truncated",
    });
    expect(failureOf(reseal(withEvents(bundle(), (e) => e.splice(0, 3))))).toEqual({
      element: "locks[0].events",
      reason: "truncated",
    });
  });

  it("an older checkpoint swapped in for the head leaves every event unproven", () => {
    const b = bundle();
    const older = sample.allCheckpoints.at(-2)!;
    const checkpoints = [...b.checkpoints.slice(0, -2), older];
    const consistency = b.consistency.slice(0, -1);
    expect(failureOf(reseal({ ...b, checkpoints, consistency }))).toEqual({
      element: "locks[0].events[0]",
      reason: "not-included",
    });
  });

  it("an older checkpoint swapped in for the one the lock acknowledged is named at the acknowledgement", () => {
    const b = bundle();
    const acked = parseNote(b.checkpoints[0]!).text;
    const index = sample.allCheckpoints.findIndex((n) => parseNote(n).text === acked);
    const checkpoints = [sample.allCheckpoints[index - 1]!, ...b.checkpoints.slice(1)];
    const f = failureOf(reseal({ ...b, checkpoints }));
    expect(f.reason).toBe("missing-checkpoint");
    expect(f.element).toMatch(/^locks\[0\]\.events\[\d+\]$/);
  });

  it("a replaced lock key (every event re-signed by an impostor lock) fails the commissioning record", async () => {
    const impostor = await runSampleScenario({
      lockRandomness: "an impostor lock",
      commissioning: bundle().locks[0]!.commissioning,
    });
    expect(failureOf(impostor.bytes)).toEqual({
      element: "locks[0].commissioning",
      reason: "wrong-lock-key",
    });
  });

  it("a fork: two checkpoints of the same size with different roots", () => {
    const b = bundle();
    const signer = ed25519NoteSigner(SAMPLE_ORIGIN, sampleKeys().hubSeed, nodeEd25519);
    const first = parseNote(b.checkpoints[0]!).text.split("\n");
    const forked = signCheckpoint(
      { origin: SAMPLE_ORIGIN, size: Number(first[1]), rootHash: new Uint8Array(32).fill(9), extensions: [] },
      signer,
    );
    const checkpoints = [b.checkpoints[0]!, forked, ...b.checkpoints.slice(1)];
    const consistency = [[], ...b.consistency];
    expect(failureOf(reseal({ ...b, checkpoints, consistency }))).toEqual({
      element: "checkpoints[1]",
      reason: "fork",
    });
  });

  it("a fork: a checkpoint other than the one the lock acknowledged at that size", () => {
    const b = bundle();
    const signer = ed25519NoteSigner(SAMPLE_ORIGIN, sampleKeys().hubSeed, nodeEd25519);
    const size = Number(parseNote(b.checkpoints[0]!).text.split("\n")[1]);
    const forked = signCheckpoint(
      { origin: SAMPLE_ORIGIN, size, rootHash: new Uint8Array(32).fill(9), extensions: [] },
      signer,
    );
    expect(failureOf(reseal({ ...b, checkpoints: [forked, ...b.checkpoints.slice(1)] }))).toEqual({
      element: "checkpoints[0]",
      reason: "fork",
    });
  });

  it("a checkpoint not signed by the ledger key is named", () => {
    const b = bundle();
    const stranger = ed25519NoteSigner(SAMPLE_ORIGIN, new Uint8Array(32).fill(5), nodeEd25519);
    const text = parseNote(b.checkpoints[1]!).text.split("\n");
    const note = signCheckpoint(
      {
        origin: SAMPLE_ORIGIN,
        size: Number(text[1]),
        rootHash: Buffer.from(text[2]!, "base64"),
        extensions: [],
      },
      stranger,
    );
    const checkpoints = [...b.checkpoints];
    checkpoints[1] = note;
    expect(failureOf(reseal({ ...b, checkpoints }))).toEqual({
      element: "checkpoints[1]",
      reason: "bad-signature",
    });
  });
});
