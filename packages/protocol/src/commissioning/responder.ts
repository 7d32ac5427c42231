/**
 * The lock's side of commissioning, as a pure state machine with an injected clock and random
 * source. The lock runtime feeds it received bytes and sends back `reply`; it persists `state`
 * (JSON-safe) after every step that changed it, and journals the `report`s it returns
 * (commissioned, attempt-failed) and the one `factoryReset()` returns, as signed events.
 *
 * Rules:
 *  - Commissioning happens only inside a window opened on the lock (`openWindow()`, a physical
 *    action), closing `windowMs` later (15 min by default).
 *  - Every PAKE attempt counts as a failure from the moment the lock answers CommPake1 until the
 *    hub proves the code with CommPake3. (A prover that aborts after seeing confirmV has still had
 *    its one guess, so aborting must not be free.) From `freeAttempts` (5) consecutive failures
 *    on, new attempts are refused for 1 min, doubling with every further failure, at most 1 day.
 *  - Once commissioned, the setup code is spent: every commissioning message is refused with
 *    COMM_ALREADY_COMMISSIONED until `factoryReset()`.
 *  - A refused message leaves the state and the attempt in progress untouched, except where the
 *    refusal is itself the event (a wrong confirmP or an undecryptable payload ends the attempt).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes as nobleRandomBytes } from "@noble/hashes/utils.js";
import { equalBytes, fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import { type ErrorCode } from "../errors/registry.js";
import {
  decodeMessage,
  encodeMessage,
  resultMessage,
  type Message,
  type MessageOf,
} from "../messages/catalogue.js";
import {
  assertValidShare,
  scalarFromWideBytes,
  verifierFinish,
  verifierShare,
} from "../spake2plus/spake2plus.js";
import {
  SEALED_TYPES,
  SEAL_COUNTER,
  SPAKE_IDS,
  decodeHubKeys,
  directionKeys,
  encodeLockIdentity,
  keyHash,
  open,
  seal,
  spakeContext,
  type DirectionKeys,
  type HubKeys,
  type LockIdentityKeys,
} from "./sealing.js";
import { checkPbkdfParameters, verifierScalar, type CommissioningVerifier } from "./setup-code.js";

export const DEFAULT_WINDOW_MS = 15 * 60_000;

export interface LockoutPolicy {
  /** Consecutive failures allowed before the first lockout. */
  readonly freeAttempts: number;
  /** Lockout after the `freeAttempts`-th failure; doubles with each further failure. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { freeAttempts: 5, baseMs: 60_000, maxMs: 24 * 3600_000 };

/** How long the lock refuses new attempts after `failures` consecutive failures (0 = not locked). */
export function lockoutDuration(failures: number, policy: LockoutPolicy = DEFAULT_LOCKOUT): number {
  if (failures < policy.freeAttempts) return 0;
  const doublings = Math.min(failures - policy.freeAttempts, 40);
  return Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
}

/** Persisted state: JSON-safe (numbers, hex strings, null). */
export interface CommissioningResponderState {
  readonly version: 1;
  /** Set once commissioning completed; cleared only by a factory reset. */
  readonly commissioned: {
    readonly ownerSigningPublicKey: string;
    readonly hubStaticPublicKey: string;
    readonly at: number;
  } | null;
  /** When the window was opened (lock clock, ms); null when closed. */
  readonly windowOpenedAt: number | null;
  readonly consecutiveFailures: number;
  /** When the last failure was counted; the lockout runs from here. */
  readonly lastFailureAt: number | null;
}

export const INITIAL_RESPONDER_STATE: CommissioningResponderState = {
  version: 1,
  commissioned: null,
  windowOpenedAt: null,
  consecutiveFailures: 0,
  lastFailureAt: null,
};

export type CommissioningReport =
  | {
      readonly kind: "commissioned";
      readonly at: number;
      /** First 16 bytes of SHA-256 of each key: what the Commissioned event names. */
      readonly ownerKeyHash: Uint8Array;
      readonly hubKeyHash: Uint8Array;
    }
  | {
      readonly kind: "attempt-failed";
      readonly at: number;
      readonly reason: ErrorCode;
      readonly consecutiveFailures: number;
      /** When new attempts are accepted again; null when not locked out. */
      readonly lockedUntil: number | null;
    };

export interface FactoryResetReport {
  readonly kind: "factory-reset";
  readonly at: number;
  readonly wasCommissioned: boolean;
  /** Hash of the owner key that was erased; null if the lock was not commissioned. */
  readonly previousOwnerKeyHash: Uint8Array | null;
}

export interface ResponderStep {
  /** Bytes to send back (a commissioning message or a Result carrying the refusal code). */
  readonly reply: Uint8Array;
  /** The refusal, when the message was refused. */
  readonly refused: LatchkeyError | null;
  /** Something to journal as a signed event. */
  readonly report: CommissioningReport | null;
}

export interface CommissioningResponderOptions {
  readonly verifier: CommissioningVerifier;
  readonly identity: LockIdentityKeys;
  /** The lock's clock in ms (monotonic enough for windows and lockouts). */
  readonly now: () => number;
  readonly randomBytes?: (n: number) => Uint8Array;
  readonly windowMs?: number;
  readonly lockout?: LockoutPolicy;
  /** State saved from a previous run; a fresh lock starts from INITIAL_RESPONDER_STATE. */
  readonly state?: CommissioningResponderState;
}

type Session =
  | { readonly step: "params-sent"; readonly context: Uint8Array }
  | {
      readonly step: "pake2-sent";
      readonly confirmP: Uint8Array;
      readonly keys: DirectionKeys;
    }
  | {
      readonly step: "identity-sent";
      readonly keys: DirectionKeys;
      readonly hubKeys: HubKeys;
      readonly identityHash: Uint8Array;
    };

function refuse(
  code: ErrorCode,
  message: string,
  details?: Record<string, string | number | boolean>,
): never {
  throw new LatchkeyError(code, message, details);
}

export class CommissioningResponder {
  private persisted: CommissioningResponderState;
  private session: Session | null = null;
  /** Set just before a refusal that is itself an event (a failed attempt), read by `handle`. */
  private pendingFailureReport: CommissioningReport | null = null;
  private readonly verifier: CommissioningVerifier;
  private readonly identity: LockIdentityKeys;
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly windowMs: number;
  private readonly lockout: LockoutPolicy;
  private readonly w0: bigint;

  constructor(options: CommissioningResponderOptions) {
    checkPbkdfParameters(options.verifier.salt, options.verifier.iterations);
    if (options.verifier.w0.length !== 32 || options.verifier.L.length !== 65) {
      throw new LatchkeyError(
        "COMM_INVALID_PARAMETERS",
        "verifier record must hold a 32-byte w0 and a 65-byte L",
      );
    }
    encodeLockIdentity(options.identity);
    this.verifier = options.verifier;
    this.identity = options.identity;
    this.now = options.now;
    this.random = options.randomBytes ?? nobleRandomBytes;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.lockout = options.lockout ?? DEFAULT_LOCKOUT;
    this.w0 = verifierScalar(options.verifier);
    this.persisted = validateState(options.state ?? INITIAL_RESPONDER_STATE);
  }

  /** A copy of the state to persist. */
  get state(): CommissioningResponderState {
    return structuredClone(this.persisted);
  }

  get isCommissioned(): boolean {
    return this.persisted.commissioned !== null;
  }

  /** The keys installed by commissioning, or null. */
  get installedKeys(): HubKeys | null {
    const c = this.persisted.commissioned;
    return c === null
      ? null
      : {
          ownerSigningPublicKey: fromHex(c.ownerSigningPublicKey),
          hubStaticPublicKey: fromHex(c.hubStaticPublicKey),
        };
  }

  /** When the open window closes, or null. */
  get windowClosesAt(): number | null {
    const opened = this.persisted.windowOpenedAt;
    return opened === null ? null : opened + this.windowMs;
  }

  /** When a locked-out lock accepts attempts again, or null when not locked out now. */
  get lockedUntil(): number | null {
    const until = this.lockoutEnd();
    return until !== null && this.now() < until ? until : null;
  }

  /** The step the attempt in progress has reached (for status displays and tests). */
  get phase(): "idle" | Session["step"] {
    return this.session?.step ?? "idle";
  }

  /** Opens the commissioning window (a physical action on the lock: button or keypad). */
  openWindow(): { closesAt: number } {
    if (this.isCommissioned)
      refuse("COMM_ALREADY_COMMISSIONED", "lock is already commissioned; factory reset first");
    this.persisted = { ...this.persisted, windowOpenedAt: this.now() };
    this.session = null;
    return { closesAt: this.now() + this.windowMs };
  }

  closeWindow(): void {
    this.persisted = { ...this.persisted, windowOpenedAt: null };
    this.session = null;
  }

  /**
   * Erases the installed keys and spent state so the setup code works again. The caller must
   * journal the returned report as a signed FactoryReset event before erasing its own keys.
   */
  factoryReset(): FactoryResetReport {
    const c = this.persisted.commissioned;
    const report: FactoryResetReport = {
      kind: "factory-reset",
      at: this.now(),
      wasCommissioned: c !== null,
      previousOwnerKeyHash: c === null ? null : keyHash(fromHex(c.ownerSigningPublicKey)),
    };
    this.persisted = { ...INITIAL_RESPONDER_STATE };
    this.session = null;
    return report;
  }

  /** Handles one received message. Never throws: refusals come back as a Result reply. */
  handle(bytes: Uint8Array): ResponderStep {
    // Echo the request id even when the body does not decode (version u8, type u16, id u32).
    let requestId =
      bytes.length >= 7 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(3) : 0;
    try {
      const env = decodeMessage(bytes);
      requestId = env.requestId;
      return this.dispatch(env.requestId, env.message);
    } catch (e) {
      const err = isLatchkeyError(e)
        ? e
        : new LatchkeyError("LK_INTERNAL", "commissioning responder failed", undefined, { cause: e });
      const retryAfterMs =
        err.code === "COMM_LOCKED_OUT" ? Math.max(0, (this.lockoutEnd() ?? 0) - this.now()) : 0;
      const failure = this.pendingFailureReport;
      this.pendingFailureReport = null;
      return {
        reply: encodeMessage(requestId, resultMessage(err.code, Math.min(retryAfterMs, 0xffffffff))),
        refused: err,
        report: failure,
      };
    }
  }

  private dispatch(requestId: number, message: Message): ResponderStep {
    if (this.isCommissioned) {
      refuse("COMM_ALREADY_COMMISSIONED", "lock is already commissioned; its setup code is spent", {
        kind: message.kind,
      });
    }
    // Only the four hub→lock commissioning steps are accepted; anything else is out of place here.
    if (message.kind === "CommHello") return this.onHello(requestId, message);
    if (message.kind === "CommPake1") return this.onPake1(requestId, message);
    if (message.kind === "CommPake3") return this.onPake3(requestId, message);
    if (message.kind === "CommComplete") return this.onComplete(requestId, message);
    return refuse("COMM_UNEXPECTED_MESSAGE", "not a commissioning request", { kind: message.kind });
  }

  private lockoutEnd(): number | null {
    const last = this.persisted.lastFailureAt;
    const duration = lockoutDuration(this.persisted.consecutiveFailures, this.lockout);
    return last === null || duration === 0 ? null : last + duration;
  }

  private assertWindowOpen(): void {
    const closesAt = this.windowClosesAt;
    if (closesAt === null || this.now() >= closesAt) {
      refuse("COMM_WINDOW_CLOSED", "commissioning window is not open", { expired: closesAt !== null });
    }
  }

  private assertNotLockedOut(): void {
    const until = this.lockedUntil;
    if (until !== null) {
      refuse("COMM_LOCKED_OUT", "too many failed commissioning attempts", {
        consecutiveFailures: this.persisted.consecutiveFailures,
        retryAfterMs: until - this.now(),
      });
    }
  }

  private onHello(requestId: number, m: MessageOf<"CommHello">): ResponderStep {
    this.assertWindowOpen();
    this.assertNotLockedOut();
    const hello = encodeMessage(requestId, m);
    const params = encodeMessage(requestId, {
      kind: "CommParams",
      responderRandom: this.random(32),
      iterations: this.verifier.iterations,
      salt: this.verifier.salt,
    });
    // A new hello abandons any attempt in progress (its failure, if counted, stays counted).
    this.session = { step: "params-sent", context: spakeContext(hello, params) };
    return { reply: params, refused: null, report: null };
  }

  private onPake1(requestId: number, m: MessageOf<"CommPake1">): ResponderStep {
    const session = this.session;
    if (session?.step !== "params-sent") refuse("COMM_UNEXPECTED_MESSAGE", "CommPake1 without a CommHello");
    this.assertWindowOpen();
    this.assertNotLockedOut();
    assertValidShare(m.shareP, "shareP");
    const y = scalarFromWideBytes(this.random(40));
    const shareV = verifierShare(this.w0, y);
    const result = verifierFinish(
      { context: session.context, ...SPAKE_IDS },
      { w0: this.w0, L: this.verifier.L },
      y,
      m.shareP,
      shareV,
    );
    // Count the attempt now: the prover may test its guess against confirmV and walk away.
    this.persisted = {
      ...this.persisted,
      consecutiveFailures: this.persisted.consecutiveFailures + 1,
      lastFailureAt: this.now(),
    };
    this.session = { step: "pake2-sent", confirmP: result.confirmP, keys: directionKeys(result.K_shared) };
    return {
      reply: encodeMessage(requestId, { kind: "CommPake2", shareV, confirmV: result.confirmV }),
      refused: null,
      report: null,
    };
  }

  private onPake3(requestId: number, m: MessageOf<"CommPake3">): ResponderStep {
    const session = this.session;
    if (session?.step !== "pake2-sent") refuse("COMM_UNEXPECTED_MESSAGE", "CommPake3 without a CommPake2");
    this.assertWindowOpen();
    if (!equalBytes(session.confirmP, m.confirmP)) {
      this.session = null;
      this.failAttempt("COMM_CONFIRMATION_FAILED");
      refuse("COMM_CONFIRMATION_FAILED", "confirmP does not match: wrong setup code or tampered exchange");
    }
    let hubKeys: HubKeys;
    try {
      hubKeys = decodeHubKeys(
        open(session.keys.hubToLock, SEAL_COUNTER.pake3, SEALED_TYPES.pake3, m.sealedKeys),
      );
    } catch (e) {
      this.session = null;
      throw e;
    }
    // The code is proven: the failure counted at CommPake1 is cleared.
    this.persisted = { ...this.persisted, consecutiveFailures: 0, lastFailureAt: null };
    const identity = encodeLockIdentity(this.identity);
    this.session = { step: "identity-sent", keys: session.keys, hubKeys, identityHash: sha256(identity) };
    return {
      reply: encodeMessage(requestId, {
        kind: "CommLockIdentity",
        sealedIdentity: seal(
          session.keys.lockToHub,
          SEAL_COUNTER.lockIdentity,
          SEALED_TYPES.lockIdentity,
          identity,
        ),
      }),
      refused: null,
      report: null,
    };
  }

  private onComplete(requestId: number, m: MessageOf<"CommComplete">): ResponderStep {
    const session = this.session;
    if (session?.step !== "identity-sent")
      refuse("COMM_UNEXPECTED_MESSAGE", "CommComplete without a CommLockIdentity");
    this.assertWindowOpen();
    const confirmation = open(
      session.keys.hubToLock,
      SEAL_COUNTER.complete,
      SEALED_TYPES.complete,
      m.sealedConfirmation,
    );
    if (!equalBytes(confirmation, session.identityHash)) {
      refuse("COMM_CONFIRMATION_FAILED", "hub confirmed a different lock identity");
    }
    const at = this.now();
    this.persisted = {
      ...this.persisted,
      commissioned: {
        ownerSigningPublicKey: toHex(session.hubKeys.ownerSigningPublicKey),
        hubStaticPublicKey: toHex(session.hubKeys.hubStaticPublicKey),
        at,
      },
      windowOpenedAt: null,
    };
    this.session = null;
    return {
      reply: encodeMessage(requestId, resultMessage("OK")),
      refused: null,
      report: {
        kind: "commissioned",
        at,
        ownerKeyHash: keyHash(session.hubKeys.ownerSigningPublicKey),
        hubKeyHash: keyHash(session.hubKeys.hubStaticPublicKey),
      },
    };
  }

  private failAttempt(reason: ErrorCode): void {
    const until = this.lockoutEnd();
    this.pendingFailureReport = {
      kind: "attempt-failed",
      at: this.now(),
      reason,
      consecutiveFailures: this.persisted.consecutiveFailures,
      lockedUntil: until !== null && this.now() < until ? until : null,
    };
  }
}

function isHex(s: unknown, bytes: number): boolean {
  return typeof s === "string" && s.length === bytes * 2 && /^[0-9a-f]*$/.test(s);
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a restored state; COMM_INVALID_STATE when it is not one this code wrote. */
export function validateState(s: CommissioningResponderState): CommissioningResponderState {
  const bad = (field: string): never => {
    throw new LatchkeyError("COMM_INVALID_STATE", `commissioning state: ${field} is invalid`, { field });
  };
  if (typeof s !== "object" || s === null) bad("state");
  if (s.version !== 1) bad("version");
  const c = s.commissioned;
  if (c !== null) {
    if (typeof c !== "object") bad("commissioned");
    if (!isHex(c.ownerSigningPublicKey, 32)) bad("commissioned.ownerSigningPublicKey");
    if (!isHex(c.hubStaticPublicKey, 32)) bad("commissioned.hubStaticPublicKey");
    if (!isTime(c.at)) bad("commissioned.at");
  }
  if (s.windowOpenedAt !== null && !isTime(s.windowOpenedAt)) bad("windowOpenedAt");
  if (!isTime(s.consecutiveFailures)) bad("consecutiveFailures");
  if (s.lastFailureAt !== null && !isTime(s.lastFailureAt)) bad("lastFailureAt");
  return structuredClone({
    version: 1,
    commissioned:
      c === null
        ? null
        : {
            ownerSigningPublicKey: c.ownerSigningPublicKey,
            hubStaticPublicKey: c.hubStaticPublicKey,
            at: c.at,
          },
    windowOpenedAt: s.windowOpenedAt,
    consecutiveFailures: s.consecutiveFailures,
    lastFailureAt: s.lastFailureAt,
  });
}
