import { describe, expect, it } from "vitest";
import { nobleEd25519 as ed } from "../crypto/ed25519.js";
import { signCheckpoint } from "../note/checkpoint.js";
import { signCosignature } from "../note/cosignature.js";
import { ed25519NoteSigner, formatSignatureLine, parseNote } from "../note/signed-note.js";
import { checkBundleWitnesses } from "./witnesses.js";

const hub = ed25519NoteSigner("hub.test/ledger", new Uint8Array(32).fill(1), ed);
const seeds = [new Uint8Array(32).fill(11), new Uint8Array(32).fill(12)];
const pinned = [
  { name: "w.test/a", publicKey: ed.publicKey(seeds[0]!) },
  { name: "w.test/b", publicKey: ed.publicKey(seeds[1]!) },
];
const cp = (size: number) =>
  signCheckpoint({ origin: hub.name, size, rootHash: new Uint8Array(32).fill(size), extensions: [] }, hub);
/** The checkpoint of `size` cosigned by the pinned witnesses at `who` (indexes). */
function cosigned(size: number, who: number[], tamper = false): string {
  const note = cp(size);
  const text = parseNote(note).text;
  return (
    note +
    who
      .map((i) => {
        const s = signCosignature(text, pinned[i]!.name, seeds[i]!, 1_800_000_000 + i, ed);
        return formatSignatureLine(
          tamper ? { ...s, signature: s.signature.map((b, k) => (k === 9 ? b ^ 1 : b)) } : s,
        );
      })
      .join("")
  );
}

describe("checkBundleWitnesses (pinned witnesses on an evidence bundle's checkpoints)", () => {
  it("requires every pinned witness on the head by default, and reports who cosigned what", () => {
    const r = checkBundleWitnesses([cosigned(3, [0]), cosigned(9, [0, 1])], [3, 9], pinned, undefined, ed);
    expect("facts" in r && r.facts).toEqual([
      {
        checkpointIndex: 0,
        size: 3,
        cosigned: [{ name: "w.test/a", timestamp: 1_800_000_000 }],
        missing: ["w.test/b"],
      },
      {
        checkpointIndex: 1,
        size: 9,
        cosigned: [
          { name: "w.test/a", timestamp: 1_800_000_000 },
          { name: "w.test/b", timestamp: 1_800_000_001 },
        ],
        missing: [],
      },
    ]);
    const short = checkBundleWitnesses(
      [cosigned(3, [0, 1]), cosigned(9, [1])],
      [3, 9],
      pinned,
      undefined,
      ed,
    );
    expect("failure" in short && short.failure).toMatchObject({
      element: "checkpoints[1]",
      reason: "not-witnessed",
    });
    expect(checkBundleWitnesses([cp(9)], [9], [], undefined, ed)).toEqual({ facts: [] });
  });

  it("accepts k of n with witnessThreshold, refuses forged cosignatures anywhere and bad options", () => {
    expect("facts" in checkBundleWitnesses([cosigned(9, [1])], [9], pinned, 1, ed)).toBe(true);
    expect(checkBundleWitnesses([cp(9)], [9], pinned, 1, ed)).toMatchObject({
      failure: { reason: "not-witnessed" },
    });
    const forged = checkBundleWitnesses([cosigned(3, [0], true), cosigned(9, [0, 1])], [3, 9], pinned, 1, ed);
    expect("failure" in forged && forged.failure).toMatchObject({
      element: "checkpoints[0]",
      reason: "bad-signature",
    });
    for (const t of [0, 3, 1.5])
      expect(checkBundleWitnesses([cp(9)], [9], pinned, t, ed)).toMatchObject({
        failure: { element: "witnessThreshold", reason: "malformed" },
      });
    expect(
      checkBundleWitnesses(
        [cp(9)],
        [9],
        [{ name: "bad name", publicKey: pinned[0]!.publicKey }],
        undefined,
        ed,
      ),
    ).toMatchObject({
      failure: { element: "witnessKeys[0]", reason: "malformed" },
    });
  });
});
