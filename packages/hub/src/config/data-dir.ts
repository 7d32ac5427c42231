/**
 * The data directory holds the hub's secrets (secret.key, the checkpoint key, the databases and
 * the demo locks' state), so it is private to the account running the hub: the hub creates it
 * 0700, refuses to start on one that other users can read or enter (HUB_DATA_DIR_PERMISSIONS,
 * naming the fix), and tightens whatever else is inside to 0600 files and 0700 folders (a key
 * file others could read is refused by its loader instead). `latchkey
 * start` also sets umask 077, so files created later (WAL, journals) are private from birth.
 */
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** POSIX permission bits mean nothing on Windows (ACLs decide there). */
const POSIX = process.platform !== "win32";

/** Creates the data directory (0700) or checks an existing one, then tightens its contents. */
export function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // Followed if it is a symbolic link: what matters is the folder the files land in.
  const stat = statSync(dataDir);
  if (!stat.isDirectory())
    throw new LatchkeyError("HUB_CONFIG_INVALID", `data directory ${dataDir} is not a directory`);
  if (!POSIX) return;
  const open = stat.mode & 0o077;
  if (open !== 0) {
    throw new LatchkeyError(
      "HUB_DATA_DIR_PERMISSIONS",
      `data directory ${dataDir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); it holds the hub's keys. Make it private and start again: chmod 700 ${dataDir}`,
      { mode: (stat.mode & 0o777).toString(8) },
    );
  }
  tighten(dataDir);
}

/**
 * Files 0600 and folders 0700, all the way down (symbolic links are left alone). Key files
 * (`*.key`) are not touched: like ssh, their loaders refuse one that others could have read.
 */
function tighten(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if ((lstatSync(path).mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(path, PRIVATE_DIR_MODE);
      tighten(path);
    } else if (entry.isFile() && !entry.name.endsWith(".key") && (lstatSync(path).mode & 0o077) !== 0) {
      chmodSync(path, PRIVATE_FILE_MODE);
    }
  }
}

/**
 * Makes sure `path` exists as a private file before a library opens it (SQLite gives its -wal
 * and -shm files the database file's mode), and tightens it if it existed.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", PRIVATE_FILE_MODE));
  if (POSIX && (lstatSync(path).mode & 0o077) !== 0) chmodSync(path, PRIVATE_FILE_MODE);
}
