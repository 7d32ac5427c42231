/** First run (the owner), accepting an invitation, and signing in. */
import { useState } from "react";
import { api, ApiError } from "../api/client.js";
import type { SessionInfo, SetupState } from "../api/types.js";
import { Alert, ErrorAlert, PageTitle, TextField, useAction, useLoad } from "../ui/components.js";
import { NewPasswordField, onSubmit, SecondFactorForm } from "./factors.js";

function passwordError(error: unknown): string | null {
  return error instanceof ApiError && (error.code === "AUTH_PASSWORD_POLICY" || error.field === "password")
    ? error.human
    : null;
}

/** Whether the hub still waits for its owner (a probe: no session needed). */
const loadSetup = () => api.get<SetupState>("/setup", { probe: true });

/** `/setup#token`: create the owner account. A second factor follows at once. */
export function SetupScreen({ token, onCreated }: { token: string; onCreated: (s: SessionInfo) => void }) {
  const [organisation, setOrganisation] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const status = useLoad(loadSetup);
  if (token === "")
    return (
      <div className="narrow stack">
        <PageTitle>Set up Latchkey</PageTitle>
        <Alert kind="error">
          This page needs the one-time setup link the hub printed in its console when it started (it ends with
          #… ). Open that exact link.
        </Alert>
      </div>
    );
  const submit = onSubmit(
    () =>
      void run(async () => {
        const s = await api.post<SessionInfo>("/setup", {
          token,
          username: username.trim(),
          password,
          ...(organisation.trim() === "" ? {} : { organisationName: organisation.trim() }),
        });
        onCreated(s);
      }),
  );
  const pwError = passwordError(error);
  return (
    <div className="narrow stack">
      <PageTitle lead="Create the owner account. You will add a second factor next; there are no default passwords.">
        Welcome to Latchkey
      </PageTitle>
      {status.data?.setupRequired === false ? (
        <Alert kind="info">
          This hub already has its owner. <a href="./#/">Sign in instead</a>.
        </Alert>
      ) : null}
      <form className="card stack" onSubmit={submit} noValidate>
        <TextField
          label="Name of your home or organisation"
          hint="Optional. Shown at the top of the app, e.g. “Harbour Street flats”."
          value={organisation}
          onChange={setOrganisation}
          autoComplete="organization"
          maxLength={200}
        />
        <TextField
          label="User name"
          hint="Letters, digits and . _ @ + - (up to 64)."
          value={username}
          onChange={setUsername}
          autoComplete="username"
          maxLength={64}
          pattern="[A-Za-z0-9._@+\-]{1,64}"
          required
          error={error instanceof ApiError && error.field === "username" ? error.human : null}
        />
        <NewPasswordField
          label="Password"
          value={password}
          onChange={setPassword}
          username={username}
          error={pwError}
        />
        {pwError === null ? <ErrorAlert error={error} /> : null}
        <div className="actions">
          <button
            type="submit"
            className="button primary"
            disabled={busy || username.trim() === "" || [...password].length < 8}
          >
            {busy ? "Creating…" : "Create owner account"}
          </button>
        </div>
      </form>
    </div>
  );
}

/**
 * `/invite#token`: choose a password for a new account, or — when the invitation is addressed to
 * an account that already exists — give that account's password (a second factor follows).
 */
export function InviteScreen({ token, onAccepted }: { token: string; onAccepted: (s: SessionInfo) => void }) {
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const submit = onSubmit(
    () =>
      void run(async () => {
        onAccepted(await api.post<SessionInfo>("/invites/accept", { token, password }));
      }),
  );
  const pwError = passwordError(error);
  return (
    <div className="narrow stack">
      <PageTitle lead="You were invited to manage or use doors on a Latchkey hub. Choose a password to accept; if you already have an account here, enter its password instead.">
        Accept your invitation
      </PageTitle>
      <form className="card stack" onSubmit={submit} noValidate>
        <NewPasswordField label="Password" value={password} onChange={setPassword} error={pwError} />
        {pwError === null ? <ErrorAlert error={error} /> : null}
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || [...password].length < 8}>
            {busy ? "Accepting…" : "Accept invitation"}
          </button>
        </div>
      </form>
    </div>
  );
}

/** Sign in: password, then the second factor (passkey, authenticator code or recovery code). */
export function SignInScreen({
  session,
  notice,
  onSession,
}: {
  session: SessionInfo | null;
  notice: string | null;
  onSession: (s: SessionInfo) => void;
}) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const setup = useLoad(loadSetup);

  if (session?.stage === "mfa")
    return (
      <div className="narrow stack">
        <PageTitle lead={`Signing in as ${session.account.username}.`}>Confirm it is you</PageTitle>
        <section className="card">
          <SecondFactorForm submitLabel="Sign in" onDone={onSession} />
        </section>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            void api.post("/auth/logout").finally(() => window.location.reload());
          }}
        >
          Sign in as someone else
        </button>
      </div>
    );

  const submit = onSubmit(
    () =>
      void run(async () => {
        onSession(await api.post<SessionInfo>("/auth/login", { username: username.trim(), password }));
      }),
  );
  return (
    <div className="narrow stack">
      <PageTitle>Sign in to Latchkey</PageTitle>
      {notice === null ? null : <Alert kind="info">{notice}</Alert>}
      {setup.data?.setupRequired === true ? (
        <Alert kind="info">
          No account exists yet. Open the one-time setup link the hub printed in its console when it started.
        </Alert>
      ) : null}
      <form className="card stack" onSubmit={submit} noValidate>
        <TextField
          label="User name"
          value={username}
          onChange={setUsername}
          autoComplete="username"
          maxLength={64}
          required
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
          required
        />
        <ErrorAlert error={error} />
        <div className="actions">
          <button
            type="submit"
            className="button primary"
            disabled={busy || username === "" || password === ""}
          >
            {busy ? "Checking…" : "Continue"}
          </button>
        </div>
      </form>
    </div>
  );
}
