/**
 * What an alert says when it leaves the hub: a title and a sentence per kind, the door and site
 * by name, a link to the dashboard, and the alert's ids and reasons as data. Alert details hold
 * ids, sequence numbers and reasons only (ingest/alerts.ts), never a secret, and only the
 * fields listed here are copied.
 */
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { HubDatabase } from "../db/schema.js";
import type { HubDb } from "./outbound-tables.js";
import type { OutboundMessage, Priority } from "./channels/channel.js";

interface AlertWording {
  readonly title: (door: string) => string;
  readonly body: string;
  readonly priority: Priority;
}

/** Keyed by alert kind (ingest/alerts.ts AlertKind, calendars' "calendar-feed-failing"). */
const WORDING: Readonly<Record<string, AlertWording>> = {
  "ingest-gap": {
    title: (door) => `Events missing from ${door}`,
    body: "The lock's signed log skipped some events; the hub is asking the lock for them.",
    priority: "default",
  },
  "ingest-quarantine": {
    title: (door) => `A record from ${door} failed verification`,
    body: "A record that claims to come from this lock did not verify and was kept aside, not believed.",
    priority: "high",
  },
  "ingest-conflict": {
    title: (door) => `${door} signed two different events with one number`,
    body: "Two different signed events carry the same sequence number: the lock or its key may be compromised.",
    priority: "urgent",
  },
  "checkpoint-fork": {
    title: (door) => `${door} saw a different history of the log`,
    body: "The lock acknowledged a log checkpoint that differs from the hub's: someone may have rewritten history.",
    priority: "urgent",
  },
  "checkpoint-unknown": {
    title: (door) => `${door} acknowledged a checkpoint this hub never signed`,
    body: "The lock holds a log checkpoint the hub did not make.",
    priority: "high",
  },
  "sync-drift": {
    title: (door) => `Codes on ${door} were changed at the lock`,
    body: "The lock holds a credential change the hub did not make; the hub is putting it back as planned.",
    priority: "high",
  },
  "door-forced": {
    title: (door) => `${door} was forced`,
    body: "The lock reports the door forced open, the cylinder forced round, or drilling.",
    priority: "urgent",
  },
  tamper: {
    title: (door) => `${door}: the lock's cover was removed`,
    body: "The lock's front cover (escutcheon) was taken off.",
    priority: "urgent",
  },
  jammed: {
    title: (door) => `${door} is jammed`,
    body: "The bolt could not move; the door may be unlocked or may not open.",
    priority: "high",
  },
  lockout: {
    title: (door) => `Too many wrong codes at ${door}`,
    body: "The keypad is locked out for a while after repeated wrong codes.",
    priority: "high",
  },
  duress: {
    title: (door) => `Duress code used at ${door}`,
    body: "Someone opened the door with a duress code: they may be forced to. Nothing showed at the door.",
    priority: "urgent",
  },
  "battery-low": {
    title: (door) => `${door}: battery low`,
    body: "Replace the lock's batteries soon.",
    priority: "default",
  },
  "door-held-open": {
    title: (door) => `${door} was left open`,
    body: "The door stayed open past the lock's ajar time.",
    priority: "default",
  },
  "factory-reset": {
    title: (door) => `${door} was reset to factory settings`,
    body: "Every code and key on the lock is gone; it must be added to the hub again.",
    priority: "urgent",
  },
  "lock-offline": {
    title: (door) => `${door} is offline`,
    body: "The lock has stopped answering the hub. Changes to its codes wait until it is back.",
    priority: "high",
  },
};

const FALLBACK: AlertWording = {
  title: (door) => `Alert at ${door}`,
  body: "Open the dashboard for the details.",
  priority: "default",
};

export interface AlertToSend {
  readonly kind: string;
  readonly lockId: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

/** The messages for `alerts` raised at `at` (one each), with the door and site named. */
export async function alertMessages(
  hubDb: HubDb,
  alerts: readonly AlertToSend[],
  at: number,
): Promise<OutboundMessage[]> {
  const lockIds = [...new Set(alerts.map((a) => a.lockId).filter((id): id is string => id !== null))];
  const db = hubDb as Kysely<HubDatabase>;
  const places =
    lockIds.length === 0
      ? []
      : await db
          .selectFrom("locks")
          .innerJoin("doors", "doors.id", "locks.door_id")
          .innerJoin("sites", "sites.id", "doors.site_id")
          .select([
            "locks.id as lockId",
            "doors.id as doorId",
            "doors.name as door",
            "sites.id as siteId",
            "sites.name as site",
          ])
          .where("locks.id", "in", lockIds)
          .execute();
  const byLock = new Map(places.map((p) => [p.lockId, p]));
  return alerts.map((alert) => {
    const wording = WORDING[alert.kind] ?? FALLBACK;
    const place = alert.lockId === null ? undefined : byLock.get(alert.lockId);
    const door = place === undefined ? "a lock" : place.door;
    const data: Record<string, string | number | boolean | null> = {
      kind: alert.kind,
      lockId: alert.lockId,
      doorId: place?.doorId ?? null,
      siteId: place?.siteId ?? null,
    };
    for (const [k, v] of Object.entries(alert.details)) if (!(k in data)) data[`detail.${k}`] = v;
    return {
      id: randomUUID(),
      event: `alert.${alert.kind}`,
      title: wording.title(door),
      body: place === undefined ? wording.body : `${wording.body} (${place.site})`,
      priority: wording.priority,
      tags: ["latchkey", "alert", alert.kind],
      // The dashboard lists open alerts; a path, made absolute with the hub's origin when sent.
      url: "/#/",
      actions: [],
      occurredAt: at,
      data,
    };
  });
}
