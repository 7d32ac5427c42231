/**
 * The demo lock panel (demo mode only): for each demo door, its virtual lock's keypad, card
 * reader, fingerprint reader, door sensor, lock button, tamper switch and battery. Each input goes
 * to the lock exactly as its hardware would report it; the lock's own answer ("Granted",
 * "Denied: outside schedule") is shown and announced. Its signed events reach the hub's log.
 */
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { api } from "../api/client.js";
import type { DemoDoor, DemoInput, DemoOutcome, Door, Site } from "../api/types.js";
import { answerWords, boltWords } from "../locks/words.js";
import { ErrorAlert, PageTitle, Spinner, useAction, useLoad } from "../ui/components.js";
import { usePoll } from "../ui/live.js";
import { onSubmit } from "./factors.js";

const TAMPER_KINDS = [
  { value: "escutcheon-removed", label: "Front cover removed" },
  { value: "escutcheon-refitted", label: "Front cover refitted" },
  { value: "forced-rotation", label: "Forced turning of the bolt" },
  { value: "drilling", label: "Drilling" },
] as const;

/** What a hardware input (not an access attempt) did, in words. */
function doneWords(input: DemoInput, r: DemoOutcome): string {
  switch (input.action) {
    case "door":
      return input.open ? "Door opened" : "Door closed";
    case "lock-button":
      return `Lock button pressed: ${boltWords(r.lockState).toLowerCase()}`;
    case "tamper":
      return `Tamper: ${TAMPER_KINDS.find((t) => t.value === input.kind)?.label.toLowerCase() ?? input.kind}`;
    case "battery":
      return `Battery set to ${r.batteryPercent}%`;
    case "keypad":
    case "card":
    case "fingerprint":
      return answerWords(r);
  }
}

export function DemoScreen({ siteId }: { siteId: string }) {
  const context = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        doors: (await api.get<{ items: Door[] }>(`/sites/${siteId}/doors`)).items,
      }),
      [siteId],
    ),
  );
  const demo = usePoll(
    useCallback(() => api.get<{ items: DemoDoor[] }>(`/sites/${siteId}/demo`).then((r) => r.items), [siteId]),
  );
  const c = context.data;
  const doorName = (id: string) => c?.doors.find((d) => d.id === id)?.name ?? "Door";
  const items =
    demo.data === null
      ? null
      : [...demo.data].sort((a, b) => doorName(a.doorId).localeCompare(doorName(b.doorId)));
  return (
    <div className="stack">
      <p className="breadcrumb">
        <a href="#/">Dashboard</a>
      </p>
      <PageTitle
        lead={
          c === null
            ? undefined
            : `Virtual locks at ${c.site.name}. Press their keys and buttons as a visitor would; each lock decides by itself and signs what happened.`
        }
      >
        Demo lock panel
      </PageTitle>
      <ErrorAlert error={context.error ?? (demo.data === null ? demo.error : null)} />
      {items === null || c === null ? (
        demo.error === null && context.error === null ? (
          <Spinner />
        ) : null
      ) : items.length === 0 ? (
        <p>
          This site has no demo locks. Start the hub with <code>latchkey start --demo</code> (what{" "}
          <code>npm start</code> does) to try the demo site.
        </p>
      ) : (
        <div className="demo-grid">
          {items.map((d) => (
            <DemoLock key={d.doorId} demo={d} name={doorName(d.doorId)} onChanged={demo.refresh} />
          ))}
        </div>
      )}
    </div>
  );
}

function DemoLock({ demo, name, onChanged }: { demo: DemoDoor; name: string; onChanged: () => void }) {
  const headingId = useId();
  const [answer, setAnswer] = useState<{ text: string; kind: DemoOutcome["result"]; n: number } | null>(null);
  const { busy, error, run } = useAction();
  const send = (input: DemoInput) =>
    run(async () => {
      const r = await api.post<DemoOutcome>(`/doors/${demo.doorId}/demo`, input);
      const text = r.result === "done" ? doneWords(input, r) : answerWords(r);
      setAnswer((prev) => ({ text, kind: r.result, n: (prev?.n ?? 0) + 1 }));
      onChanged();
    });
  return (
    <section className="card stack demo-lock" aria-labelledby={headingId} data-door={name}>
      <div className="card-head">
        <h2 id={headingId}>{name}</h2>
        <p className="small" data-testid="demo-state">
          <span className={`badge ${demo.connected ? "status-active" : "status-revoked"}`}>
            {demo.connected ? "Connected" : "Not connected"}
          </span>{" "}
          {boltWords(demo.lockState)} · Door {demo.doorOpen ? "open" : "closed"} · Battery{" "}
          {demo.batteryPercent}%
        </p>
      </div>
      <div
        className={`demo-answer${answer === null ? "" : ` answer-${answer.kind}`}`}
        role="status"
        aria-live="polite"
      >
        {answer === null ? (
          <span className="muted">The lock's answer appears here.</span>
        ) : (
          <>
            <span className="visually-hidden">{name} lock answered: </span>
            <strong data-testid="demo-answer" key={answer.n}>
              {answer.text}
            </strong>
          </>
        )}
      </div>
      <ErrorAlert error={error} />
      <Keypad name={name} busy={busy} onEnter={(pin) => void send({ action: "keypad", pin })} />
      <div className="demo-row">
        <CardReader
          name={name}
          busy={busy}
          onTap={(cardNumber) => void send({ action: "card", cardNumber })}
        />
        <FingerReader
          name={name}
          busy={busy}
          onTouch={(templateRef) => void send({ action: "fingerprint", templateRef })}
        />
      </div>
      <Group title="Door and bolt">
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            disabled={busy}
            aria-pressed={demo.doorOpen}
            onClick={() => void send({ action: "door", open: !demo.doorOpen })}
          >
            Door open<span className="visually-hidden"> ({name})</span>
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={busy}
            onClick={() => void send({ action: "lock-button" })}
          >
            Press the lock button<span className="visually-hidden"> ({name})</span>
          </button>
        </div>
      </Group>
      <div className="demo-row">
        <Tamper name={name} busy={busy} onTamper={(kind) => void send({ action: "tamper", kind })} />
        <Battery
          name={name}
          percent={demo.batteryPercent}
          onSet={(percent) => void send({ action: "battery", percent })}
        />
      </div>
    </section>
  );
}

function Group({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="choice demo-group">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

function Keypad({ name, busy, onEnter }: { name: string; busy: boolean; onEnter: (pin: string) => void }) {
  const id = useId();
  const [pin, setPin] = useState("");
  const submit = onSubmit(() => {
    if (pin === "") return;
    onEnter(pin);
    setPin("");
  });
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
  return (
    <form onSubmit={submit} noValidate>
      <Group title="Keypad">
        <div className="field">
          <label htmlFor={`${id}-pin`}>Digits typed at {name}</label>
          <input
            id={`${id}-pin`}
            className="code-input"
            type="text"
            inputMode="numeric"
            autoComplete="off"
            maxLength={12}
            value={pin}
            onChange={(e) => setPin(e.target.value.replace(/\D/g, "").slice(0, 12))}
          />
        </div>
        <div className="keypad" role="group" aria-label={`${name} keypad keys`}>
          {keys.map((k) => (
            <button
              key={k}
              type="button"
              className="button secondary key"
              onClick={() => setPin((p) => (p + k).slice(0, 12))}
            >
              {k}
            </button>
          ))}
          <button
            type="button"
            className="button secondary key"
            aria-label="Clear"
            onClick={() => setPin("")}
          >
            C
          </button>
          <button
            type="button"
            className="button secondary key"
            onClick={() => setPin((p) => (p + "0").slice(0, 12))}
          >
            0
          </button>
          <button
            type="submit"
            className="button primary key"
            disabled={busy || pin === ""}
            aria-label={`Enter at ${name}`}
          >
            ✓
          </button>
        </div>
      </Group>
    </form>
  );
}

function CardReader({ name, busy, onTap }: { name: string; busy: boolean; onTap: (card: string) => void }) {
  const id = useId();
  const [card, setCard] = useState("");
  const [invalid, setInvalid] = useState(false);
  const submit = onSubmit(() => {
    const c = card.trim().replace(/\s/g, "");
    if (!/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$/.test(c)) return setInvalid(true);
    setInvalid(false);
    onTap(c);
  });
  return (
    <form onSubmit={submit} noValidate>
      <Group title="Card reader">
        <div className={`field${invalid ? " field-invalid" : ""}`}>
          <label htmlFor={`${id}-card`}>Card number at {name}</label>
          <div className="hint" id={`${id}-hint`}>
            8, 14 or 20 hexadecimal characters (the card's UID).
          </div>
          <input
            id={`${id}-card`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            maxLength={24}
            value={card}
            onChange={(e) => setCard(e.target.value)}
            aria-describedby={`${id}-hint${invalid ? ` ${id}-error` : ""}`}
            aria-invalid={invalid || undefined}
          />
          {invalid ? (
            <div className="field-error" id={`${id}-error`}>
              A card number is 8, 14 or 20 characters of 0–9 and A–F.
            </div>
          ) : null}
        </div>
        <button type="submit" className="button secondary" disabled={busy}>
          Tap card<span className="visually-hidden"> at {name}</span>
        </button>
      </Group>
    </form>
  );
}

function FingerReader({
  name,
  busy,
  onTouch,
}: {
  name: string;
  busy: boolean;
  onTouch: (templateRef: number | null) => void;
}) {
  const id = useId();
  const [ref, setRef] = useState("");
  const submit = onSubmit(() => {
    const n = Number(ref);
    onTouch(ref.trim() === "" || !Number.isInteger(n) || n < 1 || n > 65535 ? null : n);
  });
  return (
    <form onSubmit={submit} noValidate>
      <Group title="Fingerprint reader">
        <div className="field">
          <label htmlFor={`${id}-finger`}>Enrolled finger number at {name}</label>
          <div className="hint" id={`${id}-hint`}>
            The template number the lock gave the finger at enrolment; leave empty for a finger it does not
            know.
          </div>
          <input
            id={`${id}-finger`}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            maxLength={5}
            value={ref}
            onChange={(e) => setRef(e.target.value.replace(/\D/g, ""))}
            aria-describedby={`${id}-hint`}
          />
        </div>
        <button type="submit" className="button secondary" disabled={busy}>
          Touch the reader<span className="visually-hidden"> at {name}</span>
        </button>
      </Group>
    </form>
  );
}

function Tamper({
  name,
  busy,
  onTamper,
}: {
  name: string;
  busy: boolean;
  onTamper: (kind: (typeof TAMPER_KINDS)[number]["value"]) => void;
}) {
  const id = useId();
  const [kind, setKind] = useState<(typeof TAMPER_KINDS)[number]["value"]>("escutcheon-removed");
  return (
    <Group title="Tamper switch">
      <div className="field">
        <label htmlFor={`${id}-tamper`}>What happens at {name}</label>
        <select
          id={`${id}-tamper`}
          value={kind}
          onChange={(e) => setKind(e.target.value as (typeof TAMPER_KINDS)[number]["value"])}
        >
          {TAMPER_KINDS.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      </div>
      <button type="button" className="button danger-outline" disabled={busy} onClick={() => onTamper(kind)}>
        Trigger tamper<span className="visually-hidden"> at {name}</span>
      </button>
    </Group>
  );
}

/** The battery slider: the lock hears the new level once the slider rests for a moment. */
function Battery({ name, percent, onSet }: { name: string; percent: number; onSet: (p: number) => void }) {
  const id = useId();
  const [value, setValue] = useState<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const sent = useRef(false);
  useEffect(() => () => clearTimeout(timer.current), []);
  useEffect(() => {
    // The lock's own report replaces the slider's value once the level was sent.
    if (sent.current) {
      sent.current = false;
      setValue(null);
    }
  }, [percent]);
  const shown = value ?? percent;
  return (
    <Group title="Battery">
      <div className="field">
        <label htmlFor={`${id}-battery`}>Battery level at {name}</label>
        <input
          id={`${id}-battery`}
          type="range"
          min={0}
          max={100}
          step={1}
          value={shown}
          aria-valuetext={`${shown}%`}
          onChange={(e) => {
            const p = Number(e.target.value);
            setValue(p);
            sent.current = false;
            clearTimeout(timer.current);
            timer.current = setTimeout(() => {
              sent.current = true;
              onSet(p);
            }, 400);
          }}
        />
        <output htmlFor={`${id}-battery`}>{shown}%</output>
      </div>
    </Group>
  );
}
