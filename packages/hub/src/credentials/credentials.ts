/**
 * Adding, replacing and revoking a person's credentials. A PIN leaves the hub once, in what
 * `addCredential` or `replacePin` returns; the hub keeps only copies sealed to each bound lock of
 * the site (nothing it could test a guess against). A card keeps only its last four digits, in
 * its label. Fingerprints and phone keys start as enrolment requests. Each change, once
 * committed, tells the desired-state notifier so the site's locks follow.
 */
import { randomUUID } from "node:crypto";
import { fromHex, isLatchkeyError, LatchkeyError } from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { CredentialTable, Database, IngestTables, SyncTables } from "../db/schema.js";
import type { ThrottlePolicy } from "../abuse/rate-limit.js";
import type { HubContext } from "../runtime/context.js";
import { sealForLocks, type SyncSecret } from "../sync/reconcile.js";
import { assertStrongPin, defaultPinLength, generateHubPin, sitePinPolicy } from "./pin-policy.js";
import { destroyGuestLinks } from "./guest-links.js";
import { allTables } from "../db/access.js";

export type CredentialKind = "pin" | "card" | "fingerprint" | "phone_key";

export type NewCredential =
  | { readonly kind: "pin"; readonly label?: string; readonly pin?: string; readonly length?: number }
  | { readonly kind: "card"; readonly label?: string; readonly cardNumber: string }
  | { readonly kind: "fingerprint" | "phone_key"; readonly label?: string };

/** Chosen PINs per account: 10 an hour freely, then each waits twice as long (up to 5 minutes). */
export const CHOSEN_PIN_POLICY: ThrottlePolicy = {
  freeFailures: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

function chosenPinKey(accountId: string): string {
  return `chosen-pin:${accountId}`;
}

async function checkChosenPinBudget(ctx: HubContext, accountId: string): Promise<void> {
  try {
    await ctx.throttle.check([chosenPinKey(accountId)]);
  } catch (e) {
    if (!isLatchkeyError(e, "AUTH_RATE_LIMITED")) throw e;
    const retryAfterSeconds = Number(e.details?.retryAfterSeconds ?? 1);
    throw new LatchkeyError(
      "HUB_PIN_RATE_LIMITED",
      `too many chosen PINs from this account; retry in ${retryAfterSeconds} s, or let the hub generate the PIN`,
      { retryAfterSeconds },
    );
  }
}

/**
 * Inserts a credential and, while the hub holds its secret, seals it to every bound lock of the
 * site for the person's slot there; grants decide (sync/reconcile.ts) which copies go where.
 */
async function insertCredential(
  trx: Kysely<Database>,
  row: CredentialTable,
  secret: SyncSecret | null,
): Promise<void> {
  await trx.insertInto("credentials").values(row).execute();
  if (secret !== null)
    await sealForLocks(allTables(trx), {
      credentialId: row.id,
      personId: row.person_id,
      siteId: row.site_id,
      secret,
      now: row.created_at,
    });
}

async function personOf(ctx: HubContext, personId: string) {
  return ctx.db.selectFrom("people").selectAll().where("id", "=", personId).executeTakeFirstOrThrow();
}

/** A person's credentials, oldest first (never their secrets: the hub keeps none). */
export async function listCredentials(ctx: HubContext, personId: string): Promise<CredentialTable[]> {
  return ctx.db
    .selectFrom("credentials")
    .selectAll()
    .where("person_id", "=", personId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** The doors whose locks hold a sealed copy of the credential, in id order. */
export async function doorsSealedFor(ctx: HubContext, credentialId: string): Promise<string[]> {
  const seals = await ctx.db
    .withTables<Pick<SyncTables & IngestTables, "credential_sync" | "locks">>()
    .selectFrom("credential_sync")
    .innerJoin("locks", "locks.id", "credential_sync.lock_id")
    .select("locks.door_id as door_id")
    .where("credential_sync.credential_id", "=", credentialId)
    .where("credential_sync.sealed", "is not", null)
    .orderBy("locks.door_id")
    .execute();
  return seals.flatMap((s) => (s.door_id === null ? [] : [s.door_id]));
}

/**
 * Adds a credential for a person, on behalf of `accountId` (whose chosen PINs are counted). The
 * PIN (chosen, or generated when none is given) is in the answer and nowhere else.
 */
export async function addCredential(
  ctx: HubContext,
  personId: string,
  accountId: string,
  input: NewCredential,
): Promise<{ credential: CredentialTable; pin: string | null }> {
  const person = await personOf(ctx, personId);
  let pin: string | null = null;
  let status = "active";
  let label = input.label ?? "";
  let syncSecret: SyncSecret | null = null;
  switch (input.kind) {
    case "pin": {
      // The strictest policy among the site's locks: the PIN is sealed to every one of them.
      const policy = await sitePinPolicy(ctx.db, person.site_id);
      if (input.pin !== undefined) {
        // A chosen PIN could be a guess at someone else's (the lock refuses duplicates):
        // the same answer whatever the PIN, and few of them per account and hour.
        await checkChosenPinBudget(ctx, accountId);
        assertStrongPin(input.pin, person.phone, policy);
        await ctx.throttle.fail(chosenPinKey(accountId), CHOSEN_PIN_POLICY);
        pin = input.pin;
      } else {
        pin = generateHubPin(input.length ?? defaultPinLength(policy), person.phone, policy);
      }
      label ||= "PIN";
      syncSecret = { kind: "pin", pin };
      break;
    }
    case "card": {
      // Only the last four digits stay on the hub, in the label; the lock refuses a card
      // already enrolled there.
      label ||= `Card …${input.cardNumber.slice(-4)}`;
      // Locks read 4-, 7- and 10-byte UIDs; other numbers are kept by no one.
      if ([8, 14, 20].includes(input.cardNumber.length))
        syncSecret = { kind: "card", uid: fromHex(input.cardNumber.toLowerCase()) };
      break;
    }
    case "fingerprint":
      status = "enrolment_requested";
      label ||= "Fingerprint";
      break;
    case "phone_key":
      status = "enrolment_requested";
      label ||= "Phone key";
      break;
  }
  const credential: CredentialTable = {
    id: randomUUID(),
    person_id: person.id,
    site_id: person.site_id,
    kind: input.kind,
    label,
    status,
    created_at: ctx.now(),
    revoked_at: null,
  };
  await ctx.db.transaction().execute((trx) => insertCredential(trx, credential, syncSecret));
  ctx.desiredState.siteChanged(person.site_id);
  return { credential, pin };
}

/**
 * Replaces an active PIN with a new generated one (e.g. after a lock refused it as a duplicate):
 * the old one is revoked and removed from every lock, in the same transaction as the new one is
 * added, so the person never holds both as active.
 */
export async function replacePin(
  ctx: HubContext,
  credentialId: string,
  length: number | undefined,
): Promise<{ credential: CredentialTable; pin: string; replaced: CredentialTable }> {
  const notReplaceable = () =>
    new LatchkeyError("HUB_CONFLICT", "only an active PIN can be replaced", { field: "credentialId" });
  const old = await ctx.db
    .selectFrom("credentials")
    .selectAll()
    .where("id", "=", credentialId)
    .executeTakeFirstOrThrow();
  if (old.kind !== "pin" || old.status !== "active") throw notReplaceable();
  const person = await personOf(ctx, old.person_id);
  const policy = await sitePinPolicy(ctx.db, person.site_id);
  const pin = generateHubPin(length ?? defaultPinLength(policy), person.phone, policy);
  const now = ctx.now();
  const credential: CredentialTable = {
    id: randomUUID(),
    person_id: person.id,
    site_id: person.site_id,
    kind: "pin",
    label: old.label,
    status: "active",
    created_at: now,
    revoked_at: null,
  };
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable("credentials")
      .set({ status: "revoked", revoked_at: now })
      .where("id", "=", old.id)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (revoked.numUpdatedRows === 0n) throw notReplaceable();
    await destroyGuestLinks(trx, old.id);
    await insertCredential(trx, credential, { kind: "pin", pin });
  });
  ctx.desiredState.siteChanged(person.site_id);
  return { credential, pin, replaced: old };
}

/** Revokes a credential: the engine then removes it from every lock. */
export async function revokeCredential(ctx: HubContext, credentialId: string): Promise<void> {
  const row = await ctx.db
    .selectFrom("credentials")
    .select("site_id")
    .where("id", "=", credentialId)
    .executeTakeFirstOrThrow();
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable("credentials")
      .set({ status: "revoked", revoked_at: now })
      .where("id", "=", credentialId)
      .where("status", "!=", "revoked")
      .execute();
    // An unopened guest link's sealed PIN goes too.
    await destroyGuestLinks(trx, credentialId);
  });
  ctx.desiredState.siteChanged(row.site_id);
}
