/**
 * A door's doorbell webhook: a video doorbell, camera or NVR posts to the hub with the door's
 * token and an unlock request appears for a person to approve with a passkey. The token is shown
 * once, when created; replacing it or turning the doorbell off stops the old one.
 */
import { useCallback, useState } from "react";
import { api } from "../api/client.js";
import type { CreatedDoorbell, DoorbellStatus } from "../api/types.js";
import { Alert, CopyButton, ErrorAlert, formatWhen, Spinner, useAction, useLoad } from "../ui/components.js";

export function DoorbellPanel({ doorId, doorName }: { doorId: string; doorName: string }) {
  const status = useLoad(useCallback(() => api.get<DoorbellStatus>(`/doors/${doorId}/doorbell`), [doorId]));
  const [created, setCreated] = useState<CreatedDoorbell | null>(null);
  const { busy, error, run } = useAction();
  const create = () =>
    void run(async () => {
      setCreated(await api.post<CreatedDoorbell>(`/doors/${doorId}/doorbell`));
      status.reload();
    });
  const turnOff = () =>
    void run(async () => {
      await api.delete(`/doors/${doorId}/doorbell`);
      setCreated(null);
      status.reload();
    });
  const s = status.data;
  const example =
    created === null
      ? ""
      : `curl -X POST ${created.webhookUrl} -H "Authorization: Bearer ${created.token}" -H "Content-Type: application/json" -d '{"note":"Someone at ${doorName}"}'`;
  return (
    <section className="stack doorbell" aria-label={`Doorbell for ${doorName}`} data-doorbell={doorId}>
      <p className="small">
        A doorbell, camera or NVR can ask to open {doorName}: it posts to the hub, optionally with a snapshot,
        and someone approves with a passkey on the Unlock requests page. It can only ask — it never opens the
        door itself.
      </p>
      <ErrorAlert error={status.error ?? error} />
      {s === null ? (
        <Spinner label="Loading doorbell…" />
      ) : (
        <>
          {created !== null ? (
            <Alert kind="success">
              <p>
                Give these to your doorbell or camera now — the token is shown only once. Send a JSON body
                with an optional <code>note</code> and <code>snapshot</code> (a data: URL of a JPEG, PNG or
                WebP image up to 45 KiB).
              </p>
              <p>
                Webhook URL: <code data-doorbell-url>{created.webhookUrl}</code>{" "}
                <CopyButton text={created.webhookUrl} label="Copy URL" />
              </p>
              <p>
                Header: <code data-doorbell-token>Authorization: Bearer {created.token}</code>{" "}
                <CopyButton text={`Bearer ${created.token}`} label="Copy header value" />
              </p>
              <p className="small">
                Try it: <code>{example}</code> <CopyButton text={example} label="Copy command" />
              </p>
            </Alert>
          ) : null}
          <p className="muted small" data-doorbell-status>
            {s.enabled
              ? `Doorbell connected since ${formatWhen(s.createdAt ?? 0)}; ${
                  s.lastRungAt === null ? "it has not rung yet" : `last rang ${formatWhen(s.lastRungAt)}`
                }.`
              : "No doorbell connected."}
          </p>
          <div className="actions">
            <button type="button" className="button secondary small" disabled={busy} onClick={create}>
              {s.enabled ? "Replace doorbell token" : "Connect a doorbell"}
            </button>
            {s.enabled ? (
              <button type="button" className="button danger-outline small" disabled={busy} onClick={turnOff}>
                Turn doorbell off
              </button>
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}
