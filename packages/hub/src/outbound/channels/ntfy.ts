/**
 * ntfy (https://ntfy.sh, self-hosted or public): each message is published as JSON to the server's
 * root URL (https://docs.ntfy.sh/publish/#publish-as-json), with an access token when the topic
 * is protected (https://docs.ntfy.sh/publish/#access-tokens).
 */
import { LatchkeyError } from "@latchkey/protocol";
import { delivered, failed, type Channel, type OutboundMessage, type Priority } from "./channel.js";
import {
  errorFailure,
  httpPost,
  isHttpUrl,
  isPemCertificate,
  isSuccessStatus,
  statusFailure,
} from "./http-post.js";

export interface NtfyConfig {
  /** The server's base URL, e.g. "https://ntfy.sh": http(s), no path, query or userinfo. */
  readonly server: string;
  readonly topic: string;
  /** An access token ("tk_…"), or null for a topic anyone may publish to. */
  readonly token: string | null;
  /** PEM certificate(s) of a private CA that signed the server's certificate. */
  readonly ca?: string | undefined;
}

export interface NtfyChannelOptions extends NtfyConfig {
  /** Per-attempt deadline; default 10 s (http-post.ts). */
  readonly timeoutMs?: number | undefined;
}

/** ntfy's topic names (https://docs.ntfy.sh/publish/ — topics match [-_A-Za-z0-9]{1,64}). */
const TOPIC = /^[A-Za-z0-9_-]{1,64}$/;
/** ntfy access tokens are "tk_" and 29 letters or digits; accept any sane length of the same shape. */
const TOKEN = /^tk_[A-Za-z0-9]{8,120}$/;
/** ntfy shows at most three action buttons (https://docs.ntfy.sh/publish/#action-buttons). */
export const MAX_NTFY_ACTIONS = 3;

/** https://docs.ntfy.sh/publish/#message-priority: 1 (min) … 5 (max/urgent). */
const PRIORITY: Readonly<Record<Priority, 1 | 2 | 3 | 4 | 5>> = {
  min: 1,
  low: 2,
  default: 3,
  high: 4,
  urgent: 5,
};

/** The JSON publish body (https://docs.ntfy.sh/publish/#publish-as-json). */
export interface NtfyPublishBody {
  readonly topic: string;
  readonly title: string;
  readonly message: string;
  readonly priority: 1 | 2 | 3 | 4 | 5;
  readonly tags: readonly string[];
  readonly click?: string;
  readonly actions: readonly { readonly action: "view"; readonly label: string; readonly url: string }[];
}

/** Checks an ntfy configuration from the API; messages never repeat the token. */
export function validateNtfyConfig(input: unknown): NtfyConfig {
  if (typeof input !== "object" || input === null)
    throw new LatchkeyError("HUB_BAD_REQUEST", "ntfy configuration must be an object", { field: "server" });
  const { server, topic, token, ca } = input as Record<string, unknown>;
  if (typeof server !== "string" || !isServerRoot(server))
    throw new LatchkeyError(
      "HUB_BAD_REQUEST",
      "ntfy server must be an absolute http:// or https:// URL without a path, query or credentials",
      { field: "server" },
    );
  if (typeof topic !== "string" || !TOPIC.test(topic))
    throw new LatchkeyError("HUB_BAD_REQUEST", "ntfy topic must be 1 to 64 letters, digits, '-' or '_'", {
      field: "topic",
    });
  if (token !== undefined && token !== null && (typeof token !== "string" || !TOKEN.test(token)))
    throw new LatchkeyError("HUB_BAD_REQUEST", 'ntfy token must be an access token starting with "tk_"', {
      field: "token",
    });
  if (ca !== undefined && ca !== null && !isPemCertificate(ca))
    throw new LatchkeyError("HUB_BAD_REQUEST", "ntfy CA must be a PEM certificate", { field: "ca" });
  const base = { server, topic, token: typeof token === "string" ? token : null };
  return typeof ca === "string" ? { ...base, ca } : base;
}

function isServerRoot(text: string): boolean {
  if (!isHttpUrl(text)) return false;
  const url = new URL(text);
  return (
    url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === ""
  );
}

export function ntfyPayload(topic: string, message: OutboundMessage): NtfyPublishBody {
  return {
    topic,
    title: message.title,
    message: message.body,
    priority: PRIORITY[message.priority],
    tags: message.tags,
    ...(message.url === null ? {} : { click: message.url }),
    actions: message.actions
      .slice(0, MAX_NTFY_ACTIONS)
      .map((action) => ({ action: "view" as const, label: action.label, url: action.url })),
  };
}

export function ntfyChannel(options: NtfyChannelOptions): Channel {
  const { topic, token, ca, timeoutMs } = options;
  // Configurations are validated on the way in; one that is not anyway fails every attempt for good.
  const root = isServerRoot(options.server) ? new URL("/", options.server) : null;
  return {
    kind: "ntfy",
    async send(message, { signal }) {
      if (root === null) return failed("ntfy server URL is invalid", false);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "Latchkey",
      };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      try {
        const response = await httpPost({
          url: root,
          body: Buffer.from(JSON.stringify(ntfyPayload(topic, message)), "utf8"),
          headers,
          signal,
          timeoutMs,
          ca,
        });
        if (!isSuccessStatus(response.status)) return statusFailure(response.status);
        const id = publishedId(response.body);
        return delivered(id === null ? `HTTP ${response.status}` : `ntfy message ${id}`);
      } catch (error) {
        return errorFailure(error);
      }
    },
  };
}

/** The id from ntfy's reply ({id, time, event: "message", topic, message, …}), if it has one. */
function publishedId(body: string): string | null {
  try {
    const reply: unknown = JSON.parse(body);
    if (typeof reply !== "object" || reply === null) return null;
    const { id } = reply as { id?: unknown };
    // ntfy ids are 12 letters or digits; anything else is not repeated into the log.
    return typeof id === "string" && /^[A-Za-z0-9]{1,64}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}
