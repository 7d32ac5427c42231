import type { ErrorDefinition } from "./error.js";

/** Signed lock journal events: encoding, chain and signature verification, storage (prefix `JOURNAL_`). */
export const JOURNAL_ERRORS = {
  JOURNAL_UNSUPPORTED_VERSION: {
    status: 400,
    blame: "input",
    description: "A journal event record carries a format version this software does not know.",
  },
  JOURNAL_UNKNOWN_KIND: {
    status: 400,
    blame: "input",
    description: "A journal event record carries an event kind number this software does not know.",
  },
  JOURNAL_RECORD_SIZE: {
    status: 400,
    blame: "input",
    description:
      "A journal event record is shorter than the smallest or longer than the largest valid event.",
  },
  JOURNAL_NON_CANONICAL: {
    status: 400,
    blame: "input",
    description:
      "A journal event record is not in canonical form (unsorted or repeated detail keys, reserved bits set, an integer stored as a float…).",
  },
  JOURNAL_EVENT_INVALID: {
    status: 400,
    blame: "caller",
    description:
      "An event to encode or append is invalid: unknown kind, out-of-range field, or details beyond the limits (32 entries, 32-byte keys, 256-byte values).",
  },
  JOURNAL_VERIFY_FAILED: {
    status: 400,
    blame: "input",
    description:
      "A journal chain failed verification (bad signature, broken hash link, sequence gap, wrong lock, malformed record); the details name the first bad event.",
  },
  JOURNAL_CORRUPT: {
    status: 500,
    blame: "internal",
    description:
      "A journal file is damaged before its tail; opening is refused rather than dropping history, and the details name the first bad record.",
  },
  JOURNAL_WRONG_LOCK: {
    status: 409,
    blame: "caller",
    description:
      "A journal belongs to another lock (its lock id does not match the signing key it was opened with).",
  },
  JOURNAL_MISSING: {
    status: 409,
    blame: "caller",
    description: "A journal file was expected to exist (the lock was already in service) but is absent.",
  },
  JOURNAL_IN_USE: {
    status: 409,
    blame: "caller",
    description:
      "A journal directory is already open by a live process (or twice in this one); two writers would corrupt it.",
  },
  JOURNAL_WRITE_FAILED: {
    status: 500,
    blame: "internal",
    description:
      "Writing or syncing a journal event to storage failed (disk full, I/O error); the event was not recorded and the journal must be reopened.",
  },
  JOURNAL_CLOSED: {
    status: 409,
    blame: "caller",
    description:
      "A journal was used after it was closed or after a failed write made it unusable until reopened.",
  },
} as const satisfies Record<string, ErrorDefinition>;
