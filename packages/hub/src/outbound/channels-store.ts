/**
 * Notification channels as the owner manages them: add (settings checked, then sealed), list
 * (only what may be shown), change name, events or on/off, remove, send a test, read the
 * delivery log. Every change is audited without its settings.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { recordAudit } from "../audit/audit.js";
import type { ChannelKind, OutboundMessage } from "./channels/channel.js";
import { checkKind, checkSettings, openSettings } from "./channel-settings.js";
import { outboundDb, type NotificationChannelTable } from "./outbound-tables.js";
import { checkQuietHours, type QuietHours } from "./quiet-hours.js";
import {
  enqueue,
  getDelivery,
  listDeliveries,
  type DeliveryView,
  type OpenedChannel,
  type Outbox,
} from "./outbox.js";

export const MAX_CHANNELS = 50;
/** Defaults: the same alert about the same lock at most once in 15 minutes; at most 30 messages an hour. */
export const DEFAULT_DEDUPE_MINUTES = 15;
export const DEFAULT_MAX_PER_HOUR = 30;
const EVENT_PATTERN = /^(\*|[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?)$/;
/** What a new channel receives unless told otherwise: every alert and every unlock request to approve. */
export const DEFAULT_EVENTS: readonly string[] = ["alert.*", "approval.*"];

export interface ChannelView {
  readonly id: string;
  readonly kind: ChannelKind;
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly events: readonly string[];
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly quietHours: QuietHours | null;
  readonly dedupeMinutes: number;
  readonly maxPerHour: number;
  readonly createdAt: number;
}

export interface ChannelActor {
  readonly accountId: string | null;
  readonly ip: string;
}

const sealContext = (id: string) => `notification-channel:${id}`;

function view(row: NotificationChannelTable): ChannelView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    settings: JSON.parse(row.config) as Record<string, unknown>,
    events: JSON.parse(row.events) as string[],
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    quietHours: row.quiet_hours === null ? null : (JSON.parse(row.quiet_hours) as QuietHours),
    dedupeMinutes: Number(row.dedupe_minutes),
    maxPerHour: Number(row.max_per_hour),
    createdAt: Number(row.created_at),
  };
}

function checkEvents(events: readonly string[] | undefined): string[] {
  const list = [...(events ?? DEFAULT_EVENTS)];
  if (list.length === 0 || list.length > 20 || !list.every((e) => EVENT_PATTERN.test(e)))
    throw new LatchkeyError(
      "HUB_BAD_REQUEST",
      'events must list 1 to 20 event names or patterns such as "alert.*", "alert.lock-offline" or "*"',
      { field: "events" },
    );
  return [...new Set(list)];
}

function checkDedupe(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440)
    throw new LatchkeyError("HUB_BAD_REQUEST", "dedupeMinutes must be 0 (off) to 1440", {
      field: "dedupeMinutes",
    });
  return minutes;
}

function checkMaxPerHour(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new LatchkeyError("HUB_BAD_REQUEST", "maxPerHour must be 1 to 1000", { field: "maxPerHour" });
  return n;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === "" || trimmed.length > 80)
    throw new LatchkeyError("HUB_BAD_REQUEST", "name must be 1 to 80 characters", { field: "name" });
  return trimmed;
}

export async function listChannels(ctx: HubContext): Promise<ChannelView[]> {
  const rows = await outboundDb(ctx.db)
    .selectFrom("notification_channels")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(view);
}

export async function getChannel(ctx: HubContext, id: string): Promise<ChannelView> {
  const row = await outboundDb(ctx.db)
    .selectFrom("notification_channels")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  if (row === undefined)
    throw new LatchkeyError("HUB_NOT_FOUND", "no such notification channel", { channelId: id });
  return view(row);
}

export interface NewChannel {
  readonly kind: string;
  readonly name: string;
  readonly settings: unknown;
  readonly events?: readonly string[];
  readonly quietHours?: QuietHours | null;
  readonly dedupeMinutes?: number;
  readonly maxPerHour?: number;
}

/** Adds a channel; answers it and, for a webhook whose secret the hub made, that secret (once). */
export async function addChannel(
  ctx: HubContext,
  input: NewChannel,
  actor: ChannelActor,
): Promise<{ channel: ChannelView; secret: string | null }> {
  const kind = checkKind(input.kind);
  const name = checkName(input.name);
  const events = checkEvents(input.events);
  const checked = await checkSettings(kind, input.settings);
  const id = randomUUID();
  const at = ctx.now();
  const db = outboundDb(ctx.db);
  await ctx.db.transaction().execute(async (trx) => {
    const count = await outboundDb(trx)
      .selectFrom("notification_channels")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_CHANNELS)
      throw new LatchkeyError("HUB_CONFLICT", `a hub has at most ${MAX_CHANNELS} notification channels`, {
        field: "kind",
      });
    await outboundDb(trx)
      .insertInto("notification_channels")
      .values({
        id,
        kind,
        name,
        config: JSON.stringify(checked.shown),
        secrets_sealed: ctx.secret.seal(JSON.stringify(checked.config), sealContext(id)),
        events: JSON.stringify(events),
        enabled: 1,
        disabled_reason: null,
        quiet_hours:
          input.quietHours === undefined || input.quietHours === null
            ? null
            : JSON.stringify(checkQuietHours(input.quietHours)),
        dedupe_minutes: checkDedupe(input.dedupeMinutes ?? DEFAULT_DEDUPE_MINUTES),
        max_per_hour: checkMaxPerHour(input.maxPerHour ?? DEFAULT_MAX_PER_HOUR),
        created_at: at,
        created_by: actor.accountId,
      })
      .execute();
    await recordAudit(trx, at, {
      actorAccountId: actor.accountId,
      action: "notification-channel.add",
      targetType: "notification-channel",
      targetId: id,
      details: { kind, name, events: events.join(",") },
      ip: actor.ip,
    });
  });
  const row = await db
    .selectFrom("notification_channels")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return { channel: view(row), secret: checked.generatedSecret };
}

export interface ChannelChange {
  readonly name?: string;
  readonly events?: readonly string[];
  readonly enabled?: boolean;
  readonly quietHours?: QuietHours | null;
  readonly dedupeMinutes?: number;
  readonly maxPerHour?: number;
}

export async function updateChannel(
  ctx: HubContext,
  id: string,
  change: ChannelChange,
  actor: ChannelActor,
): Promise<ChannelView> {
  await getChannel(ctx, id);
  const set: Partial<NotificationChannelTable> = {};
  if (change.name !== undefined) set.name = checkName(change.name);
  if (change.events !== undefined) set.events = JSON.stringify(checkEvents(change.events));
  if (change.quietHours !== undefined)
    set.quiet_hours = change.quietHours === null ? null : JSON.stringify(checkQuietHours(change.quietHours));
  if (change.dedupeMinutes !== undefined) set.dedupe_minutes = checkDedupe(change.dedupeMinutes);
  if (change.maxPerHour !== undefined) set.max_per_hour = checkMaxPerHour(change.maxPerHour);
  if (change.enabled !== undefined) {
    set.enabled = change.enabled ? 1 : 0;
    // Turned on again by a person: the reason the hub had turned it off no longer stands.
    if (change.enabled) set.disabled_reason = null;
  }
  if (Object.keys(set).length === 0) return getChannel(ctx, id);
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await outboundDb(trx).updateTable("notification_channels").set(set).where("id", "=", id).execute();
    await recordAudit(trx, at, {
      actorAccountId: actor.accountId,
      action: "notification-channel.change",
      targetType: "notification-channel",
      targetId: id,
      details: {
        ...(set.name === undefined ? {} : { name: set.name }),
        ...(set.events === undefined ? {} : { events: (JSON.parse(set.events) as string[]).join(",") }),
        ...(set.enabled === undefined ? {} : { enabled: set.enabled === 1 }),
        ...(set.quiet_hours === undefined ? {} : { quietHours: set.quiet_hours ?? "off" }),
        ...(set.dedupe_minutes === undefined ? {} : { dedupeMinutes: set.dedupe_minutes }),
        ...(set.max_per_hour === undefined ? {} : { maxPerHour: set.max_per_hour }),
      },
      ip: actor.ip,
    });
  });
  return getChannel(ctx, id);
}

/** Removes a channel; its undelivered messages are dropped with it, its log too. */
export async function removeChannel(ctx: HubContext, id: string, actor: ChannelActor): Promise<void> {
  const channel = await getChannel(ctx, id);
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const db = outboundDb(trx);
    await db.deleteFrom("outbound_deliveries").where("channel_id", "=", id).execute();
    await db.deleteFrom("notification_channels").where("id", "=", id).execute();
    await recordAudit(trx, at, {
      actorAccountId: actor.accountId,
      action: "notification-channel.remove",
      targetType: "notification-channel",
      targetId: id,
      details: { kind: channel.kind, name: channel.name },
      ip: actor.ip,
    });
  });
}

/**
 * Sends a test message through the outbox to this channel now and answers its delivery after the
 * first attempt (sent, or pending with the reason and the next try, or failed).
 */
export async function sendTest(
  ctx: HubContext,
  outbox: Outbox,
  id: string,
  actor: ChannelActor,
): Promise<DeliveryView> {
  const channel = await getChannel(ctx, id);
  if (!channel.enabled)
    throw new LatchkeyError("HUB_CONFLICT", "the channel is turned off; turn it on to test it", {
      channelId: id,
    });
  const at = ctx.now();
  const message: OutboundMessage = {
    id: randomUUID(),
    event: "test",
    title: "Latchkey test notification",
    body: `This is a test of the "${channel.name}" channel. If you can read it, alerts will reach you here.`,
    priority: "default",
    tags: ["latchkey", "test"],
    url: "/#/settings/notifications",
    actions: [],
    occurredAt: at,
    data: { channelId: id },
  };
  const [deliveryId] = await enqueue(ctx.db, message, at, id);
  if (deliveryId === undefined)
    throw new LatchkeyError("HUB_CONFLICT", "the channel is turned off", { channelId: id });
  await recordAudit(ctx.db, at, {
    actorAccountId: actor.accountId,
    action: "notification-channel.test",
    targetType: "notification-channel",
    targetId: id,
    details: {},
    ip: actor.ip,
  });
  await outbox.attempt(deliveryId);
  const delivery = await getDelivery(ctx.db, deliveryId);
  if (delivery === null)
    throw new LatchkeyError("HUB_NOT_FOUND", "the test delivery is gone (channel removed)");
  return delivery;
}

export async function channelDeliveries(ctx: HubContext, id: string, limit: number): Promise<DeliveryView[]> {
  await getChannel(ctx, id);
  return listDeliveries(ctx.db, id, limit);
}

/** The outbox's way to open a stored channel: unseal its settings, build it. */
export function channelOpener(ctx: HubContext): (row: NotificationChannelTable) => Promise<OpenedChannel> {
  return async (row) =>
    openSettings(ctx, row.kind, JSON.parse(ctx.secret.open(row.secrets_sealed, sealContext(row.id))));
}
