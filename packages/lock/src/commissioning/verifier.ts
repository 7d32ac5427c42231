/**
 * The SPAKE2+ verifier record a lock keeps instead of its setup code, computed with node:crypto's
 * PBKDF2 (the protocol package's pure-JS one is ~30 times slower; a lock computes this once, at
 * manufacture). Same derivation as `createCommissioningVerifier` (RFC 9383 §3.2, Matter §3.10):
 * PBKDF2-HMAC-SHA256(code as u32 little-endian, salt, iterations, 80 bytes) → w0s ‖ w1s,
 * w0 = w0s mod n, w1 = w1s mod n, L = w1·G. A test checks both give the same record.
 */
import { pbkdf2Sync } from "node:crypto";
import { normaliseSetupCode, spake2plus, type CommissioningVerifier } from "@latchkey/protocol";

function bigIntOf(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function lockCommissioningVerifier(
  setupCode: string,
  salt: Uint8Array,
  iterations: number,
): CommissioningVerifier {
  const v = Number(normaliseSetupCode(setupCode));
  const password = Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const out = new Uint8Array(pbkdf2Sync(password, salt, iterations, 80, "sha256"));
  const n = spake2plus.P256_ORDER;
  const record = spake2plus.verifierRecordFromSecrets({
    w0: bigIntOf(out.subarray(0, 40)) % n,
    w1: bigIntOf(out.subarray(40, 80)) % n,
  });
  out.fill(0);
  return { salt: salt.slice(), iterations, w0: spake2plus.scalarToBytes(record.w0), L: record.L };
}
