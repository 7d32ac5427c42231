import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLatchkeyError } from "../errors/error.js";
import { fromHex, toHex } from "../encoding/bytes.js";
import { epochMs } from "../units.js";
import {
  decodeLedgerLeaf,
  encodeLedgerLeaf,
  encodeLockEventLeaf,
  leafAssurance,
  LedgerLeafKind,
  type LedgerLeaf,
} from "./leaf.js";

const lockId = fromHex("00112233445566778899aabbccddeeff");

const samples: LedgerLeaf[] = [
  {
    kind: LedgerLeafKind.LockEvent,
    hubTimeMs: epochMs(1_700_000_000_000),
    lockId,
    record: Uint8Array.of(0xde, 0xad),
  },
  {
    kind: LedgerLeafKind.ObservedEvent,
    hubTimeMs: epochMs(5),
    lockId,
    bridge: "matter",
    observedAtMs: epochMs(4),
    payload: Uint8Array.of(1, 2, 3),
  },
  {
    kind: LedgerLeafKind.AdminAction,
    hubTimeMs: epochMs(6),
    actor: "user:7",
    action: "grant.create",
    target: "door:front",
    details: new Uint8Array(0),
  },
  {
    kind: LedgerLeafKind.Heartbeat,
    hubTimeMs: epochMs(7),
    lockId,
    lastSeq: 42,
    headHash: new Uint8Array(32).fill(0xab),
    online: true,
  },
];

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

describe("ledger leaf codec", () => {
  it("encodes a lock-event leaf to golden bytes", () => {
    const expected =
      // "latchkey/ledger-leaf/v1" purpose tag (23 bytes)
      "6c617463686b65792f6c65646765722d6c6561662f7631" +
      "01" + // kind 1 = lock event
      "0000018bcfe56800" + // hubTimeMs 1 700 000 000 000
      "00112233445566778899aabbccddeeff" + // lockId (16 bytes)
      "0002" + // record length 2
      "dead"; // the lock's signed journal record, verbatim
    expect(toHex(encodeLedgerLeaf(samples[0]!))).toBe(expected);
  });

  it("round-trips every kind and names its assurance", () => {
    for (const leaf of samples) {
      const bytes = encodeLedgerLeaf(leaf);
      expect(decodeLedgerLeaf(bytes)).toEqual(leaf);
      expect(toHex(encodeLedgerLeaf(decodeLedgerLeaf(bytes)))).toBe(toHex(bytes));
    }
    expect(samples.map(leafAssurance)).toEqual([
      "sealed-by-lock",
      "observed-by-hub",
      "hub-attested",
      "observed-by-hub",
    ]);
  });

  it("rejects a wrong tag, an unknown kind, trailing bytes and bad flags with stable codes", () => {
    const good = encodeLedgerLeaf(samples[3]!);
    const wrongTag = good.slice();
    wrongTag[0] = 0x4c;
    expect(code(() => decodeLedgerLeaf(wrongTag))).toBe("LEDGER_LEAF_MALFORMED");
    const unknownKind = good.slice();
    unknownKind[23] = 9;
    expect(code(() => decodeLedgerLeaf(unknownKind))).toBe("LEDGER_LEAF_MALFORMED");
    expect(code(() => decodeLedgerLeaf(Uint8Array.of(...good, 0)))).toBe("LK_DECODE_TRAILING");
    expect(code(() => decodeLedgerLeaf(good.slice(0, -1)))).toBe("LK_DECODE_TRUNCATED");
    const badFlag = good.slice();
    badFlag[badFlag.length - 1] = 2;
    expect(code(() => decodeLedgerLeaf(badFlag))).toBe("LEDGER_LEAF_MALFORMED");
    expect(code(() => encodeLedgerLeaf({ ...samples[2]!, action: "x".repeat(65) } as LedgerLeaf))).toBe(
      "LEDGER_LEAF_MALFORMED",
    );
    expect(code(() => encodeLedgerLeaf({ ...samples[0]!, lockId: new Uint8Array(15) } as LedgerLeaf))).toBe(
      "LEDGER_LEAF_MALFORMED",
    );
  });

  it("never throws anything but a LatchkeyError on random or mutated bytes (fuzz)", () => {
    const valid = samples.map(encodeLedgerLeaf);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          fc.tuple(fc.nat(3), fc.nat(200), fc.integer({ min: 0, max: 255 })).map(([k, i, b]) => {
            const m = valid[k]!.slice();
            m[i % m.length] = b;
            return m;
          }),
          fc.tuple(fc.nat(3), fc.nat(200)).map(([k, n]) => valid[k]!.slice(0, n)),
        ),
        (input) => {
          try {
            const leaf = decodeLedgerLeaf(input);
            expect(toHex(encodeLedgerLeaf(leaf))).toBe(toHex(input)); // canonical: one encoding per leaf
          } catch (e) {
            expect(isLatchkeyError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("encodeLockEventLeaf (the verifier's one-allocation path)", () => {
  it("writes exactly what encodeLedgerLeaf writes for a LockEvent, and refuses what it refuses", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.constant(-1), fc.constant(2 ** 53)),
        fc.uint8Array({ minLength: 15, maxLength: 17 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        (hubTimeMs, id, record) => {
          const outcome = (fn: () => Uint8Array): string => {
            try {
              return toHex(fn());
            } catch (e) {
              if (!isLatchkeyError(e)) throw e;
              return e.code;
            }
          };
          const t = hubTimeMs as ReturnType<typeof epochMs>;
          expect(outcome(() => encodeLockEventLeaf(t, id, record))).toBe(
            outcome(() =>
              encodeLedgerLeaf({ kind: LedgerLeafKind.LockEvent, hubTimeMs: t, lockId: id, record }),
            ),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
