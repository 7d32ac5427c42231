/** Small shared pieces: fields with labels and errors, alerts, copy buttons, page headings. */
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { ApiError } from "../api/client.js";

/** The page's main heading; takes focus when the page changes, so screen readers announce it. */
export function PageTitle({ children, lead }: { children: ReactNode; lead?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  useEffect(() => {
    if (typeof children === "string") document.title = `${children} · Latchkey`;
  }, [children]);
  return (
    <div className="page-title">
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
      {lead === undefined ? null : <p className="lead">{lead}</p>}
    </div>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy =
    [hint === undefined ? null : hintId, error ? errorId : null].filter((x) => x !== null).join(" ") ||
    undefined;
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {hint === undefined ? null : (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      )}
      {children({ id, describedBy, invalid: Boolean(error) })}
      {error ? (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      ) : null}
    </div>
  );
}

export function TextField(props: {
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  error?: string | null;
  type?: string;
  autoComplete?: string;
  inputMode?: "numeric" | "text" | "email" | "tel";
  required?: boolean;
  maxLength?: number;
  pattern?: string;
  name?: string;
  placeholder?: string;
  className?: string;
}) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error ?? null}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          name={props.name}
          className={props.className}
          type={props.type ?? "text"}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          autoComplete={props.autoComplete}
          inputMode={props.inputMode}
          required={props.required}
          maxLength={props.maxLength}
          pattern={props.pattern}
          placeholder={props.placeholder}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
      )}
    </Field>
  );
}

export function Alert({
  kind,
  children,
}: {
  kind: "error" | "success" | "info" | "warning";
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (kind === "error") ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [kind, children]);
  return (
    <div ref={ref} className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return <Alert kind="error">{errorText(error)}</Alert>;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.human;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <>
      <button
        type="button"
        className="button secondary small"
        onClick={() => {
          navigator.clipboard.writeText(text).then(
            () => setState("copied"),
            () => setState("failed"),
          );
        }}
      >
        {label}
      </button>
      <span className="copy-status" role="status">
        {state === "copied" ? "Copied" : state === "failed" ? "Could not copy; select the text instead" : ""}
      </span>
    </>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}
    </p>
  );
}

/** Runs an async action with a busy flag and keeps its error for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

export interface Loaded<T> {
  /** The last good answer, kept on screen while a new one loads. */
  readonly data: T | null;
  /** Why the current fetch failed, or null. */
  readonly error: unknown;
  /** Fetch again (after a change this page made). */
  readonly reload: () => void;
}

/**
 * Loads data for a screen; `reload` fetches again. `load` must keep its identity between renders
 * (a module function, or `useCallback` over what it reads): a new `load` fetches again.
 */
export function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  // The error belongs to the fetch that failed: a new loader or a reload hides it at once,
  // while the last good data stays on screen until the new answer comes.
  const [failed, setFailed] = useState<{ load: () => Promise<T>; tick: number; error: unknown } | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => {
        if (live) setData(d);
      },
      (error: unknown) => {
        if (live) setFailed({ load, tick, error });
      },
    );
    return () => {
      live = false;
    };
  }, [load, tick]);
  const error = failed !== null && failed.load === load && failed.tick === tick ? failed.error : null;
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function formatWhen(at: number): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(at);
}
