/**
 * Certificate revocation, as locks receive it: each site has a revocation list signed by its
 * owner key, whose version only goes up. Revoking a serial bumps the version; the sync engine
 * pushes the current list to every lock of the site whose state report shows an older version
 * (locks refuse a list older than the one they hold). An online lock thus stops honouring a
 * revoked phone key or remote-unlock certificate within one sync pass; an offline one no later
 * than the certificate's own expiry (certificates are short-lived by default).
 */
import type { Kysely } from "kysely";
import { LatchkeyError, signRevocationList } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { HubDatabase } from "../db/schema.js";
import type { HubSecret } from "../keys/hub-secret.js";
import { siteOwnerKey } from "../keys/site-keys.js";

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Revokes a certificate serial of the site; returns the list's new version (idempotent per serial). */
export async function revokeCertificate(
  db: Kysely<HubDatabase>,
  secret: HubSecret,
  siteId: string,
  serial: bigint,
  now: number,
): Promise<number> {
  if (serial < 0n || serial > U64_MAX)
    throw new LatchkeyError("HUB_BAD_REQUEST", "a certificate serial is an unsigned 64-bit number", {
      field: "serial",
    });
  await siteOwnerKey(db, secret, siteId, now); // the key (and its version row) exists from here on
  return db.transaction().execute(async (trx) => {
    const known = await trx
      .selectFrom("revoked_certificates")
      .select("serial")
      .where("site_id", "=", siteId)
      .where("serial", "=", serial.toString())
      .executeTakeFirst();
    if (known === undefined) {
      await trx
        .insertInto("revoked_certificates")
        .values({ site_id: siteId, serial: serial.toString(), revoked_at: now })
        .execute();
      await trx
        .updateTable("site_keys")
        .set((eb) => ({ revocation_version: eb("revocation_version", "+", 1) }))
        .where("site_id", "=", siteId)
        .execute();
    }
    const row = await trx
      .selectFrom("site_keys")
      .select("revocation_version")
      .where("site_id", "=", siteId)
      .executeTakeFirstOrThrow();
    return Number(row.revocation_version);
  });
}

/** The site's current list version (0: nothing revoked yet). */
export async function revocationVersion(db: Kysely<HubDatabase>, siteId: string): Promise<number> {
  const row = await db
    .selectFrom("site_keys")
    .select("revocation_version")
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  return Number(row?.revocation_version ?? 0);
}

/** The site's current signed list, or null while nothing is revoked. */
export async function signedRevocationList(
  db: Kysely<HubDatabase>,
  secret: HubSecret,
  siteId: string,
  now: number,
): Promise<{ version: number; list: Uint8Array } | null> {
  const version = await revocationVersion(db, siteId);
  if (version === 0) return null;
  const rows = await db
    .selectFrom("revoked_certificates")
    .select("serial")
    .where("site_id", "=", siteId)
    .execute();
  const serials = rows.map((r) => BigInt(r.serial)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const owner = await siteOwnerKey(db, secret, siteId, now);
  const list = owner.withSeed((seed) =>
    signRevocationList({ listVersion: version, issuedAt: now, serials }, seed, nodeEd25519),
  );
  return { version, list };
}
