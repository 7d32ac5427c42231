/**
 * The hub's desired state, written down per lock. `sealForLocks` runs when a PIN or card is
 * created (the only moment the hub holds the secret): it gives the person a user slot on every
 * lock of the site and seals the credential to each lock for that slot. `reconcileSite` then
 * decides, from live grants, which of those sealed copies should be on which lock, and moves
 * each credential × lock row along its state machine:
 *
 *   idle ──wanted──▶ pending ──▶ sending ──▶ set ──unwanted──▶ removing ──▶ removed
 *                       ▲            └──▶ failed(reason) ──retry──┘
 *
 * `idle` is a sealed copy that no live grant asks for yet. The engine (engine.ts) does the
 * sending; this module only ever writes the hub database.
 */
import type { ExpressionBuilder, Kysely, Transaction } from "kysely";
import {
  credentialSealContext,
  CredentialType as WireCredentialType,
  encodeCredentialData,
  fromHex,
  lockIdToBytes,
  sealSecret,
  type LockId,
} from "@latchkey/protocol";
import type { CredentialSyncTable, GrantTable, HubDatabase } from "../db/schema.js";
import { grantStatusAt, isLive } from "../grants/schedule.js";
import { termsOf } from "../grants/live.js";
import { desiredUser, userJson } from "./desired.js";

export const SyncState = {
  Idle: "idle",
  Pending: "pending",
  Sending: "sending",
  Set: "set",
  Failed: "failed",
  Removing: "removing",
  Removed: "removed",
} as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];
export const SYNC_STATES: readonly SyncState[] = Object.values(SyncState);

type Db = Kysely<HubDatabase> | Transaction<HubDatabase>;

/** The plaintext a lock expects inside SetCredential for each kind we sync. */
export type SyncSecret =
  { readonly kind: "pin"; readonly pin: string } | { readonly kind: "card"; readonly uid: Uint8Array };

const WIRE_TYPE = { pin: WireCredentialType.PIN, card: WireCredentialType.RFID } as const;

function plaintextOf(s: SyncSecret): Uint8Array {
  return encodeCredentialData(s.kind === "pin" ? { type: "PIN", pin: s.pin } : { type: "RFID", uid: s.uid });
}

/** The locks bound to a door of the site (a query to select from). */
export function locksOfSite(db: Db, siteId: string) {
  return db
    .selectFrom("locks")
    .innerJoin("doors", "doors.id", "locks.door_id")
    .where("doors.site_id", "=", siteId);
}

/** The bound locks of a site: lock id, door id and the lock's channel key. */
export async function siteLocks(
  db: Db,
  siteId: string,
  onlyLockIds?: ReadonlySet<string>,
): Promise<{ id: string; doorId: string; channelPublicKey: string }[]> {
  let query = locksOfSite(db, siteId).select([
    "locks.id as id",
    "locks.door_id as doorId",
    "locks.channel_public_key as channel",
  ]);
  // One lock just commissioned must not cost a read of the site's thousands of others.
  if (onlyLockIds !== undefined) query = query.where("locks.id", "in", [...onlyLockIds]);
  const rows = await query.orderBy("locks.id").execute();
  return rows.flatMap((r) =>
    r.doorId === null || r.channel === null
      ? []
      : [{ id: r.id, doorId: r.doorId, channelPublicKey: r.channel }],
  );
}

/** The person's user slot on a lock, allocating the lowest free index on first use. */
export async function userSlot(db: Db, lockId: string, personId: string, now: number): Promise<number> {
  const found = await db
    .selectFrom("lock_users")
    .select("user_index")
    .where("lock_id", "=", lockId)
    .where("person_id", "=", personId)
    .executeTakeFirst();
  if (found !== undefined) return Number(found.user_index);
  const used = await db.selectFrom("lock_users").select("user_index").where("lock_id", "=", lockId).execute();
  const taken = new Set(used.map((u) => Number(u.user_index)));
  let index = 1;
  while (taken.has(index)) index++;
  await db
    .insertInto("lock_users")
    .values({
      lock_id: lockId,
      person_id: personId,
      user_index: index,
      desired_json: null,
      applied_json: null,
      updated_at: now,
    })
    .execute();
  return index;
}

async function credentialSlot(db: Db, lockId: string, wireType: number): Promise<number> {
  const row = await db
    .selectFrom("credential_sync")
    .select((eb) => eb.fn.max("credential_index").as("top"))
    .where("lock_id", "=", lockId)
    .where("wire_type", "=", wireType)
    .executeTakeFirst();
  return Number(row?.top ?? 0) + 1;
}

/**
 * Seals a new credential to every bound lock of its site (inside the creating transaction).
 * Returns the door ids it was sealed for.
 */
export async function sealForLocks(
  db: Db,
  o: { credentialId: string; personId: string; siteId: string; secret: SyncSecret; now: number },
): Promise<string[]> {
  const doors: string[] = [];
  const wireType = WIRE_TYPE[o.secret.kind];
  const plain = plaintextOf(o.secret);
  try {
    for (const lock of await siteLocks(db, o.siteId)) {
      const userIndex = await userSlot(db, lock.id, o.personId, o.now);
      const credentialIndex = await credentialSlot(db, lock.id, wireType);
      const sealed = sealSecret(
        fromHex(lock.channelPublicKey),
        plain,
        credentialSealContext({
          lockId: lockIdToBytes(lock.id as LockId),
          credentialType: wireType,
          userIndex,
          credentialIndex,
        }),
      );
      await db
        .insertInto("credential_sync")
        .values({
          credential_id: o.credentialId,
          lock_id: lock.id,
          person_id: o.personId,
          wire_type: wireType,
          credential_index: credentialIndex,
          user_index: userIndex,
          sealed: Buffer.from(sealed).toString("hex"),
          desired: 0,
          state: SyncState.Idle,
          reason: null,
          attempts: 0,
          next_attempt_at: o.now,
          updated_at: o.now,
        })
        .execute();
      doors.push(lock.doorId);
    }
  } finally {
    plain.fill(0);
  }
  return doors;
}

/** A row's next state when the credential is (`want`) or is not wanted on the lock. */
export function transition(
  row: Pick<CredentialSyncTable, "state" | "attempts" | "reason">,
  want: boolean,
  credentialRevoked: boolean,
  unrepresentable: string | null,
): { state: SyncState; reason: string | null; resetAttempts: boolean } | null {
  const state = row.state as SyncState;
  if (want) {
    switch (state) {
      case SyncState.Idle:
      case SyncState.Removed:
      case SyncState.Removing:
        return { state: SyncState.Pending, reason: null, resetAttempts: true };
      case SyncState.Failed:
        // A refusal by the hub's own rules (schedule) clears when the grants change.
        return row.reason?.startsWith("schedule-not-representable") === true
          ? { state: SyncState.Pending, reason: null, resetAttempts: true }
          : null;
      case SyncState.Pending:
      case SyncState.Sending:
      case SyncState.Set:
        return null;
    }
  }
  const parked = credentialRevoked ? SyncState.Removed : SyncState.Idle;
  switch (state) {
    case SyncState.Pending:
      // Never sent: nothing on the lock to take back.
      return row.attempts === 0
        ? {
            state: unrepresentable === null ? parked : SyncState.Failed,
            reason: unrepresentable,
            resetAttempts: true,
          }
        : { state: SyncState.Removing, reason: unrepresentable, resetAttempts: true };
    case SyncState.Sending:
    case SyncState.Set:
      return { state: SyncState.Removing, reason: unrepresentable, resetAttempts: true };
    case SyncState.Failed:
      if (unrepresentable !== null)
        return row.reason === unrepresentable
          ? null
          : { state: SyncState.Failed, reason: unrepresentable, resetAttempts: true };
      return row.attempts === 0
        ? { state: parked, reason: null, resetAttempts: true }
        : { state: SyncState.Removing, reason: null, resetAttempts: true };
    case SyncState.Idle:
      return credentialRevoked
        ? { state: SyncState.Removed, reason: null, resetAttempts: true }
        : unrepresentable !== null
          ? { state: SyncState.Failed, reason: unrepresentable, resetAttempts: true }
          : null;
    case SyncState.Removing:
    case SyncState.Removed:
      return null;
  }
}

/**
 * Recomputes what every lock of the site should hold and moves rows accordingly. Returns the ids
 * of locks whose rows changed (the engine wakes their agents).
 */
export async function reconcileSite(
  db: Kysely<HubDatabase>,
  siteId: string,
  now: number,
  onlyLockIds?: ReadonlySet<string>,
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const site = await trx.selectFrom("sites").select("timezone").where("id", "=", siteId).executeTakeFirst();
    if (site === undefined) return [];
    if (onlyLockIds?.size === 0) return [];
    const locks = await siteLocks(trx, siteId, onlyLockIds);
    if (locks.length === 0) return [];
    const grants = await trx
      .selectFrom("grants")
      .selectAll()
      .where("site_id", "=", siteId)
      .where("revoked_at", "is", null)
      .execute();
    const live = grants.filter((g) => isLive(grantStatusAt(termsOf(g), now, site.timezone)));
    const grantDoors =
      live.length === 0
        ? []
        : await trx
            .selectFrom("grant_doors")
            .selectAll()
            .where(
              "grant_id",
              "in",
              live.map((g) => g.id),
            )
            .execute();
    const byId = new Map(live.map((g) => [g.id, g]));
    const grantDoorsByDoor = groupBy(grantDoors, (gd) => gd.door_id);
    // Two reads for the whole site (not two per lock): a site may have thousands of locks, more
    // than a statement takes parameters, so the site is a subquery unless a few locks are named.
    const lockIds =
      onlyLockIds === undefined ? locksOfSite(trx, siteId).select("locks.id") : locks.map((l) => l.id);
    const usersByLock = groupBy(
      await trx.selectFrom("lock_users").selectAll().where("lock_id", "in", lockIds).execute(),
      (u) => u.lock_id,
    );
    const credsByLock = groupBy(
      await trx
        .selectFrom("credential_sync")
        .innerJoin("credentials", "credentials.id", "credential_sync.credential_id")
        .select([
          "credential_sync.lock_id as lockId",
          "credential_sync.credential_id as credentialId",
          "credential_sync.person_id as personId",
          "credential_sync.state as state",
          "credential_sync.desired as desired",
          "credential_sync.attempts as attempts",
          "credential_sync.reason as reason",
          "credentials.status as status",
        ])
        .where("credential_sync.lock_id", "in", lockIds)
        .execute(),
      (c) => c.lockId,
    );
    const changed: string[] = [];
    for (const lock of locks) {
      const perPerson = new Map<string, GrantTable[]>();
      for (const gd of grantDoorsByDoor.get(lock.doorId) ?? []) {
        const g = byId.get(gd.grant_id);
        if (g === undefined) continue;
        perPerson.set(g.person_id, [...(perPerson.get(g.person_id) ?? []), g]);
      }
      let lockChanged = false;
      const outcomes = new Map<string, { json: string | null; reason: string | null }>();
      for (const [personId, gs] of perPerson) {
        const o = desiredUser(gs.map((g) => ({ ...termsOf(g), createdAt: g.created_at })));
        outcomes.set(
          personId,
          o.ok ? { json: userJson(o.user), reason: null } : { json: null, reason: o.reason },
        );
      }
      const users = usersByLock.get(lock.id) ?? [];
      const creds = credsByLock.get(lock.id) ?? [];
      // A user slot is wanted while the person has a wanted credential on this lock.
      const wantedPeople = new Set<string>();
      for (const c of creds) {
        const outcome = outcomes.get(c.personId);
        const revoked = c.status !== "active";
        const want = !revoked && outcome !== undefined && outcome.json !== null;
        if (want) wantedPeople.add(c.personId);
        const next = transition(
          { state: c.state, attempts: Number(c.attempts), reason: c.reason },
          want,
          revoked,
          revoked ? null : (outcome?.reason ?? null),
        );
        const desired = want ? 1 : 0;
        if (next === null) {
          if (Number(c.desired) === desired) continue;
          await trx
            .updateTable("credential_sync")
            .set({ desired })
            .where("credential_id", "=", c.credentialId)
            .where("lock_id", "=", lock.id)
            .where("desired", "!=", desired)
            .execute();
          continue;
        }
        lockChanged = true;
        await trx
          .updateTable("credential_sync")
          .set({
            desired,
            state: next.state,
            reason: next.reason,
            ...(next.resetAttempts ? { attempts: 0 } : {}),
            // Due at once (retry times are on the engine's clock, not the hub's).
            next_attempt_at: 0,
            updated_at: now,
          })
          .where("credential_id", "=", c.credentialId)
          .where("lock_id", "=", lock.id)
          .execute();
      }
      for (const u of users) {
        const desired = wantedPeople.has(u.person_id) ? (outcomes.get(u.person_id)?.json ?? null) : null;
        if (desired === u.desired_json) continue;
        lockChanged = true;
        await trx
          .updateTable("lock_users")
          .set({ desired_json: desired, updated_at: now })
          .where("lock_id", "=", lock.id)
          .where("person_id", "=", u.person_id)
          .execute();
      }
      if (lockChanged) changed.push(lock.id);
    }
    return changed;
  });
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list === undefined) out.set(k, [r]);
    else list.push(r);
  }
  return out;
}

/** A credential × lock row the engine still has to act on: take it away, or send it. */
export function hasWorkToDo(eb: ExpressionBuilder<HubDatabase, "credential_sync">) {
  return eb.or([
    eb("state", "=", SyncState.Removing),
    eb.and([
      eb("desired", "=", 1),
      eb("state", "in", [SyncState.Pending, SyncState.Sending, SyncState.Failed]),
    ]),
  ]);
}

/**
 * Locks with a row whose retry has come due (Date.now clock, like next_attempt_at): what the
 * engine's periodic safety net wakes.
 */
export async function locksWithDueRows(db: Kysely<HubDatabase>, at: number): Promise<string[]> {
  const rows = await db
    .selectFrom("credential_sync")
    .select("lock_id")
    .distinct()
    .where("next_attempt_at", "<=", at)
    .where(hasWorkToDo)
    .execute();
  return rows.map((r) => r.lock_id);
}

/** Every site with at least one bound lock. */
export async function sitesWithLocks(db: Kysely<HubDatabase>): Promise<string[]> {
  const rows = await db
    .selectFrom("locks")
    .innerJoin("doors", "doors.id", "locks.door_id")
    .select("doors.site_id as siteId")
    .distinct()
    .execute();
  return rows.map((r) => r.siteId);
}
