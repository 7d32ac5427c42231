/**
 * Add a lock to a door: the locks waiting to be added (they announce themselves to the hub when
 * powered on; the list refreshes live), the setup code from the lock's label, and — when several
 * wait — which one. Commissioning needs a fresh second factor (the API client asks for it).
 * A door that already has a lock shows it, with "Remove lock".
 */
import { useCallback, useId, useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { Door, LockView, Site, WaitingLock } from "../api/types.js";
import { LOCK_STATE_LABELS } from "../locks/words.js";
import {
  Alert,
  ErrorAlert,
  formatWhen,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
} from "../ui/components.js";
import { usePoll } from "../ui/live.js";
import { onSubmit } from "./factors.js";

async function loadDoor(doorId: string): Promise<{ door: Door; site: Site }> {
  const door = await api.get<Door>(`/doors/${doorId}`);
  const site = await api.get<Site>(`/sites/${door.siteId}`);
  return { door, site };
}

async function loadLock(doorId: string): Promise<{ lock: LockView | null }> {
  try {
    return { lock: await api.get<LockView>(`/doors/${doorId}/lock`) };
  } catch (e) {
    if (e instanceof ApiError && e.code === "HUB_LOCK_UNKNOWN") return { lock: null };
    throw e;
  }
}

export function AddLockScreen({ doorId }: { doorId: string }) {
  const place = useLoad(useCallback(() => loadDoor(doorId), [doorId]));
  const lock = useLoad(useCallback(() => loadLock(doorId), [doorId]));
  const [added, setAdded] = useState<LockView | null>(null);
  const d = place.data;
  return (
    <div className="stack">
      <p className="breadcrumb">
        <a href="#/">Dashboard</a>
      </p>
      <PageTitle lead={d === null ? undefined : `${d.door.name} at ${d.site.name}`}>Add a lock</PageTitle>
      <ErrorAlert error={place.error ?? lock.error} />
      {d === null || (lock.data === null && lock.error === null && added === null) ? (
        place.error === null && lock.error === null ? (
          <Spinner />
        ) : null
      ) : added !== null ? (
        <Alert kind="success">
          <p>
            <strong>
              {d.door.name} now has lock {added.id}.
            </strong>{" "}
            Its PINs and cards are being sent to it; the dashboard shows its live state.
          </p>
          <p>
            <a href="#/">Back to the dashboard</a>
          </p>
        </Alert>
      ) : lock.data?.lock ? (
        <ExistingLock door={d.door} lock={lock.data.lock} onRemoved={lock.reload} />
      ) : (
        <CommissionForm door={d.door} siteId={d.site.id} onAdded={setAdded} />
      )}
    </div>
  );
}

function ExistingLock({ door, lock, onRemoved }: { door: Door; lock: LockView; onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  return (
    <section className="card stack" aria-labelledby="existing-lock-title">
      <h2 id="existing-lock-title">{door.name} already has a lock</h2>
      <p>
        Lock <code>{lock.id}</code>, added {formatWhen(lock.commissionedAt)}:{" "}
        {lock.online ? "online" : "offline"}
        {lock.condition === null ? "" : `, ${LOCK_STATE_LABELS[lock.condition.lockState].toLowerCase()}`}.
      </p>
      <p className="muted">
        To put a different lock on this door, remove this one first. Its signed events stay in the log.
      </p>
      <ErrorAlert error={error} />
      <div className="actions">
        {confirming ? (
          <>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await api.post(`/doors/${door.id}/lock/remove`);
                  onRemoved();
                })
              }
            >
              Yes, remove the lock
            </button>
            <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" className="button danger-outline" onClick={() => setConfirming(true)}>
            Remove lock…
          </button>
        )}
      </div>
    </section>
  );
}

/** Someone else announces this lock id too (a replay or a forgery): the setup code decides. */
function SeveralAnnouncers({ count }: { count: number }) {
  return count > 1 ? (
    <span className="muted">
      {" "}
      Announced by {count} devices: only the real lock can accept its setup code, and the hub tries each.
    </span>
  ) : null;
}

function CommissionForm({
  door,
  siteId,
  onAdded,
}: {
  door: Door;
  siteId: string;
  onAdded: (lock: LockView) => void;
}) {
  const waiting = usePoll(
    useCallback(
      () => api.get<{ items: WaitingLock[] }>(`/sites/${siteId}/commissioning`).then((r) => r.items),
      [siteId],
    ),
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const { busy, error, setError, run } = useAction();
  const radioId = useId();
  // After a failed attempt the lock starts over on a new connection: until the hub's list has
  // changed, the old entry is stale and cannot be used.
  const [staleList, setStaleList] = useState<WaitingLock[] | null>(null);
  const list = waiting.data === null || waiting.data === staleList ? [] : waiting.data;
  const lockId =
    list.length === 1 ? (list[0]?.lockId ?? null) : list.some((w) => w.lockId === chosen) ? chosen : null;
  const submit = onSubmit(() => {
    const setupCode = code.trim();
    if (!/^[0-9 -]+$/.test(setupCode) || setupCode.replace(/\D/g, "").length !== 8)
      return setError(new Error("Enter the setup code from the lock's label: 8 digits."));
    if (lockId === null) return setError(new Error("Choose which lock to add."));
    void run(async () => {
      try {
        onAdded(await api.post<LockView>(`/doors/${door.id}/lock`, { setupCode, lockId }));
      } catch (e) {
        setStaleList(waiting.data);
        waiting.refresh();
        throw e;
      }
    });
  });
  const codeError =
    error instanceof ApiError && error.code === "HUB_COMMISSION_FAILED"
      ? error.human
      : error instanceof Error && !(error instanceof ApiError) && /setup code/.test(error.message)
        ? error.message
        : null;
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-labelledby="commission-title">
      <h2 id="commission-title">Lock waiting to be added</h2>
      {waiting.data === null ? (
        waiting.error === null ? (
          <Spinner label="Looking for locks…" />
        ) : (
          <ErrorAlert error={waiting.error} />
        )
      ) : list.length === 0 ? (
        <div role="status">
          <p>
            <strong>
              {waiting.data === staleList
                ? "Waiting for the lock to be ready for another try…"
                : "No lock is waiting yet."}
            </strong>
          </p>
          <p className="muted">
            Power the lock on (or reset it) and connect it to the same network as this hub. It appears here by
            itself within a few seconds.
          </p>
        </div>
      ) : list.length === 1 ? (
        <p role="status">
          Lock <code>{list[0]?.lockId}</code> is waiting (seen {formatWhen(list[0]?.lastSeenAt ?? 0)}).
          <SeveralAnnouncers count={list[0]?.announcers ?? 1} />
        </p>
      ) : (
        <fieldset className="choice">
          <legend>Which lock? Compare with the lock id printed on its label.</legend>
          {list.map((w) => (
            <div className="radio" key={w.lockId}>
              <input
                type="radio"
                name="lock"
                id={`${radioId}-${w.lockId}`}
                checked={chosen === w.lockId}
                onChange={() => setChosen(w.lockId)}
              />
              <label htmlFor={`${radioId}-${w.lockId}`}>
                <code>{w.lockId}</code>
                <SeveralAnnouncers count={w.announcers} />
              </label>
            </div>
          ))}
        </fieldset>
      )}
      <TextField
        label="Setup code"
        hint="The 8 digits printed on the lock's label or under its QR code (spaces and dashes are fine). The lock locks out after five wrong tries."
        value={code}
        onChange={setCode}
        inputMode="numeric"
        autoComplete="off"
        maxLength={16}
        className="code-input"
        error={codeError}
      />
      {codeError === null ? <ErrorAlert error={error} /> : null}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy || list.length === 0}>
          {busy ? "Adding the lock…" : "Add lock"}
        </button>
        <a className="button secondary" href="#/">
          Cancel
        </a>
      </div>
    </form>
  );
}
