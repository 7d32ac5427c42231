/**
 * Guest links over HTTP: a guest PIN is returned only as a one-time link; the link opens once
 * (PIN, doors, schedule) for anyone holding it, then says "already opened"; expired and revoked
 * links say so; a wrong token is the plain 404 and is throttled; and no table, response or log
 * line ever holds the PIN or the token in clear.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { sql, type Kysely } from "kysely";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { credentialSealContext, CredentialType, fromHex, openSealedSecret, toHex } from "@latchkey/protocol";
import { registerLock } from "../ingest/locks.js";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, type SignedIn } from "../testing/flows.js";
import { guestLinksMigration } from "../db/migrations/0005-guest-links.js";
import { newGuestToken, openPin, sealPin } from "./guest-link-seal.js";

const stores = await testStores();

describe("guest link sealing", () => {
  it("opens only with the same token and link id", () => {
    const token = newGuestToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sealed = sealPin(token, "link-1", "48291736");
    expect(sealed).not.toContain("48291736");
    expect(openPin(token, "link-1", sealed)).toBe("48291736");
    expect(() => openPin(token, "link-2", sealed)).toThrow();
    expect(() => openPin(newGuestToken(), "link-1", sealed)).toThrow();
    const tampered = Buffer.from(sealed, "base64url");
    tampered[14] = (tampered[14] ?? 0) ^ 1;
    expect(() => openPin(token, "link-1", tampered.toString("base64url"))).toThrow();
  });
});

describe.each(stores)("guest links (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let siteId: string;
  let front: string;
  let back: string;
  const seen: string[] = [];
  const lockPrivate = x25519.utils.randomSecretKey();

  beforeAll(async () => {
    t = await startTestHub(store);
    // Until the lead adds migration 0005_guest_links, apply it here (it is idempotent).
    await guestLinksMigration().up(t.hub.ctx.db as unknown as Kysely<unknown>);
    owner = await createOwner(t);
    const c = owner.client;
    siteId = (await c.post("/api/v1/sites", { name: "Seaside flat", timezone: "Europe/Paris" })).json<{
      id: string;
    }>().id;
    front = (
      await c.post(`/api/v1/sites/${siteId}/doors`, {
        name: "Front door",
        lockPublicKey: toHex(x25519.getPublicKey(lockPrivate)),
      })
    ).json<{ id: string }>().id;
    back = (await c.post(`/api/v1/sites/${siteId}/doors`, { name: "Garden gate" })).json<{ id: string }>().id;
    await registerLock(t.hub.ledger.db, {
      signingPublicKey: ed25519.getPublicKey(ed25519.utils.randomSecretKey()),
      channelPublicKey: x25519.getPublicKey(lockPrivate),
      doorId: front,
      commissionedAt: t.clock.now,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function guest(name: string): Promise<string> {
    const r = await owner.client.post(`/api/v1/sites/${siteId}/people`, { name });
    expect(r.statusCode).toBe(201);
    const id = r.json<{ id: string }>().id;
    const g = await owner.client.post(`/api/v1/people/${id}/grants`, {
      doorIds: [front, back],
      category: "cleaner",
      schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
    });
    expect(g.statusCode).toBe(201);
    return id;
  }

  async function guestPin(personId: string, body: Record<string, unknown> = {}) {
    const r = await owner.client.post(`/api/v1/people/${personId}/guest-pin`, { length: 12, ...body });
    expect(r.statusCode, r.body).toBe(201);
    const json = r.json<{
      credential: { id: string; kind: string; sealedForDoors: string[] };
      guestLink: { id: string; url: string; expiresAt: number };
    }>();
    const url = new URL(json.guestLink.url);
    expect(url.pathname).toBe("/guest");
    const token = url.hash.slice(1);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    seen.push(token);
    return { ...json, token, body: r.body };
  }

  function open(token: string) {
    // A fresh client: no account, no cookie, as a guest's browser.
    return t.client().post("/api/v1/guest/open", { token });
  }

  it("returns a link, never the PIN; the link opens once with the PIN, doors and schedule", async () => {
    const ann = await guest("Ann");
    const created = await guestPin(ann, { label: "Cleaner's PIN" });
    expect(created.credential.kind).toBe("pin");
    expect(created.credential.sealedForDoors).toEqual([front]);
    expect(created).not.toHaveProperty("pin");
    expect(created.guestLink.expiresAt).toBe(t.clock.now + 7 * 86_400_000);

    const r = await open(created.token);
    expect(r.statusCode, r.body).toBe(200);
    const view = r.json<{
      pin: string;
      personName: string;
      siteName: string;
      timeZone: string;
      access: { doors: string[]; category: string; schedule: unknown; status: string }[];
    }>();
    expect(view.pin).toMatch(/^\d{12}$/);
    seen.push(view.pin);
    expect(created.body).not.toContain(view.pin);
    // It is the credential's PIN: the copy sealed to the front door's lock holds it (only the
    // lock's key opens it; the hub keeps no hash of it).
    const seal = await t.hub.ledger.db
      .selectFrom("credential_sync")
      .selectAll()
      .where("credential_id", "=", created.credential.id)
      .executeTakeFirstOrThrow();
    const context = credentialSealContext({
      lockId: fromHex(seal.lock_id),
      credentialType: CredentialType.PIN,
      userIndex: Number(seal.user_index),
      credentialIndex: Number(seal.credential_index),
    });
    expect(new TextDecoder().decode(openSealedSecret(lockPrivate, fromHex(seal.sealed ?? ""), context))).toBe(
      view.pin,
    );
    expect(view).toMatchObject({ personName: "Ann", siteName: "Seaside flat", timeZone: "Europe/Paris" });
    expect(view.access).toEqual([
      {
        doors: ["Front door", "Garden gate"],
        category: "cleaner",
        schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
        validFrom: null,
        validUntil: null,
        maxUses: null,
        expiresAfterFirstUseSeconds: null,
        status: expect.any(String) as unknown,
      },
    ]);

    const again = await open(created.token);
    expect(again.statusCode).toBe(410);
    expect(again.json().code).toBe("HUB_GUEST_LINK_OPENED");
    expect(again.body).not.toContain(view.pin);
    // The owner's list shows the credential, never the PIN.
    const list = await owner.client.get(`/api/v1/people/${ann}/credentials`);
    expect(list.body).not.toContain(view.pin);
  });

  it("an expired link no longer opens, and its sealed PIN is destroyed", async () => {
    const bo = await guest("Bo");
    const created = await guestPin(bo, { expiresInDays: 1 });
    t.clock.now += 86_400_000;
    const r = await open(created.token);
    // Back to the owner's session time (a day later it would have ended).
    t.clock.now -= 86_400_000;
    expect(r.statusCode).toBe(410);
    expect(r.json().code).toBe("HUB_GUEST_LINK_EXPIRED");
    const row = await t.hub.ctx.db
      .withTables<{ guest_links: { id: string; sealed_pin: string | null } }>()
      .selectFrom("guest_links")
      .select("sealed_pin")
      .where("id", "=", created.guestLink.id)
      .executeTakeFirstOrThrow();
    expect(row.sealed_pin).toBeNull();
  });

  it("refuses expiry beyond 30 days", async () => {
    const cy = await guest("Cy");
    const r = await owner.client.post(`/api/v1/people/${cy}/guest-pin`, { expiresInDays: 31 });
    expect(r.statusCode).toBe(400);
    expect((await owner.client.get(`/api/v1/people/${cy}/credentials`)).json().items).toEqual([]);
  });

  it("a revoked credential's link no longer opens", async () => {
    const di = await guest("Di");
    const created = await guestPin(di);
    const rv = await owner.client.post(`/api/v1/credentials/${created.credential.id}/revoke`);
    expect(rv.statusCode).toBe(200);
    const r = await open(created.token);
    expect(r.statusCode).toBe(410);
    expect(r.json().code).toBe("HUB_GUEST_LINK_REVOKED");
  });

  it("a removed person's link no longer opens", async () => {
    const ed = await guest("Ed");
    const created = await guestPin(ed);
    // As deleting the person does (DELETE /people/:id currently trips over credential_sync rows
    // at a site with a bound lock, so the rows are removed directly here).
    await t.hub.ledger.db
      .deleteFrom("credential_sync")
      .where("credential_id", "=", created.credential.id)
      .execute();
    await t.hub.ctx.db.deleteFrom("credentials").where("person_id", "=", ed).execute();
    const r = await open(created.token);
    expect(r.statusCode).toBe(410);
    expect(r.json().code).toBe("HUB_GUEST_LINK_REVOKED");
  });

  it("the database, responses and logs never hold a PIN or a token in clear", async () => {
    expect(seen.length).toBeGreaterThan(4);
    const tables = await t.hub.ctx.db.introspection.getTables();
    expect(tables.map((x) => x.name)).toContain("guest_links");
    let dump = "";
    for (const table of tables) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(
        t.hub.ctx.db,
      );
      dump += JSON.stringify(rows.rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    }
    expect(dump.length).toBeGreaterThan(1000);
    const logs = t.logs.text();
    for (const secret of seen) {
      expect(dump).not.toContain(secret);
      expect(logs).not.toContain(secret);
      expect(dump).not.toContain(Buffer.from(secret, "base64url").toString("hex"));
    }
  });

  it("a wrong token is the same 404 as none, counted and throttled per address", async () => {
    const unknown = await open(newGuestToken());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
    const badShape = await open("short");
    expect(badShape.statusCode).toBe(400);
    let last = unknown;
    for (let i = 0; i < 25 && last.statusCode !== 429; i++) last = await open(newGuestToken());
    expect(last.statusCode).toBe(429);
    expect(last.json().code).toBe("AUTH_RATE_LIMITED");
    // Even a good token waits while the address is throttled.
    const fi = await guest("Fi");
    const created = await guestPin(fi);
    expect((await open(created.token)).statusCode).toBe(429);
    await t.hub.ctx.throttle.reset("ip:127.0.0.1");
    expect((await open(created.token)).statusCode).toBe(200);
  });
});
