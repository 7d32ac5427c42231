import type { ErrorDefinition } from "./error.js";

/** Commissioning (SPAKE2+), message catalogue, digital-key certificates and WebAuthn (prefix `COMM_`, `MSG_`, `CERT_`, `WEBAUTHN_`). */
export const COMM_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
