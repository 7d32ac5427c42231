import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { fromHex, toHex } from "../encoding/bytes.js";
import { isLatchkeyError, LatchkeyError } from "../errors/error.js";
import { nodeEd25519 } from "../node/ed25519.js";
import { epochMs } from "../units.js";
import {
  decodeSignedLockEvent,
  encodeLockEventBody,
  encodeSignedLockEvent,
  EVENT_RECORD_MAX_BYTES,
  EVENT_RECORD_MIN_BYTES,
  LOCK_EVENT_PURPOSE,
  lockEventSigningInput,
  lockIdBytesFromPublicKey,
  lockIdFromBytes,
  lockIdFromPublicKey,
  lockIdToBytes,
  signLockEvent,
  verifyLockEventRecord,
  ZERO_HASH,
} from "./codec.js";
import type { LockEvent, SignedLockEvent } from "./event.js";
import { EventKind, type EventDetails } from "./kinds.js";

// RFC 8032 section 7.1 TEST 2 key: a published seed, so anyone can reproduce these bytes.
const SEED = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
const PUB = fromHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
const LOCK_ID = fromHex("39f713d0a644253f04529421b9f51b9b");
const BOOT_ID = fromHex("00112233445566778899aabbccddeeff");

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

const BOOT_EVENT: LockEvent = {
  version: 1,
  lockId: LOCK_ID,
  seq: 1,
  bootId: BOOT_ID,
  lockTime: epochMs(1767225600000), // 2026-01-01T00:00:00Z
  kind: EventKind.Boot,
  actor: {},
  details: { reason: "power-on", bootCount: 1 },
  prevHash: ZERO_HASH,
};

// Golden body of BOOT_EVENT, field by field (docs/journal-format.md).
const BOOT_BODY = [
  "01", //                                  version 1
  "0001", //                                kind 1 = Boot (u16)
  "39f713d0a644253f04529421b9f51b9b", //    lockId (16): SHA-256(public key)[0..16]
  "0000000000000001", //                    seq 1 (u64)
  "00112233445566778899aabbccddeeff", //    bootId (16)
  "01", //                                  flags: 0x01 lockTime known; no actor fields
  "0000019b76daa800", //                    lockTime 1767225600000 ms (u64)
  "0000", //                                userIndex absent → 0
  "00", //                                  credentialType absent → 0
  "0000", //                                credentialIndex absent → 0
  "00".repeat(32), //                       prevHash: zeros for seq 1
  "02", //                                  2 details entries, keys in byte order
  "09" + "626f6f74436f756e74", //           key "bootCount" (9 bytes)
  "02" + "0000000000000001", //             int (0x02) 1 as i64
  "06" + "726561736f6e", //                 key "reason" (6 bytes)
  "01" + "0008" + "706f7765722d6f6e", //    string (0x01), 8 bytes "power-on"
].join("");
const BOOT_SIGNATURE =
  "7f02af619507d4be422c501d30b0c3bef6936b4665ade0065d907c0eebb4b4b6b9909222799c24cfe13f3b6c13409a7d90208a5904c93d6fa089944661ea980e";
const BOOT_HASH = "57ce37c8b9997d9754cc308bc05eb1a9c9d71d6675716595fc4554534befaae9";

const DENIAL_EVENT: LockEvent = {
  version: 1,
  lockId: LOCK_ID,
  seq: 2,
  bootId: BOOT_ID,
  lockTime: null,
  kind: EventKind.LockOperationError,
  actor: { userIndex: 3, credentialType: "PIN", credentialIndex: 7 },
  details: {
    source: "Keypad",
    reason: "outside-schedule",
    ok: false,
    ratio: 0.5,
    neg: -2,
    blob: Uint8Array.of(0xde, 0xad),
  },
  prevHash: fromHex(BOOT_HASH),
};
const DENIAL_BODY = [
  "01", //                                   version 1
  "0011", //                                 kind 17 = LockOperationError
  "39f713d0a644253f04529421b9f51b9b", //     lockId
  "0000000000000002", //                     seq 2
  "00112233445566778899aabbccddeeff", //     bootId
  "0e", //                                   flags: user index, credential type, credential index; time unknown
  "0000000000000000", //                     lockTime unknown → 0
  "0003", //                                 userIndex 3
  "01", //                                   credentialType 1 = PIN (Matter numbering)
  "0007", //                                 credentialIndex 7
  BOOT_HASH, //                              prevHash = hash of event 1
  "06", //                                   6 entries
  "04" + "626c6f62" + "06" + "0002" + "dead", // "blob": bytes (0x06), 2 bytes
  "03" + "6e6567" + "02" + "fffffffffffffffe", // "neg": int -2 (two's complement)
  "02" + "6f6b" + "04", //                   "ok": false (0x04, no payload)
  "05" + "726174696f" + "03" + "3fe0000000000000", // "ratio": float64 0.5
  "06" + "726561736f6e" + "01" + "0010" + "6f7574736964652d7363686564756c65", // "reason": "outside-schedule"
  "06" + "736f75726365" + "01" + "0006" + "4b6579706164", // "source": "Keypad"
].join("");
const DENIAL_SIGNATURE =
  "98be9bfca5a776f3d90f6b7c86723c43bc1344780ec196c6868772fc3f3ea3298c47edfe318e830e9b964c39eaa761267b2b06812ef6166ca862203e966cd608";
const DENIAL_HASH = "4f95bb96b57515e07ff9228cbc27e6749741f5c8a15fa3ada18ba08d462b2ed1";

// Version 2 (what locks write): version 1's fields plus the monotonic reading after bootId.
const BOOT_EVENT_V2: LockEvent = { ...BOOT_EVENT, version: 2, monotonicMs: 1500 };
const BOOT_BODY_V2 = [
  "02", //                                  version 2
  "0001", //                                kind 1 = Boot (u16)
  "39f713d0a644253f04529421b9f51b9b", //    lockId (16)
  "0000000000000001", //                    seq 1 (u64)
  "00112233445566778899aabbccddeeff", //    bootId (16)
  "00000000000005dc", //                    monotonicMs 1500: ms since this boot (u64)
  "01", //                                  flags: 0x01 lockTime known; no actor fields
  "0000019b76daa800", //                    lockTime 1767225600000 ms (u64)
  "0000", //                                userIndex absent → 0
  "00", //                                  credentialType absent → 0
  "0000", //                                credentialIndex absent → 0
  "00".repeat(32), //                       prevHash: zeros for seq 1
  "02", //                                  2 details entries, keys in byte order
  "09" + "626f6f74436f756e74", //           key "bootCount" (9 bytes)
  "02" + "0000000000000001", //             int (0x02) 1 as i64
  "06" + "726561736f6e", //                 key "reason" (6 bytes)
  "01" + "0008" + "706f7765722d6f6e", //    string (0x01), 8 bytes "power-on"
].join("");
const BOOT_SIGNATURE_V2 =
  "e3f96c618eda937bae35db64f731dbbd49ae19f2f229be0c4d8bbdabf63b352da0de5f78ad9c6a248ae4efa4f7fa22d145361469760261a02d01ca2c47d0740a";
const BOOT_HASH_V2 = "0d7079c250ff8c58d4ef24ce0e2c912c2381398e1c1e354a6f22bdd078e094e2";

const DENIAL_EVENT_V2: LockEvent = {
  ...DENIAL_EVENT,
  version: 2,
  monotonicMs: 0x12_3456_789a,
  prevHash: fromHex(BOOT_HASH_V2),
};
const DENIAL_BODY_V2 = [
  "02", //                                   version 2
  "0011", //                                 kind 17 = LockOperationError
  "39f713d0a644253f04529421b9f51b9b", //     lockId
  "0000000000000002", //                     seq 2
  "00112233445566778899aabbccddeeff", //     bootId
  "000000123456789a", //                     monotonicMs 78187493530 (about 905 days since boot)
  "0e", //                                   flags: user index, credential type, credential index; time unknown
  "0000000000000000", //                     lockTime unknown → 0
  "0003", //                                 userIndex 3
  "01", //                                   credentialType 1 = PIN (Matter numbering)
  "0007", //                                 credentialIndex 7
  BOOT_HASH_V2, //                           prevHash = hash of event 1
  "06", //                                   6 entries, the same as in version 1
  "04" + "626c6f62" + "06" + "0002" + "dead", // "blob": bytes (0x06), 2 bytes
  "03" + "6e6567" + "02" + "fffffffffffffffe", // "neg": int -2 (two's complement)
  "02" + "6f6b" + "04", //                   "ok": false (0x04, no payload)
  "05" + "726174696f" + "03" + "3fe0000000000000", // "ratio": float64 0.5
  "06" + "726561736f6e" + "01" + "0010" + "6f7574736964652d7363686564756c65", // "reason": "outside-schedule"
  "06" + "736f75726365" + "01" + "0006" + "4b6579706164", // "source": "Keypad"
].join("");
const DENIAL_SIGNATURE_V2 =
  "dbc5a91092772ff296767110436fa29cf8e6c5f368ee596a2351d9f9066f3ddfc5a008cf3e50cd8981c3e34cd5fdf4a0f8a9d8dd79f69b3c5640b4dbf7f51409";
const DENIAL_HASH_V2 = "a87dae5267139c270f8dc025ce70f55a391bbbfa7b61281cf5fa844e180c062d";

describe("lock event codec: golden bytes", () => {
  it("derives the lock id as the first 16 bytes of SHA-256 of the public key", () => {
    const expected = createHash("sha256").update(PUB).digest().subarray(0, 16);
    expect(toHex(lockIdBytesFromPublicKey(PUB))).toBe(toHex(expected));
    expect(toHex(LOCK_ID)).toBe(toHex(expected));
    expect(lockIdFromPublicKey(PUB)).toBe("39f713d0a644253f04529421b9f51b9b");
    expect(toHex(lockIdToBytes(lockIdFromBytes(LOCK_ID)))).toBe(toHex(LOCK_ID));
    expect(codeOf(() => lockIdBytesFromPublicKey(new Uint8Array(31)))).toBe("JOURNAL_EVENT_INVALID");
    expect(codeOf(() => lockIdToBytes(lockIdFromPublicKey(PUB).slice(2) as never))).toBe("LK_DECODE_INVALID");
  });

  it.each([
    ["v2 Boot, time known, no actor", BOOT_EVENT_V2, BOOT_BODY_V2, BOOT_SIGNATURE_V2, BOOT_HASH_V2],
    [
      "v2 denial, time unknown, full actor, every value type",
      DENIAL_EVENT_V2,
      DENIAL_BODY_V2,
      DENIAL_SIGNATURE_V2,
      DENIAL_HASH_V2,
    ],
    // Version 1 records (journals and bundles made before version 2) still decode and re-encode.
    ["v1 Boot, time known, no actor", BOOT_EVENT, BOOT_BODY, BOOT_SIGNATURE, BOOT_HASH],
    [
      "v1 denial, time unknown, full actor, every value type",
      DENIAL_EVENT,
      DENIAL_BODY,
      DENIAL_SIGNATURE,
      DENIAL_HASH,
    ],
  ])("%s", (_name, event, body, signature, hash) => {
    expect(toHex(encodeLockEventBody(event))).toBe(body);
    const { event: signed, record } = signLockEvent(event, SEED, nobleEd25519);
    expect(toHex(record)).toBe(body + signature);
    expect(toHex(signed.hash)).toBe(hash);
    expect(toHex(signed.hash)).toBe(createHash("sha256").update(record).digest("hex"));
    // The signature is over the purpose tag then the body, checked with node:crypto directly.
    const message = Buffer.concat([Buffer.from(LOCK_EVENT_PURPOSE, "utf8"), Buffer.from(body, "hex")]);
    expect(toHex(lockEventSigningInput(fromHex(body)))).toBe(message.toString("hex"));
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), PUB]);
    const key = createPublicKey({ key: spki, format: "der", type: "spki" });
    expect(nodeVerify(null, message, key, Buffer.from(signature, "hex"))).toBe(true);
    // Both Ed25519 implementations sign identically and verify.
    expect(toHex(signLockEvent(event, SEED, nodeEd25519).record)).toBe(toHex(record));
    expect(verifyLockEventRecord(record, PUB, nodeEd25519)).toBe(true);
    // Decoding gives the same event back, and re-encoding the same bytes.
    const decoded = decodeSignedLockEvent(record);
    expect(decoded).toEqual(signed);
    expect(toHex(encodeSignedLockEvent(decoded))).toBe(toHex(record));
  });
});

/** Mutate one byte of `hex` at `offset` (hex string of a whole record). */
function withByte(record: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = record.slice();
  copy[offset] = value;
  return copy;
}

describe.each([
  // Field offsets after bootId move by 8 bytes in version 2 (the monotonic reading).
  ["v2", BOOT_BODY_V2, BOOT_SIGNATURE_V2, DENIAL_BODY_V2, DENIAL_SIGNATURE_V2, 8],
  ["v1", BOOT_BODY, BOOT_SIGNATURE, DENIAL_BODY, DENIAL_SIGNATURE, 0],
])(
  "lock event codec: decoder refusals (%s)",
  (_v, bootBody, bootSignature, denialBody, denialSignature, x) => {
    const boot = fromHex(bootBody + bootSignature);
    const denial = fromHex(denialBody + denialSignature);

    it("checks the total length before anything else", () => {
      expect(codeOf(() => decodeSignedLockEvent(boot.subarray(0, EVENT_RECORD_MIN_BYTES - 1)))).toBe(
        "JOURNAL_RECORD_SIZE",
      );
      expect(codeOf(() => decodeSignedLockEvent(new Uint8Array(EVENT_RECORD_MAX_BYTES + 1)))).toBe(
        "JOURNAL_RECORD_SIZE",
      );
      expect(codeOf(() => decodeSignedLockEvent(new Uint8Array(0)))).toBe("JOURNAL_RECORD_SIZE");
    });

    it("rejects an unknown version and an unknown kind with stable codes", () => {
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 0, 3)))).toBe("JOURNAL_UNSUPPORTED_VERSION");
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 0, 0)))).toBe("JOURNAL_UNSUPPORTED_VERSION");
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 2, 8)))).toBe("JOURNAL_UNKNOWN_KIND");
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 1, 1)))).toBe("JOURNAL_UNKNOWN_KIND");
    });

    it("rejects every non-canonical form", () => {
      // Reserved flag bit.
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 43 + x, 0x11)))).toBe("JOURNAL_NON_CANONICAL");
      // Time flagged unknown but a time present.
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 43 + x, 0x00)))).toBe("JOURNAL_NON_CANONICAL");
      // Actor fields present while flagged absent.
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 53 + x, 1)))).toBe("JOURNAL_NON_CANONICAL");
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 54 + x, 1)))).toBe("JOURNAL_NON_CANONICAL");
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 56 + x, 1)))).toBe("JOURNAL_NON_CANONICAL");
      // Keys out of order: "bootCount" renamed "zootCount" sorts after "reason".
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 91 + x, 0x7a)))).toBe("JOURNAL_NON_CANONICAL");
      // Repeated key: "reason" → "bootCo" is impossible (length differs), so build one: two "ok" keys.
      const twice = fromHex(bootBody.slice(0, (89 + x) * 2) + "02" + "026f6b04" + "026f6b05" + bootSignature);
      expect(codeOf(() => decodeSignedLockEvent(twice))).toBe("JOURNAL_NON_CANONICAL");
      // An integer stored as a float: ratio 0.5 → 1.0.
      const ratioAt = denialBody.indexOf("3fe0000000000000") / 2;
      expect(codeOf(() => decodeSignedLockEvent(withByte(denial, ratioAt + 1, 0xf0)))).toBe(
        "JOURNAL_NON_CANONICAL",
      );
    });

    it("rejects bad values with LK_DECODE_* naming the field", () => {
      // seq 0
      const seq0 = boot.slice();
      seq0.fill(0, 19, 27);
      expect(codeOf(() => decodeSignedLockEvent(seq0))).toBe("LK_DECODE_INVALID");
      // Unknown credential type (0x42) in the denial.
      expect(codeOf(() => decodeSignedLockEvent(withByte(denial, 54 + x, 0x42)))).toBe("LK_DECODE_INVALID");
      // Unknown value type tag for "bootCount".
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 100 + x, 0x09)))).toBe("LK_DECODE_INVALID");
      // More than 32 entries declared.
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 89 + x, 33)))).toBe("LK_DECODE_INVALID");
      // A key with a non-identifier byte.
      expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 91 + x, 0x5f)))).toBe("LK_DECODE_INVALID");
      // One byte short: the signature is truncated; one byte more: trailing.
      const short = boot.subarray(0, boot.length - 1);
      const err = (() => {
        try {
          decodeSignedLockEvent(short);
        } catch (e) {
          return e as LatchkeyError;
        }
        return null;
      })();
      expect(err?.code).toBe("LK_DECODE_TRUNCATED");
      expect(err?.message).toContain("signature");
      const long = new Uint8Array(boot.length + 1);
      long.set(boot);
      expect(codeOf(() => decodeSignedLockEvent(long))).toBe("LK_DECODE_TRAILING");
    });

    if (x > 0)
      it("rejects a monotonic reading beyond 2^53-1", () => {
        expect(codeOf(() => decodeSignedLockEvent(withByte(boot, 43, 0x01)))).toBe("LK_DECODE_INVALID");
      });
  },
);

describe("lock event codec: encoder refusals", () => {
  const bad = (patch: Partial<LockEvent>): string =>
    codeOf(() => encodeLockEventBody({ ...BOOT_EVENT, ...patch }));
  const details = (d: EventDetails): string => bad({ details: d });

  it("refuses out-of-range fields with JOURNAL_EVENT_INVALID", () => {
    expect(bad({ kind: 8 as never })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ version: 3 as never })).toBe("JOURNAL_EVENT_INVALID");
    // Version 2 needs the monotonic reading; version 1 cannot carry one.
    expect(bad({ version: 2 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ monotonicMs: 5 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ version: 2, monotonicMs: -1 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ version: 2, monotonicMs: 1.5 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ version: 2, monotonicMs: 2 ** 53 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ version: 2, monotonicMs: Number.MAX_SAFE_INTEGER })).toBe("no error");
    expect(bad({ seq: 0 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ seq: 2 ** 53 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ seq: 1.5 })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ lockId: new Uint8Array(15) })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ bootId: new Uint8Array(17) })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ prevHash: new Uint8Array(31) })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ lockTime: epochMs(-1) })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ actor: { userIndex: 65536 } })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ actor: { credentialIndex: -1 } })).toBe("JOURNAL_EVENT_INVALID");
    expect(bad({ actor: { credentialType: "Password" as never } })).toBe("JOURNAL_EVENT_INVALID");
  });

  it("enforces the details limits: 32 entries, 32-byte identifier keys, 256-byte values", () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    expect(details(many)).toBe("JOURNAL_EVENT_INVALID");
    expect(details(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, i])))).toBe("no error");
    expect(details({ ["k".repeat(33)]: 1 })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ ["k".repeat(32)]: 1 })).toBe("no error");
    expect(details({ __proto__x: 1 })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ "has space": 1 })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ Tür: 1 })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ s: "ü".repeat(129) })).toBe("JOURNAL_EVENT_INVALID"); // 258 UTF-8 bytes
    expect(details({ s: "ü".repeat(128) })).toBe("no error");
    expect(details({ b: new Uint8Array(257) })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ n: Number.NaN })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ n: Number.POSITIVE_INFINITY })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ n: 2 ** 53 })).toBe("JOURNAL_EVENT_INVALID");
    expect(details({ o: { a: 1 } as never })).toBe("JOURNAL_EVENT_INVALID");
  });

  it("encodes the largest allowed event within EVENT_RECORD_MAX_BYTES", () => {
    const largest = Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [
        `k${String(i).padStart(2, "0")}${"x".repeat(29)}`,
        "y".repeat(256),
      ]),
    );
    const { record } = signLockEvent({ ...BOOT_EVENT_V2, details: largest }, SEED, nodeEd25519);
    expect(record.length).toBe(EVENT_RECORD_MAX_BYTES);
    expect(signLockEvent({ ...BOOT_EVENT, details: largest }, SEED, nodeEd25519).record.length).toBe(
      EVENT_RECORD_MAX_BYTES - 8,
    );
    expect(decodeSignedLockEvent(record).details).toEqual(largest);
  });
});

const detailKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,31}$/);
const detailValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 60 }).filter((s) => new TextEncoder().encode(s).length <= 256),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.boolean(),
  fc.uint8Array({ maxLength: 256 }),
);
const arbitraryLockEvent: fc.Arbitrary<LockEvent> = fc.record({
  version: fc.constant(2 as const),
  monotonicMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  lockId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  bootId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  lockTime: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map(epochMs)),
  kind: fc.constantFrom(...Object.values(EventKind)),
  actor: fc.record(
    {
      userIndex: fc.integer({ min: 0, max: 0xffff }),
      credentialType: fc.constantFrom("PIN", "RFID", "Fingerprint", "PhoneKey", "ProgrammingPIN"),
      credentialIndex: fc.integer({ min: 0, max: 0xffff }),
    },
    { requiredKeys: [] },
  ),
  details: fc.dictionary(detailKey, detailValue, { maxKeys: 32 }),
  prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
});

/** Version 1 events (no monotonic reading), as journals and bundles made before version 2 hold. */
const arbitraryLockEventV1: fc.Arbitrary<LockEvent> = arbitraryLockEvent.map(
  ({ monotonicMs: _mono, ...e }) => ({ ...e, version: 1 as const }),
);

describe("lock event codec: properties", () => {
  const sealed = signLockEvent(DENIAL_EVENT_V2, SEED, nodeEd25519).record;
  const sealedV1 = signLockEvent(DENIAL_EVENT, SEED, nodeEd25519).record;

  it("round-trips any valid event of either version; re-encoding gives the same bytes", () => {
    fc.assert(
      fc.property(fc.oneof(arbitraryLockEvent, arbitraryLockEventV1), (event) => {
        const { event: signed, record } = signLockEvent(event, SEED, nodeEd25519);
        const decoded: SignedLockEvent = decodeSignedLockEvent(record);
        expect(decoded).toEqual(signed);
        expect(toHex(encodeSignedLockEvent(decoded))).toBe(toHex(record));
        expect(verifyLockEventRecord(record, PUB, nodeEd25519)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws anything but a LatchkeyError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
        try {
          decodeSignedLockEvent(input);
        } catch (e) {
          expect(isLatchkeyError(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("on mutated valid records: only LatchkeyErrors, and whatever decodes re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: sealed.length + 8 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: -8, max: 8 }),
        fc.boolean(),
        (mutations, resize, v1) => {
          let input = (v1 ? sealedV1 : sealed).slice();
          for (const [at, value] of mutations) if (at < input.length) input[at] = value;
          if (resize < 0) input = input.subarray(0, input.length + resize);
          else if (resize > 0) input = Uint8Array.from([...input, ...new Uint8Array(resize)]);
          try {
            const decoded = decodeSignedLockEvent(input);
            expect(toHex(encodeSignedLockEvent(decoded))).toBe(toHex(input));
          } catch (e) {
            expect(isLatchkeyError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
