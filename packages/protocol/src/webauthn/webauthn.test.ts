import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { concatBytes, fromHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import {
  HolderKeyType,
  DigitalKeyPermission,
  signDigitalKey,
  type DigitalKeyFields,
} from "../certificates/digital-key.js";
import { RevocationStore, signRevocationList } from "../certificates/revocation.js";
import { base64UrlDecode, base64UrlEncode, verifyAssertion } from "./assertion.js";
import { ChallengeBook } from "./challenge-book.js";
import { signPhoneKeyUnlock, verifyPhoneKeyUnlock } from "./phone-key.js";
import { verifyRemoteUnlock, type RemoteUnlockContext, type RemoteUnlockRequest } from "./remote-unlock.js";
import { SoftwareAuthenticator, type AssertOptions } from "./software-authenticator.js";
import {
  REMOTE_UNLOCK_INTENT_LENGTH,
  encodeRemoteUnlockIntent,
  remoteUnlockChallenge,
  type RemoteUnlockIntent,
} from "./unlock-intent.js";
import { sha256 } from "@noble/hashes/sha2.js";

const ORIGIN = "https://latchkey.home.arpa";
const RP_ID = "latchkey.home.arpa";
const ownerSeed = new Uint8Array(32).fill(0x21);
const ownerPublicKey = nobleEd25519.publicKey(ownerSeed);
const door = new Uint8Array(16).fill(0xd0);
const otherDoor = new Uint8Array(16).fill(0xe0);
const T0 = Date.UTC(2026, 10, 20, 23, 0);

const passkey = new SoftwareAuthenticator(new Uint8Array(32).fill(0x33));
const impostor = new SoftwareAuthenticator(new Uint8Array(32).fill(0x44));

function certFor(holder: Uint8Array, extra: Partial<DigitalKeyFields> = {}): Uint8Array {
  return signDigitalKey(
    {
      serial: 7n,
      subjectId: new Uint8Array(16).fill(1),
      holderKeyType: HolderKeyType.P256,
      holderKey: holder,
      notBefore: T0 - 3600_000,
      notAfter: T0 + 3600_000,
      permissions: DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock,
      doorIds: [door],
      schedule: [],
      ...extra,
    },
    ownerSeed,
  );
}

function world() {
  const clock = { t: T0 };
  const challenges = new ChallengeBook({ now: () => clock.t });
  const signCounts = new Map<bigint, number>();
  const ctx = (): RemoteUnlockContext => ({
    challenges,
    ownerPublicKey,
    doorId: door,
    now: clock.t,
    revocationList: null,
    origins: [ORIGIN],
    rpId: RP_ID,
    previousSignCount: (serial) => signCounts.get(serial) ?? 0,
  });
  return { clock, challenges, signCounts, ctx };
}

/** The proposal and snapshot the approver was shown in these tests. */
const PROPOSAL = new Uint8Array(16).fill(0x9a);
const SNAPSHOT = sha256(new TextEncoder().encode("a picture of the doorstep"));

type Approval = Omit<RemoteUnlockRequest, "certificate">;

/**
 * What the approver's browser does: build the intent from the lock's nonce (`options.challenge`),
 * the proposal, the snapshot and the door, and have the passkey sign SHA-256 of it.
 */
function approve(
  auth: SoftwareAuthenticator,
  options: AssertOptions,
  intent: Partial<RemoteUnlockIntent> = {},
): Approval {
  const fields = {
    nonce: options.challenge,
    proposalId: PROPOSAL,
    snapshotHash: SNAPSHOT,
    doorId: door,
    ...intent,
  };
  return {
    challenge: options.challenge,
    proposalId: PROPOSAL,
    snapshotHash: SNAPSHOT,
    ...auth.assert({ ...options, challenge: remoteUnlockChallenge(fields) }),
  };
}

function request(cert: Uint8Array, approval: Approval): RemoteUnlockRequest {
  return { certificate: cert, ...approval };
}

/** Runs a request expected to be refused and checks the challenge book did not change. */
function refusedReason(w: ReturnType<typeof world>, req: RemoteUnlockRequest, ctx = w.ctx()): string {
  const before = JSON.stringify(w.challenges.snapshot());
  const verdict = verifyRemoteUnlock(req, ctx);
  expect(verdict.ok).toBe(false);
  expect(JSON.stringify(w.challenges.snapshot())).toBe(before);
  return verdict.ok ? "accepted" : verdict.reason;
}

describe("remote unlock: attacks", () => {
  const cert = certFor(passkey.publicKey);

  it("refuses an assertion over a challenge the lock never issued", () => {
    const w = world();
    w.challenges.issue();
    const foreign = new Uint8Array(32).fill(9);
    expect(
      refusedReason(w, request(cert, approve(passkey, { challenge: foreign, origin: ORIGIN, rpId: RP_ID }))),
    ).toBe("foreign-challenge");
  });

  it("refuses a reused challenge", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const req = request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID }));
    expect(verifyRemoteUnlock(req, w.ctx()).ok).toBe(true);
    expect(refusedReason(w, req)).toBe("reused-challenge");
    // A fresh signature over the spent challenge is refused too.
    expect(
      refusedReason(w, request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID }))),
    ).toBe("reused-challenge");
  });

  it("refuses a stale challenge", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    w.clock.t += 60_000;
    expect(
      refusedReason(w, request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID }))),
    ).toBe("stale-challenge");
  });

  it("refuses the wrong origin, the wrong rpId, missing user presence or verification, a create ceremony", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const cases: [AssertOptions, string][] = [
      [{ challenge, origin: "https://evil.example", rpId: RP_ID }, "wrong-origin"],
      [{ challenge, origin: ORIGIN, rpId: "evil.example" }, "wrong-rp"],
      [{ challenge, origin: ORIGIN, rpId: RP_ID, userPresent: false }, "user-not-present"],
      [{ challenge, origin: ORIGIN, rpId: RP_ID, userVerified: false }, "user-not-verified"],
      [{ challenge, origin: ORIGIN, rpId: RP_ID, type: "webauthn.create" }, "wrong-type"],
      [{ challenge, origin: ORIGIN, rpId: RP_ID, crossOrigin: true }, "cross-origin"],
    ];
    for (const [options, reason] of cases) {
      expect(refusedReason(w, request(cert, approve(passkey, options))), reason).toBe(reason);
    }
    // The challenge is still usable by the real request afterwards.
    expect(
      verifyRemoteUnlock(request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID })), w.ctx())
        .ok,
    ).toBe(true);
  });

  it("refuses an assertion over a different challenge than the one expected", () => {
    const a = passkey.assert({ challenge: new Uint8Array(32).fill(1), origin: ORIGIN, rpId: RP_ID });
    expect(
      verifyAssertion(a, passkey.publicKey, {
        challenge: new Uint8Array(32).fill(2),
        origins: [ORIGIN],
        rpId: RP_ID,
        previousSignCount: 0,
      }),
    ).toEqual({ ok: false, reason: "challenge-mismatch" });
  });

  it("refuses a signature by a passkey other than the certificate's holder", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    expect(
      refusedReason(w, request(cert, approve(impostor, { challenge, origin: ORIGIN, rpId: RP_ID }))),
    ).toBe("bad-signature");
  });

  it("refuses an assertion whose clientDataJSON was altered after signing", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const a = approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID });
    const altered = new TextEncoder().encode(
      new TextDecoder().decode(a.clientDataJSON).replace("}", ',"x":1}'),
    );
    expect(refusedReason(w, { certificate: cert, ...a, clientDataJSON: altered })).toBe("bad-signature");
  });

  it("refuses certificates without remote-unlock permission, for another door, expired, revoked or forged", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const a = approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID });
    expect(
      refusedReason(w, request(certFor(passkey.publicKey, { permissions: DigitalKeyPermission.Unlock }), a)),
    ).toBe("permission-missing");
    expect(refusedReason(w, request(certFor(passkey.publicKey, { doorIds: [otherDoor] }), a))).toBe(
      "wrong-door",
    );
    expect(refusedReason(w, request(cert, a), { ...w.ctx(), now: T0 + 3600_001 })).toBe("expired");
    const store = new RevocationStore(ownerPublicKey);
    store.install(signRevocationList({ listVersion: 1, issuedAt: T0, serials: [7n] }, ownerSeed));
    expect(refusedReason(w, request(cert, a), { ...w.ctx(), revocationList: store.list })).toBe("revoked");
    expect(
      refusedReason(w, request(cert, a), {
        ...w.ctx(),
        ownerPublicKey: nobleEd25519.publicKey(new Uint8Array(32)),
      }),
    ).toBe("bad-signature");
  });

  it("refuses a certificate whose holder is an Ed25519 phone key", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const edCert = certFor(nobleEd25519.publicKey(new Uint8Array(32).fill(5)), {
      holderKeyType: HolderKeyType.Ed25519,
    });
    expect(
      refusedReason(w, request(edCert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID }))),
    ).toBe("wrong-key-type");
  });

  it("refuses a signature counter that goes backwards, and accepts passkeys that always report 0", () => {
    const w = world();
    w.signCounts.set(7n, 10);
    let { challenge } = w.challenges.issue();
    expect(
      refusedReason(
        w,
        request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID, signCount: 5 })),
      ),
    ).toBe("counter-regressed");
    expect(
      refusedReason(
        w,
        request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID, signCount: 10 })),
      ),
    ).toBe("counter-regressed");
    const ok = verifyRemoteUnlock(
      request(cert, approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID, signCount: 11 })),
      w.ctx(),
    );
    expect(ok).toMatchObject({ ok: true, signCount: 11 });

    const synced = new SoftwareAuthenticator(new Uint8Array(32).fill(0x55), false);
    const syncedCert = certFor(synced.publicKey, { serial: 8n });
    for (let i = 0; i < 2; i++) {
      ({ challenge } = w.challenges.issue());
      expect(
        verifyRemoteUnlock(
          request(syncedCert, approve(synced, { challenge, origin: ORIGIN, rpId: RP_ID })),
          w.ctx(),
        ),
      ).toMatchObject({
        ok: true,
        signCount: 0,
      });
    }
  });

  it("refuses malformed assertions without throwing", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const a = approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID });
    expect(refusedReason(w, { certificate: cert, ...a, signature: a.signature.subarray(1) })).toBe(
      "malformed",
    );
    expect(
      refusedReason(w, { certificate: cert, ...a, authenticatorData: a.authenticatorData.subarray(0, 36) }),
    ).toBe("malformed");
    expect(
      refusedReason(w, { certificate: cert, ...a, clientDataJSON: new TextEncoder().encode("[1]") }),
    ).toBe("malformed");
  });
});

describe("remote-unlock intent", () => {
  const nonce = new Uint8Array(32).fill(0x11);
  const proposalId = new Uint8Array(16).fill(0x22);
  const snapshotHash = fromHex("df146e5536cf1bd62c2c9c21d8bdf9874402decc7416a73445845129748df194");

  it("has the documented 121-byte layout and challenge (test vector, also in docs/digital-keys.md)", () => {
    // SHA-256("a picture of the doorstep"), as the browser computes over the displayed bytes.
    expect(snapshotHash).toEqual(sha256(new TextEncoder().encode("a picture of the doorstep")));
    const intent = { nonce, proposalId, snapshotHash, doorId: door };
    const bytes = encodeRemoteUnlockIntent(intent);
    const expected = [
      ["6c617463686b65792f72656d6f74652d756e6c6f636b2f7631", 'tag "latchkey/remote-unlock/v1", 25 bytes'],
      ["11".repeat(32), "nonce: the lock's challenge, 32 bytes"],
      ["22".repeat(16), "proposal id, 16 bytes"],
      ["df146e5536cf1bd62c2c9c21d8bdf9874402decc7416a73445845129748df194", "snapshot SHA-256, 32 bytes"],
      ["d0".repeat(16), "door id (the lock's id), 16 bytes"],
    ] as const;
    expect(Buffer.from(bytes).toString("hex")).toBe(expected.map(([hex]) => hex).join(""));
    expect(bytes.length).toBe(REMOTE_UNLOCK_INTENT_LENGTH);
    const challenge = "2ae4b2e362ada1c4bc86f1225de928e8fabc690cf9769798f398a9ad403ec865";
    expect(Buffer.from(remoteUnlockChallenge(intent)).toString("hex")).toBe(challenge);
    // An independent hash of the same bytes agrees.
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(challenge);
    // No snapshot: 32 zero bytes in its place.
    expect(
      Buffer.from(remoteUnlockChallenge({ ...intent, snapshotHash: new Uint8Array(32) })).toString("hex"),
    ).toBe("586174ca263cbbf2b5a2e9da615511261667160dd5291c135394d7c5a896c9fb");
  });

  it("refuses fields of the wrong length with a stable code", () => {
    const good = { nonce, proposalId, snapshotHash, doorId: door };
    for (const [field, length] of [
      ["nonce", 31],
      ["proposalId", 32],
      ["snapshotHash", 0],
      ["doorId", 17],
    ] as const) {
      let thrown: unknown = null;
      try {
        encodeRemoteUnlockIntent({ ...good, [field]: new Uint8Array(length) });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(LatchkeyError);
      expect(thrown).toMatchObject({ code: "WEBAUTHN_INTENT_INVALID", details: { field } });
    }
  });

  it("any change to any field changes the challenge", () => {
    const base = { nonce, proposalId, snapshotHash, doorId: door };
    const challenge = remoteUnlockChallenge(base);
    fc.assert(
      fc.property(
        fc.constantFrom("nonce", "proposalId", "snapshotHash", "doorId"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (field, at, delta) => {
          const changed = base[field].slice();
          changed[at % changed.length] = (changed[at % changed.length]! + delta) & 0xff;
          expect(remoteUnlockChallenge({ ...base, [field]: changed })).not.toEqual(challenge);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("remote unlock: what the approver saw is what the lock records", () => {
  const cert = certFor(passkey.publicKey);
  const sign = (challenge: Uint8Array, intent: Partial<RemoteUnlockIntent> = {}) =>
    approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID }, intent);

  it("returns the signed proposal id and snapshot hash with the verdict", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const verdict = verifyRemoteUnlock(request(cert, sign(challenge)), w.ctx());
    expect(verdict).toMatchObject({ ok: true, proposalId: PROPOSAL, snapshotHash: SNAPSHOT });
  });

  it("refuses a request whose proposal id, snapshot hash or nonce was changed after signing", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const other = w.challenges.issue().challenge;
    const signed = sign(challenge);
    const swapped = sha256(new TextEncoder().encode("another picture"));
    expect(refusedReason(w, request(cert, { ...signed, proposalId: new Uint8Array(16).fill(0x9b) }))).toBe(
      "challenge-mismatch",
    );
    expect(refusedReason(w, request(cert, { ...signed, snapshotHash: swapped }))).toBe("challenge-mismatch");
    expect(refusedReason(w, request(cert, { ...signed, snapshotHash: new Uint8Array(32) }))).toBe(
      "challenge-mismatch",
    );
    // Another live nonce of this lock: still not what the person signed.
    expect(refusedReason(w, request(cert, { ...signed, challenge: other }))).toBe("challenge-mismatch");
    // The untouched request still opens: the refusals spent nothing.
    expect(verifyRemoteUnlock(request(cert, signed), w.ctx()).ok).toBe(true);
  });

  it("refuses an assertion signed for another door, over no snapshot, or over the bare nonce", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    expect(refusedReason(w, request(cert, sign(challenge, { doorId: otherDoor })))).toBe(
      "challenge-mismatch",
    );
    // Signed with no snapshot shown; the request claims one.
    expect(refusedReason(w, request(cert, sign(challenge, { snapshotHash: new Uint8Array(32) })))).toBe(
      "challenge-mismatch",
    );
    // The old form (the nonce itself as the WebAuthn challenge) binds nothing and is refused.
    const bare = passkey.assert({ challenge, origin: ORIGIN, rpId: RP_ID });
    expect(
      refusedReason(w, {
        certificate: cert,
        challenge,
        proposalId: PROPOSAL,
        snapshotHash: SNAPSHOT,
        ...bare,
      }),
    ).toBe("challenge-mismatch");
  });

  it("refuses intent fields of the wrong length as malformed", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const signed = sign(challenge);
    expect(refusedReason(w, request(cert, { ...signed, proposalId: new Uint8Array(15) }))).toBe("malformed");
    expect(refusedReason(w, request(cert, { ...signed, snapshotHash: new Uint8Array(33) }))).toBe(
      "malformed",
    );
    expect(refusedReason(w, request(cert, { ...signed, challenge: new Uint8Array(0) }))).toBe("malformed");
  });
});

describe("remote unlock", () => {
  it("accepts a passkey assertion over a fresh challenge and spends the challenge", () => {
    const w = world();
    const issued = w.challenges.issue();
    expect(issued.expiresAt).toBe(T0 + 60_000);
    expect(w.challenges.outstanding).toBe(1);
    const verdict = verifyRemoteUnlock(
      request(
        certFor(passkey.publicKey),
        approve(passkey, { challenge: issued.challenge, origin: ORIGIN, rpId: RP_ID }),
      ),
      w.ctx(),
    );
    expect(verdict.ok).toBe(true);
    expect(w.challenges.outstanding).toBe(0);
  });

  it("produces ES256 DER signatures that node:crypto verifies independently", () => {
    const a = passkey.assert({ challenge: new Uint8Array(32), origin: ORIGIN, rpId: RP_ID });
    const pk = passkey.publicKey;
    const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    const key = createPublicKey({
      key: { kty: "EC", crv: "P-256", x: b64u(pk.subarray(1, 33)), y: b64u(pk.subarray(33, 65)) },
      format: "jwk",
    });
    const signed = concatBytes(a.authenticatorData, sha256(a.clientDataJSON));
    expect(nodeVerify("sha256", signed, key, a.signature)).toBe(true);
    expect(
      verifyAssertion(a, pk, {
        challenge: new Uint8Array(32),
        origins: [ORIGIN],
        rpId: RP_ID,
        previousSignCount: 0,
      }).ok,
    ).toBe(true);
  });

  it("accepts high-S signatures, which real authenticators produce", () => {
    const a = passkey.assert({ challenge: new Uint8Array(32), origin: ORIGIN, rpId: RP_ID });
    const sig = p256.Signature.fromBytes(a.signature, "der");
    const highS = new p256.Signature(sig.r, p256.Point.Fn.ORDER - sig.s).toBytes("der");
    const expected = { challenge: new Uint8Array(32), origins: [ORIGIN], rpId: RP_ID, previousSignCount: 0 };
    expect(verifyAssertion({ ...a, signature: highS }, passkey.publicKey, expected).ok).toBe(true);
  });

  it("never throws on mutated assertions", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const cert = certFor(passkey.publicKey);
    const a = approve(passkey, { challenge, origin: ORIGIN, rpId: RP_ID });
    fc.assert(
      fc.property(
        fc.constantFrom(
          "authenticatorData",
          "clientDataJSON",
          "signature",
          "challenge",
          "proposalId",
          "snapshotHash",
        ),
        fc.nat(),
        fc.nat(7),
        (field, at, bit) => {
          const mutated = { ...a, [field]: a[field].slice() };
          const b = mutated[field];
          b[at % b.length]! ^= 1 << bit;
          expect(verifyRemoteUnlock({ certificate: cert, ...mutated }, w.ctx()).ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("base64url round-trips and refuses non-canonical input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(base64UrlDecode(base64UrlEncode(b))).toEqual(b);
      }),
    );
    expect(base64UrlDecode("AB+/")).toBeNull();
    expect(base64UrlDecode("AB==")).toBeNull();
    expect(base64UrlDecode("AB")).toBeNull(); // trailing bits set
    expect(base64UrlDecode("AA")).toEqual(Uint8Array.of(0));
  });
});

describe("phone-key unlock", () => {
  const holderSeed = new Uint8Array(32).fill(0x66);
  const cert = certFor(nobleEd25519.publicKey(holderSeed), { holderKeyType: HolderKeyType.Ed25519 });

  it("accepts the holder's signature over a fresh challenge once", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const req = { certificate: cert, challenge, signature: signPhoneKeyUnlock(holderSeed, challenge, door) };
    expect(verifyPhoneKeyUnlock(req, w.ctx()).ok).toBe(true);
    expect(verifyPhoneKeyUnlock(req, w.ctx())).toMatchObject({ ok: false, reason: "reused-challenge" });
  });

  it("refuses a signature made for another door or by another key, leaving the challenge usable", () => {
    const w = world();
    const { challenge } = w.challenges.issue();
    const before = JSON.stringify(w.challenges.snapshot());
    const wrongDoor = {
      certificate: cert,
      challenge,
      signature: signPhoneKeyUnlock(holderSeed, challenge, otherDoor),
    };
    expect(verifyPhoneKeyUnlock(wrongDoor, w.ctx())).toMatchObject({
      ok: false,
      reason: "bad-holder-signature",
    });
    const otherKey = {
      certificate: cert,
      challenge,
      signature: signPhoneKeyUnlock(new Uint8Array(32), challenge, door),
    };
    expect(verifyPhoneKeyUnlock(otherKey, w.ctx())).toMatchObject({
      ok: false,
      reason: "bad-holder-signature",
    });
    expect(JSON.stringify(w.challenges.snapshot())).toBe(before);
  });
});
