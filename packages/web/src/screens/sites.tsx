/** Sites and their doors: list, create, and bind a door to a lock. */
import { useCallback, useId, useMemo, useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { Door, SessionInfo, Site } from "../api/types.js";
import {
  Alert,
  ErrorAlert,
  Field,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
} from "../ui/components.js";
import { onSubmit } from "./factors.js";
import { DoorbellPanel } from "./doorbell.js";

export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf?.("timeZone") ?? [];
  return list.includes("UTC") ? list : ["UTC", ...list];
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const loadSites = () => api.get<{ items: Site[] }>("/sites");

export function SitesScreen({ session }: { session: SessionInfo }) {
  const sites = useLoad(loadSites);
  const [adding, setAdding] = useState(false);
  const owner = session.account.isOwner;
  const list = sites.data?.items ?? null;
  return (
    <div className="stack">
      <PageTitle lead="A site is a home, building or office with its own time zone; doors belong to a site.">
        Sites & doors
      </PageTitle>
      <ErrorAlert error={sites.error} />
      {list === null ? (
        sites.error === null ? (
          <Spinner />
        ) : null
      ) : list.length === 0 ? (
        <section className="card stack empty">
          <h2>Start with your first site</h2>
          <p>
            {owner
              ? "Name the place your doors are in, for example “Home” or “12 Harbour Street”. Then add its doors and the people who may open them."
              : "You do not manage any site yet. Ask the owner to add you as a manager."}
          </p>
          {owner ? <NewSiteForm onCreated={sites.reload} /> : null}
        </section>
      ) : (
        <>
          {list.map((s) => (
            <SiteCard key={s.id} site={s} />
          ))}
          {owner ? (
            adding ? (
              <section className="card stack">
                <h2>New site</h2>
                <NewSiteForm
                  onCreated={() => {
                    setAdding(false);
                    sites.reload();
                  }}
                  onCancel={() => setAdding(false)}
                />
              </section>
            ) : (
              <div className="actions">
                <button type="button" className="button secondary" onClick={() => setAdding(true)}>
                  Add another site
                </button>
              </div>
            )
          ) : null}
        </>
      )}
    </div>
  );
}

function NewSiteForm({ onCreated, onCancel }: { onCreated: () => void; onCancel?: () => void }) {
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState(browserTimeZone);
  const zones = useMemo(() => timeZones(), []);
  const { busy, error, run } = useAction();
  const submit = onSubmit(
    () =>
      void run(async () => {
        await api.post<Site>("/sites", { name: name.trim(), timezone });
        setName("");
        onCreated();
      }),
  );
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <div className="row">
        <TextField
          label="Site name"
          value={name}
          onChange={setName}
          maxLength={200}
          required
          autoComplete="off"
        />
        <Field label="Time zone" hint="Schedules such as “Fridays 10:00–12:00” are in this time zone.">
          {({ id, describedBy }) => (
            <select
              id={id}
              value={timezone}
              onChange={(e) => setTimezone(e.target.value)}
              aria-describedby={describedBy}
            >
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy || name.trim() === ""}>
          {busy ? "Creating…" : "Create site"}
        </button>
        {onCancel === undefined ? null : (
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function SiteCard({ site }: { site: Site }) {
  const doors = useLoad(useCallback(() => api.get<{ items: Door[] }>(`/sites/${site.id}/doors`), [site.id]));
  const [adding, setAdding] = useState(false);
  const headingId = useId();
  const list = doors.data?.items ?? null;
  return (
    <section className="card stack" aria-labelledby={headingId}>
      <div className="card-head">
        <div>
          <h2 id={headingId}>{site.name}</h2>
          <p className="muted small">Time zone: {site.timezone.replace(/_/g, " ")}</p>
        </div>
        <div className="actions">
          <a className="button secondary small" href={`#/sites/${site.id}/people`}>
            People
          </a>
          <a className="button secondary small" href={`#/sites/${site.id}/activity`}>
            Activity
          </a>
          <a className="button secondary small" href={`#/sites/${site.id}/team`}>
            Team
          </a>
        </div>
      </div>
      <ErrorAlert error={doors.error} />
      {list === null ? null : list.length === 0 ? (
        <p className="muted">
          No doors yet. Add the first one: its name is what people see, e.g. “Front door”.
        </p>
      ) : (
        <ul className="list" aria-label={`Doors of ${site.name}`}>
          {list.map((d) => (
            <DoorRow key={d.id} door={d} onChanged={doors.reload} />
          ))}
        </ul>
      )}
      {adding ? (
        <NewDoorForm
          siteId={site.id}
          onDone={() => {
            setAdding(false);
            doors.reload();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <div className="actions">
          <button type="button" className="button secondary" onClick={() => setAdding(true)}>
            Add a door
          </button>
        </div>
      )}
    </section>
  );
}

function DoorRow({ door, onChanged }: { door: Door; onChanged: () => void }) {
  const { busy, error, run } = useAction();
  const [confirming, setConfirming] = useState(false);
  const [doorbell, setDoorbell] = useState(false);
  return (
    <li className="list-row">
      <div className="list-main">
        <strong>{door.name}</strong>
        <span className="muted small">
          {door.lockId === null ? "No lock connected yet" : `Lock ${door.lockId}`}
          {door.lockPublicKey === null ? "" : " · PINs are sealed to this lock"}
        </span>
        <ErrorAlert error={error} />
        {doorbell ? <DoorbellPanel doorId={door.id} doorName={door.name} /> : null}
      </div>
      <div className="actions">
        <button
          type="button"
          className="button secondary small"
          aria-expanded={doorbell}
          aria-label={`Doorbell for ${door.name}`}
          onClick={() => setDoorbell((v) => !v)}
        >
          Doorbell
        </button>
        {confirming ? (
          <>
            <span className="small">Delete “{door.name}” and remove it from every grant?</span>
            <button
              type="button"
              className="button danger small"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await api.delete(`/doors/${door.id}`);
                  onChanged();
                })
              }
            >
              Delete door
            </button>
            <button type="button" className="button secondary small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button secondary small"
            aria-label={`Delete ${door.name}`}
            onClick={() => setConfirming(true)}
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

function NewDoorForm({
  siteId,
  onDone,
  onCancel,
}: {
  siteId: string;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState("");
  const [lockId, setLockId] = useState("");
  const [lockKey, setLockKey] = useState("");
  const { busy, error, run } = useAction();
  const submit = onSubmit(
    () =>
      void run(async () => {
        await api.post<Door>(`/sites/${siteId}/doors`, {
          name: name.trim(),
          ...(lockId.trim() === "" ? {} : { lockId: lockId.trim() }),
          ...(lockKey.trim() === "" ? {} : { lockPublicKey: lockKey.trim() }),
        });
        onDone();
      }),
  );
  const keyError = error instanceof ApiError && /lockPublicKey/.test(error.field ?? "") ? error.human : null;
  return (
    <form className="stack subcard" onSubmit={submit} noValidate>
      <h3>New door</h3>
      <TextField
        label="Door name"
        value={name}
        onChange={setName}
        maxLength={200}
        required
        autoComplete="off"
      />
      <details>
        <summary>Lock details (optional)</summary>
        <Alert kind="info">
          Locks will be paired from the app once the device gateway arrives. Until then you can record a
          lock's id and its X25519 public key by hand, so new PINs are sealed to it.
        </Alert>
        <TextField label="Lock id" value={lockId} onChange={setLockId} maxLength={64} autoComplete="off" />
        <TextField
          label="Lock public key (64 hex characters)"
          value={lockKey}
          onChange={setLockKey}
          maxLength={64}
          autoComplete="off"
          error={keyError}
        />
      </details>
      {keyError === null ? <ErrorAlert error={error} /> : null}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy || name.trim() === ""}>
          {busy ? "Adding…" : "Add door"}
        </button>
        <button type="button" className="button secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
