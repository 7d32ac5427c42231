import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { nodeEd25519 } from "../node/ed25519.js";
import { nobleEd25519 } from "./ed25519.js";

// RFC 8032 section 7.1, TEST 2 (one-byte message).
const SEED = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
const PUB = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const MSG = fromHex("72");
const SIG =
  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

describe.each([
  ["noble", nobleEd25519],
  ["node:crypto", nodeEd25519],
])("Ed25519 (%s)", (_name, impl) => {
  it("matches RFC 8032 test 2", () => {
    expect(toHex(impl.publicKey(SEED))).toBe(PUB);
    expect(toHex(impl.sign(SEED, MSG))).toBe(SIG);
    expect(impl.verify(fromHex(PUB), MSG, fromHex(SIG))).toBe(true);
  });

  it("rejects a flipped bit, a wrong key and malformed inputs without throwing", () => {
    const sig = fromHex(SIG);
    sig[5] = (sig[5] ?? 0) ^ 1;
    expect(impl.verify(fromHex(PUB), MSG, sig)).toBe(false);
    expect(impl.verify(impl.publicKey(new Uint8Array(32).fill(7)), MSG, fromHex(SIG))).toBe(false);
    expect(impl.verify(new Uint8Array(31), MSG, fromHex(SIG))).toBe(false);
    expect(impl.verify(fromHex(PUB), MSG, new Uint8Array(10))).toBe(false);
  });
});
