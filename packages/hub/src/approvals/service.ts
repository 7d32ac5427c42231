/**
 * Remote unlock with a human in the loop (DESIGN "Remote unlock, human in the loop", invariant 1).
 *
 * A person (or, later, a doorbell) asks to open a door; the hub records a *proposal*: an id (16
 * random bytes), the door and its lock, an optional snapshot and its SHA-256, who asked, and a
 * 2-minute life. An approver with `site.manage` asks for the lock's one-time challenge; the hub
 * fetches it from THE LOCK over its session and hands the approver short-lived (5 min)
 * digital-key certificates, signed with the site owner key, for each of the approver's P-256
 * passkeys, naming this door and only the RemoteUnlock permission. The browser hashes the
 * snapshot bytes it displays and has the passkey sign the remote-unlock intent (the lock's
 * challenge ‖ proposal id ‖ snapshot hash ‖ lock id, docs/digital-keys.md); the hub forwards the
 * assertion, the certificate, the challenge, the proposal id and the snapshot hash to the lock
 * unchanged (UnlockWithAssertion). The lock alone decides: it checks the owner's signature on the
 * certificate, the door, the validity window, its own challenge (fresh, unused, its own), the
 * relying party and the passkey's signature over the intent it rebuilds, and journals a signed
 * event naming the proposal and the snapshot hash the person signed — or a signed refusal. A hub
 * that sends another proposal id or snapshot hash than the approver saw is refused. The hub never
 * verifies the assertion itself and never opens anything: a forged, replayed or misdirected
 * assertion is refused by the lock, not by a check here that a compromised hub could skip.
 *
 * Proposals live in memory (minutes long; a restart forgets them) in one store per hub context.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  DigitalKeyPermission,
  ERROR_DEFINITIONS,
  HolderKeyType,
  LatchkeyError,
  fromHex,
  signDigitalKey,
  type Ed25519,
  type ErrorCode,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { HubContext } from "../runtime/context.js";
import { siteOwnerKey, type SiteOwnerKey } from "../keys/site-keys.js";
import type { LockService } from "../locks/service.js";
import { allTables } from "../db/access.js";
import { enqueue } from "../outbound/outbox.js";

export const REQUEST_LIFETIME_MS = 2 * 60_000;
export const CERTIFICATE_LIFETIME_MS = 5 * 60_000;
/** Certificates start a minute in the past, for a lock clock slightly behind the hub's. */
export const CERTIFICATE_BACKDATE_MS = 60_000;
/** Decoded image bytes; a data: URL of this size still fits the hub's 64 KiB body limit. */
export const SNAPSHOT_MAX_BYTES = 45 * 1024;
export const NOTE_MAX_LENGTH = 280;
export const MAX_PENDING_PER_DOOR = 8;
export const MAX_PENDING_PER_SITE = 32;
/** Lock refusals after which a request is closed as failed. */
export const MAX_REFUSALS = 3;
/** Closed requests stay listed this long, then are forgotten. */
const KEEP_CLOSED_MS = 60 * 60_000;
/** The snapshot hash sent to the lock when there is no snapshot. */
export const NO_SNAPSHOT_HASH = new Uint8Array(32);

export type UnlockRequestStatus = "pending" | "approved" | "denied" | "expired" | "failed";
export type SnapshotType = "image/jpeg" | "image/png" | "image/webp";

export type Requester =
  | { readonly kind: "account"; readonly accountId: string; readonly username: string }
  | { readonly kind: "doorbell" };

interface Challenge {
  readonly accountId: string;
  readonly challenge: Uint8Array;
  readonly expiresAt: number;
  /** Passkey credential id (base64url) → certificate for it. */
  readonly certificates: ReadonlyMap<string, Uint8Array>;
}

export interface UnlockRequest {
  readonly id: string;
  readonly siteId: string;
  readonly doorId: string;
  readonly doorName: string;
  readonly lockId: string;
  readonly note: string | null;
  readonly snapshot: { readonly type: SnapshotType; readonly bytes: Uint8Array } | null;
  readonly snapshotHash: Uint8Array;
  readonly requestedBy: Requester;
  readonly createdAt: number;
  readonly expiresAt: number;
  status: UnlockRequestStatus;
  decidedAt: number | null;
  decidedBy: string | null;
  /** The lock's last answer (OK, LOCK_ACCESS_DENIED …) or HUB_LOCK_OFFLINE. */
  result: string | null;
  refusals: number;
  challenge: Challenge | null;
  busy: boolean;
}

export interface ChallengeOffer {
  readonly challenge: Uint8Array;
  readonly validForMs: number;
  readonly rpId: string;
  readonly credentials: readonly {
    readonly id: string;
    readonly certificate: Uint8Array;
    readonly serial: bigint;
  }[];
}

export interface AssertionInput {
  readonly credentialId: string;
  readonly authenticatorData: Uint8Array;
  readonly clientDataJSON: Uint8Array;
  readonly signature: Uint8Array;
}

const MAGIC: Record<SnapshotType, (b: Uint8Array) => boolean> = {
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/png": (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x),
  "image/webp": (b) =>
    Buffer.from(b.subarray(0, 4)).toString("latin1") === "RIFF" &&
    Buffer.from(b.subarray(8, 12)).toString("latin1") === "WEBP",
};

/** `data:image/jpeg;base64,…` → its bytes (type and magic checked); HUB_SNAPSHOT_INVALID otherwise. */
export function parseSnapshot(dataUrl: string): { type: SnapshotType; bytes: Uint8Array } {
  const bad = (why: string): never => {
    throw new LatchkeyError("HUB_SNAPSHOT_INVALID", `snapshot: ${why}`, { field: "snapshot" });
  };
  const m = /^data:(image\/(?:jpeg|png|webp));base64,([A-Za-z0-9+/]*={0,2})$/.exec(dataUrl);
  if (m === null) return bad("must be a base64 data: URL of a JPEG, PNG or WebP image");
  const type = m[1] as SnapshotType;
  const b64 = m[2] ?? "";
  if (b64.length % 4 !== 0) return bad("is not valid base64");
  const bytes = new Uint8Array(Buffer.from(b64, "base64"));
  if (bytes.length === 0) return bad("is empty");
  if (bytes.length > SNAPSHOT_MAX_BYTES) return bad(`is larger than ${SNAPSHOT_MAX_BYTES} bytes`);
  if (!MAGIC[type](bytes)) return bad(`does not hold a ${type} image`);
  return { type, bytes };
}

/** Certificate serial for one passkey at one site: stable, so the lock's signature counter carries over. */
export function passkeySerial(siteId: string, credentialId: string): bigint {
  const h = createHash("sha256")
    .update(`latchkey/passkey-certificate-serial/v1\0${siteId}\0${credentialId}`)
    .digest();
  // The top bit set keeps these apart from small, sequentially allocated serials.
  return h.readBigUInt64BE(0) | (1n << 63n);
}

/** The 16-byte subject id the lock journals: the account's UUID, or a hash of a non-UUID id. */
export function subjectIdOf(accountId: string): Uint8Array {
  const hex = accountId.replace(/-/g, "");
  if (/^[0-9a-f]{32}$/i.test(hex)) return fromHex(hex.toLowerCase());
  return new Uint8Array(createHash("sha256").update(accountId).digest().subarray(0, 16));
}

/** COSE (as stored by the hub's passkey registration) → uncompressed P-256 point; null if not ES256/P-256. */
export async function p256PointOf(storedPublicKey: string): Promise<Uint8Array | null> {
  // Loaded at first use, like the rest of the WebAuthn library (accounts/factors.ts).
  const { cose, decodeCredentialPublicKey } = await import("@simplewebauthn/server/helpers");
  try {
    const key = decodeCredentialPublicKey(new Uint8Array(Buffer.from(storedPublicKey, "base64url")));
    if (!cose.isCOSEPublicKeyEC2(key)) return null;
    if (key.get(cose.COSEKEYS.alg) !== cose.COSEALG.ES256) return null;
    if (key.get(cose.COSEKEYS.crv) !== cose.COSECRV.P256) return null;
    const x = key.get(cose.COSEKEYS.x);
    const y = key.get(cose.COSEKEYS.y);
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32)
      return null;
    const point = new Uint8Array(65);
    point[0] = 0x04;
    point.set(x, 1);
    point.set(y, 33);
    return point;
  } catch {
    return null;
  }
}

/** Signs with the site owner key without handling its seed (the key opens it only to sign). */
function ownerSigner(owner: SiteOwnerKey): Ed25519 {
  return {
    publicKey: () => owner.publicKey,
    sign: (_seed, message) => owner.sign(message),
    verify: (publicKey, message, signature) => nodeEd25519.verify(publicKey, message, signature),
  };
}

function closed(r: UnlockRequest): LatchkeyError {
  return new LatchkeyError("HUB_UNLOCK_REQUEST_CLOSED", `this unlock request is ${r.status}`, {
    status: r.status,
  });
}

export class UnlockRequests {
  readonly #requests = new Map<string, UnlockRequest>();

  /** `locks` is the running lock service (it throws while the device gateway is down). */
  constructor(
    private readonly ctx: HubContext,
    private readonly locks: () => LockService,
  ) {}

  /** Marks expired requests and forgets long-closed ones. */
  #sweep(): void {
    const now = this.ctx.now();
    for (const [id, r] of this.#requests) {
      if (r.status === "pending" && now > r.expiresAt) {
        r.status = "expired";
        r.decidedAt = r.expiresAt;
        r.challenge = null;
      }
      if (r.status !== "pending" && (r.decidedAt ?? r.expiresAt) + KEEP_CLOSED_MS < now)
        this.#requests.delete(id);
    }
  }

  list(siteId: string): UnlockRequest[] {
    this.#sweep();
    return [...this.#requests.values()]
      .filter((r) => r.siteId === siteId)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  /** The request if it belongs to `siteId` (HUB_NOT_FOUND otherwise: other sites' ids reveal nothing). */
  get(siteId: string, id: string): UnlockRequest {
    this.#sweep();
    const r = this.#requests.get(id.toLowerCase());
    if (r === undefined || r.siteId !== siteId) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
    return r;
  }

  async create(input: {
    doorId: string;
    requestedBy: Requester;
    note: string | null;
    snapshot: string | null;
  }): Promise<UnlockRequest> {
    this.#sweep();
    const db = allTables(this.ctx.db);
    const door = await db
      .selectFrom("doors")
      .select(["id", "site_id", "name"])
      .where("id", "=", input.doorId)
      .executeTakeFirst();
    if (door === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
    const lock = await db.selectFrom("locks").select("id").where("door_id", "=", door.id).executeTakeFirst();
    if (lock === undefined) throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
    const snapshot = input.snapshot === null ? null : parseSnapshot(input.snapshot);
    const pending = [...this.#requests.values()].filter((r) => r.status === "pending");
    if (
      pending.filter((r) => r.doorId === door.id).length >= MAX_PENDING_PER_DOOR ||
      pending.filter((r) => r.siteId === door.site_id).length >= MAX_PENDING_PER_SITE
    )
      throw new LatchkeyError("HUB_UNLOCK_REQUEST_LIMIT", "too many unlock requests are waiting");
    const now = this.ctx.now();
    const request: UnlockRequest = {
      id: randomBytes(16).toString("hex"),
      siteId: door.site_id,
      doorId: door.id,
      doorName: door.name,
      lockId: lock.id,
      note: input.note,
      snapshot,
      snapshotHash:
        snapshot === null
          ? NO_SNAPSHOT_HASH
          : new Uint8Array(createHash("sha256").update(snapshot.bytes).digest()),
      requestedBy: input.requestedBy,
      createdAt: now,
      expiresAt: now + REQUEST_LIFETIME_MS,
      status: "pending",
      decidedAt: null,
      decidedBy: null,
      result: null,
      refusals: 0,
      challenge: null,
      busy: false,
    };
    this.#requests.set(request.id, request);
    await this.#tellApprovers(request);
    return request;
  }

  /**
   * Tells the channels that want "approval.requested": the door, who asks, the note, and a button
   * to the page where an approver's passkey signs. Nothing here approves: the link only opens it.
   */
  async #tellApprovers(r: UnlockRequest): Promise<void> {
    const who = r.requestedBy.kind === "doorbell" ? "the doorbell" : r.requestedBy.username;
    const page = `/#/sites/${r.siteId}/unlock-requests`;
    await enqueue(
      this.ctx.db,
      {
        id: randomUUID(),
        event: "approval.requested",
        title: `Unlock requested at ${r.doorName}`,
        body: `Asked by ${who}${r.note === null ? "" : `: "${r.note.slice(0, 200)}"`}. It needs an approver's passkey within ${Math.round(REQUEST_LIFETIME_MS / 60_000)} minutes.`,
        priority: "high",
        tags: ["latchkey", "approval"],
        url: page,
        actions: [{ label: "Review", url: page }],
        occurredAt: r.createdAt,
        data: { siteId: r.siteId, doorId: r.doorId, requestId: r.id, requestedBy: r.requestedBy.kind },
      },
      r.createdAt,
    );
  }

  #pending(r: UnlockRequest): void {
    this.#sweep();
    if (r.status !== "pending") throw closed(r);
    if (r.busy)
      throw new LatchkeyError("HUB_CONFLICT", "this unlock request is already being answered by the lock");
  }

  /**
   * Asks the door's lock for a one-time challenge and certifies the approver's passkeys for this
   * door (5 minutes, RemoteUnlock only). Replaces any challenge outstanding on the request.
   */
  async challenge(r: UnlockRequest, approver: { accountId: string }): Promise<ChallengeOffer> {
    this.#pending(r);
    const db = allTables(this.ctx.db);
    const passkeys = await db
      .selectFrom("passkeys")
      .select(["id", "public_key"])
      .where("account_id", "=", approver.accountId)
      .orderBy("created_at")
      .execute();
    const usable = (
      await Promise.all(passkeys.map(async (p) => ({ id: p.id, point: await p256PointOf(p.public_key) })))
    ).filter((p): p is { id: string; point: Uint8Array } => p.point !== null);
    if (usable.length === 0)
      throw new LatchkeyError("HUB_UNLOCK_NO_PASSKEY", "your account has no passkey the lock can check");
    r.busy = true;
    try {
      const issued = await this.locks().engine.withSession(r.lockId, (session) =>
        session.requestUnlockChallenge(),
      );
      const now = this.ctx.now();
      const owner = await siteOwnerKey(db, this.ctx.secret, r.siteId, now);
      const signer = ownerSigner(owner);
      const subjectId = subjectIdOf(approver.accountId);
      const credentials = usable.map((p) => {
        const serial = passkeySerial(r.siteId, p.id);
        const certificate = signDigitalKey(
          {
            serial,
            subjectId,
            holderKeyType: HolderKeyType.P256,
            holderKey: p.point,
            notBefore: Math.max(0, now - CERTIFICATE_BACKDATE_MS),
            notAfter: now + CERTIFICATE_LIFETIME_MS,
            permissions: DigitalKeyPermission.RemoteUnlock,
            doorIds: [fromHex(r.lockId)],
            schedule: [],
          },
          new Uint8Array(32),
          signer,
        );
        return { id: p.id, certificate, serial };
      });
      r.challenge = {
        accountId: approver.accountId,
        challenge: issued.challenge,
        expiresAt: now + issued.validForMs,
        certificates: new Map(credentials.map((c) => [c.id, c.certificate])),
      };
      return { challenge: issued.challenge, validForMs: issued.validForMs, rpId: this.ctx.rpId, credentials };
    } finally {
      r.busy = false;
    }
  }

  /**
   * Sends the approver's assertion to the lock with the certificate issued for that passkey, the
   * proposal id and the snapshot hash. Resolves with the lock's answer ("OK" = the lock opened);
   * every answer is recorded on the request. The outstanding challenge is used up either way.
   */
  async approve(r: UnlockRequest, approver: { accountId: string }, a: AssertionInput): Promise<string> {
    this.#pending(r);
    const c = r.challenge;
    if (c === null || c.accountId !== approver.accountId || this.ctx.now() > c.expiresAt)
      throw new LatchkeyError("HUB_UNLOCK_NO_CHALLENGE", "ask the lock for a challenge first");
    const certificate = c.certificates.get(a.credentialId);
    if (certificate === undefined)
      throw new LatchkeyError(
        "HUB_UNLOCK_NO_CHALLENGE",
        "the challenge was issued for another passkey; ask the lock for a new challenge",
        { field: "credentialId" },
      );
    const lock = await allTables(this.ctx.db)
      .selectFrom("locks")
      .select("id")
      .where("id", "=", r.lockId)
      .where("door_id", "=", r.doorId)
      .executeTakeFirst();
    if (lock === undefined) throw new LatchkeyError("HUB_LOCK_UNKNOWN", "the door's lock was removed");
    r.busy = true;
    r.challenge = null;
    let answer: string;
    try {
      answer = await this.locks().engine.withSession(r.lockId, (session) =>
        session.unlockWithPasskey({
          challenge: c.challenge,
          proposalId: fromHex(r.id),
          snapshotHash: r.snapshotHash,
          certificate,
          authenticatorData: a.authenticatorData,
          clientDataJSON: a.clientDataJSON,
          signature: a.signature,
        }),
      );
    } catch (e) {
      if (e instanceof LatchkeyError && e.code === "HUB_LOCK_OFFLINE") r.result = e.code;
      throw e;
    } finally {
      r.busy = false;
    }
    r.result = answer;
    if (answer === "OK") {
      r.status = "approved";
      r.decidedAt = this.ctx.now();
      r.decidedBy = approver.accountId;
    } else {
      r.refusals += 1;
      if (r.refusals >= MAX_REFUSALS) {
        r.status = "failed";
        r.decidedAt = this.ctx.now();
        r.decidedBy = approver.accountId;
      }
    }
    return answer;
  }

  deny(r: UnlockRequest, approver: { accountId: string }): void {
    this.#pending(r);
    r.status = "denied";
    r.decidedAt = this.ctx.now();
    r.decidedBy = approver.accountId;
    r.challenge = null;
  }
}

/** The lock's answer as the error the API returns (its own code when the registry knows it). */
export function lockRefusal(answer: string, requestId: string): LatchkeyError {
  const code: ErrorCode = answer in ERROR_DEFINITIONS ? (answer as ErrorCode) : "LK_INTERNAL";
  return new LatchkeyError(code, `the lock refused the unlock (${answer})`, {
    requestId,
    lockAnswer: answer,
  });
}
