/** A person's page: their access on every door (grants) and every credential, with revocation. */
import { useCallback, useState } from "react";
import { api } from "../api/client.js";
import type {
  Credential,
  CredentialKind,
  Door,
  Grant,
  GuestPinLink,
  IssuedCredential,
  Person,
  ReplacedPin,
  Site,
} from "../api/types.js";
import { navigate } from "../ui/router.js";
import {
  defaultDraft,
  draftToTerms,
  grantBody,
  ScheduleEditor,
  type TermsDraft,
} from "../schedule/ScheduleEditor.js";
import { CATEGORY_LABELS, STATUS_LABELS, termsSentence } from "../schedule/sentence.js";
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
import {
  DeliveryChooser,
  DoorPicker,
  GuestLinkReveal,
  pinBody,
  PinChooser,
  PinReveal,
  type PinChoice,
  type PinDelivery,
} from "./access.js";

/** What a new credential shows once: its PIN, or the guest link that shows the PIN. */
type Reveal = { readonly pin: string } | { readonly guestLink: { url: string; expiresAt: number } } | null;
import { onSubmit } from "./factors.js";
import { CredentialSync } from "./sync-status.js";

interface Loaded {
  readonly person: Person;
  readonly site: Site;
  readonly credentials: Credential[];
  readonly grants: Grant[];
  /** Every door the caller can see, for names across sites. */
  readonly doors: Door[];
  readonly sites: Site[];
}

async function loadPerson(personId: string): Promise<Loaded> {
  const person = await api.get<Person>(`/people/${personId}`);
  const [site, credentials, grants, sites] = await Promise.all([
    api.get<Site>(`/sites/${person.siteId}`),
    api.get<{ items: Credential[] }>(`/people/${personId}/credentials`),
    api.get<{ items: Grant[] }>(`/people/${personId}/grants`),
    api.get<{ items: Site[] }>("/sites"),
  ]);
  const doors = (
    await Promise.all(sites.items.map((s) => api.get<{ items: Door[] }>(`/sites/${s.id}/doors`)))
  ).flatMap((r) => r.items);
  return { person, site, credentials: credentials.items, grants: grants.items, doors, sites: sites.items };
}

const KIND_LABELS: Record<CredentialKind, string> = {
  pin: "PIN",
  card: "Card",
  fingerprint: "Fingerprint",
  phone_key: "Phone key",
};

export function PersonScreen({ personId }: { personId: string }) {
  const data = useLoad(useCallback(() => loadPerson(personId), [personId]));
  if (data.data === null) return data.error === null ? <Spinner /> : <ErrorAlert error={data.error} />;
  const d = data.data;
  const doorName = (id: string) => {
    const door = d.doors.find((x) => x.id === id);
    if (door === undefined) return "a door you cannot see";
    const site = d.sites.find((s) => s.id === door.siteId);
    return d.sites.length > 1 && site !== undefined ? `${door.name} (${site.name})` : door.name;
  };
  const liveGrants = d.grants.filter(
    (g) => g.status !== "revoked" && g.status !== "expired" && g.status !== "used_up",
  );
  const liveDoorIds = [...new Set(liveGrants.flatMap((g) => g.doorIds))];
  return (
    <div className="stack">
      <p className="breadcrumb">
        <a href={`#/sites/${d.site.id}/people`}>People at {d.site.name}</a>
      </p>
      <PageTitle lead={[d.person.phone, d.person.email].filter((x) => x !== null).join(" · ") || undefined}>
        {d.person.name}
      </PageTitle>
      <GrantsSection data={d} doorName={doorName} onChanged={data.reload} />
      <CredentialsSection data={d} doorName={doorName} liveDoorIds={liveDoorIds} onChanged={data.reload} />
      <DeletePerson person={d.person} />
    </div>
  );
}

function GrantsSection({
  data,
  doorName,
  onChanged,
}: {
  data: Loaded;
  doorName: (id: string) => string;
  onChanged: () => void;
}) {
  const [adding, setAdding] = useState(false);
  const shown = [...data.grants].sort(
    (a, b) => Number(a.status === "revoked") - Number(b.status === "revoked"),
  );
  return (
    <section className="card stack" aria-labelledby="grants-title">
      <h2 id="grants-title">Access</h2>
      {shown.length === 0 ? <p className="muted">No access yet: this person cannot open any door.</p> : null}
      <ul className="list">
        {shown.map((g) => (
          <GrantRow
            key={g.id}
            grant={g}
            timeZone={data.site.timezone}
            doorName={doorName}
            onChanged={onChanged}
          />
        ))}
      </ul>
      {adding ? (
        <NewGrant
          data={data}
          onDone={() => {
            setAdding(false);
            onChanged();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <div className="actions">
          <button type="button" className="button secondary" onClick={() => setAdding(true)}>
            Give access to doors
          </button>
        </div>
      )}
    </section>
  );
}

function GrantRow({
  grant,
  timeZone,
  doorName,
  onChanged,
}: {
  grant: Grant;
  timeZone: string;
  doorName: (id: string) => string;
  onChanged: () => void;
}) {
  const { busy, error, run } = useAction();
  // The sentence only needs the current year.
  const [now] = useState(Date.now);
  const ended = grant.status === "revoked" || grant.status === "expired" || grant.status === "used_up";
  return (
    <li className={`list-row${ended ? " ended" : ""}`}>
      <div className="list-main">
        <div className="badges">
          <span className="badge">{CATEGORY_LABELS[grant.category]}</span>
          <span className={`badge status-${grant.status}`}>{STATUS_LABELS[grant.status]}</span>
        </div>
        <span className="sentence">{termsSentence(grant, timeZone, now)}</span>
        <span className="muted small">
          {grant.doorIds
            .map(doorName)
            .sort((a, b) => a.localeCompare(b))
            .join(", ")}
          {grant.maxUses === null ? "" : ` · used ${grant.uses} of ${grant.maxUses}`}
        </span>
        <ErrorAlert error={error} />
      </div>
      {grant.status === "revoked" ? null : (
        <div className="actions">
          <button
            type="button"
            className="button secondary small"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await api.post(`/grants/${grant.id}/revoke`);
                onChanged();
              })
            }
          >
            Revoke
          </button>
        </div>
      )}
    </li>
  );
}

function NewGrant({ data, onDone, onCancel }: { data: Loaded; onDone: () => void; onCancel: () => void }) {
  const siteDoors = data.doors.filter((d) => d.siteId === data.site.id);
  const [doorIds, setDoorIds] = useState<string[]>(siteDoors.map((d) => d.id));
  const [draft, setDraft] = useState<TermsDraft>(() => defaultDraft("guest"));
  const { busy, error, setError, run } = useAction();
  const submit = onSubmit(() => {
    const terms = draftToTerms(draft, data.site.timezone);
    if (typeof terms === "string") return setError(new Error(terms));
    if (doorIds.length === 0) return setError(new Error("Choose at least one door."));
    void run(async () => {
      await api.post(`/people/${data.person.id}/grants`, grantBody(terms, doorIds));
      onDone();
    });
  });
  return (
    <form className="subcard stack" onSubmit={submit} noValidate>
      <h3>New access</h3>
      <DoorPicker doors={siteDoors} selected={doorIds} onChange={setDoorIds} />
      <ScheduleEditor
        draft={draft}
        onChange={setDraft}
        timeZone={data.site.timezone}
        doors={siteDoors}
        doorIds={doorIds}
      />
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Saving…" : "Save access"}
        </button>
        <button type="button" className="button secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CredentialsSection({
  data,
  doorName,
  liveDoorIds,
  onChanged,
}: {
  data: Loaded;
  doorName: (id: string) => string;
  liveDoorIds: string[];
  onChanged: () => void;
}) {
  const [adding, setAdding] = useState(false);
  const [reveal, setReveal] = useState<Reveal>(null);
  const shown = [...data.credentials].sort(
    (a, b) => Number(a.status === "revoked") - Number(b.status === "revoked"),
  );
  return (
    <section className="card stack" aria-labelledby="credentials-title">
      <h2 id="credentials-title">Credentials</h2>
      {reveal === null ? null : "pin" in reveal ? (
        <PinReveal pin={reveal.pin} personName={data.person.name} />
      ) : (
        <GuestLinkReveal
          url={reveal.guestLink.url}
          expiresAt={reveal.guestLink.expiresAt}
          personName={data.person.name}
        />
      )}
      {shown.length === 0 ? (
        <p className="muted">No credentials yet: give a PIN, a card, a fingerprint or a phone key.</p>
      ) : null}
      <ul className="list">
        {shown.map((c) => (
          <CredentialRow
            key={c.id}
            credential={c}
            doors={data.doors}
            liveDoorIds={liveDoorIds}
            doorName={doorName}
            onChanged={onChanged}
            onReplaced={(pin) => {
              setReveal({ pin });
              onChanged();
            }}
          />
        ))}
      </ul>
      {adding ? (
        <NewCredential
          person={data.person}
          onDone={(shown) => {
            setAdding(false);
            setReveal(shown);
            onChanged();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            onClick={() => {
              setReveal(null);
              setAdding(true);
            }}
          >
            Add a credential
          </button>
        </div>
      )}
    </section>
  );
}

function CredentialRow({
  credential,
  doors,
  liveDoorIds,
  doorName,
  onChanged,
  onReplaced,
}: {
  credential: Credential;
  doors: readonly Door[];
  liveDoorIds: string[];
  doorName: (id: string) => string;
  onChanged: () => void;
  /** A new PIN replaced this one (shown once, like any new PIN). */
  onReplaced: (pin: string) => void;
}) {
  const { busy, error, run } = useAction();
  const revoked = credential.status === "revoked";
  return (
    <li className={`list-row${revoked ? " ended" : ""}`}>
      <div className="list-main">
        <div className="badges">
          <span className="badge">{KIND_LABELS[credential.kind]}</span>
          {revoked ? (
            <span className="badge status-revoked">Revoked</span>
          ) : credential.status === "enrolment_requested" ? (
            <span className="badge status-scheduled">Waiting for enrolment at a lock</span>
          ) : (
            <span className="badge status-active">Active</span>
          )}
        </div>
        {credential.label === KIND_LABELS[credential.kind] ? null : <strong>{credential.label}</strong>}
        <span className="muted small">
          Added {formatWhen(credential.createdAt)}
          {credential.revokedAt === null ? "" : ` · revoked ${formatWhen(credential.revokedAt)}`}
        </span>
        <CredentialSync
          credential={credential}
          doorName={doorName}
          fallback={
            credential.kind === "pin" && !revoked ? (
              <ul className="per-door small" aria-label={`Where ${credential.label} is ready`}>
                {liveDoorIds.length === 0 ? (
                  <li>No door yet: give access to doors for this PIN to work.</li>
                ) : null}
                {liveDoorIds.map((id) => {
                  const door = doors.find((d) => d.id === id);
                  const sealed = credential.sealedForDoors.includes(id);
                  return (
                    <li key={id}>
                      {doorName(id)}:{" "}
                      {sealed
                        ? "sealed to its lock"
                        : door?.lockPublicKey === null || door === undefined
                          ? "no lock connected yet"
                          : "lock connected after this PIN was made; make a new PIN to reach it"}
                    </li>
                  );
                })}
              </ul>
            ) : null
          }
        />
        <ErrorAlert error={error} />
      </div>
      {revoked ? null : (
        <div className="actions">
          <button
            type="button"
            className="button secondary small"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await api.post(`/credentials/${credential.id}/revoke`);
                onChanged();
              })
            }
          >
            Revoke
          </button>
          {credential.kind === "pin" ? (
            <button
              type="button"
              className="button secondary small"
              disabled={busy}
              title="Make a new random PIN for this person (e.g. when a lock says it already has this PIN for someone else); this one stops working"
              onClick={() =>
                void run(async () => {
                  const r = await api.post<ReplacedPin>(`/credentials/${credential.id}/replace-pin`, {});
                  onReplaced(r.pin);
                })
              }
            >
              Replace PIN
            </button>
          ) : null}
        </div>
      )}
    </li>
  );
}

function NewCredential({
  person,
  onDone,
  onCancel,
}: {
  person: Person;
  onDone: (shown: Reveal) => void;
  onCancel: () => void;
}) {
  const [kind, setKind] = useState<CredentialKind>("pin");
  const [pin, setPin] = useState<PinChoice>({ mode: "generate", length: "6", pin: "" });
  const [delivery, setDelivery] = useState<PinDelivery>("show");
  const [linkDays, setLinkDays] = useState("7");
  const byLink = kind === "pin" && pin.mode === "generate" && delivery === "link";
  const [card, setCard] = useState("");
  const [label, setLabel] = useState("");
  const { busy, error, run } = useAction();
  const submit = onSubmit(
    () =>
      void run(async () => {
        const extra = label.trim() === "" ? {} : { label: label.trim() };
        if (byLink) {
          // The hub returns a one-time link and never the PIN itself.
          const r = await api.post<GuestPinLink>(`/people/${person.id}/guest-pin`, {
            length: Number(pin.length),
            expiresInDays: Number(linkDays),
            ...extra,
          });
          onDone({ guestLink: r.guestLink });
          return;
        }
        const body =
          kind === "pin"
            ? { ...pinBody(pin), ...extra }
            : kind === "card"
              ? { kind, cardNumber: card.trim(), ...extra }
              : { kind, ...extra };
        const r = await api.post<IssuedCredential>(`/people/${person.id}/credentials`, body);
        onDone(r.pin === null ? null : { pin: r.pin });
      }),
  );
  return (
    <form className="subcard stack" onSubmit={submit} noValidate>
      <h3>New credential</h3>
      <div className="field">
        <label htmlFor="new-credential-kind">Kind</label>
        <select
          id="new-credential-kind"
          value={kind}
          onChange={(e) => setKind(e.target.value as CredentialKind)}
        >
          <option value="pin">Keypad PIN</option>
          <option value="card">Card or tag</option>
          <option value="fingerprint">Fingerprint (enrol at the lock)</option>
          <option value="phone_key">Phone key (enrol on their phone)</option>
        </select>
      </div>
      {kind === "pin" ? <PinChooser choice={pin} onChange={setPin} allowNone={false} /> : null}
      {kind === "pin" && pin.mode === "generate" ? (
        <DeliveryChooser
          delivery={delivery}
          onChange={setDelivery}
          expiresInDays={linkDays}
          onExpiryChange={setLinkDays}
        />
      ) : null}
      {kind === "card" ? (
        <TextField
          label="Card number"
          hint="As printed or read from the card: 4 to 64 hexadecimal characters. The hub keeps only the last four; each lock keeps the card for itself."
          value={card}
          onChange={setCard}
          maxLength={64}
          autoComplete="off"
        />
      ) : null}
      {kind === "fingerprint" || kind === "phone_key" ? (
        <Alert kind="info">
          This records an enrolment request. Enrolment itself happens at the lock or on the phone once the
          device gateway is connected.
        </Alert>
      ) : null}
      <TextField
        label="Label (optional)"
        hint="For example “Spare tag” or “Left thumb”."
        value={label}
        onChange={setLabel}
        maxLength={100}
        autoComplete="off"
      />
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Saving…" : "Add credential"}
        </button>
        <button type="button" className="button secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DeletePerson({ person }: { person: Person }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  return (
    <section className="card stack danger-zone" aria-labelledby="delete-title">
      <h2 id="delete-title">Remove {person.name}</h2>
      <p>Deletes this person with all their credentials and access. The audit trail keeps a record.</p>
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
                  await api.delete(`/people/${person.id}`);
                  navigate(`/sites/${person.siteId}/people`);
                })
              }
            >
              Yes, remove {person.name}
            </button>
            <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="button danger-outline" onClick={() => setConfirming(true)}>
            Remove person…
          </button>
        )}
      </div>
    </section>
  );
}
