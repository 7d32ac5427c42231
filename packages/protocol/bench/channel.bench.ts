// Secure channel: a full Noise IK handshake + one "unlock" request + a signed acknowledgement over
// loopback TCP on a fresh connection per sample, against node:tls TLS 1.3 with mutual certificate
// authentication (P-256 certificates from openssl) doing the same on a fresh connection; and
// handshakes per second per core in memory.
import { diffieHellman, generateKeyPairSync, randomBytes } from "node:crypto";
import {
  ChannelSession,
  SecureConnection,
  nobleX25519,
  type ConnectionOptions,
  type ChannelSessionOptions,
  type X25519,
} from "@latchkey/protocol";
import { connectTcp, listenTcp, nodeEd25519, nodeX25519 } from "@latchkey/protocol/node";
import type { BenchResult, BenchSuite } from "../../../bench/harness.js";
import { median, rateRounds, sampleMicrosAsync, summarize } from "../../../bench/harness.js";
import { tlsRequestAckSamples } from "../../../bench/tls-reference.js";

const REQUEST = new TextEncoder().encode("unlock front-door req#0000000001"); // 32 bytes
const LOCK_SIGNING_SEED = new Uint8Array(randomBytes(32));
const HUB_STATIC = new Uint8Array(randomBytes(32));
const LOCK_STATIC = new Uint8Array(randomBytes(32));
const APP = "latchkey/bench/v1";
const HUB_PUBLIC = nobleX25519.publicKey(HUB_STATIC);
const LOCK_PUBLIC = nobleX25519.publicKey(LOCK_STATIC);

/** The lock's signed acknowledgement: Ed25519 over a purpose tag and the request. */
function signedAck(request: Uint8Array): Uint8Array {
  const tag = new TextEncoder().encode("latchkey/bench-ack/v1");
  const signature = nodeEd25519.sign(LOCK_SIGNING_SEED, Buffer.concat([tag, request]));
  return Buffer.concat([Uint8Array.of(0x01), signature]); // status ok + 64-byte signature
}

function channelOptions(role: "hub" | "lock", x: X25519): ChannelSessionOptions {
  return {
    pattern: "IK",
    appProtocol: APP,
    staticSecretKey: role === "hub" ? HUB_STATIC : LOCK_STATIC,
    remoteStaticKey: role === "hub" ? LOCK_PUBLIC : HUB_PUBLIC,
    x25519: x,
  };
}

async function noiseOverTcp(samples: number): Promise<number[]> {
  const lockOptions: ConnectionOptions = channelOptions("lock", nodeX25519);
  const hubOptions: ConnectionOptions = channelOptions("hub", nodeX25519);
  const listener = await listenTcp({}, (transport) => {
    SecureConnection.accept(transport, lockOptions).then(
      (conn) => conn.onMessage((m) => conn.send(signedAck(m))),
      () => undefined,
    );
  });
  try {
    return await sampleMicrosAsync(async () => {
      const conn = await SecureConnection.connect(await connectTcp({ port: listener.port }), hubOptions);
      conn.send(REQUEST);
      const ack = await conn.nextMessage();
      if (ack.length !== 65) throw new Error("bad ack");
      conn.close();
    }, samples);
  } finally {
    await listener.close();
  }
}

/** One complete IK handshake in memory (both sides). */
function handshakeInMemory(x: X25519): void {
  const { session: hub, firstFrame } = ChannelSession.initiate(channelOptions("hub", x));
  const lock = ChannelSession.respond(channelOptions("lock", x));
  const r = lock.receive(firstFrame);
  if (r.kind !== "handshake" || r.reply === null) throw new Error("handshake failed");
  hub.receive(r.reply);
}

/** Counts X25519 operations (scalar multiplications) a handshake performs. */
function countX25519Ops(x: X25519): number {
  let ops = 0;
  handshakeInMemory({
    publicKey: (sk) => (ops++, x.publicKey(sk)),
    sharedSecret: (sk, pk) => (ops++, x.sharedSecret(sk, pk)),
    generateKeyPair: () => (
      ops++,
      (
        x.generateKeyPair ??
        (() => {
          throw new Error("no keygen");
        })
      )()
    ),
  });
  return ops;
}

const suite: BenchSuite = {
  name: "secure channel (Noise)",
  async run(ctx) {
    const results: BenchResult[] = [];
    const samples = ctx.quick ? 150 : 1000;
    // Interleave-free but same run: TLS first, then Noise, each with its own warm-up.
    const tls = summarize(await tlsRequestAckSamples(samples, ctx.tmpDir, REQUEST, signedAck));
    const noise = summarize(await noiseOverTcp(samples));
    ctx.log(
      `TLS 1.3 mTLS (P-256) fresh connection + request + signed ack: median ${tls.median.toFixed(0)} µs`,
    );
    ctx.log(`Noise IK fresh connection + request + signed ack: median ${noise.median.toFixed(0)} µs`);
    results.push({
      name: "Noise IK handshake + unlock request + signed ack, fresh loopback TCP connection (node:crypto X25519)",
      unit: "µs",
      median: noise.median,
      p99: noise.p99,
      reference: { name: "node:tls TLS 1.3 mutual auth, same exchange", median: tls.median, unit: "µs" },
      ratio: noise.median / tls.median,
    });

    // Two round trips and two fsync'ed state writes per sample: fewer samples keep --quick short.

    const rounds = ctx.quick ? 3 : 7;
    const ms = ctx.quick ? 300 : 1000;
    const opsPerHandshake = countX25519Ops(nodeX25519);
    // The bare OpenSSL X25519 cost: diffieHellman on ready KeyObjects (no key import/export).
    const a = generateKeyPairSync("x25519");
    const b = generateKeyPairSync("x25519");
    const dhRate = median(
      rateRounds(() => diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }), 1, rounds, ms),
    );
    const boundRate = dhRate / opsPerHandshake;
    const nodeRate = median(rateRounds(() => handshakeInMemory(nodeX25519), 1, rounds, ms));
    ctx.log(`IK handshake: ${opsPerHandshake} X25519 operations (both sides)`);
    results.push({
      name: `IK handshakes/s per core, in memory, both sides (node:crypto X25519; ratio = share of the bare ${opsPerHandshake}-X25519 cost)`,
      unit: "handshakes/s",
      median: nodeRate,
      p99: null,
      reference: {
        name: `bare node:crypto X25519 rate / ${opsPerHandshake}`,
        median: boundRate,
        unit: "handshakes/s",
      },
      ratio: nodeRate / boundRate,
    });
    const nobleRate = median(rateRounds(() => handshakeInMemory(nobleX25519), 1, rounds, ms));
    results.push({
      name: "IK handshakes/s per core, in memory, both sides (@noble X25519, the pure/browser default)",
      unit: "handshakes/s",
      median: nobleRate,
      p99: null,
      reference: { name: "same with node:crypto X25519", median: nodeRate, unit: "handshakes/s" },
      ratio: nobleRate / nodeRate,
    });
    return results;
  },
};

export default suite;
