/**
 * Door activity: a site's lock-signed events, newest first, with filters (door, person, kind,
 * time) and smooth scrolling through any length of history — a million events included. The
 * hub counts the matches, so the scroll bar spans the whole history from the start; dragging it
 * anywhere asks the hub for that position directly (offset, pinned to the first page's `top` so
 * positions stay put while new events arrive). Only the rows in view (plus a few) are in the
 * DOM, and only the pages around them are kept.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../api/client.js";
import type { Door, DoorEvent, DoorEventPage, Person } from "../api/types.js";
import { denyWords } from "../locks/words.js";
import { ErrorAlert, formatWhen, Spinner } from "../ui/components.js";

export const EVENT_ROW_HEIGHT = 64;
/** Rows per request. */
const PAGE = 100;
/** Pages kept in memory (the ones around the view are always among them). */
const KEEP_PAGES = 60;
/**
 * Tallest spacer used. Browsers cap an element's height (Firefox near 17.9 million px), so a
 * longer list is scaled: the scroll bar maps proportionally onto the rows.
 */
export const MAX_SCROLL_PX = 15_000_000;

/**
 * A fixed-row-height virtual list over `count` rows that may not all be loaded: renders only the
 * rows within the viewport ± `overscan` (a placeholder where a row is not loaded yet) and reports
 * the range in view so the owner can load it.
 */
export function WindowedList<T>(props: {
  count: number;
  rowAt: (index: number) => T | undefined;
  rowHeight: number;
  height: number;
  overscan?: number;
  label: string;
  keyOf: (item: T, index: number) => string;
  renderRow: (item: T, index: number) => ReactNode;
  renderPlaceholder: (index: number) => ReactNode;
  /** The rows in view changed (first inclusive, last exclusive). */
  onRange?: (first: number, last: number) => void;
}) {
  const { count, rowHeight, height, overscan = 8 } = props;
  const [scrollTop, setScrollTop] = useState(0);
  const real = count * rowHeight;
  const spacer = Math.min(real, MAX_SCROLL_PX);
  // Scroll position → position in the real list (identity unless the list is scaled).
  const scale = spacer > height ? (real - height) / (spacer - height) : 1;
  const virtualTop = Math.min(scrollTop * scale, Math.max(0, real - height));
  const first = Math.max(0, Math.floor(virtualTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((virtualTop + height) / rowHeight) + overscan);
  const onRange = props.onRange;
  useEffect(() => {
    onRange?.(first, last);
  }, [first, last, onRange]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = props.rowAt(i);
    rows.push(
      <li
        key={item === undefined ? `placeholder-${i}` : props.keyOf(item, i)}
        className="list-row windowed-row"
        aria-posinset={i + 1}
        aria-setsize={count}
        aria-busy={item === undefined ? true : undefined}
        data-index={i}
        style={{
          position: "absolute",
          top: scrollTop + (i * rowHeight - virtualTop),
          left: 0,
          right: 0,
          height: rowHeight,
        }}
      >
        {item === undefined ? props.renderPlaceholder(i) : props.renderRow(item, i)}
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
        style={{ position: "relative", height: spacer, margin: 0 }}
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
  ClockSetRefused: "The lock refused a clock change larger than 5 minutes",
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

type Filters = { doorId: string; personId: string; kind: string; from: string; to: string };

function filterQuery(filters: Filters): URLSearchParams {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (filters.doorId !== "") q.set("doorId", filters.doorId);
  if (filters.personId !== "") q.set("personId", filters.personId);
  if (filters.kind !== "") q.set("kind", filters.kind);
  const from = toMs(filters.from);
  const to = toMs(filters.to);
  if (from !== null) q.set("from", String(from));
  if (to !== null) q.set("to", String(to));
  return q;
}

/** The history as of its first page: how many events match, and the newest one's ledger index. */
interface Snapshot {
  readonly total: number;
  readonly top: string | null;
}

export function DoorActivity({ siteId, height = 560 }: { siteId: string; height?: number }) {
  const [doors, setDoors] = useState<Door[]>([]);
  const [people, setPeople] = useState<Person[]>([]);
  const [filters, setFilters] = useState<Filters>({ doorId: "", personId: "", kind: "", from: "", to: "" });
  const [listsError, setListsError] = useState<unknown>(null);
  const [inView, setInView] = useState<[number, number]>([0, 0]);
  const [, setLoadedPages] = useState(0);
  const pages = useRef(new Map<number, readonly DoorEvent[]>());
  const inFlight = useRef(new Set<number>());
  const generation = useRef(0);
  const [reload, setReload] = useState(0);
  // What is shown belongs to one query: a new site, filter or Refresh hides the old answer and its
  // error at once, and a late answer to an older query is never shown.
  const query = JSON.stringify([siteId, filters, reload]);
  const [found, setFound] = useState<{ query: string; snapshot: Snapshot } | null>(null);
  const [failed, setFailed] = useState<{ query: string; error: unknown } | null>(null);
  const snapshot = found?.query === query ? found.snapshot : null;
  const error = (failed?.query === query ? failed.error : null) ?? listsError;

  useEffect(() => {
    api.get<{ items: Door[] }>(`/sites/${siteId}/doors`).then((r) => setDoors(r.items), setListsError);
    api
      .get<{ items: Person[] }>(`/sites/${siteId}/people?limit=100`)
      .then((r) => setPeople(r.items), setListsError);
  }, [siteId]);

  const keep = (page: number, items: readonly DoorEvent[]) => {
    const map = pages.current;
    map.delete(page);
    map.set(page, items);
    // Forget the pages read longest ago (a Map iterates in insertion order).
    for (const old of map.keys()) {
      if (map.size <= KEEP_PAGES) break;
      map.delete(old);
    }
    setLoadedPages((n) => n + 1);
  };

  // Filters changed (or Refresh): count the matches and read the newest page.
  useEffect(() => {
    const gen = ++generation.current;
    pages.current = new Map();
    inFlight.current = new Set();
    const q = filterQuery(filters);
    q.set("count", "true");
    api.get<DoorEventPage>(`/sites/${siteId}/events?${q.toString()}`).then(
      (page) => {
        if (gen !== generation.current) return;
        keep(0, page.items);
        setFound({ query, snapshot: { total: page.total ?? page.items.length, top: page.top } });
      },
      (error: unknown) => {
        if (gen === generation.current) setFailed({ query, error });
      },
    );
  }, [query, siteId, filters]);

  // Load the pages in view once scrolling pauses for a moment (a fast drag asks only for where it stops).
  useEffect(() => {
    if (snapshot === null || snapshot.top === null) return;
    const gen = generation.current;
    const [first, last] = inView;
    const timer = setTimeout(() => {
      for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last - 1) / PAGE); p++) {
        if (pages.current.has(p) || inFlight.current.has(p) || p * PAGE >= snapshot.total) continue;
        inFlight.current.add(p);
        const q = filterQuery(filters);
        q.set("offset", String(p * PAGE));
        q.set("before", String(Number(snapshot.top) + 1));
        api.get<DoorEventPage>(`/sites/${siteId}/events?${q.toString()}`).then(
          (page) => {
            if (gen !== generation.current) return;
            inFlight.current.delete(p);
            keep(p, page.items);
          },
          (e: unknown) => {
            if (gen !== generation.current) return;
            inFlight.current.delete(p);
            setFailed({ query, error: e });
          },
        );
      }
    }, 60);
    return () => clearTimeout(timer);
  }, [inView, snapshot, query, siteId, filters]);

  const onRange = useCallback((first: number, last: number) => setInView([first, last]), []);
  const rowAt = (i: number): DoorEvent | undefined => pages.current.get(Math.floor(i / PAGE))?.[i % PAGE];

  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setFilters((f) => ({ ...f, [k]: value }));
  };

  const total = snapshot?.total ?? 0;
  const [first, last] = inView;
  const shownFrom = Math.min(total, first + 1);
  const shownTo = Math.min(total, last);

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
        <button type="button" className="button secondary" onClick={() => setReload((n) => n + 1)}>
          Show newest
        </button>
      </form>
      <ErrorAlert error={error} />
      {snapshot === null ? (
        error === null ? (
          <Spinner label="Loading door activity…" />
        ) : null
      ) : snapshot.total === 0 ? (
        <p className="muted">No door activity matches.</p>
      ) : (
        <WindowedList
          count={snapshot.total}
          rowAt={rowAt}
          rowHeight={EVENT_ROW_HEIGHT}
          height={height}
          label="Door activity"
          keyOf={(e) => `${e.lockId}/${e.seq}`}
          onRange={onRange}
          renderPlaceholder={() => <div className="list-main muted">Loading…</div>}
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
      <p className="muted small" role="status" aria-live="polite" data-activity-status data-total={total}>
        {snapshot === null || total === 0
          ? ""
          : `${total.toLocaleString("en-GB")} event${total === 1 ? "" : "s"} in this history.`}
      </p>
      {total > 0 ? (
        <p className="muted small" data-activity-position>
          Showing {shownFrom.toLocaleString("en-GB")}–{shownTo.toLocaleString("en-GB")}, newest first.
        </p>
      ) : null}
    </section>
  );
}
