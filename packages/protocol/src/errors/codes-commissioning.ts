import type { ErrorDefinition } from "./error.js";

/** Commissioning (SPAKE2+), message catalogue, digital-key certificates and WebAuthn (prefix `COMM_`, `MSG_`, `CERT_`, `WEBAUTHN_`). */
export const COMM_ERRORS = {
  COMM_INVALID_SETUP_CODE: {
    status: 400,
    blame: "input",
    description:
      "A setup code is not 8 decimal digits in 00000001–99999998, or is a trivial code (11111111, 12345678…).",
  },
  COMM_INVALID_PARAMETERS: {
    status: 400,
    blame: "input",
    description:
      "Commissioning parameters are out of range (PBKDF2 salt not 16–32 bytes, iteration count not 1000–100000, key lengths).",
  },
  COMM_INVALID_POINT: {
    status: 400,
    blame: "input",
    description: "A SPAKE2+ share is not a valid P-256 point, or a derived point is the identity.",
  },
  COMM_WINDOW_CLOSED: {
    status: 409,
    blame: "caller",
    description:
      "The lock's commissioning window is not open (never opened or expired); open it on the lock and retry.",
  },
  COMM_LOCKED_OUT: {
    status: 429,
    blame: "caller",
    description:
      "Too many failed commissioning attempts: the lock refuses new attempts until its lockout ends (1 min after 5 failures, doubling).",
  },
  COMM_ALREADY_COMMISSIONED: {
    status: 409,
    blame: "caller",
    description: "The lock is already commissioned; its setup code is spent until a factory reset.",
  },
  COMM_UNEXPECTED_MESSAGE: {
    status: 409,
    blame: "input",
    description:
      "A commissioning message arrived out of order, for another session, or replayed; the attempt is abandoned.",
  },
  COMM_CONFIRMATION_FAILED: {
    status: 401,
    blame: "input",
    description:
      "A SPAKE2+ key-confirmation MAC did not match: a wrong setup code or a tampered exchange (counts as a failed attempt).",
  },
  COMM_DECRYPT_FAILED: {
    status: 400,
    blame: "input",
    description: "A commissioning payload sealed under the PAKE key failed authentication.",
  },
  COMM_REFUSED: {
    status: 409,
    blame: "caller",
    description: "The other side of a commissioning exchange answered with an error; details name its code.",
  },
  COMM_INVALID_STATE: {
    status: 400,
    blame: "input",
    description: "A saved commissioning responder state is malformed or has an unknown version.",
  },
  MSG_UNSUPPORTED_VERSION: {
    status: 400,
    blame: "input",
    description: "A hub/phone↔lock message has an envelope version this build does not speak.",
  },
  MSG_UNKNOWN_TYPE: {
    status: 400,
    blame: "input",
    description: "A hub/phone↔lock message has a type number that is not in the message catalogue.",
  },
  MSG_TOO_LARGE: {
    status: 413,
    blame: "input",
    description:
      "A hub/phone↔lock message is larger than 65 000 bytes, the most one secure-channel frame carries; split it.",
  },
  MSG_INVALID_FIELD: {
    status: 400,
    blame: "input",
    description:
      "A message field has a value outside its allowed set (unknown enum value, bad bitmask, index out of range, too many items).",
  },
  CERT_MALFORMED: {
    status: 400,
    blame: "input",
    description:
      "A digital-key certificate or revocation list does not decode (wrong tag, version, lengths or order).",
  },
  CERT_INVALID_FIELDS: {
    status: 400,
    blame: "caller",
    description:
      "A certificate or revocation list to be signed has invalid fields (no doors, window reversed, unsorted serials…).",
  },
  WEBAUTHN_MALFORMED: {
    status: 400,
    blame: "input",
    description: "A WebAuthn assertion's authenticatorData, clientDataJSON or DER signature does not parse.",
  },
  WEBAUTHN_INTENT_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A remote-unlock intent has a field of the wrong length (nonce 32, proposal id 16, snapshot hash 32, door id 16 bytes).",
  },
} as const satisfies Record<string, ErrorDefinition>;
