/**
 * Adding a person in one go: who they are, which doors, when (the schedule editor), and a PIN
 * shown once. The person, their grant and the PIN are three API calls; if a later one fails the
 * screen says what was saved and links to the person's page to finish.
 */
import { DEFAULT_PIN_POLICY, pinWeakness } from "@latchkey/protocol";
import { useCallback, useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { Door, Grant, IssuedCredential, Person, Site } from "../api/types.js";
import {
  defaultDraft,
  draftToTerms,
  grantBody,
  ScheduleEditor,
  type TermsDraft,
} from "../schedule/ScheduleEditor.js";
import { termsSentence } from "../schedule/sentence.js";
import {
  Alert,
  ErrorAlert,
  errorText,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
} from "../ui/components.js";
import { DoorPicker, pinBody, PinChooser, PinReveal, type PinChoice } from "./access.js";
import { onSubmit } from "./factors.js";

interface Result {
  readonly person: Person;
  readonly grant: Grant | null;
  readonly pin: string | null;
  readonly failure: unknown;
}

export function AddPersonScreen({ siteId }: { siteId: string }) {
  const data = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        doors: (await api.get<{ items: Door[] }>(`/sites/${siteId}/doors`)).items,
      }),
      [siteId],
    ),
  );
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [email, setEmail] = useState("");
  const [doorIds, setDoorIds] = useState<string[] | null>(null);
  const [draft, setDraft] = useState<TermsDraft>(() => defaultDraft("family"));
  const [pin, setPin] = useState<PinChoice>({ mode: "generate", length: "6", pin: "" });
  const [result, setResult] = useState<Result | null>(null);
  const { busy, error, setError, run } = useAction();

  if (data.data === null) return data.error === null ? <Spinner /> : <ErrorAlert error={data.error} />;
  const { site, doors } = data.data;
  // Every door until the person picks (null: not picked yet).
  const chosen = doorIds ?? doors.map((d) => d.id);

  if (result !== null)
    return (
      <AddedPanel
        result={result}
        site={site}
        doors={doors}
        onAgain={() => {
          setResult(null);
          setName("");
          setPhone("");
          setEmail("");
          setPin({ mode: "generate", length: "6", pin: "" });
        }}
      />
    );

  const submit = onSubmit(() => {
    const terms = draftToTerms(draft, site.timezone);
    if (name.trim() === "") return setError(new Error("Enter the person's name."));
    if (chosen.length > 0 && typeof terms === "string") return setError(new Error(terms));
    const weakness =
      pin.mode === "choose" ? pinWeakness(pin.pin, DEFAULT_PIN_POLICY, phone.trim() || null) : null;
    if (weakness !== null) return setError(new Error(`This PIN ${weakness.reason}.`));
    void run(async () => {
      const person = await api.post<Person>(`/sites/${siteId}/people`, {
        name: name.trim(),
        ...(phone.trim() === "" ? {} : { phone: phone.trim() }),
        ...(email.trim() === "" ? {} : { email: email.trim() }),
      });
      let grant: Grant | null = null;
      let newPin: string | null = null;
      try {
        if (chosen.length > 0 && typeof terms !== "string")
          grant = await api.post<Grant>(`/people/${person.id}/grants`, grantBody(terms, chosen));
        const body = pinBody(pin);
        if (body !== null)
          newPin = (await api.post<IssuedCredential>(`/people/${person.id}/credentials`, body)).pin;
        setResult({ person, grant, pin: newPin, failure: null });
      } catch (e) {
        setResult({ person, grant, pin: newPin, failure: e });
      }
    });
  });

  const fieldError = (f: string) => (error instanceof ApiError && error.field === f ? error.human : null);
  return (
    <div className="stack">
      <PageTitle lead={`At ${site.name}. Everything can be changed later on the person's page.`}>
        Add a person
      </PageTitle>
      <form className="stack" onSubmit={submit} noValidate>
        <section className="card stack">
          <h2>Who</h2>
          <div className="row">
            <TextField
              label="Name"
              value={name}
              onChange={setName}
              maxLength={200}
              required
              autoComplete="off"
              error={fieldError("name")}
            />
            <TextField
              label="Phone (optional)"
              hint="Used to refuse PINs made from their number."
              type="tel"
              inputMode="tel"
              value={phone}
              onChange={setPhone}
              maxLength={32}
              autoComplete="off"
              error={fieldError("phone")}
            />
            <TextField
              label="Email (optional)"
              type="email"
              inputMode="email"
              value={email}
              onChange={setEmail}
              maxLength={254}
              autoComplete="off"
              error={fieldError("email")}
            />
          </div>
        </section>
        <section className="card stack">
          <h2>Access</h2>
          <DoorPicker doors={doors} selected={chosen} onChange={setDoorIds} />
          {chosen.length > 0 ? (
            <ScheduleEditor
              draft={draft}
              onChange={setDraft}
              timeZone={site.timezone}
              doors={doors}
              doorIds={chosen}
            />
          ) : null}
        </section>
        <section className="card stack">
          <h2>Credential</h2>
          <PinChooser choice={pin} onChange={setPin} allowNone error={fieldError("pin")} />
        </section>
        {fieldError("pin") === null ? <ErrorAlert error={error} /> : null}
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? "Saving…" : `Add ${name.trim() === "" ? "person" : name.trim()}`}
          </button>
          <a className="button secondary" href={`#/sites/${siteId}/people`}>
            Cancel
          </a>
        </div>
      </form>
    </div>
  );
}

function AddedPanel({
  result,
  site,
  doors,
  onAgain,
}: {
  result: Result;
  site: Site;
  doors: readonly Door[];
  onAgain: () => void;
}) {
  const { person, grant, pin, failure } = result;
  // Shown once when the person was added; the sentence only needs the current year.
  const [now] = useState(Date.now);
  const doorNames =
    grant === null ? [] : doors.filter((d) => grant.doorIds.includes(d.id)).map((d) => d.name);
  return (
    <div className="stack">
      <PageTitle>{`${person.name} was added`}</PageTitle>
      {grant === null ? null : (
        <Alert kind="success">
          {person.name} may open {doorNames.join(", ")}: {termsSentence(grant, site.timezone, now)}.
        </Alert>
      )}
      {failure === null ? null : (
        <Alert kind="error">
          {person.name} was added, but {grant === null ? "their access" : "their PIN"} could not be saved:{" "}
          {errorText(failure)} Finish on their page.
        </Alert>
      )}
      {pin === null ? null : <PinReveal pin={pin} personName={person.name} />}
      <div className="actions">
        <a className="button primary" href={`#/people/${person.id}`}>
          Done: go to {person.name}'s page
        </a>
        <button type="button" className="button secondary" onClick={onAgain}>
          Add someone else
        </button>
      </div>
    </div>
  );
}
