/**
 * The account's own devices: its sessions (see them, sign one out, sign out every other one) and
 * its passkeys (see them, remove one; the client asks for step-up when the hub wants it).
 * Session ids here are public ids, never the session cookie.
 */
import { api } from "./client.js";
import type { AccountPasskey, AccountSession, ApiAnswer } from "./types.js";

export type { AccountPasskey, AccountSession } from "./types.js";

export async function listSessions(): Promise<readonly AccountSession[]> {
  return (await api.get<ApiAnswer<"/api/v1/account/sessions", "get">>("/account/sessions")).items;
}

/** Ends one session of the account; `signedOut` is true when it was this browser's own. */
type EndedSession = ApiAnswer<"/api/v1/account/sessions/{sessionId}/end", "post">;
export function endSession(sessionId: string): Promise<EndedSession> {
  return api.post<EndedSession>(`/account/sessions/${encodeURIComponent(sessionId)}/end`);
}

/** Ends every session of the account except this browser's. */
type EndedOthers = ApiAnswer<"/api/v1/account/sessions/end-others", "post">;
export function endOtherSessions(): Promise<EndedOthers> {
  return api.post<EndedOthers>("/account/sessions/end-others");
}

export async function listPasskeys(): Promise<readonly AccountPasskey[]> {
  return (await api.get<ApiAnswer<"/api/v1/account/passkeys", "get">>("/account/passkeys")).items;
}

/**
 * Removes a passkey (step-up). The hub refuses with AUTH_LAST_SECOND_FACTOR when it is the
 * account's only second factor, and ends every other session of the account when it succeeds.
 */
type RemovedPasskey = ApiAnswer<"/api/v1/account/passkeys/{passkeyId}/remove", "post">;
export function removePasskey(passkeyId: string): Promise<RemovedPasskey> {
  return api.post<RemovedPasskey>(`/account/passkeys/${encodeURIComponent(passkeyId)}/remove`);
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
