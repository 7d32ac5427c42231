/**
 * The hub's ledger checkpoint key: an Ed25519 seed in `<data-dir>/ledger-checkpoint.key`
 * (mode 0600), created at first start, together with the checkpoint origin it signs for. The
 * origin is fixed at creation — checkpoints must keep one origin for the life of the ledger — so
 * a later change of the public URL does not fork the log's name. The seed is never logged; only
 * the public verifier key is shown. Several hub processes sharing one PostgreSQL database must
 * share this file (like secret.key).
 *
 * File format (text): `latchkey-ledger-key v1\n<origin>\n<64 hex digits>\n`.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";

export const CHECKPOINT_KEY_FILE = "ledger-checkpoint.key";
const HEADER = "latchkey-ledger-key v1";

export interface CheckpointKey {
  /** The checkpoint origin line, e.g. "hub.example/ledger/3f2a9c01". */
  readonly origin: string;
  /** 32-byte Ed25519 seed; keep in memory only. */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A C2SP key name: printable ASCII without spaces or '+'. */
const ORIGIN_RE = /^[!-*,-~]{1,200}$/;

/**
 * The default origin: the public URL's host name and a short fingerprint of the key, so two hubs
 * both called "localhost" still have different log names.
 */
export function defaultLedgerOrigin(publicUrl: string, publicKey: Uint8Array): string {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, "").replace(/[^!-*,-~]/g, "-");
  const fp = createHash("sha256").update(publicKey).digest("hex").slice(0, 8);
  return `${host}/ledger/${fp}`;
}

function invalid(path: string, why: string): LatchkeyError {
  return new LatchkeyError("HUB_LEDGER_KEY_INVALID", `${path}: ${why}`);
}

/**
 * Loads the checkpoint key, creating it on first start. `origin` (from --ledger-origin) is used
 * only at creation; a different explicit origin later is refused rather than silently ignored.
 */
export function loadOrCreateCheckpointKey(
  dataDir: string,
  opts: { readonly publicUrl: string; readonly origin?: string },
): CheckpointKey {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, CHECKPOINT_KEY_FILE);
  if (opts.origin !== undefined && !ORIGIN_RE.test(opts.origin)) {
    throw new LatchkeyError(
      "HUB_CONFIG_INVALID",
      "--ledger-origin must be 1-200 printable characters without spaces or '+'",
    );
  }
  if (!existsSync(path)) {
    const seed = randomBytes(32);
    const origin = opts.origin ?? defaultLedgerOrigin(opts.publicUrl, nodeEd25519.publicKey(seed));
    try {
      writeFileSync(path, `${HEADER}\n${origin}\n${seed.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (e) {
      // Another process created it first: fall through and read theirs.
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
    seed.fill(0);
  }
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    throw invalid(path, "is readable or writable by group/others; chmod 600 it");
  }
  const lines = readFileSync(path, "utf8").split("\n");
  const [header, origin, hex] = lines;
  if (header !== HEADER || origin === undefined || !ORIGIN_RE.test(origin)) {
    throw invalid(path, "is not a latchkey ledger key file");
  }
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) throw invalid(path, "must hold a 64-hex-digit seed");
  if (opts.origin !== undefined && opts.origin !== origin) {
    throw invalid(path, `signs for origin ${origin}, not ${opts.origin}; the origin cannot change`);
  }
  const seed = new Uint8Array(Buffer.from(hex, "hex"));
  return { origin, seed, publicKey: nodeEd25519.publicKey(seed) };
}
