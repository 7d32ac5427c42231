/**
 * The account's own devices: its sessions (see them, sign one out, sign out every other one) and
 * its passkeys (see them, remove one; the client asks for step-up when the hub wants it).
 * Session ids here are public ids, never the session cookie.
 */
import { api } from "./client.js";

export type SessionStage = "enrol" | "mfa" | "full";

export interface AccountSession {
  /** A public id (16 hex digits), not the cookie. */
  readonly id: string;
  /** This browser's session. */
  readonly current: boolean;
  /** "full": signed in; "mfa": password given, second factor not (yet) confirmed; "enrol": setting one up. */
  readonly stage: SessionStage;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Until when a second factor proven in that session counts as fresh (step-up). */
  readonly stepUpUntil?: number;
}

export interface AccountPasskey {
  /** The credential id (base64url). */
  readonly id: string;
  readonly createdAt: number;
  /** How the browser reaches it: "internal", "usb", "nfc", "ble", "hybrid"… */
  readonly transports: readonly string[];
}

export async function listSessions(): Promise<AccountSession[]> {
  return (await api.get<{ items: AccountSession[] }>("/account/sessions")).items;
}

/** Ends one session of the account; `signedOut` is true when it was this browser's own. */
export function endSession(sessionId: string): Promise<{ ok: true; signedOut: boolean }> {
  return api.post<{ ok: true; signedOut: boolean }>(`/account/sessions/${encodeURIComponent(sessionId)}/end`);
}

/** Ends every session of the account except this browser's. */
export function endOtherSessions(): Promise<{ ok: true; ended: number }> {
  return api.post<{ ok: true; ended: number }>("/account/sessions/end-others");
}

export async function listPasskeys(): Promise<AccountPasskey[]> {
  return (await api.get<{ items: AccountPasskey[] }>("/account/passkeys")).items;
}

/**
 * Removes a passkey (step-up). The hub refuses with AUTH_LAST_SECOND_FACTOR when it is the
 * account's only second factor, and ends every other session of the account when it succeeds.
 */
export function removePasskey(passkeyId: string): Promise<{ ok: true; endedSessions: number }> {
  return api.post<{ ok: true; endedSessions: number }>(
    `/account/passkeys/${encodeURIComponent(passkeyId)}/remove`,
  );
}

/** The hub's refusal to remove the last second factor, in words a person can act on. */
export const LAST_SECOND_FACTOR_TEXT =
  "This passkey is your only second factor, so it cannot be removed. Add another passkey or set up an authenticator app first.";

const TRANSPORT_WORDS: Readonly<Record<string, string>> = {
  internal: "built into a device",
  hybrid: "on a phone nearby",
  usb: "security key (USB)",
  nfc: "security key (NFC)",
  ble: "security key (Bluetooth)",
  "smart-card": "smart card",
};

/** "built into a device", "security key (USB) or security key (NFC)", or "" when unknown. */
export function describeTransports(transports: readonly string[]): string {
  const words = [...new Set(transports.map((t) => TRANSPORT_WORDS[t] ?? t))];
  return words.join(" or ");
}
