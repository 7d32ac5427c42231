/**
 * Unlock requests: someone (a visitor at the door, a resident, later a doorbell) asked to open a
 * door. Each waiting request shows its snapshot, who asked and when it expires; "Unlock" asks the
 * door's lock for a one-time challenge and signs, with your passkey, that challenge bound to this
 * request and to the SHA-256 of the snapshot bytes this page shows (computed here) — the lock
 * checks the signature itself and opens, or refuses and records why, and its event names the
 * request and that hash. The picture is pinned when first shown: if the hub later serves another
 * one for the same request, the page says so and will not approve it. "Deny" closes the request.
 * Requests decided in the last hour are listed below with the lock's answer. Refreshed every two
 * seconds.
 */
import { toHex } from "@latchkey/protocol";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client.js";
import type { Door, Site } from "../api/types.js";
import {
  approveWithPasskey,
  askToUnlock,
  denyUnlockRequest,
  listUnlockRequests,
  shownSnapshot,
  snapshotFromFile,
  snapshotSha256,
  type ShownSnapshot,
  type UnlockRequest,
} from "../api/approvals.js";
import { passkeyProblem, passkeysSupported } from "../api/webauthn.js";
import { Alert, ErrorAlert, formatWhen, PageTitle, Spinner, useAction, useLoad } from "../ui/components.js";
import { useAnnouncer, useNow, usePoll } from "../ui/live.js";
import { onSubmit } from "./factors.js";

const STATUS_WORDS: Record<UnlockRequest["status"], string> = {
  pending: "Waiting",
  approved: "Unlocked",
  denied: "Denied",
  expired: "Expired",
  failed: "Refused by the lock",
};

/** The lock's answer in words. */
export function resultWords(result: string | null): string | null {
  switch (result) {
    case null:
      return null;
    case "OK":
      return "The lock checked your passkey and opened.";
    case "LOCK_ACCESS_DENIED":
      return "The lock refused: it could not verify the passkey signature over its challenge. The refusal is in its signed log.";
    case "HUB_LOCK_OFFLINE":
      return "The lock was not connected, so it could not be asked.";
    default:
      return `The lock answered ${result}.`;
  }
}

function who(r: UnlockRequest): string {
  return r.requestedBy.kind === "doorbell" ? "the doorbell" : r.requestedBy.username;
}

export function UnlockRequestsScreen({ siteId }: { siteId: string }) {
  const context = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        doors: (await api.get<{ items: Door[] }>(`/sites/${siteId}/doors`)).items,
      }),
      [siteId],
    ),
  );
  const poll = usePoll(useCallback(() => listUnlockRequests(siteId), [siteId]));
  const [announcement, announce] = useAnnouncer();
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    const items = poll.data;
    if (items === null) return;
    const pending = items.filter((r) => r.status === "pending");
    const before = seen.current;
    seen.current = new Set(pending.map((r) => r.id));
    if (before === null) return;
    const fresh = pending.filter((r) => !before.has(r.id));
    if (fresh.length > 0) announce(fresh.map((r) => `${who(r)} asks to open ${r.doorName}`).join(". ") + ".");
  }, [poll.data, announce]);

  const c = context.data;
  const items = poll.data;
  const pending = items?.filter((r) => r.status === "pending") ?? [];
  const decided = items?.filter((r) => r.status !== "pending") ?? [];
  return (
    <div className="stack">
      <p className="breadcrumb">
        <a href="#/">Dashboard</a>
      </p>
      <PageTitle
        lead={
          c === null
            ? undefined
            : `Requests to open a door at ${c.site.name}. Check the snapshot, then unlock with your passkey: the lock checks your passkey itself, and the hub alone cannot open it.`
        }
      >
        Unlock requests
      </PageTitle>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
      <ErrorAlert error={context.error ?? (items === null ? poll.error : null)} />
      {items === null ? (
        poll.error === null ? (
          <Spinner />
        ) : null
      ) : (
        <>
          <section className="stack" aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">Waiting for a decision</h2>
            {pending.length === 0 ? (
              <p className="muted">Nobody is waiting at a door.</p>
            ) : (
              <ul className="list stack" aria-label="Waiting requests">
                {pending.map((r) => (
                  <PendingRequest key={r.id} request={r} onChanged={poll.refresh} />
                ))}
              </ul>
            )}
          </section>
          {decided.length === 0 ? null : (
            <section className="stack" aria-labelledby="decided-heading">
              <h2 id="decided-heading">Decided in the last hour</h2>
              <ul className="list stack" aria-label="Decided requests">
                {decided.map((r) => (
                  <li key={r.id} className="card" data-request={r.id} data-status={r.status}>
                    <p>
                      <strong>{r.doorName}</strong> · asked by {who(r)} at {formatWhen(r.createdAt)} ·{" "}
                      <span
                        className={`badge ${r.status === "approved" ? "status-active" : "status-revoked"}`}
                      >
                        {STATUS_WORDS[r.status]}
                      </span>
                    </p>
                    {r.result === null ? null : <p className="small">{resultWords(r.result)}</p>}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
      {c === null ? null : (
        <AskForm doors={c.doors.filter((d) => d.lockId !== null)} onAsked={poll.refresh} />
      )}
    </div>
  );
}

function PendingRequest({ request: r, onChanged }: { request: UnlockRequest; onChanged: () => void }) {
  const headingId = useId();
  const { busy, error, setError, run } = useAction();
  const [outcome, setOutcome] = useState<string | null>(null);
  // A clock for "expires in about N seconds".
  const now = useNow(1_000);
  // The picture as first shown (the list is keyed by request id): what the approver looks at and
  // what the passkey signs the hash of. A later, different snapshot from the hub is not approvable.
  const [pinned] = useState(() => ({
    source: r.snapshot,
    shown: r.snapshot === null ? null : shownSnapshot(r.snapshot),
  }));
  const changed = r.snapshot !== pinned.source;
  const unreadable = pinned.source !== null && pinned.shown === null;
  const [fingerprint, setFingerprint] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void snapshotSha256(pinned.shown).then((h) => {
      if (live) setFingerprint(toHex(h));
    });
    return () => {
      live = false;
    };
  }, [pinned]);
  const approvable = !changed && !unreadable && fingerprint !== null;
  const unlock = () =>
    run(async () => {
      try {
        const done = await approveWithPasskey(r, pinned.shown);
        setOutcome(resultWords(done.result));
      } catch (e) {
        if (e instanceof DOMException) {
          setError(new Error(passkeyProblem(e)));
          return;
        }
        throw e;
      } finally {
        onChanged();
      }
    });
  const deny = () =>
    run(async () => {
      await denyUnlockRequest(r.siteId, r.id);
      onChanged();
    });
  const seconds = Math.max(0, Math.round((r.expiresAt - now) / 1000));
  return (
    <li className="card stack" aria-labelledby={headingId} data-request={r.id} data-status={r.status}>
      <h3 id={headingId}>
        {who(r)} asks to open {r.doorName}
      </h3>
      {unreadable ? null : (
        <Snapshot shown={pinned.shown} alt={`Snapshot at ${r.doorName}, taken when ${who(r)} asked`} />
      )}
      {r.note === null ? null : <p>“{r.note}”</p>}
      <p className="small muted">
        Asked at {formatWhen(r.createdAt)}; expires in about {seconds} seconds.
        {pinned.shown === null ? null : (
          <>
            {" "}
            Snapshot fingerprint (SHA-256 of the picture shown, computed by this page; your passkey signs it
            and the lock records it){" "}
            <code data-testid="snapshot-sha256" data-sha256={fingerprint ?? ""}>
              {fingerprint?.slice(0, 16) ?? "…"}
            </code>
            .
          </>
        )}
      </p>
      {changed ? (
        <Alert kind="error">
          The hub now shows a different snapshot for this request than the one above. It cannot be approved
          here: deny it and ask again.
        </Alert>
      ) : null}
      {unreadable ? (
        <Alert kind="error">The snapshot could not be read, so this request cannot be approved here.</Alert>
      ) : null}
      {outcome === null ? null : <Alert kind="success">{outcome}</Alert>}
      <ErrorAlert error={error} />
      {passkeysSupported() ? null : (
        <p className="small">This browser cannot use passkeys, so it cannot approve unlocks.</p>
      )}
      <div className="actions">
        <button
          type="button"
          className="button primary"
          disabled={busy || !passkeysSupported() || !approvable}
          onClick={() => void unlock()}
        >
          Unlock {r.doorName} with my passkey
        </button>
        <button type="button" className="button secondary" disabled={busy} onClick={() => void deny()}>
          Deny<span className="visually-hidden"> the request at {r.doorName}</span>
        </button>
      </div>
    </li>
  );
}

function Snapshot({ shown, alt }: { shown: ShownSnapshot | null; alt: string }) {
  if (shown === null) return <p className="muted small">No snapshot.</p>;
  // The image is drawn from the very bytes that are hashed and signed.
  return <img className="snapshot" src={shown.url} alt={alt} />;
}

function AskForm({ doors, onAsked }: { doors: Door[]; onAsked: () => void }) {
  const noteId = useId();
  const doorId = useId();
  const fileId = useId();
  const [door, setDoor] = useState(doors[0]?.id ?? "");
  const [note, setNote] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  // The first door until one is picked (doors may arrive after the form).
  const chosenDoor = door === "" ? (doors[0]?.id ?? "") : door;
  if (doors.length === 0) return null;
  const submit = onSubmit(() => {
    void run(async () => {
      setDone(null);
      const snapshot = file === null ? undefined : await snapshotFromFile(file);
      const r = await askToUnlock(chosenDoor, {
        ...(note.trim() === "" ? {} : { note: note.trim() }),
        ...(snapshot === undefined ? {} : { snapshot }),
      });
      setDone(`Asked to open ${r.doorName}. An approver can unlock it for the next 2 minutes.`);
      setNote("");
      onAsked();
    });
  });
  return (
    <section className="card stack" aria-labelledby="ask-heading">
      <h2 id="ask-heading">Ask to open a door</h2>
      <form className="stack" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={doorId}>Door</label>
          <select id={doorId} value={chosenDoor} onChange={(e) => setDoor(e.target.value)}>
            {doors.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={noteId}>Note (optional)</label>
          <input id={noteId} value={note} maxLength={280} onChange={(e) => setNote(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={fileId}>Snapshot (optional; JPEG, PNG or WebP up to 45 KB)</label>
          <input
            id={fileId}
            type="file"
            accept="image/jpeg,image/png,image/webp"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </div>
        {done === null ? null : <Alert kind="success">{done}</Alert>}
        <ErrorAlert error={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || door === ""}>
            Ask to open
          </button>
        </div>
      </form>
    </section>
  );
}
