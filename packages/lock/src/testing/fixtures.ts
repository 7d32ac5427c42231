/**
 * Test fixtures for a lock and the parties around it: an owner, a hub identity, a virtual lock
 * with a known setup code (commissioned through the real exchange), phones, certificates and
 * passkeys. The lock package's tests use them, and so do the hub's link tests
 * (`@latchkey/lock/testing`), which add hub and phone sessions over the hub's LockClient.
 */
import { pbkdf2Sync, randomBytes } from "node:crypto";
import {
  CommissioningInitiator,
  DigitalKeyPermission,
  lockIdBytesFromPublicKey,
  type CommissionedLock,
  HolderKeyType,
  SoftwareAuthenticator,
  decodeSignedLockEvent,
  remoteUnlockChallenge,
  signDigitalKey,
  type DigitalKeyFields,
  type MessageOf,
  type RemoteUnlockIntent,
} from "@latchkey/protocol";
import { nodeEd25519, nodeX25519 } from "@latchkey/protocol/node";
import { memoryJournalFactory } from "../journal/journal-factory.js";
import { startTempLock } from "../virtual/scenario.js";
import type { VirtualLock, VirtualLockOptions } from "../virtual/virtual-lock.js";
import { makePhoneIdentityProof } from "../link/identity-proof.js";

export const TEST_RELYING_PARTY = { rpId: "hub.test", origins: ["https://hub.test"] } as const;

export interface TestOwner {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface TestHub {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function newOwner(): TestOwner {
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: nodeEd25519.publicKey(seed) };
}

function x25519Pair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = new Uint8Array(randomBytes(32));
  return { secretKey, publicKey: nodeX25519.publicKey(secretKey) };
}

export function newHub(): TestHub {
  return x25519Pair();
}

/**
 * Commissions `lock` with its setup code: the hub's side of the exchange (the protocol's
 * initiator) against the lock's own commissioning, message by message.
 */
export function commissionLock(
  lock: VirtualLock,
  setupCode: string,
  owner: TestOwner,
  hub: TestHub,
): CommissionedLock {
  const initiator = new CommissioningInitiator({
    setupCode,
    hubKeys: { ownerSigningPublicKey: owner.publicKey, hubStaticPublicKey: hub.publicKey },
    pbkdf2: (password, salt, iterations, dkLen) =>
      new Uint8Array(pbkdf2Sync(password, salt, iterations, dkLen, "sha256")),
  });
  let next: Uint8Array | null = initiator.start();
  while (next !== null) next = initiator.handle(lock.runtime.handleCommissioningMessage(next));
  const r = initiator.result;
  if (r === null) throw new Error("commissioning ended without a result");
  return { ...r, lockId: lockIdBytesFromPublicKey(r.signingPublicKey) };
}

/** A fresh virtual lock (cheap PBKDF2, memory journal unless told otherwise) with a known setup code. */
export function startLinkedLock(opts: Partial<VirtualLockOptions> = {}): VirtualLock {
  return startTempLock({
    journal: memoryJournalFactory,
    ...opts,
    commissioning: { pbkdf2Iterations: 1000, ...opts.commissioning },
    endpoint: { relyingParty: TEST_RELYING_PARTY, ...opts.endpoint },
  });
}

/** A certificate signed by `owner` (overrides for attack tests). */
export function certificate(
  owner: TestOwner,
  f: Partial<DigitalKeyFields> & Pick<DigitalKeyFields, "holderKeyType" | "holderKey" | "doorIds">,
  now: number,
): Uint8Array {
  return signDigitalKey(
    {
      serial: 1n,
      subjectId: new Uint8Array(16).fill(7),
      notBefore: now - 3600_000,
      notAfter: now + 3600_000,
      permissions: DigitalKeyPermission.Unlock,
      schedule: [],
      ...f,
    },
    owner.seed,
    nodeEd25519,
  );
}

export interface TestPhone {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly noise: { secretKey: Uint8Array; publicKey: Uint8Array };
}

export function newPhone(): TestPhone {
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: nodeEd25519.publicKey(seed), noise: x25519Pair() };
}

export function phoneProof(phone: TestPhone, cert: Uint8Array): Uint8Array {
  return makePhoneIdentityProof(cert, phone.seed, phone.noise.publicKey, nodeEd25519);
}

/**
 * A person approving a remote unlock, as the web app does: the passkey signs SHA-256 of the intent
 * (the lock's nonce, the proposal, the snapshot hash, the lock's id). Returns UnlockWithAssertion's
 * fields but the certificate. `signed` overrides what the passkey signs, to build tampered requests.
 */
export function personApproval(
  passkey: SoftwareAuthenticator,
  nonce: Uint8Array,
  lockId: Uint8Array,
  o: {
    readonly proposalId: Uint8Array;
    readonly snapshotHash: Uint8Array;
    readonly origin?: string;
    readonly signed?: Partial<RemoteUnlockIntent>;
  },
): Omit<MessageOf<"UnlockWithAssertion">, "kind" | "certificate"> {
  const intent = {
    nonce,
    proposalId: o.proposalId,
    snapshotHash: o.snapshotHash,
    doorId: lockId,
    ...o.signed,
  };
  const assertion = passkey.assert({
    challenge: remoteUnlockChallenge(intent),
    origin: o.origin ?? TEST_RELYING_PARTY.origins[0],
    rpId: TEST_RELYING_PARTY.rpId,
  });
  return { challenge: nonce, proposalId: o.proposalId, snapshotHash: o.snapshotHash, ...assertion };
}

export function passkeyHolder(): { authenticator: SoftwareAuthenticator; holderKeyType: HolderKeyType } {
  return { authenticator: new SoftwareAuthenticator(), holderKeyType: HolderKeyType.P256 };
}

/** (seq, hash) of a signed record: what the hub acknowledges. */
export function ackOf(record: Uint8Array): { seq: number; hash: Uint8Array } {
  const e = decodeSignedLockEvent(record);
  return { seq: e.seq, hash: e.hash };
}
