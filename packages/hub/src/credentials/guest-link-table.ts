/**
 * The guest-link table (created by migration 0005_guest_links, db/migrations/0005-guest-links.ts).
 * No foreign keys: deleting a person deletes their credentials, and a link whose credential is
 * gone is treated (and purged) like a revoked one.
 */

export type GuestLinkTable = {
  /** Random UUID; the associated data of the sealed PIN. */
  id: string;
  /** Keyed hash of the token (never the token). */
  token_hash: string;
  site_id: string;
  credential_id: string;
  /** The PIN sealed under a key derived from the token; null once opened, expired or revoked. */
  sealed_pin: string | null;
  expires_at: number;
  opened_at: number | null;
  created_at: number;
};

// A type alias (not an interface) so it fits Kysely's `withTables` constraint.
export type GuestLinkTables = { guest_links: GuestLinkTable };
