/**
 * The outbox: every notification is first a row (one per message and channel), written in the
 * same transaction as what it tells of when there is one, then sent by a dispatcher. So a crash
 * loses nothing (a row in flight is sent again after its lease runs out: at least once, with the
 * same message id for the receiver to de-duplicate), retries follow one schedule for every
 * channel, and the owner sees each attempt's outcome in the channel's delivery log.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Channel, DeliveryOutcome, OutboundMessage } from "./channels/channel.js";
import { quietUntil, type QuietHours } from "./quiet-hours.js";
import {
  outboundDb,
  type DeliveryState,
  type HubDb,
  type NotificationChannelTable,
} from "./outbound-tables.js";

/** Waits after the 1st, 2nd… failed attempt (ms); after the last, the delivery has failed. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 60 * 60_000,
  4 * 60 * 60_000,
];
/** One attempt's time limit; a dispatcher's hold on a row is longer, so two never send it at once. */
export const ATTEMPT_TIMEOUT_MS = 20_000;
const LEASE_MS = 2 * ATTEMPT_TIMEOUT_MS;
/** How often the dispatcher looks for due deliveries when nothing wakes it. */
export const DISPATCH_EVERY_MS = 1_000;
const BATCH = 20;

/** Events only a channel that names them receives: a duress alarm is silent, for chosen people. */
export const NAMED_ONLY_EVENTS: ReadonlySet<string> = new Set(["alert.duress"]);

/** Does `event` match one of `patterns` ("*", "alert.*", or an exact name)? */
export function eventMatches(patterns: readonly string[], event: string): boolean {
  if (NAMED_ONLY_EVENTS.has(event)) return patterns.includes(event);
  return patterns.some(
    (p) => p === "*" || p === event || (p.endsWith(".*") && event.startsWith(p.slice(0, -1))),
  );
}

/**
 * Queues `message` for every enabled channel that subscribes to its event, in `db`'s transaction
 * when it is one; with `onlyChannelId` (a test the owner asked for), for that channel only, now.
 * Each channel's de-duplication, hourly limit and quiet hours decide whether and when it goes.
 * Returns the new deliveries' ids (suppressed ones included: the log shows them).
 */
export async function enqueue(
  db: HubDb,
  message: OutboundMessage,
  at: number,
  onlyChannelId: string | null = null,
): Promise<string[]> {
  const out = outboundDb(db);
  let q = out
    .selectFrom("notification_channels")
    .select(["id", "events", "quiet_hours", "dedupe_minutes", "max_per_hour"])
    .where("enabled", "=", 1);
  if (onlyChannelId !== null) q = q.where("id", "=", onlyChannelId);
  const channels = (await q.execute()).filter(
    (c) => onlyChannelId !== null || eventMatches(JSON.parse(c.events) as string[], message.event),
  );
  if (channels.length === 0) return [];
  const dedupeKey = `${message.event}|${String(message.data.lockId ?? message.data.doorId ?? "")}`;
  const ids: string[] = [];
  for (const c of channels) {
    const plan =
      onlyChannelId !== null
        ? { state: "pending" as const, at, note: null }
        : await planDelivery(db, c, message, dedupeKey, at);
    const id = randomUUID();
    await out
      .insertInto("outbound_deliveries")
      .values({
        id,
        channel_id: c.id,
        message_id: message.id,
        event: message.event,
        dedupe_key: dedupeKey,
        message: JSON.stringify(message),
        state: plan.state,
        attempts: 0,
        next_attempt_at: plan.at,
        leased_until: null,
        last_result: plan.note,
        created_at: at,
        finished_at: plan.state === "suppressed" ? at : null,
      })
      .execute();
    ids.push(id);
  }
  return ids;
}

interface Plan {
  readonly state: "pending" | "suppressed";
  readonly at: number;
  readonly note: string | null;
}

/** Whether and when one channel gets `message`: de-duplicated, over its limit, held for quiet hours, or now. */
async function planDelivery(
  db: HubDb,
  c: { id: string; quiet_hours: string | null; dedupe_minutes: number; max_per_hour: number },
  message: OutboundMessage,
  dedupeKey: string,
  at: number,
): Promise<Plan> {
  const out = outboundDb(db);
  const dedupeMinutes = Number(c.dedupe_minutes);
  if (dedupeMinutes > 0) {
    const same = await out
      .selectFrom("outbound_deliveries")
      .select("created_at")
      .where("channel_id", "=", c.id)
      .where("dedupe_key", "=", dedupeKey)
      .where("state", "!=", "suppressed")
      .where("created_at", ">=", at - dedupeMinutes * 60_000)
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    if (same !== undefined) {
      const ago = Math.max(0, Math.round((at - Number(same.created_at)) / 60_000));
      return {
        state: "suppressed",
        at,
        note: `same as a message ${ago} min ago (de-duplicated for ${dedupeMinutes} min)`,
      };
    }
  }
  const lastHour = await out
    .selectFrom("outbound_deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("channel_id", "=", c.id)
    .where("state", "!=", "suppressed")
    .where("created_at", ">", at - 3_600_000)
    .executeTakeFirstOrThrow();
  if (Number(lastHour.n) >= Number(c.max_per_hour))
    return { state: "suppressed", at, note: `over this channel's limit of ${c.max_per_hour} an hour` };
  // An urgent message (a forced door, duress) is never held.
  if (c.quiet_hours !== null && message.priority !== "urgent") {
    const until = quietUntil(JSON.parse(c.quiet_hours) as QuietHours, at);
    if (until !== null) return { state: "pending", at: until, note: "held for quiet hours" };
  }
  return { state: "pending", at, note: null };
}

/** A channel as the dispatcher uses it; `disables` says when an outcome means the channel is dead. */
export interface OpenedChannel {
  readonly channel: Channel;
  /** Answers a reason to turn the channel off (a push subscription gone), or null. */
  readonly disables?: (outcome: DeliveryOutcome) => string | null;
}

/** Builds a channel from its row (opens its sealed secrets); throws when its settings are unusable. */
export type ChannelOpener = (row: NotificationChannelTable, signal: AbortSignal) => Promise<OpenedChannel>;

export interface OutboxOptions {
  readonly db: HubDb;
  readonly log: Logger;
  readonly now: () => number;
  readonly open: ChannelOpener;
  /** The web app's origin: links given as paths ("/#/…") are sent as absolute URLs under it. */
  readonly origin: string;
}

export interface DeliveryView {
  readonly id: string;
  readonly channelId: string;
  readonly messageId: string;
  readonly event: string;
  readonly title: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: number | null;
  readonly lastResult: string | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

export class Outbox {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  readonly #stopping = new AbortController();

  constructor(readonly opts: OutboxOptions) {}

  /** Looks every second; the first look is a second after start, once the hub is serving. */
  start(): void {
    this.#timer = setInterval(() => this.kick(), DISPATCH_EVERY_MS);
    this.#timer.unref();
  }

  /** Sends what is due now (coalesced with a pass in progress). */
  kick(): void {
    if (this.#stopping.signal.aborted) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.dispatchDue().catch((e: unknown) =>
          this.opts.log.error({ err: e }, "outbox dispatch pass failed"),
        );
      } while (this.#again && !this.#stopping.signal.aborted);
    })().finally(() => {
      this.#running = null;
    });
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopping.abort();
    await this.#running;
  }

  /** One pass: claims due deliveries, a batch at a time, and attempts each. */
  async dispatchDue(): Promise<void> {
    for (;;) {
      const now = this.opts.now();
      const due = await outboundDb(this.opts.db)
        .selectFrom("outbound_deliveries")
        .select("id")
        .where("state", "=", "pending")
        .where("next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("leased_until", "is", null), eb("leased_until", "<", now)]))
        .orderBy("next_attempt_at")
        .limit(BATCH)
        .execute();
      let attempted = 0;
      for (const { id } of due) {
        if (this.#stopping.signal.aborted) return;
        if (await this.attempt(id)) attempted++;
      }
      if (due.length < BATCH || attempted === 0) return;
    }
  }

  /**
   * Claims delivery `id` (unless another dispatcher holds it or it is not pending) and makes one
   * attempt. Returns whether it attempted.
   */
  async attempt(id: string): Promise<boolean> {
    const db = outboundDb(this.opts.db);
    const now = this.opts.now();
    const claimed = await db
      .updateTable("outbound_deliveries")
      .set({ leased_until: now + LEASE_MS })
      .where("id", "=", id)
      .where("state", "=", "pending")
      .where((eb) => eb.or([eb("leased_until", "is", null), eb("leased_until", "<", now)]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    const row = await db
      .selectFrom("outbound_deliveries")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    const channelRow = await db
      .selectFrom("notification_channels")
      .selectAll()
      .where("id", "=", row.channel_id)
      .executeTakeFirst();
    if (channelRow === undefined || channelRow.enabled !== 1) {
      await this.#finish(
        id,
        row.attempts,
        "failed",
        channelRow === undefined ? "channel removed" : "channel turned off",
      );
      return true;
    }
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]);
    let outcome: DeliveryOutcome;
    let opened: OpenedChannel | null = null;
    try {
      opened = await this.opts.open(channelRow, signal);
      const message = withAbsoluteLinks(JSON.parse(row.message) as OutboundMessage, this.opts.origin);
      outcome = await opened.channel.send(message, { signal });
    } catch (e) {
      // A channel reports failures as outcomes; a throw is a setting that cannot work or a bug.
      this.opts.log.warn(
        { err: e, channelId: channelRow.id, kind: channelRow.kind },
        "notification channel failed",
      );
      outcome = { ok: false, retryable: true, reason: `could not send (${errorName(e)})` };
    }
    if (this.#stopping.signal.aborted && !outcome.ok) {
      // Interrupted by shutdown: not an attempt; the next start sends it.
      await db.updateTable("outbound_deliveries").set({ leased_until: null }).where("id", "=", id).execute();
      return true;
    }
    const attempts = row.attempts + 1;
    if (outcome.ok) {
      await this.#finish(id, attempts, "sent", outcome.detail);
    } else if (outcome.retryable && attempts <= RETRY_DELAYS_MS.length) {
      const delay = RETRY_DELAYS_MS[attempts - 1] ?? 0;
      await db
        .updateTable("outbound_deliveries")
        .set({
          attempts,
          leased_until: null,
          last_result: outcome.reason,
          // ±10 %: a receiver that was down is not hit by every hub's retry at the same instant.
          next_attempt_at: this.opts.now() + Math.round(delay * (0.9 + Math.random() * 0.2)),
        })
        .where("id", "=", id)
        .execute();
    } else {
      await this.#finish(id, attempts, "failed", outcome.reason);
      const reason = opened?.disables?.(outcome) ?? null;
      if (reason !== null) {
        await db
          .updateTable("notification_channels")
          .set({ enabled: 0, disabled_reason: reason })
          .where("id", "=", channelRow.id)
          .execute();
        this.opts.log.warn({ channelId: channelRow.id, reason }, "notification channel turned off");
      }
    }
    return true;
  }

  async #finish(id: string, attempts: number, state: "sent" | "failed", result: string): Promise<void> {
    await outboundDb(this.opts.db)
      .updateTable("outbound_deliveries")
      .set({ state, attempts, leased_until: null, last_result: result, finished_at: this.opts.now() })
      .where("id", "=", id)
      .execute();
  }
}

/** Paths become URLs under the hub's origin (messages are queued by code that knows no origin). */
function withAbsoluteLinks(message: OutboundMessage, origin: string): OutboundMessage {
  const absolute = (url: string) => (url.startsWith("/") ? new URL(url, origin).href : url);
  return {
    ...message,
    url: message.url === null ? null : absolute(message.url),
    actions: message.actions.map((a) => ({ ...a, url: absolute(a.url) })),
  };
}

/** A thrown error in words fit for the delivery log: its code or class, never its message. */
function errorName(e: unknown): string {
  const code: unknown = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  if (typeof code === "string") return code;
  return e instanceof Error ? e.name : "error";
}

/** A channel's deliveries, newest first. */
export async function listDeliveries(db: HubDb, channelId: string, limit: number): Promise<DeliveryView[]> {
  const rows = await outboundDb(db)
    .selectFrom("outbound_deliveries")
    .selectAll()
    .where("channel_id", "=", channelId)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map(deliveryView);
}

export async function getDelivery(db: HubDb, id: string): Promise<DeliveryView | null> {
  const row = await outboundDb(db)
    .selectFrom("outbound_deliveries")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row === undefined ? null : deliveryView(row);
}

function deliveryView(r: {
  id: string;
  channel_id: string;
  message_id: string;
  event: string;
  message: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_result: string | null;
  created_at: number;
  finished_at: number | null;
}): DeliveryView {
  return {
    id: r.id,
    channelId: r.channel_id,
    messageId: r.message_id,
    event: r.event,
    title: (JSON.parse(r.message) as OutboundMessage).title,
    state: r.state,
    attempts: Number(r.attempts),
    nextAttemptAt: r.state === "pending" ? Number(r.next_attempt_at) : null,
    lastResult: r.last_result,
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}
