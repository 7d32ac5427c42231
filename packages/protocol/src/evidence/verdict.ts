/**
 * The verdict: the one rule (docs/evidence-format.md "Verdicts and exit codes") that turns a
 * verification outcome and what the verifier pinned into what may be relied on. The CLI, the
 * offline page and the report all take it from here, so they can never disagree.
 *
 *   proven          exit 0  valid, owner AND ledger keys pinned and matching, nothing missing
 *   invalid         exit 1  a check failed, or a pinned key does not match the bundle's
 *   unreadable      exit 2  not a bundle, unsupported version, unreadable file, bad command line
 *                           or trust file
 *   not-conclusive  exit 3  internally consistent, but a key is not pinned and/or the hub
 *                           declared events missing
 *
 * A bundle is internally consistent when made entirely from an attacker's keys, so "valid" alone
 * proves nothing about whose lock and ledger it speaks for: only pinned keys obtained before the
 * incident (the key card) make it proof. Declared missing events are sealed and honest, but a
 * claim never spans them, so such a bundle is never proven.
 */
import { equalBytes } from "../encoding/bytes.js";
import { encodeBase64 } from "../note/base64.js";
import { NO_TRUST, type EvidenceTrust } from "./trust.js";
import { keyFingerprint, type EvidenceFailure, type EvidenceVerification } from "./verify.js";

export type EvidenceVerdictName = "proven" | "invalid" | "unreadable" | "not-conclusive";

export const VERDICT_EXIT_CODES = {
  proven: 0,
  invalid: 1,
  unreadable: 2,
  "not-conclusive": 3,
} as const satisfies Record<EvidenceVerdictName, number>;

export type VerdictExitCode = (typeof VERDICT_EXIT_CODES)[EvidenceVerdictName];

export interface VerdictReason {
  /**
   * Stable code: a verifier failure reason ("bad-signature", "gap", "untrusted-key",
   * "not-a-bundle"…), or "owner-key-not-pinned", "ledger-key-not-pinned", "missing-events",
   * "unreadable-file", "usage", "trust-invalid".
   */
  readonly code: string;
  /** Where: a path into the bundle ("locks[0].missing[0]", "owner.publicKey"), "file" or "trust". */
  readonly element: string;
  /** One line for people. */
  readonly message: string;
}

export interface VerdictKey {
  /** Base64, as in the bundle and the trust file. */
  readonly publicKey: string;
  /** SHA-256(key)[:8] in groups of four: what people compare with the key card. */
  readonly fingerprint: string;
  readonly pinned: boolean;
}

export interface EvidenceVerdict {
  readonly verdict: EvidenceVerdictName;
  readonly exitCode: VerdictExitCode;
  /** One line, beginning with the verdict in capitals ("PROVEN: …", "NOT CONCLUSIVE: …"). */
  readonly headline: string;
  /** Why it is not proven (empty when proven); for invalid/unreadable, the first failure. */
  readonly reasons: readonly VerdictReason[];
  /** The bundle's keys and whether each was pinned (null when the bundle was not read). */
  readonly keys: {
    readonly owner: VerdictKey;
    readonly ledger: VerdictKey & { readonly origin: string };
  } | null;
}

const HEADLINES: Record<EvidenceVerdictName, string> = {
  proven: "PROVEN",
  invalid: "INVALID",
  unreadable: "UNREADABLE",
  "not-conclusive": "NOT CONCLUSIVE",
};

/** The reasons in a few words, for the headline (the full sentences follow it). */
const SHORT: Record<string, string> = {
  "owner-key-not-pinned": "owner key not pinned",
  "ledger-key-not-pinned": "ledger key not pinned",
  "missing-events": "the hub declares events missing",
};

function make(
  verdict: EvidenceVerdictName,
  text: string,
  reasons: readonly VerdictReason[],
  keys: EvidenceVerdict["keys"],
): EvidenceVerdict {
  return {
    verdict,
    exitCode: VERDICT_EXIT_CODES[verdict],
    headline: `${HEADLINES[verdict]}: ${text}`,
    reasons,
    keys,
  };
}

/** A verdict for what never reached the verifier: a file that cannot be read, a bad command line or trust file. */
export function unreadableVerdict(code: string, element: string, message: string): EvidenceVerdict {
  return make("unreadable", message, [{ code, element, message }], null);
}

function failed(f: EvidenceFailure, unreadable: boolean): EvidenceVerdict {
  return make(
    unreadable ? "unreadable" : "invalid",
    unreadable
      ? `${f.message} (nothing in this file can be relied on)`
      : `${f.message} (nothing in this bundle can be relied on)`,
    [{ code: f.reason, element: f.element, message: f.message }],
    null,
  );
}

/**
 * The verdict on a verification outcome given the keys the verifier pinned (default: none). Pure;
 * never throws.
 */
export function evidenceVerdict(
  result: EvidenceVerification,
  trust: EvidenceTrust = NO_TRUST,
): EvidenceVerdict {
  if (result.status !== "valid") return failed(result.failure, result.status === "unreadable");
  const v = result.verified;
  const b = v.bundle;
  const ownerFp = keyFingerprint(b.owner.publicKey);
  const ledgerFp = keyFingerprint(b.ledger.publicKey);

  // A pinned key that does not match is a refusal: the bundle speaks for someone else's lock or log.
  const untrusted: VerdictReason[] = [];
  const ownerPinned = trust.owners.some((k) => equalBytes(k, b.owner.publicKey));
  if (trust.owners.length > 0 && !ownerPinned)
    untrusted.push({
      code: "untrusted-key",
      element: "owner.publicKey",
      message: `owner.publicKey: the bundle's owner key (fingerprint ${ownerFp}) is not the pinned owner key (${trust.owners.map(keyFingerprint).join(", ")})`,
    });
  const sameKey = trust.ledgers.filter((l) => equalBytes(l.publicKey, b.ledger.publicKey));
  const ledgerPinned = sameKey.some((l) => l.origin === null || l.origin === b.ledger.origin);
  if (trust.ledgers.length > 0 && !ledgerPinned)
    untrusted.push(
      sameKey.length > 0
        ? {
            code: "untrusted-key",
            element: "ledger.origin",
            message: `ledger.origin: the ledger key is pinned for origin ${sameKey.map((l) => `"${l.origin ?? ""}"`).join(", ")}, not "${b.ledger.origin}"`,
          }
        : {
            code: "untrusted-key",
            element: "ledger.publicKey",
            message: `ledger.publicKey: the bundle's ledger key (fingerprint ${ledgerFp}) is not the pinned ledger key (${trust.ledgers.map((l) => keyFingerprint(l.publicKey)).join(", ")})`,
          },
    );
  const keys = {
    owner: { publicKey: encodeBase64(b.owner.publicKey), fingerprint: ownerFp, pinned: ownerPinned },
    ledger: {
      origin: b.ledger.origin,
      publicKey: encodeBase64(b.ledger.publicKey),
      fingerprint: ledgerFp,
      pinned: ledgerPinned,
    },
  };
  if (untrusted.length > 0)
    return make(
      "invalid",
      `${untrusted[0]!.message} (the bundle is internally consistent but signed by keys you did not pin)`,
      untrusted,
      keys,
    );

  const reasons: VerdictReason[] = [];
  if (!ownerPinned)
    reasons.push({
      code: "owner-key-not-pinned",
      element: "owner.publicKey",
      message: `owner key not pinned: compare fingerprint ${ownerFp} with the one the owner registered, then pin the key (--owner-key or a trust file)`,
    });
  if (!ledgerPinned)
    reasons.push({
      code: "ledger-key-not-pinned",
      element: "ledger.publicKey",
      message: `ledger key not pinned: compare fingerprint ${ledgerFp} (origin ${b.ledger.origin}) with the one the owner registered, then pin the key (--ledger-key or a trust file)`,
    });
  v.locks.forEach((lock, i) => {
    b.locks[i]!.missing.forEach(([first, last], m) =>
      reasons.push({
        code: "missing-events",
        element: `locks[${i}].missing[${m}]`,
        message: `events seq ${first}–${last} of ${lock.commissioning.doorName} are missing from the hub's ledger (declared by the exporter); nothing is proven across them`,
      }),
    );
  });
  if (reasons.length > 0)
    return make(
      "not-conclusive",
      `the bundle is internally consistent, but it is not proof: ${[...new Set(reasons.map((r) => SHORT[r.code]))].join("; ")}`,
      reasons,
      keys,
    );
  return make(
    "proven",
    "every signature, hash link and proof checks out, nothing is missing, and the owner and ledger keys are the pinned ones",
    [],
    keys,
  );
}
