/**
 * The witness's memory: for each log origin, the latest checkpoint it cosigned (size, root hash,
 * the note as received). tlog-witness, "add-checkpoint": "The witness MUST persist the new
 * checkpoint before responding." Forgetting it would let a log roll back or fork past the witness,
 * so the file is replaced crash-safely — write a temporary file, fsync it, rename it over the old
 * one, fsync the folder — and a missing or unreadable state makes the witness refuse to start
 * rather than begin again from nothing.
 *
 * `<dir>/state.json`: {"format":"latchkey-witness-state","version":1,
 *   "logs":{"<origin>":{"size":N,"root":"<base64>","checkpoint":"<note>","updatedAt":<ms>}}}
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64, encodeBase64, LatchkeyError, type WitnessLogState } from "@latchkey/protocol";

export const WITNESS_STATE_FILE = "state.json";
const FORMAT = "latchkey-witness-state";

export interface StoredLogState extends WitnessLogState {
  /** The signed checkpoint note the witness cosigned last (kept for its operator). */
  readonly checkpoint: string;
  readonly updatedAt: number;
}

function corrupt(path: string, why: string): LatchkeyError {
  return new LatchkeyError("WITNESS_STATE_CORRUPT", `${path}: ${why}`);
}

/** Reads the state file; throws WITNESS_STATE_CORRUPT if it is missing or not valid. */
export function readWitnessState(dir: string): Map<string, StoredLogState> {
  const path = join(dir, WITNESS_STATE_FILE);
  if (!existsSync(path)) {
    throw corrupt(
      path,
      "is missing. A witness that lost its state must not start again (it could cosign a fork); run `latchkey witness init` in a new directory for a new witness",
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw corrupt(path, "is not JSON");
  }
  const d = doc as { format?: unknown; version?: unknown; logs?: unknown };
  if (d.format !== FORMAT || d.version !== 1 || typeof d.logs !== "object" || d.logs === null)
    throw corrupt(path, "is not a version 1 witness state file");
  const out = new Map<string, StoredLogState>();
  for (const [origin, v] of Object.entries(d.logs as Record<string, unknown>)) {
    const e = v as { size?: unknown; root?: unknown; checkpoint?: unknown; updatedAt?: unknown };
    const root = typeof e.root === "string" ? decodeBase64(e.root) : null;
    if (
      !Number.isSafeInteger(e.size) ||
      (e.size as number) < 0 ||
      root?.length !== 32 ||
      typeof e.checkpoint !== "string" ||
      !Number.isSafeInteger(e.updatedAt)
    )
      throw corrupt(path, `the entry for ${JSON.stringify(origin).slice(0, 80)} is not valid`);
    out.set(origin, {
      size: e.size as number,
      rootHash: root,
      checkpoint: e.checkpoint,
      updatedAt: e.updatedAt as number,
    });
  }
  return out;
}

/** Durably replaces the state file (temp + fsync + rename + fsync of the folder). */
export function writeWitnessState(dir: string, logs: ReadonlyMap<string, StoredLogState>): void {
  const path = join(dir, WITNESS_STATE_FILE);
  const tmp = `${path}.tmp`;
  const entries: Record<string, unknown> = {};
  for (const [origin, s] of [...logs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    entries[origin] = {
      size: s.size,
      root: encodeBase64(s.rootHash),
      checkpoint: s.checkpoint,
      updatedAt: s.updatedAt,
    };
  const text = JSON.stringify({ format: FORMAT, version: 1, logs: entries }, null, 1) + "\n";
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename itself must reach the disk before we answer (POSIX: fsync the directory).
  if (process.platform !== "win32") {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}
