/**
 * Hub and phone sessions with a virtual lock over an in-memory link, for the link tests beside
 * this file; the parties themselves (owner, hub identity, phones, certificates) come from
 * `@latchkey/lock/testing`.
 */
import type { CommissionedLock } from "@latchkey/protocol";
import type { VirtualLock } from "@latchkey/lock";
import { phoneProof, type TestHub, type TestOwner, type TestPhone } from "@latchkey/lock/testing";
import { LockClient } from "./lock-client.js";

/** Commissions `lock` over an in-memory link with its setup code (the link's endpoint included). */
export async function commissionLock(
  lock: VirtualLock,
  setupCode: string,
  owner: TestOwner,
  hub: TestHub,
): Promise<CommissionedLock> {
  const { client } = lock.connectMemory();
  const identity = await LockClient.commission(client, {
    setupCode,
    hubKeys: { ownerSigningPublicKey: owner.publicKey, hubStaticPublicKey: hub.publicKey },
  });
  client.close();
  return identity;
}

export function hubSession(lock: VirtualLock, hub: TestHub, identity: CommissionedLock): Promise<LockClient> {
  const { client } = lock.connectMemory();
  return LockClient.connectHub(client, {
    hubStaticSecretKey: hub.secretKey,
    lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
    timeoutMs: 2000,
  });
}

export function phoneSession(
  lock: VirtualLock,
  phone: TestPhone,
  identity: CommissionedLock,
  cert: Uint8Array,
): Promise<LockClient> {
  const { client } = lock.connectMemory();
  return LockClient.connectPhone(client, {
    phoneStaticSecretKey: phone.noise.secretKey,
    identityProof: phoneProof(phone, cert),
    lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
    timeoutMs: 500,
  });
}
