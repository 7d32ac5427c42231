/**
 * Child process of the activity browser test: signs a long lock history (unlocks, with a refusal
 * every 7th) as a real lock's journal would, and streams the records to stdout, each prefixed by
 * its length (u16, big-endian). Signing in a second process lets the test ingest while this one
 * signs.
 *
 *   node --import tsx history-signer.ts <seed hex> <count> <first lock time ms>
 */
import {
  EventKind,
  fromHex,
  lockIdBytesFromPublicKey,
  signLockEventWith,
  ZERO_HASH,
  type EpochMs,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";

const [seedHex, countArg, startArg] = process.argv.slice(2);
const seed = fromHex(seedHex ?? "");
const count = Number(countArg);
const start = Number(startArg);
const lockId = lockIdBytesFromPublicKey(nodeEd25519.publicKey(seed));
const bootId = new Uint8Array(16).fill(9);

let prev = ZERO_HASH;
let seq = 0;

function signChunk(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const i = seq++;
    const denied = i % 7 === 6;
    const { event, record } = signLockEventWith(
      {
        version: 1,
        lockId,
        seq: i + 1,
        bootId,
        lockTime: (start + i * 1000) as EpochMs,
        kind: denied ? EventKind.LockOperationError : EventKind.LockOperation,
        actor: denied
          ? { credentialType: "PIN" }
          : { userIndex: 9, credentialType: "PIN", credentialIndex: 1 },
        details: denied
          ? { reason: "outside-schedule", source: "Keypad" }
          : { operation: "Unlock", source: "Keypad" },
        prevHash: prev,
      },
      (input) => nodeEd25519.sign(seed, input),
    );
    prev = event.hash;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(record.length);
    parts.push(len, Buffer.from(record));
  }
  return Buffer.concat(parts);
}

// Write with back-pressure, so a slow reader holds the signer instead of filling memory.
function next(): void {
  while (seq < count) {
    if (!process.stdout.write(signChunk(Math.min(1000, count - seq)))) {
      process.stdout.once("drain", next);
      return;
    }
  }
}
next();
