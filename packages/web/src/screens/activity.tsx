/** A site's activity: what its locks signed (door activity) and administrative changes (the audit trail). */
import { useCallback, useEffect, useEffectEvent, useState } from "react";
import { api } from "../api/client.js";
import type { AuditEntry, AuditPage, Member, Person, SessionInfo, Site } from "../api/types.js";
import { ErrorAlert, formatWhen, PageTitle, Spinner, useAction, useLoad } from "../ui/components.js";
import { rememberSite, SitePicker } from "./people.js";
import { DoorActivity } from "./door-activity.js";

const ACTIONS: Record<string, string> = {
  "site.create": "created the site",
  "site.update": "changed the site",
  "door.create": "added a door",
  "door.update": "changed a door",
  "door.delete": "deleted a door",
  "person.create": "added a person",
  "person.update": "changed a person's details",
  "person.delete": "removed a person",
  "credential.create": "added a credential",
  "credential.revoke": "revoked a credential",
  "credential.replace-pin": "replaced a PIN with a new one",
  "grant.create": "gave access",
  "grant.revoke": "revoked access",
  "member.invite": "invited an account",
  "member.role.set": "set an account's role",
  "member.remove": "removed an account's role",
  "account.invite.accept": "accepted an invitation",
  "evidence.export": "exported evidence",
};

export function ActivityScreen({ siteId }: { siteId: string }) {
  useEffect(() => rememberSite(siteId), [siteId]);
  const context = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        session: await api.get<SessionInfo>("/session"),
        members: await api.get<{ items: Member[] }>(`/sites/${siteId}/members`).then(
          (r) => r.items,
          () => [] as Member[],
        ),
        // Names for the entries; the first 100 people cover most sites.
        people: (await api.get<{ items: Person[] }>(`/sites/${siteId}/people?limit=100`)).items,
      }),
      [siteId],
    ),
  );
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const page = useAction();
  const load = (before: string | null) =>
    page.run(async () => {
      const r = await api.get<AuditPage>(
        `/sites/${siteId}/audit?limit=50${before === null ? "" : `&before=${before}`}`,
      );
      setItems((prev) => [...(before === null ? [] : (prev ?? [])), ...r.items]);
      setNext(r.nextBefore);
    });
  const loadFirst = useEffectEvent(() => void load(null));
  // The newest page when shown and when the site changes.
  useEffect(() => loadFirst(), [siteId]);
  const personName = (e: AuditEntry): string | null => {
    const id =
      typeof e.details.personId === "string"
        ? e.details.personId
        : e.targetType === "person"
          ? e.targetId
          : null;
    return context.data?.people.find((p) => p.id === id)?.name ?? null;
  };
  const who = (id: string | null) => {
    if (id === null) return "Someone";
    if (id === context.data?.session.account.id) return "You";
    return context.data?.members.find((m) => m.accountId === id)?.username ?? "An administrator";
  };
  return (
    <div className="stack">
      <PageTitle
        lead={
          context.data === null
            ? undefined
            : `What happened at ${context.data.site.name}, newest first: the doors, then administrative changes.`
        }
      >
        Activity
      </PageTitle>
      <SitePicker siteId={siteId} target="activity" />
      <DoorActivity siteId={siteId} />
      <h2>Administrative changes</h2>
      <ErrorAlert error={context.error ?? page.error} />
      {items === null ? (
        page.error === null ? (
          <Spinner />
        ) : null
      ) : items.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="list card" aria-label="Administrative changes">
          {items.map((e) => (
            <li key={e.id} className="list-row">
              <div className="list-main">
                <span>
                  <strong>{who(e.actorAccountId)}</strong> {ACTIONS[e.action] ?? e.action}
                  {typeof e.details.name === "string" ? `: ${e.details.name}` : ""}
                  {typeof e.details.category === "string"
                    ? ` (${e.details.category.replace(/_/g, " ")})`
                    : ""}
                  {typeof e.details.kind === "string" ? ` (${e.details.kind.replace(/_/g, " ")})` : ""}
                  {personName(e) === null ? "" : ` · ${personName(e)}`}
                </span>
                <span className="muted small">{formatWhen(e.at)}</span>
              </div>
            </li>
          ))}
        </ol>
      )}
      {next === null ? null : (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            disabled={page.busy}
            onClick={() => void load(next)}
          >
            Show older
          </button>
        </div>
      )}
      <p className="muted small">
        <a href={`#/sites/${siteId}/evidence`}>Export evidence</a> for an insurer or investigator, or{" "}
        <a href="#/verify">verify an evidence file</a>.
      </p>
    </div>
  );
}
