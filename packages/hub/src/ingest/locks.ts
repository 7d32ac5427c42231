/**
 * Locks the hub knows: identity (signing and channel public keys), the door they are bound to,
 * when they were commissioned, and the event-ingestion cursor (last ingested seq and its hash).
 * Commissioning calls `registerLock`; ingestion refuses records from any lock not registered.
 */
import type { Kysely, Selectable } from "kysely";
import { fromHex, LatchkeyError, lockIdFromPublicKey, toHex, type LockId } from "@latchkey/protocol";
import type { HubDatabase, LockTable } from "../db/schema.js";

export const ZERO_HASH_HEX = "0".repeat(64);

export interface LockRegistration {
  /** 32-byte Ed25519 signing public key; the lock id is derived from it. */
  readonly signingPublicKey: Uint8Array;
  /** 32-byte X25519 channel public key, if known. */
  readonly channelPublicKey?: Uint8Array | null;
  readonly doorId?: string | null;
  readonly commissionedAt: number;
}

export interface LockCursor {
  /** Last ingested seq; 0 before the first event. */
  readonly seq: number;
  /** Hash of that event's record; 32 zero bytes before the first (the journal's genesis link). */
  readonly hash: Uint8Array;
  /** Ledger index of that event's leaf, or null. */
  readonly ledgerIndex: number | null;
}

function checkKey(field: string, key: Uint8Array | null | undefined): void {
  if (key !== null && key !== undefined && key.length !== 32) {
    throw new LatchkeyError("HUB_LOCK_KEY_INVALID", `${field} must be 32 bytes, not ${key.length}`, {
      field,
    });
  }
}

/** Registers a commissioned lock (idempotent for the same keys); returns its lock id. */
export async function registerLock(db: Kysely<HubDatabase>, reg: LockRegistration): Promise<LockId> {
  checkKey("signingPublicKey", reg.signingPublicKey);
  checkKey("channelPublicKey", reg.channelPublicKey);
  const id = lockIdFromPublicKey(reg.signingPublicKey);
  const channel =
    reg.channelPublicKey === null || reg.channelPublicKey === undefined ? null : toHex(reg.channelPublicKey);
  const existing = await getLock(db, id);
  if (existing !== undefined) {
    if (
      existing.signing_public_key !== toHex(reg.signingPublicKey) ||
      (channel !== null && existing.channel_public_key !== null && existing.channel_public_key !== channel)
    ) {
      throw new LatchkeyError("HUB_LOCK_KEY_INVALID", `lock ${id} is already registered with other keys`, {
        lockId: id,
      });
    }
    return id;
  }
  await db
    .insertInto("locks")
    .values({
      id,
      signing_public_key: toHex(reg.signingPublicKey),
      channel_public_key: channel,
      door_id: reg.doorId ?? null,
      commissioned_at: reg.commissionedAt,
      cursor_seq: 0,
      cursor_hash: ZERO_HASH_HEX,
      cursor_ledger_index: null,
      last_ingest_at: null,
    })
    .execute();
  return id;
}

export async function getLock(
  db: Kysely<HubDatabase>,
  id: string,
): Promise<Selectable<LockTable> | undefined> {
  return db.selectFrom("locks").selectAll().where("id", "=", id).executeTakeFirst();
}

export function cursorOf(row: Selectable<LockTable>): LockCursor {
  return {
    seq: Number(row.cursor_seq),
    hash: fromHex(row.cursor_hash),
    ledgerIndex: row.cursor_ledger_index === null ? null : Number(row.cursor_ledger_index),
  };
}

/** The lock's ingestion cursor as the hub database has it (see Ingestor.cursor for the recovered one). */
export async function lockCursor(db: Kysely<HubDatabase>, id: string): Promise<LockCursor> {
  const row = await getLock(db, id);
  if (row === undefined)
    throw new LatchkeyError("HUB_LOCK_UNKNOWN", `lock ${id} is not commissioned`, { lockId: id });
  return cursorOf(row);
}
