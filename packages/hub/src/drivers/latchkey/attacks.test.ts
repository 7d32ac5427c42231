/**
 * Attacks against a running lock endpoint. Each test asserts the refusal (its stable code or
 * reason) AND that the lock's users, credentials, settings and keys did not change; denials the
 * lock journals are expected and checked where they carry the reason.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ChannelSession,
  clockHandshakeCounter,
  credentialSealContext,
  CredentialType as WireCredentialType,
  DenyReason,
  DigitalKeyPermission,
  EventKind,
  HolderKeyType,
  isLatchkeyError,
  type RemoteUnlockIntent,
  sealSecret,
  type SignedLockEvent,
  signPhoneKeyUnlock,
  signRevocationList,
  SoftwareAuthenticator,
  toHex,
  UserStatus,
  UserType as WireUserType,
  verifyJournalEvents,
} from "@latchkey/protocol";
import { nodeEd25519, nodeX25519 } from "@latchkey/protocol/node";
import { HUB_LOCK_PROTOCOL, PHONE_LOCK_PROTOCOL, VirtualLock, tempLockDir } from "@latchkey/lock";
import {
  TEST_RELYING_PARTY,
  certificate,
  newHub,
  newOwner,
  newPhone,
  personApproval,
  startLinkedLock,
  type TestHub,
  type TestOwner,
} from "@latchkey/lock/testing";
import type { CommissionedLock } from "@latchkey/protocol";
import { LockClient } from "./lock-client.js";
import { commissionLock, hubSession, phoneSession } from "./link-testing.js";

const NOW = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});

/** Everything an attacker must not change. */
function snapshot(lock: VirtualLock): string {
  const rt = lock.runtime;
  const c = rt.commissioning;
  return JSON.stringify({
    users: rt.users(),
    credentials: rt.credentials(),
    settings: rt.settings,
    owner: c.ownerPublicKey === null ? null : toHex(c.ownerPublicKey),
    hub: c.hubStaticPublicKey === null ? null : toHex(c.hubStaticPublicKey),
    revocation: c.revocation?.version ?? null,
    commissioned: c.isCommissioned,
    bolt: rt.boltState,
  });
}

function refusalsOf(lock: VirtualLock): number {
  return Object.values(lock.endpoint.stats.refusals).reduce((a, b) => a + b, 0);
}

function countCodes(lock: VirtualLock): Map<string, number> {
  const codes = new Map<string, number>();
  lock.endpoint.onRefusal((code) => codes.set(code, (codes.get(code) ?? 0) + 1));
  return codes;
}

interface Setup {
  lock: VirtualLock;
  owner: TestOwner;
  hub: TestHub;
  identity: CommissionedLock;
}

async function commissioned(): Promise<Setup> {
  const lock = startLinkedLock({ wallMs: NOW });
  locks.push(lock);
  const owner = newOwner();
  const hub = newHub();
  const identity = await commissionLock(lock, lock.setupCode ?? "", owner, hub);
  const admin = await hubSession(lock, hub, identity);
  expect(
    await admin.setUser({
      userIndex: 1,
      userType: WireUserType.UnrestrictedUser,
      userStatus: UserStatus.OccupiedEnabled,
      credentialRule: 0,
      uniqueId: null,
      expiringTimeoutMinutes: 0,
      name: "Alice",
    }),
  ).toBe("OK");
  expect(await admin.setPin(1, 1, "583920")).toBe("OK");
  admin.close();
  return { lock, owner, hub, identity };
}

function passkeyCert(
  s: Setup,
  passkey: SoftwareAuthenticator,
  over: { serial?: bigint; permissions?: number } = {},
): Uint8Array {
  return certificate(
    s.owner,
    {
      serial: over.serial ?? 50n,
      holderKeyType: HolderKeyType.P256,
      holderKey: passkey.publicKey,
      doorIds: [s.identity.lockId],
      permissions: over.permissions ?? DigitalKeyPermission.RemoteUnlock,
    },
    NOW,
  );
}

const claim = { proposalId: new Uint8Array(16).fill(1), snapshotHash: new Uint8Array(32).fill(2) };

/** A recorded hub session: set a credential, then a passkey remote unlock; the door is relocked after. */
async function recordedSession(s: Setup) {
  const conn = s.lock.connectMemory();
  const client = await LockClient.connectHub(conn.client, {
    hubStaticSecretKey: s.hub.secretKey,
    lock: { channelPublicKey: s.identity.channelPublicKey, lockId: s.identity.lockId },
  });
  expect(await client.setPin(1, 2, "740193")).toBe("OK");
  const passkey = new SoftwareAuthenticator();
  const ch = await client.requestChallenge();
  const approval = personApproval(passkey, ch.challenge, s.identity.lockId, claim);
  expect(await client.unlockWithAssertion({ certificate: passkeyCert(s, passkey), ...approval })).toBe("OK");
  expect(s.lock.runtime.boltState).toBe("Unlocked");
  s.lock.runtime.lockButton();
  const frames = conn.link.captured.filter((f) => f.from === "a").map((f) => f.bytes);
  return { conn, client, frames };
}

function unlockEventsSince(lock: VirtualLock, seq: number): SignedLockEvent[] {
  return lock.runtime.journal
    .read(seq)
    .filter((e) => e.kind === EventKind.LockOperation && e.details.operation === "Unlock");
}

describe("replayed and tampered traffic", () => {
  it("refuses every captured frame replayed within the session", async () => {
    const s = await commissioned();
    const { conn, client, frames } = await recordedSession(s);
    expect(frames.length).toBe(4); // message 1, SetCredential, challenge request, assertion
    const before = snapshot(s.lock);
    const seq = s.lock.runtime.journal.nextSeq;
    const codes = countCodes(s.lock);
    for (const f of frames) conn.inject(f);
    // Message 1 again would start a new session (a restarted hub does that): the replay guard
    // refuses it, and the open session is untouched.
    expect([...codes.entries()].sort()).toEqual([
      ["NOISE_FRAME_REPLAYED", frames.length - 1],
      ["NOISE_HANDSHAKE_REPLAYED", 1],
    ]);
    expect(snapshot(s.lock)).toBe(before);
    expect(s.lock.runtime.journal.nextSeq).toBe(seq);
    // The genuine session still works.
    expect((await client.getState()).lockState).toBe(1);
  });

  it("refuses captured frames replayed in later sessions", async () => {
    const s = await commissioned();
    const { frames } = await recordedSession(s);
    const before = snapshot(s.lock);
    const seq = s.lock.runtime.journal.nextSeq;
    const codes = countCodes(s.lock);
    // A new connection: the old first message is known, the old data frames have no session.
    const attacker = s.lock.connectMemory();
    for (const f of frames) attacker.inject(f);
    expect(codes.get("NOISE_HANDSHAKE_REPLAYED")).toBe(1);
    expect(codes.get("NOISE_UNEXPECTED_FRAME")).toBe(frames.length - 1);
    expect(attacker.link.captured.filter((f) => f.from === "b")).toEqual([]);
    // Inside a genuine new session, a message from the previous session names another session.
    const fresh = s.lock.connectMemory();
    const client = await LockClient.connectHub(fresh.client, {
      hubStaticSecretKey: s.hub.secretKey,
      lock: { channelPublicKey: s.identity.channelPublicKey, lockId: s.identity.lockId },
    });
    for (const f of frames.slice(1)) fresh.inject(f);
    expect(codes.get("NOISE_SESSION_MISMATCH")).toBe(frames.length - 1);
    expect(snapshot(s.lock)).toBe(before);
    expect(unlockEventsSince(s.lock, seq)).toEqual([]);
    expect((await client.getState()).lockState).toBe(1);
  });

  it("never answers a captured first message again, after a reboot, and no handshake displaces the live session", async () => {
    const dir = tempLockDir();
    const options = {
      dir,
      wallMs: NOW,
      commissioning: { pbkdf2Iterations: 1000 },
      endpoint: { relyingParty: TEST_RELYING_PARTY },
    };
    const first = VirtualLock.start(options);
    locks.push(first);
    const owner = newOwner();
    const hub = newHub();
    const identity = await commissionLock(first, first.setupCode ?? "", owner, hub);
    const lockInfo = { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId };
    const wire = first.connectMemory();
    const old = await LockClient.connectHub(wire.client, {
      hubStaticSecretKey: hub.secretKey,
      lock: lockInfo,
    });
    expect((await old.getState()).lockState).toBe(1);
    const captured = wire.link.captured.find((f) => f.from === "a")?.bytes ?? new Uint8Array(0);

    // The lock reboots: a new process (runtime and endpoint) from the same directory.
    first.runtime.shutdown();
    const lock = VirtualLock.start(options);
    locks.push(lock);
    const codes = countCodes(lock);
    const attacker = lock.connectMemory();
    attacker.inject(captured);
    expect(attacker.link.captured.filter((f) => f.from === "b")).toEqual([]);
    expect(codes.get("NOISE_HANDSHAKE_REPLAYED")).toBe(1);

    // The hub's new session; the replay and an unfinished genuine handshake both arrive on its carrier.
    const conn = lock.connectMemory();
    const live = await LockClient.connectHub(conn.client, {
      hubStaticSecretKey: hub.secretKey,
      lock: lockInfo,
    });
    const pushed: Uint8Array[][] = [];
    live.onPush((records) => pushed.push(records));
    expect((await live.getState()).lockState).toBe(1);
    conn.inject(captured);
    const unfinished = ChannelSession.initiate({
      pattern: "KK",
      appProtocol: HUB_LOCK_PROTOCOL,
      staticSecretKey: hub.secretKey,
      remoteStaticKey: identity.channelPublicKey,
      handshakeCounter: clockHandshakeCounter(),
      x25519: nodeX25519,
    });
    conn.inject(unfinished.firstFrame);
    expect(codes.get("NOISE_HANDSHAKE_REPLAYED")).toBe(2);
    // The live session still carries requests and pushes.
    expect(await live.setTime(NOW)).toBe("OK");
    expect(lock.enterPin("000000").granted).toBe(false);
    expect(pushed.length).toBeGreaterThanOrEqual(1);
    expect((await live.getState()).lockState).toBe(1);
  });

  it("a phone refused on the hub's carrier (one MQTT topic) does not end the hub's session", async () => {
    const s = await commissioned();
    const conn = s.lock.connectMemory();
    const hubClient = await LockClient.connectHub(conn.client, {
      hubStaticSecretKey: s.hub.secretKey,
      lock: { channelPublicKey: s.identity.channelPublicKey, lockId: s.identity.lockId },
    });
    expect((await hubClient.getState()).lockState).toBe(1);
    const codes = countCodes(s.lock);
    // Anyone can run XX to the end with a key of their own; an unusable proof gets them refused.
    const stranger = newHub();
    const { session, firstFrame } = ChannelSession.initiate({
      pattern: "XX",
      appProtocol: PHONE_LOCK_PROTOCOL,
      staticSecretKey: stranger.secretKey,
      remoteStaticKey: s.identity.channelPublicKey,
      identityProof: new Uint8Array([1, 2, 3]),
      x25519: nodeX25519,
    });
    const answered = conn.link.captured.filter((f) => f.from === "b").length;
    conn.inject(firstFrame);
    const second = conn.link.captured.filter((f) => f.from === "b")[answered]?.bytes;
    if (second === undefined) throw new Error("the lock did not answer XX message 1");
    const third = session.receive(second);
    if (third.kind !== "handshake" || third.reply === null) throw new Error("no XX message 3");
    conn.inject(third.reply);
    expect(codes.get("NOISE_PEER_NOT_ALLOWED")).toBe(1);
    expect(s.lock.endpoint.stats.peerRefusals.malformed).toBe(1);
    expect((await hubClient.getState()).lockState).toBe(1);
  });

  it("refuses every single-bit flip of every frame of a recorded session", async () => {
    const s = await commissioned();
    const { conn, client, frames } = await recordedSession(s);
    const before = snapshot(s.lock);
    const seq = s.lock.runtime.journal.nextSeq;
    const [first, ...data] = frames;
    let flips = 0;
    // Message 1 flips against a fresh connection; the lock must never answer one.
    const attacker = s.lock.connectMemory();
    const r0 = refusalsOf(s.lock);
    for (let bit = 0; bit < (first?.length ?? 0) * 8; bit++) {
      const f = (first as Uint8Array).slice();
      f[bit >> 3] = (f[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      attacker.inject(f);
      flips++;
    }
    expect(attacker.link.captured.filter((f) => f.from === "b")).toEqual([]);
    // Data frame flips inside the live session: refused, and the session survives them all.
    for (const frame of data) {
      for (let bit = 0; bit < frame.length * 8; bit++) {
        const f = frame.slice();
        f[bit >> 3] = (f[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        conn.inject(f);
        flips++;
      }
    }
    expect(flips).toBeGreaterThan(4000);
    expect(refusalsOf(s.lock) - r0).toBe(flips);
    expect(snapshot(s.lock)).toBe(before);
    expect(s.lock.runtime.journal.nextSeq).toBe(seq);
    expect((await client.getState()).lockState).toBe(1);
  });

  it("refuses truncated and oversized frames without disturbing the session", async () => {
    const s = await commissioned();
    const { conn, client, frames } = await recordedSession(s);
    const before = snapshot(s.lock);
    const codes = countCodes(s.lock);
    let sent = 0;
    for (const frame of frames.slice(1)) {
      for (let n = 0; n < frame.length; n++) {
        conn.inject(frame.slice(0, n));
        sent++;
      }
    }
    conn.inject(new Uint8Array(70_000).fill(0x02));
    conn.inject(new Uint8Array(0));
    const total = [...codes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(sent + 2);
    expect(codes.get("NOISE_FRAME_TOO_LARGE")).toBe(1);
    expect(snapshot(s.lock)).toBe(before);
    expect((await client.getState()).lockState).toBe(1);
  });

  it("a garbage-sending peer never crashes the lock (random frames, every connection state)", async () => {
    const s = await commissioned();
    const before = snapshot(s.lock);
    const attacker = s.lock.connectMemory();
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 500; i++) {
      const f = new Uint8Array(rnd() % 300);
      for (let j = 0; j < f.length; j++) f[j] = rnd() & 0xff;
      if (f.length > 2 && i % 3 === 0) {
        f[0] = 1;
        f[1] = 1 + (i % 3);
      }
      attacker.inject(f);
    }
    expect(snapshot(s.lock)).toBe(before);
    const client = await hubSession(s.lock, s.hub, s.identity);
    expect((await client.getState()).lockState).toBe(1);
  });
});

describe("phone certificates", () => {
  async function phoneSetup() {
    const s = await commissioned();
    const phone = newPhone();
    const admin = await hubSession(s.lock, s.hub, s.identity);
    expect(
      await admin.setCredential(WireCredentialType.AliroEvictableEndpointKey, 1, 1, {
        type: "PhoneKey",
        algorithm: "Ed25519",
        publicKey: phone.publicKey,
      }),
    ).toBe("OK");
    const other = newOwner();
    const base = {
      holderKeyType: HolderKeyType.Ed25519,
      holderKey: phone.publicKey,
      doorIds: [s.identity.lockId],
    } as const;
    const bad = {
      "wrong-door": certificate(
        s.owner,
        { ...base, serial: 11n, doorIds: [new Uint8Array(16).fill(9)] },
        NOW,
      ),
      expired: certificate(
        s.owner,
        { ...base, serial: 12n, notBefore: NOW - 7200_000, notAfter: NOW - 1 },
        NOW,
      ),
      "not-yet-valid": certificate(
        s.owner,
        { ...base, serial: 13n, notBefore: NOW + 60_000, notAfter: NOW + 7200_000 },
        NOW,
      ),
      revoked: certificate(s.owner, { ...base, serial: 14n }, NOW),
      "bad-signature": certificate(other, { ...base, serial: 15n }, NOW),
    } as const;
    const revocation = signRevocationList(
      { listVersion: 1, issuedAt: NOW, serials: [14n] },
      s.owner.seed,
      nodeEd25519,
    );
    expect(await admin.installRevocationList(revocation)).toBe("OK");
    admin.close();
    const good = certificate(s.owner, { ...base, serial: 10n }, NOW);
    return { ...s, phone, bad, good };
  }

  it("refuses a phone whose handshake certificate is for another door, expired, not yet valid, revoked or not the owner's", async () => {
    const p = await phoneSetup();
    const before = snapshot(p.lock);
    for (const [reason, cert] of Object.entries(p.bad)) {
      const refusedBefore = p.lock.endpoint.stats.refusals.NOISE_PEER_NOT_ALLOWED ?? 0;
      const attempt = phoneSession(p.lock, p.phone, p.identity, cert).then((c) => c.requestChallenge());
      await expect(attempt, reason).rejects.toSatisfy((e: unknown) => isLatchkeyError(e));
      expect(p.lock.endpoint.stats.peerRefusals[reason], reason).toBe(1);
      expect(p.lock.endpoint.stats.refusals.NOISE_PEER_NOT_ALLOWED).toBe(refusedBefore + 1);
    }
    expect(snapshot(p.lock)).toBe(before);
    // The good certificate still gets in.
    const ok = await phoneSession(p.lock, p.phone, p.identity, p.good);
    expect((await ok.requestChallenge()).challenge.length).toBe(32);
  });

  it("journals the certificate's reason when an unlock presents a bad certificate", async () => {
    const p = await phoneSetup();
    const before = snapshot(p.lock);
    const client = await phoneSession(p.lock, p.phone, p.identity, p.good);
    const expected: Record<string, DenyReason> = {
      "wrong-door": DenyReason.InvalidCertificate,
      expired: DenyReason.Expired,
      "not-yet-valid": DenyReason.InvalidCertificate,
      revoked: DenyReason.Revoked,
      "bad-signature": DenyReason.InvalidCertificate,
    };
    for (const [refusal, cert] of Object.entries(p.bad)) {
      const ch = await client.requestChallenge();
      const seq = p.lock.runtime.journal.nextSeq;
      const code = await client.unlockWithPhoneKey({
        certificate: cert,
        challenge: ch.challenge,
        signature: signPhoneKeyUnlock(p.phone.seed, ch.challenge, p.identity.lockId, nodeEd25519),
      });
      expect(code, refusal).toBe("LOCK_ACCESS_DENIED");
      const denial = p.lock.runtime.journal.read(seq).find((e) => e.kind === EventKind.LockOperationError);
      expect(denial?.details, refusal).toMatchObject({ reason: expected[refusal], certificate: refusal });
      expect(p.lock.runtime.boltState).toBe("Locked");
    }
    // A fresh signature without any valid certificate opens nothing; with one, it opens.
    const ch = await client.requestChallenge();
    const sig = signPhoneKeyUnlock(p.phone.seed, ch.challenge, p.identity.lockId, nodeEd25519);
    expect(
      await client.unlockWithPhoneKey({ certificate: p.good, challenge: ch.challenge, signature: sig }),
    ).toBe("OK");
    // … and the same challenge and signature again are stale.
    const seq = p.lock.runtime.journal.nextSeq;
    p.lock.runtime.lockButton();
    expect(
      await client.unlockWithPhoneKey({ certificate: p.good, challenge: ch.challenge, signature: sig }),
    ).toBe("LOCK_ACCESS_DENIED");
    expect(p.lock.runtime.journal.read(seq).some((e) => e.details.reason === DenyReason.StaleChallenge)).toBe(
      true,
    );
    expect(p.lock.runtime.boltState).toBe("Locked");
    expect(snapshot(p.lock)).toBe(before);
  });
});

describe("remote unlock by passkey", () => {
  it("refuses an assertion over a different or a reused challenge, and a certificate without the permission", async () => {
    const s = await commissioned();
    const hub = await hubSession(s.lock, s.hub, s.identity);
    const passkey = new SoftwareAuthenticator();
    const cert = passkeyCert(s, passkey);
    const sign = (nonce: Uint8Array, o: { origin?: string; signed?: Partial<RemoteUnlockIntent> } = {}) =>
      personApproval(passkey, nonce, s.identity.lockId, { ...claim, ...o });
    const before = snapshot(s.lock);
    const refusal = async (
      req: Parameters<LockClient["unlockWithAssertion"]>[0],
      expected: string,
      reason: DenyReason,
    ) => {
      const seq = s.lock.runtime.journal.nextSeq;
      expect(await hub.unlockWithAssertion(req)).toBe("LOCK_ACCESS_DENIED");
      expect(s.lock.runtime.boltState).toBe("Locked");
      const e = s.lock.runtime.journal.read(seq).find((ev) => ev.kind === EventKind.LockOperationError);
      expect(e?.details).toMatchObject({ refusal: expected, reason, source: "Remote" });
    };
    // Different challenge: the lock issued one, the passkey signed another.
    await hub.requestChallenge();
    await refusal(
      { certificate: cert, ...sign(new Uint8Array(32).fill(5)) },
      "foreign-challenge",
      DenyReason.StaleChallenge,
    );
    // Reused: a valid unlock, then the same assertion again.
    const ch = await hub.requestChallenge();
    const approval = sign(ch.challenge);
    expect(await hub.unlockWithAssertion({ certificate: cert, ...approval })).toBe("OK");
    s.lock.runtime.lockButton();
    await refusal({ certificate: cert, ...approval }, "reused-challenge", DenyReason.StaleChallenge);
    // A certificate for phone unlocks only (no remote-unlock permission).
    const ch2 = await hub.requestChallenge();
    const unlockOnly = passkeyCert(s, passkey, { serial: 51n, permissions: DigitalKeyPermission.Unlock });
    await refusal(
      { certificate: unlockOnly, ...sign(ch2.challenge) },
      "permission-missing",
      DenyReason.InvalidCertificate,
    );
    // An assertion for another relying party.
    const ch3 = await hub.requestChallenge();
    const phished = sign(ch3.challenge, { origin: "https://evil.test" });
    await refusal({ certificate: cert, ...phished }, "wrong-origin", DenyReason.BadSignature);
    expect(snapshot(s.lock)).toBe(before);
  });

  it("a hub that changes the proposal or the snapshot after the person signed opens nothing", async () => {
    const s = await commissioned();
    const hub = await hubSession(s.lock, s.hub, s.identity);
    const passkey = new SoftwareAuthenticator();
    const cert = passkeyCert(s, passkey);
    const before = snapshot(s.lock);
    const ch = await hub.requestChallenge();
    // The person approved proposal 0x01… showing a picture whose SHA-256 is 0x02….
    const signed = personApproval(passkey, ch.challenge, s.identity.lockId, claim);
    const tampered = [
      { ...signed, proposalId: new Uint8Array(16).fill(0x0f) },
      { ...signed, snapshotHash: new Uint8Array(32).fill(0x0e) },
      { ...signed, snapshotHash: new Uint8Array(32) },
    ];
    for (const t of tampered) {
      const seq = s.lock.runtime.journal.nextSeq;
      expect(await hub.unlockWithAssertion({ certificate: cert, ...t })).toBe("LOCK_ACCESS_DENIED");
      expect(s.lock.runtime.boltState).toBe("Locked");
      const refused = s.lock.runtime.journal.read(seq);
      expect(refused.map((e) => e.kind)).toEqual([EventKind.LockOperationError]);
      // The refusal journals what the hub claimed, beside the reason it was not the person's.
      expect(refused[0]?.details).toMatchObject({
        refusal: "challenge-mismatch",
        reason: DenyReason.BadSignature,
        proposalId: t.proposalId,
        snapshotHash: t.snapshotHash,
      });
    }
    expect(snapshot(s.lock)).toBe(before);
    // The refusals spent nothing: the request as signed opens, and its event names what was signed.
    expect(await hub.unlockWithAssertion({ certificate: cert, ...signed })).toBe("OK");
    const opened = s.lock.runtime.journal.read(s.lock.runtime.journal.nextSeq - 1, 1)[0];
    expect(opened?.kind).toBe(EventKind.LockOperation);
    expect(opened?.details).toMatchObject({ authority: "passkey", ...claim });
  });
});

describe("a hub that misuses what it holds", () => {
  it("cannot move a sealed PIN to another user or slot, forge an event ack, or install a foreign or older revocation list", async () => {
    const s = await commissioned();
    const conn = s.lock.connectMemory();
    const hub = await LockClient.connectHub(conn.client, {
      hubStaticSecretKey: s.hub.secretKey,
      lock: { channelPublicKey: s.identity.channelPublicKey, lockId: s.identity.lockId },
    });
    expect(
      await hub.setUser({
        userIndex: 2,
        userType: WireUserType.UnrestrictedUser,
        userStatus: UserStatus.OccupiedEnabled,
        credentialRule: 0,
        uniqueId: null,
        expiringTimeoutMinutes: 0,
        name: "Bob",
      }),
    ).toBe("OK");
    const list = signRevocationList(
      { listVersion: 5, issuedAt: NOW, serials: [] },
      s.owner.seed,
      nodeEd25519,
    );
    expect(await hub.installRevocationList(list)).toBe("OK");
    const ackedBefore = s.lock.runtime.commissioning.ackedSeq;
    // A PIN the hub holds sealed for user 1, slot 3 …
    const sealed = sealSecret(
      s.identity.channelPublicKey,
      new TextEncoder().encode("605148"),
      credentialSealContext({
        lockId: s.identity.lockId,
        credentialType: 1,
        userIndex: 1,
        credentialIndex: 3,
      }),
    );
    const before = snapshot(s.lock);
    // … re-addressed to user 2 or to slot 4: the blob does not open under that context.
    for (const [userIndex, credentialIndex] of [
      [2, 3],
      [1, 4],
    ] as const) {
      expect(
        await hub.result({
          kind: "SetCredential",
          credentialType: 1,
          credentialIndex,
          userIndex,
          sealedData: sealed,
        }),
      ).toBe("LOCK_SEALED_SECRET_INVALID");
    }
    expect(snapshot(s.lock)).toBe(before);
    // Acks must name a written event with its own hash.
    const next = s.lock.runtime.journal.nextSeq;
    expect(await hub.result({ kind: "EventAck", upToSeq: next + 5, hash: new Uint8Array(32) })).toBe(
      "LOCK_EVENT_ACK_INVALID",
    );
    expect(await hub.result({ kind: "EventAck", upToSeq: 1, hash: new Uint8Array(32).fill(1) })).toBe(
      "LOCK_EVENT_ACK_INVALID",
    );
    expect(s.lock.runtime.commissioning.ackedSeq).toBe(ackedBefore);
    // Revocation lists: signed by someone else, or older than the installed one.
    const stranger = newOwner();
    const foreign = signRevocationList(
      { listVersion: 9, issuedAt: NOW, serials: [1n] },
      stranger.seed,
      nodeEd25519,
    );
    const older = signRevocationList(
      { listVersion: 4, issuedAt: NOW, serials: [] },
      s.owner.seed,
      nodeEd25519,
    );
    expect(await hub.installRevocationList(foreign)).toBe("LOCK_REVOCATION_REFUSED");
    expect(await hub.installRevocationList(older)).toBe("LOCK_REVOCATION_REFUSED");
    expect(s.lock.runtime.commissioning.revocation?.version).toBe(5);
    expect(snapshot(s.lock)).toBe(before);
    // Where it belongs, the same blob opens.
    expect(
      await hub.result({
        kind: "SetCredential",
        credentialType: 1,
        credentialIndex: 3,
        userIndex: 1,
        sealedData: sealed,
      }),
    ).toBe("OK");
  });
});

describe("commissioning attacks", () => {
  it("counts wrong setup codes until lockout, journals each, and installs nothing", async () => {
    const lock = startLinkedLock({ wallMs: NOW });
    locks.push(lock);
    const code = lock.setupCode ?? "";
    const wrong = code === "24681357" ? "13572468" : "24681357";
    const owner = newOwner();
    const hub = newHub();
    const before = snapshot(lock);
    const attempt = async (setupCode: string) => {
      const { client } = lock.connectMemory();
      return LockClient.commission(client, {
        setupCode,
        hubKeys: { ownerSigningPublicKey: owner.publicKey, hubStaticPublicKey: hub.publicKey },
      });
    };
    for (let i = 0; i < 5; i++) {
      await expect(attempt(wrong)).rejects.toSatisfy((e: unknown) =>
        isLatchkeyError(e, "COMM_CONFIRMATION_FAILED"),
      );
    }
    // Locked out now: even the right code is refused.
    for (const c of [wrong, code]) {
      await expect(attempt(c)).rejects.toSatisfy(
        (e: unknown) => isLatchkeyError(e, "COMM_REFUSED") && e.details?.code === "COMM_LOCKED_OUT",
      );
    }
    const failures = lock.runtime.journal.read(1).filter((e) => e.details.operation === "Commission");
    expect(failures.map((e) => e.details.consecutiveFailures)).toEqual([1, 2, 3, 4, 5]);
    expect(failures.at(-1)?.details.lockedOut).toBe(true);
    expect(snapshot(lock)).toBe(before);
    expect(lock.runtime.commissioning.isCommissioned).toBe(false);
    // After the lockout (1 min of lock time) the right code works; the lockout survives a restart.
    lock.restart();
    await expect(attempt(code)).rejects.toSatisfy((e: unknown) => isLatchkeyError(e, "COMM_REFUSED"));
    lock.advance(61_000);
    const identity = await attempt(code);
    expect(identity.lockId).toEqual(lock.runtime.lockIdBytes);
  });

  it("refuses commissioning after success, and accepts it again after a signed factory reset", async () => {
    const s = await commissioned();
    const code = s.lock.setupCode ?? "";
    const newOwnerKey = newOwner();
    const newHubKey = newHub();
    const before = snapshot(s.lock);
    await expect(commissionLock(s.lock, code, newOwnerKey, newHubKey)).rejects.toSatisfy(
      (e: unknown) => isLatchkeyError(e, "COMM_REFUSED") && e.details?.code === "COMM_ALREADY_COMMISSIONED",
    );
    expect(() => s.lock.runtime.commissioning.openWindow()).toThrow(/already commissioned/);
    expect(snapshot(s.lock)).toBe(before);

    const seqBefore = s.lock.runtime.journal.nextSeq;
    s.lock.factoryReset();
    const reset = s.lock.runtime.journal.read(seqBefore);
    expect(reset[0]?.kind).toBe(EventKind.FactoryReset);
    expect(reset[0]?.seq).toBe(seqBefore);
    expect(reset[0]?.details).toMatchObject({ wasCommissioned: true, users: 1, credentials: 1 });
    expect(s.lock.runtime.users()).toEqual([]);
    expect(s.lock.runtime.credentials()).toEqual([]);
    expect(s.lock.runtime.commissioning.ownerPublicKey).toBeNull();
    // The old hub's session key is gone; the same printed code commissions a new owner.
    await expect(hubSession(s.lock, s.hub, s.identity).then((c) => c.getState())).rejects.toSatisfy(
      (e: unknown) => isLatchkeyError(e),
    );
    const identity = await commissionLock(s.lock, code, newOwnerKey, newHubKey);
    expect(identity.lockId).toEqual(s.identity.lockId);
    const client = await hubSession(s.lock, newHubKey, identity);
    expect((await client.getState()).lastSeq).toBe(s.lock.runtime.journal.nextSeq - 1);
    // One unbroken, signed journal across the reset.
    const all = s.lock.runtime.journal.read(1);
    expect(verifyJournalEvents(all, { publicKey: s.lock.runtime.publicKey, ed25519: nodeEd25519 }).ok).toBe(
      true,
    );
    expect(all.filter((e) => e.kind === EventKind.Commissioned)).toHaveLength(2);
  });
});
