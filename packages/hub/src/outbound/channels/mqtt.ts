/**
 * The MQTT channel: hub events for home automation (Home Assistant, Node-RED, openHAB) as one JSON
 * document per event on `<topic>/<event>`, at QoS 1 (MQTT 3.1.1 §4.3.2: the broker acknowledges
 * with PUBACK, so "delivered" means the broker has it). The channel only needs a publisher: the
 * outbox may hand in the hub's own broker connection, or one from `connectMqttPublisher` for a
 * separate broker.
 */
import { randomBytes } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { LatchkeyError } from "@latchkey/protocol";
import { isLoopback } from "./email.js";
import {
  delivered,
  failed,
  type Channel,
  type DeliveryOutcome,
  type OutboundMessage,
  type SendOptions,
} from "./channel.js";

/** Somewhere to publish; `publish` resolves once the broker has acknowledged (PUBACK for QoS 1). */
export interface MqttPublisher {
  publish(topic: string, payload: Buffer, options: { qos: 1; retain: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface MqttChannelOptions {
  readonly publisher: MqttPublisher;
  /** Topic prefix, e.g. "latchkey/events"; the event name is appended: "latchkey/events/alert.forced-entry". */
  readonly topic: string;
  /** Keep the last message of each event on the broker for late subscribers. Default false. */
  readonly retain?: boolean | undefined;
}

/** The JSON document published for each message. */
export interface MqttEventPayload {
  readonly id: string;
  readonly event: string;
  readonly title: string;
  readonly body: string;
  readonly priority: OutboundMessage["priority"];
  readonly tags: readonly string[];
  readonly url: string | null;
  /** ISO 8601, UTC. */
  readonly occurredAt: string;
  readonly data: OutboundMessage["data"];
}

/** Why a publish failed; `permanent` when trying again cannot help (the broker refused our login). */
export class MqttPublishError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "MqttPublishError";
  }
}

export const NOT_AUTHORISED = "not authorised by the broker";
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a publish waits for its PUBACK before the connection is given up. */
const PUBLISH_TIMEOUT_MS = 10_000;
/** MQTT 3.1.1 §4.7.3: a topic name is at most 65535 bytes of UTF-8. */
const MAX_TOPIC_BYTES = 65_535;

export function mqttChannel(options: MqttChannelOptions): Channel {
  const { publisher, topic } = options;
  const retain = options.retain ?? false;
  return {
    kind: "mqtt",
    async send(message: OutboundMessage, { signal }: SendOptions): Promise<DeliveryOutcome> {
      const eventTopic = `${topic}/${message.event}`;
      const problem = topicProblem(eventTopic);
      if (problem !== null) return failed(`event name makes an invalid topic (${problem})`, false);
      if (signal.aborted) return failed("publishing was aborted", true);
      const payload = Buffer.from(JSON.stringify(payloadOf(message)), "utf8");
      try {
        await abortable(publisher.publish(eventTopic, payload, { qos: 1, retain }), signal);
        return delivered(`acknowledged by the broker on ${eventTopic}`);
      } catch (error) {
        return failureOutcome(error);
      }
    },
  };
}

export function payloadOf(message: OutboundMessage): MqttEventPayload {
  return {
    id: message.id,
    event: message.event,
    title: message.title,
    body: message.body,
    priority: message.priority,
    tags: message.tags,
    url: message.url,
    occurredAt: new Date(message.occurredAt).toISOString(),
    data: message.data,
  };
}

function failureOutcome(error: unknown): DeliveryOutcome {
  if (error instanceof MqttPublishError) return failed(error.message, !error.permanent);
  if (error instanceof Error && error.name === "AbortError") return failed("publishing was aborted", true);
  // A publisher we did not build (the hub's own connection): classify mqtt.js's errors the same way.
  if (refusedLogin(error)) return failed(NOT_AUTHORISED, false);
  return failed(`publish failed (${describeError(error)})`, true);
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * CONNACK return codes 4 "bad user name or password" and 5 "not authorized" (MQTT 3.1.1
 * §3.2.2.3); MQTT 5 reason codes 0x86, 0x87 and 0x8C "bad authentication method" (MQTT 5 §3.2.2.2),
 * 0x87 also on a PUBACK the broker's ACL refused (§3.4.2.1).
 */
export function refusedLogin(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 4 || code === 5 || code === 0x86 || code === 0x87 || code === 0x8c;
}

/** Socket error codes in words, for reasons shown to the owner (also the Home Assistant bridge's). */
export const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "timed out",
  EPIPE: "connection closed",
};

/** A short reason from an error: a known network code, an MQTT reason code, or the first words of its message. */
function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string")
    return NETWORK_ERRORS[code] ?? (/^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : "error");
  if (typeof code === "number") return `MQTT reason code ${code}`;
  // A bug's message (mqtt.js publishing after end() throws a TypeError) means nothing to the owner.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError)
    return "internal error";
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0]?.trim() ?? "";
  return line === "" ? "error" : line.slice(0, 80);
}

// ---------------------------------------------------------------------------------------------
// A publisher of our own, on mqtt.js.

export interface MqttConnectOptions {
  /** mqtt://, mqtts://, ws:// or wss://, without credentials. */
  readonly url: string;
  readonly username: string | null;
  readonly password: string | null;
  /** PEM certificate(s) to trust instead of the public roots, for a broker with a private CA. */
  readonly ca?: string | undefined;
  /** Connect timeout; 10 s unless a test wants less. */
  readonly connectTimeoutMs?: number | undefined;
  /** PUBACK timeout; 10 s unless a test wants less. */
  readonly publishTimeoutMs?: number | undefined;
}

/**
 * A publisher on its own connection. It connects on the first publish and again on the next one
 * after a drop (no background reconnect loop: the outbox's retries are the reconnects), so a
 * broker that is down or refuses the login shows up as that attempt's outcome.
 */
export function connectMqttPublisher(options: MqttConnectOptions): MqttPublisher {
  const clientOptions: IClientOptions = {
    clientId: `latchkey-hub-out-${randomBytes(6).toString("hex")}`,
    ...(options.username === null ? {} : { username: options.username }),
    ...(options.password === null ? {} : { password: options.password }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    clean: true,
  };
  const publishTimeoutMs = options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
  let client: MqttClient | null = null;
  let connecting: Promise<MqttClient> | null = null;
  let closed = false;

  const open = (): Promise<MqttClient> =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(options.url, clientOptions);
      let lastError: unknown = null;
      let settled = false;
      const settle = (error: unknown): void => {
        if (settled) return;
        settled = true;
        if (error === null) return resolve(c);
        c.end(true);
        reject(connectFailure(error));
      };
      // Always listening: an "error" event with no listener would throw out of the event loop.
      c.on("error", (error) => {
        lastError = error;
        settle(error);
      });
      c.once("connect", () => settle(null));
      c.once("close", () => settle(lastError ?? new Error("connection closed")));
    });

  const connected = async (): Promise<MqttClient> => {
    if (closed) throw new MqttPublishError("publisher is closed", false);
    if (client?.connected) return client;
    if (connecting === null) {
      const previous = client;
      client = null;
      previous?.end(true);
      connecting = open().finally(() => (connecting = null));
      client = await connecting;
      if (closed) {
        client.end(true);
        throw new MqttPublishError("publisher is closed", false);
      }
      return client;
    }
    return connecting;
  };

  return {
    async publish(topic, payload, { qos, retain }) {
      const c = await connected();
      await new Promise<void>((resolve, reject) => {
        const fail = (error: MqttPublishError): void => {
          cleanup();
          // Give the connection up; the next publish opens a new one.
          c.end(true);
          reject(error);
        };
        const onClose = (): void => fail(new MqttPublishError("connection to the broker closed", false));
        const timer = setTimeout(
          () => fail(new MqttPublishError("timed out waiting for the broker's acknowledgement", false)),
          publishTimeoutMs,
        );
        const cleanup = (): void => {
          clearTimeout(timer);
          c.off("close", onClose);
        };
        c.once("close", onClose);
        c.publish(topic, payload, { qos, retain }, (error) => {
          cleanup();
          if (error === undefined || error === null) resolve();
          else
            reject(
              refusedLogin(error)
                ? new MqttPublishError(NOT_AUTHORISED, true)
                : new MqttPublishError(`publish failed (${describeError(error)})`, false),
            );
        });
      });
    },
    async close() {
      closed = true;
      const c = client;
      client = null;
      if (c !== null) await c.endAsync(false).catch(() => c.end(true));
    },
  };
}

/** A connect that failed: refused logins are permanent, everything else is worth another try. */
function connectFailure(error: unknown): MqttPublishError {
  if (refusedLogin(error)) return new MqttPublishError(NOT_AUTHORISED, true);
  return new MqttPublishError(`broker unreachable (${describeError(error)})`, false);
}

// ---------------------------------------------------------------------------------------------
// Validation of a configuration from outside (the API, a config file).

export interface MqttConfig {
  readonly url: string;
  readonly username: string | null;
  readonly password: string | null;
  readonly ca?: string | undefined;
  readonly topic: string;
  readonly retain: boolean;
}

/**
 * Checks an MQTT channel configuration; returns it normalised or throws
 * LatchkeyError("HUB_BAD_REQUEST", …, { field }). Messages name the field, never a value.
 */
export function validateMqttConfig(input: unknown): MqttConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad("config", "the MQTT configuration must be an object");
  }
  const o = input as Record<string, unknown>;

  if (typeof o.url !== "string")
    throw bad("url", "url must be a broker URL (mqtt://, mqtts://, ws:// or wss://)");
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw bad("url", "url must be a broker URL (mqtt://, mqtts://, ws:// or wss://)");
  }
  if (!["mqtt:", "mqtts:", "ws:", "wss:"].includes(url.protocol)) {
    throw bad("url", "url must start with mqtt://, mqtts://, ws:// or wss://");
  }
  if (url.hostname === "") throw bad("url", "url must name the broker's host");
  if (url.username !== "" || url.password !== "") {
    // Credentials inside a URL end up in logs and screenshots; they have their own fields.
    throw bad("url", "url must not contain a user name or password: use the username and password fields");
  }
  if (
    (url.protocol === "mqtt:" || url.protocol === "mqtts:") &&
    url.pathname !== "" &&
    url.pathname !== "/"
  ) {
    throw bad("url", "an mqtt:// or mqtts:// url has no path");
  }
  if (url.search !== "" || url.hash !== "") throw bad("url", "url must not have a query or fragment");

  const username = o.username ?? null;
  const password = o.password ?? null;
  if (username !== null && (typeof username !== "string" || username.length === 0 || username.length > 256)) {
    throw bad("username", "username must be null or a non-empty string");
  }
  if (
    password !== null &&
    (typeof password !== "string" || password.length === 0 || password.length > 1024)
  ) {
    throw bad("password", "password must be null or a non-empty string (at most 1024 characters)");
  }
  // MQTT 3.1.1 §3.1.2.9: a password without a user name is a protocol violation.
  if (password !== null && username === null) throw bad("username", "a password needs a username");
  // As for email: a password goes in clear only to a broker on this machine.
  if (
    password !== null &&
    (url.protocol === "mqtt:" || url.protocol === "ws:") &&
    !isLoopback(url.hostname.replace(/^\[|\]$/g, ""))
  ) {
    throw bad(
      "url",
      "a password would be sent in clear: use mqtts:// or wss:// for a broker on another machine",
    );
  }

  const ca = o.ca ?? undefined;
  if (ca !== undefined) {
    if (typeof ca !== "string" || !ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw bad("ca", "ca must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    if (url.protocol !== "mqtts:" && url.protocol !== "wss:") {
      throw bad("ca", "ca is only used with mqtts:// or wss://");
    }
  }

  const topic = o.topic;
  if (typeof topic !== "string") throw bad("topic", "topic must be a string such as latchkey/events");
  const problem = topicProblem(topic);
  if (problem !== null) throw bad("topic", `topic ${problem}`);
  if (topic.startsWith("/")) throw bad("topic", 'topic must not start with "/"');
  if (topic.startsWith("$")) {
    // MQTT 3.1.1 §4.7.2: topics starting with "$" are the broker's ($SYS).
    throw bad("topic", 'topic must not start with "$" (reserved for the broker)');
  }
  if (topic.endsWith("/"))
    throw bad("topic", 'topic must not end with "/" (the event name is appended after one)');

  const retain = o.retain ?? false;
  if (typeof retain !== "boolean") throw bad("retain", "retain must be true or false");

  return {
    url: o.url,
    username,
    password,
    ...(ca === undefined ? {} : { ca }),
    topic,
    retain,
  };
}

/** MQTT 3.1.1 §4.7.1 and §4.7.3: a topic name has no wildcards, no NUL, 1–65535 bytes. */
function topicProblem(topic: string): string | null {
  if (topic.length === 0) return "must not be empty";
  if (/[+#]/.test(topic)) return 'must not contain the wildcards "+" or "#"';
  // eslint-disable-next-line no-control-regex -- rejecting NUL and other control characters
  if (/[\u0000-\u001f\u007f]/.test(topic)) return "must not contain control characters";
  if (Buffer.byteLength(topic, "utf8") > MAX_TOPIC_BYTES) return "is too long";
  return null;
}

function bad(field: string, message: string): LatchkeyError {
  return new LatchkeyError("HUB_BAD_REQUEST", message, { field });
}
