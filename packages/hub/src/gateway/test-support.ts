/**
 * Test support for the gateway's tests: a real Noise KK pair of endpoints (hub and lock static
 * keys), unique topic prefixes, waiting helpers, and a plaintext search for the ciphertext checks.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import {
  SecureConnection,
  type ConnectionOptions,
  type FrameTransport,
  type LockId,
} from "@latchkey/protocol";
import { nodeX25519 } from "@latchkey/protocol/node";

export const APP_PROTOCOL = "latchkey/hub-lock/v1";

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyPair(): KeyPair {
  const secretKey = new Uint8Array(randomBytes(32));
  return { secretKey, publicKey: nodeX25519.publicKey(secretKey) };
}

/** A lock: channel keys and a LockId (hash of a public key, as LockId is defined). */
export function testLock(): { readonly id: LockId; readonly keys: KeyPair } {
  const keys = keyPair();
  const id = createHash("sha256").update(randomBytes(32)).digest().subarray(0, 16).toString("hex") as LockId;
  return { id, keys };
}

/** A per-run key for lock broker passwords (the hub uses its hub secret). */
export function passwordDeriver(): (lockId: LockId) => string {
  const key = randomBytes(32);
  return (lockId) =>
    createHmac("sha256", key).update(`latchkey/mqtt-lock-password/v1\0${lockId}`).digest("hex");
}

export function uniquePrefix(): string {
  return `latchkey-test-${randomBytes(6).toString("hex")}/v1`;
}

export function connectionOptions(own: KeyPair, peer: KeyPair): ConnectionOptions {
  return {
    pattern: "KK",
    appProtocol: APP_PROTOCOL,
    staticSecretKey: own.secretKey,
    remoteStaticKey: peer.publicKey,
    x25519: nodeX25519,
  };
}

/** Hub initiates (KK), lock accepts; both over the given transports. */
export async function kkSession(
  hubSide: FrameTransport,
  lockSide: FrameTransport,
  hubKeys: KeyPair,
  lockKeys: KeyPair,
  initiator: "hub" | "lock" = "hub",
): Promise<{ hub: SecureConnection; lock: SecureConnection }> {
  if (initiator === "hub") {
    const accepting = SecureConnection.accept(lockSide, connectionOptions(lockKeys, hubKeys));
    const [hub, lock] = await Promise.all([
      SecureConnection.connect(hubSide, connectionOptions(hubKeys, lockKeys)),
      accepting,
    ]);
    return { hub, lock };
  }
  const accepting = SecureConnection.accept(hubSide, connectionOptions(hubKeys, lockKeys));
  const [lock, hub] = await Promise.all([
    SecureConnection.connect(lockSide, connectionOptions(lockKeys, hubKeys)),
    accepting,
  ]);
  return { hub, lock };
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function decode(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

/** Polls `condition` every 20 ms until true; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Sends with `send` every 200 ms until `received` resolves (frames sent before both sides have
 * re-subscribed after a broker restart are lost, which the channel tolerates).
 */
export async function sendUntilReceived<T>(
  send: () => void,
  received: Promise<T>,
  timeoutMs = 15_000,
): Promise<T> {
  send();
  const timer = setInterval(send, 200);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("message never arrived")), timeoutMs).unref(),
  );
  try {
    return await Promise.race([received, timeout]);
  } finally {
    clearInterval(timer);
  }
}
