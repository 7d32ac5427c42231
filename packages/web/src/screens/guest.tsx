/**
 * The guest page (`/guest#<token>`): a guest or service provider opens the one-time link the owner
 * sent, in any browser, with no app and no account. The token is read from the fragment (never
 * sent to the server in a URL) and removed from the address bar at once; it is posted to the hub
 * only when the guest asks to see the PIN, so a link preview cannot use the link up. The page
 * shows the PIN once, the doors it opens and when, and a Copy button; it logs nothing.
 */
import { useEffect, useState } from "react";
import { appRoot } from "../api/client.js";
import type { Category, GuestView } from "../api/types.js";
import { Alert } from "../ui/components.js";
import { CATEGORY_LABELS, listJoin, termsSentence } from "../schedule/sentence.js";
import { CopyableText } from "./access.js";

/** Whether this page load is a guest link. */
export function isGuestPage(): boolean {
  return /\/guest\/?$/.test(window.location.pathname);
}

const PROBLEMS: Record<string, string> = {
  HUB_GUEST_LINK_OPENED:
    "This link was already opened. It shows the PIN only once; if you did not save it, ask the person who sent the link for a new one.",
  HUB_GUEST_LINK_EXPIRED: "This link has expired. Ask the person who sent it for a new one.",
  HUB_GUEST_LINK_REVOKED:
    "This PIN was withdrawn. Ask the person who sent the link if you still need access.",
  HUB_NOT_FOUND:
    "This link is not valid. Check that you opened the whole link, exactly as you received it, or ask for a new one.",
  AUTH_RATE_LIMITED: "Too many attempts from this network. Wait a few minutes, then try again.",
};

function problemText(code: string): string {
  return PROBLEMS[code] ?? "Something went wrong. Try again in a moment, or ask for a new link.";
}

function categoryLabel(c: string): string {
  return CATEGORY_LABELS[c as Category] ?? c;
}

export function GuestScreen() {
  // Read once; the effect below removes it from the address bar and the history entry.
  const [token] = useState(() => window.location.hash.slice(1));
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<GuestView | null>(null);
  const [problem, setProblem] = useState<string | null>(token === "" ? problemText("HUB_NOT_FOUND") : null);

  useEffect(() => {
    if (window.location.hash !== "")
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    document.title = "Your PIN · Latchkey";
  }, []);

  const open = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const res = await fetch(new URL("api/v1/guest/open", appRoot), {
        method: "POST",
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (res.ok) setView((await res.json()) as GuestView);
      else {
        const body = (await res.json().catch(() => ({}))) as { code?: unknown };
        setProblem(problemText(typeof body.code === "string" ? body.code : ""));
      }
    } catch {
      setProblem("The hub could not be reached. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  };

  if (view !== null) return <GuestPin view={view} />;
  return (
    <section className="card stack narrow" aria-labelledby="guest-title">
      <h1 id="guest-title">Your door PIN</h1>
      {problem !== null ? (
        <Alert kind="error">{problem}</Alert>
      ) : (
        <>
          <p>
            Someone has given you a keypad PIN. This link shows it <strong>once</strong>: have a pen, your
            notes or a password manager ready before you open it.
          </p>
          <div className="actions">
            <button type="button" className="button primary" disabled={busy} onClick={() => void open()}>
              {busy ? "Opening…" : "Show my PIN"}
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function GuestPin({ view }: { view: GuestView }) {
  // The sentences only need the current year.
  const [now] = useState(Date.now);
  return (
    <section className="card stack narrow" aria-labelledby="guest-title">
      <h1 id="guest-title">Your PIN for {view.siteName}</h1>
      <div className="pin-reveal stack">
        <div className="label-like">PIN for {view.personName}</div>
        <CopyableText text={view.pin} label="Copy PIN" className="pin" testId="guest-pin" />
      </div>
      <Alert kind="warning">
        <strong>This page shows your PIN only once.</strong> Save it now; opening the link again will not show
        it. Type it on the door's keypad.
      </Alert>
      <h2>Where and when</h2>
      {view.access.length === 0 ? (
        <p>No door is open to this PIN yet; the person who sent the link will add one.</p>
      ) : (
        <ul className="list" data-testid="guest-access">
          {view.access.map((a, i) => (
            <li key={i} className="stack">
              <div>
                <strong>{listJoin(a.doors)}</strong> · {categoryLabel(a.category)}
              </div>
              <div>
                {termsSentence(a, view.timeZone, now)} ({view.timeZone} time)
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
