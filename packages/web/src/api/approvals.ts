/**
 * Unlock requests (remote unlock with a human in the loop): ask to open a door, list a site's
 * requests, and approve one by signing, with a passkey, the remote-unlock intent: THE LOCK's
 * one-time challenge, the request's id, the SHA-256 of the snapshot bytes this page displays
 * (hashed here, never taken from the hub) and the lock's id (docs/digital-keys.md). The hub only
 * forwards the signature; the lock rebuilds the intent, checks it and opens — or refuses and
 * records why — and its event names the request and the picture that was approved.
 */
import { api } from "./client.js";
import type { ApiAnswer, ChallengeOffer, UnlockRequest } from "./types.js";
import { snapshotSha256, unlockChallenge, type ShownSnapshot } from "./unlock-intent.js";
import { fromBase64Url, toBase64Url } from "./webauthn.js";

export { shownSnapshot, snapshotSha256, type ShownSnapshot } from "./unlock-intent.js";

export type { UnlockRequest, UnlockRequestStatus } from "./types.js";

/** The largest snapshot the hub takes (decoded bytes). */
export const SNAPSHOT_MAX_BYTES = 45 * 1024;

export async function listUnlockRequests(siteId: string): Promise<readonly UnlockRequest[]> {
  const path = `/sites/${siteId}/unlock-requests`;
  return (await api.get<ApiAnswer<"/api/v1/sites/{siteId}/unlock-requests", "get">>(path)).items;
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
 * Asks the door's lock for its challenge (through the hub), has one of this account's passkeys
 * sign the intent for `request` and the snapshot this page displayed (user verification
 * required: the lock insists on it), and sends the signature back. Resolves with the request once
 * the lock opened; rejects with the lock's refusal otherwise, or with the browser's DOMException
 * when the passkey prompt is cancelled.
 */
export async function approveWithPasskey(
  request: Pick<UnlockRequest, "id" | "siteId" | "lockId">,
  snapshot: ShownSnapshot | null,
): Promise<UnlockRequest> {
  const { siteId, id: requestId } = request;
  const offer = await api.post<ChallengeOffer>(`/sites/${siteId}/unlock-requests/${requestId}/challenge`);
  const challenge = await unlockChallenge(
    new Uint8Array(fromBase64Url(offer.challenge)),
    request,
    await snapshotSha256(snapshot),
  );
  const credential = (await navigator.credentials.get({
    publicKey: {
      challenge,
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
