/**
 * Guest links: a generated PIN handed over as a one-time link instead of being read out. At
 * creation, the only moment the hub holds the PIN, it seals the PIN under a key derived from the
 * link's token (seal.ts) and keeps only the token's keyed hash and the sealed copy: the token is
 * 32 random bytes, so neither can be opened or tested without it (unlike a PIN, whose small
 * space would fall to any hash the hub could compute). The PIN is
 * opened only in the request that presents the token, and the sealed copy is destroyed on first
 * open, on expiry, or when the credential is revoked or its person removed.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { HubContext } from "../runtime/context.js";
import type { CredentialTable, Database } from "../db/schema.js";
import { refuseUnknownSecret } from "../abuse/unknown-secret.js";
import { recordAudit } from "../audit/audit.js";
import { termsOf } from "../grants/live.js";
import { grantStatusAt, type GrantStatus, type Schedule } from "../grants/schedule.js";
import { defaultPinLength, generateHubPin, sitePinPolicy } from "./pin-policy.js";
import { sealForLocks } from "../sync/reconcile.js";
import { newGuestToken, openPin, sealPin } from "./guest-link-seal.js";
import type { GuestLinkTables } from "./guest-link-table.js";
import { allTables } from "../db/access.js";

export const GUEST_LINK_DEFAULT_DAYS = 7;
export const GUEST_LINK_MAX_DAYS = 30;
const DAY_MS = 86_400_000;
/** Spent rows (no sealed PIN left) are kept this long after expiry, to say "already opened". */
const KEEP_SPENT_MS = GUEST_LINK_MAX_DAYS * DAY_MS;

type AnyDb = Kysely<Database>;

function links(db: AnyDb): Kysely<GuestLinkTables> {
  return db.withTables<GuestLinkTables>() as unknown as Kysely<GuestLinkTables>;
}

/** The keyed hash that finds a link by its token (its own purpose tag, apart from other links). */
export function guestTokenHash(ctx: HubContext, token: string): string {
  return ctx.secret.keyedHash("guest-link", token);
}

export interface CreatedGuestPin {
  readonly credential: CredentialTable;
  readonly linkId: string;
  readonly url: string;
  readonly expiresAt: number;
}

/**
 * Makes a generated PIN credential for a person (as POST /people/:id/credentials does for a
 * generated PIN: strong, sealed to every bound lock, no hash kept) and its guest
 * link, in one transaction. The PIN leaves this function only sealed.
 */
export async function createGuestPin(
  ctx: HubContext,
  personId: string,
  options: { label?: string; length?: number; expiresInDays?: number },
): Promise<CreatedGuestPin> {
  const person = await ctx.db
    .selectFrom("people")
    .selectAll()
    .where("id", "=", personId)
    .executeTakeFirstOrThrow();
  const now = ctx.now();
  const policy = await sitePinPolicy(ctx.db, person.site_id);
  const length = options.length ?? defaultPinLength(policy);
  const days = options.expiresInDays ?? GUEST_LINK_DEFAULT_DAYS;
  const pin = generateHubPin(length, person.phone, policy);
  const credential: CredentialTable = {
    id: randomUUID(),
    person_id: person.id,
    site_id: person.site_id,
    kind: "pin",
    label: options.label ?? "PIN",
    status: "active",
    created_at: now,
    revoked_at: null,
  };
  const token = newGuestToken();
  const linkId = randomUUID();
  const expiresAt = now + days * DAY_MS;
  const sealedPin = sealPin(token, linkId, pin);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto("credentials").values(credential).execute();
    await sealForLocks(allTables(trx), {
      credentialId: credential.id,
      personId: person.id,
      siteId: person.site_id,
      secret: { kind: "pin", pin },
      now,
    });
    await links(trx)
      .insertInto("guest_links")
      .values({
        id: linkId,
        token_hash: guestTokenHash(ctx, token),
        site_id: person.site_id,
        credential_id: credential.id,
        sealed_pin: sealedPin,
        expires_at: expiresAt,
        opened_at: null,
        created_at: now,
      })
      .execute();
  });
  ctx.desiredState.siteChanged(person.site_id);
  // The token travels in the fragment, which browsers never send to servers or proxies' logs.
  return { credential, linkId, url: `${ctx.origin}/guest#${token}`, expiresAt };
}

/**
 * Destroys the sealed PIN of every link of a revoked credential (call inside the revoking
 * transaction). The rows stay, so the link answers "revoked" rather than "not found".
 */
export async function destroyGuestLinks(db: AnyDb, credentialId: string): Promise<void> {
  await links(db)
    .updateTable("guest_links")
    .set({ sealed_pin: null })
    .where("credential_id", "=", credentialId)
    .execute();
}

/**
 * Destroys sealed PINs that may no longer be opened (expired; credential revoked or gone) and
 * forgets spent links long after their expiry. Runs before every guest-link request.
 */
export async function purgeGuestLinks(db: AnyDb, now: number): Promise<void> {
  const l = links(db);
  await l
    .updateTable("guest_links")
    .set({ sealed_pin: null })
    .where("sealed_pin", "is not", null)
    .where((eb) =>
      eb.or([
        eb("expires_at", "<=", now),
        eb(
          "credential_id",
          "not in",
          db.selectFrom("credentials").select("id").where("status", "=", "active") as never,
        ),
      ]),
    )
    .execute();
  await l
    .deleteFrom("guest_links")
    .where("expires_at", "<=", now - KEEP_SPENT_MS)
    .execute();
}

export interface GuestAccess {
  readonly doors: string[];
  readonly category: string;
  readonly schedule: Schedule;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly maxUses: number | null;
  readonly expiresAfterFirstUseSeconds: number | null;
  readonly status: GrantStatus;
}

export interface GuestView {
  readonly pin: string;
  readonly personName: string;
  readonly siteName: string;
  readonly timeZone: string;
  readonly access: GuestAccess[];
}

/**
 * Opens a link once: the PIN, the doors it opens and when. A wrong token is "not found" (and
 * counts against the caller's address, like other secrets); a known token says why it no longer
 * opens (already opened, expired, revoked).
 */
export async function openGuestLink(ctx: HubContext, token: string, ip: string): Promise<GuestView> {
  await ctx.throttle.check([`ip:${ip}`]);
  const now = ctx.now();
  await purgeGuestLinks(ctx.db, now);
  const row = await links(ctx.db)
    .selectFrom("guest_links")
    .selectAll()
    .where("token_hash", "=", guestTokenHash(ctx, token))
    .executeTakeFirst();
  if (row === undefined) return refuseUnknownSecret(ctx, "guest-link", ip);
  if (row.opened_at !== null)
    throw new LatchkeyError("HUB_GUEST_LINK_OPENED", "this link was already opened; ask for a new one");
  if (row.expires_at <= now)
    throw new LatchkeyError("HUB_GUEST_LINK_EXPIRED", "this link has expired; ask for a new one");
  if (row.sealed_pin === null)
    throw new LatchkeyError("HUB_GUEST_LINK_REVOKED", "this PIN was withdrawn; ask for a new one");
  const sealed = row.sealed_pin;
  // Claim the link first: of two concurrent opens, exactly one wins and sees the PIN.
  const claimed = await links(ctx.db)
    .updateTable("guest_links")
    .set({ sealed_pin: null, opened_at: now })
    .where("id", "=", row.id)
    .where("opened_at", "is", null)
    .where("sealed_pin", "is not", null)
    .executeTakeFirst();
  if (claimed.numUpdatedRows === 0n)
    throw new LatchkeyError("HUB_GUEST_LINK_OPENED", "this link was already opened; ask for a new one");
  const credential = await ctx.db
    .selectFrom("credentials")
    .selectAll()
    .where("id", "=", row.credential_id)
    .executeTakeFirst();
  if (credential?.status !== "active")
    throw new LatchkeyError("HUB_GUEST_LINK_REVOKED", "this PIN was withdrawn; ask for a new one");
  const pin = openPin(token, row.id, sealed);
  const person = await ctx.db
    .selectFrom("people")
    .selectAll()
    .where("id", "=", credential.person_id)
    .executeTakeFirstOrThrow();
  const site = await ctx.db
    .selectFrom("sites")
    .selectAll()
    .where("id", "=", person.site_id)
    .executeTakeFirstOrThrow();
  const grants = await ctx.db
    .selectFrom("grants")
    .selectAll()
    .where("person_id", "=", person.id)
    .where("revoked_at", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const access: GuestAccess[] = [];
  for (const g of grants) {
    const terms = termsOf(g);
    const status = grantStatusAt(terms, now, site.timezone);
    if (status === "expired" || status === "used_up" || status === "revoked") continue;
    const doors = await ctx.db
      .selectFrom("grant_doors")
      .innerJoin("doors", "doors.id", "grant_doors.door_id")
      .select("doors.name as name")
      .where("grant_doors.grant_id", "=", g.id)
      .orderBy("doors.name")
      .execute();
    access.push({
      doors: doors.map((d) => d.name),
      category: g.category,
      schedule: terms.schedule,
      validFrom: terms.validFrom,
      validUntil: terms.validUntil,
      maxUses: terms.maxUses,
      expiresAfterFirstUseSeconds: terms.expiresAfterFirstUseSeconds,
      status,
    });
  }
  await recordAudit(ctx.db, now, {
    actorAccountId: null,
    action: "guest-link.open",
    siteId: row.site_id,
    targetType: "credential",
    targetId: row.credential_id,
    details: { linkId: row.id },
    ip,
  });
  return { pin, personName: person.name, siteName: site.name, timeZone: site.timezone, access };
}
