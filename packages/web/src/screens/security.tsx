/**
 * The account's security: password, authenticator app, passkeys, recovery codes and this session.
 * Every change needs a fresh second factor (the API client asks for it) and signs out every
 * other session of the account.
 */
import { useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { SessionInfo, WithRecovery } from "../api/types.js";
import { Alert, ErrorAlert, PageTitle, TextField, useAction } from "../ui/components.js";
import { NewPasswordField, onSubmit, PasskeyEnrol, RecoveryCodes, TotpEnrol } from "./factors.js";

const SIGNED_OUT_ELSEWHERE = "Every other session of your account was signed out.";

export function SecurityScreen({ session }: { session: SessionInfo }) {
  const [done, setDone] = useState<string | null>(null);
  return (
    <div className="stack">
      <PageTitle
        lead={`Signed in as ${session.account.username}${session.account.isOwner ? ", the owner of this hub" : ""}.`}
      >
        Security
      </PageTitle>
      {done === null ? null : <Alert kind="success">{done}</Alert>}
      <PasswordSection onDone={setDone} username={session.account.username} />
      <TotpSection onDone={setDone} />
      <PasskeySection onDone={setDone} />
      <RecoverySection onDone={setDone} />
      <SessionSection />
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

function PasskeySection({ onDone }: { onDone: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="card stack" aria-labelledby="pk-title">
      <h2 id="pk-title">Passkeys</h2>
      <p>Sign in with your fingerprint, face, screen lock or a security key. You can add several.</p>
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

function RecoverySection({ onDone }: { onDone: (m: string) => void }) {
  const [codes, setCodes] = useState<string[] | null>(null);
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

function SessionSection() {
  return (
    <section className="card stack" aria-labelledby="sess-title">
      <h2 id="sess-title">Sessions</h2>
      <p>
        A session ends after 30 minutes without activity or 12 hours in all. Changing your password or a
        second factor signs out every other device at once. Use <strong>Sign out</strong> at the top to end
        this one.
      </p>
    </section>
  );
}
