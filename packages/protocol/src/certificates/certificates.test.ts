import { p256 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { DaysMask } from "../messages/enums.js";
import {
  HolderKeyType,
  DigitalKeyPermission,
  canonicalDoorIds,
  decodeDigitalKey,
  insideSchedule,
  signDigitalKey,
  verifyDigitalKey,
  type DigitalKeyFields,
} from "./digital-key.js";
import {
  RevocationStore,
  decodeRevocationList,
  signRevocationList,
  verifyRevocationList,
  type RevocationStoreState,
} from "./revocation.js";

/** The code of the LatchkeyError `f` throws ("no error" if none). */
function thrownCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

const ownerSeed = new Uint8Array(32).fill(0x0a);
const ownerPublicKey = nobleEd25519.publicKey(ownerSeed);
const strangerSeed = new Uint8Array(32).fill(0x0b);
const frontDoor = new Uint8Array(16).fill(0xf0);
const backDoor = new Uint8Array(16).fill(0xb0);
const garage = new Uint8Array(16).fill(0xc0);

// Friday 2026-11-20 10:30 UTC
const FRIDAY_1030 = Date.UTC(2026, 10, 20, 10, 30);
const DAY = 86_400_000;

const passkey = p256.getPublicKey(new Uint8Array(32).fill(0x0c), false);

const fields: DigitalKeyFields = {
  serial: 42n,
  subjectId: new Uint8Array(16).fill(0x5e),
  holderKeyType: HolderKeyType.P256,
  holderKey: passkey,
  notBefore: FRIDAY_1030 - DAY,
  notAfter: FRIDAY_1030 + DAY,
  permissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock,
  doorIds: canonicalDoorIds([frontDoor, backDoor]),
  schedule: [],
};

const cert = signDigitalKey(fields, ownerSeed);
const base = {
  ownerPublicKey,
  doorId: frontDoor,
  now: FRIDAY_1030,
  revocationList: null,
  permission: DigitalKeyPermission.Unlock,
} as const;

describe("digital keys: attacks", () => {
  it("refuses a certificate for another door with wrong-door", () => {
    expect(verifyDigitalKey(cert, { ...base, doorId: garage })).toMatchObject({
      ok: false,
      reason: "wrong-door",
    });
  });

  it("refuses an expired certificate and one not yet valid", () => {
    expect(verifyDigitalKey(cert, { ...base, now: fields.notAfter + 1 })).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(verifyDigitalKey(cert, { ...base, now: fields.notBefore - 1 })).toMatchObject({
      ok: false,
      reason: "not-yet-valid",
    });
    // Both bounds are inclusive.
    expect(verifyDigitalKey(cert, { ...base, now: fields.notAfter }).ok).toBe(true);
    expect(verifyDigitalKey(cert, { ...base, now: fields.notBefore }).ok).toBe(true);
  });

  it("refuses a revoked certificate", () => {
    const store = new RevocationStore(ownerPublicKey);
    expect(
      store.install(
        signRevocationList({ listVersion: 1, issuedAt: FRIDAY_1030, serials: [7n, 42n] }, ownerSeed),
      ).ok,
    ).toBe(true);
    expect(verifyDigitalKey(cert, { ...base, revocationList: store.list })).toMatchObject({
      ok: false,
      reason: "revoked",
    });
  });

  it("refuses a certificate signed by a key that is not the owner's", () => {
    const forged = signDigitalKey(fields, strangerSeed);
    expect(verifyDigitalKey(forged, base)).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  it("refuses a certificate whose fields were altered after signing", () => {
    const widened = cert.slice();
    // permissions byte: after tag (24), serial 8, subject 16, type 1, key 65, two times 16
    widened[24 + 8 + 16 + 1 + 65 + 16] =
      DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock | DigitalKeyPermission.Administer;
    expect(verifyDigitalKey(widened, { ...base, permission: DigitalKeyPermission.Administer })).toMatchObject(
      {
        ok: false,
        reason: "bad-signature",
      },
    );
  });

  it("refuses a missing permission", () => {
    expect(verifyDigitalKey(cert, { ...base, permission: DigitalKeyPermission.Administer })).toMatchObject({
      ok: false,
      reason: "permission-missing",
    });
  });

  it("refuses malformed bytes with malformed, never a throw", () => {
    for (const b of [new Uint8Array(0), cert.subarray(0, 40), Uint8Array.of(...cert, 0)]) {
      expect(verifyDigitalKey(b, base)).toEqual({ ok: false, reason: "malformed", key: null });
    }
  });

  it("refuses outside its weekly schedule (local time)", () => {
    const cleaner = signDigitalKey(
      {
        ...fields,
        schedule: [{ daysMask: DaysMask.Friday, startHour: 10, startMinute: 0, endHour: 12, endMinute: 0 }],
      },
      ownerSeed,
    );
    expect(verifyDigitalKey(cleaner, base).ok).toBe(true);
    expect(verifyDigitalKey(cleaner, { ...base, now: FRIDAY_1030 + 2 * 3600_000 })).toMatchObject({
      reason: "outside-schedule",
    });
    // 10:30 UTC is 11:30 at UTC+1 (inside) and 09:30 at UTC−1 (outside).
    expect(verifyDigitalKey(cleaner, { ...base, utcOffsetMinutes: 60 }).ok).toBe(true);
    expect(verifyDigitalKey(cleaner, { ...base, utcOffsetMinutes: -60 })).toMatchObject({
      reason: "outside-schedule",
    });
  });

  it("refuses to sign invalid fields with CERT_INVALID_FIELDS", () => {
    const bad: Partial<DigitalKeyFields>[] = [
      { doorIds: [] },
      { doorIds: [frontDoor, backDoor] }, // not ascending
      { notAfter: fields.notBefore },
      { permissions: 0 },
      { permissions: 0x08 },
      { holderKey: passkey.subarray(0, 33) },
      { holderKey: Uint8Array.of(4, ...new Uint8Array(64).fill(1)) }, // not on the curve
      { schedule: [{ daysMask: 0, startHour: 1, startMinute: 0, endHour: 2, endMinute: 0 }] },
    ];
    for (const b of bad) {
      expect(thrownCode(() => signDigitalKey({ ...fields, ...b }, ownerSeed))).toBe("CERT_INVALID_FIELDS");
    }
  });
});

describe("revocation lists: attacks", () => {
  const v1 = signRevocationList({ listVersion: 1, issuedAt: 1000, serials: [1n] }, ownerSeed);
  const v2 = signRevocationList({ listVersion: 2, issuedAt: 2000, serials: [1n, 42n] }, ownerSeed);

  it("refuses an older list than the installed one and keeps the installed version", () => {
    const store = new RevocationStore(ownerPublicKey);
    expect(store.install(v2).ok).toBe(true);
    const before = store.state;
    expect(store.install(v1)).toEqual({ ok: false, reason: "stale-version" });
    expect(store.version).toBe(2);
    expect(store.state).toEqual(before);
    expect(store.isRevoked(42n)).toBe(true);
  });

  it("refuses a list signed by a non-owner key or altered, keeping the state", () => {
    const store = new RevocationStore(ownerPublicKey);
    store.install(v1);
    const before = store.state;
    const forged = signRevocationList({ listVersion: 3, issuedAt: 3000, serials: [] }, strangerSeed);
    expect(store.install(forged)).toEqual({ ok: false, reason: "bad-signature" });
    const altered = v2.slice();
    altered[altered.length - 65]! ^= 1; // last serial byte
    expect(store.install(altered)).toEqual({ ok: false, reason: "bad-signature" });
    expect(store.install(v2.subarray(1))).toEqual({ ok: false, reason: "malformed" });
    expect(store.state).toEqual(before);
    expect(store.version).toBe(1);
  });

  it("accepts the same version again (a retry) and survives a restart from its state", () => {
    const store = new RevocationStore(ownerPublicKey);
    store.install(v2);
    expect(store.install(v2).ok).toBe(true);
    const restored = new RevocationStore(
      ownerPublicKey,
      JSON.parse(JSON.stringify(store.state)) as RevocationStoreState,
    );
    expect(restored.version).toBe(2);
    expect(restored.isRevoked(1n)).toBe(true);
    expect(restored.isRevoked(2n)).toBe(false);
  });

  it("refuses a saved state that does not verify", () => {
    expect(() => new RevocationStore(ownerPublicKey, { signedList: toHex(v2.subarray(0, 10)) })).toThrow(
      LatchkeyError,
    );
  });
});

describe("digital keys: golden bytes", () => {
  it("encodes the documented layout", () => {
    const seed = new Uint8Array(32); // RFC 8032-style all-zero test seed; signature is deterministic
    const simple = signDigitalKey(
      {
        serial: 1n,
        subjectId: new Uint8Array(16).fill(0x11),
        holderKeyType: HolderKeyType.Ed25519,
        holderKey: new Uint8Array(32).fill(0x22),
        notBefore: 1_700_000_000_000,
        notAfter: 1_700_086_400_000,
        permissions: DigitalKeyPermission.Unlock,
        doorIds: [new Uint8Array(16).fill(0x33)],
        schedule: [{ daysMask: DaysMask.Friday, startHour: 10, startMinute: 0, endHour: 12, endMinute: 0 }],
      },
      seed,
    );
    const body = [
      ["17", "tag length 23"],
      [toHex(new TextEncoder().encode("latchkey/digital-key/v1")), '"latchkey/digital-key/v1"'],
      ["0000000000000001", "serial 1"],
      ["11".repeat(16), "subject id"],
      ["01", "holder key type Ed25519"],
      ["22".repeat(32), "holder key (32 bytes)"],
      ["0000018bcfe56800", "not before 1700000000000 ms"],
      ["0000018bd50bc400", "not after 1700086400000 ms"],
      ["01", "permissions: unlock"],
      ["01", "door count 1"],
      ["33".repeat(16), "door id"],
      ["01", "window count 1"],
      ["20", "days mask Friday"],
      ["0a", "start hour 10"],
      ["00", "start minute 0"],
      ["0c", "end hour 12"],
      ["00", "end minute 0"],
    ]
      .map(([h]) => h)
      .join("");
    expect(toHex(simple.subarray(0, simple.length - 64))).toBe(body);
    const signature = nobleEd25519.sign(seed, fromHex(body));
    expect(toHex(simple.subarray(simple.length - 64))).toBe(toHex(signature)); // Ed25519 over every byte before it
    expect(decodeDigitalKey(simple).serial).toBe(1n);
  });

  it("encodes a revocation list as documented", () => {
    const list = signRevocationList(
      { listVersion: 3, issuedAt: 1_700_000_000_000, serials: [9n, 2n] },
      ownerSeed,
    );
    const body = [
      ["1b", "tag length 27"],
      [toHex(new TextEncoder().encode("latchkey/revocation-list/v1")), '"latchkey/revocation-list/v1"'],
      ["0000000000000003", "list version 3"],
      ["0000018bcfe56800", "issued at 1700000000000 ms"],
      ["00000002", "count 2"],
      ["0000000000000002", "serial 2 (sorted ascending)"],
      ["0000000000000009", "serial 9"],
    ]
      .map(([h]) => h)
      .join("");
    expect(toHex(list.subarray(0, list.length - 64))).toBe(body);
    expect(verifyRevocationList(list, { ownerPublicKey, installedVersion: 0 }).ok).toBe(true);
  });
});

describe("certificate decoders: fuzzing", () => {
  const list = signRevocationList({ listVersion: 1, issuedAt: 5, serials: [3n, 4n] }, ownerSeed);
  const onlyLatchkeyErrors = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof LatchkeyError)) throw e;
    }
  };

  it("never throws anything but LatchkeyError on random bytes or mutations", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(cert, list),
        fc.nat(),
        fc.nat(7),
        fc.nat(400),
        (random, sample, at, bit, cut) => {
          const flipped = sample.slice();
          flipped[at % flipped.length]! ^= 1 << bit;
          for (const b of [
            random,
            flipped,
            sample.subarray(0, cut % sample.length),
            Uint8Array.of(...sample, ...random),
          ]) {
            onlyLatchkeyErrors(() => decodeDigitalKey(b));
            onlyLatchkeyErrors(() => decodeRevocationList(b));
            expect(verifyDigitalKey(b, base).ok).toBe(b.length === cert.length && toHex(b) === toHex(cert));
            verifyRevocationList(b, { ownerPublicKey, installedVersion: 0 });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("insideSchedule treats an empty schedule as always", () => {
    expect(insideSchedule([], 0)).toBe(true);
  });
});
