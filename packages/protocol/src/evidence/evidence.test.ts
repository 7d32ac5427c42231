import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/error.js";
import { lockIdBytesFromPublicKey } from "../journal/codec.js";
import { nodeEd25519 } from "../node/ed25519.js";
import type { EpochMs } from "../units.js";
import { parseEvidenceBundle } from "./bundle.js";
import { canonicalJson } from "./canonical-json.js";
import {
  decodeCommissioningRecord,
  encodeCommissioningRecordBody,
  signCommissioningRecord,
  verifyCommissioningRecordSignature,
} from "./commissioning-record.js";
import { buildEvidenceReport, renderEvidenceReportHtml } from "./report.js";
import { verifyEvidenceBundle } from "./verify.js";

const examples = join(import.meta.dirname, "../../../../examples/evidence");
const sample = new Uint8Array(readFileSync(join(examples, "sample-bundle.json")));
const tampered = new Uint8Array(readFileSync(join(examples, "sample-tampered.json")));

/** Runs `fn`; returns the LatchkeyError code it threw, "ok" if none, and rethrows anything else. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (isLatchkeyError(e)) return e.code;
    throw e;
  }
}

describe("canonical JSON (RFC 8785 subset)", () => {
  it("sorts keys by UTF-16 code units, drops whitespace, escapes like JSON.stringify", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x\n\u2014"], A: { z: -3 } })).toBe(
      '{"A":{"z":-3},"a":[true,null,"x\\n\u2014"],"b":1}',
    );
  });
  it("refuses numbers that are not safe integers", () => {
    for (const n of [1.5, 2 ** 53, -0, Number.NaN])
      expect(outcome(() => canonicalJson({ n }))).toBe("EVIDENCE_MALFORMED");
  });
});

describe("commissioning record", () => {
  // RFC 8032 test 1's secret key as the owner, test 2's as the lock: reproducible anywhere.
  const ownerSeed = Uint8Array.from(
    Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"),
  );
  const lockSeed = Uint8Array.from(
    Buffer.from("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "hex"),
  );
  const lockKey = nobleEd25519.publicKey(lockSeed);
  const record = {
    lockId: lockIdBytesFromPublicKey(lockKey),
    lockSigningKey: lockKey,
    ownerKey: nobleEd25519.publicKey(ownerSeed),
    ledgerKey: new Uint8Array(32).fill(0x11),
    commissionedAtMs: 1_772_820_000_000 as EpochMs,
    ledgerOrigin: "h/l",
    doorName: "Door",
    timeZone: "UTC",
  };

  it("has the documented layout (golden bytes)", () => {
    const body = encodeCommissioningRecordBody(record);
    const expected = [
      toHex(new TextEncoder().encode("latchkey/commissioning-record/v1")), // purpose tag, 32 bytes
      "39f713d0a644253f04529421b9f51b9b", // lockId: SHA-256(lock key)[:16]
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", // lockSigningKey (RFC 8032 test 2 public key)
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", // ownerKey (RFC 8032 test 1 public key)
      "11".repeat(32), // ledgerKey
      "0000019cc44e6d00", // commissionedAtMs = 1 772 820 000 000 = 0x19cc44e6d00, u64
      "0003" + "682f6c", // ledgerOrigin: u16 length 3, "h/l"
      "0004" + "446f6f72", // doorName: u16 length 4, "Door"
      "0003" + "555443", // timeZone: u16 length 3, "UTC"
    ].join("");
    expect(toHex(body)).toBe(expected);
  });

  it("round-trips, verifies, and refuses a changed byte", () => {
    const signed = signCommissioningRecord(record, ownerSeed, nobleEd25519);
    const decoded = decodeCommissioningRecord(signed.bytes);
    expect(verifyCommissioningRecordSignature(decoded, nobleEd25519)).toBe(true);
    const bad = signed.bytes.slice();
    bad[150] = (bad[150] ?? 0) ^ 1;
    expect(verifyCommissioningRecordSignature(decodeCommissioningRecord(bad), nobleEd25519)).toBe(false);
  });

  it("refuses a lock id that is not the key's and a seed that is not the owner's", () => {
    expect(outcome(() => encodeCommissioningRecordBody({ ...record, lockId: new Uint8Array(16) }))).toBe(
      "EVIDENCE_COMMISSIONING_INVALID",
    );
    expect(outcome(() => signCommissioningRecord(record, lockSeed, nobleEd25519))).toBe(
      "EVIDENCE_COMMISSIONING_INVALID",
    );
  });

  it("decoder throws only EVIDENCE_MALFORMED on random and mutated input", () => {
    const valid = signCommissioningRecord(record, ownerSeed, nobleEd25519).bytes;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        expect(["ok", "EVIDENCE_MALFORMED"]).toContain(outcome(() => decodeCommissioningRecord(b)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(8), (i, x, cut) => {
        const b = valid.slice(0, valid.length - cut);
        if (i < b.length) b[i] = (b[i] ?? 0) ^ x;
        expect(["ok", "EVIDENCE_MALFORMED"]).toContain(outcome(() => decodeCommissioningRecord(b)));
      }),
      { numRuns: 300 },
    );
  });
});

describe("bundle parser", () => {
  const STABLE = [
    "ok",
    "EVIDENCE_NOT_A_BUNDLE",
    "EVIDENCE_UNSUPPORTED_VERSION",
    "EVIDENCE_MALFORMED",
    "EVIDENCE_NON_CANONICAL",
  ];

  it("parses the committed sample and refuses a non-canonical copy, naming the byte", () => {
    expect(parseEvidenceBundle(sample).locks[0]?.events.length).toBeGreaterThan(50);
    const spaced = new TextEncoder().encode(
      new TextDecoder().decode(sample).replace('{"checkpoints"', '{ "checkpoints"'),
    );
    const e = (() => {
      try {
        parseEvidenceBundle(spaced);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(isLatchkeyError(e, "EVIDENCE_NON_CANONICAL") && e.details?.byte).toBe(1);
  });

  it("never throws anything but its stable errors (random bytes, random JSON, mutated sample)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(STABLE).toContain(outcome(() => parseEvidenceBundle(b)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const withMarker =
          typeof v === "object" && v !== null && !Array.isArray(v)
            ? { ...v, format: "latchkey-evidence", version: 1 }
            : v;
        const b = new TextEncoder().encode(JSON.stringify(withMarker) ?? "null");
        expect(STABLE).toContain(outcome(() => parseEvidenceBundle(b)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.nat(sample.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(sample.length),
        (i, x, cut) => {
          const b = sample.slice(0, cut === 0 ? sample.length : cut);
          if (i < b.length) b[i] = (b[i] ?? 0) ^ x;
          expect(STABLE).toContain(outcome(() => parseEvidenceBundle(b)));
          // The full verifier never throws either, whatever the input.
          expect(["valid", "invalid", "unreadable"]).toContain(
            verifyEvidenceBundle(b, { ed25519: nodeEd25519 }).status,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("verifier and report (pure, noble Ed25519 as in browsers)", () => {
  it("accepts the committed sample and states what is proven, in plain words", () => {
    const result = verifyEvidenceBundle(sample, { ed25519: nobleEd25519 });
    expect(result.status).toBe("valid");
    const report = buildEvidenceReport(result);
    const summary = report.doors[0]?.summary ?? "";
    expect(summary).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised; tamper alarm (FrontEscutcheonRemoved) 03:12:41",
    );
    expect(summary).toContain("refused: the credential is not known to the lock");
    expect(report.proven).toContain(
      "No valid credential was used at Front door between 2026-03-06 22:00:14 and 2026-03-07 03:25:02 (Europe/London), while it was locked.",
    );
    expect(report.doors[0]?.timeline.every((e) => e.assurance === "sealed-by-lock")).toBe(true);
    const html = renderEvidenceReportHtml(report);
    expect(html).toContain('data-verification="valid"');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it("rejects the committed tampered sample, naming the first bad event", () => {
    const result = verifyEvidenceBundle(tampered, { ed25519: nobleEd25519 });
    expect(result.status === "invalid" && result.failure.element).toBe("locks[0].events[0]");
    expect(buildEvidenceReport(result).proven).toEqual([]);
  });

  it("refuses a bundle whose owner key is not the pinned one", () => {
    const result = verifyEvidenceBundle(sample, {
      ed25519: nodeEd25519,
      expectOwnerKey: new Uint8Array(32).fill(7),
    });
    expect(result.status === "invalid" && result.failure.element).toBe("owner.publicKey");
  });
});
