import type { ErrorDefinition } from "./error.js";

/** Merkle ledger, signed notes, checkpoints, co-signatures and witnesses (prefix `LEDGER_`, `NOTE_`, `WITNESS_`). */
export const LEDGER_ERRORS = {
  LEDGER_RANGE_INVALID: {
    status: 400,
    blame: "caller",
    description:
      "A leaf index, tree size or subtree [start, end) admits no proof (index beyond size, size1 > size2, misaligned subtree).",
  },
  LEDGER_PROOF_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A Merkle proof has the wrong number of hashes for its sizes, or a hash that is not 32 bytes.",
  },
  LEDGER_PROOF_MISMATCH: {
    status: 400,
    blame: "input",
    description: "A Merkle inclusion or consistency proof does not lead to the expected root hash.",
  },
  LEDGER_LEAF_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A ledger leaf record has a wrong purpose tag, an unknown version or kind, or an invalid field.",
  },
  LEDGER_LEAF_NOT_FOUND: {
    status: 404,
    blame: "caller",
    description: "No ledger leaf has the requested index.",
  },
  LEDGER_CHECKPOINT_NOT_FOUND: {
    status: 404,
    blame: "caller",
    description: "No stored ledger checkpoint has the requested tree size.",
  },
  LEDGER_ACK_MISMATCH: {
    status: 409,
    blame: "input",
    description:
      "A lock acknowledged a checkpoint whose hash differs from the one the hub stored at that size (a fork or a forged ack).",
  },
  LEDGER_STORE_CORRUPT: {
    status: 500,
    blame: "internal",
    description:
      "Stored ledger state is inconsistent (a tree node is missing or a stored root disagrees with the leaves).",
  },
  LEDGER_STORE_SIZE_MISMATCH: {
    status: 500,
    blame: "internal",
    description:
      "The ledger on disk holds a different number of leaves than this process expected (another writer?).",
  },
  NOTE_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A signed note breaks c2sp.org/signed-note: not UTF-8, a control character, no blank line before the signatures, or a bad signature line.",
  },
  NOTE_TOO_LARGE: {
    status: 400,
    blame: "input",
    description: "A signed note exceeds the size or signature-count limit.",
  },
  NOTE_KEY_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A note verifier key (vkey) or key name is malformed, uses an unknown signature type, or its key ID does not match.",
  },
  NOTE_SIGNATURE_INVALID: {
    status: 400,
    blame: "input",
    description: "A note signature from a known key failed to verify.",
  },
  NOTE_UNVERIFIED: {
    status: 400,
    blame: "input",
    description: "A signed note carries no signature from any trusted key.",
  },
  NOTE_CHECKPOINT_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A note's text is not a c2sp.org/tlog-checkpoint (origin, decimal tree size, base64 32-byte root hash, non-empty extension lines).",
  },
  NOTE_COSIGNATURE_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A c2sp.org/tlog-cosignature signature is not 4 + 8 + 64 bytes or its timestamp exceeds 2^63 − 1.",
  },
  WITNESS_REQUEST_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A c2sp.org/tlog-witness add-checkpoint request is malformed: no `old <size>` line, a proof line that is not base64 of 32 bytes, more than 63 proof lines, a proof with old size 0, an old size above the checkpoint's, a body over the size limit, or a checkpoint that is not a signed note.",
  },
  WITNESS_UNKNOWN_LOG: {
    status: 404,
    blame: "input",
    description: "The witness is not configured for the checkpoint's origin (log).",
  },
  WITNESS_LOG_SIGNATURE_INVALID: {
    status: 403,
    blame: "input",
    description:
      "No signature on the submitted checkpoint verifies with the log key the witness is configured with.",
  },
  WITNESS_CONFLICT: {
    status: 409,
    blame: "input",
    description:
      "The old size is not the size the witness last cosigned for this log (details.size says which), or the checkpoint has that size but another root hash (a fork).",
  },
  WITNESS_PROOF_INVALID: {
    status: 422,
    blame: "input",
    description:
      "The consistency proof does not lead from the checkpoint the witness last cosigned to the submitted one: the log's history was rewritten or the proof is wrong.",
  },
  WITNESS_RESPONSE_MALFORMED: {
    status: 502,
    blame: "internal",
    description:
      "A witness answered add-checkpoint with something the protocol does not allow, or with no valid cosignature from the configured witness key.",
  },
  WITNESS_UNAVAILABLE: {
    status: 503,
    blame: "internal",
    description:
      "A witness could not be reached, timed out, or answered with an unexpected HTTP status; the hub tries again with its next checkpoint.",
  },
  WITNESS_STATE_CORRUPT: {
    status: 500,
    blame: "internal",
    description:
      "The witness's state file cannot be read or is not valid; the witness refuses to start rather than forget what it cosigned.",
  },
  WITNESS_KEY_INVALID: {
    status: 500,
    blame: "internal",
    description:
      "The witness key file is missing, not a witness key, or readable by other users (chmod 600), or `witness init` found one already there.",
  },
  WITNESS_CONFIG_INVALID: {
    status: 400,
    blame: "caller",
    description:
      "A `latchkey witness` option is wrong: a --log that is not a log verifier key, a bad --listen address or --name.",
  },
  WITNESS_DIR_LOCKED: {
    status: 409,
    blame: "caller",
    description:
      "Another running witness process uses this directory; two would race on the state file and could roll it back.",
  },
} as const satisfies Record<string, ErrorDefinition>;
