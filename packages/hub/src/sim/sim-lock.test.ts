/**
 * A simulated lock against a real device gateway (embedded broker, TCP): it announces itself on a
 * commissioning topic, the hub commissions it with its setup code, it comes back as itself with
 * the derived broker password, and a hub KK session gets its state report. Then: a restart from
 * its directory, the will on an abrupt drop, a broker restart, and a factory reset.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { LockId } from "@latchkey/protocol";
import { SETUP_CODE_FILE, SimLock, type SimLockOptions } from "./sim-lock.js";
import { TEST_COMMISSIONING, startTestHubSide, tempDir, until, type TestHubSide } from "./test-support.js";

let hub: TestHubSide;
let tmp: { dir: string; remove: () => void };
const sims: SimLock[] = [];

beforeEach(async () => {
  hub = await startTestHubSide();
  tmp = tempDir();
});

afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
  await hub.close();
  tmp.remove();
});

async function startSim(extra: Partial<SimLockOptions> = {}): Promise<SimLock> {
  const sim = await SimLock.start({
    dir: join(tmp.dir, "lock-0001"),
    url: hub.url,
    topicPrefix: hub.topicPrefix,
    commissioning: TEST_COMMISSIONING,
    announceEveryMs: 200,
    reconnectPeriodMs: 100,
    maxRetryMs: 500,
    ...extra,
  });
  sims.push(sim);
  return sim;
}

/** The commissioning session on which the lock announced `lockId`. */
async function announcedSession(lockId: LockId): Promise<string> {
  let found: string | undefined;
  await until(() => {
    found = [...hub.sessions].find(([, s]) => s.announcedLockId === lockId)?.[0];
    return found !== undefined;
  }, "the lock's announcement");
  return found ?? "";
}

async function commission(sim: SimLock): Promise<void> {
  const sessionId = await announcedSession(sim.lockId);
  const identity = await hub.commission(sessionId, sim.setupCode ?? "");
  expect(Buffer.from(identity.lockId).toString("hex")).toBe(sim.lockId);
}

describe("a simulated lock over MQTT", () => {
  it("announces itself, is commissioned, comes back as itself and answers a hub session", async () => {
    const sim = await startSim();
    expect(sim.state).toBe("waiting");
    expect(sim.isCommissioned).toBe(false);
    expect(sim.lockId).toMatch(/^[0-9a-f]{32}$/);
    expect(sim.setupCode).toMatch(/^[0-9]{8}$/);
    // The setup code is kept for a restarted sim, readable by the owner only.
    const file = join(sim.dir, SETUP_CODE_FILE);
    expect(readFileSync(file, "utf8").trim()).toBe(sim.setupCode);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const connected = new Promise<LockId>((resolve) => hub.gateway.once("lockConnected", resolve));
    await commission(sim);
    expect(await connected).toBe(sim.lockId);
    await sim.whenConnected();
    expect(sim.state).toBe("connected");
    expect(sim.isCommissioned).toBe(true);

    const client = await hub.connectHub(sim.lockId);
    const state = await client.getState();
    expect(state.kind).toBe("StateReport");
    client.close();
  });

  it("a restarted sim brings the commissioned lock straight back as itself (setup code kept)", async () => {
    const first = await startSim();
    const code = first.setupCode;
    await commission(first);
    await first.whenConnected();
    await first.stop();
    sims.splice(sims.indexOf(first), 1);
    await until(() => !hub.gateway.isConnected(first.lockId), "the clean disconnect");
    expect(first.state).toBe("stopped");

    const again = await startSim();
    expect(again.lockId).toBe(first.lockId);
    expect(again.setupCode).toBe(code); // from the file: the runtime shows it only at first start
    await again.whenConnected();
    expect(hub.gateway.isConnected(again.lockId)).toBe(true);
    const client = await hub.connectHub(again.lockId);
    expect((await client.getState()).kind).toBe("StateReport");
    client.close();
  });

  it("kill() drops the connection without a goodbye: the broker's will says offline", async () => {
    const sim = await startSim();
    await commission(sim);
    await sim.whenConnected();
    await until(() => hub.gateway.isConnected(sim.lockId), "presence");
    const gone = new Promise<LockId>((resolve) => hub.gateway.once("lockDisconnected", resolve));
    sim.kill();
    expect(await gone).toBe(sim.lockId);
    expect(sim.state).toBe("stopped");
    await expect(sim.whenConnected()).rejects.toMatchObject({ code: "LOCK_POWERED_OFF" });
  });

  it("keeps working across a broker restart", async () => {
    const sim = await startSim();
    await commission(sim);
    await sim.whenConnected();
    await hub.gateway.broker?.stop();
    await until(() => sim.state === "connecting", "the lock to notice");
    await hub.gateway.broker?.start();
    await until(() => hub.gateway.isConnected(sim.lockId) && sim.state === "connected", "reconnect");
    const client = await hub.connectHub(sim.lockId);
    expect((await client.getState()).kind).toBe("StateReport");
    client.close();
  });

  it("after a factory reset it waits for commissioning again, with the same setup code", async () => {
    const sim = await startSim();
    await commission(sim);
    await sim.whenConnected();
    hub.sessions.clear();
    sim.lock.factoryReset();
    await until(() => sim.state === "waiting", "commissioning mode");
    expect(sim.isCommissioned).toBe(false);
    await until(() => !hub.gateway.isConnected(sim.lockId), "the lock's own connection to close");
    // The printed code works again.
    await commission(sim);
    await sim.whenConnected();
    const client = await hub.connectHub(sim.lockId);
    expect((await client.getState()).kind).toBe("StateReport");
    client.close();
  });

  it("a refused commissioning connection is retried until a slot frees up", async () => {
    await hub.close();
    hub = await startTestHubSide({ commissioningMaxClients: 1 });
    const a = await startSim({ dir: join(tmp.dir, "a") });
    const b = await startSim({ dir: join(tmp.dir, "b") });
    expect(a.state).toBe("waiting");
    expect(b.state).toBe("connecting");
    expect(b.lastError?.message).toMatch(/CONNACK/);
    await commission(a);
    await a.whenConnected();
    await until(() => b.state === "waiting", "b to get the freed slot");
    await commission(b);
    await b.whenConnected();
  });
});
