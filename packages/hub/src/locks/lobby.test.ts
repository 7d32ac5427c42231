/**
 * Commissioning under abuse, against a real hub (SQLite, embedded broker with its TCP listener on
 * loopback) and real virtual locks: fake announcers connect from other loopback addresses
 * (127.0.0.2–5 are other machines as far as the broker can tell) as commissioning clients and
 * publish `CommAnnounce` frames, forged, replayed or bit-flipped. Nothing they send needs a secret.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MqttClient } from "mqtt";
import { encodeMessage, fromHex } from "@latchkey/protocol";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually } from "../testing/sync-support.js";
import { COMMISSIONING_USERNAME, TopicScheme } from "@latchkey/lock/mqtt";
import { DeviceGateway } from "../gateway/device-gateway.js";
import { CommissioningLobby } from "./lobby.js";

interface Announcer {
  readonly sessionId: string;
  readonly client: MqttClient;
  announce(lockId: string): Promise<void>;
  end(): Promise<void>;
}

function announcement(lockId: string): Buffer {
  return Buffer.from(encodeMessage(0, { kind: "CommAnnounce", lockId: fromHex(lockId) }));
}

function randomLockId(): string {
  return randomBytes(16).toString("hex");
}

/** A commissioning client from `localAddress`, or null when the broker refuses it. */
async function connectAnnouncer(
  port: number,
  scheme: TopicScheme,
  localAddress: string,
): Promise<Announcer | null> {
  const sessionId = `c${randomBytes(16).toString("hex")}`;
  const client = new MqttClient(() => connect({ host: "127.0.0.1", port, localAddress }), {
    clientId: sessionId,
    username: COMMISSIONING_USERNAME,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
  client.on("error", () => {});
  const accepted = await new Promise<boolean>((resolve) => {
    client.once("connect", () => resolve(true));
    client.once("close", () => resolve(false));
  });
  if (!accepted) {
    await client.endAsync(true);
    return null;
  }
  return {
    sessionId,
    client,
    announce: async (lockId) => {
      await client.publishAsync(scheme.commissionUp(sessionId), announcement(lockId), { qos: 1 });
    },
    end: () => client.endAsync(true),
  };
}

describe("commissioning under abuse", () => {
  let t: TestHub;
  let owner: SignedIn;
  let scheme: TopicScheme;
  let port = 0;
  let siteId = "";
  const doors: string[] = [];
  const dirs: string[] = [];
  const locks: SimLock[] = [];
  const announcers: Announcer[] = [];

  async function announcer(localAddress: string): Promise<Announcer | null> {
    const a = await connectAnnouncer(port, scheme, localAddress);
    if (a !== null) announcers.push(a);
    return a;
  }

  /** Disconnects, and waits until the broker has let go of the connection (its slot is free). */
  async function hangUp(a: Announcer | null): Promise<void> {
    if (a === null) return;
    await a.end();
    await eventually(
      "the broker drops the connection",
      () => t.hub.gateway.broker?.commissioningSource(a.sessionId) === null,
    );
  }

  /** Every announcement published before this returns has reached the hub's lobby. */
  async function barrier(from: string): Promise<void> {
    const marker = randomLockId();
    const a = await announcer(from);
    if (a === null) throw new Error("the marker announcer was refused");
    await a.announce(marker);
    await eventually("the marker reaches the lobby", () => rawWaiting().includes(marker));
    await hangUp(a);
  }

  /** What the lobby holds, before the commissioned-lock filter (for the barrier only). */
  function rawWaiting(): string[] {
    return t.hub.locks.opts.lobby.waiting().map((w) => w.lockId);
  }

  async function listed(): Promise<{ lockId: string; announcers: number }[]> {
    const r = await owner.client.get(`/api/v1/sites/${siteId}/commissioning`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ items: { lockId: string; announcers: number }[] }>().items;
  }

  async function startLock(): Promise<SimLock> {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-lobby-"));
    dirs.push(dir);
    const lock = await SimLock.start({
      dir,
      url: `mqtt://127.0.0.1:${port}`,
      topicPrefix: scheme.prefix,
      announceEveryMs: 200,
      clockTickMs: 0,
      maxRetryMs: 500,
      commissioning: { pbkdf2Iterations: 1000 },
    });
    locks.push(lock);
    return lock;
  }

  beforeAll(async () => {
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    scheme = new TopicScheme(topicPrefix);
    t = await startTestHub("sqlite", { mqttPort: 0, host: "127.0.0.1", topicPrefix });
    port = t.hub.gateway.broker?.port ?? 0;
    owner = await createOwner(t);
    siteId = (await owner.client.post("/api/v1/sites", { name: "Flat", timezone: "Europe/Berlin" })).json<{
      id: string;
    }>().id;
    for (const name of ["Entrance", "Garden", "Cellar"]) {
      const r = await owner.client.post(`/api/v1/sites/${siteId}/doors`, { name });
      doors.push(r.json<{ id: string }>().id);
    }
  });

  afterAll(async () => {
    for (const a of announcers) await a.end();
    for (const l of locks) await l.stop();
    await t?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("keeps a real lock listed and commissionable through 200 fake announcers from four addresses", async () => {
    const sources = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    const attempts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => announcer(sources[i % sources.length] ?? "")),
    );
    const admitted = attempts.filter((a): a is Announcer => a !== null);
    try {
      await Promise.all(admitted.map((a) => a.announce(randomLockId())));
      const lock = await startLock();
      await eventually("the real lock is listed", async () =>
        (await listed()).some((w) => w.lockId === lock.lockId),
      );
      await stepUp(t, owner);
      const r = await owner.client.post(`/api/v1/doors/${doors[0]}/lock`, {
        setupCode: lock.setupCode,
        lockId: lock.lockId,
      });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json<{ id: string }>().id).toBe(lock.lockId);
      // Four per address at most: the other commissioning slots stayed open for everyone else.
      expect(admitted.length).toBe(16);
    } finally {
      for (const a of admitted) await hangUp(a);
    }
  });

  it("never lists a commissioned lock that a forged or replayed announcement names", async () => {
    const commissioned = locks[0]?.lockId ?? "";
    const forger = await announcer("127.0.0.2");
    await forger?.announce(commissioned);
    await eventually("the forged announcement reaches the lobby", () => rawWaiting().includes(commissioned));
    expect((await listed()).map((w) => w.lockId)).not.toContain(commissioned);
    await stepUp(t, owner);
    const r = await owner.client.post(`/api/v1/doors/${doors[1]}/lock`, {
      setupCode: "20202021",
      lockId: commissioned,
    });
    expect(r.json<{ code: string }>().code).toBe("HUB_COMMISSION_NO_LOCK");
    await hangUp(forger);
  });

  it("keeps a waiting session's lock id when a bit-flipped replay on that session names another", async () => {
    const original = randomLockId();
    const flipped = (Number.parseInt(original.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, "0");
    const relabelled = flipped + original.slice(2);
    const session = await announcer("127.0.0.3");
    await session?.announce(original);
    await session?.announce(relabelled);
    await barrier("127.0.0.4");
    const ids = (await listed()).map((w) => w.lockId);
    expect(ids).toContain(original);
    expect(ids).not.toContain(relabelled);
    await hangUp(session);
  });

  it("lists a lock id announced by the lock and by a replayer once, and commissions the real lock", async () => {
    const lock = await startLock();
    await eventually("the lock is listed", async () =>
      (await listed()).some((w) => w.lockId === lock.lockId),
    );
    const replayer = await announcer("127.0.0.5");
    await replayer?.announce(lock.lockId);
    await eventually("both announcements are in", async () =>
      (await listed()).some((w) => w.lockId === lock.lockId && w.announcers === 2),
    );
    expect((await listed()).filter((w) => w.lockId === lock.lockId)).toHaveLength(1);
    await stepUp(t, owner);
    const r = await owner.client.post(`/api/v1/doors/${doors[1]}/lock`, {
      setupCode: lock.setupCode,
      lockId: lock.lockId,
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json<{ id: string }>().id).toBe(lock.lockId);
    await hangUp(replayer);
  });

  it("holds at most four sessions per address however fast one cycles through new ones", async () => {
    const fakes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const a = await announcer("127.0.0.2");
      if (a === null) throw new Error("a cycling announcer was refused");
      const id = randomLockId();
      fakes.push(id);
      await a.announce(id);
      await hangUp(a);
    }
    await barrier("127.0.0.3");
    const held = rawWaiting().filter((id) => fakes.includes(id));
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThanOrEqual(4);
  });
});

describe("a full lobby", () => {
  const scheme = new TopicScheme(`lk-test/${randomBytes(4).toString("hex")}`);
  let gateway: DeviceGateway;
  let lobby: CommissioningLobby;
  const announcers: Announcer[] = [];

  beforeAll(async () => {
    gateway = new DeviceGateway({
      mqttTcp: { host: "127.0.0.1", port: 0 },
      topicPrefix: scheme.prefix,
      deriveLockPassword: () => randomBytes(32).toString("hex"),
      // The broker lets everyone in here: what is under test is the lobby's own bound.
      commissioning: { open: true, maxClients: 1000, maxClientsPerSource: 1000 },
    });
    await gateway.start();
    lobby = new CommissioningLobby(gateway, { maxWaiting: 6, maxPerSource: 4 });
  });
  afterAll(async () => {
    for (const a of announcers) await a.end();
    lobby?.close();
    await gateway?.close();
  });

  async function announce(from: string, lockId = randomLockId()): Promise<string> {
    const a = await connectAnnouncer(gateway.broker?.port ?? 0, scheme, from);
    if (a === null) throw new Error("refused by the broker");
    announcers.push(a);
    await a.announce(lockId);
    // The gateway hands the frame to the lobby in the same turn as it reports the session.
    await eventually("the lobby has the announcement", () => reported.has(a.sessionId));
    return lockId;
  }

  const reported = new Set<string>();
  beforeAll(() => {
    gateway.on("commissioning", (sessionId) => reported.add(sessionId));
  });

  it("lets a newcomer replace only a session of an address holding more, never one of an address with fewer", async () => {
    for (let i = 0; i < 4; i++) await announce("127.0.0.2");
    for (let i = 0; i < 2; i++) await announce("127.0.0.3");
    expect(lobby.waiting()).toHaveLength(6);
    const real = await announce("127.0.0.4");
    expect(lobby.waiting().map((w) => w.lockId)).toContain(real);
    for (let i = 0; i < 10; i++) {
      await announce("127.0.0.2");
      await announce("127.0.0.3");
    }
    const ids = lobby.waiting().map((w) => w.lockId);
    expect(ids).toContain(real);
    expect(ids.length).toBeLessThanOrEqual(6);
  });
});
