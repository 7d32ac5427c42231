import type { ErrorDefinition } from "./error.js";

/** Evidence bundles, their verifier and the `latchkey verify` command (prefix `EVIDENCE_`). */
export const EVIDENCE_ERRORS = {
  EVIDENCE_NOT_A_BUNDLE: {
    status: 400,
    blame: "input",
    description:
      "A file given as an evidence bundle is not one: not JSON or not marked `latchkey-evidence` (the CLI exits with 2).",
  },
  EVIDENCE_UNSUPPORTED_VERSION: {
    status: 400,
    blame: "input",
    description: "An evidence bundle carries a format version this software does not know.",
  },
  EVIDENCE_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "An evidence bundle is damaged: not valid UTF-8/JSON, a field missing, extra, of the wrong type or out of range; the details name the element.",
  },
  EVIDENCE_NON_CANONICAL: {
    status: 400,
    blame: "input",
    description:
      "An evidence bundle's bytes are not its canonical JSON serialisation (whitespace, key order, escapes or encodings were changed); the details give the first differing byte.",
  },
  EVIDENCE_INVALID: {
    status: 400,
    blame: "input",
    description:
      "An evidence bundle failed verification (signature, hash chain, proof, checkpoint, commissioning record or seal); the details name the first failing element and why.",
  },
  EVIDENCE_COMMISSIONING_INVALID: {
    status: 400,
    blame: "caller",
    description:
      "A commissioning record to encode is invalid (wrong key length, a name or time zone too long or empty).",
  },
  EVIDENCE_TRUST_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A trust file or pinned key (`latchkey verify --trust/--owner-key/--ledger-key`, the offline page) is not usable: not JSON, not marked `latchkey-trust` version 1, a field unknown, missing or of the wrong type, or a key that is not 32 bytes in hex or base64 (a fingerprint is for comparing by eye, never for pinning); the details name the field (the CLI exits with 2).",
  },
  EVIDENCE_EXPORT_INCOMPLETE: {
    status: 409,
    blame: "caller",
    description:
      "An evidence bundle cannot be exported: the lock has no events in the ledger for the window, or no signed checkpoint covers them yet (sign a checkpoint and retry).",
  },
} as const satisfies Record<string, ErrorDefinition>;
