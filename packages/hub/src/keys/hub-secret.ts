/**
 * The hub secret: 32 random bytes in `<data-dir>/secret.key` (mode 0600, refused when group or
 * others may read or write it), created at first start.
 * It keys the hashes that find high-entropy tokens (links, recovery codes, doorbell and guest-link
 * tokens) and seals TOTP secrets at rest. It never keys a hash of a PIN or card number: it sits
 * on the same disk, and their spaces are small enough to try whole. Several hub processes
 * sharing one PostgreSQL database must share this file.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";

export class HubSecret {
  readonly #hmacKey: Buffer;
  readonly #sealKey: Buffer;
  readonly #noiseStatic: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.length !== 32) throw new LatchkeyError("HUB_CONFIG_INVALID", "hub secret must be 32 bytes");
    // Separate subkeys per purpose, so one use can never be turned against another.
    this.#hmacKey = Buffer.from(hkdfSync("sha256", secret, "", "latchkey/hub/hmac/v1", 32));
    this.#sealKey = Buffer.from(hkdfSync("sha256", secret, "", "latchkey/hub/seal/v1", 32));
    // The hub's Noise identity: derived, so every hub process sharing secret.key is the same hub
    // to its locks (scale-out) and there is no second key file to back up.
    this.#noiseStatic = Buffer.from(hkdfSync("sha256", secret, "", "latchkey/hub/noise-static/v1", 32));
  }

  /** The hub's X25519 static secret key (Noise KK with its locks). Keep in memory only. */
  noiseStaticSecret(): Uint8Array {
    return new Uint8Array(this.#noiseStatic);
  }

  /**
   * Keyed hash that finds a high-entropy token; `domain` separates purposes. Never for PINs or
   * card numbers (see above): a hash the hub can compute is one it can test guesses against.
   */
  keyedHash(domain: string, value: string): string {
    return createHmac("sha256", this.#hmacKey).update(`${domain}\0${value}`).digest("hex");
  }

  /** ChaCha20-Poly1305 with a random nonce; `context` is bound as associated data. */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("chacha20-poly1305", this.#sealKey, nonce, { authTagLength: 16 });
    const plain = Buffer.from(plaintext, "utf8");
    cipher.setAAD(Buffer.from(context), { plaintextLength: plain.length });
    const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([nonce, body]).toString("base64url");
  }

  open(sealed: string, context: string): string {
    const raw = Buffer.from(sealed, "base64url");
    if (raw.length < 28) throw new LatchkeyError("HUB_SEAL_INVALID", "sealed value is too short");
    const decipher = createDecipheriv("chacha20-poly1305", this.#sealKey, raw.subarray(0, 12), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(context), { plaintextLength: raw.length - 28 });
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(raw.subarray(12, raw.length - 16))),
        decipher.final(),
      ]).toString("utf8");
    } catch (e) {
      throw new LatchkeyError("HUB_SEAL_INVALID", "sealed value failed authentication", undefined, {
        cause: e,
      });
    }
  }
}

/** Loads `<dataDir>/secret.key`, creating it (0600) on first start. */
export function loadOrCreateHubSecret(dataDir: string): HubSecret {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "secret.key");
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  }
  // A key others could have read is no longer a secret: refused, like ssh does, not quietly fixed.
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    throw new LatchkeyError(
      "HUB_DATA_DIR_PERMISSIONS",
      `${path} is readable or writable by group/others; if no one else could have copied it, chmod 600 ${path}`,
    );
  }
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new LatchkeyError("HUB_CONFIG_INVALID", `${path} must hold 64 hex characters`);
  }
  return new HubSecret(Buffer.from(text, "hex"));
}
