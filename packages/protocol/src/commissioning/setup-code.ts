/**
 * The lock's setup code and the SPAKE2+ secrets derived from it.
 *
 * A setup code is 8 decimal digits (value 1–99 999 998, about 26.5 bits), printed on the lock and
 * in its QR code, as Matter's setup passcode. Trivial codes (00000000, 11111111 … 99999999,
 * 12345678, 87654321) are refused, as Matter does.
 *
 * Why PBKDF2 with a per-lock salt and an iteration count (Matter §5.1.1.6 and §3.9 do the same):
 * SPAKE2+ already makes online guessing the only attack on the exchange itself (one guess per
 * attempt, which the lock rate-limits). But the lock must store a verifier record (w0, L), and
 * anyone who extracts it from the lock's flash can test guesses offline. The salt makes every
 * lock's record different (no table computed once serves all locks) and the iterations make each
 * guess cost PBKDF2 work. With so few possible codes this only slows an attacker down; the real
 * defences are keeping the record in protected storage and the setup code becoming useless after
 * commissioning.
 */
import { LatchkeyError } from "../errors/error.js";
import {
  deriveProverSecrets,
  scalarFromBytes,
  scalarToBytes,
  verifierRecordFromSecrets,
  type Pbkdf2Sha256,
  type Spake2PlusProverSecrets,
} from "../spake2plus/spake2plus.js";

export const SETUP_CODE_DIGITS = 8;
export const PBKDF2_MIN_ITERATIONS = 1000;
export const PBKDF2_MAX_ITERATIONS = 100_000;
/** Default for new locks: ~0.3 s of pure-JS PBKDF2 on a hub, once per commissioning. */
export const PBKDF2_DEFAULT_ITERATIONS = 20_000;
export const PBKDF2_MIN_SALT = 16;
export const PBKDF2_MAX_SALT = 32;

const TRIVIAL_CODES = new Set([
  "00000000",
  "11111111",
  "22222222",
  "33333333",
  "44444444",
  "55555555",
  "66666666",
  "77777777",
  "88888888",
  "99999999",
  "12345678",
  "87654321",
]);

/** A validated setup code: exactly 8 digits. Spaces and dashes in the input are ignored. */
export function normaliseSetupCode(input: string): string {
  const digits = typeof input === "string" ? input.replace(/[\s-]/g, "") : "";
  if (!/^[0-9]{8}$/.test(digits) || TRIVIAL_CODES.has(digits)) {
    // Never echo the code itself.
    throw new LatchkeyError(
      "COMM_INVALID_SETUP_CODE",
      "setup code must be 8 digits and not a trivial sequence",
      {
        length: digits.length,
      },
    );
  }
  return digits;
}

/** A fresh random setup code for a new lock (rejection sampling, so every code is equally likely). */
export function generateSetupCode(randomBytes: (n: number) => Uint8Array): string {
  for (;;) {
    const b = randomBytes(4);
    const v = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
    if (v >= 4_200_000_000) continue; // 42 × 10^8: keeps v mod 10^8 uniform
    const code = String(v % 100_000_000).padStart(8, "0");
    if (!TRIVIAL_CODES.has(code)) return code;
  }
}

/** Matter encodes the passcode as a 32-bit little-endian integer for PBKDF2; so do we. */
function setupCodePassword(code: string): Uint8Array {
  const v = Number(normaliseSetupCode(code));
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

export function checkPbkdfParameters(salt: Uint8Array, iterations: number): void {
  if (!(salt instanceof Uint8Array) || salt.length < PBKDF2_MIN_SALT || salt.length > PBKDF2_MAX_SALT) {
    throw new LatchkeyError("COMM_INVALID_PARAMETERS", "PBKDF2 salt must be 16–32 bytes", {
      field: "salt",
      length: salt?.length ?? -1,
    });
  }
  if (
    !Number.isInteger(iterations) ||
    iterations < PBKDF2_MIN_ITERATIONS ||
    iterations > PBKDF2_MAX_ITERATIONS
  ) {
    throw new LatchkeyError("COMM_INVALID_PARAMETERS", "PBKDF2 iterations must be 1000–100000", {
      field: "iterations",
      iterations,
    });
  }
}

/** The hub's side: (w0, w1) from the setup code (RFC 9383 §3.2, 40 bytes each reduced mod n). */
export function deriveSetupSecrets(
  setupCode: string,
  salt: Uint8Array,
  iterations: number,
  kdf?: Pbkdf2Sha256,
): Spake2PlusProverSecrets {
  checkPbkdfParameters(salt, iterations);
  return deriveProverSecrets(setupCodePassword(setupCode), salt, iterations, kdf);
}

/**
 * What a lock stores from manufacture instead of its setup code: the PBKDF2 parameters it tells
 * the hub, w0 and L = w1·G. Serialisable (bytes only).
 */
export interface CommissioningVerifier {
  readonly salt: Uint8Array;
  readonly iterations: number;
  /** 32 bytes, big-endian scalar. */
  readonly w0: Uint8Array;
  /** 65 bytes, uncompressed P-256 point. */
  readonly L: Uint8Array;
}

/** Runs once at manufacture (or when the virtual lock is created) with the code printed on the lock. */
export function createCommissioningVerifier(
  setupCode: string,
  salt: Uint8Array,
  iterations = PBKDF2_DEFAULT_ITERATIONS,
): CommissioningVerifier {
  const secrets = deriveSetupSecrets(setupCode, salt, iterations);
  const record = verifierRecordFromSecrets(secrets);
  return { salt: salt.slice(), iterations, w0: scalarToBytes(record.w0), L: record.L };
}

export function verifierScalar(v: CommissioningVerifier): bigint {
  return scalarFromBytes(v.w0);
}
