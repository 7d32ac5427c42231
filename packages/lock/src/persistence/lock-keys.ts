/**
 * The lock's own secrets, created on first start and kept in `keys.bin` (mode 0600, 65 bytes):
 * a version byte, the 32-byte Ed25519 signing seed and the 32-byte PIN-hash secret. They never
 * leave this file: not in state.json, events, errors or logs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";
import { writeFileAtomic } from "./atomic-file.js";

export interface LockKeys {
  readonly signingSeed: Uint8Array;
  readonly pinSecret: Uint8Array;
}

export const KEYS_FILE = "keys.bin";
const KEYS_VERSION = 1;

export function loadOrCreateKeys(
  dir: string,
  random: (n: number) => Uint8Array,
): { keys: LockKeys; created: boolean } {
  const path = join(dir, KEYS_FILE);
  if (existsSync(path)) {
    const raw = new Uint8Array(readFileSync(path));
    if (raw.length !== 65 || raw[0] !== KEYS_VERSION) {
      throw new LatchkeyError("LOCK_STATE_CORRUPT", `${KEYS_FILE} has a bad length or version`, {
        length: raw.length,
      });
    }
    return { keys: { signingSeed: raw.slice(1, 33), pinSecret: raw.slice(33, 65) }, created: false };
  }
  const keys = { signingSeed: random(32), pinSecret: random(32) };
  const raw = new Uint8Array(65);
  raw[0] = KEYS_VERSION;
  raw.set(keys.signingSeed, 1);
  raw.set(keys.pinSecret, 33);
  writeFileAtomic(path, raw, 0o600);
  return { keys, created: true };
}
