/**
 * Door activity: a site's lock-signed events, newest first, with filters (door, person, kind,
 * time) and smooth scrolling through any length of history. Only the rows in view (plus a few)
 * are in the DOM — `WindowedList` positions them inside a spacer as tall as the whole list — and
 * older pages load as the reader nears the end.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../api/client.js";
import type { Door, DoorEvent, DoorEventPage, Person } from "../api/types.js";
import { denyWords } from "../locks/words.js";
import { ErrorAlert, formatWhen, Spinner } from "../ui/components.js";

export const EVENT_ROW_HEIGHT = 64;
const PAGE = 100;

/** A fixed-row-height virtual list: renders only the rows within the viewport ± `overscan`. */
export function WindowedList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  height: number;
  overscan?: number;
  label: string;
  /** Total when known (for aria-setsize); -1 when more may load. */
  total: number;
  keyOf: (item: T) => string;
  renderRow: (item: T, index: number) => ReactNode;
  /** Called when the last rows come into view (load the next page). */
  onNearEnd?: () => void;
}) {
  const { items, rowHeight, height, overscan = 8 } = props;
  const [scrollTop, setScrollTop] = useState(0);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const nearEnd = last >= items.length - overscan;
  const onNearEnd = props.onNearEnd;
  useEffect(() => {
    if (nearEnd) onNearEnd?.();
  }, [nearEnd, items.length, onNearEnd]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <li
        key={props.keyOf(item)}
        className="list-row windowed-row"
        aria-posinset={i + 1}
        aria-setsize={props.total}
        data-index={i}
        style={{ position: "absolute", top: i * rowHeight, left: 0, right: 0, height: rowHeight }}
      >
        {props.renderRow(item, i)}
      </li>,
    );
  }
  return (
    <div
      className="card windowed"
      data-windowed-list
      tabIndex={0}
      role="region"
      aria-label={`${props.label} (scrollable)`}
      style={{ height, overflowY: "auto", position: "relative", padding: "0 1.25rem" }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      <ol
        className="list"
        aria-label={props.label}
        style={{ position: "relative", height: items.length * rowHeight, margin: 0 }}
      >
        {rows}
      </ol>
    </div>
  );
}

const KINDS: { value: string; label: string }[] = [
  { value: "", label: "Everything" },
  { value: "LockOperation", label: "Locking and unlocking" },
  { value: "LockOperationError", label: "Refused attempts" },
  { value: "Alarm", label: "Alarms" },
  { value: "DoorStateChange", label: "Door opened or closed" },
  { value: "LockStateChange", label: "Bolt moved" },
  { value: "BatteryLevel", label: "Battery" },
  { value: "ConfigChange", label: "Settings changed" },
  { value: "UserChange", label: "Users changed on the lock" },
  { value: "Heartbeat", label: "Heartbeats" },
];

const CREDENTIALS: Record<string, string> = {
  PIN: "a PIN",
  RFID: "a card",
  Fingerprint: "a fingerprint",
  PhoneKey: "a phone key",
  ProgrammingPIN: "the programming PIN",
};

const ALARMS: Record<string, string> = {
  LockJammed: "the bolt is jammed",
  DoorForcedOpen: "the door was forced open",
  DoorAjar: "the door was left open",
  WrongCodeEntryLimit: "too many wrong codes",
  FrontEscutcheonRemoved: "the front cover was removed",
  ForcedUser: "duress code used",
  ForcedRotation: "the bolt was forced",
  Drilling: "drilling detected",
  BatteryLow: "battery low",
  BatteryCritical: "battery critically low",
  LockFactoryReset: "the lock was factory reset",
  LockRadioPowerCycled: "the lock's radio restarted",
};

const KIND_WORDS: Record<string, string> = {
  Boot: "The lock started",
  JournalRecovered: "The lock repaired its journal after a crash",
  ClockSet: "The lock's clock was set",
  Heartbeat: "Heartbeat (the lock was fine)",
  FactoryReset: "The lock was factory reset",
  Commissioned: "The lock was set up",
  DoorStateChange: "Door opened or closed",
  LockStateChange: "Bolt moved",
  UserChange: "Users changed on the lock",
  ConfigChange: "A lock setting changed",
  BatteryLevel: "Battery level changed",
  CheckpointAck: "The lock confirmed the log",
};

/** What happened, in words. */
export function eventWords(e: DoorEvent): string {
  const who = e.personName ?? (e.userIndex === null ? null : `user #${e.userIndex} on the lock`);
  const how = e.credentialType === null ? "" : ` with ${CREDENTIALS[e.credentialType] ?? e.credentialType}`;
  switch (e.outcome) {
    case "granted":
      return `${who === null ? "Unlocked" : `${who} unlocked`}${how}${e.source === "Remote" ? " (remotely)" : ""}`;
    case "locked":
      return `${who === null ? "Locked" : `${who} locked`}${how}`;
    case "denied":
      return `Refused${who === null ? "" : ` ${who}`}${how}: ${denyWords(e.reason)}`;
    case "alarm":
      return `Alarm: ${e.alarm === null ? "unknown" : (ALARMS[e.alarm] ?? e.alarm)}`;
    case "alarm-cleared":
      return `Alarm over: ${e.alarm === null ? "unknown" : (ALARMS[e.alarm] ?? e.alarm)}`;
    case "info":
      return KIND_WORDS[e.kind] ?? e.kind;
  }
}

function toMs(local: string): number | null {
  if (local === "") return null;
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? t : null;
}

export function DoorActivity({ siteId, height = 560 }: { siteId: string; height?: number }) {
  const [doors, setDoors] = useState<Door[]>([]);
  const [people, setPeople] = useState<Person[]>([]);
  const [filters, setFilters] = useState({ doorId: "", personId: "", kind: "", from: "", to: "" });
  const [items, setItems] = useState<DoorEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const loadingRef = useRef(false);
  const generation = useRef(0);

  useEffect(() => {
    api.get<{ items: Door[] }>(`/sites/${siteId}/doors`).then((r) => setDoors(r.items), setError);
    api
      .get<{ items: Person[] }>(`/sites/${siteId}/people?limit=100`)
      .then((r) => setPeople(r.items), setError);
  }, [siteId]);

  const query = (before: string | null): string => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (filters.doorId !== "") q.set("doorId", filters.doorId);
    if (filters.personId !== "") q.set("personId", filters.personId);
    if (filters.kind !== "") q.set("kind", filters.kind);
    const from = toMs(filters.from);
    const to = toMs(filters.to);
    if (from !== null) q.set("from", String(from));
    if (to !== null) q.set("to", String(to));
    if (before !== null) q.set("before", before);
    return q.toString();
  };

  const load = (before: string | null) => {
    if (loadingRef.current) return;
    loadingRef.current = true;
    setLoading(true);
    const gen = generation.current;
    api.get<DoorEventPage>(`/sites/${siteId}/events?${query(before)}`).then(
      (page) => {
        if (gen !== generation.current) return;
        setItems((prev) => (before === null ? page.items : [...prev, ...page.items]));
        setNext(page.nextBefore);
        setDone(page.nextBefore === null);
        setError(null);
        loadingRef.current = false;
        setLoading(false);
      },
      (e: unknown) => {
        if (gen !== generation.current) return;
        setError(e);
        loadingRef.current = false;
        setLoading(false);
      },
    );
  };

  // Filters changed: start again from the newest.
  useEffect(() => {
    generation.current++;
    loadingRef.current = false;
    setItems([]);
    setNext(null);
    setDone(false);
    load(null);
  }, [siteId, filters]);

  // A short page (filters matched nothing in the rows scanned) with more to read: keep going.
  useEffect(() => {
    if (items.length === 0 && !done && next !== null && error === null && !loading) load(next);
  }, [items.length, done, next, error, loading]);

  const onNearEnd = () => {
    if (!done && next !== null && error === null) load(next);
  };

  const set = (k: keyof typeof filters) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setFilters((f) => ({ ...f, [k]: value }));
  };

  return (
    <section className="stack" aria-labelledby="door-activity-title">
      <h2 id="door-activity-title">Door activity</h2>
      <p className="muted small">
        Every entry, refusal and alarm as the lock itself signed it. Each one is sealed into the hub's
        tamper-evident log.
      </p>
      <form className="filters" aria-label="Filter door activity" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="ev-door">Door</label>
          <select id="ev-door" value={filters.doorId} onChange={set("doorId")}>
            <option value="">All doors</option>
            {doors.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-person">Person</label>
          <select id="ev-person" value={filters.personId} onChange={set("personId")}>
            <option value="">Anyone</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-kind">What</label>
          <select id="ev-kind" value={filters.kind} onChange={set("kind")}>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-from">From</label>
          <input id="ev-from" type="datetime-local" value={filters.from} onChange={set("from")} />
        </div>
        <div className="field">
          <label htmlFor="ev-to">Until</label>
          <input id="ev-to" type="datetime-local" value={filters.to} onChange={set("to")} />
        </div>
      </form>
      <ErrorAlert error={error} />
      {items.length === 0 ? (
        loading || (!done && error === null) ? (
          <Spinner label="Loading door activity…" />
        ) : error === null ? (
          <p className="muted">No door activity matches.</p>
        ) : null
      ) : (
        <WindowedList
          items={items}
          rowHeight={EVENT_ROW_HEIGHT}
          height={height}
          label="Door activity"
          total={done ? items.length : -1}
          keyOf={(e) => `${e.lockId}/${e.seq}`}
          onNearEnd={onNearEnd}
          renderRow={(e) => (
            <div className="list-main" data-outcome={e.outcome}>
              <span>
                <strong>{e.doorName ?? "A removed lock"}</strong> · {eventWords(e)}
              </span>
              <span className="muted small">
                {e.at === null ? "time unknown to the lock" : formatWhen(e.at)}{" "}
                <span className="badge status-active" title={`Signed by the lock, event #${e.seq}`}>
                  Sealed by lock
                </span>
              </span>
            </div>
          )}
        />
      )}
      <p className="muted small" role="status" aria-live="polite" data-activity-status>
        {loading && items.length > 0
          ? "Loading older events…"
          : done
            ? `${items.length} event${items.length === 1 ? "" : "s"}, the whole history shown.`
            : items.length > 0
              ? `${items.length} events loaded; scroll for older ones.`
              : ""}
      </p>
    </section>
  );
}
