/**
 * Schema migrations, run automatically at start. One list for SQLite and PostgreSQL; the only
 * dialect difference is how the audit table's sequence column is declared. Append new migrations
 * (names sort in order); never edit one that has shipped.
 */
import {
  Migrator,
  sql,
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from "kysely";
import { LatchkeyError } from "@latchkey/protocol";
import { guestLinksMigration } from "./migrations/0005-guest-links.js";
import { doorbellsMigration } from "./migrations/0007-doorbells.js";
import { credentialSecretsMigration } from "./migrations/0008-credential-secrets.js";
import { channelPresenceMigration } from "./migrations/0009-channel-presence.js";
import { calendarFeedsMigration } from "./migrations/0010-calendar-feeds.js";
import { outboundMigration } from "./migrations/0011-outbound.js";

export type Dialect = "sqlite" | "postgres";

function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("accounts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("username", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("is_owner", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("totp_secret_sealed", "text")
        .addColumn("totp_pending_sealed", "text")
        .addColumn("totp_last_step", "bigint")
        .addColumn("factors_changed_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("passkeys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("public_key", "text", (c) => c.notNull())
        .addColumn("counter", "bigint", (c) => c.notNull())
        .addColumn("transports", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("recovery_codes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("code_hash", "text", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema
        .createTable("one_time_links")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("purpose", "text", (c) => c.notNull())
        .addColumn("site_id", "text")
        .addColumn("role", "text")
        .addColumn("username", "text")
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id_hash", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("stage", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint", (c) => c.notNull())
        .addColumn("mfa_at", "bigint")
        .addColumn("csrf_token", "text", (c) => c.notNull())
        .addColumn("challenge", "text")
        .execute();
      await db.schema.createIndex("sessions_account").on("sessions").column("account_id").execute();
      await db.schema
        .createTable("rate_limits")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("failures", "integer", (c) => c.notNull())
        .addColumn("next_allowed_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("audit")
        .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("actor_account_id", "text")
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("site_id", "text")
        .addColumn("target_type", "text")
        .addColumn("target_id", "text")
        .addColumn("details", "text", (c) => c.notNull())
        .addColumn("ip", "text")
        .execute();
      await db.schema.createIndex("audit_site").on("audit").columns(["site_id", "id"]).execute();
      await db.schema
        .createTable("organisation")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("sites")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("timezone", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("site_roles")
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("site_roles_pk", ["account_id", "site_id"])
        .execute();
      await db.schema
        .createTable("doors")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("lock_id", "text")
        .addColumn("lock_public_key", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("people")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("email", "text")
        .addColumn("phone", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("people_site").on("people").columns(["site_id", "name", "id"]).execute();
      await db.schema
        .createTable("credentials")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("person_id", "text", (c) => c.notNull().references("people.id"))
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("label", "text", (c) => c.notNull())
        .addColumn("secret_hmac", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .execute();
      await db.schema.createIndex("credentials_hmac").on("credentials").column("secret_hmac").execute();
      await db.schema
        .createTable("pin_seals")
        .addColumn("credential_id", "text", (c) => c.notNull().references("credentials.id"))
        .addColumn("door_id", "text", (c) => c.notNull().references("doors.id"))
        .addColumn("lock_public_key", "text", (c) => c.notNull())
        .addColumn("sealed", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("pin_seals_pk", ["credential_id", "door_id"])
        .execute();
      await db.schema
        .createTable("grants")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("person_id", "text", (c) => c.notNull().references("people.id"))
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("category", "text", (c) => c.notNull())
        .addColumn("schedule", "text", (c) => c.notNull())
        .addColumn("valid_from", "bigint")
        .addColumn("valid_until", "bigint")
        .addColumn("max_uses", "integer")
        .addColumn("uses", "integer", (c) => c.notNull())
        .addColumn("expire_after_first_use", "integer", (c) => c.notNull())
        .addColumn("first_used_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text")
        .addColumn("revoked_at", "bigint")
        .execute();
      await db.schema
        .createTable("grant_doors")
        .addColumn("grant_id", "text", (c) => c.notNull().references("grants.id"))
        .addColumn("door_id", "text", (c) => c.notNull().references("doors.id"))
        .addPrimaryKeyConstraint("grant_doors_pk", ["grant_id", "door_id"])
        .execute();
      await db.schema.createIndex("grant_doors_door").on("grant_doors").column("door_id").execute();
    },
  };
}

/**
 * Locks known to the hub and event ingestion into the ledger (packages/hub/src/ingest/): each
 * lock's identity and ingestion cursor, the seq → ledger index of every ingested event, alerts,
 * quarantined records, ledger intents (crash recovery, see ledger-service/intents.ts), and which
 * ledger leaf holds each audit entry.
 */
function locksAndIngestion(dialect: Dialect): Migration {
  const serial = (c: ColumnDefinitionBuilder) =>
    dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();
  const idType = dialect === "postgres" ? "bigserial" : "integer";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("locks")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("signing_public_key", "text", (c) => c.notNull().unique())
        .addColumn("channel_public_key", "text")
        .addColumn("door_id", "text", (c) => c.references("doors.id"))
        .addColumn("commissioned_at", "bigint", (c) => c.notNull())
        .addColumn("cursor_seq", "bigint", (c) => c.notNull())
        .addColumn("cursor_hash", "text", (c) => c.notNull())
        .addColumn("cursor_ledger_index", "bigint")
        .addColumn("last_ingest_at", "bigint")
        .execute();
      await db.schema
        .createTable("lock_events")
        .addColumn("lock_id", "text", (c) => c.notNull().references("locks.id"))
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .addColumn("kind", "integer", (c) => c.notNull())
        .addColumn("ledger_index", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("lock_events_pk", ["lock_id", "seq"])
        .execute();
      await db.schema
        .createTable("alerts")
        .addColumn("id", idType, serial)
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("lock_id", "text")
        .addColumn("details", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("acknowledged_at", "bigint")
        .addColumn("acknowledged_by", "text")
        .execute();
      await db.schema.createIndex("alerts_open").on("alerts").columns(["acknowledged_at", "id"]).execute();
      await db.schema
        .createTable("quarantine")
        .addColumn("id", idType, serial)
        .addColumn("lock_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint")
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("record", "text", (c) => c.notNull())
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("quarantine_lock").on("quarantine").columns(["lock_id", "id"]).execute();
      await db.schema
        .createTable("ledger_intents")
        .addColumn("owner", "text", (c) => c.primaryKey())
        .addColumn("from_size", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.alterTable("audit").addColumn("ledger_index", "bigint").execute();
      await db.schema
        .createIndex("audit_unledgered")
        .on("audit")
        .column("id")
        .where(sql.ref("ledger_index"), "is", null)
        .execute();
    },
  };
}

/**
 * Hub ↔ lock sync (packages/hub/src/sync/, packages/hub/src/locks/): each site's owner signing key
 * (sealed with the hub secret), each lock's commissioning record and last known state, each
 * person's user slot on each lock, and each credential × lock sync state.
 */
function lockSync(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("site_keys")
        .addColumn("site_id", "text", (c) => c.primaryKey().references("sites.id"))
        .addColumn("owner_public_key", "text", (c) => c.notNull())
        .addColumn("owner_seed_sealed", "text", (c) => c.notNull())
        .addColumn("revocation_version", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      for (const [name, type] of [
        ["commissioning_record", "text"],
        ["site_id", "text"],
        ["last_seen_at", "bigint"],
        ["clock_drift_ms", "bigint"],
        ["state_json", "text"],
        ["state_at", "bigint"],
      ] as const) {
        await db.schema.alterTable("locks").addColumn(name, type).execute();
      }
      await db.schema
        .createTable("lock_users")
        .addColumn("lock_id", "text", (c) => c.notNull().references("locks.id"))
        .addColumn("person_id", "text", (c) => c.notNull().references("people.id"))
        .addColumn("user_index", "integer", (c) => c.notNull())
        .addColumn("desired_json", "text")
        .addColumn("applied_json", "text")
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("lock_users_pk", ["lock_id", "person_id"])
        .addUniqueConstraint("lock_users_slot", ["lock_id", "user_index"])
        .execute();
      await db.schema
        .createTable("credential_sync")
        .addColumn("credential_id", "text", (c) => c.notNull().references("credentials.id"))
        .addColumn("lock_id", "text", (c) => c.notNull().references("locks.id"))
        .addColumn("person_id", "text", (c) => c.notNull())
        .addColumn("wire_type", "integer", (c) => c.notNull())
        .addColumn("credential_index", "integer", (c) => c.notNull())
        .addColumn("user_index", "integer", (c) => c.notNull())
        .addColumn("sealed", "text")
        .addColumn("desired", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("credential_sync_pk", ["credential_id", "lock_id"])
        .addUniqueConstraint("credential_sync_slot", ["lock_id", "wire_type", "credential_index"])
        .execute();
      await db.schema
        .createIndex("credential_sync_lock")
        .on("credential_sync")
        .columns(["lock_id", "state"])
        .execute();
    },
  };
}

/** Certificates (digital keys) a site's owner revoked; locks receive them as a signed list. */
function revocations(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("revoked_certificates")
        .addColumn("site_id", "text", (c) => c.notNull().references("sites.id"))
        .addColumn("serial", "text", (c) => c.notNull())
        .addColumn("revoked_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("revoked_certificates_pk", ["site_id", "serial"])
        .execute();
    },
  };
}

/**
 * Door-activity filters and positions in SQL: each lock event row carries its site (at ingestion),
 * lock time, and the person whose slot signed it, so a site's history can be counted, filtered and
 * read at any position from indexes. Rows from before this migration are filled in at start from
 * the ledger (events/describe.ts); `described` = 0 marks them until then.
 */
function lockEventColumns(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("lock_events").addColumn("site_id", "text").execute();
      await db.schema.alterTable("lock_events").addColumn("at", "bigint").execute();
      await db.schema.alterTable("lock_events").addColumn("person_id", "text").execute();
      await db.schema
        .alterTable("lock_events")
        .addColumn("described", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      // Newest-first reads of the whole site, one kind, one lock (door filter) and one person. Each
      // ends with `at` so a time window is checked in the index (counts and deep positions never
      // touch the table).
      await db.schema
        .createIndex("lock_events_site_order")
        .on("lock_events")
        .columns(["site_id", "ledger_index", "at"])
        .execute();
      await db.schema
        .createIndex("lock_events_site_kind_order")
        .on("lock_events")
        .columns(["site_id", "kind", "ledger_index", "at"])
        .execute();
      await db.schema
        .createIndex("lock_events_site_lock_order")
        .on("lock_events")
        .columns(["site_id", "lock_id", "ledger_index", "at"])
        .execute();
      await db.schema
        .createIndex("lock_events_person_order")
        .on("lock_events")
        .columns(["person_id", "ledger_index", "at"])
        .where(sql.ref("person_id"), "is not", null)
        .execute();
      // Rows still to describe (only those from before this migration): finding none at each
      // start is a look at an empty index, not a scan of the table.
      await db.schema
        .createIndex("lock_events_undescribed")
        .on("lock_events")
        .columns(["lock_id", "seq"])
        .where(sql.ref("described"), "=", 0)
        .execute();
    },
  };
}

export const MIGRATION_NAMES = [
  "0001_initial",
  "0002_locks_ingestion",
  "0003_lock_sync",
  "0004_revocations",
  "0005_guest_links",
  "0006_lock_event_columns",
  "0007_doorbells",
  "0008_credential_secrets",
  "0009_channel_presence",
  "0010_calendar_feeds",
  "0011_outbound",
] as const;

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = {
    getMigrations: () =>
      Promise.resolve({
        "0001_initial": initial(dialect),
        "0002_locks_ingestion": locksAndIngestion(dialect),
        "0003_lock_sync": lockSync(),
        "0004_revocations": revocations(),
        "0005_guest_links": guestLinksMigration(),
        "0006_lock_event_columns": lockEventColumns(),
        "0007_doorbells": doorbellsMigration(),
        "0008_credential_secrets": credentialSecretsMigration(dialect),
        "0009_channel_presence": channelPresenceMigration(),
        "0010_calendar_feeds": calendarFeedsMigration(),
        "0011_outbound": outboundMigration(),
      }),
  };
  // Kysely looks for its own migration tables in *every* schema unless told which one; with
  // several hub schemas in one PostgreSQL database (tests, or tenants) it could find another
  // schema's table and skip creating its own. Pin it to the connection's current schema.
  const migrationTableSchema =
    dialect === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const { error } = await new Migrator({
    db,
    provider,
    ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
  }).migrateToLatest();
  if (error !== undefined) {
    throw new LatchkeyError("HUB_DATABASE_UNAVAILABLE", "database migration failed", undefined, {
      cause: error,
    });
  }
  // A cheap check that the connection really answers after migrating.
  await sql`select 1`.execute(db);
}
