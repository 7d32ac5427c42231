/**
 * Migration 0008_credential_secrets on a hub that has run the old code: every keyed hash of a
 * PIN or card number is gone from the table, and on SQLite from every byte of the database file
 * and its WAL; the column, its index and the dead pin_seals table are gone.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sql, type Kysely } from "kysely";
import { credentialSecretsMigration } from "./0008-credential-secrets.js";
import { testStores } from "../../testing/stores.js";
import { startTestHub, type TestHub } from "../../testing/hub-fixture.js";
import { createOwner } from "../../testing/flows.js";

const stores = await testStores();

describe.each(stores)("migration 0008_credential_secrets (%s)", (store) => {
  let t: TestHub | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("forgets every PIN and card hash the old code kept, and drops pin_seals", async () => {
    t = await startTestHub(store);
    const owner = await createOwner(t);
    const c = owner.client;
    const siteId = (await c.post("/api/v1/sites", { name: "Old", timezone: "UTC" })).json<{ id: string }>()
      .id;
    const personId = (await c.post(`/api/v1/sites/${siteId}/people`, { name: "Ann" })).json<{ id: string }>()
      .id;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await c.post(`/api/v1/people/${personId}/credentials`, { kind: "pin" });
      ids.push(r.json<{ credential: { id: string } }>().credential.id);
    }
    // The database as the old code left it: a keyed hash beside every PIN, the hash index, and
    // the pin_seals table.
    const db = t.hub.ctx.db as unknown as Kysely<unknown>;
    await sql`alter table credentials add column secret_hmac text`.execute(db);
    await sql`create index credentials_hmac on credentials (secret_hmac)`.execute(db);
    await sql`create table pin_seals (credential_id text not null, door_id text not null, lock_public_key text not null, sealed text not null, created_at bigint not null)`.execute(
      db,
    );
    const hashes = ids.map((id, i) => t?.hub.ctx.secret.keyedHash("pin", String(100000 + i * 7919)) ?? id);
    for (const [i, id] of ids.entries())
      await sql`update credentials set secret_hmac = ${hashes[i]} where id = ${id}`.execute(db);
    const files =
      store === "sqlite"
        ? ["latchkey.sqlite", "latchkey.sqlite-wal"].map((f) => join(t?.dataDir ?? "", f))
        : [];
    const onDisk = () =>
      files
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString("latin1"))
        .join("");
    if (store === "sqlite") expect(onDisk()).toContain(hashes[0]);

    // Later migrations (other areas) have run on this database already: apply 0008 itself.
    await credentialSecretsMigration(store).up(db);
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    expect(applied.rows.map((r) => r.name)).toContain("0008_credential_secrets");

    const columns = await sql<{ name: string }>`select * from credentials`.execute(db);
    expect(columns.rows.length).toBe(ids.length);
    for (const row of columns.rows) expect(row).not.toHaveProperty("secret_hmac");
    const seals =
      store === "sqlite"
        ? await sql`select name from sqlite_master where name in ('pin_seals', 'credentials_hmac')`.execute(
            db,
          )
        : await sql`select table_name from information_schema.tables where table_name = 'pin_seals' and table_schema = current_schema()`.execute(
            db,
          );
    expect(seals.rows).toEqual([]);
    // The hub goes on working: a new PIN is created and listed.
    expect((await c.post(`/api/v1/people/${personId}/credentials`, { kind: "pin" })).statusCode).toBe(201);
    if (store === "sqlite") {
      const bytes = onDisk();
      for (const h of hashes) {
        expect(bytes).not.toContain(h);
        expect(bytes).not.toContain(Buffer.from(h, "hex").toString("latin1"));
      }
    }
  });
});
