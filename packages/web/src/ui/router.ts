/**
 * A tiny fragment router: in-app pages live after `#` (`#/people/abc`), so the hub serves one
 * page, relative asset paths work behind any reverse-proxy prefix, and a reload lands on the same
 * screen. The one-time link pages are real paths (`/setup#token`, `/invite#token`) because the
 * hub prints them; there the fragment is the token, not a route.
 */
import { useEffect, useState } from "react";

export type LinkPage = { readonly kind: "setup" | "invite"; readonly token: string } | null;

/** `/setup#token` or `/invite#token`, read once at start. */
export function linkPage(): LinkPage {
  const m = /\/(setup|invite)\/?$/.exec(window.location.pathname);
  if (m === null) return null;
  return { kind: m[1] as "setup" | "invite", token: window.location.hash.slice(1) };
}

export function currentPath(): string {
  const h = window.location.hash;
  return h.startsWith("#/") ? h.slice(1) : "/";
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return path;
}

export function navigate(path: string): void {
  window.location.hash = path;
}

/** Matches `/people/:id` style patterns; returns the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.split("?")[0]?.split("/") ?? [];
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i] ?? "";
    const got = s[i] ?? "";
    if (want.startsWith(":")) params[want.slice(1)] = decodeURIComponent(got);
    else if (want !== got) return null;
  }
  return params;
}
