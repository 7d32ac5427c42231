import type { ErrorDefinition } from "./error.js";

/** The lock runtime: users, credentials, schedules, access decisions, hardware (prefix `LOCK_`). */
export const LOCK_ERRORS = {
  LOCK_PIN_FORMAT: {
    status: 400,
    blame: "input",
    description: "A PIN is not made of digits only or its length is outside the lock's allowed range (4–12).",
  },
  LOCK_PIN_WEAK: {
    status: 400,
    blame: "input",
    description:
      "A PIN was refused as easy to guess (one repeated digit or block, a run like 1234, or a common PIN).",
  },
  LOCK_CREDENTIAL_DUPLICATE: {
    status: 409,
    blame: "caller",
    description: "The same PIN, card, fingerprint template or phone key is already set on this lock.",
  },
  LOCK_CREDENTIAL_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A card UID, card key, fingerprint template reference or phone public key has a bad length or format.",
  },
  LOCK_CREDENTIAL_UNKNOWN: {
    status: 404,
    blame: "caller",
    description: "No credential of that type is stored at that credential index.",
  },
  LOCK_USER_UNKNOWN: {
    status: 404,
    blame: "caller",
    description: "No user is stored at that user index.",
  },
  LOCK_USER_EXISTS: {
    status: 409,
    blame: "caller",
    description: "A user is already stored at that user index.",
  },
  LOCK_USER_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A user field is out of range (index, type, credential rule, expiring timeout, use limit, name).",
  },
  LOCK_CAPACITY: {
    status: 409,
    blame: "caller",
    description: "The lock has no free slot for another user, credential or schedule.",
  },
  LOCK_SCHEDULE_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A schedule is out of range (index, days mask, minutes, start not before end, unknown mode).",
  },
  LOCK_SCHEDULE_UNKNOWN: {
    status: 404,
    blame: "caller",
    description: "No schedule is stored at that schedule index.",
  },
  LOCK_SETTING_INVALID: {
    status: 400,
    blame: "input",
    description: "A lock setting is out of range or unknown (time zone, limits, thresholds, operating mode).",
  },
  LOCK_MODE_REFUSED: {
    status: 409,
    blame: "caller",
    description:
      "The operating mode cannot be entered in the lock's current state (Privacy needs the bolt locked).",
  },
  LOCK_POWERED_OFF: {
    status: 409,
    blame: "caller",
    description: "The lock runtime has lost power or was shut down; restart it from its state directory.",
  },
  LOCK_STATE_CORRUPT: {
    status: 500,
    blame: "internal",
    description: "The lock's persisted state or key file is unreadable or inconsistent.",
  },
} as const satisfies Record<string, ErrorDefinition>;
