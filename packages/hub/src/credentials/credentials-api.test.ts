/**
 * People-first access over HTTP: PINs shown once and never again, weak PINs refused (the
 * locks' policy), the same answer for a PIN someone else holds, PINs sealed to bound locks, grants with every schedule shape, step-up on
 * deletion, the audit trail — and no secret in any log line or later response.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { credentialSealContext, CredentialType, fromHex, openSealedSecret, toHex } from "@latchkey/protocol";
import { registerLock } from "../ingest/locks.js";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, OWNER_PASSWORD, stepUp, type SignedIn } from "../testing/flows.js";

const stores = await testStores();

describe.each(stores)("credentials and grants (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let siteId: string;
  let front: string;
  let back: string;
  const lockPrivate = x25519.utils.randomSecretKey();
  let lockId = "";
  const shownPins: string[] = [];

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const c = owner.client;
    siteId = (await c.post("/api/v1/sites", { name: "Home", timezone: "Europe/Paris" })).json<{
      id: string;
    }>().id;
    front = (
      await c.post(`/api/v1/sites/${siteId}/doors`, {
        name: "Front",
        lockPublicKey: toHex(x25519.getPublicKey(lockPrivate)),
      })
    ).json<{ id: string }>().id;
    back = (await c.post(`/api/v1/sites/${siteId}/doors`, { name: "Back" })).json<{ id: string }>().id;
    // The front door's lock, as commissioning records it (identity keys; no device needed here).
    lockId = await registerLock(t.hub.ledger.db, {
      signingPublicKey: ed25519.getPublicKey(ed25519.utils.randomSecretKey()),
      channelPublicKey: x25519.getPublicKey(lockPrivate),
      doorId: front,
      commissionedAt: t.clock.now,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function person(name: string, phone?: string): Promise<string> {
    const r = await owner.client.post(
      `/api/v1/sites/${siteId}/people`,
      phone === undefined ? { name } : { name, phone },
    );
    expect(r.statusCode).toBe(201);
    return r.json<{ id: string }>().id;
  }

  async function grant(personId: string, body: Record<string, unknown>) {
    return owner.client.post(`/api/v1/people/${personId}/grants`, {
      category: "family",
      schedule: { kind: "always" },
      ...body,
    });
  }

  it("shows a generated PIN once, seals it to the bound lock, and never returns it again", async () => {
    const ann = await person("Ann");
    expect((await grant(ann, { doorIds: [front, back] })).statusCode).toBe(201);
    const r = await owner.client.post(`/api/v1/people/${ann}/credentials`, { kind: "pin", length: 8 });
    expect(r.statusCode).toBe(201);
    const { credential, pin } = r.json<{
      credential: { id: string; sealedForDoors: string[] };
      pin: string;
    }>();
    shownPins.push(pin);
    expect(pin).toMatch(/^\d{8}$/);
    expect(credential.sealedForDoors).toEqual([front]);
    const list = await owner.client.get(`/api/v1/people/${ann}/credentials`);
    expect(list.body).not.toContain(pin);
    expect(list.json().items[0]).not.toHaveProperty("pin");
    // Only the lock can read the sealed copy, for the slot it was sealed to; no clear PIN is stored.
    const seal = await t.hub.ledger.db
      .selectFrom("credential_sync")
      .selectAll()
      .where("credential_id", "=", credential.id)
      .executeTakeFirstOrThrow();
    expect(seal.lock_id).toBe(lockId);
    const context = credentialSealContext({
      lockId: fromHex(lockId),
      credentialType: CredentialType.PIN,
      userIndex: Number(seal.user_index),
      credentialIndex: Number(seal.credential_index),
    });
    expect(new TextDecoder().decode(openSealedSecret(lockPrivate, fromHex(seal.sealed ?? ""), context))).toBe(
      pin,
    );
    expect(() => openSealedSecret(lockPrivate, fromHex(seal.sealed ?? ""), `${context}x`)).toThrow();
    const row = await t.hub.ctx.db
      .selectFrom("credentials")
      .selectAll()
      .where("id", "=", credential.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(pin);
    // Nothing the hub could test a guess against: no hash of the PIN, under any name.
    expect(Object.keys(row).sort()).toEqual(
      ["created_at", "id", "kind", "label", "person_id", "revoked_at", "site_id", "status"].sort(),
    );
  });

  it("refuses weak PINs (including digits from the person's phone) and changes nothing", async () => {
    const bo = await person("Bo", "+33 6 12 34 56 78");
    // 4817 and 58392 are fine but short: a lock with default settings refuses fewer than 6 digits.
    for (const pin of ["1234", "0000", "2580", "123123", "345678", "5678", "4817", "58392", "612345"]) {
      const r = await owner.client.post(`/api/v1/people/${bo}/credentials`, { kind: "pin", pin });
      expect(r.statusCode, pin).toBe(422);
      expect(r.json().code).toBe("HUB_PIN_WEAK");
      expect(r.body).not.toContain(pin);
    }
    expect((await owner.client.get(`/api/v1/people/${bo}/credentials`)).json().items).toEqual([]);
  });

  it("gives the same answer whether or not a chosen PIN is someone else's (the lock catches duplicates)", async () => {
    const cy = await person("Cy");
    const di = await person("Di");
    const ed = await person("Ed");
    await grant(cy, { doorIds: [front] });
    await grant(di, { doorIds: [front] });
    await grant(ed, { doorIds: [back] });
    const first = await owner.client.post(`/api/v1/people/${cy}/credentials`, { kind: "pin", pin: "480917" });
    expect(first.statusCode).toBe(201);
    shownPins.push("480917");
    // Di on the same door, with Cy's PIN: the same answer as with any other PIN (no oracle).
    const same = await owner.client.post(`/api/v1/people/${di}/credentials`, { kind: "pin", pin: "480917" });
    expect(same.statusCode).toBe(201);
    expect(same.json<{ credential: { sealedForDoors: string[] } }>().credential.sealedForDoors).toEqual([
      front,
    ]);
    // A grant that puts two equal PINs on one door is accepted too; the lock refuses the second copy.
    expect(
      (await owner.client.post(`/api/v1/people/${ed}/credentials`, { kind: "pin", pin: "480917" }))
        .statusCode,
    ).toBe(201);
    expect((await grant(ed, { doorIds: [front] })).statusCode).toBe(201);
  });

  it("a card keeps only its last four digits, in its label", async () => {
    const flo = await person("Flo");
    const r = await owner.client.post(`/api/v1/people/${flo}/credentials`, {
      kind: "card",
      cardNumber: "04A1B2C3",
    });
    expect(r.statusCode).toBe(201);
    expect(r.json<{ credential: { label: string } }>().credential.label).toBe("Card …B2C3");
    const rows = await t.hub.ctx.db
      .selectFrom("credentials")
      .selectAll()
      .where("person_id", "=", flo)
      .execute();
    expect(JSON.stringify(rows).toLowerCase()).not.toContain("04a1");
    // Enrolling the same card again is for the lock to refuse, not for the hub to recognise.
    const again = await owner.client.post(`/api/v1/people/${flo}/credentials`, {
      kind: "card",
      cardNumber: "04a1b2c3",
    });
    expect(again.statusCode).toBe(201);
  });

  it("grants: send ahead, date range, weekly, one-time, expiring after first use, revoke", async () => {
    const fay = await person("Fay");
    const now = t.clock.now;
    const ahead = await grant(fay, {
      doorIds: [front],
      category: "guest",
      validFrom: now + 86_400_000,
      validUntil: now + 3 * 86_400_000,
    });
    expect(ahead.json()).toMatchObject({ status: "scheduled", category: "guest" });
    const range = await grant(fay, { doorIds: [back], validFrom: now - 1000, validUntil: now + 1000 });
    expect(range.json().status).toBe("active");
    // 12:00 UTC on a Friday = 13:00 in Paris: outside a 10:00–12:00 window.
    const weekly = await grant(fay, {
      doorIds: [front],
      category: "cleaner",
      schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
    });
    expect(weekly.json().status).toBe("outside_window");
    const once = await grant(fay, {
      doorIds: [front],
      category: "contractor",
      maxUses: 1,
      expiresAfterFirstUseSeconds: 3600,
    });
    expect(once.json()).toMatchObject({ status: "active", maxUses: 1, expiresAfterFirstUseSeconds: 3600 });
    const bad = await grant(fay, { doorIds: [front], validFrom: now, validUntil: now });
    expect(bad.json().code).toBe("HUB_GRANT_INVALID");
    const id = range.json<{ id: string }>().id;
    expect((await owner.client.post(`/api/v1/grants/${id}/revoke`)).statusCode).toBe(200);
    expect((await owner.client.get(`/api/v1/grants/${id}`)).json().status).toBe("revoked");
    t.clock.now += 2000;
  });

  it("deleting needs a fresh second factor; without one nothing is deleted", async () => {
    const gil = await person("Gil");
    t.clock.now += 6 * 60_000;
    const refused = await owner.client.delete(`/api/v1/people/${gil}`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("AUTH_STEP_UP_REQUIRED");
    expect((await owner.client.get(`/api/v1/people/${gil}`)).statusCode).toBe(200);
    await stepUp(t, owner);
    expect((await owner.client.delete(`/api/v1/people/${gil}`)).statusCode).toBe(200);
    expect((await owner.client.get(`/api/v1/people/${gil}`)).json().code).toBe("HUB_NOT_FOUND");
  });

  it("records every administrative action with who, what and when, newest first, paged", async () => {
    const page = await owner.client.get(`/api/v1/sites/${siteId}/audit?limit=5`);
    const body = page.json<{
      items: { id: number; action: string; actorAccountId: string; at: number }[];
      nextBefore: string;
    }>();
    expect(body.items).toHaveLength(5);
    expect(body.items[0]?.action).toBe("person.delete");
    expect(body.items.every((e) => e.actorAccountId === owner.accountId && e.at > 0)).toBe(true);
    const next = (
      await owner.client.get(`/api/v1/sites/${siteId}/audit?limit=100&before=${body.nextBefore}`)
    ).json<{ items: { id: number; action: string }[] }>();
    expect(next.items[0]?.id).toBeLessThan(body.items[4]?.id ?? 0);
    const actions = new Set([...body.items, ...next.items].map((e) => e.action));
    for (const a of [
      "site.create",
      "door.create",
      "person.create",
      "credential.create",
      "grant.create",
      "grant.revoke",
    ])
      expect(actions).toContain(a);
  });

  it("no password, PIN, TOTP secret or session token appears in any log line", () => {
    const text = t.logs.text();
    expect(t.logs.lines.length).toBeGreaterThan(30);
    expect(text).not.toContain(OWNER_PASSWORD);
    expect(text).not.toContain(owner.totpSecret);
    for (const pin of shownPins) expect(text).not.toContain(pin);
    const cookie = owner.client.cookie ?? "";
    expect(cookie.length).toBeGreaterThan(20);
    expect(text).not.toContain(cookie.split("=")[1] ?? "");
    expect(text).not.toContain(owner.client.csrf ?? "");
    // Every line is structured JSON.
    for (const line of t.logs.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
