/**
 * Where a credential stands on each lock — set, waiting, sending, failed (with the reason in
 * words and a Retry button), being removed, removed — refreshed live while the page is visible.
 */
import { useCallback, useState, type ReactNode } from "react";
import { api } from "../api/client.js";
import type { Credential, SyncRow } from "../api/types.js";
import { syncWords } from "../locks/words.js";
import { ErrorAlert, formatWhen, useAction } from "../ui/components.js";
import { usePoll } from "../ui/live.js";

export function CredentialSync({
  credential,
  doorName,
  fallback,
}: {
  credential: Credential;
  doorName: (id: string) => string;
  /** Shown while no lock holds a sync row for this credential (no lock connected yet). */
  fallback: ReactNode;
}) {
  const poll = usePoll(
    useCallback(
      () => api.get<{ items: SyncRow[] }>(`/credentials/${credential.id}/sync`).then((r) => r.items),
      [credential.id],
    ),
  );
  if (poll.data === null) return poll.error === null ? null : <ErrorAlert error={poll.error} />;
  const rows = [...poll.data]
    .filter((r) => r.state !== "idle" || credential.status === "active")
    .sort((a, b) => label(a, doorName).localeCompare(label(b, doorName)));
  if (rows.length === 0) return <>{fallback}</>;
  return (
    <ul
      className="per-door sync small"
      aria-label={`Where ${credential.label} is, lock by lock`}
      aria-live="polite"
      data-testid="sync-status"
    >
      {rows.map((r) => (
        <SyncLine
          key={r.lockId}
          row={r}
          credentialId={credential.id}
          where={label(r, doorName)}
          onRetried={poll.refresh}
        />
      ))}
    </ul>
  );
}

function label(r: SyncRow, doorName: (id: string) => string): string {
  return r.doorId === null ? `Lock ${r.lockId.slice(0, 8)}` : doorName(r.doorId);
}

function SyncLine({
  row,
  credentialId,
  where,
  onRetried,
}: {
  row: SyncRow;
  credentialId: string;
  where: string;
  onRetried: () => void;
}) {
  const { busy, error, run } = useAction();
  // Only to tell a real next try from "never" (far in the future): the time of showing will do.
  const [now] = useState(Date.now);
  const retryable = row.state === "failed";
  return (
    <li className={`sync-line sync-${row.state}`} data-state={row.state}>
      <span>
        <span className="sync-door">{where}:</span> <span className="sync-words">{syncWords(row)}</span>
        {(row.state === "failed" || row.state === "pending") &&
        row.nextAttemptAt !== null &&
        row.attempts > 0 &&
        row.nextAttemptAt < now + 365 * 86_400_000 ? (
          <span className="muted"> · next try {formatWhen(row.nextAttemptAt)}</span>
        ) : null}
      </span>
      {retryable ? (
        <button
          type="button"
          className="button secondary small"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await api.post(`/credentials/${credentialId}/sync/retry`, { lockId: row.lockId });
              onRetried();
            })
          }
        >
          Retry<span className="visually-hidden"> at {where}</span>
        </button>
      ) : null}
      <ErrorAlert error={error} />
    </li>
  );
}
