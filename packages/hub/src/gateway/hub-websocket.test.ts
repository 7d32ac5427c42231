/**
 * The default hub: the embedded broker on the hub's own HTTP port (MQTT over WebSocket at
 * /mqtt, ephemeral port), a real Noise KK session to a lock through it, the broker's view, the
 * connected-locks gauge on /metrics, and the WebSocket's Origin check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { DeviceMqttClient } from "@latchkey/lock/mqtt";
import { containsBytes, decode, keyPair, kkSession, testLock, text, until } from "./test-support.js";

const HUB_KEYS = keyPair();
let t: TestHub;
let port: number;

beforeAll(async () => {
  t = await startTestHub("sqlite");
  await t.hub.app.listen({ host: "127.0.0.1", port: 0 });
  const address = t.hub.app.server.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(async () => {
  await t.close();
});

async function metric(name: string): Promise<number | undefined> {
  const res = await t.hub.app.inject({ method: "GET", url: "/metrics" });
  const line = res.body.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("embedded broker on the hub's HTTP port (WebSocket /mqtt)", () => {
  it("runs a KK session to a lock; the broker sees only ciphertext; a broker login alone is not presence", async () => {
    const gateway = t.hub.gateway;
    expect(gateway.mode).toBe("embedded");
    expect(gateway.broker?.port).toBeNull(); // no TCP listener unless asked
    const seen: { topic: string; payload: Uint8Array }[] = [];
    gateway.broker?.tap((topic, payload) => seen.push({ topic, payload }));
    expect(await metric("latchkey_locks_connected")).toBe(0);

    const lock = testLock();
    const credential = gateway.admitLock(lock.id);
    const client = await DeviceMqttClient.connectLock({
      url: `ws://127.0.0.1:${port}/mqtt`,
      lockId: lock.id,
      password: credential.password,
    });
    await until(() => gateway.isConnected(lock.id), "the lock to connect");
    // The gauge counts locks whose authenticated session answers the sync engine, and this one
    // is not commissioned: its broker login is a hint, not presence.
    expect(await metric("latchkey_locks_connected")).toBe(0);

    const { hub, lock: lockConn } = await kkSession(
      gateway.openLockTransport(lock.id),
      client.transport(),
      HUB_KEYS,
      lock.keys,
    );
    hub.send(text("grant: Bob Example, code 771204, Fridays 10-12"));
    expect(decode(await lockConn.nextMessage())).toBe("grant: Bob Example, code 771204, Fridays 10-12");
    lockConn.send(text("event: opened by Bob Example"));
    expect(decode(await hub.nextMessage())).toBe("event: opened by Bob Example");
    await until(
      () => seen.filter((s) => s.topic.endsWith("/up") || s.topic.endsWith("/down")).length >= 4,
      "frames",
    );
    for (const s of seen) {
      for (const needle of ["Bob", "771204", "grant", "opened"]) {
        expect(s.topic).not.toContain(needle);
        expect(containsBytes(s.payload, text(needle))).toBe(false);
      }
    }
    // Secrets never reach the log either (the broker password, the lock's credential).
    expect(t.logs.text()).not.toContain(credential.password);

    hub.close();
    await client.close();
    await until(() => !gateway.isConnected(lock.id), "the lock to disconnect");
    expect(await metric("latchkey_locks_connected")).toBe(0);
  });

  it("refuses a WebSocket opened from a foreign web page (Origin check)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, "mqtt", { origin: "https://evil.example" });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("opened")));
      ws.on("error", () => {});
    });
    expect(status).toBe(403);
  });

  it("refuses MQTT over WebSocket without valid credentials", async () => {
    const lock = testLock();
    await expect(
      DeviceMqttClient.connectLock({ url: `ws://127.0.0.1:${port}/mqtt`, lockId: lock.id, password: "x" }),
    ).rejects.toMatchObject({ code: "HUB_GATEWAY_BROKER_UNAVAILABLE" });
    expect(t.hub.gateway.connectedLocks()).toEqual([]);
  });
});

describe("buildHub with --broker", () => {
  it("refuses to start when the external broker cannot be reached (and releases what it opened)", async () => {
    await expect(startTestHub("sqlite", { broker: "mqtt://127.0.0.1:1" })).rejects.toMatchObject({
      code: "HUB_GATEWAY_BROKER_UNAVAILABLE",
    });
  });
});
