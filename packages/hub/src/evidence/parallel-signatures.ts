/**
 * Checks an evidence bundle's event signatures on other cores while the (synchronous) verifier
 * runs. Ed25519 verification is most of the cost of `latchkey verify` (100,000 events: some 8 s
 * of node:crypto on one core), and the verifier is pure and single-threaded, so the events'
 * signatures are handed to worker threads up front; they take events from the end of the bundle
 * while the verifier works forward from the start and verifies itself whatever no worker has
 * taken yet, so neither side waits for the other.
 *
 * The verifier gets an `Ed25519` whose `verify` answers true from a worker's result only for the
 * very bytes the worker checked (key, message and signature compared byte for byte) and calls
 * the real verify for everything else, including every signature a worker found invalid; so the
 * verdict, and the first failure it names, are exactly those of the one-thread verifier.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { lockEventSigningInput, type Ed25519, type EvidenceBundle } from "@latchkey/protocol";

const SIGNATURE_BYTES = 64;
// Per-event state, shared with the workers (Int32 for Atomics.wait).
const PENDING = 0;
const VALID = 1;
const INVALID = 2;
const TAKEN = 3;
/** Below this many events a worker costs more to start than it saves. */
const DEFAULT_MIN_EVENTS = 2000;
/** A worker that does not report an event it took within this long is given up on. */
const TAKEN_WAIT_MS = 5000;

// Plain JavaScript with node:crypto only, so the same code runs from the sources and the build.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { createPublicKey, verify } = require("node:crypto");
const { keys, items, bounds, keyOf, state, next } = workerData;
const SPKI = Buffer.from("302a300506032b6570032100", "hex");
const keyObjects = [];
for (let k = 0; k < keys.length; k += 32) {
  try {
    keyObjects.push(createPublicKey({ key: Buffer.concat([SPKI, keys.subarray(k, k + 32)]), format: "der", type: "spki" }));
  } catch {
    keyObjects.push(null);
  }
}
for (;;) {
  const i = Atomics.sub(next, 0, 1) - 1;
  if (i < 0 || Atomics.compareExchange(state, i, ${PENDING}, ${TAKEN}) !== ${PENDING}) break;
  const split = bounds[i + 1] - ${SIGNATURE_BYTES};
  let ok = false;
  try {
    const key = keyObjects[keyOf[i]];
    ok = key !== null && verify(null, items.subarray(bounds[i], split), key, items.subarray(split, bounds[i + 1]));
  } catch {
    ok = false;
  }
  Atomics.store(state, i, ok ? ${VALID} : ${INVALID});
  Atomics.notify(state, i);
}
`;

export interface ParallelSignatures {
  /** Use this Ed25519 for the verification; it answers from the workers where it can. */
  readonly ed25519: Ed25519;
  /** Stops the workers (call once the verification is done). */
  stop(): void;
}

function sameBytes(a: Uint8Array, b: Uint8Array, bStart: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let k = 0; k < length; k++) if (a[k] !== b[bStart + k]) return false;
  return true;
}

/**
 * Starts checking the signatures of `bundle`'s events on other threads; `base` (node:crypto's
 * Ed25519) answers everything the workers have not. With one core, or a small bundle, no worker
 * is started and `ed25519` is `base` itself.
 */
export function startParallelSignatures(
  bundle: EvidenceBundle,
  base: Ed25519,
  options: { readonly minEvents?: number; readonly workers?: number } = {},
): ParallelSignatures {
  const count = bundle.locks.reduce((n, l) => n + l.events.length, 0);
  const workerCount = options.workers ?? Math.min(availableParallelism() - 1, 7);
  if (count < (options.minEvents ?? DEFAULT_MIN_EVENTS) || workerCount < 1)
    return { ed25519: base, stop: () => undefined };

  // Each event as the exact bytes its signature check takes: signing input ‖ signature.
  const purpose = lockEventSigningInput(new Uint8Array(0));
  let total = 0;
  for (const lock of bundle.locks)
    for (const e of lock.events) total += purpose.length + Math.max(e.record.length, SIGNATURE_BYTES);
  const items = new Uint8Array(new SharedArrayBuffer(total));
  const bounds = new Int32Array(new SharedArrayBuffer((count + 1) * 4));
  const keyOf = new Int32Array(new SharedArrayBuffer(count * 4)); // a bundle may hold any number of locks
  const keys = new Uint8Array(new SharedArrayBuffer(bundle.locks.length * 32));
  const state = new Int32Array(new SharedArrayBuffer(count * 4));
  const next = new Int32Array(new SharedArrayBuffer(4));
  let i = 0;
  let at = 0;
  bundle.locks.forEach((lock, k) => {
    keys.set(lock.publicKey.subarray(0, 32), k * 32);
    for (const e of lock.events) {
      bounds[i] = at;
      keyOf[i] = k;
      items.set(purpose, at);
      items.set(e.record, at + purpose.length);
      // A record too short to hold a signature is never handed to Ed25519: leave it zero-padded.
      at += purpose.length + Math.max(e.record.length, SIGNATURE_BYTES);
      i++;
    }
  });
  bounds[count] = at;
  next[0] = count;

  const workers: Worker[] = [];
  for (let w = 0; w < workerCount; w++) {
    // A worker that cannot start or fails only leaves its events to this thread (which waits
    // TAKEN_WAIT_MS at worst for one it took).
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: { keys, items, bounds, keyOf, state, next },
      });
      worker.unref();
      worker.on("error", () => undefined);
      workers.push(worker);
    } catch {
      break;
    }
  }

  // The verifier checks the events' signatures in bundle order, each once: follow it.
  let cursor = 0;
  const matches = (j: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
    const split = bounds[j + 1]! - SIGNATURE_BYTES;
    return (
      sameBytes(sig, items, split, SIGNATURE_BYTES) &&
      sameBytes(pub, keys, keyOf[j]! * 32, 32) &&
      sameBytes(msg, items, bounds[j]!, split - bounds[j]!)
    );
  };
  const ed25519: Ed25519 = {
    publicKey: (seed) => base.publicKey(seed),
    sign: (seed, message) => base.sign(seed, message),
    verify: (pub, msg, sig) => {
      const j = cursor;
      if (j < count && matches(j, pub, msg, sig)) {
        cursor++;
        let s = Atomics.compareExchange(state, j, PENDING, TAKEN);
        if (s === PENDING) return base.verify(pub, msg, sig);
        const deadline = performance.now() + TAKEN_WAIT_MS;
        while (s === TAKEN && performance.now() < deadline) {
          Atomics.wait(state, j, TAKEN, 50);
          s = Atomics.load(state, j);
        }
        if (s === VALID) return true;
      }
      return base.verify(pub, msg, sig);
    },
  };
  return {
    ed25519,
    stop: () => {
      // Workers stop at the next event they would take.
      Atomics.store(next, 0, -(2 ** 30));
      for (const worker of workers) void worker.terminate();
    },
  };
}
