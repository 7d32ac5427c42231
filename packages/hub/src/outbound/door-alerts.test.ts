/**
 * What happens at a door reaches people: a virtual lock over MQTT (its own process state, the
 * hub's embedded broker, a real SQLite file) is given wrong codes until it locks its keypad, then
 * forced open; its signed alarms are ingested and sealed, raised as alerts, and delivered to two
 * channels — a Standard Webhooks receiver and a local server speaking ntfy's publish API. A duress
 * alarm goes only to a channel that names it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { AlarmCode, EventKind } from "@latchkey/protocol";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { brokerTargets, eventually, FAST_SYNC } from "../testing/sync-support.js";
import { commissionSite } from "../testing/sync-faults.js";
import { SimLock } from "../sim/sim-lock.js";
import { quickSimLock } from "../sim/test-support.js";
import { doorEventAlerts } from "../ingest/door-alerts.js";
import { AlertKind } from "../ingest/alerts.js";
import { eventMatches } from "./outbox.js";

/** A local HTTP endpoint that keeps what it is sent. */
async function endpoint(): Promise<{
  url: string;
  got: { headers: Record<string, unknown>; body: string }[];
  close(): Promise<void>;
}> {
  const got: { headers: Record<string, unknown>; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.setHeader("content-type", "application/json");
      // ntfy answers the message it stored; a webhook receiver's body is ignored.
      res.end(JSON.stringify({ id: randomBytes(6).toString("hex"), event: "message" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("door alarms become alerts and notifications", () => {
  let t: TestHub;
  let owner: SignedIn;
  let lock: SimLock;
  let dir: string;
  let webhook: Awaited<ReturnType<typeof endpoint>>;
  let ntfy: Awaited<ReturnType<typeof endpoint>>;
  let secret: string;
  let siteId: string;

  beforeAll(async () => {
    const targets = await brokerTargets();
    const target = targets.find((x) => x.name === "embedded");
    if (target === undefined) throw new Error("the embedded broker is always a target");
    dir = mkdtempSync(join(tmpdir(), "latchkey-door-alerts-"));
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    t = await startTestHub("sqlite", { ...target.hubConfig, topicPrefix, syncPolicy: FAST_SYNC });
    owner = await createOwner(t);
    lock = await SimLock.start(
      quickSimLock({ dir: join(dir, "front"), url: target.lockUrl(t), topicPrefix, wallMs: t.clock.now }),
    );
    siteId = (await commissionSite(t, owner, [lock])).siteId;
    webhook = await endpoint();
    ntfy = await endpoint();
    await stepUp(t, owner);
    const hook = await owner.client.post("/api/v1/notification-channels", {
      kind: "webhook",
      name: "Alarm company",
      settings: { url: `${webhook.url}/latchkey` },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    secret = hook.json<{ secret: string }>().secret;
    const phone = await owner.client.post("/api/v1/notification-channels", {
      kind: "ntfy",
      name: "My phone",
      settings: { server: ntfy.url, topic: "front-door-alerts" },
    });
    expect(phone.statusCode, phone.body).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await lock?.stop();
    await t?.close();
    await webhook?.close();
    await ntfy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("wrong codes until the keypad locks, then the door forced: both reach both channels, worded with the door", async () => {
    const runtime = lock.lock.runtime;
    for (let i = 0; i < 5; i++) expect(lock.lock.enterPin(`90${i}1`).granted).toBe(false);
    runtime.lockButton();
    lock.lock.openDoor(); // the bolt is thrown: forced

    const events = (): string[] =>
      webhook.got.map((r) => {
        const headers = {
          "webhook-id": String(r.headers["webhook-id"]),
          "webhook-timestamp": String(r.headers["webhook-timestamp"]),
          "webhook-signature": String(r.headers["webhook-signature"]),
        };
        return (new Webhook(secret).verify(r.body, headers) as { type: string }).type;
      });
    await eventually("the webhook receiver has the lockout and the forced door", () => {
      const seen = events();
      return seen.includes("alert.lockout") && seen.includes("alert.door-forced");
    });
    await eventually("ntfy has them too", () => ntfy.got.length >= 2);
    const published = ntfy.got.map(
      (r) => JSON.parse(r.body) as { topic: string; title: string; priority: number },
    );
    expect(published).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          topic: "front-door-alerts",
          title: "Too many wrong codes at Door 1",
          priority: 4,
        }),
        expect.objectContaining({ topic: "front-door-alerts", title: "Door 1 was forced", priority: 5 }),
      ]),
    );
    // The dashboard's alerts agree with the alarms: both are open alerts of the site.
    const open = await owner.client.get(`/api/v1/sites/${siteId}/alerts`);
    expect(open.statusCode, open.body).toBe(200);
    expect(open.json<{ items: { kind: string }[] }>().items.map((a) => a.kind)).toEqual(
      expect.arrayContaining(["lockout", "door-forced"]),
    );
    // No code, wrong or right, is in anything sent.
    for (const r of [...webhook.got, ...ntfy.got])
      for (let i = 0; i < 5; i++) expect(r.body).not.toContain(`90${i}1`);
  }, 60_000);
});

describe("which alarms raise which alerts", () => {
  const event = (alarm: string, seq: number) =>
    ({ kind: EventKind.Alarm, seq, lockTime: 1_800_000_000_000, details: { alarm } }) as never;

  it("maps each alarm code to its alert, and ignores the rest", () => {
    const alerts = doorEventAlerts("lock-1", [
      event(AlarmCode.DoorForcedOpen, 1),
      event(AlarmCode.Drilling, 2),
      event(AlarmCode.FrontEscutcheonRemoved, 3),
      event(AlarmCode.LockJammed, 4),
      event(AlarmCode.WrongCodeEntryLimit, 5),
      event(AlarmCode.ForcedUser, 6),
      event(AlarmCode.BatteryCritical, 7),
      event(AlarmCode.DoorAjar, 8),
      event(AlarmCode.LockRadioPowerCycled, 9),
      { kind: EventKind.Heartbeat, seq: 10, lockTime: null, details: {} } as never,
    ]);
    expect(alerts.map((a) => a.kind)).toEqual([
      AlertKind.DoorForced,
      AlertKind.DoorForced,
      AlertKind.Tamper,
      AlertKind.Jammed,
      AlertKind.Lockout,
      AlertKind.Duress,
      AlertKind.BatteryLow,
      AlertKind.DoorHeldOpen,
    ]);
    expect(alerts[5]).toEqual({
      kind: "duress",
      lockId: "lock-1",
      details: { alarm: "ForcedUser", seq: 6, lockTime: 1_800_000_000_000 },
    });
  });

  it("a duress alert goes only to channels that name it; wildcards do not carry it", () => {
    expect(eventMatches(["alert.*"], "alert.duress")).toBe(false);
    expect(eventMatches(["*"], "alert.duress")).toBe(false);
    expect(eventMatches(["alert.duress"], "alert.duress")).toBe(true);
    expect(eventMatches(["alert.*"], "alert.door-forced")).toBe(true);
    expect(eventMatches(["alert.lockout"], "alert.door-forced")).toBe(false);
    expect(eventMatches(["test"], "alert.lockout")).toBe(false);
  });
});
