/**
 * Table types for Kysely. One schema serves SQLite and PostgreSQL, so columns stick to types
 * both share: text, integer/bigint (timestamps are epoch milliseconds), and 0/1 for booleans.
 */
import type { Generated } from "kysely";

export interface AccountTable {
  id: string;
  username: string;
  password_hash: string;
  is_owner: number;
  created_at: number;
  /** TOTP secret sealed with the hub key (never stored in clear); null when not enrolled. */
  totp_secret_sealed: string | null;
  /** A secret issued by "begin enrolment" and not yet confirmed. */
  totp_pending_sealed: string | null;
  /** Last accepted TOTP time step: codes at or before it are refused (single use). */
  totp_last_step: number | null;
  factors_changed_at: number;
}

export interface PasskeyTable {
  id: string;
  account_id: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
}

export interface RecoveryCodeTable {
  id: string;
  account_id: string;
  code_hash: string;
  used_at: number | null;
}

/** One-time links: first-run setup (account_id null, role owner) and invitations. */
export interface OneTimeLinkTable {
  token_hash: string;
  purpose: string;
  site_id: string | null;
  role: string | null;
  username: string | null;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface SessionTable {
  id_hash: string;
  account_id: string;
  /** "enrol" (must add a second factor), "mfa" (password ok, second factor pending), "full". */
  stage: string;
  created_at: number;
  last_seen_at: number;
  /** When a second factor was last proven in this session (for step-up). */
  mfa_at: number | null;
  csrf_token: string;
  /** Pending WebAuthn challenge for this session. */
  challenge: string | null;
}

export interface RateLimitTable {
  key: string;
  failures: number;
  next_allowed_at: number;
  updated_at: number;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  actor_account_id: string | null;
  action: string;
  site_id: string | null;
  target_type: string | null;
  target_id: string | null;
  details: string;
  ip: string | null;
  /** The ledger leaf holding this entry; null until the audit feed appended it. */
  ledger_index: Generated<number | null>;
}

/** The one organisation a hub serves (created with the owner account). */
export interface OrganisationTable {
  id: string;
  name: string;
  created_at: number;
}

export interface SiteTable {
  id: string;
  name: string;
  timezone: string;
  created_at: number;
}

export interface SiteRoleTable {
  account_id: string;
  site_id: string;
  role: string;
  created_at: number;
}

export interface DoorTable {
  id: string;
  site_id: string;
  name: string;
  lock_id: string | null;
  /** The bound lock's X25519 public key (hex), to which new PINs are sealed. */
  lock_public_key: string | null;
  created_at: number;
}

export interface PersonTable {
  id: string;
  site_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  created_at: number;
}

export interface CredentialTable {
  id: string;
  person_id: string;
  site_id: string;
  kind: string;
  /** Names the credential; a card's default label keeps only its last four digits. */
  label: string;
  status: string;
  created_at: number;
  revoked_at: number | null;
}

export interface GrantTable {
  id: string;
  person_id: string;
  site_id: string;
  category: string;
  schedule: string;
  valid_from: number | null;
  valid_until: number | null;
  max_uses: number | null;
  uses: number;
  expire_after_first_use: number;
  first_used_at: number | null;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
}

export interface GrantDoorTable {
  grant_id: string;
  door_id: string;
}

/** A lock known to the hub (commissioned), with its event-ingestion cursor. Keys are hex. */
export interface LockTable {
  id: string;
  signing_public_key: string;
  channel_public_key: string | null;
  door_id: string | null;
  commissioned_at: number;
  /** Last ingested seq (0 before the first event) and its record hash (hex; zeros before). */
  cursor_seq: number;
  cursor_hash: string;
  /** Ledger index of the leaf holding cursor_seq. */
  cursor_ledger_index: number | null;
  last_ingest_at: number | null;
  /** The owner-signed commissioning record (hex), for evidence bundles. */
  commissioning_record: string | null;
  site_id: string | null;
  /** Hub clock when the lock was last heard from. */
  last_seen_at: number | null;
  /** Lock clock minus hub clock at the last state report (ms). */
  clock_drift_ms: number | null;
  /** The last StateReport as JSON (bolt, door, battery, mode, firmware …). */
  state_json: string | null;
  state_at: number | null;
  /** Highest handshake counter sent to the lock (stored before sending; 0009). */
  channel_counter: Generated<number>;
}

/** Where each ingested lock event sits in the ledger. */
export interface LockEventTable {
  lock_id: string;
  seq: number;
  hash: string;
  kind: number;
  ledger_index: number;
  /** The lock's site when the event was ingested. */
  site_id: string | null;
  /** Lock time (ms), null when the lock's clock was unknown. */
  at: number | null;
  /** The person holding the signing user slot when the event was ingested. */
  person_id: string | null;
  /** 0 until site_id / at / person_id are filled (rows from before migration 0006). */
  described: Generated<number>;
}

export interface AlertTable {
  id: Generated<number>;
  /** "ingest-gap" | "ingest-quarantine" | "checkpoint-fork" | … */
  kind: string;
  lock_id: string | null;
  /** JSON; never secrets. */
  details: string;
  created_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  /** When the condition ended by itself (a lock offline came back); 0009. */
  resolved_at: Generated<number | null>;
}

/** A record that failed verification at ingestion: kept verbatim (hex), never appended. */
export interface QuarantineTable {
  id: Generated<number>;
  lock_id: string;
  seq: number | null;
  reason: string;
  message: string;
  record: string;
  received_at: number;
}

/** A ledger append in flight: leaves from `from_size` on may belong to `owner` (crash recovery). */
export interface LedgerIntentTable {
  owner: string;
  from_size: number;
  created_at: number;
}

export interface Database {
  accounts: AccountTable;
  passkeys: PasskeyTable;
  recovery_codes: RecoveryCodeTable;
  one_time_links: OneTimeLinkTable;
  sessions: SessionTable;
  rate_limits: RateLimitTable;
  audit: AuditTable;
  organisation: OrganisationTable;
  sites: SiteTable;
  site_roles: SiteRoleTable;
  doors: DoorTable;
  people: PersonTable;
  credentials: CredentialTable;
  grants: GrantTable;
  grant_doors: GrantDoorTable;
}

/**
 * Tables of migration 0002 (locks, ingestion, alerts, ledger intents). Kept apart from
 * `Database` so code that enumerates its tables (testing/snapshot.ts) keeps compiling; use
 * `db.withTables<IngestTables>()` to query them.
 */
export interface IngestTables {
  locks: LockTable;
  lock_events: LockEventTable;
  alerts: AlertTable;
  quarantine: QuarantineTable;
  ledger_intents: LedgerIntentTable;
}

/** A site's owner signing key: signs commissioning records, digital keys and revocation lists. */
export interface SiteKeyTable {
  site_id: string;
  owner_public_key: string;
  /** The Ed25519 seed sealed with the hub secret. */
  owner_seed_sealed: string;
  revocation_version: number;
  created_at: number;
}

/** A person's user slot on one lock, with the user configuration wanted and last applied (JSON). */
export interface LockUserTable {
  lock_id: string;
  person_id: string;
  user_index: number;
  /** What the lock should hold for this person (null: nothing; remove the user). */
  desired_json: string | null;
  /** What the lock acknowledged last (null: nothing set yet or removed). */
  applied_json: string | null;
  updated_at: number;
}

/**
 * One credential on one lock: pending → sending → set | failed(reason) → removing → removed.
 * `sealed` is the credential data sealed to this lock for this slot (the hub cannot open it).
 */
export interface CredentialSyncTable {
  credential_id: string;
  lock_id: string;
  person_id: string;
  wire_type: number;
  credential_index: number;
  user_index: number;
  sealed: string | null;
  /** 1: the credential should be on the lock; 0: it should not. */
  desired: number;
  state: string;
  reason: string | null;
  attempts: number;
  next_attempt_at: number;
  updated_at: number;
}

/** A revoked certificate serial (decimal u64) of a site. */
export interface RevokedCertificateTable {
  site_id: string;
  serial: string;
  revoked_at: number;
}

/** Tables of migrations 0003 (sync) and 0004 (revocations). */
export interface SyncTables {
  revoked_certificates: RevokedCertificateTable;
  site_keys: SiteKeyTable;
  lock_users: LockUserTable;
  credential_sync: CredentialSyncTable;
}

export type HubDatabase = Database & IngestTables & SyncTables;
