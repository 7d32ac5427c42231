/**
 * Structured logs (pino) that never carry secrets: request logging is our own one line per
 * response (method, route, status, time — never bodies, cookies or query strings), and redaction
 * paths catch secret-named fields anywhere a log call might pass them.
 */
import pino, { type Logger } from "pino";

export const REDACT_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  "headers.cookie",
  "body",
  "*.body",
  "password",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.pin",
  "*.code",
  "*.codes",
  "*.token",
  "*.secret",
  "*.csrfToken",
  "*.recoveryCodes",
  "*.response",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      // Only the error's class, stable code and message: messages never hold secret values
      // (project rule), while arbitrary error properties (e.g. a driver's echoed parameters) might.
      err: (e: unknown) => {
        if (!(e instanceof Error)) return { message: String(e) };
        const code = (e as { code?: unknown }).code;
        return {
          type: e.name,
          errorCode: typeof code === "string" ? code : undefined,
          message: e.message,
          stack: e.stack,
        };
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream);
}
