/**
 * The app: finds the session, routes between first run / sign-in / enrolment / the signed-in
 * screens, and owns the step-up dialog the API client opens when the hub asks for a fresh factor.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { api, appRoot, humanMessage } from "../api/client.js";
import type { Organisation, SessionInfo } from "../api/types.js";
import { linkPage, match, navigate, useRoute, type LinkPage } from "../ui/router.js";
import { Spinner } from "../ui/components.js";
import { InviteScreen, SetupScreen, SignInScreen } from "../screens/auth.js";
import { EnrolScreen, SecondFactorForm } from "../screens/factors.js";
import { SitesScreen } from "../screens/sites.js";
import { PeopleRedirect, PeopleScreen } from "../screens/people.js";
import { AddPersonScreen } from "../screens/add-person.js";
import { PersonScreen } from "../screens/person.js";
import { SecurityScreen } from "../screens/security.js";
import { ActivityScreen } from "../screens/activity.js";
import { TeamScreen } from "../screens/team.js";
import { DashboardScreen } from "../screens/dashboard.js";
import { AddLockScreen } from "../screens/add-lock.js";
import { DemoScreen } from "../screens/demo.js";
import { UnlockRequestsScreen } from "../screens/unlock-requests.js";
import { EvidenceScreen, VerifyScreen } from "../screens/evidence.js";
import { GuestScreen, isGuestPage } from "../screens/guest.js";
import { NotificationsScreen } from "../screens/notifications.js";

interface StepUpRequest {
  readonly resolve: (ok: boolean) => void;
}

export function App() {
  const [link, setLink] = useState<LinkPage>(linkPage);
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [enrolling, setEnrolling] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [stepUp, setStepUp] = useState<StepUpRequest | null>(null);
  const pendingStepUp = useRef<Promise<boolean> | null>(null);

  useEffect(() => {
    api.install({
      onSession: (s) => {
        setSession(s);
        if (s.stage === "enrol") setEnrolling(true);
      },
      onSessionEnded: () => {
        setSession(null);
        setNotice(humanMessage("AUTH_REQUIRED", ""));
      },
      stepUp: () => {
        // Several requests needing step-up at once share one dialog.
        pendingStepUp.current ??= new Promise<boolean>((resolve) =>
          setStepUp({
            resolve: (ok) => {
              pendingStepUp.current = null;
              setStepUp(null);
              resolve(ok);
            },
          }),
        );
        return pendingStepUp.current;
      },
    });
    api.get<SessionInfo>("/session", { probe: true }).then(
      (s) => setSession(s),
      () => setSession(null),
    );
  }, []);

  const leaveLinkPage = () => {
    // The one-time token must not linger in the address bar or history.
    window.history.replaceState(null, "", `${appRoot}#/`);
    setLink(null);
  };

  let content: ReactNode;
  if (isGuestPage()) content = <GuestScreen />;
  else if (session === undefined) content = <Spinner />;
  else if (link !== null && !enrolling)
    content =
      link.kind === "setup" ? (
        <SetupScreen token={link.token} onCreated={leaveLinkPage} />
      ) : (
        <InviteScreen token={link.token} onAccepted={leaveLinkPage} />
      );
  else if (session !== null && (enrolling || session.stage === "enrol"))
    content = (
      <EnrolScreen
        username={session.account.username}
        onComplete={() => {
          setEnrolling(false);
          navigate("/");
        }}
      />
    );
  else if (session === null || session.stage !== "full")
    content = (
      <SignInScreen
        session={session}
        notice={notice}
        onSession={() => {
          setNotice(null);
          navigate("/");
        }}
      />
    );
  else
    content = (
      <SignedIn
        session={session}
        onSignedOut={() => {
          setSession(null);
          setNotice("You have signed out.");
        }}
      />
    );

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      {session?.stage === "full" && !enrolling ? null : (
        <header className="topbar topbar-plain">
          <span className="brand">
            <Logo /> Latchkey
          </span>
        </header>
      )}
      {session?.stage === "full" && !enrolling ? (
        content
      ) : (
        <main id="main" tabIndex={-1}>
          {content}
        </main>
      )}
      {stepUp === null ? null : <StepUpDialog onResult={stepUp.resolve} />}
    </>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5Zm-3 5a3 3 0 0 1 6 0v3H9V7Zm3 7a1.5 1.5 0 0 1 .75 2.8V19h-1.5v-2.2A1.5 1.5 0 0 1 12 14Z"
        fill="currentColor"
      />
    </svg>
  );
}

const NAV: readonly { href: string; label: string; match: string[]; ownerOnly?: boolean }[] = [
  {
    href: "/",
    label: "Dashboard",
    match: ["/", "/doors/*/add-lock", "/sites/*/demo", "/sites/*/unlock-requests"],
  },
  { href: "/sites", label: "Sites & doors", match: ["/sites", "/sites/*/team"] },
  { href: "/people", label: "People", match: ["/people", "/sites/*/people"] },
  {
    href: "/activity",
    label: "Activity",
    match: ["/activity", "/sites/*/activity", "/sites/*/evidence", "/verify"],
  },
  {
    href: "/settings/notifications",
    label: "Notifications",
    match: ["/settings/notifications"],
    ownerOnly: true,
  },
  { href: "/security", label: "Security", match: ["/security"] },
];

/** Whether a nav entry is the current page: exact paths, or `*` standing for one path segment. */
function isCurrent(patterns: string[], path: string): boolean {
  return patterns.some((p) =>
    p.includes("*") ? new RegExp(`^${p.replace(/\*/g, "[^/]+")}(/|$)`).test(path) : p === path,
  );
}

function SignedIn({ session, onSignedOut }: { session: SessionInfo; onSignedOut: () => void }) {
  const path = useRoute();
  const [org, setOrg] = useState<Organisation | null>(null);
  useEffect(() => {
    api.get<Organisation>("/organisation").then(setOrg, () => setOrg(null));
  }, []);
  const signOut = () => {
    void api.post("/auth/logout").then(onSignedOut, onSignedOut);
  };
  const isPersonPage = path.startsWith("/people/") && path !== "/people/";
  return (
    <>
      <header className="topbar">
        <div className="topbar-row">
          <a className="brand" href="#/">
            <Logo /> Latchkey
            {org === null ? null : <span className="org-name">{org.name}</span>}
          </a>
          <div className="account">
            <span className="who small">
              <span className="visually-hidden">Signed in as </span>
              {session.account.username}
            </span>
            <button type="button" className="button secondary small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => n.ownerOnly !== true || session.account.isOwner).map((n) => (
              <li key={n.href}>
                <a
                  href={`#${n.href}`}
                  aria-current={
                    isCurrent(n.match, path) || (n.href === "/people" && isPersonPage) ? "page" : undefined
                  }
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes path={path} session={session} />
      </main>
    </>
  );
}

function Routes({ path, session }: { path: string; session: SessionInfo }) {
  let p: Record<string, string> | null;
  if (path === "/") return <DashboardScreen />;
  if (path === "/sites") return <SitesScreen session={session} />;
  if (path === "/people") return <PeopleRedirect target="people" />;
  if (path === "/activity") return <PeopleRedirect target="activity" />;
  if (path === "/security") return <SecurityScreen session={session} />;
  if (path === "/verify") return <VerifyScreen />;
  if (path === "/settings/notifications" && session.account.isOwner) return <NotificationsScreen />;
  if ((p = match("/sites/:siteId/evidence", path)) !== null)
    return <EvidenceScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/sites/:siteId/people/new", path)) !== null)
    return <AddPersonScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/sites/:siteId/people", path)) !== null)
    return <PeopleScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/sites/:siteId/team", path)) !== null)
    return <TeamScreen key={p.siteId} siteId={p.siteId ?? ""} session={session} />;
  if ((p = match("/sites/:siteId/activity", path)) !== null)
    return <ActivityScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/doors/:doorId/add-lock", path)) !== null)
    return <AddLockScreen key={p.doorId} doorId={p.doorId ?? ""} />;
  if ((p = match("/sites/:siteId/demo", path)) !== null)
    return <DemoScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/sites/:siteId/unlock-requests", path)) !== null)
    return <UnlockRequestsScreen key={p.siteId} siteId={p.siteId ?? ""} />;
  if ((p = match("/people/:personId", path)) !== null)
    return <PersonScreen key={p.personId} personId={p.personId ?? ""} />;
  return (
    <div className="stack">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        <a href="#/">Back to the dashboard</a>
      </p>
    </div>
  );
}

/** Asks for the second factor again (the hub wants one proven within 5 minutes). */
function StepUpDialog({ onResult }: { onResult: (ok: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="step-up-title"
      onCancel={(e) => {
        e.preventDefault();
        onResult(false);
      }}
    >
      <h2 id="step-up-title">Confirm it is you</h2>
      <p>
        This action changes security or deletes something, so it needs your second factor again. Confirming
        keeps you cleared for 5 minutes.
      </p>
      <SecondFactorForm
        submitLabel="Confirm"
        onDone={() => onResult(true)}
        onCancel={() => onResult(false)}
      />
    </dialog>
  );
}
