/**
 * Notification channels over HTTP (owner only): add, list, change, remove, test, and each one's
 * delivery log; the Web Push key browsers subscribe with. A channel's settings are answered only
 * as far as they may be shown (a host, addresses) — never a token, password, secret or push
 * subscription; a webhook secret the hub made is answered once, when the channel is added.
 */
import { Type } from "typebox";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { EpochMs, Id, Name, Ok, Strict, StrictPatch, errorResponses } from "./schemas.js";
import {
  addChannel,
  channelDeliveries,
  getChannel,
  listChannels,
  removeChannel,
  sendTest,
  updateChannel,
  type ChannelActor,
} from "../outbound/channels-store.js";
import { CHANNEL_KINDS } from "../outbound/channel-settings.js";
import { hubVapid } from "../outbound/vapid.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422, 429);
const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(t: T) =>
  Type.Union([t, Type.Null()]);
const Kind = Type.Union(CHANNEL_KINDS.map((k) => Type.Literal(k)));
/** "*", "alert.*", "alert.lock-offline", "test" (channels-store.ts checks the same rule). */
const EventPattern = Type.String({
  maxLength: 100,
  pattern: "^(\\*|[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*(\\.\\*)?)$",
});

const Clock = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
const QuietHours = Strict({
  start: Clock,
  end: Clock,
  timeZone: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_+/-]+$" }),
});
const Tuning = {
  quietHours: Type.Optional(Type.Union([QuietHours, Type.Null()])),
  dedupeMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1440 })),
  maxPerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
};

const Channel = Strict({
  id: Id,
  kind: Type.String(),
  name: Type.String(),
  settings: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.String())]),
  ),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  quietHours: Type.Union([QuietHours, Type.Null()]),
  dedupeMinutes: Type.Integer(),
  maxPerHour: Type.Integer(),
  createdAt: EpochMs,
});

const Delivery = Strict({
  id: Id,
  channelId: Id,
  messageId: Id,
  event: Type.String(),
  title: Type.String(),
  state: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(EpochMs),
  lastResult: Nullable(Type.String()),
  createdAt: EpochMs,
  finishedAt: Nullable(EpochMs),
});

const ChannelParams = Strict({ channelId: Id });

function actor(call: Call<RouteSchema>): ChannelActor {
  return { accountId: call.caller.account?.id ?? null, ip: call.caller.ip };
}

export const NOTIFICATION_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/notification-channels",
    summary: "The hub's notification channels, with what of their settings may be shown",
    tags: ["notifications"],
    access: { kind: "owner" },
    schema: { response: { 200: Strict({ items: Type.Array(Channel) }), ...errors } },
    async handler(call) {
      return { items: await listChannels(call.ctx) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/notification-channels",
    summary:
      "Add a notification channel (web-push, ntfy, email, webhook, mqtt, syslog, json-lines) receiving the listed events (default: every alert); a webhook's signing secret, when the hub makes it, is answered here only",
    tags: ["notifications"],
    access: { kind: "owner" },
    // It sends what happens at the doors somewhere new.
    stepUp: true,
    status: 201,
    schema: {
      body: Strict({
        kind: Kind,
        name: Name,
        settings: Type.Record(Type.String(), Type.Unknown(), { maxProperties: 20 }),
        events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 20 })),
        ...Tuning,
      }),
      response: { 201: Strict({ channel: Channel, secret: Nullable(Type.String()) }), ...errors },
    },
    async handler(call) {
      return addChannel(call.ctx, call.body, actor(call));
    },
  }),
  defineRoute({
    method: "PATCH",
    url: "/api/v1/notification-channels/:channelId",
    summary:
      "Rename a channel, change its events, quiet hours, de-duplication window or hourly limit, or turn it off and on",
    tags: ["notifications"],
    access: { kind: "owner" },
    stepUp: true,
    schema: {
      params: ChannelParams,
      body: StrictPatch({
        name: Type.Optional(Name),
        events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 20 })),
        enabled: Type.Optional(Type.Boolean()),
        ...Tuning,
      }),
      response: { 200: Channel, ...errors },
    },
    async handler(call) {
      return updateChannel(call.ctx, call.params.channelId, call.body, actor(call));
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/notification-channels/:channelId",
    summary: "Remove a channel, its undelivered messages and its delivery log",
    tags: ["notifications"],
    access: { kind: "owner" },
    stepUp: true,
    schema: { params: ChannelParams, response: { 200: Ok, ...errors } },
    async handler(call) {
      await removeChannel(call.ctx, call.params.channelId, actor(call));
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/notification-channels/:channelId/test",
    summary:
      "Send a test notification now; answers its delivery after the first attempt (sent, pending with the reason and next try, or failed)",
    tags: ["notifications"],
    access: { kind: "owner" },
    schema: { params: ChannelParams, response: { 200: Delivery, ...errors } },
    async handler(call) {
      return sendTest(call.ctx, call.ctx.outbox, call.params.channelId, actor(call));
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/notification-channels/:channelId/deliveries",
    summary: "The channel's delivery log, newest first: each message's state, attempts and last outcome",
    tags: ["notifications"],
    access: { kind: "owner" },
    schema: {
      params: ChannelParams,
      querystring: Strict({ limit: Type.Optional(Type.String({ pattern: "^(?:[1-9][0-9]{0,2}|1000)$" })) }),
      response: { 200: Strict({ items: Type.Array(Delivery) }), ...errors },
    },
    async handler(call) {
      await getChannel(call.ctx, call.params.channelId);
      const limit = call.query.limit === undefined ? 100 : Number(call.query.limit);
      return { items: await channelDeliveries(call.ctx, call.params.channelId, limit) };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/notifications/web-push-key",
    summary: "The hub's Web Push (VAPID) public key, for a browser to subscribe with",
    tags: ["notifications"],
    access: { kind: "owner" },
    schema: { response: { 200: Strict({ publicKey: Type.String() }), ...errors } },
    async handler(call) {
      return { publicKey: (await hubVapid(call.ctx)).publicKey };
    },
  }),
];
