/**
 * What the approval screen has a passkey sign, computed in the browser from what it displays
 * (docs/digital-keys.md, "The remote-unlock intent"): the snapshot bytes it shows, hashed here
 * with WebCrypto, bound to the lock's challenge, the request's id and the lock's id. No network:
 * the hub's stated `snapshotHash` is never used.
 */
import { encodeRemoteUnlockIntent, fromHex } from "@latchkey/protocol";

/** A snapshot as this page holds it: the bytes it hashes are the bytes its image shows. */
export interface ShownSnapshot {
  readonly type: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** A data: URL re-encoded from `bytes`, for the image element. */
  readonly url: string;
}

/** Decodes the hub's data: URL into bytes (null when it is not a base64 image data: URL). */
export function shownSnapshot(dataUrl: string): ShownSnapshot | null {
  const m = /^data:(image\/(?:jpeg|png|webp));base64,([A-Za-z0-9+/]*={0,2})$/.exec(dataUrl);
  if (m === null) return null;
  const type = m[1] ?? "";
  let binary: string;
  try {
    binary = atob(m[2] ?? "");
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  let b64 = "";
  for (const b of bytes) b64 += String.fromCharCode(b);
  return { type, bytes, url: `data:${type};base64,${btoa(b64)}` };
}

/** SHA-256 (WebCrypto) of the displayed snapshot's bytes; 32 zero bytes when there is none. */
export async function snapshotSha256(snapshot: ShownSnapshot | null): Promise<Uint8Array> {
  if (snapshot === null) return new Uint8Array(32);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", snapshot.bytes));
}

/**
 * The WebAuthn challenge for approving `request` as shown: SHA-256 (WebCrypto) of the 121-byte
 * intent "latchkey/remote-unlock/v1" ‖ lock challenge ‖ request id ‖ snapshot SHA-256 ‖ lock id.
 */
export async function unlockChallenge(
  lockChallenge: Uint8Array,
  request: { readonly id: string; readonly lockId: string },
  snapshotHash: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const intent = encodeRemoteUnlockIntent({
    nonce: lockChallenge,
    proposalId: fromHex(request.id),
    snapshotHash,
    doorId: fromHex(request.lockId),
  });
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(intent)));
}
