/**
 * Unlock requests (remote unlock with a human in the loop): ask to open a door, list a site's
 * requests, and approve one by signing THE LOCK's one-time challenge with a passkey. The hub only
 * forwards the signature; the lock checks it and opens — or refuses and records why.
 */
import { api } from "./client.js";
import { fromBase64Url, toBase64Url } from "./webauthn.js";

export type UnlockRequestStatus = "pending" | "approved" | "denied" | "expired" | "failed";

export interface UnlockRequest {
  readonly id: string;
  readonly siteId: string;
  readonly doorId: string;
  readonly doorName: string;
  readonly lockId: string;
  readonly status: UnlockRequestStatus;
  readonly note: string | null;
  readonly requestedBy:
    | { readonly kind: "account"; readonly accountId: string; readonly username: string }
    | { readonly kind: "doorbell" };
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly decidedAt: number | null;
  readonly decidedBy: string | null;
  /** The lock's last answer: "OK" (it opened), a LOCK_* refusal, or HUB_LOCK_OFFLINE. */
  readonly result: string | null;
  /** A data: URL, or null. */
  readonly snapshot: string | null;
  /** SHA-256 of the snapshot (hex; zeros when none): what the lock's signed event names. */
  readonly snapshotHash: string;
}

interface ChallengeOffer {
  readonly challenge: string;
  readonly rpId: string;
  readonly timeoutMs: number;
  readonly userVerification: "required";
  readonly allowCredentials: readonly { readonly id: string; readonly type: "public-key" }[];
  readonly certificateFor: Readonly<Record<string, string>>;
}

/** The largest snapshot the hub takes (decoded bytes). */
export const SNAPSHOT_MAX_BYTES = 45 * 1024;

export async function listUnlockRequests(siteId: string): Promise<UnlockRequest[]> {
  return (await api.get<{ items: UnlockRequest[] }>(`/sites/${siteId}/unlock-requests`)).items;
}

export function askToUnlock(
  doorId: string,
  request: { readonly note?: string; readonly snapshot?: string },
): Promise<UnlockRequest> {
  return api.post<UnlockRequest>(`/doors/${doorId}/unlock-requests`, request);
}

export function denyUnlockRequest(siteId: string, requestId: string): Promise<UnlockRequest> {
  return api.post<UnlockRequest>(`/sites/${siteId}/unlock-requests/${requestId}/deny`);
}

/**
 * Asks the door's lock for its challenge (through the hub), signs it with one of this account's
 * passkeys (user verification required: the lock insists on it) and sends the signature back.
 * Resolves with the request once the lock opened; rejects with the lock's refusal otherwise, or
 * with the browser's DOMException when the passkey prompt is cancelled.
 */
export async function approveWithPasskey(siteId: string, requestId: string): Promise<UnlockRequest> {
  const offer = await api.post<ChallengeOffer>(`/sites/${siteId}/unlock-requests/${requestId}/challenge`);
  const credential = (await navigator.credentials.get({
    publicKey: {
      challenge: fromBase64Url(offer.challenge),
      rpId: offer.rpId,
      timeout: offer.timeoutMs,
      userVerification: offer.userVerification,
      allowCredentials: offer.allowCredentials.map((c) => ({ id: fromBase64Url(c.id), type: "public-key" })),
    },
  })) as PublicKeyCredential | null;
  if (credential === null) throw new DOMException("no credential", "NotAllowedError");
  const r = credential.response as AuthenticatorAssertionResponse;
  return api.post<UnlockRequest>(`/sites/${siteId}/unlock-requests/${requestId}/approve`, {
    credentialId: toBase64Url(credential.rawId),
    authenticatorData: toBase64Url(r.authenticatorData),
    clientDataJSON: toBase64Url(r.clientDataJSON),
    signature: toBase64Url(r.signature),
  });
}

/** Reads an image file into a data: URL the hub accepts (JPEG, PNG or WebP within the size limit). */
export function snapshotFromFile(file: File): Promise<string> {
  if (!["image/jpeg", "image/png", "image/webp"].includes(file.type))
    return Promise.reject(new Error("Choose a JPEG, PNG or WebP image."));
  if (file.size > SNAPSHOT_MAX_BYTES)
    return Promise.reject(
      new Error(`That image is too large (${Math.ceil(file.size / 1024)} KB); the limit is 45 KB.`),
    );
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      typeof reader.result === "string"
        ? resolve(reader.result)
        : reject(new Error("The image could not be read."));
    reader.onerror = () => reject(new Error("The image could not be read."));
    reader.readAsDataURL(file);
  });
}
