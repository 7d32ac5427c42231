/**
 * Passkeys: turns the hub's WebAuthn options (JSON, base64url) into what
 * `navigator.credentials` expects, and the browser's credential back into the JSON the hub
 * verifies. Written by hand so it works in browsers without `parseCreationOptionsFromJSON`.
 */

export function toBase64Url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes =
    buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

// Hand-written, unlike types.ts: the hub's OpenAPI document gives the two options answers
// (POST /account/passkeys/options, /auth/passkey-options) no schema, as they pass the WebAuthn
// library's options through whole; these are the fields of WebAuthn's JSON forms this file reads.
interface JsonDescriptor {
  readonly id: string;
  readonly type?: string;
  readonly transports?: string[];
}

interface CreationJson {
  readonly challenge: string;
  readonly rp: { readonly name: string; readonly id?: string };
  readonly user: { readonly id: string; readonly name: string; readonly displayName: string };
  readonly pubKeyCredParams: { readonly type: string; readonly alg: number }[];
  readonly timeout?: number;
  readonly attestation?: AttestationConveyancePreference;
  readonly excludeCredentials?: JsonDescriptor[];
  readonly authenticatorSelection?: AuthenticatorSelectionCriteria;
}

interface RequestJson {
  readonly challenge: string;
  readonly rpId?: string;
  readonly timeout?: number;
  readonly userVerification?: UserVerificationRequirement;
  readonly allowCredentials?: JsonDescriptor[];
}

const descriptor = (d: JsonDescriptor): PublicKeyCredentialDescriptor => ({
  id: fromBase64Url(d.id),
  type: "public-key",
  ...(d.transports === undefined ? {} : { transports: d.transports as AuthenticatorTransport[] }),
});

export function passkeysSupported(): boolean {
  return typeof window.PublicKeyCredential === "function" && navigator.credentials !== undefined;
}

/** Explains a failed or cancelled WebAuthn ceremony in words. */
export function passkeyProblem(e: unknown): string {
  const name = e instanceof DOMException ? e.name : "";
  if (name === "NotAllowedError")
    return "The passkey prompt was cancelled or timed out. Try again when you are ready.";
  if (name === "InvalidStateError") return "This device already holds a passkey for this account.";
  if (name === "SecurityError")
    return "Passkeys need the hub's address to match its public URL (and HTTPS, except on localhost).";
  return "This browser could not use a passkey here. Use your authenticator app instead.";
}

/** Creates a passkey from the hub's registration options; returns the hub's `response` body. */
export async function createPasskey(optionsJson: unknown): Promise<Record<string, unknown>> {
  const o = optionsJson as CreationJson;
  const publicKey: PublicKeyCredentialCreationOptions = {
    challenge: fromBase64Url(o.challenge),
    rp: o.rp,
    user: { id: fromBase64Url(o.user.id), name: o.user.name, displayName: o.user.displayName },
    pubKeyCredParams: o.pubKeyCredParams.map((p) => ({ type: "public-key", alg: p.alg })),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
    ...(o.attestation === undefined ? {} : { attestation: o.attestation }),
    excludeCredentials: (o.excludeCredentials ?? []).map(descriptor),
    ...(o.authenticatorSelection === undefined ? {} : { authenticatorSelection: o.authenticatorSelection }),
  };
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (credential === null) throw new DOMException("no credential", "NotAllowedError");
  const r = credential.response as AuthenticatorAttestationResponse;
  const response: Record<string, unknown> = {
    clientDataJSON: toBase64Url(r.clientDataJSON),
    attestationObject: toBase64Url(r.attestationObject),
  };
  if (typeof r.getTransports === "function") response.transports = r.getTransports();
  if (typeof r.getAuthenticatorData === "function")
    response.authenticatorData = toBase64Url(r.getAuthenticatorData());
  const key = typeof r.getPublicKey === "function" ? r.getPublicKey() : null;
  if (key !== null) response.publicKey = toBase64Url(key);
  if (typeof r.getPublicKeyAlgorithm === "function") response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: "public-key",
    ...(credential.authenticatorAttachment === "platform" ||
    credential.authenticatorAttachment === "cross-platform"
      ? { authenticatorAttachment: credential.authenticatorAttachment }
      : {}),
    clientExtensionResults: {},
    response,
  };
}

/** Signs the hub's challenge with a passkey; returns the hub's `response` body. */
export async function signWithPasskey(optionsJson: unknown): Promise<Record<string, unknown>> {
  const o = optionsJson as RequestJson;
  const publicKey: PublicKeyCredentialRequestOptions = {
    challenge: fromBase64Url(o.challenge),
    ...(o.rpId === undefined ? {} : { rpId: o.rpId }),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
    ...(o.userVerification === undefined ? {} : { userVerification: o.userVerification }),
    allowCredentials: (o.allowCredentials ?? []).map(descriptor),
  };
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (credential === null) throw new DOMException("no credential", "NotAllowedError");
  const r = credential.response as AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: "public-key",
    ...(credential.authenticatorAttachment === "platform" ||
    credential.authenticatorAttachment === "cross-platform"
      ? { authenticatorAttachment: credential.authenticatorAttachment }
      : {}),
    clientExtensionResults: {},
    response: {
      clientDataJSON: toBase64Url(r.clientDataJSON),
      authenticatorData: toBase64Url(r.authenticatorData),
      signature: toBase64Url(r.signature),
      ...(r.userHandle === null ? {} : { userHandle: toBase64Url(r.userHandle) }),
    },
  };
}
