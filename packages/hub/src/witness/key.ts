/**
 * A witness's identity: its name (a schema-less URL, tlog-cosignature "Format") and Ed25519 key,
 * in `<dir>/witness.key` (mode 0600, like an ssh key: refused if others could read it). The
 * seed never leaves this process and is never printed; the public verifier key
 * `<name>+<key id>+base64(0x04 ‖ public key)` (c2sp.org/signed-note "Verifier keys", type 0x04
 * from tlog-cosignature) is what the witness's operator hands to the hub owner and verifiers.
 *
 * File format (text): `latchkey-witness-key v1\n<name>\n<64 hex digits>\n`.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatVerifierKey, LatchkeyError, SIG_TYPE_COSIGNATURE_V1 } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";

export const WITNESS_KEY_FILE = "witness.key";
const HEADER = "latchkey-witness-key v1";
/** A C2SP key name in printable ASCII: no spaces, no '+'. */
export const WITNESS_NAME_RE = /^[!-*,-~]{1,200}$/;

export interface WitnessKey {
  readonly name: string;
  /** 32-byte Ed25519 seed; in memory only. */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

function invalid(message: string): LatchkeyError {
  return new LatchkeyError("WITNESS_KEY_INVALID", message);
}

/** The cosignature/v1 verifier key line of a witness. */
export function witnessVerifierKey(key: Pick<WitnessKey, "name" | "publicKey">): string {
  return formatVerifierKey(key.name, SIG_TYPE_COSIGNATURE_V1, key.publicKey);
}

/** Creates `<dir>/witness.key` (refusing to replace one: a witness's key is its identity). */
export function createWitnessKey(dir: string, name: string): WitnessKey {
  if (!WITNESS_NAME_RE.test(name)) {
    throw new LatchkeyError(
      "WITNESS_CONFIG_INVALID",
      "--name must be 1-200 printable characters without spaces or '+' (e.g. witness.example.org/alice)",
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, WITNESS_KEY_FILE);
  if (existsSync(path)) throw invalid(`${path} already exists: this directory already holds a witness`);
  const seed = randomBytes(32);
  try {
    writeFileSync(path, `${HEADER}\n${name}\n${seed.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    seed.fill(0);
    if ((e as { code?: string }).code === "EEXIST") throw invalid(`${path} already exists`);
    throw e;
  }
  const out = new Uint8Array(seed);
  seed.fill(0);
  return { name, seed: out, publicKey: nodeEd25519.publicKey(out) };
}

export function loadWitnessKey(dir: string): WitnessKey {
  const path = join(dir, WITNESS_KEY_FILE);
  if (!existsSync(path)) throw invalid(`${path} does not exist; run \`latchkey witness init\` first`);
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0)
    throw invalid(`${path} is readable or writable by group/others; chmod 600 it`);
  const [header, name, hex] = readFileSync(path, "utf8").split("\n");
  if (header !== HEADER || name === undefined || !WITNESS_NAME_RE.test(name))
    throw invalid(`${path} is not a latchkey witness key file`);
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex))
    throw invalid(`${path} must hold a 64-hex-digit seed`);
  const seed = new Uint8Array(Buffer.from(hex, "hex"));
  return { name, seed, publicKey: nodeEd25519.publicKey(seed) };
}
