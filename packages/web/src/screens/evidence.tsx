/**
 * Evidence: export a sealed bundle of chosen doors over a window (step-up), and verify a bundle
 * entirely in this browser with the protocol's own verifier — the same check an insurer runs
 * offline — showing the plain-language report: what is proven, what is not, and, for a bad
 * file, the first element that failed. A file is "proven" only against keys the reader pinned
 * (a trust file from the owner's key card); this page never takes the keys from the hub.
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import {
  buildEvidenceReport,
  evidenceVerdict,
  NO_TRUST,
  nobleEd25519,
  parseTrustFile,
  verifyEvidenceBundle,
  type EvidenceReport,
  type EvidenceTrust,
} from "@latchkey/protocol";
import { api } from "../api/client.js";
import type { Door, Site } from "../api/types.js";
import { Alert, ErrorAlert, PageTitle, Spinner, useAction, useLoad } from "../ui/components.js";
import { rememberSite } from "./people.js";

function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function saveFile(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function EvidenceScreen({ siteId }: { siteId: string }) {
  useEffect(() => rememberSite(siteId), [siteId]);
  const data = useLoad(
    useCallback(
      async () => ({
        site: await api.get<Site>(`/sites/${siteId}`),
        doors: (await api.get<{ items: Door[] }>(`/sites/${siteId}/doors`)).items,
      }),
      [siteId],
    ),
  );
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [from, setFrom] = useState(() => localInput(Date.now() - 24 * 3600_000));
  const [to, setTo] = useState(() => localInput(Date.now()));
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const doorsWithLocks = (data.data?.doors ?? []).filter((d) => d.lockId !== null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    void action.run(async () => {
      const file = await api.postForFile(`/sites/${siteId}/evidence`, {
        doorIds: [...chosen],
        from: new Date(from).getTime(),
        to: new Date(to).getTime(),
      });
      const name = file.filename ?? "latchkey-evidence.json";
      saveFile(file.bytes, name);
      setDone(name);
    });
  };

  return (
    <div className="stack">
      <PageTitle
        lead={
          data.data === null
            ? undefined
            : `A sealed file of what the locks at ${data.data.site.name} signed, for an insurer or investigator to check without trusting this hub.`
        }
      >
        Export evidence
      </PageTitle>
      <ErrorAlert error={data.error} />
      {data.data === null ? (
        data.error === null ? (
          <Spinner />
        ) : null
      ) : (
        <form className="card stack" onSubmit={submit} aria-label="Evidence export">
          <fieldset>
            <legend>Doors</legend>
            {doorsWithLocks.length === 0 ? (
              <p className="muted">No door here has a lock yet.</p>
            ) : (
              doorsWithLocks.map((d) => (
                <label key={d.id} className="check">
                  <input
                    type="checkbox"
                    checked={chosen.has(d.id)}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      setChosen((s) => {
                        const n = new Set(s);
                        if (on) n.add(d.id);
                        else n.delete(d.id);
                        return n;
                      });
                    }}
                  />{" "}
                  {d.name}
                </label>
              ))
            )}
          </fieldset>
          <div className="field">
            <label htmlFor="evidence-from">From</label>
            <input
              id="evidence-from"
              type="datetime-local"
              value={from}
              required
              onChange={(e) => setFrom(e.currentTarget.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="evidence-to">Until</label>
            <input
              id="evidence-to"
              type="datetime-local"
              value={to}
              required
              onChange={(e) => setTo(e.currentTarget.value)}
            />
          </div>
          <ErrorAlert error={action.error} />
          {done === null ? null : (
            <Alert kind="success">
              Saved {done}. Anyone can check it on the <a href="#/verify">Verify evidence</a> page or with{" "}
              <code>latchkey verify</code>.
            </Alert>
          )}
          <div className="actions">
            <button type="submit" className="button" disabled={action.busy || chosen.size === 0}>
              {action.busy ? "Exporting…" : "Export and download"}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

export function verifyInBrowser(bytes: Uint8Array, trust: EvidenceTrust = NO_TRUST): EvidenceReport {
  const result = verifyEvidenceBundle(bytes, {
    ed25519: nobleEd25519,
    ...(trust.witnesses.length > 0 ? { witnessKeys: trust.witnesses } : {}),
  });
  return buildEvidenceReport(result, evidenceVerdict(result, trust));
}

export function VerifyScreen() {
  const [report, setReport] = useState<EvidenceReport | null>(null);
  const [name, setName] = useState<string | null>(null);
  const [bundle, setBundle] = useState<Uint8Array | null>(null);
  const [trust, setTrust] = useState<EvidenceTrust>(NO_TRUST);
  const [trustName, setTrustName] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);

  const check = async (file: File) => {
    setError(null);
    setReport(null);
    setName(file.name);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      setBundle(bytes);
      setReport(verifyInBrowser(bytes, trust));
    } catch (e) {
      setError(e);
    }
  };

  const pin = async (file: File) => {
    setError(null);
    try {
      const pinned = parseTrustFile(new Uint8Array(await file.arrayBuffer()));
      setTrust(pinned);
      setTrustName(file.name);
      if (bundle !== null) setReport(verifyInBrowser(bundle, pinned));
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="stack">
      <PageTitle lead="Checked here in your browser: nothing is sent to the hub.">Verify evidence</PageTitle>
      <div
        className={`card dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const f = e.dataTransfer.files[0];
          if (f !== undefined) void check(f);
        }}
      >
        <p>Drop an evidence file here, or choose one.</p>
        <label htmlFor="evidence-file">Evidence file</label>
        <input
          id="evidence-file"
          type="file"
          accept="application/json,.json"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f !== undefined) void check(f);
          }}
        />
      </div>
      <div className="card stack">
        <p>
          Evidence is proof only against keys you got from the owner beforehand: load the trust file from
          their key card (<code>latchkey keys --out trust.json</code>).
          {trustName === null ? " No keys pinned yet." : ` Pinned: ${trustName}.`}
        </p>
        <label htmlFor="evidence-trust">Trust file</label>
        <input
          id="evidence-trust"
          type="file"
          accept="application/json,.json"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f !== undefined) void pin(f);
          }}
        />
      </div>
      <ErrorAlert error={error} />
      {report === null ? null : <ReportView report={report} name={name} />}
    </div>
  );
}

function ReportView({ report, name }: { report: EvidenceReport; name: string | null }) {
  const valid = report.verdict === "valid";
  const c = report.conclusion;
  return (
    <section
      className="stack"
      aria-label="Verification report"
      data-verdict={report.verdict}
      data-conclusion={c.verdict}
    >
      {valid ? (
        <Alert kind={c.verdict === "proven" ? "success" : "warning"}>
          <strong>{c.verdict === "proven" ? "Proven." : "Intact, but not proof."}</strong>{" "}
          {name ?? "This file"} is intact: every event is signed by its lock and sealed in the hub's log.{" "}
          {c.verdict === "proven" ? "The owner and ledger keys are the ones you pinned." : null}
          {c.reasons.length === 0 ? null : (
            <ul>
              {c.reasons.map((r, i) => (
                <li key={i}>{r.message}</li>
              ))}
            </ul>
          )}
        </Alert>
      ) : (
        <Alert kind="error">
          <strong>{report.verdict === "unreadable" ? "Unreadable." : "Not valid."}</strong>{" "}
          {report.failure === null ? "The file failed verification." : report.failure.message}
          {report.failure === null ? null : (
            <>
              {" "}
              (first failing element: <code data-failing-element>{report.failure.element}</code>)
            </>
          )}
        </Alert>
      )}
      {report.window === null ? null : (
        <p>
          Window: {report.window.from} to {report.window.to}
        </p>
      )}
      {report.doors.map((d) => (
        <div key={d.lockId} className="card stack">
          <h2>{d.door}</h2>
          <p>{d.summary}</p>
          {d.periods.length === 0 ? null : (
            <ul>
              {d.periods.map((p, i) => (
                <li key={i}>{p.statement}</li>
              ))}
            </ul>
          )}
          {d.denials.length === 0 ? null : (
            <>
              <h3>Refused attempts</h3>
              <ul>
                {d.denials.map((x) => (
                  <li key={x.seq}>
                    {x.local ?? "time unknown"}: {x.words}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      ))}
      {report.proven.length === 0 ? null : (
        <div className="card">
          <h2>What this proves</h2>
          <ul>
            {report.proven.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {report.notProven.length === 0 ? null : (
        <div className="card">
          <h2>What this does not prove</h2>
          <ul>
            {report.notProven.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
