/**
 * What follows an access decision: a grant collects Dual/Tri credentials, drives the bolt, counts
 * the use, spends a disposable user and signals "granted" (a duress user's grant also raises the
 * silent ForcedUser alarm); a refusal is journaled with its reason, signalled "denied" and, for an
 * unknown or unproven credential, counted towards the wrong-code lockout.
 */
import {
  AlarmCode,
  DenyReason,
  type EventActor,
  type EventDetails,
  EventKind,
  OperatingMode,
  OperationSource,
  type UserIndex,
  UserType,
} from "@latchkey/protocol";
import type { Credential } from "../credentials/credential.js";
import type { Bolt } from "../hardware/bolt.js";
import type { Clock } from "../hardware/hal.js";
import type { LockReporter } from "../journal/event-log.js";
import type { ScheduleBook } from "../schedules/schedule-book.js";
import type { UserBook } from "../users/user-book.js";
import { type User } from "../users/user.js";
import { CredentialCollector } from "./credential-rule.js";
import { decideAccess, type AccessDecision } from "./decide.js";
import { countsAsWrongCode, type WrongCodeLockout } from "./lockout.js";

/** The outcome of one access attempt, as the caller (device, test, demo) sees it. */
export type AttemptResult =
  | { readonly granted: true; readonly userIndex: UserIndex | null }
  | { readonly granted: false; readonly reason: DenyReason; readonly userIndex: UserIndex | null };

export function actorOf(c: Credential | undefined, user?: User): EventActor {
  if (c === undefined) return user === undefined ? {} : { userIndex: user.index };
  return { userIndex: c.userIndex, credentialType: c.type, credentialIndex: c.index };
}

export interface DoorAccessOptions {
  readonly clock: Clock;
  readonly report: LockReporter;
  readonly users: UserBook;
  readonly schedules: ScheduleBook;
  readonly lockout: WrongCodeLockout;
  readonly bolt: Bolt;
  readonly settings: () => { readonly timeZone: string; readonly multiCredentialWindow: number };
  readonly mode: () => OperatingMode;
  /** Persist configuration and counters (a disposable user was spent). */
  readonly persist: () => void;
  /** Persist counters only (uses, lockout, bolt). */
  readonly persistCounters: () => void;
}

export class DoorAccess {
  readonly #o: DoorAccessOptions;
  readonly #collector = new CredentialCollector();

  constructor(options: DoorAccessOptions) {
    this.#o = options;
  }

  /** Forgets a user's partly presented Dual/Tri credentials. */
  forgetPending(userIndex: number): void {
    this.#collector.forget(userIndex);
  }

  /** The access decision for a (matched or unknown) credential from `source`, without acting on it. */
  decide(credential: Credential | undefined, source: OperationSource): AccessDecision {
    const o = this.#o;
    return decideAccess(
      {
        users: o.users.byIndex,
        schedules: o.schedules,
        usage: o.users.usageByIndex,
        timeZone: o.settings().timeZone,
        mode: o.mode(),
        lockoutActive: o.lockout.active,
        nowMs: o.clock.wallMs(),
      },
      credential,
      source,
    );
  }

  /**
   * Whether a proof step (card challenge, phone signature) is worth running: not when the mode
   * opens without validation, nor when a lockout or the mode refuses every credential anyway.
   */
  needsProof(source: OperationSource): boolean {
    const mode = this.#o.mode();
    if (mode === OperatingMode.Passage || mode === OperatingMode.Privacy || this.#o.lockout.active)
      return false;
    return !(mode === OperatingMode.NoRemoteLockUnlock && source === OperationSource.Remote);
  }

  /** A presented credential (undefined: unknown) from `source`: decide, then grant or refuse. */
  attempt(credential: Credential | undefined, source: OperationSource): AttemptResult {
    if (this.#o.mode() === OperatingMode.Passage) {
      // Passage: the door opens without validation (Matter); no user is credited.
      return this.grant(source, undefined, undefined, false, { passage: true });
    }
    const decision = this.decide(credential, source);
    if (!decision.granted) return this.refuseDecision(decision, source, "Unlock");

    const { user } = decision;
    const collected = this.#collector.collect(
      user,
      decision.credential,
      this.#o.clock.monotonicMs(),
      this.#o.settings().multiCredentialWindow * 1000,
    );
    if (!collected.complete) {
      this.#o.lockout.resetWrongCodes();
      this.#o.report.event(EventKind.LockOperationError, actorOf(decision.credential), {
        operation: "Unlock",
        reason: DenyReason.CredentialRuleIncomplete,
        source,
        presented: collected.presented,
        required: collected.required,
      });
      this.#o.report.indicate("denied");
      return { granted: false, reason: DenyReason.CredentialRuleIncomplete, userIndex: user.index };
    }
    const required = collected.required;
    return this.grant(
      source,
      decision.credential,
      user,
      decision.forced,
      required > 1 ? { credentials: required } : {},
    );
  }

  /** Opens the door for an allowed access and journals it (`extra` joins the event's details). */
  grant(
    source: OperationSource,
    credential: Credential | undefined,
    user: User | undefined,
    forced: boolean,
    extra: EventDetails,
  ): AttemptResult {
    const o = this.#o;
    const actor = actorOf(credential, user);
    const onEmergencyPower = o.bolt.onEmergencyPower;
    if (!o.bolt.motorMayRun)
      return this.refuse(DenyReason.InsufficientBattery, source, credential, "Unlock", user);
    const unlocked = o.bolt.unlockForAccess(source, actor);
    if (!unlocked.ok) {
      o.report.indicate("denied");
      return { granted: false, reason: unlocked.reason, userIndex: user?.index ?? null };
    }
    if (user !== undefined) o.users.recordUse(user, o.clock.wallMs());
    o.lockout.resetWrongCodes();
    o.persistCounters();
    o.report.event(EventKind.LockOperation, actor, {
      operation: forced ? "ForcedUserEvent" : "Unlock",
      source,
      motorMs: unlocked.motorMs,
      ...(onEmergencyPower ? { emergencyPower: true } : {}),
      ...extra,
    });
    // Duress: the alarm goes to the journal (and so to the hub); the door shows a normal "granted".
    if (forced) o.report.event(EventKind.Alarm, actor, { alarm: AlarmCode.ForcedUser });
    if (user?.type === UserType.DisposableUser) {
      o.users.disable(user.index);
      o.persist();
      o.report.event(
        EventKind.UserChange,
        { userIndex: user.index },
        { dataType: "User", operation: "Modify", enabled: false, reason: "disposable-used" },
      );
    }
    o.report.indicate("granted");
    o.bolt.scheduleRelock();
    return { granted: true, userIndex: user?.index ?? null };
  }

  refuseDecision(
    decision: Extract<AccessDecision, { granted: false }>,
    source: OperationSource,
    operation: string,
  ): AttemptResult {
    return this.refuse(decision.reason, source, decision.credential, operation, decision.user);
  }

  /** Journals and signals a refusal; an unknown or unproven credential counts as a wrong code. */
  refuse(
    reason: DenyReason,
    source: OperationSource,
    credential: Credential | undefined,
    operation = "Unlock",
    user?: User,
    extra: EventDetails = {},
  ): AttemptResult {
    const actor = actorOf(credential, user);
    if (reason === DenyReason.NonAccessUser) {
      // Matter: a non-access user is recognised and only generates an event.
      this.#o.report.event(EventKind.LockOperation, actor, {
        operation: "NonAccessUserEvent",
        source,
        reason,
      });
    } else {
      this.#o.report.event(EventKind.LockOperationError, actor, { ...extra, operation, reason, source });
    }
    this.#o.report.indicate("denied");
    if (countsAsWrongCode(reason)) this.#o.lockout.countWrongCode();
    return {
      granted: false,
      reason,
      userIndex: actor.userIndex === undefined ? null : (actor.userIndex as UserIndex),
    };
  }

  /**
   * Remote unlock on a person's verified authority (`authority` names it in the event). The mode
   * still applies: Privacy and NoRemoteLockUnlock refuse; Passage notes that it was open anyway.
   */
  unlockForPerson(authority: EventDetails): AttemptResult {
    const mode = this.#o.mode();
    if (mode === OperatingMode.Privacy || mode === OperatingMode.NoRemoteLockUnlock)
      return this.refuseRemote(DenyReason.ModeForbids, "Unlock", authority, OperationSource.Remote);
    const details = mode === OperatingMode.Passage ? { ...authority, passage: true } : authority;
    return this.grant(OperationSource.Remote, undefined, undefined, false, details);
  }

  /**
   * Remote lock (Matter LockDoor): refused in Privacy and NoRemoteLockUnlock. `pin` is the matched
   * PIN credential when RequirePINforRemoteOperation is on (undefined: no match), null when off.
   */
  remoteLock(pin: Credential | undefined | null): AttemptResult {
    const mode = this.#o.mode();
    if (mode === OperatingMode.Privacy || mode === OperatingMode.NoRemoteLockUnlock) {
      return this.refuse(DenyReason.ModeForbids, OperationSource.Remote, undefined, "Lock");
    }
    if (pin !== null) {
      const decision = this.decide(pin, OperationSource.Remote);
      if (!decision.granted) return this.refuseDecision(decision, OperationSource.Remote, "Lock");
    }
    const credential = pin ?? undefined;
    this.#o.bolt.drive("Locked", OperationSource.Remote, actorOf(credential));
    return { granted: true, userIndex: credential?.userIndex ?? null };
  }

  /**
   * Journals a refused remote request (no person's authority, a failed passkey check) without
   * counting it as a wrong code: the hub must not be able to lock the keypad out.
   */
  refuseRemote(
    reason: DenyReason,
    operation: "Lock" | "Unlock",
    details: EventDetails,
    source: OperationSource,
  ): AttemptResult {
    this.#o.report.event(EventKind.LockOperationError, {}, { ...details, operation, reason, source });
    this.#o.report.indicate("denied");
    return { granted: false, reason, userIndex: null };
  }
}
