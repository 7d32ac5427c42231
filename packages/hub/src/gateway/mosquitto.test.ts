/**
 * The same hub↔lock Noise KK session over a real external broker: Mosquitto on 127.0.0.1:1883.
 * Each run uses its own topic prefix so parallel runs do not collide. When Mosquitto is not
 * running these tests are skipped with a message, except under CI=true where that is a failure.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { DeviceGateway } from "./device-gateway.js";
import { DeviceMqttClient } from "@latchkey/lock/mqtt";
import { SecureConnection } from "@latchkey/protocol";
import {
  connectionOptions,
  containsBytes,
  decode,
  keyPair,
  kkSession,
  passwordDeriver,
  testLock,
  text,
  uniquePrefix,
  until,
} from "./test-support.js";

const MOSQUITTO = { host: "127.0.0.1", port: 1883 };
const URL_ = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`;

function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(MOSQUITTO);
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const up = await reachable();
if (!up && process.env.CI !== "true") {
  console.warn(
    `Mosquitto tests skipped: no MQTT broker on ${URL_} (start mosquitto; with CI=true this fails).`,
  );
}

describe("Mosquitto reachability", () => {
  it.runIf(process.env.CI === "true")("a broker is running on 127.0.0.1:1883 (required in CI)", () => {
    expect(up).toBe(true);
  });
});

describe.runIf(up)("a Noise KK session over Mosquitto (external broker)", () => {
  const HUB_KEYS = keyPair();
  const prefix = uniquePrefix();
  let gateway: DeviceGateway;
  let spy: MqttClient;
  const seen: { topic: string; payload: Uint8Array }[] = [];
  const clients: DeviceMqttClient[] = [];
  const statusTopics: string[] = [];

  beforeAll(async () => {
    gateway = new DeviceGateway({
      brokerUrl: URL_,
      topicPrefix: prefix,
      deriveLockPassword: passwordDeriver(),
      reconnectPeriodMs: 100,
    });
    await gateway.start();
    expect(gateway.mode).toBe("external");
    // The broker operator's view: everything under this run's prefix (other runs share the broker).
    spy = mqtt.connect(URL_, { reconnectPeriod: 0 });
    spy.on("message", (topic, payload) => seen.push({ topic, payload: new Uint8Array(payload) }));
    await new Promise<void>((resolve) => spy.once("connect", () => resolve()));
    await spy.subscribeAsync(`${prefix}/#`, { qos: 1 });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  afterAll(async () => {
    // Clear this run's retained status messages so the broker keeps nothing of ours.
    for (const t of statusTopics) await spy.publishAsync(t, Buffer.alloc(0), { qos: 1, retain: true });
    await spy.endAsync();
    await gateway.close();
  });

  async function lockClient() {
    const lock = testLock();
    statusTopics.push(gateway.scheme.lockStatus(lock.id));
    const client = await DeviceMqttClient.connectLock({
      url: URL_,
      topicPrefix: prefix,
      lockId: lock.id,
      password: gateway.admitLock(lock.id).password,
      reconnectPeriodMs: 100,
    });
    clients.push(client);
    return { lock, client };
  }

  it("carries messages both ways; the broker sees only ciphertext and no personal data", async () => {
    const { lock, client } = await lockClient();
    const { hub, lock: lockConn } = await kkSession(
      gateway.openLockTransport(lock.id),
      client.transport(),
      HUB_KEYS,
      lock.keys,
    );
    hub.send(text("PIN 5550123 for Carol Example"));
    expect(decode(await lockConn.nextMessage())).toBe("PIN 5550123 for Carol Example");
    lockConn.send(text("event: Carol Example entered"));
    expect(decode(await hub.nextMessage())).toBe("event: Carol Example entered");
    const frames = () => seen.filter((s) => s.topic.endsWith("/up") || s.topic.endsWith("/down"));
    await until(() => frames().length >= 4, "the spy to see 2 handshake + 2 data frames");
    for (const s of seen) {
      for (const needle of ["5550123", "Carol", "PIN", "entered"]) {
        expect(s.topic).not.toContain(needle);
        expect(containsBytes(s.payload, text(needle))).toBe(false);
      }
    }
    hub.close();
  });

  it("takes a lock's status 'online' as a hint and ignores 'offline', forged or the will", async () => {
    const hints: string[] = [];
    const onHint = (id: string): void => void hints.push(id);
    gateway.on("lockConnected", onHint);
    try {
      const { lock, client } = await lockClient();
      await until(() => hints.includes(lock.id), "the online hint");
      expect(gateway.isConnected(lock.id)).toBe(true);
      // Anyone on the broker can publish a status: "offline" (retained or not) decides nothing.
      const status = gateway.scheme.lockStatus(lock.id);
      await spy.publishAsync(status, Buffer.from([0]), { qos: 1, retain: true });
      await spy.publishAsync(status, Buffer.from([0]), { qos: 1 });
      // Abrupt loss (no DISCONNECT): Mosquitto publishes the lock's will, "offline" — ignored too.
      client.client.options.reconnectPeriod = 0;
      client.client.stream.destroy();
      await until(
        () => seen.filter((s) => s.topic === status && s.payload[0] === 0).length >= 3,
        "the forged statuses and the will",
      );
      // Published after all of them: once the gateway has it, it has handled them too.
      await spy.publishAsync(status, Buffer.from([1]), { qos: 1 });
      await until(() => hints.filter((h) => h === lock.id).length >= 2, "the second online hint");
      expect(gateway.isConnected(lock.id)).toBe(true);
    } finally {
      gateway.off("lockConnected", onHint);
    }
  });

  it("drops a retained frame left on a lock's topic instead of starting a session from it", async () => {
    const lock = testLock();
    const topic = gateway.scheme.lockUp(lock.id);
    await spy.publishAsync(topic, Buffer.from("stale frame"), { qos: 1, retain: true });
    const second = new DeviceGateway({
      brokerUrl: URL_,
      topicPrefix: prefix,
      deriveLockPassword: passwordDeriver(),
    });
    const sessions: string[] = [];
    second.on("session", (id) => sessions.push(id));
    try {
      await second.start();
      await until(() => second.counters.retainedDropped >= 1, "the retained frame to be dropped");
      expect(sessions).toEqual([]);
    } finally {
      await spy.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
      await second.close();
    }
  });

  it("keeps the hub's broker password out of logs and errors", async () => {
    const lines: string[] = [];
    const log = {
      warn: (o: object, m: string) => lines.push(m + JSON.stringify(o)),
      info: (o: object, m: string) => lines.push(m + JSON.stringify(o)),
    };
    const withLogin = new DeviceGateway({
      brokerUrl: `mqtt://latchkey-hub:Sup3rSecretBrokerPw@${MOSQUITTO.host}:${MOSQUITTO.port}`,
      topicPrefix: prefix,
      deriveLockPassword: passwordDeriver(),
      log,
    });
    await withLogin.start();
    await withLogin.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain("Sup3rSecretBrokerPw");
  });

  it("lets the lock start a session (the gateway's 'session' event)", async () => {
    const { lock, client } = await lockClient();
    const hubConn = new Promise<SecureConnection>((resolve, reject) => {
      gateway.once("session", (lockId, transport) => {
        if (lockId !== lock.id) return reject(new Error("session for the wrong lock"));
        SecureConnection.accept(transport, connectionOptions(HUB_KEYS, lock.keys)).then(resolve, reject);
      });
    });
    const lockConn = await SecureConnection.connect(
      client.transport(),
      connectionOptions(lock.keys, HUB_KEYS),
    );
    const hub = await hubConn;
    lockConn.send(text("event 7"));
    expect(decode(await hub.nextMessage())).toBe("event 7");
    hub.close();
  });
});
