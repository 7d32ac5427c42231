/**
 * A site's team: accounts holding a role there (managers run the site; residents, guests and
 * service providers have accounts but manage nothing yet). New accounts join through a one-time
 * invitation link, shown once.
 */
import { useCallback, useState } from "react";
import { api } from "../api/client.js";
import type { Member, MemberInvite, SessionInfo, Site } from "../api/types.js";
import {
  Alert,
  CopyButton,
  ErrorAlert,
  Field,
  formatWhen,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
} from "../ui/components.js";
import { onSubmit } from "./factors.js";

const ROLES = [
  {
    value: "manager",
    label: "Manager",
    help: "Manages this site's doors, people and access, and reads its activity.",
  },
  { value: "resident", label: "Resident", help: "Has an account here; manages nothing." },
  { value: "guest", label: "Guest", help: "Has an account here; manages nothing." },
  { value: "service_provider", label: "Service provider", help: "Has an account here; manages nothing." },
] as const;

const roleLabel = (role: string) => ROLES.find((r) => r.value === role)?.label ?? role;

export function TeamScreen({ siteId, session }: { siteId: string; session: SessionInfo }) {
  const data = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        members: (await api.get<{ items: Member[] }>(`/sites/${siteId}/members`)).items,
      }),
      [siteId],
    ),
  );
  if (data.data === null) return data.error === null ? <Spinner /> : <ErrorAlert error={data.error} />;
  const { site, members } = data.data;
  return (
    <div className="stack">
      <p className="breadcrumb">
        <a href="#/sites">Sites & doors</a>
      </p>
      <PageTitle lead={`Accounts that can sign in to this hub for ${site.name}.`}>Team</PageTitle>
      <section className="card stack" aria-labelledby="members-title">
        <h2 id="members-title">Accounts</h2>
        {members.length === 0 ? (
          <p className="muted">Only the owner so far.</p>
        ) : (
          <ul className="list">
            {members.map((m) => (
              <MemberRow key={m.accountId} member={m} siteId={siteId} onChanged={data.reload} />
            ))}
          </ul>
        )}
      </section>
      <InviteForm siteId={siteId} isOwner={session.account.isOwner} onDone={data.reload} />
    </div>
  );
}

function MemberRow({ member, siteId, onChanged }: { member: Member; siteId: string; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  return (
    <li className="list-row">
      <div className="list-main">
        <strong>{member.username}</strong>
        <span className="muted small">
          {roleLabel(member.role)} · since {formatWhen(member.since)}
        </span>
        <ErrorAlert error={error} />
      </div>
      <div className="actions">
        {confirming ? (
          <>
            <button
              type="button"
              className="button danger small"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await api.delete(`/sites/${siteId}/members/${member.accountId}`);
                  onChanged();
                })
              }
            >
              Remove {member.username}
            </button>
            <button type="button" className="button secondary small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="button secondary small" onClick={() => setConfirming(true)}>
            Remove
          </button>
        )}
      </div>
    </li>
  );
}

function InviteForm({ siteId, isOwner, onDone }: { siteId: string; isOwner: boolean; onDone: () => void }) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<string>(isOwner ? "manager" : "resident");
  const [result, setResult] = useState<{ username: string; role: string; inviteLink: string | null } | null>(
    null,
  );
  const { busy, error, run } = useAction();
  const roles = ROLES.filter((r) => isOwner || r.value !== "manager");
  const submit = onSubmit(
    () =>
      void run(async () => {
        const r = await api.post<MemberInvite>(`/sites/${siteId}/members`, {
          username: username.trim(),
          role,
        });
        setResult(r);
        setUsername("");
        onDone();
      }),
  );
  return (
    <section className="card stack" aria-labelledby="invite-title">
      <h2 id="invite-title">Add someone</h2>
      {result === null ? null : result.inviteLink === null ? (
        <Alert kind="success">
          {result.username} is now {roleLabel(result.role).toLowerCase()} here.
        </Alert>
      ) : (
        <div className="pin-reveal stack">
          <div className="label-like">Invitation link for {result.username}</div>
          <code className="uri" data-testid="invite-link">
            {result.inviteLink}
          </code>
          <div className="actions">
            <CopyButton text={result.inviteLink} label="Copy link" />
          </div>
          <Alert kind="warning">
            <strong>You will not see this link again.</strong> Send it to {result.username} privately. It
            works once and expires after an hour. A newcomer chooses a password and second factor; someone who
            already has an account accepts with their own password. Either way the role applies only once they
            accept.
          </Alert>
        </div>
      )}
      <form className="stack" onSubmit={submit} noValidate>
        <div className="row">
          <TextField
            label="User name"
            hint="A member of this site changes role at once; anyone else gets an invitation link."
            value={username}
            onChange={setUsername}
            maxLength={64}
            autoComplete="off"
          />
          <Field label="Role" hint={roles.find((r) => r.value === role)?.help}>
            {({ id, describedBy }) => (
              <select
                id={id}
                value={role}
                onChange={(e) => setRole(e.target.value)}
                aria-describedby={describedBy}
              >
                {roles.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <ErrorAlert error={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || username.trim() === ""}>
            {busy ? "Adding…" : "Add to team"}
          </button>
        </div>
      </form>
    </section>
  );
}
