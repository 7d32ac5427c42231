/**
 * End to end over TCP on 127.0.0.1: commission a factory-fresh virtual lock with its setup code,
 * open a KK hub session, set a user and a sealed PIN, type the PIN on the virtual keypad, pull the
 * signed events and verify them offline, unlock with a phone key (XX session, certificate in
 * message 3), unlock remotely with a passkey, and have the lock sign a checkpoint acknowledgement.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  CredentialType as WireCredentialType,
  DigitalKeyPermission,
  EventKind,
  HolderKeyType,
  OperationSource,
  SoftwareAuthenticator,
  UserStatus,
  UserType as WireUserType,
  commissioningKeyHash,
  decodeSignedLockEvent,
  equalBytes,
  signPhoneKeyUnlock,
  verifyJournalRecords,
} from "@latchkey/protocol";
import { connectTcp, nodeEd25519, type TcpFrameListener } from "@latchkey/protocol/node";
import { type VirtualLock, fileJournalFactory } from "@latchkey/lock";
import {
  ackOf,
  certificate,
  newHub,
  newOwner,
  newPhone,
  personApproval,
  phoneProof,
  startLinkedLock,
} from "@latchkey/lock/testing";
import { LockClient } from "./lock-client.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function track(lock: VirtualLock, listener?: TcpFrameListener): void {
  cleanup.push(() => lock.runtime.shutdown());
  if (listener !== undefined) cleanup.push(() => listener.close());
}

describe("a virtual lock over TCP", () => {
  it("commissions, takes a sealed PIN, reports signed events, opens for a phone key and a passkey", async () => {
    const owner = newOwner();
    const hubKeys = newHub();
    const lock = startLinkedLock({ journal: fileJournalFactory });
    const setupCode = lock.setupCode;
    expect(setupCode).toMatch(/^[0-9]{8}$/);
    const listener = await lock.listenTcp();
    track(lock, listener);
    expect(listener.port).toBeGreaterThan(0);

    // Commissioning: the clear SPAKE2+ exchange over its own connection.
    const identity = await LockClient.commission(await connectTcp({ port: listener.port }), {
      setupCode: setupCode ?? "",
      hubKeys: { ownerSigningPublicKey: owner.publicKey, hubStaticPublicKey: hubKeys.publicKey },
    });
    expect(equalBytes(identity.signingPublicKey, lock.runtime.publicKey)).toBe(true);
    expect(equalBytes(identity.lockId, lock.runtime.lockIdBytes)).toBe(true);
    expect(lock.runtime.commissioning.isCommissioned).toBe(true);
    const commissioned = lock.runtime.journal.read(1).find((e) => e.kind === EventKind.Commissioned);
    expect(commissioned?.details.ownerKeyHash).toEqual(commissioningKeyHash(owner.publicKey));
    expect(commissioned?.details.hubKeyHash).toEqual(commissioningKeyHash(hubKeys.publicKey));

    // The hub's KK session.
    const hub = await LockClient.connectHub(await connectTcp({ port: listener.port }), {
      hubStaticSecretKey: hubKeys.secretKey,
      lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
    });
    cleanup.push(() => hub.close());
    const now = Date.UTC(2026, 2, 2, 10, 0);
    expect(await hub.setTime(now, 60)).toBe("OK");
    // A step beyond the lock's bound is refused with a stable code (the lock journals it); the clock stays.
    expect(await hub.setTime(now + 3_600_000, 60)).toBe("LOCK_CLOCK_STEP_REFUSED");
    expect(lock.runtime.wallMs).toBe(now);
    expect(lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1)[0]?.kind).toBe(
      EventKind.ClockSetRefused,
    );
    expect(
      await hub.setUser({
        userIndex: 1,
        userType: WireUserType.UnrestrictedUser,
        userStatus: UserStatus.OccupiedEnabled,
        credentialRule: 0,
        uniqueId: null,
        expiringTimeoutMinutes: 0,
        name: "Alice",
      }),
    ).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");
    expect(lock.runtime.credentials()).toEqual([{ type: "PIN", index: 1, userIndex: 1 }]);

    // Typed on the keypad: granted, and the lock signs the event.
    expect(lock.enterPin("583920")).toEqual({ granted: true, userIndex: 1 });
    expect(await hub.lock()).toBe("OK");

    // The hub pulls the journal and verifies it offline with the lock's key.
    const records = await hub.pullEvents();
    const verified = verifyJournalRecords(records, {
      publicKey: identity.signingPublicKey,
      ed25519: nodeEd25519,
    });
    expect(verified.ok).toBe(true);
    expect(verified.events.length).toBe(lock.runtime.journal.nextSeq - 1);
    expect(
      verified.events.some(
        (e) =>
          e.kind === EventKind.LockOperation &&
          e.details.source === OperationSource.Keypad &&
          e.actor.userIndex === 1,
      ),
    ).toBe(true);
    expect(Buffer.concat(records).includes(Buffer.from("583920"))).toBe(false);
    expect(lock.runtime.commissioning.ackedSeq).toBe(verified.lastSeq);
    // Caught up: a second pull from the acknowledged point returns nothing new.
    expect(await hub.pullEvents(ackOf(records[records.length - 1] as Uint8Array))).toEqual([]);

    // A phone key: the credential (sealed) from the hub, the certificate from the owner.
    const phone = newPhone();
    const phoneCert = certificate(
      owner,
      { holderKeyType: HolderKeyType.Ed25519, holderKey: phone.publicKey, doorIds: [identity.lockId] },
      now,
    );
    expect(
      await hub.setCredential(WireCredentialType.AliroEvictableEndpointKey, 1, 1, {
        type: "PhoneKey",
        algorithm: "Ed25519",
        publicKey: phone.publicKey,
      }),
    ).toBe("OK");
    const phoneClient = await LockClient.connectPhone(await connectTcp({ port: listener.port }), {
      phoneStaticSecretKey: phone.noise.secretKey,
      identityProof: phoneProof(phone, phoneCert),
      lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
    });
    cleanup.push(() => phoneClient.close());
    const phoneChallenge = await phoneClient.requestChallenge();
    expect(
      await phoneClient.unlockWithPhoneKey({
        certificate: phoneCert,
        challenge: phoneChallenge.challenge,
        signature: signPhoneKeyUnlock(phone.seed, phoneChallenge.challenge, identity.lockId, nodeEd25519),
      }),
    ).toBe("OK");
    expect(lock.runtime.boltState).toBe("Unlocked");
    const phoneEvent = lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1, 1)[0];
    expect(phoneEvent?.details).toMatchObject({ operation: "Unlock", source: OperationSource.PhoneKey });
    expect(phoneEvent?.actor).toMatchObject({ userIndex: 1, credentialType: "PhoneKey", credentialIndex: 1 });
    // A phone may not administer.
    expect(await phoneClient.result({ kind: "ClearUser", userIndex: 1 })).toBe("LOCK_MESSAGE_NOT_ALLOWED");

    // Remote unlock: the hub alone is refused; a person's passkey over the lock's challenge opens.
    expect(await hub.lock()).toBe("OK");
    expect(await hub.result({ kind: "Unlock", timeoutSeconds: 0, sealedPin: new Uint8Array(0) })).toBe(
      "LOCK_UNLOCK_NEEDS_PERSON",
    );
    expect(lock.runtime.boltState).toBe("Locked");
    const passkey = new SoftwareAuthenticator();
    const personCert = certificate(
      owner,
      {
        serial: 2n,
        holderKeyType: HolderKeyType.P256,
        holderKey: passkey.publicKey,
        doorIds: [identity.lockId],
        permissions: DigitalKeyPermission.RemoteUnlock,
      },
      now,
    );
    const challenge = await hub.requestChallenge();
    const proposalId = new Uint8Array(16).fill(0x11);
    const snapshotHash = new Uint8Array(32).fill(0x22);
    const approval = personApproval(passkey, challenge.challenge, identity.lockId, {
      proposalId,
      snapshotHash,
    });
    expect(await hub.unlockWithAssertion({ certificate: personCert, ...approval })).toBe("OK");
    expect(lock.runtime.boltState).toBe("Unlocked");
    const remoteEvent = lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1, 1)[0];
    expect(remoteEvent?.details).toMatchObject({
      operation: "Unlock",
      source: OperationSource.Remote,
      authority: "passkey",
      certificateSerial: "2",
      proposalId,
      snapshotHash,
    });

    // The lock acknowledges a ledger checkpoint with a signed event.
    const checkpointHash = new Uint8Array(32).fill(0x33);
    const ackRecord = await hub.acknowledgeCheckpoint(1234, checkpointHash);
    const ackEvent = decodeSignedLockEvent(ackRecord);
    expect(ackEvent.kind).toBe(EventKind.CheckpointAck);
    expect(ackEvent.details).toEqual({ checkpointHash, treeSize: 1234 });
    const tail = await hub.pullEvents(ackOf(records[records.length - 1] as Uint8Array));
    const all = verifyJournalRecords([...records, ...tail], {
      publicKey: identity.signingPublicKey,
      ed25519: nodeEd25519,
    });
    expect(all.ok).toBe(true);
    expect(tail.some((r) => equalBytes(r, ackRecord))).toBe(true);

    const state = await hub.getState();
    expect(state.lastSeq).toBe(lock.runtime.journal.nextSeq - 1);
    expect(state.lockState).toBe(2);
  });
});
