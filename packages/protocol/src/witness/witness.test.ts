import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLatchkeyError, type LatchkeyError } from "../errors/error.js";
import { nobleEd25519 as ed } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { MemoryMerkleTree } from "../merkle/tree.js";
import { sha256MerkleHasher } from "../merkle/hasher.js";
import { signCheckpoint } from "../note/checkpoint.js";
import { signCosignature } from "../note/cosignature.js";
import { ed25519NoteSigner, formatNote, formatSignatureLine, parseNote } from "../note/signed-note.js";
import {
  ADD_CHECKPOINT_MAX_REQUEST_BYTES,
  encodeAddCheckpointRequest,
  formatAddCheckpointResponse,
  formatTlogSize,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
  parseTlogSize,
  type AddCheckpointRequest,
} from "./add-checkpoint.js";
import { checkAddCheckpoint, verifyWitnessCosignatures, type WitnessLogState } from "./witness.js";

function thrown(fn: () => unknown): LatchkeyError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e;
  }
}
const code = (fn: () => unknown): string | null => thrown(fn)?.code ?? null;

// c2sp.org/tlog-witness, "add-checkpoint": the example request and response bodies.
const SPEC_REQUEST = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;
const SPEC_RESPONSE = `— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
`;

const ORIGIN = "hub.test/ledger";
const logSigner = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(1), ed);
const otherSigner = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(2), ed);
const W_SEED = new Uint8Array(32).fill(9);
const W_NAME = "witness.test/w1";

function tree(n: number, salt = 0): MemoryMerkleTree {
  const t = new MemoryMerkleTree(sha256MerkleHasher);
  for (let i = 0; i < n; i++) t.appendData(Uint8Array.of(i & 0xff, i >> 8, salt));
  return t;
}
function note(t: MemoryMerkleTree, size = t.size, signer = logSigner): string {
  return signCheckpoint({ origin: signer.name, size, rootHash: t.root(size), extensions: [] }, signer);
}

describe("tlog-witness add-checkpoint codecs", () => {
  it("parses the spec's example request and re-encodes it byte for byte", () => {
    const req = parseAddCheckpointRequest(new TextEncoder().encode(SPEC_REQUEST));
    expect(req.oldSize).toBe(20852014);
    expect(req.proof.map((h) => h.length)).toEqual([32, 32, 32, 32]);
    expect(parseNote(req.checkpoint).signatures).toHaveLength(2);
    expect(encodeAddCheckpointRequest(req)).toBe(SPEC_REQUEST);
  });

  it("parses the spec's example response (three lines, two witnesses)", () => {
    const sigs = parseAddCheckpointResponse(SPEC_RESPONSE);
    expect(sigs.map((s) => s.name)).toEqual([
      "witness.example/w1",
      "witness.example/w1",
      "witness.example/w2",
    ]);
    expect(formatAddCheckpointResponse(sigs)).toBe(SPEC_RESPONSE);
  });

  it("round-trips any valid request (fuzz)", () => {
    const cp = note(tree(3));
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 63 }),
        (oldSize, proof) => {
          const req: AddCheckpointRequest = { oldSize, proof: oldSize === 0 ? [] : proof, checkpoint: cp };
          const back = parseAddCheckpointRequest(encodeAddCheckpointRequest(req));
          expect(back.oldSize).toBe(req.oldSize);
          expect(back.proof.map(toHex)).toEqual(req.proof.map(toHex));
          expect(back.checkpoint).toBe(cp);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses every malformed request with WITNESS_REQUEST_MALFORMED", () => {
    const cp = note(tree(3));
    const h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
    const bad = [
      "",
      `\n${cp}`, // no old line
      `old\n\n${cp}`,
      `old 01\n\n${cp}`, // leading zero
      `old -1\n\n${cp}`,
      `old 1.0\n\n${cp}`,
      `old  1\n\n${cp}`,
      `Old 1\n\n${cp}`,
      `old 99999999999999999\n\n${cp}`, // above 2^53 − 1
      `old 0\n${h}\n\n${cp}`, // a proof with old 0
      `old 5\n${"A".repeat(40)}AA==\n\n${cp}`, // 31 bytes
      `old 5\n${h}x\n\n${cp}`,
      `old 5\n${h} \n\n${cp}`,
      `old 5\n${`${h}\n`.repeat(64)}\n${cp}`, // 64 proof lines
      `old 5\n${h}\n`, // no empty line
      `old 5\n\nnot a note\n`,
      `old 5\n\n${cp.replace("\n\n", "\n")}`,
      `old 5\n\n${"x".repeat(ADD_CHECKPOINT_MAX_REQUEST_BYTES)}`,
    ];
    bad.forEach((body, i) =>
      expect(
        code(() => parseAddCheckpointRequest(body)),
        `case ${i}`,
      ).toBe("WITNESS_REQUEST_MALFORMED"),
    );
    expect(code(() => parseAddCheckpointRequest(Uint8Array.of(0x6f, 0x6c, 0x64, 0x20, 0xff)))).toBe(
      "WITNESS_REQUEST_MALFORMED",
    );
    // 63 proof lines is the limit, and it is accepted.
    expect(parseAddCheckpointRequest(`old 5\n${`${h}\n`.repeat(63)}\n${cp}`).proof).toHaveLength(63);
    for (const req of [
      { oldSize: -1, proof: [], checkpoint: cp },
      { oldSize: 1, proof: [new Uint8Array(31)], checkpoint: cp },
      { oldSize: 0, proof: [new Uint8Array(32)], checkpoint: cp },
      { oldSize: 1, proof: Array.from({ length: 64 }, () => new Uint8Array(32)), checkpoint: cp },
      { oldSize: 1, proof: [], checkpoint: "no signatures\n" },
    ])
      expect(code(() => encodeAddCheckpointRequest(req))).toBe("WITNESS_REQUEST_MALFORMED");
  });

  it("never throws anything but WITNESS_REQUEST_MALFORMED on random or mutated requests (fuzz)", () => {
    const valid = new TextEncoder().encode(SPEC_REQUEST);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
            const m = valid.slice();
            m[i] = b;
            return m;
          }),
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
          fc.string({ maxLength: 120 }).map((s) => `old ${s}\n\n${s}\n\n— ${s}\n`),
        ),
        (input) => {
          try {
            const req = parseAddCheckpointRequest(input);
            // Whatever parses re-encodes to the same text: one encoding per request.
            const text = typeof input === "string" ? input : new TextDecoder().decode(input);
            expect(encodeAddCheckpointRequest(req)).toBe(text);
          } catch (e) {
            expect(isLatchkeyError(e, "WITNESS_REQUEST_MALFORMED")).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("parses responses strictly and never throws anything but WITNESS_RESPONSE_MALFORMED (fuzz)", () => {
    for (const bad of [
      "",
      "\n",
      SPEC_RESPONSE.slice(0, -1), // no final newline
      SPEC_RESPONSE + "\n", // empty line
      "— witness.example/w1\n",
      "- witness.example/w1 AAAAAAA=\n",
      "— a AAAA\n", // fewer than 5 bytes
      "— a AAAAAAA=\n".repeat(101),
      "— a AAAAAAA=\n".repeat(2000),
    ])
      expect(
        code(() => parseAddCheckpointResponse(bad)),
        JSON.stringify(bad.slice(0, 40)),
      ).toBe("WITNESS_RESPONSE_MALFORMED");
    const valid = new TextEncoder().encode(SPEC_RESPONSE);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
            const m = valid.slice();
            m[i] = b;
            return m;
          }),
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
        ),
        (input) => {
          try {
            const sigs = parseAddCheckpointResponse(input);
            expect(formatAddCheckpointResponse(sigs)).toBe(new TextDecoder().decode(input));
          } catch (e) {
            expect(isLatchkeyError(e, "WITNESS_RESPONSE_MALFORMED")).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("encodes the 409 text/x.tlog.size body as a decimal and a newline", () => {
    expect(formatTlogSize(20852163)).toBe("20852163\n");
    expect(parseTlogSize(new TextEncoder().encode("0\n"))).toBe(0);
    expect(parseTlogSize("20852163\n")).toBe(20852163);
    for (const bad of ["", "5", "05\n", "-1\n", "5 \n", "5\n\n", "99999999999999999\n", "x".repeat(40)])
      expect(
        code(() => parseTlogSize(bad)),
        bad,
      ).toBe("WITNESS_RESPONSE_MALFORMED");
  });
});

describe("the witness's decision (tlog-witness add-checkpoint)", () => {
  const t = tree(20);
  const logs = new Map([[ORIGIN, logSigner.publicKey]]);
  const decide = (req: AddCheckpointRequest, state?: WitnessLogState) =>
    checkAddCheckpoint(req, { logs, stored: (o) => (o === ORIGIN ? state : undefined), ed });
  const at = (size: number): WitnessLogState => ({ size, rootHash: t.root(size) });

  it("cosigns a first checkpoint (old 0), an extension with a valid proof, and the same checkpoint again", () => {
    const first = decide({ oldSize: 0, proof: [], checkpoint: note(t, 8) });
    expect(first.next.size).toBe(8);
    expect(first.text).toBe(parseNote(note(t, 8)).text);
    const next = decide({ oldSize: 8, proof: t.consistencyProof(8, 20), checkpoint: note(t, 20) }, at(8));
    expect(toHex(next.next.rootHash)).toBe(toHex(t.root(20)));
    expect(decide({ oldSize: 20, proof: [], checkpoint: note(t, 20) }, at(20)).next.size).toBe(20);
    // Extra signatures by unknown keys are ignored (the request may carry several).
    const withOther =
      note(t, 20) + formatSignatureLine({ name: "someone", keyId: 1, signature: new Uint8Array(64) });
    expect(decide({ oldSize: 20, proof: [], checkpoint: withOther }, at(20)).next.size).toBe(20);
  });

  it("answers 404 for an unknown origin and 403 without a verifiable log signature", () => {
    const stranger = ed25519NoteSigner("other.test/ledger", new Uint8Array(32).fill(1), ed);
    const e404 = thrown(() => decide({ oldSize: 0, proof: [], checkpoint: note(t, 3, stranger) }));
    expect([e404?.code, e404?.status]).toEqual(["WITNESS_UNKNOWN_LOG", 404]);
    // Right origin, wrong key: an impostor's signature is from an unknown key, so none verifies.
    const e403 = thrown(() => decide({ oldSize: 0, proof: [], checkpoint: note(t, 3, otherSigner) }));
    expect([e403?.code, e403?.status]).toEqual(["WITNESS_LOG_SIGNATURE_INVALID", 403]);
    // The log's key name and key ID with a signature that does not verify.
    const good = parseNote(note(t, 3));
    const sig = good.signatures[0]!;
    const flipped = sig.signature.slice();
    flipped[0] = (flipped[0] as number) ^ 1;
    const forged = formatNote(good.text, [{ ...sig, signature: flipped }]);
    expect(code(() => decide({ oldSize: 0, proof: [], checkpoint: forged }))).toBe(
      "WITNESS_LOG_SIGNATURE_INVALID",
    );
  });

  it("answers 400 when old > size, 409 with the witness's size when old is stale, 409 for a fork", () => {
    const e400 = thrown(() =>
      decide({ oldSize: 9, proof: [new Uint8Array(32)], checkpoint: note(t, 8) }, at(9)),
    );
    expect([e400?.code, e400?.status]).toEqual(["WITNESS_REQUEST_MALFORMED", 400]);
    // Rollback: a smaller checkpoint claimed to extend what the witness never saw.
    const stale = thrown(() => decide({ oldSize: 0, proof: [], checkpoint: note(t, 5) }, at(12)));
    expect([stale?.code, stale?.status, stale?.details?.size]).toEqual(["WITNESS_CONFLICT", 409, 12]);
    const wrongOld = thrown(() =>
      decide({ oldSize: 8, proof: t.consistencyProof(8, 20), checkpoint: note(t, 20) }, at(12)),
    );
    expect(wrongOld?.details).toMatchObject({ size: 12, fork: false });
    // Fork: same size, another root.
    const forkTree = tree(12, 1);
    const fork = thrown(() => decide({ oldSize: 12, proof: [], checkpoint: note(forkTree, 12) }, at(12)));
    expect([fork?.code, fork?.details?.fork]).toEqual(["WITNESS_CONFLICT", true]);
  });

  it("answers 422 when the consistency proof does not lead from its state to the new root", () => {
    const forkTree = tree(20, 1); // a rewritten history of the same length
    const e = thrown(() =>
      decide({ oldSize: 8, proof: forkTree.consistencyProof(8, 20), checkpoint: note(forkTree, 20) }, at(8)),
    );
    expect([e?.code, e?.status]).toEqual(["WITNESS_PROOF_INVALID", 422]);
    // A correct proof for the new tree but from another old root (the log rewrote leaves 0..7).
    const rewritten = tree(20, 2);
    expect(
      code(() =>
        decide(
          { oldSize: 8, proof: rewritten.consistencyProof(8, 20), checkpoint: note(rewritten, 20) },
          at(8),
        ),
      ),
    ).toBe("WITNESS_PROOF_INVALID");
    expect(code(() => decide({ oldSize: 8, proof: [], checkpoint: note(t, 20) }, at(8)))).toBe(
      "WITNESS_PROOF_INVALID",
    );
    expect(
      code(() =>
        decide({ oldSize: 8, proof: t.consistencyProof(8, 20).slice(1), checkpoint: note(t, 20) }, at(8)),
      ),
    ).toBe("WITNESS_PROOF_INVALID");
    const emptyWithBadRoot = signCheckpoint(
      { origin: ORIGIN, size: 0, rootHash: new Uint8Array(32), extensions: [] },
      logSigner,
    );
    expect(code(() => decide({ oldSize: 0, proof: [], checkpoint: emptyWithBadRoot }))).toBe(
      "WITNESS_PROOF_INVALID",
    );
  });
});

describe("verifyWitnessCosignatures", () => {
  const t = tree(5);
  const cp = note(t);
  const text = parseNote(cp).text;
  const w1 = { name: W_NAME, publicKey: ed.publicKey(W_SEED) };
  const w2 = { name: "witness.test/w2", publicKey: ed.publicKey(new Uint8Array(32).fill(10)) };

  it("reports which pinned witnesses cosigned, ignoring unknown lines", () => {
    const sig = signCosignature(text, W_NAME, W_SEED, 1_800_000_000, ed);
    const stranger = signCosignature(text, "stranger", new Uint8Array(32).fill(3), 1, ed);
    const cosigned = cp + formatSignatureLine(stranger) + formatSignatureLine(sig);
    const r = verifyWitnessCosignatures(cosigned, [w1, w2], ed);
    expect(r.cosigned).toEqual([W_NAME]);
    expect(r.witnesses.map((w) => [w.name, w.status, w.timestamp])).toEqual([
      [W_NAME, "cosigned", 1_800_000_000],
      ["witness.test/w2", "missing", undefined],
    ]);
  });

  it("marks a cosignature over another checkpoint, or by another key under the name, invalid or missing", () => {
    const otherText = parseNote(note(tree(6))).text;
    const moved = signCosignature(otherText, W_NAME, W_SEED, 5, ed); // moved from another checkpoint
    expect(verifyWitnessCosignatures(cp + formatSignatureLine(moved), [w1], ed).witnesses[0]?.status).toBe(
      "invalid",
    );
    const impostor = signCosignature(text, W_NAME, new Uint8Array(32).fill(4), 5, ed); // other key, same name
    expect(verifyWitnessCosignatures(cp + formatSignatureLine(impostor), [w1], ed).witnesses[0]?.status).toBe(
      "missing",
    );
    expect(verifyWitnessCosignatures(cp, [w1], ed).cosigned).toEqual([]);
  });
});
