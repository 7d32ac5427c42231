/**
 * The email channel: one message over SMTP submission (RFC 6409) through the owner's mail server,
 * with nodemailer. Encryption is STARTTLS (RFC 3207) or implicit TLS (RFC 8314 §3.3); plain SMTP is
 * allowed only to a server on this machine (a local relay), so neither the password nor an alert
 * crosses a network in clear. One transport per attempt: a notification is rare, and a pooled
 * connection would outlive a changed configuration.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import nodemailer, { type NodemailerError, type SMTPTransportOptions } from "nodemailer";
import { LatchkeyError } from "@latchkey/protocol";
import {
  delivered,
  failed,
  type Channel,
  type DeliveryOutcome,
  type OutboundMessage,
  type Priority,
  type SendOptions,
} from "./channel.js";

export type EmailSecurity = "starttls" | "tls" | "none";

export interface EmailConfig {
  readonly host: string;
  readonly port: number;
  /** "starttls": upgrade on connect (usually port 587); "tls": TLS from the first byte (465); "none": loopback only. */
  readonly security: EmailSecurity;
  /** Both null (a relay that needs no login) or both set. */
  readonly username: string | null;
  readonly password: string | null;
  /** The envelope and header sender; must be an address the server lets this login send as. */
  readonly from: string;
  /** 1–20 recipients. */
  readonly to: readonly string[];
  /** PEM certificate(s) to trust instead of the public roots, for a server with a private CA. */
  readonly ca?: string | undefined;
}

export const MAX_RECIPIENTS = 20;
export const SUBJECT_PREFIX = "[Latchkey] ";
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;
/** Longest server reply text kept in a reason or a detail. */
const MAX_REPLY_CHARS = 120;

export function emailChannel(config: EmailConfig): Channel {
  return {
    kind: "email",
    send: (message, options) => sendEmail(config, message, options),
  };
}

async function sendEmail(
  config: EmailConfig,
  message: OutboundMessage,
  { signal }: SendOptions,
): Promise<DeliveryOutcome> {
  const redact = redactor(config);
  const transport = nodemailer.createTransport(transportOptions(config));
  try {
    const info = await transport.sendMail({
      from: { name: "Latchkey", address: config.from },
      to: config.to.map((address) => ({ name: "", address })),
      subject: SUBJECT_PREFIX + oneLine(message.title),
      text: plainText(message),
      html: html(message),
      messageId: messageIdFor(message.id),
      priority: mailPriority(message.priority),
      headers: {
        // RFC 3834 §5: an automatic message; vacation responders must not answer it.
        "Auto-Submitted": "auto-generated",
        "X-Latchkey-Event": oneLine(message.event),
        // RFC 5322 §3.6.5: the tags, for mail filters.
        ...(message.tags.length > 0 ? { Keywords: message.tags.map(oneLine).join(", ") } : {}),
      },
      signal,
    });
    const refused = info.rejected.length > 0 ? `; refused ${info.rejected.join(", ")}` : "";
    return delivered(`accepted by ${config.host} (${redact(replyText(info.response))})${refused}`);
  } catch (error) {
    return failureOutcome(error as NodemailerError, config.host, redact);
  } finally {
    transport.close();
  }
}

function transportOptions(config: EmailConfig): SMTPTransportOptions {
  return {
    host: config.host,
    port: config.port,
    secure: config.security === "tls",
    // Refuse to go on in clear when the server does not offer STARTTLS (a downgrade by a
    // man in the middle stripping it from EHLO, RFC 3207 §6).
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    auth:
      config.username !== null && config.password !== null
        ? { user: config.username, pass: config.password }
        : undefined,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    tls: { minVersion: "TLSv1.2", rejectUnauthorized: true, ...(config.ca ? { ca: config.ca } : {}) },
    // The message is built from our own strings; nothing in it may make nodemailer read a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
}

/** SMTP reply codes (RFC 5321 §4.2.1): 4yz transient, 5yz permanent — except 503 (bad sequence), a session hiccup. */
function failureOutcome(
  error: NodemailerError,
  host: string,
  redact: (text: string) => string,
): DeliveryOutcome {
  const code = error.responseCode;
  if (typeof code === "number" && code >= 400) {
    const reply = redact(replyText(error.response ?? String(code)));
    const verb = commandVerb(error.command);
    const said = verb === null ? `${host} answered ${reply}` : `${host} rejected ${verb}: ${reply}`;
    return failed(said, code < 500 || code === 503);
  }
  const cause = error.originalCode ?? error.code ?? "";
  if (error.code === "EABORT" || error.name === "AbortError") return failed("sending was aborted", true);
  if (
    TLS_CERTIFICATE_ERRORS.has(cause) ||
    cause.startsWith("ERR_TLS_") ||
    cause.startsWith("ERR_SSL_") ||
    error.code === "ETLS"
  ) {
    // Needs the owner: a certificate we do not trust, or "tls" on a port that speaks clear first.
    return failed(`TLS with ${host} failed (${safeCode(cause, "handshake")})`, false);
  }
  if (error.code === "EAUTH" || error.code === "ENOAUTH") {
    return failed(`${host} did not accept the login (no AUTH method in common)`, false);
  }
  if (error.code === "ETIMEDOUT" || cause === "ETIMEDOUT") {
    const phase = error.timeoutType?.toLowerCase().replace("_timeout", "") ?? "reply";
    return failed(`timed out waiting for ${host} (${phase})`, true);
  }
  const what = NETWORK_ERRORS[cause];
  if (what !== undefined) return failed(`${what} (${host}, ${cause})`, true);
  return failed(`sending to ${host} failed (${safeCode(cause, "error")})`, true);
}

const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNECTION: "connection closed by the server",
  EPIPE: "connection closed by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EDNS: "host name lookup failed",
  ESOCKET: "socket error",
};

const TLS_CERTIFICATE_ERRORS = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "EPROTO",
]);

/** An error code is safe to show when it is one (upper-case letters, digits, underscores). */
function safeCode(code: string, fallback: string): string {
  return /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : fallback;
}

/** The SMTP command that got the reply, verb only ("RCPT TO", "AUTH PLAIN"): never its argument. */
function commandVerb(command: string | undefined): string | null {
  const m = /^(?:MAIL FROM|RCPT TO|DATA|AUTH(?: [A-Z0-9-]+)?|EHLO|HELO|STARTTLS|CONN)\b/i.exec(command ?? "");
  return m === null ? null : m[0].toUpperCase();
}

/** A server reply as one short line: "535 5.7.8 Authentication credentials invalid". */
function replyText(response: string): string {
  const line = oneLine(response).replace(/\s+/g, " ").trim();
  return line.length > MAX_REPLY_CHARS ? `${line.slice(0, MAX_REPLY_CHARS - 1)}…` : line;
}

/**
 * A server may echo what it was sent ("535 bad password for bob"): the login and password,
 * as text and in the base64 forms AUTH PLAIN / LOGIN send them (RFC 4616 §2), never reach a reason.
 */
function redactor(config: EmailConfig): (text: string) => string {
  const secrets = new Set<string>();
  const add = (s: string | null): void => {
    if (s !== null && s.length >= 2) secrets.add(s);
  };
  add(config.username);
  add(config.password);
  for (const s of [...secrets]) add(Buffer.from(s).toString("base64"));
  if (config.username !== null && config.password !== null) {
    add(Buffer.from(`\0${config.username}\0${config.password}`).toString("base64"));
    add(Buffer.from(`${config.username}\0${config.username}\0${config.password}`).toString("base64"));
  }
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((t, s) => t.split(s).join("[redacted]"), text);
}

/** RFC 5322 §3.6.4: msg-id = "<" id-left "@" id-right ">", id-left a dot-atom-text. */
export function messageIdFor(id: string): string {
  const dotAtom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
  const left =
    dotAtom.test(id) && id.length <= 200 ? id : `x-${Buffer.from(id).toString("hex").slice(0, 200)}`;
  return `<${left}@latchkey>`;
}

/** nodemailer's priority sets X-Priority 1 / 5 (plus Importance and X-MSMail-Priority for Outlook). */
function mailPriority(priority: Priority): "high" | "normal" | "low" {
  switch (priority) {
    case "urgent":
    case "high":
      return "high";
    case "low":
    case "min":
      return "low";
    case "default":
      return "normal";
  }
}

export function plainText(message: OutboundMessage): string {
  const links = [
    ...(message.url === null ? [] : [message.url]),
    ...message.actions.map((a) => `${oneLine(a.label)}: ${a.url}`),
  ];
  return links.length === 0 ? message.body : `${message.body}\n\n${links.join("\n")}`;
}

export function html(message: OutboundMessage): string {
  const link = (url: string, label: string): string =>
    isWebUrl(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>` : escapeHtml(`${label}: ${url}`);
  const parts = [
    `<p><strong>${escapeHtml(message.title)}</strong></p>`,
    `<p>${escapeHtml(message.body).replace(/\r?\n/g, "<br>")}</p>`,
    ...(message.url === null ? [] : [`<p>${link(message.url, message.url)}</p>`]),
    ...(message.actions.length === 0
      ? []
      : [`<ul>${message.actions.map((a) => `<li>${link(a.url, a.label)}</li>`).join("")}</ul>`]),
  ];
  return `<!doctype html><html><body>${parts.join("")}</body></html>`;
}

/** Only http(s) links become anchors: a javascript: or data: URL stays inert text. */
function isWebUrl(url: string): boolean {
  try {
    const protocol = new URL(url).protocol;
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Header text on one line: CR, LF and other controls become spaces (no header injection). */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to match control characters
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");
}

// ---------------------------------------------------------------------------------------------
// Validation of a configuration from outside (the API, a config file).

/**
 * Checks an email channel configuration; returns it normalised or throws
 * LatchkeyError("HUB_BAD_REQUEST", …, { field }). Messages name the field, never a value.
 */
export function validateEmailConfig(input: unknown): EmailConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad("config", "the email configuration must be an object");
  }
  const o = input as Record<string, unknown>;

  const host = o.host;
  if (typeof host !== "string" || !validHost(host)) {
    throw bad("host", "host must be a host name or an IP address (no scheme, port or spaces)");
  }
  const port = o.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad("port", "port must be an integer 1-65535 (587 for STARTTLS, 465 for TLS)");
  }
  const security = o.security;
  if (security !== "starttls" && security !== "tls" && security !== "none") {
    throw bad("security", 'security must be "starttls", "tls" or "none"');
  }

  const username = o.username ?? null;
  const password = o.password ?? null;
  if (username !== null && (typeof username !== "string" || !validLogin(username))) {
    throw bad("username", "username must be null or a non-empty string without control characters");
  }
  if (
    password !== null &&
    (typeof password !== "string" || password.length === 0 || password.length > 1024)
  ) {
    throw bad("password", "password must be null or a non-empty string (at most 1024 characters)");
  }
  if ((username === null) !== (password === null)) {
    throw bad(username === null ? "username" : "password", "username and password must be set together");
  }

  if (security === "none" && !isLoopback(host)) {
    throw bad(
      "security",
      password !== null
        ? `security "none" would send the password in clear to ${host}: use "starttls" or "tls" (plain SMTP is allowed only to this machine)`
        : `security "none" would send alerts in clear to ${host}: use "starttls" or "tls" (plain SMTP is allowed only to this machine)`,
    );
  }

  const from = o.from;
  if (typeof from !== "string" || !validAddress(from)) {
    throw bad("from", "from must be one plain email address (name@domain)");
  }
  const to = o.to;
  if (!Array.isArray(to) || to.length < 1 || to.length > MAX_RECIPIENTS) {
    throw bad("to", `to must list 1-${MAX_RECIPIENTS} email addresses`);
  }
  to.forEach((address: unknown, i) => {
    if (typeof address !== "string" || !validAddress(address)) {
      throw bad("to", `to[${i}] must be one plain email address (name@domain)`);
    }
  });

  const ca = o.ca ?? undefined;
  if (ca !== undefined) {
    if (typeof ca !== "string" || !ca.includes("-----BEGIN CERTIFICATE-----") || !parsesAsCertificate(ca)) {
      throw bad("ca", "ca must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    if (security === "none") throw bad("ca", 'ca has no use with security "none"');
  }

  return {
    host,
    port,
    security,
    username,
    password,
    from,
    to: [...(to as string[])],
    ...(ca === undefined ? {} : { ca }),
  };
}

function bad(field: string, message: string): LatchkeyError {
  return new LatchkeyError("HUB_BAD_REQUEST", message, { field });
}

/** Addresses checked simply: one "@" with something on both sides, no spaces, controls or list syntax. */
export function validAddress(address: string): boolean {
  if (address.length > 254) return false;
  // eslint-disable-next-line no-control-regex -- rejecting control characters (CR/LF injection)
  if (/[\s\u0000-\u001f\u007f<>,;"()[\]\\]/.test(address)) return false;
  const parts = address.split("@");
  return parts.length === 2 && parts[0] !== "" && parts[1] !== "";
}

function validLogin(username: string): boolean {
  // eslint-disable-next-line no-control-regex -- rejecting control characters
  return username.length > 0 && username.length <= 256 && !/[\u0000-\u001f\u007f]/.test(username);
}

function validHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  return (
    host.length <= 253 &&
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(
      host,
    )
  );
}

/** This machine: "localhost", 127.0.0.0/8 or ::1 (RFC 6761 §6.3, RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

function parsesAsCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
