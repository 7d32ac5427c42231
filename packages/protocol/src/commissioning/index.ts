export {
  CommissioningResponder,
  DEFAULT_LOCKOUT,
  DEFAULT_WINDOW_MS,
  INITIAL_RESPONDER_STATE,
  lockoutDuration,
  type CommissioningReport,
  type CommissioningResponderOptions,
  type CommissioningResponderState,
  type FactoryResetReport,
  type LockoutPolicy,
  type ResponderStep,
} from "./responder.js";
export { CommissioningInitiator, type CommissioningInitiatorOptions } from "./initiator.js";
export {
  keyHash as commissioningKeyHash,
  type CommissionedLock,
  type HubKeys,
  type LockIdentityKeys,
} from "./sealing.js";
export {
  PBKDF2_DEFAULT_ITERATIONS,
  createCommissioningVerifier,
  generateSetupCode,
  normaliseSetupCode,
  type CommissioningVerifier,
} from "./setup-code.js";
export {
  BROKER_PASSWORD_BYTES,
  BROKER_PASSWORD_INFO,
  BROKER_PASSWORD_LOCK_ID_LENGTH,
  deriveBrokerPassword,
  type BrokerPasswordInput,
} from "./broker-password.js";
