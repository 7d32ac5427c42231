/**
 * Pieces shared by the add-person and person screens: door choice, PIN choice, the PIN shown
 * once, and the guest link (shown once) that hands a PIN over without reading it out.
 */
import { useId, useRef, useState } from "react";
import { DEFAULT_PIN_POLICY, pinLengthChoices } from "@latchkey/protocol";
import type { Door } from "../api/types.js";
import { Alert } from "../ui/components.js";

export function DoorPicker({
  doors,
  selected,
  onChange,
  legend = "Which doors?",
}: {
  doors: readonly Door[];
  selected: readonly string[];
  onChange: (ids: string[]) => void;
  legend?: string;
}) {
  const id = useId();
  if (doors.length === 0)
    return (
      <Alert kind="info">
        This site has no doors yet. <a href="#/sites">Add a door</a> to give access.
      </Alert>
    );
  return (
    <fieldset className="choice">
      <legend>{legend}</legend>
      {doors.map((d) => (
        <div className="checkbox" key={d.id}>
          <input
            type="checkbox"
            id={`${id}-${d.id}`}
            checked={selected.includes(d.id)}
            onChange={(e) =>
              onChange(e.target.checked ? [...selected, d.id] : selected.filter((x) => x !== d.id))
            }
          />
          <label htmlFor={`${id}-${d.id}`}>{d.name}</label>
        </div>
      ))}
    </fieldset>
  );
}

export interface PinChoice {
  readonly mode: "generate" | "choose" | "none";
  readonly length: string;
  readonly pin: string;
}

export function pinBody(choice: PinChoice): Record<string, unknown> | null {
  if (choice.mode === "none") return null;
  if (choice.mode === "choose") return { kind: "pin", pin: choice.pin.trim() };
  return { kind: "pin", length: Number(choice.length) };
}

export function PinChooser({
  choice,
  onChange,
  allowNone,
  error,
}: {
  choice: PinChoice;
  onChange: (c: PinChoice) => void;
  allowNone: boolean;
  error?: string | null;
}) {
  const id = useId();
  const set = (patch: Partial<PinChoice>) => onChange({ ...choice, ...patch });
  return (
    <fieldset className="choice">
      <legend>Keypad PIN</legend>
      <div className="radio">
        <input
          type="radio"
          id={`${id}-gen`}
          checked={choice.mode === "generate"}
          onChange={() => set({ mode: "generate" })}
        />
        <label htmlFor={`${id}-gen`}>Make a random PIN (recommended)</label>
      </div>
      {choice.mode === "generate" ? (
        <div className="sentence-row indent">
          <label htmlFor={`${id}-len`}>Length</label>
          <select id={`${id}-len`} value={choice.length} onChange={(e) => set({ length: e.target.value })}>
            {pinLengthChoices(DEFAULT_PIN_POLICY).map((n) => (
              <option key={n} value={String(n)}>
                {n} digits
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="radio">
        <input
          type="radio"
          id={`${id}-choose`}
          checked={choice.mode === "choose"}
          onChange={() => set({ mode: "choose" })}
        />
        <label htmlFor={`${id}-choose`}>Choose the PIN</label>
      </div>
      {choice.mode === "choose" ? (
        <div className="indent field">
          <label htmlFor={`${id}-pin`}>
            PIN ({DEFAULT_PIN_POLICY.minLength} to {DEFAULT_PIN_POLICY.maxLength} digits)
          </label>
          <div className="hint" id={`${id}-pin-hint`}>
            Easy guesses are refused: repeated digits, runs like 1234, keypad lines, common PINs and digits
            from the person's phone number.
          </div>
          <input
            id={`${id}-pin`}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            maxLength={DEFAULT_PIN_POLICY.maxLength}
            className="code-input"
            value={choice.pin}
            onChange={(e) => set({ pin: e.target.value.replace(/\D/g, "") })}
            aria-describedby={`${id}-pin-hint${error ? ` ${id}-pin-error` : ""}`}
            aria-invalid={error ? true : undefined}
          />
          {error ? (
            <div className="field-error" id={`${id}-pin-error`}>
              {error}
            </div>
          ) : null}
        </div>
      ) : null}
      {allowNone ? (
        <div className="radio">
          <input
            type="radio"
            id={`${id}-none`}
            checked={choice.mode === "none"}
            onChange={() => set({ mode: "none" })}
          />
          <label htmlFor={`${id}-none`}>No PIN now (add a card, fingerprint or phone key later)</label>
        </div>
      ) : null}
    </fieldset>
  );
}

/** A new PIN, shown exactly once. */
export function PinReveal({ pin, personName }: { pin: string; personName: string }) {
  return (
    <section className="pin-reveal stack" aria-label="New PIN">
      <div className="label-like">PIN for {personName}</div>
      <CopyableText text={pin} label="Copy PIN" className="pin" testId="new-pin" />
      <Alert kind="warning">
        <strong>You will not see this PIN again.</strong> Give it to {personName} now. The hub keeps no copy
        it could read, only copies sealed to each door's lock, so nobody, not even the hub, can show it later.
        If it is lost, revoke it and make a new one.
      </Alert>
    </section>
  );
}

/**
 * A secret shown once with a Copy button. The clipboard API needs a secure context (https or
 * localhost); elsewhere, or when it is refused, the text is selected so the person can copy it.
 */
export function CopyableText({
  text,
  label,
  className,
  testId,
}: {
  text: string;
  label: string;
  className: string;
  testId?: string;
}) {
  const ref = useRef<HTMLOutputElement>(null);
  const [state, setState] = useState<"idle" | "copied" | "selected">("idle");
  const selectAll = () => {
    const el = ref.current;
    const selection = window.getSelection();
    if (el === null || selection === null) return;
    selection.selectAllChildren(el);
    // Older browsers can still copy a selection without the clipboard API.
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    setState(copied ? "copied" : "selected");
  };
  const copy = () => {
    const clipboard = window.isSecureContext ? navigator.clipboard : undefined;
    if (clipboard === undefined) {
      selectAll();
      return;
    }
    clipboard.writeText(text).then(() => setState("copied"), selectAll);
  };
  return (
    <>
      <output ref={ref} className={className} data-testid={testId}>
        {text}
      </output>
      <div className="actions">
        <button type="button" className="button secondary small" onClick={copy}>
          {label}
        </button>
        <span className="copy-status" role="status">
          {state === "copied"
            ? "Copied"
            : state === "selected"
              ? "Selected: copy it with your device's Copy command"
              : ""}
        </span>
      </div>
    </>
  );
}

export type PinDelivery = "show" | "link";

/** How a new generated PIN reaches its person: shown here, or as a one-time guest link. */
export function DeliveryChooser({
  delivery,
  onChange,
  expiresInDays,
  onExpiryChange,
}: {
  delivery: PinDelivery;
  onChange: (d: PinDelivery) => void;
  expiresInDays: string;
  onExpiryChange: (days: string) => void;
}) {
  const id = useId();
  return (
    <fieldset className="choice">
      <legend>Hand the PIN over</legend>
      <div className="radio">
        <input
          type="radio"
          id={`${id}-show`}
          checked={delivery === "show"}
          onChange={() => onChange("show")}
        />
        <label htmlFor={`${id}-show`}>Show PIN now (you read or copy it once)</label>
      </div>
      <div className="radio">
        <input
          type="radio"
          id={`${id}-link`}
          checked={delivery === "link"}
          onChange={() => onChange("link")}
        />
        <label htmlFor={`${id}-link`}>Send a guest link (they open it once, in any browser, no app)</label>
      </div>
      {delivery === "link" ? (
        <div className="sentence-row indent">
          <label htmlFor={`${id}-days`}>Link works for</label>
          <select id={`${id}-days`} value={expiresInDays} onChange={(e) => onExpiryChange(e.target.value)}>
            {[1, 2, 3, 7, 14, 30].map((n) => (
              <option key={n} value={String(n)}>
                {n} day{n === 1 ? "" : "s"}
              </option>
            ))}
          </select>
        </div>
      ) : null}
    </fieldset>
  );
}

/** A new guest link, shown exactly once. */
export function GuestLinkReveal({
  url,
  expiresAt,
  personName,
}: {
  url: string;
  expiresAt: number;
  personName: string;
}) {
  const until = new Date(expiresAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return (
    <section className="pin-reveal stack" aria-label="New guest link">
      <div className="label-like">Guest link for {personName}</div>
      <CopyableText text={url} label="Copy link" className="uri" testId="new-guest-link" />
      <Alert kind="warning">
        <strong>You will not see this link again.</strong> Send it to {personName} by message or email. It
        shows their PIN, the doors and when, once, until {until}. Nobody, not even the hub, can read the PIN
        without the link. If it is lost, revoke the PIN and make a new one.
      </Alert>
    </section>
  );
}
