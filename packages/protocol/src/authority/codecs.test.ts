/**
 * Authority encodings: golden bytes (commented per field, the reference for docs/authority.md),
 * round trips, canonical form, and fuzzing of every decoder (it returns a value that re-encodes to
 * its input, or throws a LatchkeyError — never anything else).
 */
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { concatBytes, fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { DigitalKeyPermission } from "../certificates/digital-key.js";
import type { AuthorityKeyKind } from "./key.js";
import {
  decodeAuthorityKey,
  encodeAuthorityKey,
  p256PublicKeyFromCose,
  passkeyAuthorityKey,
  recoveryAuthorityKey,
  authorityKeyFingerprint,
  isValidRpId,
  type AuthorityKey,
} from "./key.js";
import { AUTHORITY_PURPOSE_TAGS, AuthorityPurpose, authorityChallenge, authorityMessage } from "./purpose.js";
import {
  decodeAuthoritySignature,
  encodeAuthoritySignature,
  passkeyAuthoritySignature,
  signWithRecoveryKey,
  type AuthoritySignature,
} from "./signature.js";
import { decodeAuthorisedRecord, encodeAuthorisedRecord, type AuthorisedRecord } from "./authorised.js";
import {
  canonicalAuthorityKeys,
  decodeAuthoritySet,
  encodeAuthoritySet,
  type AuthoritySetFields,
} from "./set.js";
import { DelegationScope, decodeDelegation, encodeDelegation, type Delegation } from "./delegation.js";
import { decodeDoorRelabel, encodeDoorRelabel, type DoorRelabel } from "./door-relabel.js";
import { SoftwareAuthenticator } from "../webauthn/software-authenticator.js";

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

const ascii = (s: string): string => toHex(new TextEncoder().encode(s));
/** Joins commented hex pieces into bytes. */
const hex = (...parts: string[]): Uint8Array => fromHex(parts.join("").replace(/\s+/g, ""));

const RP_ID = "latchkey.home.arpa";
const SITE = new Uint8Array(16).fill(0x5a);
const T = 1_800_000_000_000; // 0x000001a3185c5000
const recoverySeed = new Uint8Array(32).fill(0x21);
const RECOVERY_PUB = "884b8857f4eaa1613c61504db34d4beaf346517a0e31de3cddd4d9b4201d9d0b";
const PASSKEY_PUB =
  "0451a7580833898ea1b183cbd7350a4099078c6ef1c1e18e970cd7683035f25e7d" +
  "0110522712b0b5a7cff081685486984a94e6831edac46e7360fa9d834a7a81a1";
const HUB_PUB = "34b4d9043156cb6dcf0beb0a2949b7559c940d2bcb6dbe8c53a9b30278e3a746";
const passkey = new SoftwareAuthenticator(new Uint8Array(32).fill(0x33));
const credA = new Uint8Array(16).fill(0xa1);

const passkeyKey = passkeyAuthorityKey({
  publicKey: passkey.publicKey,
  credentialId: credA,
  rpId: RP_ID,
  label: "Alice's phone",
});
const recoveryKey = recoveryAuthorityKey(recoverySeed, "Recovery sheet");

const PASSKEY_KEY_BYTES = hex(
  "19", //                              tag length 25
  ascii("latchkey/authority-key/v1"), //  tag
  "01", //                              kind 1 = passkey
  "0d", //                              label length 13
  ascii("Alice's phone"), //            label
  PASSKEY_PUB, //                       65-byte uncompressed P-256 point
  "0010", //                            credential id length 16
  "a1".repeat(16), //                   credential id
  "12", //                              rpId length 18
  ascii(RP_ID), //                      rpId
);
const RECOVERY_KEY_BYTES = hex(
  "19", //                              tag length 25
  ascii("latchkey/authority-key/v1"), //  tag
  "02", //                              kind 2 = recovery key
  "0e", //                              label length 14
  ascii("Recovery sheet"), //           label
  RECOVERY_PUB, //                      Ed25519 public key
);

const setFields: AuthoritySetFields = {
  siteId: SITE,
  version: 1,
  previous: new Uint8Array(32),
  issuedAt: T,
  threshold: 1,
  keys: canonicalAuthorityKeys([recoveryKey, passkeyKey]),
};

const relabel: DoorRelabel = {
  lockId: new Uint8Array(16).fill(0xd0),
  version: 1,
  issuedAt: T,
  doorName: "Front door",
  timeZone: "Europe/Berlin",
};
const RELABEL_BYTES = hex(
  "18", //                              tag length 24
  ascii("latchkey/door-relabel/v1"), //   tag
  "d0".repeat(16), //                   lock id
  "0000000000000001", //                version 1
  "000001a3185c5000", //                issued at 1 800 000 000 000 ms
  "000a", //                            door name length 10
  ascii("Front door"), //               door name
  "000d", //                            time zone length 13
  ascii("Europe/Berlin"), //            time zone
);

const delegation: Delegation = {
  siteId: SITE,
  serial: 1n,
  delegateKey: fromHex(HUB_PUB),
  scope: DelegationScope.RenewPhoneKeyCertificates,
  notBefore: T,
  notAfter: T + 30 * 86_400_000,
  maxCertificateLifetimeMs: 86_400_000,
  certificatePermissions: DigitalKeyPermission.Unlock,
  doorIds: [new Uint8Array(16).fill(0xd0)],
};

// Recovery-key signature over the relabel above: Ed25519 is deterministic, so this is a vector.
const RELABEL_CHALLENGE = "6124177849cd7be272b66eed65c215de976408f1ed7c3981c6d8e7e131d93e28";
const RELABEL_RECOVERY_SIG =
  "41f653110ca48615b8919e38f7afdcde84edb1edc1019d99289a372462263dca" +
  "92bd7500cbd4e642ec33404549a18676d55db9f12eb401eb1ea358f93bc2c009";

describe("authority challenge", () => {
  it("is SHA-256 of tag length ‖ tag ‖ site id ‖ record (checked with node:crypto)", () => {
    const message = authorityMessage(AuthorityPurpose.DoorRelabel, SITE, RELABEL_BYTES);
    expect(message).toEqual(
      hex(
        "22", //                                    tag length 34
        ascii("latchkey/authority/door-relabel/v1"), // purpose tag
        "5a".repeat(16), //                         site id
        toHex(RELABEL_BYTES), //                    record
      ),
    );
    const digest = createHash("sha256").update(message).digest("hex");
    expect(digest).toBe(RELABEL_CHALLENGE);
    expect(toHex(authorityChallenge(AuthorityPurpose.DoorRelabel, SITE, RELABEL_BYTES))).toBe(
      RELABEL_CHALLENGE,
    );
  });

  it("has a distinct tag per purpose, none starting like a remote-unlock intent (0x6c)", () => {
    const tags = Object.values(AUTHORITY_PURPOSE_TAGS);
    expect(new Set(tags).size).toBe(7);
    for (const p of Object.values(AuthorityPurpose)) {
      const first = authorityMessage(p, SITE, Uint8Array.of(1))[0] ?? 0;
      expect(first).toBe(AUTHORITY_PURPOSE_TAGS[p].length);
      expect(first).toBeLessThan(0x6c);
    }
  });

  it("refuses an unknown purpose or a site id of the wrong length", () => {
    expect(thrownCode(() => authorityMessage(9 as AuthorityPurpose, SITE, Uint8Array.of(1)))).toBe(
      "AUTHORITY_INVALID_FIELDS",
    );
    expect(
      thrownCode(() => authorityChallenge(AuthorityPurpose.Delegation, new Uint8Array(15), Uint8Array.of(1))),
    ).toBe("AUTHORITY_INVALID_FIELDS");
  });
});

describe("authority key encoding", () => {
  it("encodes a passkey and a recovery key to the golden bytes and back", () => {
    expect(encodeAuthorityKey(passkeyKey)).toEqual(PASSKEY_KEY_BYTES);
    expect(encodeAuthorityKey(recoveryKey)).toEqual(RECOVERY_KEY_BYTES);
    expect(decodeAuthorityKey(PASSKEY_KEY_BYTES)).toEqual(passkeyKey);
    expect(decodeAuthorityKey(RECOVERY_KEY_BYTES)).toEqual(recoveryKey);
    expect(toHex(recoveryKey.publicKey)).toBe(RECOVERY_PUB);
  });

  it("reads a COSE_Key (as registration gives it) into the same raw point", () => {
    const pk = fromHex(PASSKEY_PUB);
    const x = toHex(pk.subarray(1, 33));
    const y = toHex(pk.subarray(33));
    const cose = hex(
      "a5", //        map of 5 entries
      "01 02", //     kty (1) = EC2 (2)
      "03 26", //     alg (3) = ES256 (-7)
      "20 01", //     crv (-1) = P-256 (1)
      "21 5820", //   x (-2): 32-byte string
      x,
      "22 5820", //   y (-3): 32-byte string
      y,
    );
    expect(p256PublicKeyFromCose(cose)).toEqual(pk);
    expect(
      passkeyAuthorityKey({ publicKey: cose, credentialId: credA, rpId: RP_ID, label: "Alice's phone" }),
    ).toEqual(passkeyKey);
    // Any order of the five entries is the same key.
    expect(p256PublicKeyFromCose(hex("a5 2158 20", x, "2258 20", y, "0102 2001 0326"))).toEqual(pk);
    const refused = [
      hex("a5 0102 0327 2001 215820", x, "225820", y), // alg EdDSA (-8)
      hex("a5 0102 0326 2002 215820", x, "225820", y), // crv P-384
      hex("a5 0103 0326 2001 215820", x, "225820", y), // kty OKP
      hex("a6 0102 0326 2001 215820", x, "225820", y, "0401"), // an extra entry
      hex("a5 0102 0102 2001 215820", x, "225820", y), // kty twice
      hex("a5 0102 0326 2001 215820", x, "225820", y, "00"), // trailing byte
      hex("a5 0102 0326 2001 215820", x, "225820", y.slice(0, 62)), // truncated
      hex("a5 0102 0326 2001 215820", x, "225820", "00".repeat(32)), // not on the curve
      hex("a5 0102 0326 2001 215820", x, "225821", y, "00"), // 33-byte coordinate
      hex("a4 0102 0326 215820", x, "225820", y), // four entries
      new Uint8Array(0),
    ];
    for (const c of refused)
      expect(
        thrownCode(() => p256PublicKeyFromCose(c)),
        toHex(c),
      ).toBe("AUTHORITY_COSE_KEY_UNSUPPORTED");
  });

  it("refuses bad keys when encoding", () => {
    const bad: AuthorityKey[] = [
      { ...passkeyKey, label: "" },
      { ...passkeyKey, label: "x".repeat(65) },
      { ...passkeyKey, label: "\ud800" },
      { ...passkeyKey, publicKey: new Uint8Array(65).fill(4) },
      { ...passkeyKey, credentialId: new Uint8Array(0) },
      { ...passkeyKey, credentialId: new Uint8Array(1024) },
      { ...passkeyKey, rpId: "Latchkey.example" },
      { ...passkeyKey, rpId: "" },
      // The Ed25519 identity (small order): anyone could sign for it under cofactored checks.
      { ...recoveryKey, publicKey: hex("01", "00".repeat(31)) },
      { ...recoveryKey, publicKey: new Uint8Array(31) },
      { ...recoveryKey, kind: 3 as typeof AuthorityKeyKind.Recovery },
    ];
    for (const k of bad) expect(thrownCode(() => encodeAuthorityKey(k))).toBe("AUTHORITY_INVALID_FIELDS");
  });

  it("checks rpIds and shows a fingerprint", () => {
    for (const ok of ["localhost", "latchkey.home.arpa", "a-b.example", "x1.y2"])
      expect(isValidRpId(ok)).toBe(true);
    for (const bad of ["", ".a", "a..b", "-a.b", "a.b-", "A.b", "a b", "a.b/"])
      expect(isValidRpId(bad)).toBe(false);
    expect(authorityKeyFingerprint(recoveryKey)).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(authorityKeyFingerprint(recoveryKey)).not.toBe(authorityKeyFingerprint(passkeyKey));
  });
});

describe("authority set encoding", () => {
  const SET_BYTES = hex(
    "19", //                              tag length 25
    ascii("latchkey/authority-set/v1"), //  tag
    "5a".repeat(16), //                   site id
    "0000000000000001", //                version 1
    "00".repeat(32), //                   previous: none (first set)
    "000001a3185c5000", //                issued at
    "01", //                              threshold 1
    "02", //                              2 keys, ascending by encoding (passkey kind 01 first)
    "008f", //                            143 bytes
    toHex(PASSKEY_KEY_BYTES),
    "004a", //                            74 bytes
    toHex(RECOVERY_KEY_BYTES),
  );

  it("encodes to the golden bytes and back", () => {
    expect(encodeAuthoritySet(setFields)).toEqual(SET_BYTES);
    const decoded = decodeAuthoritySet(SET_BYTES);
    expect(decoded).toEqual({ ...setFields, keys: [passkeyKey, recoveryKey], bytes: SET_BYTES });
  });

  it("refuses sets that could strand or confuse a site", () => {
    const other = recoveryAuthorityKey(new Uint8Array(32).fill(0x22), "Second sheet");
    const cases: [AuthoritySetFields, string][] = [
      [{ ...setFields, keys: [] }, "no keys"],
      [{ ...setFields, threshold: 3 }, "threshold above the key count"],
      [{ ...setFields, threshold: 0 }, "threshold 0"],
      [{ ...setFields, keys: [recoveryKey, passkeyKey] }, "keys not in canonical order"],
      [
        { ...setFields, keys: canonicalAuthorityKeys([recoveryKey, { ...recoveryKey, label: "Copy" }]) },
        "same key twice",
      ],
      [
        {
          ...setFields,
          keys: canonicalAuthorityKeys([
            passkeyKey,
            { ...passkeyKey, label: "B", publicKey: p256.getPublicKey(new Uint8Array(32).fill(0x44), false) },
          ]),
        },
        "same credential id twice",
      ],
      [{ ...setFields, previous: new Uint8Array(32).fill(1) }, "version 1 naming a previous set"],
      [{ ...setFields, version: 2 }, "later version naming no previous set"],
      [{ ...setFields, siteId: new Uint8Array(15) }, "short site id"],
      [
        {
          ...setFields,
          keys: canonicalAuthorityKeys(
            Array.from({ length: 9 }, (_, i) =>
              recoveryAuthorityKey(new Uint8Array(32).fill(0x40 + i), `k${i}`),
            ),
          ),
        },
        "nine keys",
      ],
    ];
    for (const [fields, why] of cases)
      expect(
        thrownCode(() => encodeAuthoritySet(fields)),
        why,
      ).toBe("AUTHORITY_INVALID_FIELDS");
    expect(
      encodeAuthoritySet({ ...setFields, keys: canonicalAuthorityKeys([recoveryKey, other]), threshold: 2 })
        .length,
    ).toBeGreaterThan(0);
  });

  it("accepts only the canonical order when decoding", () => {
    // Swap the two keys of the golden set: same content, other order → refused.
    const swapped = hex(
      toHex(SET_BYTES.subarray(0, 92)),
      "004a",
      toHex(RECOVERY_KEY_BYTES),
      "008f",
      toHex(PASSKEY_KEY_BYTES),
    );
    expect(thrownCode(() => decodeAuthoritySet(swapped))).toBe("AUTHORITY_MALFORMED");
  });
});

describe("authority signature and authorised record encoding", () => {
  const recoverySig = signWithRecoveryKey(AuthorityPurpose.DoorRelabel, SITE, RELABEL_BYTES, recoverySeed);
  const RECOVERY_SIG_BYTES = hex(
    "1f", //                                      tag length 31
    ascii("latchkey/authority-signature/v1"), //  tag
    "02", //                                      kind 2 = recovery key
    RECOVERY_PUB, //                              its public key
    RELABEL_RECOVERY_SIG, //                      Ed25519 over the 32-byte challenge
  );

  it("signs the relabel vector with the recovery key (checked with node:crypto)", () => {
    expect(encodeAuthoritySignature(recoverySig)).toEqual(RECOVERY_SIG_BYTES);
    expect(decodeAuthoritySignature(RECOVERY_SIG_BYTES)).toEqual(recoverySig);
    const spki = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(RECOVERY_PUB, "hex").toString("base64url") },
      format: "jwk",
    });
    expect(nodeVerify(null, fromHex(RELABEL_CHALLENGE), spki, fromHex(RELABEL_RECOVERY_SIG))).toBe(true);
    expect(
      nobleEd25519.verify(recoveryKey.publicKey, fromHex(RELABEL_CHALLENGE), recoverySig.signature),
    ).toBe(true);
  });

  it("lays out a passkey assertion field by field", () => {
    const a = passkey.assert({
      challenge: authorityChallenge(AuthorityPurpose.DoorRelabel, SITE, RELABEL_BYTES),
      origin: "https://latchkey.home.arpa",
      rpId: RP_ID,
    });
    const s = passkeyAuthoritySignature(credA, a);
    const len16 = (n: number): string => n.toString(16).padStart(4, "0");
    expect(encodeAuthoritySignature(s)).toEqual(
      hex(
        "1f", //                                      tag length 31
        ascii("latchkey/authority-signature/v1"), //  tag
        "01", //                                      kind 1 = passkey
        "0010", //                                    credential id length 16
        "a1".repeat(16), //                           credential id
        "0025", //                                    authenticatorData length 37
        toHex(a.authenticatorData), //                rpIdHash 32 ‖ flags 1 ‖ counter 4
        len16(a.clientDataJSON.length), //            clientDataJSON length
        toHex(a.clientDataJSON),
        a.signature.length.toString(16).padStart(2, "0"), // DER signature length
        toHex(a.signature),
      ),
    );
    expect(decodeAuthoritySignature(encodeAuthoritySignature(s))).toEqual(s);
    const bad: AuthoritySignature[] = [
      { ...s, credentialId: new Uint8Array(0) },
      { ...s, authenticatorData: new Uint8Array(36) },
      { ...s, clientDataJSON: new Uint8Array(0) },
      { ...s, signature: new Uint8Array(73) },
      { ...recoverySig, signature: new Uint8Array(63) },
    ];
    for (const b of bad)
      expect(thrownCode(() => encodeAuthoritySignature(b))).toBe("AUTHORITY_INVALID_FIELDS");
  });

  it("wraps a record and its signatures in the authorised-record envelope", () => {
    const envelope: AuthorisedRecord = {
      purpose: AuthorityPurpose.DoorRelabel,
      record: RELABEL_BYTES,
      signatures: [recoverySig],
    };
    const bytes = hex(
      "1d", //                                      tag length 29
      ascii("latchkey/authorised-record/v1"), //    tag
      "05", //                                      purpose 5 = door relabel
      "00000054", //                                record length 84
      toHex(RELABEL_BYTES),
      "01", //                                      1 signature
      "0081", //                                    129 bytes
      toHex(RECOVERY_SIG_BYTES),
    );
    expect(encodeAuthorisedRecord(envelope)).toEqual(bytes);
    expect(decodeAuthorisedRecord(bytes)).toEqual(envelope);
    expect(thrownCode(() => encodeAuthorisedRecord({ ...envelope, signatures: [] }))).toBe(
      "AUTHORITY_INVALID_FIELDS",
    );
    expect(thrownCode(() => encodeAuthorisedRecord({ ...envelope, record: new Uint8Array(0) }))).toBe(
      "AUTHORITY_INVALID_FIELDS",
    );
    expect(thrownCode(() => encodeAuthorisedRecord({ ...envelope, purpose: 8 as AuthorityPurpose }))).toBe(
      "AUTHORITY_INVALID_FIELDS",
    );
    // A declared record length beyond the limit is refused before anything is read.
    const huge = concatBytes(bytes.subarray(0, 31), hex("00100001"), bytes.subarray(35));
    expect(thrownCode(() => decodeAuthorisedRecord(huge))).toBe("AUTHORITY_MALFORMED");
  });
});

describe("delegation and door relabel encoding", () => {
  const DELEGATION_BYTES = hex(
    "16", //                              tag length 22
    ascii("latchkey/delegation/v1"), //   tag
    "5a".repeat(16), //                   site id
    "0000000000000001", //                serial 1
    HUB_PUB, //                           delegate key (the hub's automation key)
    "01", //                              scope: renew phone-key certificates
    "000001a3185c5000", //                not before
    "000001a3b2db1800", //                not after = not before + 30 days
    "0000000005265c00", //                max certificate lifetime 86 400 000 ms (1 day)
    "01", //                              renewed certificates may carry: unlock
    "01", //                              1 door
    "d0".repeat(16), //                   door id
  );

  it("encodes a delegation to the golden bytes and back", () => {
    expect(encodeDelegation(delegation)).toEqual(DELEGATION_BYTES);
    expect(decodeDelegation(DELEGATION_BYTES)).toEqual(delegation);
  });

  it("has no way to delegate unlocking, administering or anything unknown", () => {
    const bad: Delegation[] = [
      { ...delegation, scope: 0 },
      { ...delegation, scope: 0x02 },
      { ...delegation, scope: 0x81 },
      { ...delegation, certificatePermissions: DigitalKeyPermission.Administer },
      {
        ...delegation,
        certificatePermissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.Administer,
      },
      { ...delegation, certificatePermissions: 0 },
      { ...delegation, maxCertificateLifetimeMs: 0 },
      { ...delegation, maxCertificateLifetimeMs: 32 * 86_400_000 },
      { ...delegation, notAfter: delegation.notBefore },
      { ...delegation, doorIds: [] },
      { ...delegation, doorIds: [new Uint8Array(16).fill(2), new Uint8Array(16).fill(1)] },
      { ...delegation, serial: 0n },
      { ...delegation, delegateKey: hex("01", "00".repeat(31)) },
    ];
    for (const d of bad) expect(thrownCode(() => encodeDelegation(d))).toBe("AUTHORITY_INVALID_FIELDS");
    // The same refusals when such bytes arrive: scope byte (offset 79) set to "unlock" (0x02).
    const unlockScope = DELEGATION_BYTES.slice();
    unlockScope[79] = 0x02;
    expect(thrownCode(() => decodeDelegation(unlockScope))).toBe("AUTHORITY_MALFORMED");
    const administer = DELEGATION_BYTES.slice();
    administer[104] = 0x05;
    expect(thrownCode(() => decodeDelegation(administer))).toBe("AUTHORITY_MALFORMED");
  });

  it("encodes a door relabel to the golden bytes and back", () => {
    expect(encodeDoorRelabel(relabel)).toEqual(RELABEL_BYTES);
    expect(decodeDoorRelabel(RELABEL_BYTES)).toEqual(relabel);
    for (const bad of [
      { ...relabel, timeZone: "Europe/Berlin; DROP" },
      { ...relabel, timeZone: "" },
      { ...relabel, doorName: "x".repeat(129) },
      { ...relabel, version: 0 },
      { ...relabel, lockId: new Uint8Array(8) },
    ])
      expect(thrownCode(() => encodeDoorRelabel(bad))).toBe("AUTHORITY_INVALID_FIELDS");
    const badUtf8 = concatBytes(RELABEL_BYTES.subarray(0, 59), hex("ff"), RELABEL_BYTES.subarray(60));
    expect(thrownCode(() => decodeDoorRelabel(badUtf8))).toBe("AUTHORITY_MALFORMED");
  });
});

describe("decoders under fuzzing", () => {
  const recoverySig = signWithRecoveryKey(AuthorityPurpose.DoorRelabel, SITE, RELABEL_BYTES, recoverySeed);
  const passkeySig = passkeyAuthoritySignature(
    credA,
    passkey.assert({ challenge: new Uint8Array(32), origin: "https://latchkey.home.arpa", rpId: RP_ID }),
  );
  const decoders: [string, (b: Uint8Array) => unknown, (v: never) => Uint8Array, Uint8Array[]][] = [
    ["authority key", decodeAuthorityKey, encodeAuthorityKey, [PASSKEY_KEY_BYTES, RECOVERY_KEY_BYTES]],
    ["authority set", decodeAuthoritySet, encodeAuthoritySet, [encodeAuthoritySet(setFields)]],
    [
      "authority signature",
      decodeAuthoritySignature,
      encodeAuthoritySignature,
      [encodeAuthoritySignature(recoverySig), encodeAuthoritySignature(passkeySig)],
    ],
    [
      "authorised record",
      decodeAuthorisedRecord,
      encodeAuthorisedRecord,
      [
        encodeAuthorisedRecord({
          purpose: AuthorityPurpose.DoorRelabel,
          record: RELABEL_BYTES,
          signatures: [recoverySig, passkeySig],
        }),
      ],
    ],
    ["delegation", decodeDelegation, encodeDelegation, [encodeDelegation(delegation)]],
    ["door relabel", decodeDoorRelabel, encodeDoorRelabel, [RELABEL_BYTES]],
    ["COSE key", p256PublicKeyFromCose, (v: Uint8Array) => v, []],
  ];

  for (const [name, decode, encode, seeds] of decoders) {
    it(`${name}: throws only LatchkeyError, and what decodes re-encodes to the same bytes`, () => {
      const mutated =
        seeds.length === 0
          ? fc.uint8Array({ maxLength: 120 })
          : fc
              .tuple(
                fc.constantFrom(...seeds),
                fc.nat(),
                fc.nat(255),
                fc.nat(3),
                fc.uint8Array({ maxLength: 8 }),
              )
              .map(([seed, at, value, how, extra]) => {
                const b = seed.slice();
                const i = at % b.length;
                if (how === 0) b[i] = value; //                     overwrite one byte
                if (how === 1) return b.subarray(0, i); //          truncate
                if (how === 2) return concatBytes(b.subarray(0, i), extra, b.subarray(i)); // insert
                return concatBytes(b, extra); //                    append
              });
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
          let value: unknown;
          try {
            value = decode(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(LatchkeyError);
            return;
          }
          if (name !== "COSE key") expect(encode(value as never)).toEqual(bytes);
        }),
        { numRuns: 400 },
      );
    });
  }

  it("has golden P-256 and Ed25519 keys that node:crypto agrees with", () => {
    expect(toHex(p256.getPublicKey(new Uint8Array(32).fill(0x33), false))).toBe(PASSKEY_PUB);
    expect(toHex(nobleEd25519.publicKey(new Uint8Array(32).fill(0x66)))).toBe(HUB_PUB);
    const jwk = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(PASSKEY_PUB.slice(2, 66), "hex").toString("base64url"),
        y: Buffer.from(PASSKEY_PUB.slice(66), "hex").toString("base64url"),
      },
      format: "jwk",
    });
    expect(jwk.asymmetricKeyType).toBe("ec");
  });
});
