/**
 * The account's security: password, authenticator app, passkeys, recovery codes and sessions.
 * Every change needs a fresh second factor (the API client asks for it) and signs out every
 * other session of the account. The sessions list shows every device signed in to the account
 * (this one marked) and signs any other one out.
 */
import { useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { SessionInfo, WithRecovery } from "../api/types.js";
import {
  describeTransports,
  endOtherSessions,
  endSession,
  LAST_SECOND_FACTOR_TEXT,
  listPasskeys,
  listSessions,
  removePasskey,
  type AccountPasskey,
  type AccountSession,
} from "../api/account-devices.js";
import {
  Alert,
  ErrorAlert,
  errorText,
  formatWhen,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
  type Loaded,
} from "../ui/components.js";
import { NewPasswordField, onSubmit, PasskeyEnrol, RecoveryCodes, TotpEnrol } from "./factors.js";

const SIGNED_OUT_ELSEWHERE = "Every other session of your account was signed out.";

export function SecurityScreen({ session }: { session: SessionInfo }) {
  const [done, setDone] = useState<string | null>(null);
  const passkeys = useLoad(listPasskeys);
  const sessions = useLoad(listSessions);
  // Every change may end sessions or change passkeys, so both lists reload.
  const changed = (message: string) => {
    setDone(message);
    passkeys.reload();
    sessions.reload();
  };
  return (
    <div className="stack">
      <PageTitle
        lead={`Signed in as ${session.account.username}${session.account.isOwner ? ", the owner of this hub" : ""}.`}
      >
        Security
      </PageTitle>
      {done === null ? null : <Alert kind="success">{done}</Alert>}
      <PasswordSection onDone={changed} username={session.account.username} />
      <TotpSection onDone={changed} />
      <PasskeySection onDone={changed} passkeys={passkeys} />
      <RecoverySection onDone={changed} />
      <SessionSection onDone={changed} sessions={sessions} />
    </div>
  );
}

function PasswordSection({ onDone, username }: { onDone: (m: string) => void; username: string }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const { busy, error, run } = useAction();
  const submit = onSubmit(
    () =>
      void run(async () => {
        await api.post<WithRecovery>("/account/password", { currentPassword: current, newPassword: next });
        setCurrent("");
        setNext("");
        onDone(`Password changed. ${SIGNED_OUT_ELSEWHERE}`);
      }),
  );
  const policy = error instanceof ApiError && error.code === "AUTH_PASSWORD_POLICY" ? error.human : null;
  return (
    <section className="card stack" aria-labelledby="pw-title">
      <h2 id="pw-title">Password</h2>
      <form className="stack form-narrow" onSubmit={submit} noValidate>
        <TextField
          label="Current password"
          type="password"
          value={current}
          onChange={setCurrent}
          autoComplete="current-password"
        />
        <NewPasswordField
          label="New password"
          value={next}
          onChange={setNext}
          username={username}
          error={policy}
        />
        {policy === null ? <ErrorAlert error={error} /> : null}
        <div className="actions">
          <button
            type="submit"
            className="button primary"
            disabled={busy || current === "" || [...next].length < 8}
          >
            {busy ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </section>
  );
}

function TotpSection({ onDone }: { onDone: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="card stack" aria-labelledby="totp-title">
      <h2 id="totp-title">Authenticator app</h2>
      <p>Six-digit codes from an app on your phone. Setting up a new app replaces the previous one.</p>
      {open ? (
        <TotpEnrol
          onEnrolled={() => {
            setOpen(false);
            onDone(
              `Your new authenticator app is on; the previous one no longer works. ${SIGNED_OUT_ELSEWHERE}`,
            );
          }}
          onCancel={() => setOpen(false)}
        />
      ) : (
        <div className="actions">
          <button type="button" className="button secondary" onClick={() => setOpen(true)}>
            Set up an authenticator app
          </button>
        </div>
      )}
    </section>
  );
}

function PasskeySection({
  onDone,
  passkeys,
}: {
  onDone: (m: string) => void;
  passkeys: Loaded<readonly AccountPasskey[]>;
}) {
  const [open, setOpen] = useState(false);
  return (
    <section className="card stack" aria-labelledby="pk-title">
      <h2 id="pk-title">Passkeys</h2>
      <p>Sign in with your fingerprint, face, screen lock or a security key. You can add several.</p>
      {passkeys.error !== null ? (
        <ErrorAlert error={passkeys.error} />
      ) : passkeys.data === null ? (
        <Spinner label="Loading passkeys…" />
      ) : passkeys.data.length === 0 ? (
        <p className="muted">No passkeys yet.</p>
      ) : (
        <ul className="list" aria-label="Your passkeys">
          {passkeys.data.map((p, i) => (
            <PasskeyRow
              key={p.id}
              passkey={p}
              number={i + 1}
              onRemoved={() => onDone(`Passkey removed; it no longer signs in. ${SIGNED_OUT_ELSEWHERE}`)}
            />
          ))}
        </ul>
      )}
      {open ? (
        <PasskeyEnrol
          onEnrolled={() => {
            setOpen(false);
            onDone(`Passkey added. ${SIGNED_OUT_ELSEWHERE}`);
          }}
          onCancel={() => setOpen(false)}
        />
      ) : (
        <div className="actions">
          <button type="button" className="button secondary" onClick={() => setOpen(true)}>
            Add a passkey
          </button>
        </div>
      )}
    </section>
  );
}

function PasskeyRow({
  passkey,
  number,
  onRemoved,
}: {
  passkey: AccountPasskey;
  number: number;
  onRemoved: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const askRef = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // Keyboard users stay in place: focus moves to "Remove …" when asked, and back when kept.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (asked.current) askRef.current?.focus();
    asked.current = confirming;
  }, [confirming]);
  const name = `Passkey ${number}`;
  const how = describeTransports(passkey.transports);
  const refusal =
    error instanceof ApiError && error.code === "AUTH_LAST_SECOND_FACTOR" ? LAST_SECOND_FACTOR_TEXT : null;
  return (
    <li className="list-row" data-passkey={passkey.id}>
      <div className="list-main">
        <strong>{name}</strong>
        <span className="muted small">
          Added {formatWhen(passkey.createdAt)}
          {how === "" ? "" : ` · ${how}`} · ends in …{passkey.id.slice(-6)}
        </span>
        {refusal !== null ? <Alert kind="error">{refusal}</Alert> : <ErrorAlert error={error} />}
      </div>
      <div className="actions">
        {confirming ? (
          <>
            <button
              ref={confirmRef}
              type="button"
              className="button danger small"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await removePasskey(passkey.id);
                  setConfirming(false);
                  onRemoved();
                })
              }
            >
              {busy ? "Removing…" : `Remove ${name}`}
            </button>
            <button type="button" className="button secondary small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            ref={askRef}
            type="button"
            className="button secondary small"
            aria-label={`Remove ${name}…`}
            onClick={() => setConfirming(true)}
          >
            Remove…
          </button>
        )}
      </div>
    </li>
  );
}

function RecoverySection({ onDone }: { onDone: (m: string) => void }) {
  const [codes, setCodes] = useState<readonly string[] | null>(null);
  const { busy, error, run } = useAction();
  return (
    <section className="card stack" aria-labelledby="rc-title">
      <h2 id="rc-title">Recovery codes</h2>
      {codes !== null ? (
        <RecoveryCodes
          codes={codes}
          onConfirmed={() => {
            setCodes(null);
            onDone(`New recovery codes saved; the old ones no longer work. ${SIGNED_OUT_ELSEWHERE}`);
          }}
        />
      ) : (
        <>
          <p>
            Ten single-use codes for when your phone or passkey is not at hand. Making new ones voids the old
            ones.
          </p>
          <ErrorAlert error={error} />
          <div className="actions">
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  const r = await api.post<WithRecovery>("/account/recovery-codes");
                  setCodes(r.recoveryCodes ?? []);
                })
              }
            >
              Make new recovery codes
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function stageText(stage: AccountSession["stage"]): string | null {
  switch (stage) {
    case "full":
      return null;
    case "mfa":
      return "Password given, second factor not confirmed";
    case "enrol":
      return "Setting up a second factor";
  }
}

function SessionSection({
  onDone,
  sessions,
}: {
  onDone: (m: string) => void;
  sessions: Loaded<readonly AccountSession[]>;
}) {
  const reload = sessions.reload;
  const others = sessions.data?.filter((s) => !s.current) ?? [];
  const { busy, error, run } = useAction();
  return (
    <section className="card stack" aria-labelledby="sess-title">
      <h2 id="sess-title">Sessions</h2>
      <p>
        Every browser and device signed in to your account. A session ends after 30 minutes without activity
        or 12 hours in all. If you do not recognise one, sign it out and change your password. Use{" "}
        <strong>Sign out</strong> at the top to end this one.
      </p>
      {sessions.error !== null ? (
        <ErrorAlert error={sessions.error} />
      ) : sessions.data === null ? (
        <Spinner label="Loading sessions…" />
      ) : (
        <ul className="list" aria-label="Your sessions">
          {sessions.data.map((s) => (
            <SessionRow
              key={s.id}
              session={s}
              onEnded={() => {
                onDone("That session was signed out.");
                reload();
              }}
            />
          ))}
        </ul>
      )}
      <ErrorAlert error={error} />
      {sessions.data === null ? null : others.length === 0 ? (
        <p className="muted small">No other device is signed in to your account.</p>
      ) : (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const r = await endOtherSessions();
                onDone(
                  r.ended === 1
                    ? "1 other session was signed out."
                    : `${r.ended} other sessions were signed out.`,
                );
                reload();
              })
            }
          >
            {busy ? "Signing out…" : "Sign out everywhere else"}
          </button>
        </div>
      )}
    </section>
  );
}

function SessionRow({ session, onEnded }: { session: AccountSession; onEnded: () => void }) {
  const { busy, error, run } = useAction();
  const label = `another device, signed in ${formatWhen(session.createdAt)}`;
  const stage = stageText(session.stage);
  return (
    <li className="list-row" data-session={session.id}>
      <div className="list-main">
        <strong>
          {session.current ? "This device" : "Another device"}
          {session.current ? (
            <>
              {" "}
              <span className="badge status-active">Current</span>
            </>
          ) : null}
        </strong>
        <span className="muted small">
          Signed in {formatWhen(session.createdAt)} · last active {formatWhen(session.lastSeenAt)}
        </span>
        {stage === null ? null : <span className="small">{stage}</span>}
        {error === null ? null : <Alert kind="error">{errorText(error)}</Alert>}
      </div>
      {session.current ? null : (
        <div className="actions">
          <button
            type="button"
            className="button secondary small"
            disabled={busy}
            aria-label={`Sign out: ${label}`}
            onClick={() =>
              void run(async () => {
                await endSession(session.id);
                onEnded();
              })
            }
          >
            {busy ? "Signing out…" : "Sign out"}
          </button>
        </div>
      )}
    </li>
  );
}
