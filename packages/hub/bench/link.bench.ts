// The real lock endpoint over loopback TCP (a virtual lock with a memory journal): per sample a
// fresh connection, a Noise KK handshake, a `Lock` request and an `EventAck` whose reply carries
// the lock's signed event; next to node:tls TLS 1.3 with mutual authentication doing one request
// and a signed acknowledgement on a fresh connection in the same run.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { nobleX25519 } from "@latchkey/protocol";
import { connectTcp, nodeEd25519 } from "@latchkey/protocol/node";
import type { BenchSuite } from "../../../bench/harness.js";
import { sampleMicrosAsync, summarize } from "../../../bench/harness.js";
import { tlsRequestAckSamples } from "../../../bench/tls-reference.js";
import type { CommissionedLock } from "@latchkey/protocol";
import { VirtualLock, memoryJournalFactory } from "@latchkey/lock";
import { LockClient } from "../src/drivers/latchkey/lock-client.js";

const HUB_STATIC = new Uint8Array(randomBytes(32));
const HUB_PUBLIC = nobleX25519.publicKey(HUB_STATIC);
const REQUEST = new TextEncoder().encode("lock front-door req#000000000001"); // 32 bytes
const ACK_SEED = new Uint8Array(randomBytes(32));

/**
 * The real lock endpoint (a virtual lock, memory journal) over loopback TCP: per sample a fresh
 * connection, a Noise KK handshake, a `Lock` request, and an `EventAck` whose reply carries the
 * lock's signed LockOperation event (two round trips; the ack is persisted by the lock).
 */
async function lockEndpointOverTcp(samples: number, dir: string): Promise<number[]> {
  const lock = VirtualLock.start({
    dir: join(dir, "bench-lock"),
    journal: memoryJournalFactory,
    commissioning: { pbkdf2Iterations: 1000 },
  });
  const listener = await lock.listenTcp();
  const owner = nodeEd25519.publicKey(new Uint8Array(randomBytes(32)));
  try {
    const identity: CommissionedLock = await LockClient.commission(
      await connectTcp({ port: listener.port }),
      {
        setupCode: lock.setupCode ?? "",
        hubKeys: { ownerSigningPublicKey: owner, hubStaticPublicKey: HUB_PUBLIC },
      },
    );
    const lastEvent = (): { seq: number; hash: Uint8Array } => {
      const e = lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1, 1)[0];
      if (e === undefined) throw new Error("empty journal");
      return { seq: e.seq, hash: e.hash };
    };
    return await sampleMicrosAsync(async () => {
      const acked = lastEvent();
      const hub = await LockClient.connectHub(await connectTcp({ port: listener.port }), {
        hubStaticSecretKey: HUB_STATIC,
        lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
      });
      if ((await hub.lock()) !== "OK") throw new Error("lock refused");
      const batch = await hub.expect(
        { kind: "EventAck", upToSeq: acked.seq, hash: acked.hash },
        "EventBatch",
      );
      if (batch.records.length !== 1) throw new Error("expected the lock's one signed event");
      hub.close();
    }, samples);
  } finally {
    await listener.close();
    lock.runtime.shutdown();
  }
}

const suite: BenchSuite = {
  name: "lock endpoint over TCP",
  async run(ctx) {
    const samples = ctx.quick ? 60 : 500;
    const tls = summarize(
      await tlsRequestAckSamples(samples, ctx.tmpDir, REQUEST, (req) => nodeEd25519.sign(ACK_SEED, req)),
    );
    const endpoint = summarize(await lockEndpointOverTcp(samples, ctx.tmpDir));
    ctx.log(`real lock endpoint, Noise KK + Lock + signed event: median ${endpoint.median.toFixed(0)} µs`);
    return [
      {
        name: "real lock endpoint: Noise KK handshake + Lock request + the lock's signed event (EventAck), fresh loopback TCP connection",
        unit: "µs",
        median: endpoint.median,
        p99: endpoint.p99,
        reference: {
          name: "node:tls TLS 1.3 mutual auth, one request + signed ack",
          median: tls.median,
          unit: "µs",
        },
        ratio: endpoint.median / tls.median,
      },
    ];
  },
};

export default suite;
