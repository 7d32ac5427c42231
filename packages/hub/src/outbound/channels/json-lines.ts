/**
 * JSON lines for a SIEM or log shipper (Filebeat, Vector, Fluent Bit, Splunk HEC raw, Loki's
 * push gateways): each message as one JSON object on one line (https://jsonlines.org, NDJSON),
 * either appended to a local file the shipper tails, or POSTed as application/x-ndjson.
 *
 * For a file, "delivered" means durable: the line is written with O_APPEND and fsync'ed before
 * the outcome is reported. For HTTP, it means the endpoint answered 2xx.
 */
import { open } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";
import { delivered, failed, type Channel, type DeliveryOutcome, type OutboundMessage } from "./channel.js";
import {
  errorFailure,
  httpPost,
  isHttpUrl,
  isPemCertificate,
  isSuccessStatus,
  statusFailure,
} from "./http-post.js";

export type JsonLinesConfig =
  | { readonly path: string }
  | {
      readonly url: string;
      /** Sent as `Authorization: Bearer <token>`; null for an open endpoint. */
      readonly token: string | null;
      /** PEM certificate(s) of a private CA that signed the endpoint's certificate. */
      readonly ca?: string | undefined;
    };

export type JsonLinesChannelOptions = JsonLinesConfig & {
  /** Per-attempt deadline for HTTP; default 10 s (http-post.ts). */
  readonly timeoutMs?: number | undefined;
};

/** The object written for each message, one per line. */
export interface JsonLinesRecord {
  /** When it happened: ISO 8601 in UTC with milliseconds. */
  readonly time: string;
  readonly id: string;
  readonly event: string;
  readonly title: string;
  readonly body: string;
  readonly priority: OutboundMessage["priority"];
  readonly tags: readonly string[];
  readonly url: string | null;
  readonly data: OutboundMessage["data"];
}

/** A bearer token as an HTTP header can carry it: visible ASCII, no spaces (RFC 6750 §2.1 b64token+). */
const TOKEN = /^[\x21-\x7e]{1,4096}$/;
/** The file holds who came and went: readable by the hub's user only. */
const FILE_MODE = 0o600;

const bad = (field: string, message: string): LatchkeyError =>
  new LatchkeyError("HUB_BAD_REQUEST", message, { field });

/** Checks a JSON-lines configuration from the API: exactly one of `path` or `url`. */
export function validateJsonLinesConfig(input: unknown): JsonLinesConfig {
  if (typeof input !== "object" || input === null)
    throw bad("path", "JSON lines configuration must be an object");
  const { path, url, token, ca } = input as Record<string, unknown>;
  const hasPath = path !== undefined && path !== null;
  const hasUrl = url !== undefined && url !== null;
  if (hasPath === hasUrl)
    throw bad(
      hasPath ? "url" : "path",
      "JSON lines needs exactly one of path (a file) or url (an HTTP endpoint)",
    );
  if (hasPath) {
    if (typeof path !== "string" || !isAbsolute(path) || path.includes("\0"))
      throw bad("path", "JSON lines path must be an absolute file path");
    if (token !== undefined && token !== null) throw bad("token", "a token is only for a JSON lines url");
    if (ca !== undefined && ca !== null) throw bad("ca", "a CA is only for a JSON lines url");
    return { path };
  }
  if (typeof url !== "string" || !isHttpUrl(url))
    throw bad("url", "JSON lines url must be an absolute http:// or https:// URL");
  if (token !== undefined && token !== null && (typeof token !== "string" || !TOKEN.test(token)))
    throw bad("token", "JSON lines token must be 1 to 4096 visible ASCII characters without spaces");
  if (ca !== undefined && ca !== null && !isPemCertificate(ca))
    throw bad("ca", "JSON lines CA must be a PEM certificate");
  const base = { url, token: typeof token === "string" ? token : null };
  return typeof ca === "string" ? { ...base, ca } : base;
}

export function jsonLinesRecord(message: OutboundMessage): JsonLinesRecord {
  const time = new Date(message.occurredAt);
  return {
    time: Number.isNaN(time.getTime()) ? new Date(0).toISOString() : time.toISOString(),
    id: message.id,
    event: message.event,
    title: message.title,
    body: message.body,
    priority: message.priority,
    tags: message.tags,
    url: message.url,
    data: message.data,
  };
}

/** One line: JSON.stringify escapes CR, LF and every control character, so it is always one line. */
export function jsonLine(message: OutboundMessage): string {
  return `${JSON.stringify(jsonLinesRecord(message))}\n`;
}

/**
 * A Channel of kind "json-lines". (Declared apart from `Channel` only until "json-lines" joins
 * ChannelKind; it is structurally a `Channel` then.)
 */
export interface JsonLinesChannel {
  readonly kind: "json-lines";
  send: Channel["send"];
}

export function jsonLinesChannel(options: JsonLinesChannelOptions): JsonLinesChannel {
  return {
    kind: "json-lines",
    async send(message, { signal }) {
      if (signal.aborted) return failed("aborted", true);
      const line = Buffer.from(jsonLine(message), "utf8");
      if ("path" in options) return appendLine(options.path, line);
      const headers: Record<string, string> = {
        "content-type": "application/x-ndjson",
        "user-agent": "Latchkey",
      };
      if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
      // A configuration that is not a URL (validated on the way in) fails every attempt for good.
      if (!isHttpUrl(options.url)) return failed("JSON lines URL is invalid", false);
      try {
        const response = await httpPost({
          url: new URL(options.url),
          body: line,
          headers,
          signal,
          timeoutMs: options.timeoutMs,
          ca: options.ca,
        });
        if (!isSuccessStatus(response.status)) return statusFailure(response.status);
        return delivered(`HTTP ${response.status}`);
      } catch (error) {
        return errorFailure(error);
      }
    },
  };
}

/** Problems the owner must fix (a missing directory, permissions, a read-only disk): no retry. */
const PERMANENT_FILE_CODES = new Set(["ENOENT", "ENOTDIR", "EISDIR", "EACCES", "EPERM", "EROFS", "ELOOP"]);

/**
 * Appends one line and fsyncs it. One write() with O_APPEND: lines from concurrent writers (two
 * channels on one file, a restarted hub) do not interleave. Opened per attempt, so a log rotated
 * away is simply created anew, again with mode 0600.
 */
async function appendLine(path: string, line: Buffer): Promise<DeliveryOutcome> {
  let handle;
  try {
    handle = await open(path, "a", FILE_MODE);
  } catch (error) {
    return fileFailure("cannot open the file", error);
  }
  try {
    const { bytesWritten } = await handle.write(line);
    // A short write (disk full) leaves a partial line; the next attempt's line starts on its own.
    if (bytesWritten !== line.byteLength) {
      await handle.write("\n").catch(() => undefined);
      return failed("short write to the file", true);
    }
    await handle.sync();
    return delivered(`appended ${line.byteLength} bytes`);
  } catch (error) {
    return fileFailure("cannot write the file", error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function fileFailure(what: string, error: unknown): DeliveryOutcome {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" && /^E[A-Z0-9]{1,30}$/.test(raw) ? raw : null;
  // ENOSPC, EIO, EDQUOT, EMFILE…: the disk or the process may recover.
  return failed(`${what}: ${code ?? "unknown error"}`, code === null || !PERMANENT_FILE_CODES.has(code));
}
