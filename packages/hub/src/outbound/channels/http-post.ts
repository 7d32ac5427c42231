/**
 * One bounded HTTP(S) POST for the HTTP channels (webhook, ntfy): a deadline, the caller's abort
 * signal, a capped response body and no redirects. Failures are classified into short reasons that
 * name the host only: a URL's query string or userinfo may hold a token, so it never reaches a reason.
 */
import { request as httpRequest, STATUS_CODES, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { X509Certificate } from "node:crypto";
import { failed, retryableStatus, type DeliveryOutcome } from "./channel.js";

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Enough for any status document (ntfy's reply is ~200 bytes); the rest is discarded. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpPostRequest {
  readonly url: URL;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** The whole attempt (connect, send, response headers); default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** PEM certificate(s) to trust instead of the public roots, for a server with a private CA. */
  readonly ca?: string | undefined;
}

export interface HttpPostResponse {
  readonly status: number;
  /** The response body as UTF-8, at most MAX_RESPONSE_BYTES of it. */
  readonly body: string;
}

export type HttpPostFailure =
  "refused" | "reset" | "dns" | "unreachable" | "timeout" | "aborted" | "tls" | "other";

/** A POST that got no HTTP status. `message` is a safe, short reason for the delivery log. */
export class HttpPostError extends Error {
  constructor(
    readonly failure: HttpPostFailure,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "HttpPostError";
  }
}

/** Sends one POST. Resolves with any HTTP status (3xx included: redirects are not followed). */
export function httpPost(request: HttpPostRequest): Promise<HttpPostResponse> {
  const { url, signal } = request;
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const host = url.host;
  if (signal.aborted) return Promise.reject(abortedError());
  const options: RequestOptions = {
    method: "POST",
    headers: { ...request.headers, "content-length": String(request.body.byteLength) },
    // One connection per attempt: no pooled socket the server may have half-closed meanwhile.
    agent: false,
    ...(url.protocol === "https:" && request.ca !== undefined ? { ca: request.ca } : {}),
  };
  let outgoing: ClientRequest;
  try {
    // The URL goes to node:http whole (userinfo becomes Basic auth), but never into a message.
    outgoing = url.protocol === "https:" ? httpsRequest(url, options) : httpRequest(url, options);
  } catch (error) {
    // A header value node:http refuses, say; its message is not repeated (it may quote the value).
    return Promise.reject(classify(error, host));
  }

  return new Promise<HttpPostResponse>((resolve, reject) => {
    let settled = false;
    let status: number | null = null;
    const chunks: Buffer[] = [];
    let received = 0;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      outcome();
      outgoing.destroy();
    };
    const answer = (): void =>
      settle(() => resolve({ status: status ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    const fail = (error: HttpPostError): void => settle(() => reject(error));
    const onAbort = (): void => fail(abortedError());
    const timer = setTimeout(() => {
      // Once the status is in, the server has taken the message: a slow body does not undo that.
      if (status !== null) answer();
      else fail(new HttpPostError("timeout", `timed out after ${timeoutMs / 1000} s (${host})`, true));
    }, timeoutMs);

    outgoing.on("response", (response: IncomingMessage) => {
      status = response.statusCode ?? 0;
      response.on("data", (chunk: Buffer) => {
        if (received < MAX_RESPONSE_BYTES) chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - received));
        received += chunk.byteLength;
        // Enough read: hang up rather than drain a body of any length.
        if (received >= MAX_RESPONSE_BYTES) answer();
      });
      // A body cut short still carries the status that matters.
      response.on("error", answer);
      response.on("close", answer);
    });
    outgoing.on("error", (error: unknown) => {
      if (status !== null) answer();
      else fail(classify(error, host));
    });
    signal.addEventListener("abort", onAbort, { once: true });
    outgoing.end(request.body);
  });
}

function abortedError(): HttpPostError {
  return new HttpPostError("aborted", "aborted", true);
}

/** Socket and DNS error codes by what they mean (also syslog.ts's). */
export const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_NONAME"]);
export const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
export const UNREACHABLE_CODES = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"]);

/** An error's code when it looks like one (ECONNREFUSED, ERR_TLS_…): safe to repeat, unlike a message. */
export function errorCode(error: unknown): string | undefined {
  const raw = (error as { code?: unknown } | null)?.code;
  return typeof raw === "string" && /^[A-Z][A-Z0-9_]{1,63}$/.test(raw) ? raw : undefined;
}

/** Maps a socket, DNS or TLS error to a reason built from fixed words, the host and an error code. */
function classify(error: unknown, host: string): HttpPostError {
  const code = errorCode(error);
  if (code === "ECONNREFUSED") return new HttpPostError("refused", `connection refused (${host})`, true);
  if (code !== undefined && RESET_CODES.has(code))
    return new HttpPostError("reset", `connection reset (${host})`, true);
  if (code !== undefined && DNS_CODES.has(code))
    return new HttpPostError("dns", `DNS lookup failed (${host})`, true);
  if (code !== undefined && UNREACHABLE_CODES.has(code))
    return new HttpPostError("unreachable", `host unreachable (${host})`, true);
  if (code === "ETIMEDOUT") return new HttpPostError("timeout", `connection timed out (${host})`, true);
  if (code !== undefined && isTlsCode(code))
    // The owner must fix the certificate or the configured CA; retrying the same bytes won't help.
    return new HttpPostError("tls", `TLS handshake failed: ${code} (${host})`, false);
  return new HttpPostError("other", `request failed: ${code ?? "unknown error"} (${host})`, true);
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("CERT_") ||
    code.startsWith("UNABLE_TO_") ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
    code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "HOSTNAME_MISMATCH"
  );
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/** "redirected (HTTP 301)", "too many requests (HTTP 429)", "unauthorized (HTTP 401)". */
export function statusReason(status: number): string {
  const words =
    status >= 300 && status < 400
      ? "redirected"
      : (STATUS_CODES[status] ?? "unexpected status").toLowerCase();
  return `${words} (HTTP ${status})`;
}

/**
 * The outcome of a non-2xx status. Redirects are not followed (Standard Webhooks §Delivery success
 * and failure: "update the webhook URL instead"), so a 3xx is permanent like most 4xx.
 */
export function statusFailure(status: number): DeliveryOutcome {
  return failed(statusReason(status), retryableStatus(status));
}

/** The outcome of a POST that threw: its safe reason, or a generic one for anything unexpected. */
export function errorFailure(error: unknown): DeliveryOutcome {
  if (error instanceof HttpPostError) return failed(error.message, error.retryable);
  return failed("request failed", true);
}

/** Whether `text` is an absolute http:// or https:// URL with a host. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/** Whether `value` is a PEM certificate node:crypto can read (a private CA for https). */
export function isPemCertificate(value: unknown): value is string {
  if (typeof value !== "string" || !value.includes("-----BEGIN CERTIFICATE-----")) return false;
  try {
    new X509Certificate(value);
    return true;
  } catch {
    return false;
  }
}
