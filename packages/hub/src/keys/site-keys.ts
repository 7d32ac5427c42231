/**
 * Each site's owner signing key (Ed25519). It signs what locks and verifiers trust offline:
 * commissioning records (evidence), digital-key certificates and revocation lists. The lock
 * receives its public half at commissioning. The seed is stored sealed with the hub secret and
 * opened only to sign; it never leaves the hub process.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { fromHex, toHex } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { HubDatabase } from "../db/schema.js";
import type { HubSecret } from "./hub-secret.js";

export interface SiteOwnerKey {
  readonly siteId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
  /** Runs `fn` with the opened seed (for protocol signers that take one); the seed is wiped after. */
  withSeed<T>(fn: (seed: Uint8Array) => T): T;
}

const context = (siteId: string): string => `latchkey/site-owner-key/v1/${siteId}`;

function keyOf(secret: HubSecret, siteId: string, sealed: string): SiteOwnerKey {
  const publicKey = nodeEd25519.publicKey(fromHex(secret.open(sealed, context(siteId))));
  return {
    siteId,
    publicKey,
    sign(message) {
      return this.withSeed((seed) => nodeEd25519.sign(seed, message));
    },
    withSeed(fn) {
      const seed = fromHex(secret.open(sealed, context(siteId)));
      try {
        return fn(seed);
      } finally {
        seed.fill(0);
      }
    },
  };
}

/** The site's owner key, created on first use (concurrent first uses agree on one key). */
export async function siteOwnerKey(
  db: Kysely<HubDatabase>,
  secret: HubSecret,
  siteId: string,
  now: number,
): Promise<SiteOwnerKey> {
  const existing = await db
    .selectFrom("site_keys")
    .selectAll()
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  if (existing !== undefined) return keyOf(secret, siteId, existing.owner_seed_sealed);
  const seed = randomBytes(32);
  const sealed = secret.seal(seed.toString("hex"), context(siteId));
  const publicKey = nodeEd25519.publicKey(new Uint8Array(seed));
  seed.fill(0);
  await db
    .insertInto("site_keys")
    .values({
      site_id: siteId,
      owner_public_key: toHex(publicKey),
      owner_seed_sealed: sealed,
      revocation_version: 0,
      created_at: now,
    })
    .onConflict((oc) => oc.column("site_id").doNothing())
    .execute();
  const row = await db
    .selectFrom("site_keys")
    .selectAll()
    .where("site_id", "=", siteId)
    .executeTakeFirstOrThrow();
  return keyOf(secret, siteId, row.owner_seed_sealed);
}
