import type { ErrorDefinition } from "./error.js";

/** The hub server: HTTP API, accounts, sessions and the access model (prefix `HUB_`, `AUTH_`). */
export const HUB_ERRORS = {
  HUB_CONFIG_INVALID: {
    status: 500,
    blame: "internal",
    description: "A start flag or environment variable has a missing or invalid value.",
  },
  HUB_DATA_DIR_PERMISSIONS: {
    status: 500,
    blame: "internal",
    description:
      "The data directory can be read or entered by other users (group or world permissions); the hub refuses to start until it is private (chmod 700 <dir>).",
  },
  HUB_DATA_DIR_LOCKED: {
    status: 500,
    blame: "internal",
    description: "Another hub process already uses this data directory's SQLite database.",
  },
  HUB_DATABASE_UNAVAILABLE: {
    status: 503,
    blame: "internal",
    description: "The database could not be opened, reached or migrated.",
  },
  HUB_BAD_REQUEST: {
    status: 400,
    blame: "input",
    description: "The request body, query or path parameters do not match the route's schema.",
  },
  HUB_NAME_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A name or label contains a control character (C0/C1, including NUL), a bidirectional override, isolate or mark, a line or paragraph separator, or an unpaired surrogate; details.field names the field.",
  },
  HUB_MALFORMED_JSON: {
    status: 400,
    blame: "input",
    description: "The request body is not valid JSON.",
  },
  HUB_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    blame: "input",
    description: "The request body has a content type other than application/json.",
  },
  HUB_BODY_TOO_LARGE: {
    status: 413,
    blame: "input",
    description: "The request body is larger than the hub accepts.",
  },
  HUB_NOT_FOUND: {
    status: 404,
    blame: "caller",
    description: "No such route or object, or the caller may not see it (the two look the same).",
  },
  HUB_CONFLICT: {
    status: 409,
    blame: "caller",
    description: "The object already exists or a name is already taken.",
  },
  HUB_PIN_WEAK: {
    status: 422,
    blame: "input",
    description: "A chosen PIN is too short, too long, not digits, or easy to guess.",
  },
  HUB_PIN_RATE_LIMITED: {
    status: 429,
    blame: "caller",
    description:
      "Too many chosen PINs from this account in the last hour (each one could be a guess at someone else's PIN); wait the given seconds, or let the hub generate the PIN.",
  },
  HUB_GRANT_INVALID: {
    status: 422,
    blame: "input",
    description: "A grant's schedule or validity window is inconsistent (e.g. ends before it starts).",
  },
  HUB_SEAL_INVALID: {
    status: 400,
    blame: "input",
    description: "A sealed secret or a lock's X25519 public key is malformed or fails authentication.",
  },
  AUTH_REQUIRED: {
    status: 401,
    blame: "caller",
    description: "The request needs a signed-in session and has none (or it expired).",
  },
  AUTH_SECOND_FACTOR_REQUIRED: {
    status: 401,
    blame: "caller",
    description: "The session has passed the password step but still needs its second factor.",
  },
  AUTH_ENROLMENT_REQUIRED: {
    status: 403,
    blame: "caller",
    description: "The account must enrol a second factor (TOTP or passkey) before anything else.",
  },
  AUTH_STEP_UP_REQUIRED: {
    status: 403,
    blame: "caller",
    description: "A sensitive action needs a second factor confirmed within the last 5 minutes.",
  },
  AUTH_CSRF: {
    status: 403,
    blame: "caller",
    description: "A state-changing request lacks the session's CSRF token or comes from another origin.",
  },
  AUTH_INVALID_CREDENTIALS: {
    status: 401,
    blame: "caller",
    description: "The user name, password, code or passkey assertion is wrong.",
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    blame: "caller",
    description: "Too many failed attempts from this account or address; retry after the stated delay.",
  },
  AUTH_SETUP_INVALID: {
    status: 401,
    blame: "caller",
    description: "The one-time setup link is wrong, used or expired (restart the hub for a new one).",
  },
  AUTH_SETUP_DONE: {
    status: 409,
    blame: "caller",
    description: "First-run setup was already completed; sign in instead.",
  },
  AUTH_PASSWORD_POLICY: {
    status: 422,
    blame: "input",
    description: "A new password is shorter than 8 or longer than 128 characters, or is a common password.",
  },
  AUTH_FACTOR_STATE: {
    status: 409,
    blame: "caller",
    description: "A second-factor operation does not fit the account's state (e.g. no enrolment started).",
  },
  // Device gateway (MQTT transport for locks).
  HUB_GATEWAY_TOPIC_INVALID: {
    status: 400,
    blame: "input",
    description: "A lock id, commissioning session id or topic prefix does not fit the MQTT topic scheme.",
  },
  HUB_GATEWAY_BROKER_UNAVAILABLE: {
    status: 503,
    blame: "internal",
    description: "The MQTT broker could not be started, listened on or reached.",
  },
  HUB_GATEWAY_NOT_RUNNING: {
    status: 409,
    blame: "caller",
    description: "The device gateway is not started, or is already closed.",
  },
  // Ledger ownership and lock event ingestion.
  HUB_LOCK_UNKNOWN: {
    status: 404,
    blame: "caller",
    description: "Events or a request name a lock the hub has not commissioned, or with another signing key.",
  },
  HUB_LOCK_KEY_INVALID: {
    status: 400,
    blame: "input",
    description: "A lock's signing or channel public key is not 32 bytes of hex, or is already registered.",
  },
  HUB_INGEST_BATCH_INVALID: {
    status: 400,
    blame: "input",
    description: "An event batch holds too many records, or a record is larger than a journal record can be.",
  },
  HUB_LEDGER_KEY_INVALID: {
    status: 500,
    blame: "internal",
    description: "The hub's checkpoint key file is malformed, readable by others, or names another origin.",
  },
  HUB_COMMISSION_NO_LOCK: {
    status: 404,
    blame: "caller",
    description:
      "No lock is waiting to be commissioned (none has announced itself on the device gateway in the last minute), or none with the lock id given.",
  },
  HUB_COMMISSION_AMBIGUOUS: {
    status: 409,
    blame: "caller",
    description:
      "Several locks are waiting to be commissioned; name the one to add by its lock id (printed on its label).",
  },
  HUB_COMMISSION_FAILED: {
    status: 422,
    blame: "input",
    description:
      "The lock refused or did not finish commissioning: a wrong setup code, a lock locked out after wrong codes, or a lock that went away. The lock says which; nothing was stored.",
  },
  HUB_DOOR_HAS_LOCK: {
    status: 409,
    blame: "caller",
    description: "The door is already bound to a commissioned lock; remove that lock first.",
  },
  HUB_LOCK_OFFLINE: {
    status: 409,
    blame: "caller",
    description:
      "The door's lock is not connected to the hub right now, so it cannot be asked anything; try again when it is online.",
  },
  HUB_UNLOCK_REQUEST_CLOSED: {
    status: 409,
    blame: "caller",
    description:
      "The unlock request is no longer waiting for a decision: it was approved, denied, failed or expired (requests live 2 minutes). Ask again.",
  },
  HUB_UNLOCK_NO_CHALLENGE: {
    status: 409,
    blame: "caller",
    description:
      "No lock challenge is outstanding for you on this unlock request (none was asked for, it was used, it expired, or it was issued for another passkey): ask the lock for a new challenge first.",
  },
  HUB_UNLOCK_NO_PASSKEY: {
    status: 409,
    blame: "caller",
    description:
      "Approving an unlock needs a passkey the lock can check (ES256 / P-256) on your account; add one under Security first.",
  },
  HUB_UNLOCK_REQUEST_LIMIT: {
    status: 429,
    blame: "caller",
    description:
      "Too many unlock requests are waiting at this door or site; decide or let some expire first.",
  },
  HUB_SNAPSHOT_INVALID: {
    status: 400,
    blame: "input",
    description:
      "The snapshot is not a base64 data: URL of a JPEG, PNG or WebP image within the size limit, or its bytes do not match its type.",
  },
  AUTH_LAST_SECOND_FACTOR: {
    status: 409,
    blame: "caller",
    description:
      "This is the account's only second factor (no other passkey and no authenticator app): enrol another one before removing it.",
  },
  HUB_GUEST_LINK_OPENED: {
    status: 410,
    blame: "caller",
    description:
      "This guest link was already opened: it shows the PIN once only. Ask the person who sent it for a new link.",
  },
  HUB_GUEST_LINK_EXPIRED: {
    status: 410,
    blame: "caller",
    description:
      "This guest link expired before it was opened, and its sealed PIN was destroyed. Ask the person who sent it for a new link.",
  },
  HUB_GUEST_LINK_REVOKED: {
    status: 410,
    blame: "caller",
    description:
      "The PIN behind this guest link was revoked (or its person removed), and its sealed copy was destroyed.",
  },
  HUB_CALENDAR_FEED_UNAVAILABLE: {
    status: 502,
    blame: "internal",
    description:
      "A booking calendar feed could not be downloaded (timeout, HTTP error, too large) or is not a whole iCalendar file; nothing was changed.",
  },
  HUB_PERSON_ON_LOCKS: {
    status: 409,
    blame: "caller",
    description:
      "A person whose codes are still on locks cannot be deleted: revoke their credentials, wait until every lock shows them removed, then delete.",
  },
} as const satisfies Record<string, ErrorDefinition>;
