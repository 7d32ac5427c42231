/**
 * Syslog for a SIEM: each message as one RFC 5424 syslog message, sent over TLS (RFC 5425) to a
 * collector (rsyslog, syslog-ng, a SIEM's syslog input). The facility defaults to authpriv: door
 * access is security/authorization information (RFC 5424 §6.2.1, Table 1).
 *
 * Syslog has no application-level acknowledgement (RFC 5425 §4.3 only frames messages), so here
 * "delivered" means the TLS stream accepted the message and flushed it to the collector, which
 * then closed cleanly (or stayed quiet for a short drain). A connection that fails after the bytes
 * left is reported as retryable: a SIEM may then see a message twice, and the `id` in the
 * structured data lets it de-duplicate.
 */
import { hostname as osHostname } from "node:os";
import { isIP } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { LatchkeyError } from "@latchkey/protocol";
import {
  delivered,
  failed,
  type Channel,
  type DeliveryOutcome,
  type OutboundMessage,
  type Priority,
} from "./channel.js";
import { DNS_CODES, errorCode, isPemCertificate, RESET_CODES, UNREACHABLE_CODES } from "./http-post.js";

/** RFC 5425 §4.1: the port assigned to syslog over TLS. */
export const SYSLOG_TLS_PORT = 6514;
export const DEFAULT_SYSLOG_TIMEOUT_MS = 10_000;
/** How long to wait, after the message is flushed, for the collector to close its side. */
const DRAIN_MS = 1_000;
/**
 * RFC 5425 §4.3.1: receivers SHOULD accept 8192 octets (and MUST accept 2048); a longer message
 * would be truncated or refused by the collector, so the text is cut to fit.
 */
export const MAX_SYSLOG_MESSAGE_OCTETS = 8192;

/**
 * The structured-data ID: "name@<private enterprise number>" (RFC 5424 §6.3.2, §7.2.2). 32473 is
 * the example enterprise number reserved for documentation (RFC 5612); a deployment with its own
 * IANA number may want it replaced.
 */
export const SD_ID = "latchkey@32473";

/** RFC 5424 §6.2.1, Table 1: facility keywords (as rsyslog and syslog-ng name them) → codes. */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** RFC 5424 §6.2.1, Table 2 severities from ntfy's five priorities. */
export const SYSLOG_SEVERITY: Readonly<Record<Priority, 2 | 3 | 5 | 6 | 7>> = {
  urgent: 2, // critical
  high: 3, // error
  default: 5, // notice
  low: 6, // informational
  min: 7, // debug
};

export interface SyslogConfig {
  /** The collector's host name (checked against its certificate) or IP address. */
  readonly host: string;
  readonly port: number;
  /** PEM certificate(s) of a private CA that signed the collector's certificate; else the system roots. */
  readonly ca?: string | undefined;
  /** HOSTNAME field (RFC 5424 §6.2.4); default this machine's host name. */
  readonly hostname?: string | undefined;
  /** APP-NAME field (RFC 5424 §6.2.5); default "latchkey". */
  readonly appName?: string | undefined;
  /** Default authpriv (10). */
  readonly facility?: SyslogFacility | undefined;
}

export interface SyslogChannelOptions extends SyslogConfig {
  /** Per-attempt deadline (connect, handshake, send); default 10 s. */
  readonly timeoutMs?: number | undefined;
}

export interface SyslogHeaderFields {
  readonly hostname: string;
  readonly appName: string;
  readonly facility: SyslogFacility | number;
  /** PROCID (RFC 5424 §6.2.6); default "-" (NILVALUE). */
  readonly procId?: string | undefined;
}

/** PRINTUSASCII, %d33-126 (RFC 5424 §6). */
const PRINTUSASCII = /^[\x21-\x7e]+$/;
/** SD-NAME (RFC 5424 §6.3.3): 1*32 PRINTUSASCII except '=', SP, ']', '"'. */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const SD_NAME_EXCLUDED = /[="\]]/;
/** A DNS host name (RFC 1123 labels). */
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** C0 controls (CR and LF among them), DEL, C1 controls and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const BOM = "\uFEFF";

const bad = (field: string, message: string): LatchkeyError =>
  new LatchkeyError("HUB_BAD_REQUEST", message, { field });

/** Checks a syslog configuration from the API. */
export function validateSyslogConfig(input: unknown): SyslogConfig {
  if (typeof input !== "object" || input === null)
    throw bad("host", "syslog configuration must be an object");
  const { host, port, ca, hostname, appName, facility } = input as Record<string, unknown>;
  if (typeof host !== "string" || !(DNS_NAME.test(host) || isIP(host) !== 0))
    throw bad("host", "syslog host must be a host name or an IP address");
  const checkedPort = port === undefined || port === null ? SYSLOG_TLS_PORT : port;
  if (
    typeof checkedPort !== "number" ||
    !Number.isInteger(checkedPort) ||
    checkedPort < 1 ||
    checkedPort > 65535
  )
    throw bad("port", "syslog port must be an integer from 1 to 65535 (syslog over TLS uses 6514)");
  if (ca !== undefined && ca !== null && !isPemCertificate(ca))
    throw bad("ca", "syslog CA must be a PEM certificate");
  if (hostname !== undefined && hostname !== null && !isHeaderText(hostname, 255))
    throw bad("hostname", "syslog hostname must be 1 to 255 printable ASCII characters without spaces");
  if (appName !== undefined && appName !== null && !isHeaderText(appName, 48))
    throw bad("appName", "syslog appName must be 1 to 48 printable ASCII characters without spaces");
  let checkedFacility: SyslogFacility = "authpriv";
  if (facility !== undefined && facility !== null) {
    const named = facilityName(facility);
    if (named === null)
      throw bad(
        "facility",
        `syslog facility must be one of ${Object.keys(SYSLOG_FACILITIES).join(", ")} or 0 to 23`,
      );
    checkedFacility = named;
  }
  return {
    host,
    port: checkedPort,
    ...(typeof ca === "string" ? { ca } : {}),
    ...(typeof hostname === "string" ? { hostname } : {}),
    ...(typeof appName === "string" ? { appName } : {}),
    facility: checkedFacility,
  };
}

/** A header field: 1..max PRINTUSASCII, and not the NILVALUE "-" on its own. */
function isHeaderText(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length <= max && PRINTUSASCII.test(value) && value !== "-";
}

function facilityName(value: unknown): SyslogFacility | null {
  if (typeof value === "string" && Object.hasOwn(SYSLOG_FACILITIES, value)) return value as SyslogFacility;
  if (typeof value === "number") {
    const entry = Object.entries(SYSLOG_FACILITIES).find(([, code]) => code === value);
    if (entry !== undefined) return entry[0] as SyslogFacility;
  }
  return null;
}

function facilityCode(facility: SyslogFacility | number): number {
  const code = typeof facility === "number" ? facility : SYSLOG_FACILITIES[facility];
  if (!Number.isInteger(code) || code < 0 || code > 23)
    throw new RangeError("syslog facility must be 0 to 23");
  return code;
}

/** A header field as RFC 5424 §6 allows it: printable US-ASCII only, at most `max`, else "-". */
function headerField(text: string, max: number): string {
  const printable = text.replace(/[^\x21-\x7e]/g, "").slice(0, max);
  return printable === "" ? "-" : printable;
}

/** Control characters become spaces, so no field or text can start a line of its own. */
function oneLine(text: string): string {
  return text.replace(LINE_BREAKING, " ");
}

/** RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' MUST be escaped with a backslash. */
export function escapeParamValue(value: string): string {
  return oneLine(value).replace(/["\\\]]/g, (character) => `\\${character}`);
}

/** Whether `name` is a valid SD-NAME for a PARAM-NAME (RFC 5424 §6.3.3). */
export function isSdName(name: string): boolean {
  return SD_NAME.test(name) && !SD_NAME_EXCLUDED.test(name);
}

/**
 * The STRUCTURED-DATA element (RFC 5424 §6.3): id and event first, then each data field whose key
 * is a valid PARAM-NAME. Other keys (too long, spaces, '=', '"', ']', non-ASCII) are dropped, as
 * are keys "id" and "event" (they would shadow the message's own) and null values (absent is null).
 */
function structuredData(message: OutboundMessage): string {
  const params: string[] = [
    `id="${escapeParamValue(message.id)}"`,
    `event="${escapeParamValue(message.event)}"`,
  ];
  for (const [key, value] of Object.entries(message.data)) {
    if (value === null || key === "id" || key === "event" || !isSdName(key)) continue;
    params.push(`${key}="${escapeParamValue(String(value))}"`);
  }
  return `[${SD_ID} ${params.join(" ")}]`;
}

/** TIMESTAMP (RFC 5424 §6.2.3): UTC with milliseconds and "Z"; NILVALUE if the time is unusable. */
function timestamp(occurredAt: number): string {
  const date = new Date(occurredAt);
  return Number.isNaN(date.getTime()) ? "-" : date.toISOString();
}

/** Cuts `text` to at most `octets` bytes of UTF-8 without splitting a character. */
function cutUtf8(text: string, octets: number): string {
  if (Buffer.byteLength(text, "utf8") <= octets) return text;
  let cut = "";
  let used = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character, "utf8");
    if (used + size > octets) break;
    cut += character;
    used += size;
  }
  return cut;
}

/**
 * One SYSLOG-MSG (RFC 5424 §6):
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG`, at most 8192 octets of UTF-8.
 */
export function formatSyslog(message: OutboundMessage, fields: SyslogHeaderFields): string {
  // §6.2.1: PRI = facility × 8 + severity.
  const pri = facilityCode(fields.facility) * 8 + SYSLOG_SEVERITY[message.priority];
  const header = [
    `<${pri}>1`, // §6.2.2: VERSION 1
    timestamp(message.occurredAt),
    headerField(fields.hostname, 255), // §6.2.4
    headerField(fields.appName, 48), // §6.2.5
    headerField(fields.procId ?? "-", 128), // §6.2.6
    headerField(message.event, 32), // §6.2.7: MSGID
  ].join(" ");
  const head = `${header} ${structuredData(message)} `;
  // §6.4: MSG in UTF-8 starts with a BOM.
  const text = oneLine(`${message.title}: ${message.body}`);
  const room = MAX_SYSLOG_MESSAGE_OCTETS - Buffer.byteLength(head + BOM, "utf8");
  return head + BOM + cutUtf8(text, Math.max(0, room));
}

/** RFC 5425 §4.3 octet-counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in octets. */
export function frameSyslog(syslogMessage: string): Buffer {
  const body = Buffer.from(syslogMessage, "utf8");
  return Buffer.concat([Buffer.from(`${body.byteLength} `, "ascii"), body]);
}

/** This machine's host name as a HOSTNAME field (§6.2.4), or "-" when it has none usable. */
function defaultHostname(): string {
  return headerField(osHostname(), 255);
}

/**
 * A Channel of kind "syslog". (Declared apart from `Channel` only until "syslog" joins ChannelKind;
 * it is structurally a `Channel` then.)
 */
export interface SyslogChannel {
  readonly kind: "syslog";
  send: Channel["send"];
}

export function syslogChannel(options: SyslogChannelOptions): SyslogChannel {
  const { host, port, ca } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SYSLOG_TIMEOUT_MS;
  const fields: SyslogHeaderFields = {
    hostname: options.hostname ?? defaultHostname(),
    appName: options.appName ?? "latchkey",
    facility: options.facility ?? "authpriv",
    procId: String(process.pid),
  };
  return {
    kind: "syslog",
    async send(message, { signal }) {
      let frame: Buffer;
      try {
        frame = frameSyslog(formatSyslog(message, fields));
      } catch {
        // Only a facility outside 0..23 (configurations are validated on the way in) gets here.
        return failed("syslog configuration is invalid", false);
      }
      return sendFrame({ host, port, ca, timeoutMs, signal, frame });
    },
  };
}

interface FrameAttempt {
  readonly host: string;
  readonly port: number;
  readonly ca: string | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly frame: Buffer;
}

/** One connection: TLS handshake, the framed message, a clean close. */
function sendFrame(attempt: FrameAttempt): Promise<DeliveryOutcome> {
  const { host, port, signal, timeoutMs } = attempt;
  const where = `${host}:${port}`;
  if (signal.aborted) return Promise.resolve(failed("aborted", true));
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    let flushed = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let socket: TLSSocket;

    const settle = (outcome: DeliveryOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(drainTimer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => settle(failed("aborted", true));
    const deadline = setTimeout(
      () => settle(failed(`timed out after ${timeoutMs / 1000} s (${where})`, true)),
      timeoutMs,
    );
    const sent = (): DeliveryOutcome => delivered(`sent to ${where}`);

    try {
      socket = tlsConnect({
        host,
        port,
        // RFC 5425 §5.1/§5.2: the client authenticates the server's certificate against its name;
        // RFC 6066 forbids an IP address as SNI, so an IP host is checked against the certificate only.
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...(attempt.ca !== undefined ? { ca: attempt.ca } : {}),
        minVersion: "TLSv1.2",
        rejectUnauthorized: true,
      });
    } catch (error) {
      clearTimeout(deadline);
      resolve(classify(error, where));
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      // end() sends the frame, then TLS close_notify and FIN: the collector reads to the end.
      socket.end(attempt.frame, () => {
        flushed = true;
        // Some collectors keep their side open; after a short quiet spell the message is in.
        drainTimer = setTimeout(() => settle(sent()), DRAIN_MS);
      });
    });
    socket.on("error", (error: unknown) => {
      if (flushed) settle(failed(`connection failed after sending (${where})`, true));
      else settle(classify(error, where));
    });
    socket.once("close", () => {
      if (flushed) settle(sent());
      else settle(failed(`connection closed before sending (${where})`, true));
    });
  });
}

/** A socket, DNS or TLS error as a reason of fixed words, an error code and host:port. */
function classify(error: unknown, where: string): DeliveryOutcome {
  const code = errorCode(error);
  if (code === "ECONNREFUSED") return failed(`connection refused (${where})`, true);
  if (code !== undefined && RESET_CODES.has(code)) return failed(`connection reset (${where})`, true);
  if (code !== undefined && DNS_CODES.has(code)) return failed(`DNS lookup failed (${where})`, true);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return failed(`host unreachable (${where})`, true);
  if (code === "ETIMEDOUT") return failed(`connection timed out (${where})`, true);
  if (code !== undefined && isTlsCode(code))
    // The owner must fix the collector's certificate or the configured CA; a retry won't help.
    return failed(`TLS handshake failed: ${code} (${where})`, false);
  return failed(`syslog send failed: ${code ?? "unknown error"} (${where})`, true);
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
