/**
 * A site's alerts (GET /sites/:siteId/alerts): missing events, records kept aside, a lock that
 * saw another log than ours, and credentials changed at a lock rather than by Latchkey — in plain
 * words, with acknowledging. Also the site's latest alarms as the locks signed them (door forced
 * open, tamper), read from the events API filtered by kind.
 */
import { api } from "./client.js";
import type { ApiAnswer, DoorEvent, DoorEventPage, SiteAlert } from "./types.js";

export type { SiteAlert } from "./types.js";

/** Open alerts of a site (acknowledged ones too with `all`), newest first. */
export async function listAlerts(siteId: string, all = false): Promise<readonly SiteAlert[]> {
  const path = `/sites/${siteId}/alerts${all ? "?all=true" : ""}`;
  return (await api.get<ApiAnswer<"/api/v1/sites/{siteId}/alerts", "get">>(path)).items;
}

/** Marks an alert as seen: it stays on record but is no longer open (needs site.manage). */
export async function acknowledgeAlert(siteId: string, alertId: number): Promise<void> {
  await api.post<ApiAnswer<"/api/v1/sites/{siteId}/alerts/{alertId}/acknowledge", "post">>(
    `/sites/${siteId}/alerts/${alertId}/acknowledge`,
  );
}

/** The site's latest lock-signed alarms (door forced open, tamper …), newest first. */
export async function recentAlarms(siteId: string, limit = 5): Promise<readonly DoorEvent[]> {
  return (await api.get<DoorEventPage>(`/sites/${siteId}/events?kind=Alarm&limit=${limit}`)).items;
}

/** The site's latest entries, refusals and alarms (not heartbeats or housekeeping), newest first. */
export async function recentActivity(siteId: string, limit = 5): Promise<readonly DoorEvent[]> {
  return (
    await api.get<DoorEventPage>(
      `/sites/${siteId}/events?kind=LockOperation,LockOperationError,Alarm&limit=${limit}`,
    )
  ).items;
}

const QUARANTINE_REASONS: Record<string, string> = {
  malformed: "it could not be read",
  "wrong-lock": "it names another lock",
  "bad-signature": "its signature does not check out",
  "broken-link": "it does not follow on from the event before it",
  "conflicting-duplicate": "the lock signed another event with the same number",
  "before-cursor": "it is older than the first event this hub took from the lock",
};

const CREDENTIAL_WORDS: Record<string, string> = {
  PIN: "a code",
  RFID: "a card",
  Fingerprint: "a fingerprint",
  PhoneKey: "a phone key",
};

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** "#12" for a seq, or "" when absent. */
function seqWords(v: unknown): string {
  const n = num(v);
  return n === null ? "" : ` #${n}`;
}

/**
 * What an alert means, in one sentence starting with the door's name:
 * "Front door: a code was added at the lock itself (slot 77), not by Latchkey".
 */
export function alertWords(alert: Pick<SiteAlert, "kind" | "details">, where: string): string {
  const d = alert.details;
  switch (alert.kind) {
    case "ingest-gap": {
      const expected = num(d.expectedSeq);
      const received = num(d.receivedSeq);
      const which =
        expected !== null && received !== null ? ` (expected #${expected}, got #${received})` : "";
      return `${where}: events are missing from the lock's record${which}; the hub is waiting for them`;
    }
    case "ingest-quarantine": {
      const reason = text(d.reason);
      const why = reason === null ? "" : `: ${QUARANTINE_REASONS[reason] ?? reason.replace(/-/g, " ")}`;
      return `${where}: event${seqWords(d.seq)} from the lock was kept aside, not logged${why}`;
    }
    case "ingest-conflict":
      return `${where}: the lock signed two different events with the same number${seqWords(d.seq)}; both are kept for inspection`;
    case "checkpoint-fork":
      return `${where}: the lock confirmed a different version of the log than the hub's${
        num(d.treeSize) === null ? "" : ` (at ${num(d.treeSize)} entries)`
      }; the history may have been tampered with`;
    case "checkpoint-unknown":
      return `${where}: the lock confirmed a version of the log this hub never made${
        num(d.treeSize) === null ? "" : ` (${num(d.treeSize)} entries)`
      }`;
    case "sync-drift": {
      const type = text(d.credentialType);
      const what = (type === null ? undefined : CREDENTIAL_WORDS[type]) ?? "a credential";
      const slot = num(d.credentialIndex);
      const at = slot === null ? "" : ` (slot ${slot})`;
      const change = text(d.change);
      if (change === "removed at the lock")
        return `${where}: ${what} was removed at the lock itself${at}, not by Latchkey`;
      if (change === "added at the lock")
        return `${where}: ${what} was added at the lock itself${at}, not by Latchkey`;
      return `${where}: ${what} was changed at the lock itself${at}, not by Latchkey`;
    }
    case "lock-offline": {
      const seen = num(d.lastSeenAt);
      const since = seen === null ? "" : ` since ${new Date(seen).toLocaleString()}`;
      return `${where}: the lock has stopped answering${since}; codes and revocations wait for it`;
    }
    default:
      return `${where}: ${alert.kind.replace(/-/g, " ")}`;
  }
}
