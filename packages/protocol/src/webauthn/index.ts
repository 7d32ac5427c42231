export {
  ChallengeBook,
  type ChallengeBookOptions,
  type ChallengeStatus,
  type IssuedChallenge,
} from "./challenge-book.js";
export {
  base64UrlDecode,
  base64UrlEncode,
  verifyAssertion,
  type AssertionExpectations,
  type AssertionVerdict,
  type WebAuthnAssertion,
  type WebAuthnRefusal,
} from "./assertion.js";
export {
  verifyRemoteUnlock,
  type RemoteUnlockContext,
  type RemoteUnlockRefusal,
  type RemoteUnlockRequest,
  type RemoteUnlockVerdict,
} from "./remote-unlock.js";
export {
  PROPOSAL_ID_LENGTH,
  REMOTE_UNLOCK_INTENT_LENGTH,
  REMOTE_UNLOCK_INTENT_TAG,
  SNAPSHOT_HASH_LENGTH,
  encodeRemoteUnlockIntent,
  isWellFormedIntent,
  remoteUnlockChallenge,
  type RemoteUnlockIntent,
} from "./unlock-intent.js";
export {
  signPhoneKeyUnlock,
  verifyPhoneKeyUnlock,
  type PhoneKeyRefusal,
  type PhoneKeyVerdict,
} from "./phone-key.js";
/** For tests and demos only (not a security device). */
export { SoftwareAuthenticator } from "./software-authenticator.js";
