/**
 * Second factors: proving one (sign-in and step-up), enrolling an authenticator app or a passkey,
 * saving recovery codes, and choosing a new password with length guidance.
 */
import { useEffect, useEffectEvent, useId, useState, type FormEvent } from "react";
import { api, ApiError } from "../api/client.js";
import type { SessionInfo, TotpEnrolment, WithRecovery } from "../api/types.js";
import { createPasskey, passkeyProblem, passkeysSupported, signWithPasskey } from "../api/webauthn.js";
import { Alert, CopyButton, ErrorAlert, Field, TextField, useAction } from "../ui/components.js";
import { QrCode } from "../ui/QrCode.js";

const PASSWORD_MIN = 8;
const PASSWORD_GOOD = 15;
const PASSWORD_MAX = 128;

/** A new password with live length guidance (ASVS: 8 minimum, 15+ encouraged, no composition rules). */
export function NewPasswordField({
  label,
  value,
  onChange,
  username,
  error,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  username?: string;
  error?: string | null;
}) {
  const [shown, setShown] = useState(false);
  const length = [...value].length;
  const level =
    length === 0 ? "none" : length < PASSWORD_MIN ? "short" : length < PASSWORD_GOOD ? "ok" : "good";
  const meterText = {
    none: "",
    short: `${length} characters: too short, at least ${PASSWORD_MIN} are needed.`,
    ok: `${length} characters: acceptable. ${PASSWORD_GOOD} or more is much stronger.`,
    good: `${length} characters: a good length.`,
  }[level];
  const sameAsName = username !== undefined && value !== "" && value.toLowerCase() === username.toLowerCase();
  return (
    <Field
      label={label}
      hint={
        <>
          At least {PASSWORD_MIN} characters; {PASSWORD_GOOD} or more recommended. Any characters, spaces
          included, and no rules about digits or symbols: a passphrase of a few unrelated words works well.
          The hub refuses the 100,000 most common passwords.
        </>
      }
      error={error ?? (sameAsName ? "The password must not be your user name." : null)}
    >
      {({ id, describedBy, invalid }) => (
        <>
          <div className="input-with-button">
            <input
              id={id}
              type={shown ? "text" : "password"}
              value={value}
              onChange={(e) => onChange(e.target.value)}
              autoComplete="new-password"
              required
              minLength={PASSWORD_MIN}
              maxLength={PASSWORD_MAX}
              aria-describedby={`${describedBy ?? ""} ${id}-meter`.trim()}
              aria-invalid={invalid || undefined}
            />
            <button
              type="button"
              className="button secondary small"
              aria-pressed={shown}
              onClick={() => setShown(!shown)}
            >
              {shown ? "Hide" : "Show"}
            </button>
          </div>
          <div className={`meter meter-${level}`} aria-hidden="true">
            <span />
          </div>
          <div className="hint" id={`${id}-meter`} aria-live="polite">
            {meterText}
          </div>
        </>
      )}
    </Field>
  );
}

/** Try to get passkey options: null when the account has no passkey (the hub says so). */
async function passkeyOptions(): Promise<unknown> {
  if (!passkeysSupported()) return null;
  try {
    return await api.post<unknown>("/auth/passkey-options", undefined, { noStepUp: true });
  } catch (e) {
    if (e instanceof ApiError && e.code === "AUTH_FACTOR_STATE") return null;
    throw e;
  }
}

/** Proves a second factor: finishes sign-in (stage mfa) or refreshes step-up (stage full). */
export function SecondFactorForm({
  onDone,
  onCancel,
  submitLabel,
}: {
  onDone: (session: SessionInfo) => void;
  onCancel?: () => void;
  submitLabel: string;
}) {
  const [mode, setMode] = useState<"totp" | "recovery">("totp");
  const [code, setCode] = useState("");
  const [hasPasskey, setHasPasskey] = useState<boolean | null>(null);
  const { busy, error, setError, run } = useAction();

  useEffect(() => {
    let live = true;
    passkeyOptions().then(
      (o) => {
        if (live) setHasPasskey(o !== null);
      },
      () => {
        if (live) setHasPasskey(false);
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const clean = mode === "totp" ? code.replace(/\s/g, "") : code.trim();
      const s = await api.post<SessionInfo>(
        "/auth/second-factor",
        { method: mode, code: clean },
        { noStepUp: true },
      );
      onDone(s);
    });
  };

  const withPasskey = () =>
    void run(async () => {
      // A fresh challenge for every attempt: the hub accepts each one once.
      const options = await passkeyOptions();
      if (options === null) throw new Error("This account has no passkey. Use your authenticator app.");
      let response;
      try {
        response = await signWithPasskey(options);
      } catch (e) {
        throw new Error(passkeyProblem(e));
      }
      const s = await api.post<SessionInfo>(
        "/auth/second-factor",
        { method: "passkey", response },
        { noStepUp: true },
      );
      onDone(s);
    });

  return (
    <div className="stack">
      {hasPasskey === true ? (
        <div className="stack">
          <button type="button" className="button primary" onClick={withPasskey} disabled={busy}>
            Use your passkey
          </button>
          <p className="or">or enter a code</p>
        </div>
      ) : null}
      <form onSubmit={submit} className="stack" noValidate>
        {mode === "totp" ? (
          <TextField
            label="6-digit code from your authenticator app"
            value={code}
            onChange={(v) => {
              setCode(v);
              setError(null);
            }}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={7}
            className="code-input"
            required
          />
        ) : (
          <TextField
            label="One of your recovery codes"
            hint="Each recovery code works once. Afterwards, make new ones in Security."
            value={code}
            onChange={(v) => {
              setCode(v);
              setError(null);
            }}
            autoComplete="off"
            maxLength={40}
            className="code-input"
            required
          />
        )}
        <ErrorAlert error={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || code.trim() === ""}>
            {busy ? "Checking…" : submitLabel}
          </button>
          {onCancel === undefined ? null : (
            <button type="button" className="button secondary" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setMode(mode === "totp" ? "recovery" : "totp");
            setCode("");
            setError(null);
          }}
        >
          {mode === "totp"
            ? "Lost your phone? Use a recovery code"
            : "Use a code from your authenticator app"}
        </button>
      </form>
    </div>
  );
}

/** Recovery codes, shown once: copy or download, and confirm before going on. */
export function RecoveryCodes({ codes, onConfirmed }: { codes: readonly string[]; onConfirmed: () => void }) {
  const [saved, setSaved] = useState(false);
  const checkId = useId();
  const text = `Latchkey recovery codes (each works once)\n\n${codes.join("\n")}\n`;
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "latchkey-recovery-codes.txt";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="card stack" aria-labelledby={`${checkId}-title`}>
      <h2 id={`${checkId}-title`}>Save your recovery codes</h2>
      <p>
        If you lose your phone or passkey, each of these codes lets you sign in once. Keep them somewhere safe
        and separate from this device, such as a password manager or a printed sheet.
      </p>
      <Alert kind="warning">You will not see these codes again.</Alert>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="actions">
        <CopyButton text={text} label="Copy all codes" />
        <button type="button" className="button secondary small" onClick={download}>
          Download as a text file
        </button>
      </div>
      <div className="checkbox">
        <input id={checkId} type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor={checkId}>I have saved these recovery codes somewhere safe</label>
      </div>
      <div className="actions">
        <button type="button" className="button primary" disabled={!saved} onClick={onConfirmed}>
          Continue
        </button>
      </div>
    </section>
  );
}

function groupSecret(secret: string): string {
  return secret.replace(/(.{4})/g, "$1 ").trim();
}

/** Authenticator app enrolment: QR code or manual secret, then one code to prove it works. */
export function TotpEnrol({
  onEnrolled,
  onCancel,
}: {
  onEnrolled: (r: WithRecovery) => void;
  onCancel?: () => void;
}) {
  const [begun, setBegun] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState("");
  const start = useAction();
  const confirm = useAction();

  const begin = useEffectEvent(() => {
    void start.run(async () => {
      setBegun(await api.post<TotpEnrolment>("/account/totp/begin"));
    });
  });
  // Begin once when shown; the hub keeps one pending secret per account.
  useEffect(() => begin(), []);

  if (begun === null)
    return start.error === null ? <p role="status">Preparing…</p> : <ErrorAlert error={start.error} />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void confirm.run(async () => {
      onEnrolled(await api.post<WithRecovery>("/account/totp/confirm", { code: code.replace(/\s/g, "") }));
    });
  };
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <ol className="steps">
        <li>
          Open an authenticator app on your phone (for example Aegis, 2FAS, Google Authenticator or
          1Password).
        </li>
        <li>Scan this QR code, or type the secret below.</li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      <div className="totp-setup">
        <QrCode text={begun.uri} label="QR code for your authenticator app" />
        <div className="stack">
          <div>
            <div className="label-like" id="totp-secret-label">
              Secret for manual entry
            </div>
            <code className="secret" aria-labelledby="totp-secret-label" data-secret={begun.secret}>
              {groupSecret(begun.secret)}
            </code>
            <div className="actions">
              <CopyButton text={begun.secret} label="Copy secret" />
            </div>
          </div>
          <details>
            <summary>Show the full setup link</summary>
            <code className="uri">{begun.uri}</code>
          </details>
          <p className="hint">
            Type: time-based, 6 digits, every 30 seconds (SHA-1). Treat the secret like a password.
          </p>
        </div>
      </div>
      <TextField
        label="6-digit code from the app"
        value={code}
        onChange={setCode}
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={7}
        className="code-input"
        required
      />
      <ErrorAlert error={confirm.error} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={confirm.busy || code.trim() === ""}>
          {confirm.busy ? "Checking…" : "Confirm and turn on"}
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

/** Registers a passkey on this device (or a security key / phone). */
export function PasskeyEnrol({
  onEnrolled,
  onCancel,
}: {
  onEnrolled: (r: WithRecovery) => void;
  onCancel?: () => void;
}) {
  const { busy, error, run } = useAction();
  const go = () =>
    void run(async () => {
      const options = await api.post<unknown>("/account/passkeys/options");
      let response;
      try {
        response = await createPasskey(options);
      } catch (e) {
        throw new Error(passkeyProblem(e));
      }
      onEnrolled(await api.post<WithRecovery>("/account/passkeys", { response }));
    });
  if (!passkeysSupported())
    return <Alert kind="info">This browser does not support passkeys. Use an authenticator app.</Alert>;
  return (
    <div className="stack">
      <p>
        A passkey lives on this device, your phone or a security key, and is unlocked with your fingerprint,
        face or screen lock. It cannot be phished or reused on another site.
      </p>
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="button" className="button primary" onClick={go} disabled={busy}>
          {busy ? "Waiting for your passkey…" : "Create a passkey"}
        </button>
        {onCancel === undefined ? null : (
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}

/** The forced first enrolment after setup or an invitation: a factor, then recovery codes. */
export function EnrolScreen({ username, onComplete }: { username: string; onComplete: () => void }) {
  const [method, setMethod] = useState<"totp" | "passkey" | null>(null);
  const [codes, setCodes] = useState<readonly string[] | null>(null);
  const enrolled = (r: WithRecovery) => {
    if (r.recoveryCodes !== null) setCodes(r.recoveryCodes);
    else onComplete();
  };
  return (
    <div className="narrow stack">
      <h1 tabIndex={-1}>{codes === null ? "Protect your account" : "Almost done"}</h1>
      {codes !== null ? (
        <RecoveryCodes codes={codes} onConfirmed={onComplete} />
      ) : (
        <section className="card stack">
          <p>
            Signed in as <strong>{username}</strong>. Before anything else, add a second factor, so that a
            stolen password alone cannot open your doors.
          </p>
          <fieldset className="choice">
            <legend>Choose how you will confirm it is you</legend>
            <div className="radio">
              <input
                type="radio"
                id="enrol-totp"
                name="enrol"
                checked={method === "totp"}
                onChange={() => setMethod("totp")}
              />
              <label htmlFor="enrol-totp">
                <strong>Authenticator app</strong> <span className="muted">6-digit codes on your phone</span>
              </label>
            </div>
            <div className="radio">
              <input
                type="radio"
                id="enrol-passkey"
                name="enrol"
                checked={method === "passkey"}
                onChange={() => setMethod("passkey")}
              />
              <label htmlFor="enrol-passkey">
                <strong>Passkey</strong> <span className="muted">fingerprint, face or security key</span>
              </label>
            </div>
          </fieldset>
          {method === "totp" ? <TotpEnrol key="totp" onEnrolled={enrolled} /> : null}
          {method === "passkey" ? <PasskeyEnrol key="passkey" onEnrolled={enrolled} /> : null}
        </section>
      )}
    </div>
  );
}

/** Wraps a form submit handler that must not reload the page. */
export function onSubmit(handler: () => void) {
  return (e: FormEvent) => {
    e.preventDefault();
    handler();
  };
}
