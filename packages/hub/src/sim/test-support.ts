/**
 * Test support for the sim's tests: a real device gateway (embedded broker with a TCP listener,
 * unique topic prefix) and the hub's side of commissioning a simulated lock over it, with the
 * broker password derived as the lock derives it (hub static secret × lock channel public key).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeCommAnnounce,
  deriveBrokerPassword,
  fromHex,
  type FrameTransport,
  type LockId,
} from "@latchkey/protocol";
import { nodeEd25519, nodeX25519 } from "@latchkey/protocol/node";
import type { CommissionedLock } from "@latchkey/protocol";
import { LockClient } from "../drivers/latchkey/lock-client.js";
import { DeviceGateway } from "../gateway/device-gateway.js";
import type { MqttFrameTransport } from "@latchkey/lock/mqtt";
import { uniquePrefix } from "../gateway/test-support.js";
import type { SimLockOptions } from "./sim-lock.js";

export { until } from "../gateway/test-support.js";

/** Few PBKDF2 iterations: tests create many locks. */
export const TEST_COMMISSIONING = { pbkdf2Iterations: 1000 } as const;

/**
 * A simulated lock for a hub test: its wall clock fixed at the hub's fake time, quick to
 * announce, reconnect and retry, and cheap to commission.
 */
export function quickSimLock(
  options: Pick<SimLockOptions, "dir" | "url" | "topicPrefix" | "wallMs">,
): SimLockOptions {
  return {
    ...options,
    clockTickMs: 0,
    announceEveryMs: 200,
    reconnectPeriodMs: 100,
    maxRetryMs: 1_000,
    commissioning: TEST_COMMISSIONING,
  };
}

export interface TestHubSide {
  readonly gateway: DeviceGateway;
  readonly url: string;
  readonly topicPrefix: string;
  readonly hubStaticSecretKey: Uint8Array;
  readonly hubStaticPublicKey: Uint8Array;
  readonly ownerSigningPublicKey: Uint8Array;
  /** Commissioning sessions seen (session id → the lock's transport, announcements filtered out). */
  readonly sessions: Map<string, { transport: FrameTransport; announcedLockId: string | null }>;
  /** Channel public keys of the locks this hub commissioned. */
  readonly channelKeys: Map<LockId, Uint8Array>;
  /** Commissions a lock waiting on `sessionId` with its setup code and admits it to the broker. */
  commission(sessionId: string, setupCode: string): Promise<CommissionedLock>;
  /** A hub KK session to a commissioned lock over the gateway. */
  connectHub(lockId: LockId): Promise<LockClient>;
  close(): Promise<void>;
}

export async function startTestHubSide(
  options: { commissioningMaxClients?: number } = {},
): Promise<TestHubSide> {
  const hubStaticSecretKey = new Uint8Array(randomBytes(32));
  const hubStaticPublicKey = nodeX25519.publicKey(hubStaticSecretKey);
  const ownerSigningPublicKey = nodeEd25519.publicKey(new Uint8Array(randomBytes(32)));
  const channelKeys = new Map<LockId, Uint8Array>();
  const topicPrefix = uniquePrefix();
  const gateway = new DeviceGateway({
    mqttTcp: { host: "127.0.0.1", port: 0 },
    topicPrefix,
    reconnectPeriodMs: 100,
    // Every simulated lock connects from loopback: one source, so it gets the whole allowance.
    commissioning: {
      open: true,
      maxClients: options.commissioningMaxClients ?? 16,
      maxClientsPerSource: options.commissioningMaxClients ?? 16,
    },
    deriveLockPassword: (lockId) => {
      const channel = channelKeys.get(lockId);
      // Not commissioned here: a password nobody can know.
      if (channel === undefined) return randomBytes(32).toString("hex");
      return deriveBrokerPassword({
        x25519: nodeX25519,
        secretKey: hubStaticSecretKey,
        publicKey: channel,
        lockId: fromHex(lockId),
      });
    },
  });
  await gateway.start();
  const sessions = new Map<string, { transport: FrameTransport; announcedLockId: string | null }>();
  gateway.on("commissioning", (sessionId, transport) => {
    const filtered = withoutAnnouncements(transport, sessions, sessionId);
    sessions.set(sessionId, { transport: filtered, announcedLockId: null });
  });
  const url = `mqtt://127.0.0.1:${gateway.broker?.port ?? 0}`;
  return {
    gateway,
    url,
    topicPrefix,
    hubStaticSecretKey,
    hubStaticPublicKey,
    ownerSigningPublicKey,
    sessions,
    channelKeys,
    async commission(sessionId, setupCode) {
      const session = sessions.get(sessionId);
      if (session === undefined) throw new Error(`no commissioning session ${sessionId}`);
      const identity = await LockClient.commission(session.transport, {
        setupCode,
        hubKeys: { ownerSigningPublicKey, hubStaticPublicKey },
      });
      const lockId = Buffer.from(identity.lockId).toString("hex") as LockId;
      channelKeys.set(lockId, identity.channelPublicKey);
      gateway.admitLock(lockId);
      return identity;
    },
    async connectHub(lockId) {
      const channelPublicKey = channelKeys.get(lockId);
      if (channelPublicKey === undefined) throw new Error("lock not commissioned by this hub");
      return LockClient.connectHub(gateway.openLockTransport(lockId), {
        hubStaticSecretKey,
        lock: { channelPublicKey, lockId: fromHex(lockId) },
      });
    },
    close: () => gateway.close(),
  };
}

/**
 * The hub's commissioning transport with the lock's announcements taken out (noting the lock id
 * they claim): the commissioning initiator sees only the PAKE exchange.
 */
function withoutAnnouncements(
  inner: MqttFrameTransport,
  sessions: TestHubSide["sessions"],
  sessionId: string,
): FrameTransport {
  let handler: ((frame: Uint8Array) => void) | null = null;
  inner.onFrame((frame) => {
    const announced = decodeCommAnnounce(frame);
    if (announced !== null) {
      const s = sessions.get(sessionId);
      if (s !== undefined) s.announcedLockId = Buffer.from(announced).toString("hex");
      return;
    }
    handler?.(frame);
  });
  return {
    send: (frame) => inner.send(frame),
    close: () => inner.close(),
    onClose: (fn) => inner.onClose(fn),
    onFrame: (fn) => {
      handler = fn;
    },
  };
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = "latchkey-sim-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
