import type { ErrorDefinition } from "./error.js";

/** Noise handshakes, transport framing and replay protection (prefix `NOISE_`). */
export const NOISE_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
