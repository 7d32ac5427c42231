/**
 * Notification channels end to end, on a real hub (SQLite file and PostgreSQL): the owner adds a
 * signed webhook; a local receiver verifies every delivery with the Standard Webhooks reference
 * library; alerts raised by the hub reach it; failures are retried on schedule and logged; a
 * queued delivery survives a restart; nothing secret is answered, logged or stored in clear.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Kysely } from "kysely";
import { Webhook } from "standardwebhooks";
import type { HubDatabase } from "../db/schema.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { testStores } from "../testing/stores.js";
import { insertAlerts, AlertKind } from "../ingest/alerts.js";
import { createDoor, createSite } from "../sites/sites.js";
import { listDeliveries, RETRY_DELAYS_MS } from "./outbox.js";
import { outboundDb } from "./outbound-tables.js";

interface Received {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** A webhook receiver: answers the queued statuses first (then 204), keeps what it got. */
class Receiver {
  readonly received: Received[] = [];
  readonly statuses: number[] = [];
  #server: Server | null = null;
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.statusCode = this.statuses.shift() ?? 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/latchkey?token=query-secret-123`;
  }

  /** Checks one delivery as a receiver would, with the reference library; answers its JSON. */
  verify(secret: string, r: Received): { type: string; data: Record<string, unknown> } {
    const headers = {
      "webhook-id": String(r.headers["webhook-id"]),
      "webhook-timestamp": String(r.headers["webhook-timestamp"]),
      "webhook-signature": String(r.headers["webhook-signature"]),
    };
    return new Webhook(secret).verify(r.body, headers) as { type: string; data: Record<string, unknown> };
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

function hubDb(t: TestHub): Kysely<HubDatabase> {
  return t.hub.ctx.db as unknown as Kysely<HubDatabase>;
}

/** A lock row on a door, as commissioning leaves it (enough for an alert to name its door). */
async function addLock(t: TestHub, id: string, doorId: string, siteId: string): Promise<void> {
  await hubDb(t)
    .insertInto("locks")
    .values({
      id,
      signing_public_key: "00".repeat(32),
      channel_public_key: null,
      door_id: doorId,
      commissioned_at: t.clock.now,
      cursor_seq: 0,
      cursor_hash: "00".repeat(32),
      cursor_ledger_index: null,
      last_ingest_at: null,
      commissioning_record: null,
      site_id: siteId,
      last_seen_at: null,
      clock_drift_ms: null,
      state_json: null,
      state_at: null,
    })
    .execute();
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

const stores = await testStores();
const receiver = new Receiver();
beforeAll(() => receiver.start());
afterAll(() => receiver.close());

describe.each(stores)("notification channels (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  afterEach(async () => {
    await t.close();
    receiver.received.length = 0;
    receiver.statuses.length = 0;
  });

  async function addWebhook(events?: string[]): Promise<{ id: string; secret: string }> {
    await stepUp(t, owner);
    const r = await owner.client.post("/api/v1/notification-channels", {
      kind: "webhook",
      name: "Insurer's intake",
      settings: { url: receiver.url },
      ...(events === undefined ? {} : { events }),
    });
    expect(r.statusCode, r.body).toBe(201);
    const body = r.json<{ channel: { id: string; settings: Record<string, unknown> }; secret: string }>();
    // Shown: the host. Not shown: the URL (its query carries a token) or, after this answer, the secret.
    expect(body.channel.settings).toEqual({ host: new URL(receiver.url).host });
    expect(body.secret).toMatch(/^whsec_/);
    return { id: body.channel.id, secret: body.secret };
  }

  it("a test notification is signed, verified by the receiver, and logged as sent; no secret is answered or stored in clear", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const { id, secret } = await addWebhook();

    const test = await owner.client.post(`/api/v1/notification-channels/${id}/test`);
    expect(test.statusCode, test.body).toBe(200);
    expect(test.json<{ state: string; attempts: number }>()).toMatchObject({ state: "sent", attempts: 1 });
    expect(receiver.received).toHaveLength(1);
    const event = receiver.verify(secret, receiver.received[0]!);
    expect(event.type).toBe("test");
    expect(event.data.title).toBe("Latchkey test notification");
    // A wrong secret does not verify: the check above is real.
    expect(() =>
      receiver.verify(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, receiver.received[0]!),
    ).toThrow();

    const list = await owner.client.get("/api/v1/notification-channels");
    const log = await owner.client.get(`/api/v1/notification-channels/${id}/deliveries`);
    expect(log.json<{ items: { state: string; event: string }[] }>().items).toMatchObject([
      { state: "sent", event: "test" },
    ]);
    for (const answer of [list.body, log.body, test.body, t.logs.text()]) {
      expect(answer).not.toContain(secret.slice(6));
      expect(answer).not.toContain("query-secret-123");
    }
    if (store === "sqlite") {
      for (const file of allFiles(t.dataDir)) {
        const bytes = readFileSync(file).toString("latin1");
        expect(bytes, file).not.toContain(secret.slice(6));
        expect(bytes, file).not.toContain("query-secret-123");
      }
    }
  });

  it("an alert reaches the channels that want it, worded with its door; others and turned-off channels get nothing", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const wantsAlerts = await addWebhook();
    const wantsTestsOnly = await addWebhook(["test"]);
    const ctx = t.hub.ctx;
    const site = await createSite(ctx, { name: "Harbour flat", timezone: "Europe/London" });
    const door = await createDoor(ctx, site.id, { name: "Front door" });
    await addLock(t, "a1b2c3d4e5f60718", door.id, site.id);

    await insertAlerts(
      hubDb(t),
      [{ kind: AlertKind.LockOffline, lockId: "a1b2c3d4e5f60718", details: { since: 1 } }],
      t.clock.now,
    );
    await ctx.outbox.dispatchDue();
    expect(receiver.received).toHaveLength(1);
    const event = receiver.verify(wantsAlerts.secret, receiver.received[0]!);
    expect(event.type).toBe("alert.lock-offline");
    expect(event.data).toMatchObject({
      title: "Front door is offline",
      kind: "lock-offline",
      doorId: door.id,
      siteId: site.id,
      url: "http://hub.test:8080/#/",
    });
    expect(() => receiver.verify(wantsTestsOnly.secret, receiver.received[0]!)).toThrow();

    await stepUp(t, owner);
    const off = await owner.client.patch(`/api/v1/notification-channels/${wantsAlerts.id}`, {
      enabled: false,
    });
    expect(off.statusCode, off.body).toBe(200);
    await insertAlerts(
      hubDb(t),
      [{ kind: AlertKind.SyncDrift, lockId: "a1b2c3d4e5f60718", details: {} }],
      t.clock.now,
    );
    await ctx.outbox.dispatchDue();
    expect(receiver.received).toHaveLength(1);
  });

  it("an unlock request reaches approvers with a button to the page where their passkey signs", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const { secret } = await addWebhook(["approval.*"]);
    const ctx = t.hub.ctx;
    const site = await createSite(ctx, { name: "Studio", timezone: "Europe/Paris" });
    const door = await createDoor(ctx, site.id, { name: "Street door" });
    await addLock(t, "5555666677778888", door.id, site.id);
    const request = await ctx.unlockRequests.create({
      doorId: door.id,
      requestedBy: { kind: "doorbell" },
      note: "Parcel for flat 2",
      snapshot: null,
    });
    await ctx.outbox.dispatchDue();
    expect(receiver.received).toHaveLength(1);
    const event = receiver.verify(secret, receiver.received[0]!);
    expect(event).toMatchObject({
      type: "approval.requested",
      data: {
        title: "Unlock requested at Street door",
        requestId: request.id,
        priority: "high",
        actions: [{ label: "Review", url: `http://hub.test:8080/#/sites/${site.id}/unlock-requests` }],
      },
    });
    expect(String(event.data.body)).toContain('Asked by the doorbell: "Parcel for flat 2"');
    // The message opens the page; approving still needs the passkey there.
    expect(ctx.unlockRequests.get(site.id, request.id).status).toBe("pending");
  });

  it("a failing receiver is retried on schedule, a permanent refusal is not, and each outcome is in the log", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const { id } = await addWebhook(["test"]);
    receiver.statuses.push(503, 429);
    const first = await owner.client.post(`/api/v1/notification-channels/${id}/test`);
    expect(first.json()).toMatchObject({
      state: "pending",
      attempts: 1,
      lastResult: expect.stringContaining("503"),
    });
    expect(first.json<{ nextAttemptAt: number }>().nextAttemptAt).toBeGreaterThan(t.clock.now);

    await t.hub.ctx.outbox.dispatchDue(); // not due yet: nothing sent
    expect(receiver.received).toHaveLength(1);
    t.clock.now += (RETRY_DELAYS_MS[0] ?? 0) * 1.2;
    await t.hub.ctx.outbox.dispatchDue();
    t.clock.now += (RETRY_DELAYS_MS[1] ?? 0) * 1.2;
    await t.hub.ctx.outbox.dispatchDue();
    expect(receiver.received).toHaveLength(3);
    // Every attempt carries the same message id, for the receiver to de-duplicate.
    expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const log = await owner.client.get(`/api/v1/notification-channels/${id}/deliveries`);
    expect(log.json<{ items: unknown[] }>().items).toMatchObject([{ state: "sent", attempts: 3 }]);

    receiver.statuses.push(410);
    const gone = await owner.client.post(`/api/v1/notification-channels/${id}/test`);
    expect(gone.json()).toMatchObject({
      state: "failed",
      attempts: 1,
      lastResult: expect.stringContaining("410"),
    });
  });

  it("a delivery queued when the hub stops is sent after it starts again", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const { id, secret } = await addWebhook();
    const ctx = t.hub.ctx;
    const site = await createSite(ctx, { name: "Depot", timezone: "UTC" });
    const door = await createDoor(ctx, site.id, { name: "Loading bay" });
    await addLock(t, "0102030405060708", door.id, site.id);
    await ctx.outbox.stop(); // as after a crash: queued, not sent
    await insertAlerts(
      hubDb(t),
      [{ kind: AlertKind.CheckpointFork, lockId: "0102030405060708", details: {} }],
      t.clock.now,
    );
    const queued = await outboundDb(ctx.db)
      .selectFrom("outbound_deliveries")
      .selectAll()
      .where("channel_id", "=", id)
      .execute();
    expect(queued).toMatchObject([{ state: "pending", attempts: 0 }]);

    const pgSchema = t.hub.ctx.config.pgSchema;
    await t.hub.close();

    // The hub starts again on the same store: its outbox sends what was queued.
    const again = await startTestHub(store, {
      dataDir: t.dataDir,
      ...(pgSchema === undefined ? {} : { pgSchema }),
    });
    // Its clock goes on from where the first hub's stopped (the fixture starts each at one instant).
    again.clock.now = t.clock.now;
    try {
      for (let i = 0; i < 100 && receiver.received.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(receiver.received).toHaveLength(1);
      expect(receiver.verify(secret, receiver.received[0]!).type).toBe("alert.checkpoint-fork");
    } finally {
      await again.hub.close();
    }
  });

  it("the same alert is sent once per window, a channel's hourly limit holds, and quiet hours hold all but urgent alerts", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const { id } = await addWebhook();
    await stepUp(t, owner);
    const tuned = await owner.client.patch(`/api/v1/notification-channels/${id}`, {
      dedupeMinutes: 15,
      maxPerHour: 3,
      quietHours: { start: "22:00", end: "07:00", timeZone: "Europe/London" },
    });
    expect(tuned.json()).toMatchObject({ dedupeMinutes: 15, maxPerHour: 3, quietHours: { start: "22:00" } });
    const ctx = t.hub.ctx;
    const site = await createSite(ctx, { name: "Mill", timezone: "Europe/London" });
    const door = await createDoor(ctx, site.id, { name: "Side gate" });
    await addLock(t, "1111222233334444", door.id, site.id);
    const raise = async (kind: (typeof AlertKind)[keyof typeof AlertKind]) => {
      await insertAlerts(hubDb(t), [{ kind, lockId: "1111222233334444", details: {} }], t.clock.now);
      await ctx.outbox.dispatchDue();
    };
    // Read directly: the owner's session does not outlive the night the clock skips below.
    const log = () => listDeliveries(ctx.db, id, 100);

    // 12:00 GMT: outside quiet hours.
    await raise(AlertKind.LockOffline);
    await raise(AlertKind.LockOffline); // the same, at once: de-duplicated
    await raise(AlertKind.SyncDrift);
    t.clock.now += 16 * 60_000;
    await raise(AlertKind.LockOffline); // the window has passed: sent
    await raise(AlertKind.IngestGap); // a fourth within the hour: over the limit
    expect(receiver.received.map((r) => JSON.parse(r.body) as { type: string }).map((b) => b.type)).toEqual([
      "alert.lock-offline",
      "alert.sync-drift",
      "alert.lock-offline",
    ]);
    const states = (await log()).map((d) => `${d.event} ${d.state} ${d.lastResult ?? ""}`.trim());
    expect(states).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^alert\.lock-offline suppressed same as a message 0 min ago/),
        expect.stringMatching(/^alert\.ingest-gap suppressed over this channel's limit of 3 an hour/),
      ]),
    );

    // 23:00 GMT, a new hour: a high-priority alert waits until 07:00; an urgent one goes now.
    t.clock.now = Date.UTC(2026, 10, 20, 23, 0, 0);
    await raise(AlertKind.Jammed);
    await raise(AlertKind.DoorForced);
    expect(receiver.received).toHaveLength(4);
    expect((JSON.parse(receiver.received[3]!.body) as { type: string }).type).toBe("alert.door-forced");
    const held = (await log()).find((d) => d.event === "alert.jammed");
    expect(held).toMatchObject({ state: "pending", lastResult: "held for quiet hours" });
    expect(held?.nextAttemptAt).toBe(Date.UTC(2026, 10, 21, 7, 0, 0));
    t.clock.now = Date.UTC(2026, 10, 21, 7, 0, 0);
    await ctx.outbox.dispatchDue();
    expect((JSON.parse(receiver.received[4]!.body) as { type: string }).type).toBe("alert.jammed");
  });

  it("refuses bad settings with the field named, and only the owner may manage channels", async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    await stepUp(t, owner);
    const bad = await owner.client.post("/api/v1/notification-channels", {
      kind: "webhook",
      name: "x",
      settings: { url: "ftp://example.com/", secret: "whsec_short" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: "HUB_BAD_REQUEST", details: { field: "url" } });
    const badEvents = await owner.client.post("/api/v1/notification-channels", {
      kind: "ntfy",
      name: "x",
      settings: { server: "https://ntfy.sh", topic: "latchkey-test" },
      events: ["alert.**"],
    });
    expect(badEvents.json()).toMatchObject({
      code: "HUB_BAD_REQUEST",
      details: { field: expect.stringContaining("events") as string },
    });
    const count = await outboundDb(t.hub.ctx.db).selectFrom("notification_channels").select("id").execute();
    expect(count).toEqual([]);
  });
});
