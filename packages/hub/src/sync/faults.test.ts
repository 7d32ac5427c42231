/**
 * Sync under faults (issue: fault tests). Everything real: the hub in-process with its gateway,
 * virtual locks speaking the protocol over MQTT from their own clients, a real SQLite file.
 *
 *  a. A lock offline for a simulated day (heartbeats, PINs typed) catches up on reconnect: a
 *     credential created meanwhile waits `pending` for it while `set` elsewhere, then everything
 *     converges and the ledger holds the lock's whole journal, gapless, once.
 *  b. The broker restarts mid-sync (an aedes broker on a loopback port that this test owns, so
 *     the shared Mosquitto is never touched): everything converges afterwards.
 *  c. One of three locks refuses every credential write: the other two converge, the bad lock's
 *     rows are `failed` with the lock's own code, its breaker opens, and "retry" works.
 *  d. Drift: a PIN programmed at the lock itself raises a `sync-drift` alert and is left alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Aedes } from "aedes";
import { EventKind } from "@latchkey/protocol";
import { VirtualLock } from "@latchkey/lock";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, type SignedIn } from "../testing/flows.js";
import { SimLock, type SimLockOptions } from "../sim/sim-lock.js";
import { DeviceMqttClient } from "@latchkey/lock/mqtt";
import type { HubConfig } from "../config/config.js";
import { brokerTargets, eventually, FAST_SYNC } from "../testing/sync-support.js";
import {
  addPins,
  commissionSite,
  freePort,
  grantedPerson,
  untilLedgerMatchesJournal,
  stateOn,
  syncOf,
  type Site,
} from "../testing/sync-faults.js";

const targets = await brokerTargets();

/** Hub, owner, and a scratch directory for locks; torn down after each test. */
class Bench {
  t!: TestHub;
  owner!: SignedIn;
  readonly locks: SimLock[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), "latchkey-faults-"));
  readonly topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
  lockUrl = "";
  readonly cleanups: (() => Promise<void> | void)[] = [];

  async start(hubConfig: Partial<HubConfig>, lockUrl: (t: TestHub) => string): Promise<void> {
    this.t = await startTestHub("sqlite", {
      ...hubConfig,
      topicPrefix: this.topicPrefix,
      syncPolicy: FAST_SYNC,
    });
    this.lockUrl = lockUrl(this.t);
    this.owner = await createOwner(this.t);
  }

  lockOptions(name: string, extra: Partial<SimLockOptions> = {}): SimLockOptions {
    return {
      dir: join(this.dir, name),
      url: this.lockUrl,
      topicPrefix: this.topicPrefix,
      wallMs: this.t.clock.now,
      clockTickMs: 0,
      announceEveryMs: 200,
      reconnectPeriodMs: 100,
      maxRetryMs: 1_000,
      commissioning: { pbkdf2Iterations: 1000 },
      ...extra,
    };
  }

  async addLocks(names: string[]): Promise<SimLock[]> {
    const out: SimLock[] = [];
    for (const name of names) out.push(await SimLock.start(this.lockOptions(name)));
    this.locks.push(...out);
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.cleanups.reverse()) await c();
    for (const l of this.locks) await l.stop();
    await this.t?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Rows of the lock per state, read from the hub's database. */
async function rowsOn(t: TestHub, lockId: string): Promise<{ state: string; reason: string | null }[]> {
  return t.hub.ledger.db
    .selectFrom("credential_sync")
    .select(["state", "reason"])
    .where("lock_id", "=", lockId)
    .execute();
}

/** PIN slots held by the virtual lock itself. */
function pinSlots(lock: VirtualLock): number[] {
  return lock.runtime
    .credentials()
    .filter((c) => c.type === "PIN")
    .map((c) => c.index)
    .sort((a, b) => a - b);
}

/** Slots the hub believes set on the lock. */
async function setSlots(t: TestHub, lockId: string): Promise<number[]> {
  const rows = await t.hub.ledger.db
    .selectFrom("credential_sync")
    .select("credential_index")
    .where("lock_id", "=", lockId)
    .where("state", "=", "set")
    .execute();
  return rows.map((r) => Number(r.credential_index)).sort((a, b) => a - b);
}

describe.each(targets)("sync faults ($name broker)", (target) => {
  let b: Bench;
  afterEach(async () => {
    await b?.close();
  });

  it("a lock offline for a simulated day catches up on reconnect", async () => {
    b = new Bench();
    await b.start(target.hubConfig, (t) => target.lockUrl(t));
    const [front, back] = await b.addLocks(["front", "back"]);
    if (front === undefined || back === undefined) throw new Error("locks");
    const site = await commissionSite(b.t, b.owner, [front, back]);
    const c = b.owner.client;
    const personId = await grantedPerson(c, site.siteId, site.doors);
    const [first] = await addPins(c, personId, 1);
    if (first === undefined) throw new Error("pin");
    await eventually("the first PIN is set on both locks", async () =>
      (await syncOf(c, first.id)).every((i) => i.state === "set"),
    );

    // The back lock loses its network but keeps running on its own for a day.
    const backId = back.lockId;
    b.t.clock.now += 60_000;
    const wentAway = b.t.clock.now;
    // "Last seen" is the lock's last authenticated answer: one comes within a heartbeat.
    await eventually("the back lock answers after the clock moved", async () => {
      const r = await c.get(`/api/v1/doors/${site.doors[1]}/lock`);
      return (r.json<{ lastSeenAt: number | null }>().lastSeenAt ?? 0) >= wentAway;
    });
    await back.stop();
    b.locks.splice(b.locks.indexOf(back), 1);
    await eventually("the hub sees the back lock offline", async () => {
      const r = await c.get(`/api/v1/doors/${site.doors[1]}/lock`);
      return r.json<{ online: boolean }>().online === false;
    });
    // Going offline keeps its last authenticated answer as "last seen".
    await eventually("the back lock's last contact is recorded", async () => {
      const r = await c.get(`/api/v1/doors/${site.doors[1]}/lock`);
      return (r.json<{ lastSeenAt: number | null }>().lastSeenAt ?? 0) >= wentAway;
    });
    const offline = VirtualLock.start({ dir: back.dir, wallMs: back.lock.clock.wallMs() });
    const seqBefore = offline.runtime.journal.nextSeq;
    const day = 24 * 3600_000;
    for (let elapsed = 0; elapsed < day; elapsed += 300_000) {
      offline.advance(300_000);
      if (elapsed % (3 * 3600_000) === 0) {
        expect(offline.enterPin(first.pin).granted).toBe(true);
        offline.openDoor();
        offline.closeDoor();
        expect(offline.enterPin("000000").granted).toBe(false);
      }
    }
    const heartbeats = offline.runtime.journal
      .read(seqBefore, offline.runtime.journal.nextSeq - seqBefore)
      .filter((e) => e.kind === EventKind.Heartbeat).length;
    expect(heartbeats).toBeGreaterThanOrEqual(280);
    const wallAfterDay = offline.clock.wallMs();
    offline.runtime.shutdown();

    // Meanwhile a new PIN: set on the front lock, waiting for the back one.
    const [second] = await addPins(c, personId, 1);
    if (second === undefined) throw new Error("pin");
    await eventually(
      "the new PIN is set on the front lock",
      async () => (await stateOn(c, second.id, front.lockId)) === "set",
    );
    expect(await stateOn(c, second.id, backId)).toBe("pending");

    // Network back: the lock reconnects, its day of events reaches the ledger, the PIN arrives.
    const again = await SimLock.start(b.lockOptions("back", { wallMs: wallAfterDay }));
    b.locks.push(again);
    await eventually("the new PIN is set on both locks", async () =>
      (await syncOf(c, second.id)).every((i) => i.state === "set"),
    );
    await untilLedgerMatchesJournal(b.t.hub.ledger.ledger, backId, () => again.lock.runtime, 40_000);
    await untilLedgerMatchesJournal(b.t.hub.ledger.ledger, front.lockId, () => front.lock.runtime);
    expect(again.lock.enterPin(second.pin).granted).toBe(true);
    expect(await setSlots(b.t, backId)).toEqual(pinSlots(again.lock));
    const gaps = await b.t.hub.ledger.db
      .selectFrom("alerts")
      .select("kind")
      .where("kind", "=", "ingest-gap")
      .execute();
    expect(gaps).toEqual([]);
  }, 90_000);

  it("one lock refusing every write does not hold up the others", async () => {
    b = new Bench();
    await b.start(target.hubConfig, (t) => target.lockUrl(t));
    const three = await b.addLocks(["a", "b", "bad"]);
    const site = await commissionSite(b.t, b.owner, three);
    const [a, bb, badSim] = three;
    if (a === undefined || bb === undefined || badSim === undefined) throw new Error("locks");
    // The bad lock comes back with no room for any credential: every SetCredential is refused
    // by the lock itself (a Result with its code), as a full or faulty lock would answer.
    const badId = badSim.lockId;
    const badDir = badSim.dir;
    const wall = badSim.lock.clock.wallMs();
    await badSim.stop();
    b.locks.splice(b.locks.indexOf(badSim), 1);
    const bad = VirtualLock.start({ dir: badDir, wallMs: wall, capacity: { credentialsPerType: 0 } });
    const password = bad.runtime.commissioning.brokerPassword();
    if (password === null) throw new Error("not commissioned");
    const device = await DeviceMqttClient.connectLock({
      url: b.lockUrl,
      topicPrefix: b.topicPrefix,
      lockId: badId,
      password,
      reconnectPeriodMs: 100,
    });
    // The MQTT connection carries every session (as in SimLock): a session the hub closes after
    // a breaker trip must leave it up for the hub's next handshake.
    const carrier = device.transport();
    bad.endpoint.accept({
      send: (f) => carrier.send(f),
      onFrame: (h) => carrier.onFrame(h),
      onClose: (h) => carrier.onClose(h),
      close: () => undefined,
    });
    b.cleanups.push(async () => {
      await device.close();
      bad.runtime.shutdown();
    });

    const c = b.owner.client;
    const personId = await grantedPerson(c, site.siteId, site.doors);
    const pins = await addPins(c, personId, 8);
    await eventually("every PIN is set on the two good locks", async () => {
      for (const p of pins) {
        const items = await syncOf(c, p.id);
        if (!items.filter((i) => i.lockId !== badId).every((i) => i.state === "set")) return false;
      }
      return true;
    });
    for (const l of [a, bb]) expect(await setSlots(b.t, l.lockId)).toEqual(pinSlots(l.lock));
    expect(pinSlots(a.lock)).toHaveLength(8);
    await eventually("the bad lock's rows are failed with its code", async () => {
      const rows = await rowsOn(b.t, badId);
      return (
        rows.length === 8 && rows.every((r) => r.state === "failed" && r.reason === "LOCK_CREDENTIAL_INVALID")
      );
    });
    expect(pinSlots(bad)).toEqual([]);
    await eventually("the bad lock's breaker opens", async () => {
      const r = await c.get(`/api/v1/doors/${site.doors[2]}/lock`);
      const until = r.json<{ breakerOpenUntil: number | null }>().breakerOpenUntil;
      return until !== null;
    });
    // The good locks' breakers stay shut.
    for (const door of site.doors.slice(0, 2)) {
      const r = await c.get(`/api/v1/doors/${door}/lock`);
      expect(r.json<{ breakerOpenUntil: number | null }>().breakerOpenUntil).toBeNull();
    }
    const target0 = pins[0];
    if (target0 === undefined) throw new Error("pin");
    const before = (await syncOf(c, target0.id)).find((i) => i.lockId === badId);
    const retry = await c.post(`/api/v1/credentials/${target0.id}/sync/retry`, {});
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json<{ retried: number }>().retried).toBeGreaterThan(0);
    await eventually("the retried row is tried again", async () => {
      const now = (await syncOf(c, target0.id)).find((i) => i.lockId === badId);
      return now !== undefined && now.attempts > (before?.attempts ?? 0) && now.state === "failed";
    });
    const after = (await syncOf(c, target0.id)).find((i) => i.lockId === badId);
    expect(after?.reason).toBe("LOCK_CREDENTIAL_INVALID");
  }, 90_000);

  it("a PIN programmed at the lock raises a sync-drift alert and is not overwritten", async () => {
    b = new Bench();
    await b.start(target.hubConfig, (t) => target.lockUrl(t));
    const locks = await b.addLocks(["x", "y"]);
    const site: Site = await commissionSite(b.t, b.owner, locks);
    const [x] = locks;
    if (x === undefined) throw new Error("locks");
    const c = b.owner.client;
    const personId = await grantedPerson(c, site.siteId, site.doors);
    const [p1] = await addPins(c, personId, 1);
    if (p1 === undefined) throw new Error("pin");
    await eventually("set on both", async () => (await syncOf(c, p1.id)).every((i) => i.state === "set"));
    // Someone programs a code at the keypad (a local admin): user slot 40, PIN slot 77.
    const rt = x.lock.runtime;
    rt.addUser({ name: "" }, 40);
    rt.setPin(40, "493817", 77);
    await eventually("a sync-drift alert names the lock", async () => {
      const alerts = await b.t.hub.ledger.db
        .selectFrom("alerts")
        .selectAll()
        .where("kind", "=", "sync-drift")
        .where("lock_id", "=", x.lockId)
        .execute();
      return alerts.some((a) => {
        const d = JSON.parse(a.details) as { credentialIndex?: number; change?: string };
        return d.credentialIndex === 77 && d.change === "added at the lock";
      });
    });
    // The hub goes on syncing (another PIN lands) and leaves the local code alone.
    const [p2] = await addPins(c, personId, 1);
    if (p2 === undefined) throw new Error("pin");
    await eventually("the next PIN is set on both", async () =>
      (await syncOf(c, p2.id)).every((i) => i.state === "set"),
    );
    expect(pinSlots(x.lock)).toContain(77);
    expect(x.lock.enterPin("493817").granted).toBe(true);
    expect(await stateOn(c, p1.id, x.lockId)).toBe("set");
    const alerts = await b.t.hub.ledger.db
      .selectFrom("alerts")
      .select("details")
      .where("kind", "=", "sync-drift")
      .execute();
    expect(alerts.map((a) => a.details).join("\n")).not.toContain("493817");
    // The owner sees it in the site's alerts, on the lock's door, and can acknowledge it.
    const open = await c.get(`/api/v1/sites/${site.siteId}/alerts`);
    const drift = open
      .json<{
        items: { id: number; kind: string; doorId: string; details: { credentialIndex?: number } }[];
      }>()
      .items.find((a) => a.kind === "sync-drift" && a.details.credentialIndex === 77);
    expect(drift?.doorId).toBe(site.doors[0]);
    const ack = await c.post(`/api/v1/sites/${site.siteId}/alerts/${drift?.id ?? 0}/acknowledge`);
    expect(ack.statusCode, ack.body).toBe(200);
    const after = await c.get(`/api/v1/sites/${site.siteId}/alerts`);
    expect(after.json<{ items: { id: number }[] }>().items.some((a) => a.id === drift?.id)).toBe(false);
    const all = await c.get(`/api/v1/sites/${site.siteId}/alerts?all=true`);
    expect(all.json<{ items: { id: number }[] }>().items.some((a) => a.id === drift?.id)).toBe(true);
    await untilLedgerMatchesJournal(b.t.hub.ledger.ledger, x.lockId, () => x.lock.runtime);
  }, 60_000);
});

/** An aedes broker on a loopback TCP port that can be stopped and started again on that port. */
class OwnBroker {
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.#aedes = aedes;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = this.#aedes = null;
    for (const s of this.#sockets) s.destroy();
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
    if (aedes !== null) await new Promise<void>((r) => aedes.close(() => r()));
  }
}

describe("sync faults (a broker of the test's own)", () => {
  let b: Bench;
  let broker: OwnBroker;
  beforeAll(async () => {
    broker = new OwnBroker(await freePort());
    await broker.start();
  });
  afterAll(async () => {
    await b?.close();
    await broker?.stop();
  });

  it("the broker restarting mid-sync delays nothing for good: everything converges", async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    b = new Bench();
    await b.start({ broker: url }, () => url);
    const locks = await b.addLocks(["one", "two"]);
    const site = await commissionSite(b.t, b.owner, locks);
    const c = b.owner.client;
    const personId = await grantedPerson(c, site.siteId, site.doors);
    const setCount = async (): Promise<number> => {
      const rows = await b.t.hub.ledger.db
        .selectFrom("credential_sync")
        .select("state")
        .where("state", "=", "set")
        .execute();
      return rows.length;
    };
    const pins = await addPins(c, personId, 20);
    await eventually("sync is under way", async () => (await setCount()) > 0, 20_000);
    const midway = await setCount();
    await broker.stop();
    expect(midway).toBeLessThan(40);
    // While the broker is down, more PINs are created and the locks keep working offline.
    pins.push(...(await addPins(c, personId, 5)));
    for (const l of locks) {
      l.lock.openDoor();
      l.lock.closeDoor();
    }
    await broker.start();
    await eventually(
      "every PIN is set on both locks",
      async () => {
        for (const p of pins) if (!(await syncOf(c, p.id)).every((i) => i.state === "set")) return false;
        return true;
      },
      45_000,
    );
    for (const l of locks) {
      expect(await setSlots(b.t, l.lockId)).toEqual(pinSlots(l.lock));
      expect(pinSlots(l.lock)).toHaveLength(25);
      await untilLedgerMatchesJournal(b.t.hub.ledger.ledger, l.lockId, () => l.lock.runtime);
    }
    const last = pins.at(-1);
    for (const l of locks) expect(l.lock.enterPin(last?.pin ?? "").granted).toBe(true);
  }, 90_000);
});
