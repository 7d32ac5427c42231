/**
 * The MQTT channel against real brokers: the shared Mosquitto on 127.0.0.1:1883 (anonymous, with
 * this run's own topic prefix) and a Mosquitto of this file's own that requires a password. When
 * either is unavailable the tests are skipped with a message, except under CI=true where that fails.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { isLatchkeyError } from "@latchkey/protocol";
import { eventually } from "../../testing/sync-support.js";
import type { DeliveryOutcome, OutboundMessage } from "./channel.js";
import {
  connectMqttPublisher,
  mqttChannel,
  validateMqttConfig,
  type MqttConnectOptions,
  type MqttPublisher,
} from "./mqtt.js";

const SHARED = { host: "127.0.0.1", port: 1883 };
const SHARED_URL = `mqtt://${SHARED.host}:${SHARED.port}`;
const PASSWORD = "s3cret-Broker-Pa55";

function accepting(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function findOnPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/bin"];
  for (const d of dirs) if (d !== "" && existsSync(join(d, name))) return join(d, name);
  return null;
}

const sharedUp = await accepting(SHARED.port, SHARED.host);
if (!sharedUp && process.env.CI !== "true")
  console.warn(
    `MQTT channel tests skipped: no broker on ${SHARED_URL} (start mosquitto; with CI=true this fails).`,
  );
const MOSQUITTO = findOnPath("mosquitto");
const MOSQUITTO_PASSWD = findOnPath("mosquitto_passwd");
const ownBroker = MOSQUITTO !== null && MOSQUITTO_PASSWD !== null;
if (!ownBroker && process.env.CI !== "true")
  console.warn(
    "MQTT channel password tests skipped: mosquitto / mosquitto_passwd not on PATH (with CI=true this fails).",
  );

describe("brokers for the MQTT channel tests", () => {
  it.runIf(process.env.CI === "true")(
    "Mosquitto runs on 127.0.0.1:1883 and is installed (required in CI)",
    () => {
      expect(sharedUp).toBe(true);
      expect(ownBroker).toBe(true);
    },
  );
});

const message: OutboundMessage = {
  id: "01JF8ZK6Q0V3T9X2M4N5P6R7S8",
  event: "alert.forced-entry",
  title: "Forced entry at Front door",
  body: "The Front door opened without an unlock at 03:12.",
  priority: "urgent",
  tags: ["alert", "forced-entry"],
  url: "https://hub.example.test/doors/d1/activity",
  actions: [{ label: "View door", url: "https://hub.example.test/doors/d1" }],
  occurredAt: Date.UTC(2026, 11, 7, 3, 12, 0),
  data: { doorId: "d1", kind: "forced-entry", count: 2, confirmed: true, note: null },
};

const publishers: MqttPublisher[] = [];
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const p of publishers.splice(0)) await p.close();
  for (const c of clients.splice(0)) await c.endAsync(true);
});

function publisher(options: MqttConnectOptions): MqttPublisher {
  const p = connectMqttPublisher(options);
  publishers.push(p);
  return p;
}

const send = (
  p: MqttPublisher,
  topic: string,
  m: OutboundMessage = message,
  retain = false,
): Promise<DeliveryOutcome> =>
  mqttChannel({ publisher: p, topic, retain }).send(m, { signal: new AbortController().signal });

interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** A subscriber to `filter` at QoS 1, collecting what arrives. */
async function subscriber(url: string, filter: string, auth: { username?: string; password?: string } = {}) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...auth });
  clients.push(c);
  const seen: Seen[] = [];
  c.on("message", (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString("utf8"), qos: packet.qos, retain: packet.retain }),
  );
  await c.subscribeAsync(filter, { qos: 1 });
  return seen;
}

const prefix = (): string => `lk-test/${randomBytes(6).toString("hex")}`;

function expectNoSecret(outcome: DeliveryOutcome): void {
  expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
}

describe.runIf(sharedUp)("MQTT channel on the shared Mosquitto", () => {
  it("publishes the message as JSON at QoS 1 on <topic>/<event>, received by a subscriber", async () => {
    const topic = `${prefix()}/events`;
    const seen = await subscriber(SHARED_URL, `${topic}/#`);
    const p = publisher({ url: SHARED_URL, username: null, password: null });

    const outcome = await send(p, topic);
    expect(outcome).toEqual({
      ok: true,
      detail: `acknowledged by the broker on ${topic}/alert.forced-entry`,
    });

    await eventually("the subscriber has the message", () => seen.length === 1, 5_000);
    const got = seen[0]!;
    expect(got.topic).toBe(`${topic}/alert.forced-entry`);
    expect(got.qos).toBe(1);
    expect(got.retain).toBe(false);
    expect(JSON.parse(got.payload)).toEqual({
      id: "01JF8ZK6Q0V3T9X2M4N5P6R7S8",
      event: "alert.forced-entry",
      title: "Forced entry at Front door",
      body: "The Front door opened without an unlock at 03:12.",
      priority: "urgent",
      tags: ["alert", "forced-entry"],
      url: "https://hub.example.test/doors/d1/activity",
      occurredAt: "2026-12-07T03:12:00.000Z",
      data: { doorId: "d1", kind: "forced-entry", count: 2, confirmed: true, note: null },
    });
  });

  it("reuses one connection for several messages and sends retained messages when asked", async () => {
    const topic = prefix();
    const p = publisher({ url: SHARED_URL, username: null, password: null });
    expect((await send(p, topic, { ...message, event: "test", id: "a" })).ok).toBe(true);
    expect((await send(p, topic, { ...message, event: "door.opened", id: "b" }, true)).ok).toBe(true);
    // A subscriber arriving later still gets the retained one, flagged as retained.
    const seen = await subscriber(SHARED_URL, `${topic}/#`);
    await eventually("the retained message arrives", () => seen.length === 1, 5_000);
    expect(seen[0]).toMatchObject({ topic: `${topic}/door.opened`, retain: true });
    expect(JSON.parse(seen[0]!.payload)).toMatchObject({ id: "b" });
    // Clear the retained message so the broker keeps nothing of this run.
    const cleaner = await mqtt.connectAsync(SHARED_URL, { reconnectPeriod: 0 });
    await cleaner.publishAsync(`${topic}/door.opened`, "", { qos: 1, retain: true });
    await cleaner.endAsync();
  });

  it("an event name that would make a wildcard topic is refused, nothing published", async () => {
    const topic = prefix();
    const seen = await subscriber(SHARED_URL, `${topic}/#`);
    const p = publisher({ url: SHARED_URL, username: null, password: null });
    const outcome = await send(p, topic, { ...message, event: "alert.#" });
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect((await send(p, topic, { ...message, event: "ok" })).ok).toBe(true);
    await eventually("the good one arrives", () => seen.length === 1, 5_000);
    expect(seen.map((s) => s.topic)).toEqual([`${topic}/ok`]);
  });

  it("a closed port is a retryable failure that does not repeat the password", async () => {
    const port = await freePort();
    const p = publisher({ url: `mqtt://127.0.0.1:${port}`, username: "u", password: PASSWORD });
    const outcome = await send(p, prefix());
    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      reason: "broker unreachable (connection refused)",
    });
    expectNoSecret(outcome);
  });

  it("works with a publisher handed in on an mqtt.js client (the hub's own connection)", async () => {
    const topic = prefix();
    const seen = await subscriber(SHARED_URL, `${topic}/#`);
    const client = await mqtt.connectAsync(SHARED_URL, { reconnectPeriod: 0 });
    clients.push(client);
    const handedIn: MqttPublisher = {
      publish: async (t, payload, options) => void (await client.publishAsync(t, payload, options)),
      close: () => client.endAsync(),
    };
    expect((await send(handedIn, topic)).ok).toBe(true);
    await eventually("the subscriber has the message", () => seen.length === 1, 5_000);
    // Once that connection is gone, the attempt is worth retrying later.
    await client.endAsync();
    const outcome = await send(handedIn, topic);
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "publish failed (internal error)" });
  });

  it("a handed-in publisher that never answers is bounded by the attempt's signal", async () => {
    // An mqtt.js client that keeps reconnecting to nothing queues the publish and never calls back.
    const offline = mqtt.connect(`mqtt://127.0.0.1:${await freePort()}`, { reconnectPeriod: 1_000 });
    offline.on("error", () => undefined);
    clients.push(offline);
    const handedIn: MqttPublisher = {
      publish: async (t, payload, options) => void (await offline.publishAsync(t, payload, options)),
      close: () => offline.endAsync(true),
    };
    const started = Date.now();
    const outcome = await mqttChannel({ publisher: handedIn, topic: prefix() }).send(message, {
      signal: AbortSignal.timeout(300),
    });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "publishing was aborted" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("an aborted attempt is retryable", async () => {
    const p = publisher({ url: SHARED_URL, username: null, password: null });
    const controller = new AbortController();
    controller.abort();
    const outcome = await mqttChannel({ publisher: p, topic: prefix() }).send(message, {
      signal: controller.signal,
    });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "publishing was aborted" });
  });
});

describe.runIf(ownBroker)("MQTT channel on a Mosquitto that requires a password", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-mqtt-channel-"));
  let broker: ChildProcess | null = null;
  let brokerLog = "";
  let url = "";

  let port = 0;
  const conf = join(dir, "mosquitto.conf");

  async function startBroker(): Promise<void> {
    brokerLog = "";
    broker = spawn(MOSQUITTO ?? "mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    broker.stdout?.on("data", (d: Buffer) => (brokerLog += d.toString()));
    broker.stderr?.on("data", (d: Buffer) => (brokerLog += d.toString()));
    await eventually("Mosquitto accepts connections", () => accepting(port), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}; broker log:\n${brokerLog}`);
    });
  }

  async function stopBroker(): Promise<void> {
    if (broker !== null && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker?.once("exit", resolve));
      broker.kill("SIGTERM");
      await exited;
    }
    broker = null;
  }

  beforeAll(async () => {
    port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    const passwords = join(dir, "passwords");
    execFileSync(MOSQUITTO_PASSWD ?? "", ["-c", "-b", passwords, "hub", PASSWORD]);
    writeFileSync(
      conf,
      [
        // As root, Mosquitto would switch to its own user, who cannot read the 0600 password file.
        ...(process.getuid?.() === 0 ? ["user root"] : []),
        "per_listener_settings false",
        "allow_anonymous false",
        `password_file ${passwords}`,
        `listener ${port} 127.0.0.1`,
        "persistence false",
        "",
      ].join("\n"),
    );
    await startBroker();
  });

  afterAll(async () => {
    await stopBroker();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the right password delivers to a subscriber who logged in too", async () => {
    const topic = prefix();
    const seen = await subscriber(url, `${topic}/#`, { username: "hub", password: PASSWORD });
    const p = publisher({ url, username: "hub", password: PASSWORD });
    expect((await send(p, topic)).ok).toBe(true);
    await eventually("the subscriber has the message", () => seen.length === 1, 5_000);
    expect(seen[0]?.topic).toBe(`${topic}/alert.forced-entry`);
  });

  it("a wrong password is a permanent failure that does not repeat the password", async () => {
    const wrong = `wrong-${PASSWORD}`;
    const p = publisher({ url, username: "hub", password: wrong });
    const outcome = await send(p, prefix());
    expect(outcome).toEqual({ ok: false, retryable: false, reason: "not authorised by the broker" });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
    expectNoSecret(outcome);
  });

  it("no login at all is refused the same way", async () => {
    const p = publisher({ url, username: null, password: null });
    expect(await send(p, prefix())).toEqual({
      ok: false,
      retryable: false,
      reason: "not authorised by the broker",
    });
  });

  it("after the broker went away and came back, the same publisher connects again and delivers", async () => {
    const topic = prefix();
    const p = publisher({ url, username: "hub", password: PASSWORD });
    expect((await send(p, topic)).ok).toBe(true);

    await stopBroker();
    const down = await send(p, topic);
    expect(down).toMatchObject({ ok: false, retryable: true });
    expectNoSecret(down);

    await startBroker();
    const seen = await subscriber(url, `${topic}/#`, { username: "hub", password: PASSWORD });
    expect(await send(p, topic)).toMatchObject({ ok: true });
    await eventually("the subscriber has the message", () => seen.length === 1, 5_000);
  });
});

describe("validateMqttConfig", () => {
  const good = {
    url: "mqtts://broker.example.test:8883",
    username: "hub",
    password: PASSWORD,
    topic: "latchkey/events",
  };

  function refusal(input: unknown): { field: unknown; message: string } {
    try {
      validateMqttConfig(input);
    } catch (e) {
      if (!isLatchkeyError(e, "HUB_BAD_REQUEST")) throw e;
      expect(e.message).not.toContain(PASSWORD);
      return { field: e.details?.field, message: e.message };
    }
    throw new Error("accepted");
  }

  it("accepts the four URL schemes and fills in defaults", () => {
    expect(validateMqttConfig(good)).toEqual({ ...good, retain: false });
    for (const u of ["mqtt://127.0.0.1:1883", "ws://localhost:9001/mqtt", "wss://broker.example.test/mqtt"])
      expect(validateMqttConfig({ ...good, url: u }).url).toBe(u);
    expect(validateMqttConfig({ url: "mqtt://ha.local", topic: "home/latchkey", retain: true })).toEqual({
      url: "mqtt://ha.local",
      username: null,
      password: null,
      topic: "home/latchkey",
      retain: true,
    });
  });

  it("refuses other schemes and credentials inside the URL", () => {
    expect(refusal({ ...good, url: "http://broker.example.test" }).field).toBe("url");
    expect(refusal({ ...good, url: "tcp://broker.example.test" }).field).toBe("url");
    expect(refusal({ ...good, url: "not a url" }).field).toBe("url");
    const withSecret = refusal({ ...good, url: `mqtt://hub:${PASSWORD}@broker.example.test` });
    expect(withSecret).toMatchObject({
      field: "url",
      message: expect.stringMatching(/username and password fields/) as unknown,
    });
  });

  it("refuses topics with wildcards, a leading / or $, or a trailing /", () => {
    for (const topic of [
      "latchkey/+/events",
      "latchkey/#",
      "#",
      "/latchkey",
      "$SYS/latchkey",
      "latchkey/",
      "",
      "a\u0000b",
    ])
      expect(refusal({ ...good, topic }).field, JSON.stringify(topic)).toBe("topic");
  });

  it("refuses a password in clear to a broker on another machine", () => {
    for (const url of ["mqtt://ha.local:1883", "ws://ha.local:9001/mqtt", "mqtt://192.168.1.20"])
      expect(refusal({ ...good, url })).toMatchObject({
        field: "url",
        message: expect.stringMatching(/in clear/) as unknown,
      });
    // Without a password, or to this machine, a clear URL is fine.
    expect(validateMqttConfig({ ...good, url: "mqtt://ha.local", username: null, password: null }).url).toBe(
      "mqtt://ha.local",
    );
    expect(validateMqttConfig({ ...good, url: "mqtt://[::1]:1883" }).password).toBe(PASSWORD);
  });

  it("refuses a password without a username and a ca on a clear URL", () => {
    expect(refusal({ ...good, username: null }).field).toBe("username");
    expect(
      refusal({
        ...good,
        username: null,
        password: null,
        url: "mqtt://b.example.test",
        ca: "-----BEGIN CERTIFICATE-----\n",
      }).field,
    ).toBe("ca");
    expect(refusal({ ...good, retain: "yes" }).field).toBe("retain");
  });
});
