/**
 * Authority signatures with real keys: passkeys (the software authenticator's ES256 assertions,
 * cross-checked with node:crypto) and a recovery key (Ed25519). Every refusal the lock and a
 * verifier rely on: forgery, wrong purpose, wrong site, an unlock approval reused, wrong rpId or
 * origin, missing UP/UV, a key outside the set, stale or forked sets, a lost passkey replaced by
 * the recovery key, and a hub delegation pushed beyond its scope, doors or time.
 */
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { concatBytes, toHex } from "../encoding/bytes.js";
import {
  DigitalKeyPermission,
  HolderKeyType,
  decodeDigitalKey,
  signDigitalKey,
  verifyDigitalKey,
  type DigitalKeyFields,
} from "../certificates/digital-key.js";
import { base64UrlDecode, verifyAssertion } from "../webauthn/assertion.js";
import { SoftwareAuthenticator, type AssertOptions } from "../webauthn/software-authenticator.js";
import { remoteUnlockChallenge, encodeRemoteUnlockIntent } from "../webauthn/unlock-intent.js";
import { encodeAuthorisedRecord, verifyAuthorisedRecord, type AuthorisedRecord } from "./authorised.js";
import {
  DelegationScope,
  encodeDelegation,
  verifyDelegatedCertificate,
  verifyDelegation,
  type Delegation,
} from "./delegation.js";
import { encodeDoorRelabel, verifyDoorRelabel } from "./door-relabel.js";
import { passkeyAuthorityKey, recoveryAuthorityKey, type AuthorityKey } from "./key.js";
import { AuthorityPurpose, authorityChallenge } from "./purpose.js";
import {
  authoritySetHash,
  canonicalAuthorityKeys,
  decodeAuthoritySet,
  encodeAuthoritySet,
  firstAuthoritySet,
  nextAuthoritySet,
  verifyAuthoritySetChain,
  verifyAuthoritySetUpdate,
  verifyFirstAuthoritySet,
  type AuthoritySet,
} from "./set.js";
import {
  encodeAuthoritySignature,
  originMatchesRpId,
  passkeyAuthoritySignature,
  signWithRecoveryKey,
  verifyAuthoritySignature,
  type AuthoritySignature,
} from "./signature.js";

const RP_ID = "latchkey.home.arpa";
const ORIGIN = "https://latchkey.home.arpa";
const SITE = new Uint8Array(16).fill(0x5a);
const OTHER_SITE = new Uint8Array(16).fill(0x5b);
const T0 = Date.UTC(2026, 11, 7, 12, 0);
const DAY = 86_400_000;

const alice = new SoftwareAuthenticator(new Uint8Array(32).fill(0x33));
const aliceNew = new SoftwareAuthenticator(new Uint8Array(32).fill(0x44));
const stranger = new SoftwareAuthenticator(new Uint8Array(32).fill(0x55));
const recoverySeed = new Uint8Array(32).fill(0x21);
const strangerRecoverySeed = new Uint8Array(32).fill(0x29);
const credAlice = new Uint8Array(16).fill(0xa1);
const credAliceNew = new Uint8Array(16).fill(0xa2);
const credStranger = new Uint8Array(16).fill(0xee);

const aliceKey = passkeyAuthorityKey({
  publicKey: alice.publicKey,
  credentialId: credAlice,
  rpId: RP_ID,
  label: "Alice's phone",
});
const aliceNewKey = passkeyAuthorityKey({
  publicKey: aliceNew.publicKey,
  credentialId: credAliceNew,
  rpId: RP_ID,
  label: "Alice's new phone",
});
const recoveryKey = recoveryAuthorityKey(recoverySeed, "Recovery sheet");

const ALL_PURPOSES = Object.values(AuthorityPurpose);

/** What the owner's browser does: ask the passkey to sign the authority challenge. */
function passkeySign(
  auth: SoftwareAuthenticator,
  credentialId: Uint8Array,
  purpose: AuthorityPurpose,
  record: Uint8Array,
  o: Partial<AssertOptions> & { site?: Uint8Array } = {},
): AuthoritySignature {
  const { site, ...assert } = o;
  return passkeyAuthoritySignature(
    credentialId,
    auth.assert({
      challenge: authorityChallenge(purpose, site ?? SITE, record),
      origin: ORIGIN,
      rpId: RP_ID,
      ...assert,
    }),
  );
}

function authorise(
  purpose: AuthorityPurpose,
  record: Uint8Array,
  ...signatures: AuthoritySignature[]
): Uint8Array {
  return encodeAuthorisedRecord({ purpose, record, signatures });
}

function setBytes(
  version: number,
  keys: AuthorityKey[],
  previous: AuthoritySet | null,
  threshold = 1,
): Uint8Array {
  if (previous === null && version === 1)
    return firstAuthoritySet({ siteId: SITE, keys, issuedAt: T0, threshold });
  if (previous !== null && version === previous.version + 1)
    return nextAuthoritySet(previous, { keys, issuedAt: T0 + version, threshold });
  // Deliberately out of sequence (a skipped version), for refusal tests.
  return encodeAuthoritySet({
    siteId: SITE,
    version,
    previous: previous === null ? new Uint8Array(32) : authoritySetHash(previous),
    issuedAt: T0 + version,
    threshold,
    keys: canonicalAuthorityKeys(keys),
  });
}

/** The site's first set: Alice's passkey and the recovery key, either may sign. */
const v1Bytes = setBytes(1, [aliceKey, recoveryKey], null);
const v1 = decodeAuthoritySet(v1Bytes);

const record = new TextEncoder().encode("a record that grants authority");

/** A copy of `b` with one bit of byte `at` flipped. */
function flip(b: Uint8Array, at: number): Uint8Array {
  const out = b.slice();
  out[at] = (out[at] ?? 0) ^ 1;
  return out;
}

function reason(v: { ok: boolean; reason?: string }): string {
  return v.ok ? "accepted" : (v.reason ?? "?");
}

describe("verifyAuthoritySignature", () => {
  it("accepts a passkey's assertion for every purpose (and node:crypto agrees with the ES256 signature)", () => {
    for (const purpose of ALL_PURPOSES) {
      const sig = passkeySign(alice, credAlice, purpose, record);
      const v = verifyAuthoritySignature(purpose, record, sig, v1);
      expect(v.ok, `purpose ${purpose}`).toBe(true);
      if (v.ok) expect(v.key).toEqual(aliceKey);
      // And as bytes, as a lock receives it.
      expect(verifyAuthoritySignature(purpose, record, encodeAuthoritySignature(sig), v1).ok).toBe(true);
    }
    const sig = passkeySign(alice, credAlice, AuthorityPurpose.DigitalKey, record);
    if (sig.kind !== 1) throw new Error("expected a passkey signature");
    const b64u = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
    const key = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: b64u(alice.publicKey.subarray(1, 33)),
        y: b64u(alice.publicKey.subarray(33)),
      },
      format: "jwk",
    });
    expect(
      nodeVerify(
        "sha256",
        concatBytes(sig.authenticatorData, sha256(sig.clientDataJSON)),
        key,
        sig.signature,
      ),
    ).toBe(true);
    // The clientData challenge is base64url(SHA-256(tag length ‖ tag ‖ site ‖ record)).
    const client = JSON.parse(new TextDecoder().decode(sig.clientDataJSON)) as {
      challenge: string;
      type: string;
    };
    const tag = "latchkey/authority/digital-key/v1";
    const expected = createHash("sha256")
      .update(concatBytes(Uint8Array.of(tag.length), new TextEncoder().encode(tag), SITE, record))
      .digest();
    expect(toHex(base64UrlDecode(client.challenge) ?? new Uint8Array(0))).toBe(expected.toString("hex"));
    expect(client.type).toBe("webauthn.get");
  });

  it("accepts the recovery key's Ed25519 signature", () => {
    const sig = signWithRecoveryKey(AuthorityPurpose.RevocationList, SITE, record, recoverySeed);
    const v = verifyAuthoritySignature(AuthorityPurpose.RevocationList, record, sig, v1);
    expect(v.ok && v.key).toEqual(recoveryKey);
  });

  it("refuses forged signatures", () => {
    const sig = passkeySign(alice, credAlice, AuthorityPurpose.CommissioningRecord, record);
    if (sig.kind !== 1) throw new Error("expected a passkey signature");
    const flipped = flip(sig.signature, sig.signature.length - 1);
    expect(reason(verifyAuthoritySignature(1, record, { ...sig, signature: flipped }, v1))).toBe(
      "bad-signature",
    );
    // Someone else's passkey claiming Alice's credential id.
    const impostor = passkeySign(stranger, credAlice, AuthorityPurpose.CommissioningRecord, record);
    expect(reason(verifyAuthoritySignature(1, record, impostor, v1))).toBe("bad-signature");
    // The record changed after Alice signed it.
    expect(reason(verifyAuthoritySignature(1, flip(record, 0), sig, v1))).toBe("challenge-mismatch");
    // A recovery signature with a flipped bit, or by another seed claiming the recovery key.
    const r = signWithRecoveryKey(AuthorityPurpose.CommissioningRecord, SITE, record, recoverySeed);
    expect(reason(verifyAuthoritySignature(1, record, { ...r, signature: flip(r.signature, 5) }, v1))).toBe(
      "bad-signature",
    );
    const other = signWithRecoveryKey(
      AuthorityPurpose.CommissioningRecord,
      SITE,
      record,
      strangerRecoverySeed,
    );
    expect(
      reason(verifyAuthoritySignature(1, record, { ...other, publicKey: recoveryKey.publicKey }, v1)),
    ).toBe("bad-signature");
    expect(reason(verifyAuthoritySignature(1, record, Uint8Array.of(1, 2, 3), v1))).toBe("malformed");
  });

  it("never lets a signature for one purpose pass as another", () => {
    for (const signedFor of ALL_PURPOSES) {
      const passkeySig = passkeySign(alice, credAlice, signedFor, record);
      const recoverySig = signWithRecoveryKey(signedFor, SITE, record, recoverySeed);
      for (const checkedAs of ALL_PURPOSES) {
        if (checkedAs === signedFor) continue;
        expect(reason(verifyAuthoritySignature(checkedAs, record, passkeySig, v1))).toBe(
          "challenge-mismatch",
        );
        expect(reason(verifyAuthoritySignature(checkedAs, record, recoverySig, v1))).toBe("bad-signature");
      }
    }
  });

  it("never lets a remote-unlock approval pass as an authority signature", () => {
    const intent = {
      nonce: new Uint8Array(32).fill(0x11),
      proposalId: new Uint8Array(16).fill(0x22),
      snapshotHash: new Uint8Array(32),
      doorId: new Uint8Array(16).fill(0xd0),
    };
    const approval = passkeyAuthoritySignature(
      credAlice,
      alice.assert({ challenge: remoteUnlockChallenge(intent), origin: ORIGIN, rpId: RP_ID }),
    );
    for (const purpose of ALL_PURPOSES) {
      for (const claimed of [encodeRemoteUnlockIntent(intent), record]) {
        expect(reason(verifyAuthoritySignature(purpose, claimed, approval, v1))).toBe("challenge-mismatch");
      }
    }
    // And the other way round: an authority signature is no unlock approval.
    const authoritySig = passkeySign(
      alice,
      credAlice,
      AuthorityPurpose.DigitalKey,
      encodeRemoteUnlockIntent(intent),
    );
    const asUnlock = verifyAssertion(authoritySig as AuthoritySignature & { kind: 1 }, alice.publicKey, {
      challenge: remoteUnlockChallenge(intent),
      origins: [ORIGIN],
      rpId: RP_ID,
      previousSignCount: 0,
    });
    expect(reason(asUnlock)).toBe("challenge-mismatch");
  });

  it("binds the site: a landlord's passkey signing for one site signs nothing for another", () => {
    const otherSite = decodeAuthoritySet(encodeAuthoritySet({ ...v1, siteId: OTHER_SITE, keys: v1.keys }));
    const sig = passkeySign(alice, credAlice, AuthorityPurpose.RevocationList, record);
    expect(verifyAuthoritySignature(AuthorityPurpose.RevocationList, record, sig, v1).ok).toBe(true);
    expect(reason(verifyAuthoritySignature(AuthorityPurpose.RevocationList, record, sig, otherSite))).toBe(
      "challenge-mismatch",
    );
    const r = signWithRecoveryKey(AuthorityPurpose.RevocationList, SITE, record, recoverySeed);
    expect(reason(verifyAuthoritySignature(AuthorityPurpose.RevocationList, record, r, otherSite))).toBe(
      "bad-signature",
    );
  });

  it("checks the rpId, origin, type and cross-origin flag", () => {
    const p = AuthorityPurpose.Delegation;
    const wrongRp = passkeySign(alice, credAlice, p, record, { rpId: "evil.example" });
    expect(reason(verifyAuthoritySignature(p, record, wrongRp, v1))).toBe("wrong-rp");
    const wrongOrigin = passkeySign(alice, credAlice, p, record, { origin: "https://evil.example" });
    expect(reason(verifyAuthoritySignature(p, record, wrongOrigin, v1))).toBe("wrong-origin");
    const lookalike = passkeySign(alice, credAlice, p, record, { origin: "https://evillatchkey.home.arpa" });
    expect(reason(verifyAuthoritySignature(p, record, lookalike, v1))).toBe("wrong-origin");
    const subdomain = passkeySign(alice, credAlice, p, record, {
      origin: "https://hub.latchkey.home.arpa:8443",
    });
    expect(verifyAuthoritySignature(p, record, subdomain, v1).ok).toBe(true);
    // With explicit origins, only those.
    expect(reason(verifyAuthoritySignature(p, record, subdomain, v1, { origins: [ORIGIN] }))).toBe(
      "wrong-origin",
    );
    const create = passkeySign(alice, credAlice, p, record, { type: "webauthn.create" });
    expect(reason(verifyAuthoritySignature(p, record, create, v1))).toBe("wrong-type");
    const framed = passkeySign(alice, credAlice, p, record, { crossOrigin: true });
    expect(reason(verifyAuthoritySignature(p, record, framed, v1))).toBe("cross-origin");
    expect(originMatchesRpId("http://latchkey.home.arpa", RP_ID)).toBe(false);
    expect(originMatchesRpId("http://localhost:5173", "localhost")).toBe(true);
    expect(originMatchesRpId("https://latchkey.home.arpa/path", RP_ID)).toBe(false);
    expect(originMatchesRpId("not a url", RP_ID)).toBe(false);
  });

  it("requires user presence, and user verification unless turned off", () => {
    const p = AuthorityPurpose.AuthoritySet;
    const absent = passkeySign(alice, credAlice, p, record, { userPresent: false });
    expect(reason(verifyAuthoritySignature(p, record, absent, v1))).toBe("user-not-present");
    expect(reason(verifyAuthoritySignature(p, record, absent, v1, { requireUserVerification: false }))).toBe(
      "user-not-present",
    );
    const unverified = passkeySign(alice, credAlice, p, record, { userVerified: false });
    expect(reason(verifyAuthoritySignature(p, record, unverified, v1))).toBe("user-not-verified");
    expect(verifyAuthoritySignature(p, record, unverified, v1, { requireUserVerification: false }).ok).toBe(
      true,
    );
  });

  it("refuses keys that are not in the set and a regressed signature counter", () => {
    const p = AuthorityPurpose.ClockAuthorisation;
    expect(
      reason(verifyAuthoritySignature(p, record, passkeySign(stranger, credStranger, p, record), v1)),
    ).toBe("unknown-key");
    const outsider = signWithRecoveryKey(p, SITE, record, strangerRecoverySeed);
    expect(reason(verifyAuthoritySignature(p, record, outsider, v1))).toBe("unknown-key");
    const counted = passkeySign(alice, credAlice, p, record, { signCount: 5 });
    expect(reason(verifyAuthoritySignature(p, record, counted, v1, { previousSignCount: () => 9 }))).toBe(
      "counter-regressed",
    );
    const v = verifyAuthoritySignature(p, record, counted, v1, { previousSignCount: () => 4 });
    expect(v.ok && v.signCount).toBe(5);
  });

  it("never throws on random signatures or records", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(...ALL_PURPOSES),
        (sig, rec, p) => {
          expect(verifyAuthoritySignature(p, rec, sig, v1).ok).toBe(false);
          expect(verifyAuthorisedRecord(sig, p, v1).ok).toBe(false);
          expect(verifyFirstAuthoritySet(sig, SITE).ok).toBe(false);
          expect(verifyAuthoritySetUpdate(v1, sig).ok).toBe(false);
          expect(verifyDelegation(sig, v1).ok).toBe(false);
          expect(verifyDoorRelabel(sig, v1, { lockId: new Uint8Array(16), installedVersion: 0 }).ok).toBe(
            false,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("verifyAuthorisedRecord", () => {
  const p = AuthorityPurpose.RevocationList;

  it("accepts the set's threshold of distinct keys and names them", () => {
    const v = verifyAuthorisedRecord(authorise(p, record, passkeySign(alice, credAlice, p, record)), p, v1);
    expect(v.ok && v.signers).toEqual([aliceKey]);
    expect(v.ok && toHex(v.record)).toBe(toHex(record));
  });

  it("holds a two-of-three set to two distinct signers", () => {
    const set = decodeAuthoritySet(setBytes(1, [aliceKey, aliceNewKey, recoveryKey], null, 2));
    const a = passkeySign(alice, credAlice, p, record);
    const b = passkeySign(aliceNew, credAliceNew, p, record);
    const r = signWithRecoveryKey(p, SITE, record, recoverySeed);
    expect(reason(verifyAuthorisedRecord(authorise(p, record, a), p, set))).toBe("below-threshold");
    expect(
      reason(
        verifyAuthorisedRecord(authorise(p, record, a, passkeySign(alice, credAlice, p, record)), p, set),
      ),
    ).toBe("below-threshold");
    const both = verifyAuthorisedRecord(authorise(p, record, r, a), p, set);
    expect(both.ok && both.signers.length).toBe(2);
    expect(verifyAuthorisedRecord(authorise(p, record, a, b, r), p, set).ok).toBe(true);
    const forged = passkeySign(stranger, credAliceNew, p, record);
    const v = verifyAuthorisedRecord(authorise(p, record, a, forged), p, set);
    expect(v).toEqual({ ok: false, reason: "bad-signature", signatureIndex: 1 });
  });

  it("refuses an envelope for another purpose, relabelled or not", () => {
    const sig = passkeySign(alice, credAlice, AuthorityPurpose.Delegation, record);
    const asDelegation = authorise(AuthorityPurpose.Delegation, record, sig);
    expect(reason(verifyAuthorisedRecord(asDelegation, AuthorityPurpose.CommissioningRecord, v1))).toBe(
      "wrong-purpose",
    );
    const relabelled = asDelegation.slice();
    relabelled[30] = AuthorityPurpose.CommissioningRecord; // the purpose byte
    expect(reason(verifyAuthorisedRecord(relabelled, AuthorityPurpose.CommissioningRecord, v1))).toBe(
      "challenge-mismatch",
    );
  });

  it("lets a verifier check an authority-signed digital-key certificate body", () => {
    const fields: DigitalKeyFields = {
      serial: 42n,
      subjectId: new Uint8Array(16).fill(3),
      holderKeyType: HolderKeyType.P256,
      holderKey: aliceNew.publicKey,
      notBefore: T0,
      notAfter: T0 + 365 * DAY,
      permissions: DigitalKeyPermission.Unlock,
      doorIds: [new Uint8Array(16).fill(0xd0)],
      schedule: [],
    };
    // The certificate body: every byte the v1 certificate's signature covers.
    const body = decodeDigitalKey(signDigitalKey(fields, new Uint8Array(32).fill(7))).signedBytes;
    const signed = authorise(
      AuthorityPurpose.DigitalKey,
      body,
      passkeySign(alice, credAlice, AuthorityPurpose.DigitalKey, body),
    );
    expect(verifyAuthorisedRecord(signed, AuthorityPurpose.DigitalKey, v1).ok).toBe(true);
    expect(reason(verifyAuthorisedRecord(signed, AuthorityPurpose.RevocationList, v1))).toBe("wrong-purpose");
  });
});

describe("authority sets", () => {
  const firstSet = authorise(
    AuthorityPurpose.AuthoritySet,
    v1Bytes,
    passkeySign(alice, credAlice, AuthorityPurpose.AuthoritySet, v1Bytes),
  );

  it("installs the first set only when its own keys signed it, for this site", () => {
    const v = verifyFirstAuthoritySet(firstSet, SITE);
    expect(v.ok && v.set.version).toBe(1);
    expect(reason(verifyFirstAuthoritySet(firstSet, OTHER_SITE))).toBe("wrong-site");
    const byStranger = authorise(
      AuthorityPurpose.AuthoritySet,
      v1Bytes,
      signWithRecoveryKey(AuthorityPurpose.AuthoritySet, SITE, v1Bytes, strangerRecoverySeed),
    );
    expect(reason(verifyFirstAuthoritySet(byStranger, SITE))).toBe("unknown-key");
    const v2 = setBytes(2, [aliceKey], v1);
    const later = authorise(
      AuthorityPurpose.AuthoritySet,
      v2,
      passkeySign(alice, credAlice, AuthorityPurpose.AuthoritySet, v2),
    );
    expect(reason(verifyFirstAuthoritySet(later, SITE))).toBe("not-first");
    const asRelabel = authorise(
      AuthorityPurpose.DoorRelabel,
      v1Bytes,
      passkeySign(alice, credAlice, AuthorityPurpose.DoorRelabel, v1Bytes),
    );
    expect(reason(verifyFirstAuthoritySet(asRelabel, SITE))).toBe("wrong-purpose");
    expect(reason(verifyFirstAuthoritySet(Uint8Array.of(0), SITE))).toBe("malformed");
  });

  it("replaces a lost passkey with the recovery key; the lost passkey then signs nothing", () => {
    // Alice lost her phone. She registers a new passkey; the recovery key signs set 2.
    const v2Bytes = setBytes(2, [aliceNewKey, recoveryKey], v1);
    const update2 = authorise(
      AuthorityPurpose.AuthoritySet,
      v2Bytes,
      signWithRecoveryKey(AuthorityPurpose.AuthoritySet, SITE, v2Bytes, recoverySeed),
    );
    const chain = verifyAuthoritySetChain(v1, [update2]);
    expect(chain.ok && chain.signers).toEqual([recoveryKey]);
    if (!chain.ok) throw new Error("chain refused");
    const v2 = chain.set;
    expect(v2.keys).toEqual([aliceNewKey, recoveryKey]);

    // Whoever has the lost phone: every record they sign is refused under set 2.
    for (const p of ALL_PURPOSES) {
      const thief = passkeySign(alice, credAlice, p, record);
      expect(verifyAuthoritySignature(p, record, thief, v1).ok).toBe(true);
      expect(reason(verifyAuthoritySignature(p, record, thief, v2))).toBe("unknown-key");
    }
    // Including a set that would put the lost phone back.
    const v3Bytes = setBytes(3, [aliceKey, recoveryKey], v2);
    const thiefUpdate = authorise(
      AuthorityPurpose.AuthoritySet,
      v3Bytes,
      passkeySign(alice, credAlice, AuthorityPurpose.AuthoritySet, v3Bytes),
    );
    expect(verifyAuthoritySetChain(v1, [update2, thiefUpdate])).toEqual({
      ok: false,
      reason: "unknown-key",
      index: 1,
    });
    // The new passkey can sign the next set.
    const v3Good = setBytes(3, [aliceNewKey, recoveryKey], v2);
    const goodUpdate = authorise(
      AuthorityPurpose.AuthoritySet,
      v3Good,
      passkeySign(aliceNew, credAliceNew, AuthorityPurpose.AuthoritySet, v3Good),
    );
    const v = verifyAuthoritySetChain(v1, [update2, goodUpdate]);
    expect(v.ok && v.set.version).toBe(3);
    // A set is vouched for by the current keys, not its own: the new passkey alone cannot enrol itself.
    const selfEnrol = authorise(
      AuthorityPurpose.AuthoritySet,
      v2Bytes,
      passkeySign(aliceNew, credAliceNew, AuthorityPurpose.AuthoritySet, v2Bytes),
    );
    expect(reason(verifyAuthoritySetUpdate(v1, selfEnrol))).toBe("unknown-key");
  });

  it("refuses stale, skipped and forked set versions", () => {
    const v2Bytes = setBytes(2, [aliceNewKey, recoveryKey], v1);
    const update2 = authorise(
      AuthorityPurpose.AuthoritySet,
      v2Bytes,
      signWithRecoveryKey(AuthorityPurpose.AuthoritySet, SITE, v2Bytes, recoverySeed),
    );
    const applied = verifyAuthoritySetUpdate(v1, update2);
    if (!applied.ok) throw new Error("update refused");
    // Replaying set 2 (or set 1) to a lock that has set 2.
    expect(reason(verifyAuthoritySetUpdate(applied.set, update2))).toBe("stale-version");
    expect(reason(verifyAuthoritySetUpdate(applied.set, firstSet))).toBe("stale-version");
    // A rival set 2 signed with the lost passkey arrives after the real one: stale.
    const rivalBytes = setBytes(2, [aliceKey, recoveryKey], v1);
    const rival = authorise(
      AuthorityPurpose.AuthoritySet,
      rivalBytes,
      passkeySign(alice, credAlice, AuthorityPurpose.AuthoritySet, rivalBytes),
    );
    expect(reason(verifyAuthoritySetUpdate(applied.set, rival))).toBe("stale-version");
    // Skipping a version.
    const v3Bytes = setBytes(3, [aliceKey, recoveryKey], applied.set);
    const skip = authorise(
      AuthorityPurpose.AuthoritySet,
      v3Bytes,
      passkeySign(alice, credAlice, AuthorityPurpose.AuthoritySet, v3Bytes),
    );
    expect(reason(verifyAuthoritySetUpdate(v1, skip))).toBe("version-gap");
    // Naming another predecessor (a fork).
    const forkBytes = setBytes(3, [aliceNewKey, recoveryKey], decodeAuthoritySet(rivalBytes));
    const fork = authorise(
      AuthorityPurpose.AuthoritySet,
      forkBytes,
      passkeySign(aliceNew, credAliceNew, AuthorityPurpose.AuthoritySet, forkBytes),
    );
    expect(reason(verifyAuthoritySetUpdate(applied.set, fork))).toBe("wrong-previous");
    // Another site's set.
    const otherBytes = encodeAuthoritySet({ ...decodeAuthoritySet(v2Bytes), siteId: OTHER_SITE });
    const other = authorise(
      AuthorityPurpose.AuthoritySet,
      otherBytes,
      signWithRecoveryKey(AuthorityPurpose.AuthoritySet, SITE, otherBytes, recoverySeed),
    );
    expect(reason(verifyAuthoritySetUpdate(v1, other))).toBe("wrong-site");
  });

  it("holds a set update to the current set's threshold", () => {
    const twoOfThree = decodeAuthoritySet(setBytes(1, [aliceKey, aliceNewKey, recoveryKey], null, 2));
    const next = setBytes(2, [aliceNewKey, recoveryKey], twoOfThree);
    const one = signWithRecoveryKey(AuthorityPurpose.AuthoritySet, SITE, next, recoverySeed);
    expect(
      reason(verifyAuthoritySetUpdate(twoOfThree, authorise(AuthorityPurpose.AuthoritySet, next, one))),
    ).toBe("below-threshold");
    const two = passkeySign(aliceNew, credAliceNew, AuthorityPurpose.AuthoritySet, next);
    expect(
      verifyAuthoritySetUpdate(twoOfThree, authorise(AuthorityPurpose.AuthoritySet, next, one, two)).ok,
    ).toBe(true);
  });
});

describe("delegations", () => {
  const front = new Uint8Array(16).fill(0xd0);
  const back = new Uint8Array(16).fill(0xd1);
  const hubSeed = new Uint8Array(32).fill(0x66);
  const hubKey = nobleEd25519.publicKey(hubSeed);
  const delegation: Delegation = {
    siteId: SITE,
    serial: 1n,
    delegateKey: hubKey,
    scope: DelegationScope.RenewPhoneKeyCertificates,
    notBefore: T0,
    notAfter: T0 + 30 * DAY,
    maxCertificateLifetimeMs: DAY,
    certificatePermissions: DigitalKeyPermission.Unlock,
    doorIds: [front],
  };
  const delegationBytes = encodeDelegation(delegation);
  /** The grant Alice signed: Bob's phone key, both doors, a year. */
  const phone = new Uint8Array(32).fill(0x77);
  const parent: DigitalKeyFields = {
    serial: 42n,
    subjectId: new Uint8Array(16).fill(0xb0),
    holderKeyType: HolderKeyType.Ed25519,
    holderKey: nobleEd25519.publicKey(phone),
    notBefore: T0,
    notAfter: T0 + 365 * DAY,
    permissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock,
    doorIds: [front, back],
    schedule: [{ daysMask: 0x3e, startHour: 7, startMinute: 0, endHour: 19, endMinute: 0 }],
  };
  const renewal: DigitalKeyFields = {
    ...parent,
    notBefore: T0 + DAY,
    notAfter: T0 + 2 * DAY,
    permissions: DigitalKeyPermission.Unlock,
    doorIds: [front],
  };
  const now = T0 + DAY + 3600_000;
  const check = (fields: DigitalKeyFields, o: { seed?: Uint8Array; at?: number; d?: Delegation } = {}) =>
    reason(
      verifyDelegatedCertificate(signDigitalKey(fields, o.seed ?? hubSeed), {
        delegation: o.d ?? delegation,
        parent,
        now: o.at ?? now,
      }),
    );

  it("verifies an owner-signed delegation and refuses it for another site, purpose or signer", () => {
    const signed = authorise(
      AuthorityPurpose.Delegation,
      delegationBytes,
      passkeySign(alice, credAlice, AuthorityPurpose.Delegation, delegationBytes),
    );
    const v = verifyDelegation(signed, v1);
    expect(v.ok && v.delegation).toEqual(delegation);
    const byHub = authorise(
      AuthorityPurpose.Delegation,
      delegationBytes,
      signWithRecoveryKey(AuthorityPurpose.Delegation, SITE, delegationBytes, hubSeed),
    );
    expect(reason(verifyDelegation(byHub, v1))).toBe("unknown-key");
    const asRelabel = authorise(
      AuthorityPurpose.DoorRelabel,
      delegationBytes,
      passkeySign(alice, credAlice, AuthorityPurpose.DoorRelabel, delegationBytes),
    );
    expect(reason(verifyDelegation(asRelabel, v1))).toBe("wrong-purpose");
    const otherSiteBytes = encodeDelegation({ ...delegation, siteId: OTHER_SITE });
    const otherSite = authorise(
      AuthorityPurpose.Delegation,
      otherSiteBytes,
      passkeySign(alice, credAlice, AuthorityPurpose.Delegation, otherSiteBytes),
    );
    expect(reason(verifyDelegation(otherSite, v1))).toBe("wrong-site");
    const notADelegation = authorise(
      AuthorityPurpose.Delegation,
      record,
      passkeySign(alice, credAlice, AuthorityPurpose.Delegation, record),
    );
    expect(reason(verifyDelegation(notADelegation, v1))).toBe("malformed");
  });

  it("accepts a renewal inside the delegation and the parent; the lock then checks it as usual", () => {
    expect(check(renewal)).toBe("accepted");
    const cert = signDigitalKey(renewal, hubSeed);
    const atDoor = verifyDigitalKey(cert, {
      ownerPublicKey: hubKey,
      doorId: front,
      now: Date.UTC(2026, 11, 8, 13, 0), // a Tuesday, 13:00, inside the parent's weekday window
      revocationList: null,
      permission: DigitalKeyPermission.Unlock,
    });
    expect(atDoor.ok).toBe(true);
  });

  it("refuses renewals beyond the delegation's scope, doors, time, lifetime and permissions", () => {
    expect(check(renewal, { seed: new Uint8Array(32).fill(0x67) })).toBe("bad-signature");
    expect(check(renewal, { d: { ...delegation, scope: 0 } })).toBe("out-of-scope");
    expect(check(renewal, { at: T0 - 1 })).toBe("delegation-not-yet-valid");
    expect(check(renewal, { at: T0 + 30 * DAY + 1 })).toBe("delegation-expired");
    expect(check({ ...renewal, notBefore: T0 + 29.5 * DAY, notAfter: T0 + 30.5 * DAY })).toBe(
      "outside-delegation",
    );
    expect(check({ ...renewal, notAfter: renewal.notBefore + 2 * DAY })).toBe("lifetime-exceeded");
    expect(
      check({ ...renewal, permissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock }),
    ).toBe("permission-exceeded");
    expect(
      check({ ...renewal, permissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.Administer }),
    ).toBe("permission-exceeded");
    expect(check({ ...renewal, doorIds: [back] })).toBe("door-not-delegated");
    expect(check({ ...renewal, doorIds: [front, back] })).toBe("door-not-delegated");
  });

  it("refuses renewals that are not the parent's: the hub cannot mint a key for itself", () => {
    expect(check({ ...renewal, holderKey: hubKey })).toBe("not-the-parent");
    expect(check({ ...renewal, serial: 43n })).toBe("not-the-parent");
    expect(check({ ...renewal, subjectId: new Uint8Array(16).fill(0xb1) })).toBe("not-the-parent");
    expect(check({ ...renewal, schedule: [] })).toBe("not-the-parent");
    const lateParent = { ...parent, notBefore: T0 + 1.5 * DAY };
    expect(
      reason(
        verifyDelegatedCertificate(signDigitalKey(renewal, hubSeed), { delegation, parent: lateParent, now }),
      ),
    ).toBe("outside-parent");
    expect(reason(verifyDelegatedCertificate(Uint8Array.of(1, 2), { delegation, parent, now }))).toBe(
      "malformed",
    );
  });
});

describe("door relabels", () => {
  const lockId = new Uint8Array(16).fill(0xd0);
  const relabel = { lockId, version: 2, issuedAt: T0, doorName: "Back gate", timeZone: "Europe/Berlin" };
  const bytes = encodeDoorRelabel(relabel);
  const signed = authorise(
    AuthorityPurpose.DoorRelabel,
    bytes,
    passkeySign(alice, credAlice, AuthorityPurpose.DoorRelabel, bytes),
  );

  it("accepts a newer relabel for this lock signed by an authority", () => {
    const v = verifyDoorRelabel(signed, v1, { lockId, installedVersion: 1 });
    expect(v.ok && v.relabel).toEqual(relabel);
  });

  it("refuses another lock, an old version, another purpose or a hub signature", () => {
    expect(
      reason(verifyDoorRelabel(signed, v1, { lockId: new Uint8Array(16).fill(0xd1), installedVersion: 0 })),
    ).toBe("wrong-lock");
    expect(reason(verifyDoorRelabel(signed, v1, { lockId, installedVersion: 2 }))).toBe("stale-version");
    const asKey = authorise(
      AuthorityPurpose.DigitalKey,
      bytes,
      passkeySign(alice, credAlice, AuthorityPurpose.DigitalKey, bytes),
    );
    expect(reason(verifyDoorRelabel(asKey, v1, { lockId, installedVersion: 0 }))).toBe("wrong-purpose");
    const byHub = authorise(
      AuthorityPurpose.DoorRelabel,
      bytes,
      signWithRecoveryKey(AuthorityPurpose.DoorRelabel, SITE, bytes, new Uint8Array(32).fill(0x66)),
    );
    expect(reason(verifyDoorRelabel(byHub, v1, { lockId, installedVersion: 0 }))).toBe("unknown-key");
    const envelope: AuthorisedRecord = {
      purpose: AuthorityPurpose.DoorRelabel,
      record,
      signatures: [passkeySign(alice, credAlice, AuthorityPurpose.DoorRelabel, record)],
    };
    expect(reason(verifyDoorRelabel(envelope, v1, { lockId, installedVersion: 0 }))).toBe("malformed");
  });
});
