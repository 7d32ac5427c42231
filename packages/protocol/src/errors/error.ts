/**
 * One error type for the whole project. Every error carries a stable code from the registry
 * (`registry.ts`), the HTTP status the hub answers with, and who is to blame:
 *  - "input":    bad data from outside (a frame, a request body, a file) — reject, log, count.
 *  - "caller":   misuse by a caller of our API (wrong state, missing permission, rate limit).
 *  - "internal": our own bug or an environment failure (disk full); never the caller's fault.
 * Messages must never contain secrets: pass identifiers and lengths, not values.
 */
import { ERROR_DEFINITIONS, type ErrorCode } from "./registry.js";

export type Blame = "input" | "caller" | "internal";

export interface ErrorDefinition {
  readonly status: number;
  readonly blame: Blame;
  /** One line for docs/errors.md: when this error happens. */
  readonly description: string;
}

export class LatchkeyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly blame: Blame;
  /** Non-secret structured facts (ids, indexes, lengths) for logs and API responses. */
  readonly details: Readonly<Record<string, string | number | boolean>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, string | number | boolean>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    const def: ErrorDefinition = ERROR_DEFINITIONS[code];
    this.name = "LatchkeyError";
    this.code = code;
    this.status = def.status;
    this.blame = def.blame;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, string | number | boolean> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: { ...this.details } };
  }
}

export function isLatchkeyError(e: unknown, code?: ErrorCode): e is LatchkeyError {
  return e instanceof LatchkeyError && (code === undefined || e.code === code);
}
