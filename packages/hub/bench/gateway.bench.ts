/**
 * Device gateway benchmarks: a Noise KK session between the hub and a lock carried over MQTT
 * through the embedded broker (hub in-memory client ↔ lock on the opt-in TCP listener), against
 * the same session over a direct TCP connection (the protocol's length-prefixed TCP transport)
 * measured in the same run:
 *  - request/response round trip of a 64-byte message (µs, median and p99);
 *  - one-way throughput of 256-byte messages, lock → hub, 200 in flight (messages/s).
 */
import { listenTcp, connectTcp } from "@latchkey/protocol/node";
import { SecureConnection, type FrameTransport } from "@latchkey/protocol";
import { summarize, sampleMicrosAsync, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { DeviceGateway } from "../src/gateway/device-gateway.js";
import { DeviceMqttClient } from "@latchkey/lock/mqtt";
import { connectionOptions, keyPair, passwordDeriver, testLock } from "../src/gateway/test-support.js";

interface Pair {
  hub: SecureConnection;
  lock: SecureConnection;
  close(): Promise<void>;
}

const HUB_KEYS = keyPair();

async function session(
  hubSide: FrameTransport,
  lockSide: FrameTransport,
  lockKeys: ReturnType<typeof keyPair>,
) {
  const accepting = SecureConnection.accept(lockSide, connectionOptions(lockKeys, HUB_KEYS));
  const [hub, lock] = await Promise.all([
    SecureConnection.connect(hubSide, connectionOptions(HUB_KEYS, lockKeys)),
    accepting,
  ]);
  return { hub, lock };
}

async function overMqtt(): Promise<Pair> {
  const gateway = new DeviceGateway({
    mqttTcp: { host: "127.0.0.1", port: 0 },
    deriveLockPassword: passwordDeriver(),
  });
  await gateway.start();
  const lock = testLock();
  const client = await DeviceMqttClient.connectLock({
    url: `mqtt://127.0.0.1:${gateway.broker?.port ?? 0}`,
    lockId: lock.id,
    password: gateway.admitLock(lock.id).password,
  });
  const s = await session(gateway.openLockTransport(lock.id), client.transport(), lock.keys);
  return {
    ...s,
    async close() {
      await client.close();
      await gateway.close();
    },
  };
}

async function overTcp(): Promise<Pair> {
  let accepted: (t: FrameTransport) => void = () => {};
  const lockTransport = new Promise<FrameTransport>((resolve) => (accepted = resolve));
  const listener = await listenTcp({}, (t) => accepted(t));
  const hubSide = await connectTcp({ port: listener.port });
  const lock = keyPair();
  const s = await session(hubSide, await lockTransport, lock);
  return {
    ...s,
    async close() {
      s.hub.close();
      await listener.close();
    },
  };
}

async function roundTrips(pair: Pair, samples: number): Promise<{ median: number; p99: number }> {
  const request = new Uint8Array(64);
  pair.lock.onMessage((m) => pair.lock.send(m));
  return summarize(
    await sampleMicrosAsync(async () => {
      const reply = pair.hub.nextMessage();
      pair.hub.send(request);
      await reply;
    }, samples),
  );
}

async function throughput(pair: Pair, messages: number, rounds: number): Promise<number[]> {
  const payload = new Uint8Array(256);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let received = 0;
    const done = new Promise<void>((resolve) =>
      pair.hub.onMessage(() => {
        if (++received === messages) resolve();
      }),
    );
    const t0 = performance.now();
    let sent = 0;
    // Keep at most 200 messages in flight so the measure is the carrier, not a queue.
    while (sent < messages) {
      while (sent - received < 200 && sent < messages) {
        pair.lock.send(payload);
        sent++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    rates.push((messages * 1000) / (performance.now() - t0));
  }
  return rates;
}

const suite: BenchSuite = {
  name: "device gateway",
  async run(ctx) {
    const samples = ctx.quick ? 300 : 2000;
    const messages = ctx.quick ? 2000 : 20000;
    const rounds = ctx.quick ? 3 : 7;
    const results: BenchResult[] = [];
    const mqtt = await overMqtt();
    const tcp = await overTcp();
    try {
      const rtMqtt = await roundTrips(mqtt, samples);
      const rtTcp = await roundTrips(tcp, samples);
      results.push({
        name: "KK session round trip, 64 B, via embedded MQTT broker (ratio = MQTT / direct TCP)",
        unit: "µs",
        median: rtMqtt.median,
        p99: rtMqtt.p99,
        reference: { name: "same session over direct TCP", median: rtTcp.median, unit: "µs" },
        ratio: rtMqtt.median / rtTcp.median,
      });
      const thMqtt = summarize(await throughput(mqtt, messages, rounds));
      const thTcp = summarize(await throughput(tcp, messages, rounds));
      results.push({
        name: "lock → hub messages/s, 256 B, via embedded MQTT broker (ratio = MQTT / direct TCP)",
        unit: "messages/s",
        median: thMqtt.median,
        p99: null,
        reference: { name: "same session over direct TCP", median: thTcp.median, unit: "messages/s" },
        ratio: thMqtt.median / thTcp.median,
      });
    } finally {
      await mqtt.close();
      await tcp.close();
    }
    for (const r of results)
      ctx.log(`${r.name}: ${r.median.toFixed(0)} ${r.unit} (ratio ${r.ratio?.toFixed(2)})`);
    return results;
  },
};

export default suite;
