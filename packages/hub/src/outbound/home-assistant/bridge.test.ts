/**
 * The bridge against the shared Mosquitto (127.0.0.1:1883) with this run's own base topic and
 * discovery prefix, a subscriber standing in for Home Assistant, and a real virtual lock behind
 * `onCommand`. Without Mosquitto the tests are skipped with a message, except under CI=true
 * where that fails.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as tcpConnect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import { VirtualLock, memoryJournalFactory } from "@latchkey/lock";
import { brokerTargets, eventually } from "../../testing/sync-support.js";
import { HomeAssistantBridge, type CommandResult, type DoorSnapshot, type LockCommand } from "./bridge.js";
import type { BoltState } from "../../drivers/lock-driver.js";
import { componentSchemas, deviceDiscoverySchema } from "./ha-discovery.schema.js";

const MOSQUITTO_URL = "mqtt://127.0.0.1:1883";
// brokerTargets() fails under CI=true and warns otherwise when Mosquitto is unreachable.
const mosquittoUp = (await brokerTargets()).some((t) => t.name === "mosquitto");
if (!mosquittoUp) console.warn("Home Assistant bridge tests skipped: no Mosquitto on 127.0.0.1:1883.");

const PASSWORD = "Ha-Bridge-s3cret-Pa55";
const PIN = "58392047";
const run = randomBytes(6).toString("hex");
const BASE = `lk-test/${run}/latchkey`;
const PREFIX = `lk-test/${run}/homeassistant`;
const DOOR_ID = "door-front-1";

const ajv = new Ajv({ allErrors: true });
const validateDevice = ajv.compile(deviceDiscoverySchema);

interface Seen {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/** A stand-in for Home Assistant: subscribes to everything of this run and keeps what arrives. */
async function watcher(): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = await mqtt.connectAsync(MOSQUITTO_URL, {
    clientId: `lk-ha-watch-${run}-${randomBytes(3).toString("hex")}`,
  });
  const seen: Seen[] = [];
  client.on("message", (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString("utf8"), retain: packet.retain }),
  );
  await client.subscribeAsync(`lk-test/${run}/#`, { qos: 1 });
  return { client, seen };
}

const last = (seen: readonly Seen[], topic: string): Seen | undefined =>
  seen.filter((m) => m.topic === topic).at(-1);

function snapshotOf(lock: VirtualLock, overrides: Partial<DoorSnapshot> = {}): DoorSnapshot {
  const bolt: Record<string, BoltState> = {
    Locked: "locked",
    Unlocked: "unlocked",
    NotFullyLocked: "not-fully-locked",
  };
  return {
    doorId: DOOR_ID,
    name: "Front door",
    siteName: "Home",
    online: true,
    bolt: bolt[lock.runtime.boltState] ?? "not-fully-locked",
    door: lock.runtime.doorOpen ? "open" : "closed",
    batteryPercent: lock.runtime.batteryPercent,
    tamper: false,
    syncPending: 2,
    syncFailed: 0,
    allowUnlock: false,
    ...overrides,
  };
}

const clients: MqttClient[] = [];
const bridges: HomeAssistantBridge[] = [];
let dir = "";
let lock: VirtualLock;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lk-ha-bridge-"));
});
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
  for (const c of clients.splice(0)) await c.endAsync(true);
});
afterAll(async () => {
  // Leave no retained messages of this run on the shared broker.
  if (mosquittoUp) {
    const { client, seen } = await watcher();
    await new Promise((r) => setTimeout(r, 300));
    for (const topic of new Set(seen.filter((m) => m.retain).map((m) => m.topic)))
      await client.publishAsync(topic, "", { qos: 1, retain: true });
    await client.endAsync();
  }
  lock?.runtime.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(mosquittoUp)("Home Assistant bridge on Mosquitto", () => {
  it("announces the door, follows the lock, carries out LOCK and refuses UNLOCK", async () => {
    lock = VirtualLock.start({
      dir,
      journal: memoryJournalFactory,
      commissioning: { pbkdf2Iterations: 1000 },
    });
    const user = lock.runtime.addUser({});
    lock.runtime.setPin(user, PIN);
    lock.runtime.manualBolt("Unlocked");
    expect(lock.runtime.boltState).toBe("Unlocked");

    const ha = await watcher();
    clients.push(ha.client);
    const calls: LockCommand[] = [];
    const results: CommandResult[] = [];
    const bridge = new HomeAssistantBridge({
      url: MOSQUITTO_URL,
      username: "latchkey-bridge",
      password: PASSWORD,
      discoveryPrefix: PREFIX,
      baseTopic: BASE,
      swVersion: "0.1.0",
      supportUrl: "https://latchkey.example.org/support",
      connectTimeoutMs: 3_000,
      onCommand(doorId, command) {
        calls.push(command);
        if (doorId !== DOOR_ID) return Promise.resolve({ ok: false, reason: "unknown door" });
        // HA's lock is a remote operation on the lock (Matter LockDoor).
        const attempt = command === "lock" ? lock.runtime.remoteLock() : lock.runtime.remoteUnlock({});
        return Promise.resolve(
          attempt.granted ? { ok: true, door: snapshotOf(lock) } : { ok: false, reason: "the lock refused" },
        );
      },
      onCommandResult: (r) => results.push(r),
    });
    bridges.push(bridge);
    await bridge.start([snapshotOf(lock)]);

    const configTopic = `${PREFIX}/device/latchkey_${DOOR_ID}/config`;
    const stateTopic = `${BASE}/${DOOR_ID}/state`;
    await eventually("the discovery config arrived", () => last(ha.seen, configTopic) !== undefined, 10_000);
    await eventually(
      "the unlocked state arrived",
      () => last(ha.seen, stateTopic)?.payload === "UNLOCKED",
      10_000,
    );

    // A late subscriber (HA starting after the hub) gets the same config and states, retained.
    const late = await watcher();
    clients.push(late.client);
    await eventually(
      "retained config for a late subscriber",
      () => last(late.seen, configTopic)?.retain === true,
      10_000,
    );
    const config = JSON.parse(last(late.seen, configTopic)!.payload);
    expect(validateDevice(config), JSON.stringify(validateDevice.errors)).toBe(true);
    for (const component of Object.values(
      config.cmps as Record<string, { p: keyof typeof componentSchemas }>,
    )) {
      const validate = ajv.compile(componentSchemas[component.p]);
      expect(validate(component), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(config.cmps.lock.command_topic).toBe(`${BASE}/${DOOR_ID}/set`);
    expect(last(late.seen, `${BASE}/status`)).toMatchObject({ payload: "online", retain: true });
    expect(last(late.seen, `${BASE}/${DOOR_ID}/availability`)).toMatchObject({
      payload: "online",
      retain: true,
    });
    expect(last(late.seen, stateTopic)).toMatchObject({ payload: "UNLOCKED", retain: true });
    expect(last(late.seen, `${BASE}/${DOOR_ID}/battery`)?.payload).toBe(
      String(Math.round(lock.runtime.batteryPercent)),
    );
    expect(last(late.seen, `${BASE}/${DOOR_ID}/door`)?.payload).toBe("OFF");
    expect(last(late.seen, `${BASE}/${DOOR_ID}/sync`)?.payload).toBe("2 pending");
    expect(JSON.parse(last(late.seen, `${BASE}/${DOOR_ID}/attributes`)!.payload)).toEqual({
      allow_unlock: false,
      site: "Home",
    });

    // An entry on the keypad reaches HA as an event, without the PIN; a duress one never does.
    expect(lock.enterPin(PIN).granted).toBe(true);
    expect(await bridge.publishEvent(DOOR_ID, { kind: "entry", who: "Ada", how: "pin", reason: null })).toBe(
      true,
    );
    expect(await bridge.publishEvent(DOOR_ID, { kind: "duress", who: "Ada", how: "pin", reason: null })).toBe(
      false,
    );
    const eventTopic = `${BASE}/${DOOR_ID}/event`;
    await eventually("the entry event arrived", () => last(ha.seen, eventTopic) !== undefined, 10_000);
    const event = last(ha.seen, eventTopic)!;
    expect(event.retain).toBe(false);
    expect(JSON.parse(event.payload)).toEqual({ event_type: "entry", who: "Ada", how: "pin", reason: null });
    // The entry unlocked the bolt; the hub tells the bridge.
    expect(lock.runtime.boltState).toBe("Unlocked");
    await bridge.updateDoor(snapshotOf(lock));

    // HA's "lock" button: LOCK on the command topic drives the real lock, then HA sees LOCKED.
    await ha.client.publishAsync(`${BASE}/${DOOR_ID}/set`, "LOCK", { qos: 1 });
    await eventually("the lock command was carried out", () => results.length === 1, 10_000);
    expect(calls).toEqual(["lock"]);
    expect(results[0]).toEqual({ doorId: DOOR_ID, command: "lock", outcome: "done", reason: null });
    expect(lock.runtime.boltState).toBe("Locked");
    await eventually("HA sees LOCKED", () => last(ha.seen, stateTopic)?.payload === "LOCKED", 10_000);

    // HA's "unlock" on a door with allowUnlock false: refused before the hub, the lock stays locked.
    const before = ha.seen.filter((m) => m.topic === stateTopic).length;
    await ha.client.publishAsync(`${BASE}/${DOOR_ID}/set`, "UNLOCK", { qos: 1 });
    await eventually("the unlock was refused", () => results.length === 2, 10_000);
    expect(results[1]).toMatchObject({ doorId: DOOR_ID, command: "unlock", outcome: "refused" });
    expect(calls).toEqual(["lock"]);
    expect(lock.runtime.boltState).toBe("Locked");
    await eventually(
      "the state was published again",
      () => ha.seen.filter((m) => m.topic === stateTopic).length > before,
      10_000,
    );
    expect(last(ha.seen, stateTopic)?.payload).toBe("LOCKED");

    // Garbage and commands for unknown doors reach nobody.
    await ha.client.publishAsync(`${BASE}/${DOOR_ID}/set`, "OPEN_SESAME", { qos: 1 });
    await ha.client.publishAsync(`${BASE}/no-such-door/set`, "LOCK", { qos: 1 });
    await eventually("the garbage command was refused", () => results.length === 3, 10_000);
    expect(results[2]).toMatchObject({ doorId: DOOR_ID, command: null, outcome: "refused" });
    expect(calls).toEqual(["lock"]);

    // Nothing published on this run's topics, nor any outcome, repeats the password or the PIN.
    const everything = JSON.stringify([ha.seen, late.seen, results]);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(PIN);

    // Stopping says "offline", retained, so HA marks every door unavailable.
    await bridge.stop();
    await eventually(
      "the bridge went offline",
      () => last(ha.seen, `${BASE}/status`)?.payload === "offline",
      10_000,
    );
    // Kept by the broker: a subscriber arriving now (HA restarting) is told "offline" too. A live
    // subscriber's copy never has the retain flag (MQTT 3.1.1 §3.3.1.3), hence a new one.
    const after = await watcher();
    clients.push(after.client);
    await eventually("retained offline", () => last(after.seen, `${BASE}/status`) !== undefined, 10_000);
    expect(last(after.seen, `${BASE}/status`)).toMatchObject({ payload: "offline", retain: true });
  });

  it("lets HA unlock a door whose allowUnlock is true, and removes a door", async () => {
    const ha = await watcher();
    clients.push(ha.client);
    const calls: LockCommand[] = [];
    const results: CommandResult[] = [];
    const door: DoorSnapshot = {
      ...snapshotOf(lock),
      doorId: "door-back-2",
      allowUnlock: true,
      bolt: "locked",
    };
    const bridge = new HomeAssistantBridge({
      url: MOSQUITTO_URL,
      username: null,
      password: null,
      discoveryPrefix: PREFIX,
      baseTopic: BASE,
      swVersion: "0.1.0",
      onCommand: (_doorId, command) => {
        calls.push(command);
        return Promise.resolve({
          ok: true,
          door: { ...door, bolt: command === "unlock" ? "unlocked" : "locked" },
        });
      },
      onCommandResult: (r) => results.push(r),
    });
    bridges.push(bridge);
    await bridge.start([door]);
    const stateTopic = `${BASE}/door-back-2/state`;
    await eventually("LOCKED first", () => last(ha.seen, stateTopic)?.payload === "LOCKED", 10_000);
    await ha.client.publishAsync(`${BASE}/door-back-2/set`, "UNLOCK", { qos: 1 });
    await eventually("the unlock was carried out", () => results.length === 1, 10_000);
    expect(calls).toEqual(["unlock"]);
    await eventually("HA sees UNLOCKED", () => last(ha.seen, stateTopic)?.payload === "UNLOCKED", 10_000);

    const configTopic = `${PREFIX}/device/latchkey_door-back-2/config`;
    await bridge.removeDoor("door-back-2");
    await eventually("the config was emptied", () => last(ha.seen, configTopic)?.payload === "", 10_000);
    // The empty retained message also deleted the retained config (MQTT 3.1.1 §3.3.1.3): a new
    // subscriber gets the other door's config but nothing for this one.
    const after = await watcher();
    clients.push(after.client);
    await eventually(
      "retained messages delivered",
      () => last(after.seen, `${BASE}/status`) !== undefined,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(last(after.seen, configTopic)).toBeUndefined();
    expect(last(after.seen, stateTopic)).toBeUndefined();
    expect(
      await bridge.publishEvent("door-back-2", { kind: "entry", who: null, how: "card", reason: null }),
    ).toBe(false);
  });
});

describe.runIf(mosquittoUp)("Home Assistant bridge losing its connection", () => {
  it("leaves its Last Will: the broker announces the bridge offline, retained", async () => {
    // A TCP relay to Mosquitto that we can cut, as a crash or a network failure would.
    const sockets: Socket[] = [];
    const relay = createServer((inbound) => {
      const outbound = tcpConnect({ host: "127.0.0.1", port: 1883 });
      sockets.push(inbound, outbound);
      inbound.pipe(outbound).on("error", () => undefined);
      outbound.pipe(inbound).on("error", () => undefined);
      inbound.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const address = relay.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const base = `${BASE}-lwt`;
    const bridge = new HomeAssistantBridge({
      url: `mqtt://127.0.0.1:${address.port}`,
      username: null,
      password: null,
      discoveryPrefix: PREFIX,
      baseTopic: base,
      swVersion: "0.1.0",
      onCommand: () => Promise.resolve({ ok: true }),
    });
    bridges.push(bridge);
    await bridge.start([]);
    const ha = await watcher();
    clients.push(ha.client);
    await eventually("online", () => last(ha.seen, `${base}/status`)?.payload === "online", 10_000);

    // Stop accepting first (no reconnect through the relay), then cut the open connection.
    const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
    await eventually(
      "the broker published the will",
      () => last(ha.seen, `${base}/status`)?.payload === "offline",
      10_000,
    );
    const after = await watcher();
    clients.push(after.client);
    await eventually("retained will", () => last(after.seen, `${base}/status`) !== undefined, 10_000);
    expect(last(after.seen, `${base}/status`)).toMatchObject({ payload: "offline", retain: true });
  });
});

describe("bridge configuration and failures (no broker needed)", () => {
  const base = {
    url: "mqtt://127.0.0.1:1",
    username: "latchkey",
    password: PASSWORD,
    swVersion: "0.1.0",
    onCommand: () => Promise.resolve({ ok: true as const }),
  };

  function field(run: () => unknown): string | undefined {
    try {
      run();
    } catch (error) {
      if (isLatchkeyError(error, "HUB_BAD_REQUEST")) return String(error.details?.field);
      throw error;
    }
    return undefined;
  }

  it("refuses a bad configuration with the field named and no secret in the message", () => {
    expect(field(() => new HomeAssistantBridge({ ...base, baseTopic: "a/+/b" }))).toBe("baseTopic");
    expect(
      field(() => new HomeAssistantBridge({ ...base, url: `mqtt://latchkey:${PASSWORD}@127.0.0.1` })),
    ).toBe("url");
    // A password in clear to another machine.
    let message = "";
    try {
      new HomeAssistantBridge({ ...base, url: "mqtt://broker.example.org" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/in clear/);
    expect(message).not.toContain(PASSWORD);
  });

  it("fails to start against a closed port, saying why without the password", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === "string") throw new Error("no port");
    const bridge = new HomeAssistantBridge({
      ...base,
      url: `mqtt://127.0.0.1:${address.port}`,
      connectTimeoutMs: 2_000,
    });
    const error = await bridge.start([]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isLatchkeyError(error, "HUB_GATEWAY_BROKER_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("connection refused");
    expect(
      JSON.stringify({
        message: (error as Error).message,
        details: (error as { details?: unknown }).details,
      }),
    ).not.toContain(PASSWORD);
    await bridge.stop();
  });
});
