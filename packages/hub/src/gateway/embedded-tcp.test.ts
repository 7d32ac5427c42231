/**
 * The embedded broker's opt-in TCP listener (port 0): a real Noise KK session between the hub
 * and a lock over MQTT, the broker's view (only ciphertext), the broker's rules (attack tests
 * first), size limits, presence tracking and a broker restart in the middle of a session.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect as connectSocket } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { DeviceGateway } from "./device-gateway.js";
import { DeviceMqttClient, grantedQos } from "@latchkey/lock/mqtt";
import {
  connectionOptions,
  containsBytes,
  decode,
  keyPair,
  kkSession,
  passwordDeriver,
  sendUntilReceived,
  testLock,
  text,
  until,
} from "./test-support.js";
import { SecureConnection, isLatchkeyError, type LockId } from "@latchkey/protocol";

const HUB_KEYS = keyPair();
const SECRET_MESSAGE = "set PIN 482913 for Alice Example, flat 3";

let gateway: DeviceGateway;
let url: string;
const opened: { close(): Promise<void> }[] = [];
const rawClients: MqttClient[] = [];

beforeEach(async () => {
  gateway = new DeviceGateway({
    mqttTcp: { host: "127.0.0.1", port: 0 },
    deriveLockPassword: passwordDeriver(),
    maxFrameBytes: 4096,
    reconnectPeriodMs: 100,
  });
  await gateway.start();
  url = `mqtt://127.0.0.1:${gateway.broker?.port ?? 0}`;
});

afterEach(async () => {
  for (const c of rawClients.splice(0)) await c.endAsync(true);
  for (const c of opened.splice(0)) await c.close();
  await gateway.close();
});

async function lockClient(lockId: LockId): Promise<DeviceMqttClient> {
  const credential = gateway.admitLock(lockId);
  const client = await DeviceMqttClient.connectLock({
    url,
    lockId,
    password: credential.password,
    reconnectPeriodMs: 100,
    maxFrameBytes: 4096,
  });
  opened.push(client);
  return client;
}

/** A bare MQTT client (an attacker's or a misbehaving lock's), refusals reported, no retries. */
async function rawClient(options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, ...options });
  rawClients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

function refusal(options: mqtt.IClientOptions): Promise<number | undefined> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, ...options });
  rawClients.push(client);
  return new Promise((resolve) => {
    client.once("connect", () => resolve(0));
    client.once("error", (e: Error & { code?: number }) => resolve(e.code));
  });
}

describe("embedded broker rules (attacks first)", () => {
  it("refuses unknown, wrong-password, unadmitted and impersonating clients (CONNACK 4)", async () => {
    const a = testLock();
    const b = testLock();
    const { password } = gateway.admitLock(a.id);
    expect(await refusal({ clientId: "anyone" })).toBe(4);
    expect(await refusal({ clientId: a.id, username: a.id, password: "wrong" })).toBe(4);
    // b is not commissioned: even the right derivation is refused until admitted.
    expect(await refusal({ clientId: b.id, username: b.id, password })).toBe(4);
    // a's credential under another client id (would take over that client's MQTT session).
    expect(await refusal({ clientId: b.id, username: a.id, password })).toBe(4);
    expect(await refusal({ clientId: "latchkey-hub-x", username: "latchkey-hub", password: "guess" })).toBe(
      4,
    );
    expect(gateway.connectedLocks()).toEqual([]);
    expect(await refusal({ clientId: a.id, username: a.id, password })).toBe(0);
  });

  it("a lock cannot publish on another lock's topic: dropped and disconnected, victim unaffected", async () => {
    const victim = testLock();
    const attacker = testLock();
    const victimClient = await lockClient(victim.id);
    const hubSide = gateway.openLockTransport(victim.id);
    const { hub, lock } = await kkSession(hubSide, victimClient.transport(), HUB_KEYS, victim.keys);
    const received: string[] = [];
    hub.onMessage((m) => received.push(decode(m)));

    const { password } = gateway.admitLock(attacker.id);
    const evil = await rawClient({ clientId: attacker.id, username: attacker.id, password });
    const closed = new Promise<void>((resolve) => evil.once("close", () => resolve()));
    evil.publish(gateway.scheme.lockUp(victim.id), Buffer.from("forged frame"), { qos: 1 });
    await closed;

    lock.send(text("genuine"));
    await until(() => received.length === 1, "the genuine message");
    expect(received).toEqual(["genuine"]);
    expect(hub.refusals).toBe(0); // the forged frame never reached the hub
    expect(gateway.connectedLocks()).toEqual([victim.id]);
  });

  it("a lock cannot subscribe to # or to another lock's down topic (SUBACK 0x80)", async () => {
    const a = testLock();
    const b = testLock();
    const { password } = gateway.admitLock(a.id);
    const client = await rawClient({ clientId: a.id, username: a.id, password });
    const granted = await grantedQos(client, [
      "#",
      gateway.scheme.lockDown(b.id),
      gateway.scheme.lockUp(b.id),
    ]);
    expect(granted).toEqual([128, 128, 128]);
    expect(await grantedQos(client, [gateway.scheme.lockDown(a.id)])).toEqual([1]);
  });

  it("refuses retained frames and frames above the size limit at the broker", async () => {
    const a = testLock();
    const hubSide = gateway.openLockTransport(a.id);
    const got: Uint8Array[] = [];
    hubSide.onFrame((f) => got.push(f));
    const { password } = gateway.admitLock(a.id);
    for (const [payload, retain] of [
      [Buffer.alloc(10), true],
      [Buffer.alloc(5000), false],
    ] as const) {
      const client = await rawClient({ clientId: a.id, username: a.id, password });
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.publish(gateway.scheme.lockUp(a.id), payload, { qos: 1, retain });
      await closed;
    }
    expect(got).toEqual([]);
    expect(gateway.counters.oversizeDropped).toBe(1);
  });

  it("cuts a connection whose packet announces more than the limit, before reading it", async () => {
    const socket = connectSocket({ host: "127.0.0.1", port: gateway.broker?.port ?? 0 });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    // CONNECT fixed header announcing a 100 MB remaining length: 0x10, then varint 100_000_000.
    socket.write(Buffer.from([0x10, 0x80, 0xc2, 0xd7, 0x2f]));
    await closed;
    expect(gateway.counters.oversizeDropped).toBe(1);
  });

  it("a commissioning client reaches only its own session's topics", async () => {
    const commissioning = await DeviceMqttClient.connectCommissioning({ url });
    opened.push(commissioning);
    const lock = testLock();
    const granted = await grantedQos(commissioning.client, [
      gateway.scheme.lockDown(lock.id),
      gateway.scheme.commissionDown(`c${"0".repeat(32)}`),
    ]);
    expect(granted).toEqual([128, 128]);
    const closed = new Promise<void>((resolve) => commissioning.client.once("close", () => resolve()));
    commissioning.client.publish(gateway.scheme.lockUp(lock.id), Buffer.from("x"), { qos: 1 });
    await closed;
  });
});

describe("a Noise KK session over MQTT (embedded broker, TCP)", () => {
  it("carries messages both ways; the broker sees only ciphertext and no personal data", async () => {
    const seen: { topic: string; payload: Uint8Array }[] = [];
    gateway.broker?.tap((topic, payload) => seen.push({ topic, payload }));
    const lock = testLock();
    const client = await lockClient(lock.id);
    const { hub, lock: lockConn } = await kkSession(
      gateway.openLockTransport(lock.id),
      client.transport(),
      HUB_KEYS,
      lock.keys,
    );
    hub.send(text(SECRET_MESSAGE));
    expect(decode(await lockConn.nextMessage())).toBe(SECRET_MESSAGE);
    lockConn.send(text("event: unlocked by Alice Example"));
    expect(decode(await hub.nextMessage())).toBe("event: unlocked by Alice Example");

    const frames = () => seen.filter((s) => !s.topic.endsWith("/status"));
    await until(() => frames().length >= 4, "the broker to route 2 handshake + 2 data frames");
    for (const s of seen) {
      for (const needle of ["482913", "Alice", "PIN", "unlocked"]) {
        expect(s.topic).not.toContain(needle);
        expect(containsBytes(s.payload, text(needle))).toBe(false);
      }
      expect(gateway.scheme.parse(s.topic)).not.toBeNull();
    }
  });

  it("a lock may start the session: the gateway offers it as a 'session' event", async () => {
    const lock = testLock();
    const client = await lockClient(lock.id);
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
    lockConn.send(text("event 1"));
    expect(decode(await hub.nextMessage())).toBe("event 1");
    hub.send(text("ack 1"));
    expect(decode(await lockConn.nextMessage())).toBe("ack 1");
  });

  it("drops and counts frames above the limit in the transport (both directions)", async () => {
    const lock = testLock();
    const client = await lockClient(lock.id);
    const lockSide = client.transport();
    lockSide.send(new Uint8Array(5000));
    expect(client.counters.oversizeDropped).toBe(1);
    const hubSide = gateway.openLockTransport(lock.id);
    hubSide.send(new Uint8Array(4097));
    expect(gateway.counters.oversizeDropped).toBe(1);
    expect(client.counters.framesSent + gateway.counters.framesSent).toBe(0);
  });
});

describe("presence and restarts", () => {
  it("tracks connected locks and emits connect/disconnect events", async () => {
    const events: string[] = [];
    gateway.on("lockConnected", (id) => events.push(`+${id}`));
    gateway.on("lockDisconnected", (id) => events.push(`-${id}`));
    const a = testLock();
    const b = testLock();
    const ca = await lockClient(a.id);
    await lockClient(b.id);
    await until(() => gateway.connectedLocks().length === 2, "two locks");
    expect(gateway.connectedLocks()).toEqual([a.id, b.id].sort());
    // An abrupt drop (no DISCONNECT) counts too.
    ca.client.stream.destroy();
    await until(() => !gateway.isConnected(a.id), "a's disconnect");
    expect(gateway.connectedLocks()).toEqual([b.id]);
    expect(events.slice(0, 2).sort()).toEqual([`+${a.id}`, `+${b.id}`].sort());
    expect(events).toContain(`-${a.id}`);
  });

  it("a lock is online once it subscribes to its topic, not when it connects", async () => {
    const lock = testLock();
    const { password } = gateway.admitLock(lock.id);
    const raw = await rawClient({ clientId: lock.id, username: lock.id, password });
    await new Promise((r) => setTimeout(r, 300));
    expect(gateway.isConnected(lock.id)).toBe(false);
    await raw.subscribeAsync(gateway.scheme.lockDown(lock.id), { qos: 1 });
    await until(() => gateway.isConnected(lock.id), "online after subscribing");
    await raw.endAsync(true);
    await until(() => !gateway.isConnected(lock.id), "offline after disconnecting");
  });

  it("a frame the hub sends the moment a lock comes online reaches it, however late it listens", async () => {
    // The hub opens a session as soon as it hears of a lock. Online means subscribed (a frame sent
    // between CONNECT and SUBSCRIBE would be lost), and the lock's client holds frames that arrive
    // before its code asks for a transport (they can come in the same read as the SUBACK).
    const lock = testLock();
    gateway.on("lockConnected", (id) => {
      if (id === lock.id) gateway.openLockTransport(lock.id).send(text("first frame"));
    });
    const client = await lockClient(lock.id);
    await until(() => gateway.counters.framesSent >= 1, "the hub's first frame");
    await new Promise((r) => setTimeout(r, 200));
    const received: string[] = [];
    client.transport().onFrame((f) => received.push(decode(f)));
    await until(() => received.length === 1, "the first frame at the lock");
    expect(received).toEqual(["first frame"]);
    expect(client.counters.unroutedDropped).toBe(0);
  });

  it("survives 20,000 frames queued behind a stalled lock that then vanishes", async () => {
    // aedes's emitter drained such a queue recursively once the subscriber was gone, and the
    // hub died of a stack overflow (seen when 10,000 locks went away at once).
    const stalled = testLock();
    const { password } = gateway.admitLock(stalled.id);
    const client = await DeviceMqttClient.connectLock({
      url,
      lockId: stalled.id,
      password,
      reconnectPeriodMs: 0,
    });
    opened.push(client);
    await until(() => gateway.isConnected(stalled.id), "the stalled lock online");
    client.client.stream.pause();
    const toStalled = gateway.openLockTransport(stalled.id);
    for (let i = 0; i < 20_000; i++) toStalled.send(new Uint8Array(1000));
    await new Promise((r) => setTimeout(r, 1000));
    client.client.stream.destroy();
    await until(() => !gateway.isConnected(stalled.id), "the stalled lock gone");
    await new Promise((r) => setTimeout(r, 1000));
    // The broker still carries a session for another lock.
    const other = testLock();
    const otherClient = await lockClient(other.id);
    const { hub, lock: lockConn } = await kkSession(
      gateway.openLockTransport(other.id),
      otherClient.transport(),
      HUB_KEYS,
      other.keys,
    );
    hub.send(text("after the burst"));
    expect(decode(await lockConn.nextMessage())).toBe("after the burst");
  });

  it("revoking a lock disconnects it and refuses it afterwards", async () => {
    const a = testLock();
    const { password } = gateway.admitLock(a.id);
    await lockClient(a.id);
    await until(() => gateway.isConnected(a.id), "connect");
    gateway.revokeLock(a.id);
    await until(() => !gateway.isConnected(a.id), "disconnect");
    expect(await refusal({ clientId: a.id, username: a.id, password })).toBe(4);
  });

  it("survives a broker restart mid-session: the same Noise session resumes", async () => {
    const lock = testLock();
    const client = await lockClient(lock.id);
    const { hub, lock: lockConn } = await kkSession(
      gateway.openLockTransport(lock.id),
      client.transport(),
      HUB_KEYS,
      lock.keys,
    );
    hub.send(text("before"));
    expect(decode(await lockConn.nextMessage())).toBe("before");
    const hubSession = hub.session;

    await gateway.broker?.stop();
    expect(gateway.connectedLocks()).toEqual([]);
    await gateway.broker?.start();
    await until(() => gateway.isConnected(lock.id), "the lock to reconnect");

    const down = await sendUntilReceived(() => hub.send(text("after")), lockConn.nextMessage());
    expect(decode(down)).toBe("after");
    const up = await sendUntilReceived(() => lockConn.send(text("up after")), hub.nextMessage());
    expect(decode(up)).toBe("up after");
    expect(hub.session).toBe(hubSession);
    expect(hub.session.phase).toBe("open");
    expect(hub.refusals + lockConn.refusals).toBe(0);
  });
});

describe("an unreachable external broker", () => {
  it("fails start() with HUB_GATEWAY_BROKER_UNAVAILABLE and never shows the hub's broker password", async () => {
    const external = new DeviceGateway({
      brokerUrl: "mqtt://latchkey-hub:TopSecretPw1@127.0.0.1:1",
      deriveLockPassword: passwordDeriver(),
      connectTimeoutMs: 3000,
    });
    const error: unknown = await external.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isLatchkeyError(error, "HUB_GATEWAY_BROKER_UNAVAILABLE")).toBe(true);
    expect(String((error as Error).message)).not.toContain("TopSecretPw1");
    expect(() => external.openLockTransport(testLock().id)).toThrow(/not running/);
  });
});
