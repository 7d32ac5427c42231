/**
 * Each kind of channel's settings: how they are checked on the way in, what of them may be shown
 * (`shown`: a host, a topic's server, addresses — never a token, password, secret, a URL that may
 * carry one, or a push subscription), and how a stored channel is opened to send. The whole
 * checked configuration is stored sealed under the hub secret; only `shown` is stored in clear.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { ChannelKind } from "./channels/channel.js";
import type { JsonLinesConfig } from "./channels/json-lines.js";
import type { SyslogConfig } from "./channels/syslog.js";
import type { EmailConfig } from "./channels/email.js";
import type { MqttConfig } from "./channels/mqtt.js";
import type { NtfyConfig } from "./channels/ntfy.js";
import type { PushSubscription } from "./channels/web-push.js";
import type { WebhookConfig } from "./channels/webhook.js";
import type { OpenedChannel } from "./outbox.js";
import { hubVapid } from "./vapid.js";

export const CHANNEL_KINDS: readonly ChannelKind[] = [
  "web-push",
  "ntfy",
  "email",
  "webhook",
  "mqtt",
  "syslog",
  "json-lines",
];

/** A checked configuration: all of it (to seal), what may be shown, and a secret to answer once. */
export interface CheckedSettings {
  readonly config: unknown;
  readonly shown: Readonly<Record<string, string | number | boolean | readonly string[] | null>>;
  /** Made by the hub for the user to copy (a webhook's signing secret): answered at creation only. */
  readonly generatedSecret: string | null;
}

const hostOf = (url: string): string => new URL(url).host;

/** Checks `input` as settings of `kind`; throws HUB_BAD_REQUEST naming the field. */
// Each kind's module is loaded when first used: nodemailer and web-push alone are a sixth of the
// hub's code, and most hubs use one or two kinds.
export async function checkSettings(kind: ChannelKind, input: unknown): Promise<CheckedSettings> {
  switch (kind) {
    case "webhook": {
      const { newWebhookSecret, validateWebhookConfig } = await import("./channels/webhook.js");
      const given = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
      const generated = given.secret === undefined || given.secret === null ? newWebhookSecret() : null;
      const config = validateWebhookConfig(generated === null ? given : { ...given, secret: generated });
      return { config, shown: { host: hostOf(config.url) }, generatedSecret: generated };
    }
    case "ntfy": {
      const { validateNtfyConfig } = await import("./channels/ntfy.js");
      const config = validateNtfyConfig(input);
      // On a public server the topic is all it takes to read the messages: it stays sealed.
      return {
        config,
        shown: { server: hostOf(config.server), token: config.token !== null },
        generatedSecret: null,
      };
    }
    case "email": {
      const { validateEmailConfig } = await import("./channels/email.js");
      const config = validateEmailConfig(input);
      return {
        config,
        shown: {
          host: config.host,
          port: config.port,
          security: config.security,
          from: config.from,
          to: [...config.to],
          login: config.username !== null,
        },
        generatedSecret: null,
      };
    }
    case "mqtt": {
      const { validateMqttConfig } = await import("./channels/mqtt.js");
      const config = validateMqttConfig(input);
      return { config, shown: { host: hostOf(config.url), topic: config.topic }, generatedSecret: null };
    }
    case "syslog": {
      const { validateSyslogConfig } = await import("./channels/syslog.js");
      const config = validateSyslogConfig(input);
      return {
        config,
        shown: {
          host: config.host,
          port: config.port,
          facility: config.facility ?? "authpriv",
          privateCa: config.ca !== undefined,
        },
        generatedSecret: null,
      };
    }
    case "json-lines": {
      const { validateJsonLinesConfig } = await import("./channels/json-lines.js");
      const config = validateJsonLinesConfig(input);
      // A URL's query may hold a token: its host only.
      const shown: CheckedSettings["shown"] =
        "path" in config ? { path: config.path } : { host: hostOf(config.url), token: config.token !== null };
      return { config, shown, generatedSecret: null };
    }
    case "web-push": {
      const { validatePushSubscription } = await import("./channels/web-push.js");
      const given = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
      const subscription = validatePushSubscription(given.subscription);
      return {
        config: { subscription },
        shown: { pushService: hostOf(subscription.endpoint) },
        generatedSecret: null,
      };
    }
  }
}

/** Opens a stored channel's settings (already unsealed) to send. */
export async function openSettings(
  ctx: HubContext,
  kind: ChannelKind,
  config: unknown,
): Promise<OpenedChannel> {
  switch (kind) {
    case "webhook":
      return { channel: (await import("./channels/webhook.js")).webhookChannel(config as WebhookConfig) };
    case "ntfy":
      return { channel: (await import("./channels/ntfy.js")).ntfyChannel(config as NtfyConfig) };
    case "email":
      return { channel: (await import("./channels/email.js")).emailChannel(config as EmailConfig) };
    case "mqtt": {
      const { connectMqttPublisher, mqttChannel } = await import("./channels/mqtt.js");
      const c = config as MqttConfig;
      // A connection per attempt, closed after it: alerts are rare, and a held connection would
      // be one more thing to supervise.
      return {
        channel: {
          kind: "mqtt",
          async send(message, options) {
            const publisher = connectMqttPublisher(c);
            try {
              return await mqttChannel({ publisher, topic: c.topic, retain: c.retain }).send(
                message,
                options,
              );
            } finally {
              await publisher.close().catch(() => undefined);
            }
          },
        },
      };
    }
    case "syslog":
      return { channel: (await import("./channels/syslog.js")).syslogChannel(config as SyslogConfig) };
    case "json-lines":
      return {
        channel: (await import("./channels/json-lines.js")).jsonLinesChannel(config as JsonLinesConfig),
      };
    case "web-push": {
      const { isSubscriptionGone, webPushChannel } = await import("./channels/web-push.js");
      const { subscription } = config as { subscription: PushSubscription };
      return {
        channel: webPushChannel({ subscription, vapid: await hubVapid(ctx) }),
        disables: (outcome) =>
          isSubscriptionGone(outcome)
            ? "the browser ended this push subscription; subscribe again on that device"
            : null,
      };
    }
  }
}

export function checkKind(kind: string): ChannelKind {
  if ((CHANNEL_KINDS as readonly string[]).includes(kind)) return kind as ChannelKind;
  throw new LatchkeyError("HUB_BAD_REQUEST", `kind must be one of ${CHANNEL_KINDS.join(", ")}`, {
    field: "kind",
  });
}
