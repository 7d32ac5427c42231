/**
 * The lock's MQTT client against a plain broker (aedes on a loopback port, no hub): a commissioned
 * lock logs in with its LockId, announces itself online on its retained status topic and carries
 * channel frames on its own up/down topics; a clean close says offline. A lock being commissioned
 * uses the public commissioning login and one random session's topics.
 */
import { once } from "node:events";
import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import type { LockId } from "@latchkey/protocol";
import { COMMISSIONING_PASSWORD, COMMISSIONING_USERNAME } from "./commissioning-login.js";
import { DeviceMqttClient } from "./device-client.js";
import { STATUS_OFFLINE, STATUS_ONLINE, TopicScheme } from "./topics.js";

const LOCK_ID = "ab".repeat(16) as LockId;
const scheme = new TopicScheme();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Login {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

async function startBroker(): Promise<{ url: string; logins: Login[] }> {
  const logins: Login[] = [];
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      logins.push({ clientId: client.id, username, password: password?.toString() });
      done(null, true);
    },
  });
  const server: Server = createServer(aedes.handle);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, logins };
}

/** A bare MQTT client standing in for the hub: records every message on `filters`. */
async function observer(
  url: string,
  filters: string[],
): Promise<{ client: MqttClient; seen: [string, Buffer, boolean][] }> {
  const client = await mqtt.connectAsync(url, { clientId: "observer", protocolVersion: 4 });
  cleanups.push(() => client.endAsync(true));
  const seen: [string, Buffer, boolean][] = [];
  client.on("message", (topic, payload, packet) => seen.push([topic, payload, packet.retain]));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, seen };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("DeviceMqttClient", () => {
  it("a commissioned lock logs in as its LockId, says online, carries frames both ways, and says offline on close", async () => {
    const { url, logins } = await startBroker();
    const device = await DeviceMqttClient.connectLock({ url, lockId: LOCK_ID, password: "broker-password" });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await device.close();
    });
    expect(logins).toEqual([{ clientId: LOCK_ID, username: LOCK_ID, password: "broker-password" }]);

    const hub = await observer(url, [scheme.lockStatus(LOCK_ID), scheme.lockUp(LOCK_ID)]);
    // The status is retained, so a hub subscribing later still learns that the lock is online.
    await until(() => hub.seen.some(([t]) => t === scheme.lockStatus(LOCK_ID)));
    expect(hub.seen.find(([t]) => t === scheme.lockStatus(LOCK_ID))?.[1]).toEqual(Buffer.from(STATUS_ONLINE));

    const transport = device.transport();
    const received: Uint8Array[] = [];
    transport.onFrame((f) => received.push(f));
    transport.send(Uint8Array.of(1, 2, 3));
    await until(() => hub.seen.some(([t]) => t === scheme.lockUp(LOCK_ID)));
    expect(hub.seen.find(([t]) => t === scheme.lockUp(LOCK_ID))?.[1]).toEqual(Buffer.from([1, 2, 3]));

    await hub.client.publishAsync(scheme.lockDown(LOCK_ID), Buffer.from([9, 8]), { qos: 1 });
    await until(() => received.length === 1);
    expect([...received[0]!]).toEqual([9, 8]);
    expect(device.counters.framesSent).toBe(1);
    expect(device.counters.framesReceived).toBe(1);

    await device.close();
    closed = true;
    await until(() => hub.seen.filter(([t]) => t === scheme.lockStatus(LOCK_ID)).length === 2);
    expect(hub.seen.filter(([t]) => t === scheme.lockStatus(LOCK_ID)).at(-1)?.[1]).toEqual(
      Buffer.from(STATUS_OFFLINE),
    );
    expect(transport.isClosed).toBe(true);
  });

  it("a lock being commissioned uses the public commissioning login under a random session id", async () => {
    const { url, logins } = await startBroker();
    const a = await DeviceMqttClient.connectCommissioning({ url });
    const b = await DeviceMqttClient.connectCommissioning({ url });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(logins).toEqual([
      { clientId: a.sessionId, username: COMMISSIONING_USERNAME, password: COMMISSIONING_PASSWORD },
      { clientId: b.sessionId, username: COMMISSIONING_USERNAME, password: COMMISSIONING_PASSWORD },
    ]);

    const hub = await observer(url, [scheme.commissionUp(a.sessionId)]);
    a.transport().send(Uint8Array.of(7));
    await until(() => hub.seen.length === 1);
    expect(hub.seen[0]?.[0]).toBe(scheme.commissionUp(a.sessionId));
  });

  it("refuses to start when the broker cannot be reached", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(
      DeviceMqttClient.connectLock({
        url: `mqtt://127.0.0.1:${port}`,
        lockId: LOCK_ID,
        password: "x",
        connectTimeoutMs: 500,
        reconnectPeriodMs: 100,
      }),
    ).rejects.toMatchObject({ code: "HUB_GATEWAY_BROKER_UNAVAILABLE" });
  });
});
