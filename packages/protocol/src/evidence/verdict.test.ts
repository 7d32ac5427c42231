/**
 * The verdict rule and the trust file, on the committed test vectors (examples/evidence/vectors):
 * proven only with both keys pinned and nothing missing; a consistent bundle from an attacker's
 * keys is never better than not conclusive, and invalid against the real pins; declared missing
 * events are never proven. The trust file parser is strict and throws nothing but its one code.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/error.js";
import { encodeBase64 } from "../note/base64.js";
import { buildEvidenceReport, renderEvidenceReportBody, renderEvidenceReportText } from "./report.js";
import { formatTrustFile, NO_TRUST, parsePinnedKey, parseTrustFile, type EvidenceTrust } from "./trust.js";
import { evidenceVerdict, unreadableVerdict, VERDICT_EXIT_CODES } from "./verdict.js";
import { keyFingerprint, verifyEvidenceBundle, type EvidenceVerification } from "./verify.js";

const vectors = join(import.meta.dirname, "../../../../examples/evidence/vectors");
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(vectors, name)));
const verify = (name: string): EvidenceVerification =>
  verifyEvidenceBundle(file(name), { ed25519: nobleEd25519 });

const valid = verify("valid.json");
if (valid.status !== "valid") throw new Error("the committed valid vector must verify");
const owner = valid.verified.bundle.owner.publicKey;
const ledger = valid.verified.bundle.ledger;
const pinBoth: EvidenceTrust = {
  ...NO_TRUST,
  owners: [owner],
  ledgers: [{ origin: ledger.origin, publicKey: ledger.publicKey }],
};
const other = new Uint8Array(32).fill(7);

function trustError(text: string): string {
  try {
    parseTrustFile(text);
    return "ok";
  } catch (e) {
    if (isLatchkeyError(e)) return `${e.code} ${String(e.details?.field)}`;
    throw e;
  }
}

describe("the verdict rule", () => {
  it("is proven (exit 0) only with the owner and ledger keys pinned", () => {
    const v = evidenceVerdict(valid, pinBoth);
    expect([v.verdict, v.exitCode, v.reasons]).toEqual(["proven", 0, []]);
    expect(v.headline).toMatch(/^PROVEN: /);
    expect(v.keys?.owner).toEqual({
      publicKey: encodeBase64(owner),
      fingerprint: keyFingerprint(owner),
      pinned: true,
    });
  });

  it("is not conclusive (exit 3) when a key is not pinned, and names the fingerprint to compare", () => {
    const none = evidenceVerdict(valid);
    expect([none.verdict, none.exitCode]).toEqual(["not-conclusive", 3]);
    expect(none.reasons.map((r) => r.code)).toEqual(["owner-key-not-pinned", "ledger-key-not-pinned"]);
    expect(none.reasons[0]?.message).toContain(
      `owner key not pinned: compare fingerprint ${keyFingerprint(owner)}`,
    );
    expect(none.reasons[1]?.message).toContain(keyFingerprint(ledger.publicKey));
    const ownerOnly = evidenceVerdict(valid, { ...NO_TRUST, owners: [owner] });
    expect(ownerOnly.reasons.map((r) => r.code)).toEqual(["ledger-key-not-pinned"]);
  });

  it("matches any of several pinned owner keys, and a ledger key pinned without an origin", () => {
    const v = evidenceVerdict(valid, {
      ...NO_TRUST,
      owners: [other, owner],
      ledgers: [{ origin: null, publicKey: ledger.publicKey }],
    });
    expect(v.verdict).toBe("proven");
  });

  it("is invalid (exit 1) when a pinned key does not match, naming the key", () => {
    const wrongOwner = evidenceVerdict(valid, { ...pinBoth, owners: [other] });
    expect([wrongOwner.verdict, wrongOwner.exitCode]).toEqual(["invalid", 1]);
    expect(wrongOwner.reasons[0]).toMatchObject({ code: "untrusted-key", element: "owner.publicKey" });
    const wrongOrigin = evidenceVerdict(valid, {
      ...pinBoth,
      ledgers: [{ origin: "elsewhere/ledger", publicKey: ledger.publicKey }],
    });
    expect(wrongOrigin.reasons[0]).toMatchObject({ code: "untrusted-key", element: "ledger.origin" });
  });

  it("never proves a bundle made from an attacker's keys", () => {
    const forged = verify("attacker-keys.json");
    expect(forged.status).toBe("valid"); // internally consistent: that is the point
    expect(evidenceVerdict(forged).verdict).toBe("not-conclusive");
    const pinned = evidenceVerdict(forged, pinBoth);
    expect(pinned.verdict).toBe("invalid");
    expect(pinned.reasons.map((r) => r.element)).toEqual(["owner.publicKey", "ledger.publicKey"]);
    // The report tells no story for a refused bundle, in text or HTML.
    const report = buildEvidenceReport(forged, pinned);
    expect(renderEvidenceReportText(report)).not.toContain("Front door was");
    expect(renderEvidenceReportBody(report)).not.toContain("data-summary");
    expect(renderEvidenceReportBody(report)).toContain('data-verdict="invalid"');
  });

  it("never proves a bundle with declared missing events, even with both keys pinned", () => {
    const missing = verify("missing-range.json");
    expect(missing.status).toBe("valid");
    const v = evidenceVerdict(missing, pinBoth);
    expect([v.verdict, v.exitCode]).toEqual(["not-conclusive", 3]);
    const range = missing.status === "valid" ? missing.verified.bundle.locks[0]!.missing[0]! : [0, 0];
    expect(v.reasons).toEqual([
      expect.objectContaining({
        code: "missing-events",
        element: "locks[0].missing[0]",
        message: expect.stringContaining(
          `events seq ${range[0]}–${range[1]} of Front door are missing from the hub's ledger`,
        ) as unknown,
      }),
    ]);
  });

  it("keeps the verifier's first failure for invalid and unreadable bundles, whatever is pinned", () => {
    const tampered = evidenceVerdict(verify("tampered-byte.json"), pinBoth);
    expect([tampered.verdict, tampered.exitCode, tampered.reasons[0]?.element]).toEqual([
      "invalid",
      1,
      "locks[0].events[0]",
    ]);
    const version = evidenceVerdict(verify("unsupported-version.json"), pinBoth);
    expect([version.verdict, version.exitCode, version.reasons[0]?.code]).toEqual([
      "unreadable",
      2,
      "unsupported-version",
    ]);
    const io = unreadableVerdict("unreadable-file", "file", "cannot read x.json: ENOENT");
    expect([io.verdict, io.exitCode, io.keys]).toEqual(["unreadable", 2, null]);
    expect(VERDICT_EXIT_CODES).toEqual({ proven: 0, invalid: 1, unreadable: 2, "not-conclusive": 3 });
  });

  it("puts the verdict first in the report, its text and its HTML", () => {
    const report = buildEvidenceReport(valid, evidenceVerdict(valid));
    expect(report.conclusion.verdict).toBe("not-conclusive");
    expect(renderEvidenceReportText(report).split("\n")[0]).toMatch(/^NOT CONCLUSIVE: /);
    const html = renderEvidenceReportBody(report);
    expect(html.indexOf('data-verdict="not-conclusive"')).toBe(html.indexOf("data-verdict"));
    expect(html).toContain('data-reason-code="owner-key-not-pinned"');
    // Without a verdict given, the report assumes nothing pinned.
    expect(buildEvidenceReport(valid).conclusion.verdict).toBe("not-conclusive");
    expect(buildEvidenceReport(valid, evidenceVerdict(valid, pinBoth)).proven[0]).toContain(
      "are the ones you pinned",
    );
  });
});

describe("the trust file", () => {
  const demo = readFileSync(join(vectors, "trust-demo.json"), "utf8");

  it("round-trips through formatTrustFile, keys in base64, and accepts hex keys", () => {
    const t = parseTrustFile(demo);
    expect(t.owners).toEqual([owner]);
    expect(t.ledgers).toEqual([{ origin: ledger.origin, publicKey: ledger.publicKey }]);
    expect(formatTrustFile(t) + "\n").toBe(demo);
    const hex = JSON.stringify({
      format: "latchkey-trust",
      version: 1,
      owners: [{ publicKey: toHex(owner) }],
      ledgers: [],
      witnesses: [{ name: "witness.example/w1", publicKey: encodeBase64(other) }],
    });
    expect(parseTrustFile(new TextEncoder().encode(hex)).witnesses).toEqual([
      { name: "witness.example/w1", publicKey: other },
    ]);
  });

  it("refuses bad files with EVIDENCE_TRUST_INVALID naming the field", () => {
    const base = {
      format: "latchkey-trust",
      version: 1,
      owners: [{ publicKey: encodeBase64(owner) }],
      ledgers: [],
    };
    const t = (o: unknown): string => trustError(JSON.stringify(o));
    expect(trustError("not json")).toBe("EVIDENCE_TRUST_INVALID file");
    expect(t({ ...base, format: "latchkey-evidence" })).toBe("EVIDENCE_TRUST_INVALID format");
    expect(t({ ...base, version: 2 })).toBe("EVIDENCE_TRUST_INVALID version");
    expect(t({ ...base, owner: [] })).toBe("EVIDENCE_TRUST_INVALID owner");
    expect(t({ ...base, owners: [{ publicKey: "470d 26c7 4a54 90cd" }] })).toBe(
      "EVIDENCE_TRUST_INVALID owners[0].publicKey",
    );
    expect(t({ ...base, owners: [{ publicKey: encodeBase64(owner.slice(1)) }] })).toBe(
      "EVIDENCE_TRUST_INVALID owners[0].publicKey",
    );
    expect(t({ ...base, ledgers: [{ publicKey: encodeBase64(owner) }] })).toBe(
      "EVIDENCE_TRUST_INVALID ledgers[0].origin",
    );
    expect(t({ ...base, owners: [] })).toBe("EVIDENCE_TRUST_INVALID owners");
  });

  it("takes full keys only: a fingerprint is refused with a reason", () => {
    expect(parsePinnedKey(toHex(owner).toUpperCase(), "--owner-key")).toEqual(owner);
    expect(parsePinnedKey(encodeBase64(owner), "--owner-key")).toEqual(owner);
    expect(() => parsePinnedKey(keyFingerprint(owner), "--owner-key")).toThrow(/is a fingerprint/);
    expect(() => parsePinnedKey("abc", "--owner-key")).toThrow(/64 hex digits or 44 characters of base64/);
  });

  it("throws nothing but EVIDENCE_TRUST_INVALID for random input (fuzzed)", () => {
    const check = (input: string | Uint8Array): void => {
      try {
        parseTrustFile(input);
      } catch (e) {
        if (!isLatchkeyError(e) || e.code !== "EVIDENCE_TRUST_INVALID") throw e;
      }
    };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 300 })), (x) => check(x)),
      { numRuns: 500 },
    );
    // Mutations of a real trust file.
    fc.assert(
      fc.property(fc.nat(demo.length - 1), fc.string({ maxLength: 3 }), (i, s) =>
        check(demo.slice(0, i) + s + demo.slice(i + 1)),
      ),
      { numRuns: 500 },
    );
  });
});
