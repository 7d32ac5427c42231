export {
  SEALED_SECRET_INFO,
  SEALED_SECRET_OVERHEAD,
  SEALED_SECRET_VERSION,
  credentialSealContext,
  lockCommandSealContext,
  openSealedSecret,
  sealSecret,
} from "./sealed-secret.js";
export {
  decodeCredentialData,
  encodeCredentialData,
  lockCredentialType,
  type CredentialData,
  type CredentialKind,
  type PhoneKeyAlgorithm,
} from "./credential-data.js";
