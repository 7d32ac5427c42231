/**
 * SPAKE2+ against the published test vectors of RFC 9383 (SPAKE2+), Appendix C,
 * "SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors". The vector file lives in the shared
 * folder beside the repository clone (`../shared/vectors/spake2plus/`), as in CI.
 */
import { readFileSync } from "node:fs";
import { p256 } from "@noble/curves/nist.js";
import { afterAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/error.js";
import {
  deriveProverSecrets,
  proverFinish,
  proverShare,
  scalarFromBytes,
  verifierFinish,
  verifierRecordFromSecrets,
  verifierShare,
} from "./spake2plus.js";

interface Spake2PlusVector {
  source?: string;
  context: string;
  idProver: string;
  idVerifier: string;
  w0: string;
  w1: string;
  L: string;
  x: string;
  shareP: string;
  y: string;
  shareV: string;
  Z: string;
  V: string;
  TT: string;
  K_main: string;
  K_confirmP: string;
  K_confirmV: string;
  confirmP: string;
  confirmV: string;
  K_shared: string;
}

const vectorUrl = new URL(
  "../../../../../shared/vectors/spake2plus/rfc9383-p256-sha256.json",
  import.meta.url,
);
const parsed: unknown = JSON.parse(readFileSync(vectorUrl, "utf8"));
const vectors = (Array.isArray(parsed) ? parsed : [parsed]) as Spake2PlusVector[];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let run = 0;
let passed = 0;

afterAll(() => {
  console.log(`spake2+ vectors: ${run} run, ${passed} passed`);
});

describe("SPAKE2+ P256-SHA256 (RFC 9383 Appendix C)", () => {
  it("has at least one vector", () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  vectors.forEach((v, i) => {
    it(`vector ${i}: every intermediate value matches on both sides`, () => {
      run++;
      const ids = { context: utf8(v.context), idProver: utf8(v.idProver), idVerifier: utf8(v.idVerifier) };
      const secrets = { w0: scalarFromBytes(fromHex(v.w0)), w1: scalarFromBytes(fromHex(v.w1)) };
      const record = verifierRecordFromSecrets(secrets);
      expect(toHex(record.L)).toBe(v.L);

      const x = scalarFromBytes(fromHex(v.x));
      const y = scalarFromBytes(fromHex(v.y));
      const shareP = proverShare(secrets.w0, x);
      expect(toHex(shareP)).toBe(v.shareP);
      const shareV = verifierShare(record.w0, y);
      expect(toHex(shareV)).toBe(v.shareV);

      const prover = proverFinish(ids, secrets, x, shareP, shareV);
      const verifier = verifierFinish(ids, record, y, shareP, shareV);
      for (const side of [prover, verifier]) {
        expect(toHex(side.Z)).toBe(v.Z);
        expect(toHex(side.V)).toBe(v.V);
        expect(toHex(side.TT)).toBe(v.TT);
        expect(toHex(side.K_main)).toBe(v.K_main);
        expect(toHex(side.K_confirmP)).toBe(v.K_confirmP);
        expect(toHex(side.K_confirmV)).toBe(v.K_confirmV);
        expect(toHex(side.confirmP)).toBe(v.confirmP);
        expect(toHex(side.confirmV)).toBe(v.confirmV);
        expect(toHex(side.K_shared)).toBe(v.K_shared);
      }
      passed++;
    });
  });
});

describe("SPAKE2+ attacks", () => {
  const ids = { context: utf8("ctx"), idProver: utf8("hub"), idVerifier: utf8("lock") };
  const secrets = deriveProverSecrets(Uint8Array.of(1, 2, 3, 4), new Uint8Array(16), 1000);
  const record = verifierRecordFromSecrets(secrets);

  it("refuses an off-curve, compressed or identity share with COMM_INVALID_POINT", () => {
    const shareV = verifierShare(record.w0, 7n);
    const offCurve = shareV.slice();
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    const bad = [offCurve, shareV.slice(0, 33), new Uint8Array(65), Uint8Array.of(0)];
    for (const b of bad) {
      let caught: unknown;
      try {
        proverFinish(ids, secrets, 5n, proverShare(secrets.w0, 5n), b);
      } catch (e) {
        caught = e;
      }
      expect(isLatchkeyError(caught, "COMM_INVALID_POINT")).toBe(true);
    }
  });

  it("refuses shareP = w0·M, which would make Z the identity", () => {
    // An attacker who knows w0 (a stolen lock record) sends X = w0·M so that X − w0·M = 0.
    const M = p256.Point.fromBytes(
      fromHex("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"),
    );
    const evil = M.multiply(secrets.w0).toBytes(false);
    let caught: unknown;
    try {
      verifierFinish(ids, record, 3n, evil, verifierShare(record.w0, 3n));
    } catch (e) {
      caught = e;
    }
    expect(isLatchkeyError(caught, "COMM_INVALID_POINT")).toBe(true);
  });

  it("gives different keys when the setup codes differ (the prover cannot confirm)", () => {
    const wrong = deriveProverSecrets(Uint8Array.of(9, 9, 9, 9), new Uint8Array(16), 1000);
    const shareP = proverShare(wrong.w0, 11n);
    const shareV = verifierShare(record.w0, 13n);
    const p = proverFinish(ids, wrong, 11n, shareP, shareV);
    const v = verifierFinish(ids, record, 13n, shareP, shareV);
    expect(toHex(p.confirmP)).not.toBe(toHex(v.confirmP));
    expect(toHex(p.confirmV)).not.toBe(toHex(v.confirmV));
    expect(toHex(p.K_shared)).not.toBe(toHex(v.K_shared));
  });
});

describe("PBKDF2 for the prover secrets", () => {
  it("node:crypto's PBKDF2 gives the same w0, w1 as the portable one", async () => {
    const { pbkdf2Sync } = await import("node:crypto");
    const password = new TextEncoder().encode("20202021");
    const salt = new Uint8Array(16).fill(7);
    const viaNode = deriveProverSecrets(
      password,
      salt,
      1000,
      (p, s, c, n) => new Uint8Array(pbkdf2Sync(p, s, c, n, "sha256")),
    );
    expect(viaNode).toEqual(deriveProverSecrets(password, salt, 1000));
    expect(deriveProverSecrets(password, salt, 1001)).not.toEqual(viaNode);
  });
});
