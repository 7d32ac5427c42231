/**
 * The steps of a remote unlock as people take them (service.ts explains the flow): ask, ring a
 * doorbell, ask the lock for a challenge, approve with a passkey assertion, deny. Each step is
 * audited against the door, naming the request and the lock; a step the lock could not answer
 * (offline) is audited too, and a lock's refusal is audited before it is returned as an error.
 */
import { LatchkeyError, MESSAGE_LIMITS, base64UrlDecode, toHex } from "@latchkey/protocol";
import { recordAudit } from "../audit/audit.js";
import type { HubContext } from "../runtime/context.js";
import { bearerToken, ringDoorbell } from "./doorbell.js";
import {
  lockRefusal,
  type AssertionInput,
  type ChallengeOffer,
  type UnlockRequest,
  type UnlockRequests,
} from "./service.js";

/** Who takes a step, as the audit trail records them. */
export interface Actor {
  readonly accountId: string | null;
  readonly ip: string;
}

/** A signed-in person acting on a request (asking, or deciding as an approver). */
export interface Person extends Actor {
  readonly accountId: string;
}

/** What a request may carry: a note and a snapshot as a data: URL. */
export interface RequestInput {
  readonly note: string | null;
  readonly snapshot: string | null;
}

/** A passkey assertion as the browser sends it: each byte string in base64url. */
export interface EncodedAssertion {
  readonly credentialId: string;
  readonly authenticatorData: string;
  readonly clientDataJSON: string;
  readonly signature: string;
}

/** The shortest authenticator data: RP id hash (32), flags (1) and signature counter (4). */
const MIN_AUTHENTICATOR_DATA = 37;
/** Shorter than any DER-encoded ECDSA signature. */
const MIN_DER_SIGNATURE = 8;

function auditRequest(
  ctx: HubContext,
  actor: Actor,
  r: UnlockRequest,
  action: string,
  details: Readonly<Record<string, string | number | boolean>>,
): Promise<void> {
  return recordAudit(ctx.db, ctx.now(), {
    action,
    siteId: r.siteId,
    targetType: "door",
    targetId: r.doorId,
    details: { requestId: r.id, lockId: r.lockId, ...details },
    actorAccountId: actor.accountId,
    ip: actor.ip,
  });
}

function snapshotFacts(r: UnlockRequest): { snapshotHash: string; snapshotBytes: number } {
  return { snapshotHash: toHex(r.snapshotHash), snapshotBytes: r.snapshot?.bytes.length ?? 0 };
}

function isLockOffline(e: unknown): e is LatchkeyError {
  return e instanceof LatchkeyError && e.code === "HUB_LOCK_OFFLINE";
}

function bytesOf(value: string, field: string, min: number, max: number): Uint8Array {
  const b = base64UrlDecode(value);
  if (b === null || b.length < min || b.length > max)
    throw new LatchkeyError("HUB_BAD_REQUEST", `${field} must be ${min}–${max} bytes of base64url`, {
      field: `body/${field}`,
    });
  return b;
}

/** The assertion's bytes, each within what a lock accepts (HUB_BAD_REQUEST naming the field otherwise). */
export function decodeAssertion(a: EncodedAssertion): AssertionInput {
  return {
    credentialId: a.credentialId,
    authenticatorData: bytesOf(
      a.authenticatorData,
      "authenticatorData",
      MIN_AUTHENTICATOR_DATA,
      MESSAGE_LIMITS.authenticatorData,
    ),
    clientDataJSON: bytesOf(a.clientDataJSON, "clientDataJSON", 1, MESSAGE_LIMITS.clientDataJSON),
    signature: bytesOf(a.signature, "signature", MIN_DER_SIGNATURE, MESSAGE_LIMITS.derSignature),
  };
}

/** A signed-in person asks to open a door. */
export async function requestUnlock(
  ctx: HubContext,
  store: UnlockRequests,
  requester: Person & { readonly username: string },
  doorId: string,
  input: RequestInput,
): Promise<UnlockRequest> {
  const r = await store.create({
    doorId,
    requestedBy: { kind: "account", accountId: requester.accountId, username: requester.username },
    note: input.note,
    snapshot: input.snapshot,
  });
  await auditRequest(ctx, requester, r, "unlock-request.create", snapshotFacts(r));
  return r;
}

/**
 * A doorbell asks to open its door, with the `Authorization` header it sent (a missing or unknown
 * token is "not found" and counts against the caller's address).
 */
export async function ringDoorbellForUnlock(
  ctx: HubContext,
  store: UnlockRequests,
  caller: Actor,
  authorization: string | undefined,
  input: RequestInput,
): Promise<UnlockRequest> {
  const r = await ringDoorbell(ctx, store, bearerToken(authorization), caller.ip, input);
  await auditRequest(ctx, caller, r, "unlock-request.create", {
    requestedBy: "doorbell",
    ...snapshotFacts(r),
  });
  return r;
}

/** The site's request `requestId` and the lock's challenge for it, with certificates for the approver's passkeys. */
export async function challengeUnlockRequest(
  ctx: HubContext,
  store: UnlockRequests,
  approver: Person,
  siteId: string,
  requestId: string,
): Promise<ChallengeOffer> {
  const r = store.get(siteId, requestId);
  let offer: ChallengeOffer;
  try {
    offer = await store.challenge(r, { accountId: approver.accountId });
  } catch (e) {
    if (isLockOffline(e))
      await auditRequest(ctx, approver, r, "unlock-request.challenge", { result: e.code });
    throw e;
  }
  await auditRequest(ctx, approver, r, "unlock-request.challenge", {
    certificateSerials: offer.credentials.map((c) => c.serial.toString()).join(","),
  });
  return offer;
}

/**
 * Forwards the approver's assertion to the lock; returns the request once the lock has opened.
 * Any other answer of the lock is thrown as its refusal (lockRefusal).
 */
export async function approveUnlockRequest(
  ctx: HubContext,
  store: UnlockRequests,
  approver: Person,
  siteId: string,
  requestId: string,
  encoded: EncodedAssertion,
): Promise<UnlockRequest> {
  const r = store.get(siteId, requestId);
  const assertion = decodeAssertion(encoded);
  let answer: string;
  try {
    answer = await store.approve(r, { accountId: approver.accountId }, assertion);
  } catch (e) {
    if (isLockOffline(e)) await auditRequest(ctx, approver, r, "unlock-request.approve", { result: e.code });
    throw e;
  }
  await auditRequest(ctx, approver, r, "unlock-request.approve", {
    credentialId: assertion.credentialId,
    snapshotHash: toHex(r.snapshotHash),
    result: answer,
    status: r.status,
  });
  if (answer !== "OK") throw lockRefusal(answer, r.id);
  return r;
}

/** Denies the site's request `requestId` (nothing is sent to the lock). */
export async function denyUnlockRequest(
  ctx: HubContext,
  store: UnlockRequests,
  approver: Person,
  siteId: string,
  requestId: string,
): Promise<UnlockRequest> {
  const r = store.get(siteId, requestId);
  store.deny(r, { accountId: approver.accountId });
  await auditRequest(ctx, approver, r, "unlock-request.deny", {});
  return r;
}
