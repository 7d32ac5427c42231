/**
 * The dashboard (the landing screen after sign-in): every door of every site with its lock's live
 * state — bolt, door, battery, online, firmware, credentials still on their way — refreshed every
 * two seconds while the page is visible, with changes announced politely to screen readers.
 * Doors without a lock offer "Add a lock". Each site also lists its open alerts in plain words
 * (missing events, a code added at a lock by hand …) with "Acknowledge", and its latest alarms.
 */
import { useEffect, useId, useRef } from "react";
import {
  acknowledgeAlert,
  alertWords,
  listAlerts,
  recentActivity,
  recentAlarms,
  type SiteAlert,
} from "../api/alerts.js";
import { api } from "../api/client.js";
import type { DemoDoor, Door, DoorEvent, LockView, Site } from "../api/types.js";
import { LOCK_STATE_LABELS } from "../locks/words.js";
import { ErrorAlert, formatWhen, PageTitle, Spinner, useAction } from "../ui/components.js";
import { useAnnouncer, usePoll } from "../ui/live.js";
import { eventWords } from "./door-activity.js";

interface SiteState {
  readonly site: Site;
  readonly doors: Door[];
  readonly locks: LockView[];
  readonly demo: boolean;
  /** Open alerts, newest first (null: the hub could not say). */
  readonly alerts: readonly SiteAlert[] | null;
  /** The latest lock-signed alarms, newest first (null: the hub could not say). */
  readonly alarms: readonly DoorEvent[] | null;
  /** The latest entries, refusals and alarms, newest first (null: the hub could not say). */
  readonly activity: readonly DoorEvent[] | null;
}

async function loadAll(): Promise<SiteState[]> {
  const sites = (await api.get<{ items: Site[] }>("/sites")).items;
  return Promise.all(
    sites.map(async (site) => {
      const [doors, locks, demo, alerts, alarms, activity] = await Promise.all([
        api.get<{ items: Door[] }>(`/sites/${site.id}/doors`),
        api.get<{ items: LockView[] }>(`/sites/${site.id}/locks`),
        api.get<{ items: DemoDoor[] }>(`/sites/${site.id}/demo`).then(
          (r) => r.items.length > 0,
          () => false,
        ),
        // Alerts and alarms are extra: the doors still show when either cannot be read.
        listAlerts(site.id).catch(() => null),
        recentAlarms(site.id).catch(() => null),
        recentActivity(site.id).catch(() => null),
      ]);
      return { site, doors: doors.items, locks: locks.items, demo, alerts, alarms, activity };
    }),
  );
}

/** What changed at a door between two polls, in words (for the live region). */
/** "Off by 2 h 5 min" (ahead or behind), from the lock's clock minus the hub's. */
function clockOffWords(driftMs: number | null): string {
  if (driftMs === null) return "Off by an unknown amount";
  const minutes = Math.round(Math.abs(driftMs) / 60_000);
  const amount = minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${driftMs > 0 ? "Ahead" : "Behind"} by ${amount}`;
}

export function doorChanges(
  name: string,
  before: LockView | undefined,
  after: LockView | undefined,
): string[] {
  if (before === undefined && after !== undefined) return [`${name}: lock added`];
  if (before !== undefined && after === undefined) return [`${name}: lock removed`];
  if (before === undefined || after === undefined) return [];
  const out: string[] = [];
  if (before.online !== after.online) out.push(`${name}: lock ${after.online ? "online" : "offline"}`);
  const b = before.condition;
  const a = after.condition;
  if (a !== null) {
    if (b?.lockState !== a.lockState) out.push(`${name}: ${LOCK_STATE_LABELS[a.lockState].toLowerCase()}`);
    if (b?.doorState !== a.doorState) out.push(`${name}: door ${a.doorState}`);
    if (a.batteryPercent !== null && a.batteryPercent < 20 && (b?.batteryPercent ?? 100) >= 20)
      out.push(`${name}: battery low, ${a.batteryPercent}%`);
  }
  if ((before.sync.failed ?? 0) < (after.sync.failed ?? 0)) out.push(`${name}: a credential failed to sync`);
  return out;
}

export function DashboardScreen() {
  const poll = usePoll(loadAll);
  const [announcement, announce] = useAnnouncer();
  const previous = useRef<SiteState[] | null>(null);
  useEffect(() => {
    const now = poll.data;
    if (now === null) return;
    const before = previous.current;
    previous.current = now;
    if (before === null) return;
    const lines: string[] = [];
    for (const s of now) {
      const old = before.find((x) => x.site.id === s.site.id);
      if (old === undefined) continue;
      const known = new Set((old.alerts ?? []).map((a) => a.id));
      for (const a of s.alerts ?? [])
        if (!known.has(a.id) && old.alerts !== null) lines.push(`New alert. ${alertWords(a, placeOf(s, a))}`);
      for (const d of s.doors) {
        lines.push(
          ...doorChanges(
            d.name,
            old.locks.find((l) => l.doorId === d.id),
            s.locks.find((l) => l.doorId === d.id),
          ),
        );
      }
    }
    if (lines.length > 0) announce(`${lines.join(". ")}.`);
  }, [poll.data, announce]);
  useEffect(() => {
    // No site yet: the first thing to do is create one.
    if (poll.data !== null && poll.data.length === 0) window.location.replace("#/sites");
  }, [poll.data]);

  return (
    <div className="stack">
      <PageTitle lead="Every door and its lock, live.">Dashboard</PageTitle>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-announcer">
        {announcement}
      </div>
      {poll.paused ? (
        <p className="muted small" role="status">
          Live updates are paused because this page has not been used for a while. Press any key or click to
          resume.
        </p>
      ) : null}
      {poll.data === null ? (
        poll.error === null ? (
          <Spinner />
        ) : (
          <ErrorAlert error={poll.error} />
        )
      ) : (
        <>
          {poll.error === null ? null : (
            <p className="muted small" role="status">
              Cannot refresh right now; showing what the hub last said.
            </p>
          )}
          {poll.data.map((s) => (
            <SiteDoors key={s.site.id} state={s} onChanged={poll.refresh} />
          ))}
        </>
      )}
    </div>
  );
}

/** Where an alert is: its door's name, else "A lock". */
function placeOf(state: SiteState, alert: SiteAlert): string {
  return state.doors.find((d) => d.id === alert.doorId)?.name ?? "A lock";
}

function SiteDoors({ state, onChanged }: { state: SiteState; onChanged: () => void }) {
  const headingId = useId();
  const { site, doors, locks } = state;
  const sorted = [...doors].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section className="card stack" aria-labelledby={headingId}>
      <div className="card-head">
        <h2 id={headingId}>{site.name}</h2>
        <div className="actions">
          {state.demo ? (
            <a className="button primary small" href={`#/sites/${site.id}/demo`}>
              Demo lock panel
            </a>
          ) : null}
          <a className="button secondary small" href={`#/sites/${site.id}/unlock-requests`}>
            Unlock requests
          </a>
          <a className="button secondary small" href={`#/sites/${site.id}/people`}>
            People
          </a>
          <a className="button secondary small" href={`#/sites/${site.id}/activity`}>
            Recent activity
          </a>
        </div>
      </div>
      {sorted.length === 0 ? (
        <p className="muted">
          No doors yet. <a href="#/sites">Add the first door</a> under Sites & doors.
        </p>
      ) : (
        <ul className="door-grid" aria-label={`Doors of ${site.name}`}>
          {sorted.map((d) => (
            <DoorTile key={d.id} door={d} lock={locks.find((l) => l.doorId === d.id)} />
          ))}
        </ul>
      )}
      <SiteAlerts state={state} onChanged={onChanged} />
      <RecentActivity state={state} />
    </section>
  );
}

/** The site's open alerts (with Acknowledge) and its latest alarms. */
function SiteAlerts({ state, onChanged }: { state: SiteState; onChanged: () => void }) {
  const alertsId = useId();
  const alarmsId = useId();
  const action = useAction();
  const { site, alerts, alarms } = state;
  const acknowledge = (a: SiteAlert) =>
    void action.run(async () => {
      await acknowledgeAlert(site.id, a.id);
      onChanged();
    });
  return (
    <div className="stack" data-testid="site-alerts">
      <h3 id={alertsId}>Alerts</h3>
      <ErrorAlert error={action.error} />
      {alerts === null ? (
        <p className="muted small">Alerts cannot be read right now.</p>
      ) : alerts.length === 0 ? (
        <p className="muted small">No open alerts: nothing needs your attention.</p>
      ) : (
        <ul className="list" aria-labelledby={alertsId}>
          {alerts.map((a) => {
            const words = alertWords(a, placeOf(state, a));
            return (
              <li key={a.id} className="list-row" data-alert={a.id} data-kind={a.kind}>
                <div className="list-main">
                  <span data-alert-text>{words}</span>
                  <span className="muted small">{formatWhen(a.createdAt)}</span>
                </div>
                <button
                  type="button"
                  className="button secondary small"
                  disabled={action.busy}
                  onClick={() => acknowledge(a)}
                >
                  Acknowledge<span className="visually-hidden">: {words}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {alarms === null || alarms.length === 0 ? null : (
        <>
          <h3 id={alarmsId}>Recent alarms</h3>
          <ul className="list" aria-labelledby={alarmsId}>
            {alarms.map((e) => (
              <li key={`${e.lockId}/${e.seq}`} className="list-row" data-alarm={e.alarm ?? ""}>
                <div className="list-main">
                  <span>
                    <strong>{e.doorName ?? "A removed lock"}</strong> · {eventWords(e)}
                  </span>
                  <span className="muted small">
                    {e.at === null ? "time unknown to the lock" : formatWhen(e.at)}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The site's latest entries, refusals and alarms, as the locks signed them; refreshed with the rest. */
function RecentActivity({ state }: { state: SiteState }) {
  const headingId = useId();
  const { site, activity } = state;
  return (
    <div className="stack" data-testid="recent-activity">
      <h3 id={headingId}>Recent activity</h3>
      {activity === null ? (
        <p className="muted small">The hub cannot read the activity right now.</p>
      ) : activity.length === 0 ? (
        <p className="muted small">Nobody has used a door yet.</p>
      ) : (
        <ul className="list" aria-labelledby={headingId}>
          {activity.map((e) => (
            <li key={`${e.lockId}/${e.seq}`} className="list-row" data-outcome={e.outcome}>
              <div className="list-main">
                <span>
                  <strong>{e.doorName ?? "A removed lock"}</strong> · {eventWords(e)}
                </span>
                <span className="muted small">
                  {e.at === null ? "time unknown to the lock" : formatWhen(e.at)} · sealed by lock
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
      <a className="small" href={`#/sites/${site.id}/activity`}>
        All door activity<span className="visually-hidden"> at {site.name}</span>
      </a>
    </div>
  );
}

function DoorTile({ door, lock }: { door: Door; lock: LockView | undefined }) {
  const headingId = useId();
  if (lock === undefined)
    return (
      <li className="door-tile">
        <h3 id={headingId}>{door.name}</h3>
        <p className="muted">No lock yet.</p>
        <a className="button secondary small" href={`#/doors/${door.id}/add-lock`}>
          Add a lock<span className="visually-hidden"> to {door.name}</span>
        </a>
      </li>
    );
  const c = lock.condition;
  const pending = (lock.sync.pending ?? 0) + (lock.sync.sending ?? 0);
  const failed = lock.sync.failed ?? 0;
  const lowBattery = c?.batteryPercent !== null && c?.batteryPercent !== undefined && c.batteryPercent < 20;
  return (
    <li className="door-tile" data-door={door.name}>
      <h3 id={headingId}>{door.name}</h3>
      <div className="badges">
        <span className={`badge ${lock.online ? "status-active" : "status-revoked"}`} data-fact="online">
          {lock.online ? "Online" : "Offline"}
        </span>
        {c === null ? null : (
          <span
            className={`badge ${c.lockState === "locked" ? "status-active" : "status-outside_window"}`}
            data-fact="lock"
          >
            {LOCK_STATE_LABELS[c.lockState]}
          </span>
        )}
        {c === null ? null : (
          <span
            className={`badge ${c.doorState === "closed" ? "" : "status-outside_window"}`}
            data-fact="door"
          >
            Door {c.doorState}
          </span>
        )}
      </div>
      <dl className="facts small">
        {c === null ? (
          <div>
            <dt>State</dt>
            <dd>Not read yet</dd>
          </div>
        ) : (
          <>
            <div>
              <dt>Battery</dt>
              <dd data-fact="battery" className={lowBattery ? "warn" : undefined}>
                {c.batteryPercent === null ? "Unknown" : `${c.batteryPercent}%${lowBattery ? " (low)" : ""}`}
              </dd>
            </div>
            <div>
              <dt>Firmware</dt>
              <dd>{c.firmwareVersion}</dd>
            </div>
          </>
        )}
        {lock.online || lock.lastSeenAt === null ? null : (
          <div>
            <dt>Last seen</dt>
            <dd>{formatWhen(lock.lastSeenAt)}</dd>
          </div>
        )}
        {!lock.clockNeedsAuthorisation ? null : (
          <div>
            <dt>Clock</dt>
            <dd className="warn" data-fact="clock">
              {clockOffWords(lock.clockDriftMs)}: left as it is, since a lock takes at most 5-minute
              corrections from the hub. Its events stay signed and in order; their times are off.
            </dd>
          </div>
        )}
        {pending + failed === 0 ? null : (
          <div>
            <dt>Credentials</dt>
            <dd className={failed > 0 ? "warn" : undefined}>
              {[pending > 0 ? `${pending} on the way` : null, failed > 0 ? `${failed} failed` : null]
                .filter((x) => x !== null)
                .join(", ")}
            </dd>
          </div>
        )}
      </dl>
    </li>
  );
}
