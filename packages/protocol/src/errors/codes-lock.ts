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
  LOCK_SEALED_SECRET_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A sealed secret (PIN or credential data sealed to the lock's X25519 key) is malformed, of an unknown version, or does not open under its context.",
  },
  LOCK_CLOCK_STEP_REFUSED: {
    status: 409,
    blame: "caller",
    description:
      "The lock refused to step its known clock by more than its bound (5 min by default) without a person's authorisation; it journals a signed ClockSetRefused event. Drift correction in small steps is unaffected.",
  },
  LOCK_ACCESS_DENIED: {
    status: 403,
    blame: "caller",
    description:
      "The lock refused a lock/unlock request (credential, certificate, challenge or passkey check failed); the reason is in the lock's signed LockOperationError event.",
  },
  LOCK_UNLOCK_NEEDS_PERSON: {
    status: 403,
    blame: "caller",
    description:
      "A remote Unlock without a person's passkey assertion was refused: request a challenge and send UnlockWithAssertion.",
  },
  LOCK_MESSAGE_NOT_ALLOWED: {
    status: 403,
    blame: "caller",
    description:
      "The message is not accepted from this peer (a phone session may only lock, ask for a challenge, unlock with its phone key and read state) or is a reply type.",
  },
  LOCK_MESSAGE_UNSUPPORTED: {
    status: 422,
    blame: "caller",
    description:
      "The lock does not implement this message or credential type (for instance FirmwareOffer, FingerVein).",
  },
  LOCK_NOT_COMMISSIONED: {
    status: 409,
    blame: "caller",
    description:
      "The lock is not commissioned: it has no owner key and speaks only the commissioning exchange.",
  },
  LOCK_EVENT_ACK_INVALID: {
    status: 400,
    blame: "input",
    description:
      "An event acknowledgement names a sequence number the lock has not written, or a hash that is not that event's.",
  },
  LOCK_REVOCATION_REFUSED: {
    status: 400,
    blame: "input",
    description:
      "A revocation list was refused (malformed, not signed by the owner key, or older than the installed one); the installed list is unchanged.",
  },
  LOCK_LINK_TIMEOUT: {
    status: 504,
    blame: "internal",
    description: "The lock did not answer a request or a handshake in time (client side).",
  },
} as const satisfies Record<string, ErrorDefinition>;
