/**
 * The lock runtime ("firmware"): owns users, credentials, schedules and settings, decides every
 * access attempt offline, drives the motor, watches the door, tamper switches and battery, and
 * journals everything. Persistent state lives in one directory (keys.bin, state.json, the
 * journal); restarting from it restores everything and appends a Boot event.
 */
import { mkdirSync } from "node:fs";
import {
  AlarmCode,
  DenyReason,
  EventKind,
  LatchkeyError,
  OperationSource,
  toHex,
  type CredentialIndex,
  type Ed25519,
  type EpochMs,
  type EventActor,
  type EventDetails,
  type LockId,
  type SignedLockEvent,
  type UserIndex,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { commissioningKeyHash, lockIdBytesFromPublicKey } from "@latchkey/protocol";
import { certificatePhoneKeyCheck } from "../commissioning/certificate-check.js";
import { LockCommissioning, type LockCommissioningOptions } from "../commissioning/lock-commissioning.js";
import { decideAccess, type AccessDecision, type UserUsage } from "../access/decide.js";
import { checkCardResponse } from "../credentials/card-challenge.js";
import {
  checkCardKey,
  checkCardUid,
  checkPhoneKey,
  checkTemplateRef,
  lookupKey,
  type Credential,
  type CredentialType,
  type PhoneKeyAlgorithm,
} from "../credentials/credential.js";
import { CredentialStore } from "../credentials/credential-store.js";
import { pinHash, sameHash } from "../credentials/pin-hash.js";
import { checkPin } from "../credentials/pin-policy.js";
import {
  PhoneChallenges,
  verifyPhoneKeyPresentation,
  type PhoneKeyPolicy,
  type PhoneKeyPresentation,
} from "../credentials/phone-key.js";
import type {
  BoltState,
  CardAnswer,
  LockHardware,
  LockInputs,
  TamperKind,
  TimerHandle,
} from "../hardware/hal.js";
import { FileJournal } from "../journal/file-journal.js";
import type { Journal } from "../journal/journal.js";
import { MemoryJournal } from "../journal/memory-journal.js";
import { loadOrCreateKeys } from "../persistence/lock-keys.js";
import { wrapKeyFrom } from "../persistence/secret-wrap.js";
import {
  loadState,
  saveCounters,
  saveState,
  type BatteryStage,
  type LockCounters,
  type LockStateSnapshot,
} from "../persistence/state-file.js";
import { ScheduleBook, type ScheduleCapacity } from "../schedules/schedule-book.js";
import {
  checkHoliday,
  checkScheduleIndex,
  checkWeekDay,
  checkYearDay,
  type HolidaySchedule,
  type WeekDaySchedule,
  type YearDaySchedule,
} from "../schedules/schedule.js";
import { OperatingMode } from "../settings/operating-mode.js";
import { applySettings, DEFAULT_SETTINGS, pinPolicyOf, type LockSettings } from "../settings/settings.js";
import {
  buildUser,
  checkUserIndex,
  CREDENTIALS_REQUIRED,
  UserType,
  type User,
  type UserInput,
} from "../users/user.js";

export interface LockCapacity extends ScheduleCapacity {
  readonly users: number;
  readonly credentialsPerType: number;
}

export const DEFAULT_CAPACITY: LockCapacity = {
  users: 2000,
  credentialsPerType: 10_000,
  weekDayPerUser: 10,
  yearDayPerUser: 10,
  holidays: 32,
};

export interface JournalParams {
  readonly dir: string;
  readonly signingSeed: Uint8Array;
  readonly bootId: Uint8Array;
  readonly ed25519: Ed25519;
  /** The hardware's monotonic clock (ms since boot): stamped on every event (journal format v2). */
  readonly monotonicMs: () => number;
}

/** A journal the runtime may close on shutdown (file journals hold the directory). */
export type RuntimeJournal = Journal & { close?: () => void };

/** Opens (or creates) the lock's journal; given the signing seed, never logs it. */
export type JournalFactory = (params: JournalParams) => RuntimeJournal;

/** The default: the durable file journal in the lock's directory. */
export const fileJournalFactory: JournalFactory = (p) =>
  FileJournal.open({
    dir: p.dir,
    signingSeed: p.signingSeed,
    bootId: p.bootId,
    ed25519: p.ed25519,
    monotonicMs: p.monotonicMs,
  });

/** In-memory journal (benchmarks, throwaway demos): nothing survives a restart. */
export const memoryJournalFactory: JournalFactory = (p) =>
  new MemoryJournal({
    signingSeed: p.signingSeed,
    bootId: p.bootId,
    ed25519: p.ed25519,
    monotonicMs: p.monotonicMs,
  });

/**
 * Largest clock step (either way) the lock takes from the hub once it knows the time: drift
 * correction needs seconds; anything bigger could move a signed event in or out of an evidence
 * window, so it needs a person's authorisation (`setTimeByPerson`). docs/lock-runtime.md.
 */
export const CLOCK_STEP_LIMIT_MS = 5 * 60_000;

export interface LockRuntimeOptions {
  readonly dir: string;
  readonly hardware: LockHardware;
  /** Default: `fileJournalFactory`. */
  readonly journal?: JournalFactory;
  readonly ed25519?: Ed25519;
  readonly capacity?: Partial<LockCapacity>;
  /** Extra phone-key checks (certificates) after the signature check. */
  readonly phoneKeyExtraCheck?: PhoneKeyPolicy["extraCheck"];
  /** Settings for a lock that starts for the first time (ignored afterwards). */
  readonly initialSettings?: Partial<LockSettings>;
  readonly bootReason?: "power-on" | "reset" | "watchdog";
  /** Manufacture-time choices for a new lock's commissioning (setup code, PBKDF2 cost, window). */
  readonly commissioning?: LockCommissioningOptions;
  /** Manufacture-time clock step bound (default CLOCK_STEP_LIMIT_MS); no message can change it. */
  readonly clockStepLimitMs?: number;
}

/** A remote unlock a person authorised with a verified passkey assertion (see link/). */
export interface PersonAuthorization {
  readonly certificateSerial: bigint;
  readonly subjectId: Uint8Array;
  /** The proposal and snapshot hash the person's passkey signed (via the unlock intent), named in the event. */
  readonly proposalId: Uint8Array;
  readonly snapshotHash: Uint8Array;
}

/** The outcome of one access attempt, as the caller (device, test, demo) sees it. */
export type AttemptResult =
  | { readonly granted: true; readonly userIndex: UserIndex | null }
  | { readonly granted: false; readonly reason: DenyReason; readonly userIndex: UserIndex | null };

/** A user-visible signal at the door. A forced (duress) user gets exactly the normal "granted". */
export type Indication = "granted" | "denied" | "alarm";

/** Public view of a credential: never the PIN hash or a card key. */
export interface CredentialInfo {
  readonly type: CredentialType;
  readonly index: CredentialIndex;
  readonly userIndex: UserIndex;
}

const COUNTS_AS_WRONG_CODE = new Set<DenyReason>([DenyReason.UnknownCredential, DenyReason.BadSignature]);

function actorOf(c: Credential | undefined, user?: User): EventActor {
  if (c === undefined) return user === undefined ? {} : { userIndex: user.index };
  return { userIndex: c.userIndex, credentialType: c.type, credentialIndex: c.index };
}

export class LockRuntime implements LockInputs {
  readonly lockId: LockId;
  readonly lockIdBytes: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly bootId: Uint8Array;

  readonly #dir: string;
  readonly #hw: LockHardware;
  readonly #journal: RuntimeJournal;
  readonly #pinSecret: Uint8Array;
  readonly #wrapKey: Uint8Array;
  readonly #capacity: LockCapacity;
  readonly #phonePolicy: PhoneKeyPolicy;
  readonly #commissioning: LockCommissioning;
  readonly #clockStepLimitMs: number;
  readonly #users = new Map<number, User>();
  readonly #credentials: CredentialStore;
  readonly #schedules = new ScheduleBook();
  readonly #usage = new Map<number, UserUsage>();
  readonly #pendingMulti = new Map<number, { keys: Set<string>; startedMono: number }>();
  readonly #eventListeners = new Set<(e: SignedLockEvent) => void>();
  readonly #indicationListeners = new Set<(i: Indication) => void>();
  #phoneChallenges: PhoneChallenges;
  #settings: LockSettings;
  #bolt: BoltState;
  #bootCount: number;
  #failedAttempts = 0;
  #lockoutEndsMono: number | null = null;
  #lockoutEndsWall: number | null = null;
  #lockoutDurationMs = 0;
  #batteryStage: BatteryStage = 0;
  #doorAjarRaised = false;
  #escutcheonRemoved = false;
  #relockWhenClosed = false;
  #poweredOff = false;
  /** The counted commissioning failure already journaled as abandoned. */
  #abandonedAttempt = "";
  readonly #timers: {
    relock?: TimerHandle;
    ajar?: TimerHandle;
    lockout?: TimerHandle;
    heartbeat?: TimerHandle;
  } = {};

  private constructor(opts: LockRuntimeOptions) {
    this.#dir = opts.dir;
    this.#hw = opts.hardware;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const { keys } = loadOrCreateKeys(opts.dir, (n) => this.#hw.randomBytes(n));
    this.#pinSecret = keys.pinSecret;
    this.#wrapKey = wrapKeyFrom(keys.pinSecret);
    const ed25519 = opts.ed25519 ?? nodeEd25519;
    this.publicKey = ed25519.publicKey(keys.signingSeed);
    this.lockIdBytes = lockIdBytesFromPublicKey(this.publicKey);
    this.lockId = toHex(this.lockIdBytes) as LockId;
    this.bootId = this.#hw.randomBytes(16);
    this.#capacity = { ...DEFAULT_CAPACITY, ...opts.capacity };
    this.#clockStepLimitMs = opts.clockStepLimitMs ?? CLOCK_STEP_LIMIT_MS;
    this.#credentials = new CredentialStore(this.#capacity.credentialsPerType);
    this.#commissioning = LockCommissioning.open({
      dir: opts.dir,
      random: (n) => this.#hw.randomBytes(n),
      monotonicMs: () => this.#hw.clock.monotonicMs(),
      signingPublicKey: this.publicKey,
      ed25519,
      ...(opts.commissioning ? { options: opts.commissioning } : {}),
    });
    this.#phonePolicy = {
      ed25519,
      extraCheck:
        opts.phoneKeyExtraCheck ??
        certificatePhoneKeyCheck({ commissioning: this.#commissioning, doorId: this.lockIdBytes, ed25519 }),
    };

    const snapshot = loadState(opts.dir, this.#wrapKey);
    this.#settings = applySettings(DEFAULT_SETTINGS, opts.initialSettings ?? {});
    this.#bolt = "Locked";
    this.#bootCount = 1;
    if (snapshot !== null) this.#restore(snapshot);
    this.#phoneChallenges = new PhoneChallenges(this.#settings.phoneChallengeTime * 1000);
    this.#journal = (opts.journal ?? fileJournalFactory)({
      dir: opts.dir,
      signingSeed: keys.signingSeed,
      bootId: this.bootId,
      ed25519,
      monotonicMs: () => this.#hw.clock.monotonicMs(),
    });
    this.#persist();
    this.#emit(EventKind.Boot, {}, { reason: opts.bootReason ?? "power-on", bootCount: this.#bootCount });
    this.#resumeLockout(snapshot);
  }

  /** Starts the lock from its directory (creating keys and state on first start). */
  static start(opts: LockRuntimeOptions): LockRuntime {
    return new LockRuntime(opts);
  }

  // ---------------------------------------------------------------- views

  get settings(): LockSettings {
    return this.#settings;
  }
  get boltState(): BoltState {
    return this.#bolt;
  }
  get bootCount(): number {
    return this.#bootCount;
  }
  get journal(): Journal {
    return this.#journal;
  }
  /** Commissioning state, installed owner/hub keys, channel key, revocation list. */
  get commissioning(): LockCommissioning {
    return this.#commissioning;
  }
  /** The setup code, only on the lock's very first start (for its label); null afterwards. */
  get setupCode(): string | null {
    return this.#commissioning.setupCode;
  }
  get doorOpen(): boolean {
    return this.#hw.door.isOpen();
  }
  get batteryPercent(): number {
    return this.#hw.power.batteryPercent();
  }
  /** The lock's clock (null when it does not know the time). */
  get wallMs(): EpochMs | null {
    return this.#hw.clock.wallMs();
  }
  get lockoutActive(): boolean {
    return this.#lockoutEndsMono !== null && this.#hw.clock.monotonicMs() < this.#lockoutEndsMono;
  }
  get failedAttempts(): number {
    return this.#failedAttempts;
  }
  /** The operating mode in force now: a holiday schedule's mode overrides the configured one. */
  get effectiveMode(): OperatingMode {
    return this.#schedules.holidayMode(this.#hw.clock.wallMs()) ?? this.#settings.operatingMode;
  }
  get scheduleEntryCount(): number {
    return this.#schedules.entryCount;
  }
  user(index: number): User | undefined {
    return this.#users.get(index);
  }
  users(): User[] {
    return [...this.#users.values()].sort((a, b) => a.index - b.index);
  }
  usage(index: number): UserUsage | undefined {
    return this.#usage.get(index);
  }
  credentials(): CredentialInfo[] {
    return this.#credentials.all().map((c) => ({ type: c.type, index: c.index, userIndex: c.userIndex }));
  }
  get credentialCount(): number {
    return this.#credentials.size;
  }

  onEvent(fn: (e: SignedLockEvent) => void): () => void {
    this.#eventListeners.add(fn);
    return () => this.#eventListeners.delete(fn);
  }
  onIndication(fn: (i: Indication) => void): () => void {
    this.#indicationListeners.add(fn);
    return () => this.#indicationListeners.delete(fn);
  }

  // ---------------------------------------------------------------- administration

  /** Adds a user at `index` (or the first free index). Journals UserChange Add. */
  addUser(input: UserInput, index?: number): UserIndex {
    this.#alive();
    const idx = index === undefined ? this.#freeUserIndex() : checkUserIndex(index, this.#capacity.users);
    if (this.#users.has(idx)) {
      throw new LatchkeyError("LOCK_USER_EXISTS", `user index ${idx} is occupied`, { userIndex: idx });
    }
    const user = buildUser(idx, input);
    this.#users.set(idx, user);
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: idx },
      { dataType: "User", operation: "Add", userType: user.type },
    );
    return idx;
  }

  modifyUser(index: number, input: UserInput): void {
    this.#alive();
    const base = this.#requireUser(index);
    const user = buildUser(base.index, input, base);
    this.#users.set(base.index, user);
    if (user.enabled && !base.enabled) this.#pendingMulti.delete(base.index);
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: base.index },
      { dataType: "User", operation: "Modify", userType: user.type, enabled: user.enabled },
    );
  }

  /** Removes a user with all its credentials, schedules and usage. */
  clearUser(index: number): void {
    this.#alive();
    const user = this.#requireUser(index);
    this.#dropUser(user.index);
    this.#persist();
    this.#emit(EventKind.UserChange, { userIndex: user.index }, { dataType: "User", operation: "Clear" });
  }

  /** Resets use count and first-use time (re-arms a disposable, expiring or counted user). */
  resetUsage(index: number): void {
    this.#alive();
    const user = this.#requireUser(index);
    this.#usage.delete(user.index);
    this.#persist();
    this.#emit(EventKind.UserChange, { userIndex: user.index }, { dataType: "Usage", operation: "Clear" });
  }

  setPin(userIndex: number, pin: string, credentialIndex?: number): CredentialIndex {
    this.#alive();
    checkPin(pin, pinPolicyOf(this.#settings));
    return this.#putCredential(userIndex, credentialIndex, "PIN", (index, user) => ({
      type: "PIN",
      index,
      userIndex: user,
      hash: pinHash(this.#pinSecret, pin),
    }));
  }

  /** A card by UID; with `key`, a challenge-response card that must answer the lock's challenge. */
  setCard(userIndex: number, uid: Uint8Array, key?: Uint8Array, credentialIndex?: number): CredentialIndex {
    this.#alive();
    checkCardUid(uid);
    if (key !== undefined) checkCardKey(key);
    return this.#putCredential(userIndex, credentialIndex, "RFID", (index, user) =>
      key === undefined
        ? { type: "RFID", index, userIndex: user, uid: uid.slice() }
        : { type: "RFID", index, userIndex: user, uid: uid.slice(), key: key.slice() },
    );
  }

  setFingerprint(userIndex: number, templateRef: number, credentialIndex?: number): CredentialIndex {
    this.#alive();
    checkTemplateRef(templateRef);
    return this.#putCredential(userIndex, credentialIndex, "Fingerprint", (index, user) => ({
      type: "Fingerprint",
      index,
      userIndex: user,
      templateRef,
    }));
  }

  setPhoneKey(
    userIndex: number,
    algorithm: PhoneKeyAlgorithm,
    publicKey: Uint8Array,
    credentialIndex?: number,
  ): CredentialIndex {
    this.#alive();
    checkPhoneKey(algorithm, publicKey);
    return this.#putCredential(userIndex, credentialIndex, "PhoneKey", (index, user) => ({
      type: "PhoneKey",
      index,
      userIndex: user,
      algorithm,
      publicKey: publicKey.slice(),
    }));
  }

  /**
   * Removes a credential. As in Matter, clearing a user's last credential clears the user too
   * (replace a PIN in place with `setPin(user, pin, credentialIndex)` to keep the user).
   */
  clearCredential(type: CredentialType, index: number): void {
    this.#alive();
    const c = this.#credentials.require(type, index);
    this.#credentials.remove(type, index);
    this.#pendingMulti.delete(c.userIndex);
    const lastOne = this.#credentials.countOfUser(c.userIndex) === 0;
    if (lastOne) this.#dropUser(c.userIndex);
    this.#persist();
    this.#emit(EventKind.UserChange, actorOf(c), { dataType: type, operation: "Clear" });
    if (lastOne) {
      this.#emit(
        EventKind.UserChange,
        { userIndex: c.userIndex },
        { dataType: "User", operation: "Clear", reason: "last-credential" },
      );
    }
  }

  setWeekDaySchedule(userIndex: number, schedule: WeekDaySchedule): void {
    this.#alive();
    const user = this.#requireUser(userIndex);
    checkScheduleIndex(schedule.index, this.#capacity.weekDayPerUser);
    checkWeekDay(schedule);
    const existed = this.#schedules.weekDay.get(user.index)?.has(schedule.index) === true;
    this.#schedules.putWeekDay(user.index, { ...schedule });
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "WeekDaySchedule", operation: existed ? "Modify" : "Add", scheduleIndex: schedule.index },
    );
  }

  setYearDaySchedule(userIndex: number, schedule: YearDaySchedule): void {
    this.#alive();
    const user = this.#requireUser(userIndex);
    checkScheduleIndex(schedule.index, this.#capacity.yearDayPerUser);
    checkYearDay(schedule);
    const existed = this.#schedules.yearDay.get(user.index)?.has(schedule.index) === true;
    this.#schedules.putYearDay(user.index, { ...schedule });
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "YearDaySchedule", operation: existed ? "Modify" : "Add", scheduleIndex: schedule.index },
    );
  }

  setHolidaySchedule(schedule: HolidaySchedule): void {
    this.#alive();
    checkScheduleIndex(schedule.index, this.#capacity.holidays);
    checkHoliday(schedule);
    const existed = this.#schedules.holidays.has(schedule.index);
    this.#schedules.holidays.set(schedule.index, { ...schedule });
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      {},
      {
        dataType: "HolidaySchedule",
        operation: existed ? "Modify" : "Add",
        scheduleIndex: schedule.index,
        operatingMode: schedule.operatingMode,
      },
    );
  }

  clearWeekDaySchedule(userIndex: number, index: number): void {
    this.#alive();
    const user = this.#requireUser(userIndex);
    this.#schedules.removeWeekDay(user.index, index);
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "WeekDaySchedule", operation: "Clear", scheduleIndex: index },
    );
  }

  clearYearDaySchedule(userIndex: number, index: number): void {
    this.#alive();
    const user = this.#requireUser(userIndex);
    this.#schedules.removeYearDay(user.index, index);
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "YearDaySchedule", operation: "Clear", scheduleIndex: index },
    );
  }

  clearHolidaySchedule(index: number): void {
    this.#alive();
    this.#schedules.removeHoliday(index);
    this.#persist();
    this.#emit(
      EventKind.UserChange,
      {},
      { dataType: "HolidaySchedule", operation: "Clear", scheduleIndex: index },
    );
  }

  /** Changes settings (validated as a whole first); one ConfigChange event per changed setting. */
  updateSettings(patch: Partial<LockSettings>): void {
    this.#alive();
    const next = applySettings(this.#settings, patch);
    if (next.operatingMode !== this.#settings.operatingMode) this.#checkModeEntry(next.operatingMode);
    const before = this.#settings;
    this.#settings = next;
    this.#phoneChallenges = new PhoneChallenges(next.phoneChallengeTime * 1000);
    this.#persist();
    for (const key of Object.keys(next) as (keyof LockSettings)[]) {
      if (next[key] !== before[key])
        this.#emit(EventKind.ConfigChange, {}, { setting: key, value: next[key] });
    }
    if (next.operatingMode !== before.operatingMode)
      this.#modeChanged(before.operatingMode, next.operatingMode);
  }

  setOperatingMode(mode: OperatingMode): void {
    this.updateSettings({ operatingMode: mode });
  }

  /** The largest clock step `setTime` takes without a person's authorisation. */
  get clockStepLimitMs(): number {
    return this.#clockStepLimitMs;
  }

  /**
   * Sets the real-time clock (from the hub, a phone, NTP); journals ClockSet with the old and new
   * time. A clock the lock does not know may be set to anything; a known clock moves at most
   * `clockStepLimitMs` either way per call. A larger step changes nothing, journals a signed
   * ClockSetRefused (the attempt itself is evidence) and throws LOCK_CLOCK_STEP_REFUSED: only a
   * person may authorise it (`setTimeByPerson`).
   */
  setTime(ms: EpochMs, source: string): void {
    this.#alive();
    this.#checkTime(ms);
    const from = this.#hw.clock.wallMs();
    const src = source.slice(0, 32);
    if (from !== null && Math.abs(ms - from) > this.#clockStepLimitMs) {
      this.#emit(
        EventKind.ClockSetRefused,
        {},
        { fromMs: from, toMs: ms, source: src, limitMs: this.#clockStepLimitMs },
      );
      throw new LatchkeyError(
        "LOCK_CLOCK_STEP_REFUSED",
        `a clock step of ${Math.round((ms - from) / 1000)} s is larger than the lock's bound of ${this.#clockStepLimitMs / 1000} s; a person must authorise it`,
        { fromMs: from, toMs: ms, limitMs: this.#clockStepLimitMs },
      );
    }
    this.#hw.clock.setWallMs(ms);
    this.#emit(EventKind.ClockSet, {}, { ...(from === null ? {} : { fromMs: from }), toMs: ms, source: src });
  }

  #checkTime(ms: EpochMs): void {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new LatchkeyError("LOCK_SETTING_INVALID", "time must be a non-negative epoch millisecond", {
        setting: "time",
      });
    }
  }

  // ---------------------------------------------------------------- commissioning and trust

  /**
   * One commissioning message (clear PAKE exchange) → the reply to send. Journals Commissioned
   * (owner and hub key hashes) and every failed attempt; never throws for bad input.
   */
  handleCommissioningMessage(bytes: Uint8Array): Uint8Array {
    this.#alive();
    const responder = this.#commissioning.responder;
    // A hub that learns from confirmV that its code is wrong walks away without CommPake3; the
    // responder has counted the failure. Journal it when the next attempt says hello.
    const isHello = bytes.length >= 3 && bytes[1] === 0x01 && bytes[2] === 0x01;
    if (isHello && responder.phase === "pake2-sent") {
      const s = responder.state;
      const mark = `${s.consecutiveFailures}@${s.lastFailureAt ?? 0}`;
      if (mark !== this.#abandonedAttempt) {
        this.#abandonedAttempt = mark;
        this.#emit(
          EventKind.LockOperationError,
          {},
          {
            operation: "Commission",
            reason: DenyReason.BadSignature,
            error: "abandoned",
            consecutiveFailures: s.consecutiveFailures,
            lockedOut: responder.lockedUntil !== null,
          },
        );
      }
    }
    const step = this.#commissioning.handle(bytes);
    const r = step.report;
    if (r?.kind === "commissioned") {
      this.#emit(EventKind.Commissioned, {}, { ownerKeyHash: r.ownerKeyHash, hubKeyHash: r.hubKeyHash });
    } else if (r?.kind === "attempt-failed") {
      this.#emit(
        EventKind.LockOperationError,
        {},
        {
          operation: "Commission",
          reason: DenyReason.BadSignature,
          error: r.reason,
          consecutiveFailures: r.consecutiveFailures,
          lockedOut: r.lockedUntil !== null,
        },
      );
    }
    return step.reply;
  }

  /**
   * Factory reset: journals a signed FactoryReset event first, then erases every user,
   * credential, schedule, setting and the installed owner/hub keys and revocation list, and
   * reopens the commissioning window (the printed setup code works again). The lock's own
   * identity keys and its journal (and its sequence numbers) stay.
   */
  factoryReset(): void {
    this.#alive();
    const owner = this.#commissioning.ownerPublicKey;
    this.#emit(
      EventKind.FactoryReset,
      {},
      {
        wasCommissioned: owner !== null,
        ...(owner === null ? {} : { previousOwnerKeyHash: commissioningKeyHash(owner) }),
        users: this.#users.size,
        credentials: this.#credentials.size,
      },
    );
    for (const index of [...this.#users.keys()]) this.#dropUser(index);
    this.#schedules.holidays.clear();
    this.#settings = applySettings(DEFAULT_SETTINGS, {});
    this.#phoneChallenges = new PhoneChallenges(this.#settings.phoneChallengeTime * 1000);
    this.#failedAttempts = 0;
    this.#timers.lockout?.cancel();
    this.#lockoutEndsMono = null;
    this.#lockoutEndsWall = null;
    this.#lockoutDurationMs = 0;
    this.#commissioning.factoryReset();
    this.#persist();
    this.#alarm(AlarmCode.LockFactoryReset);
  }

  /** Installs an owner-signed revocation list (monotonic); journals the new version. */
  installRevocationList(bytes: Uint8Array): { ok: true; version: number } | { ok: false; reason: string } {
    this.#alive();
    const before = this.#commissioning.revocation?.version ?? 0;
    const verdict = this.#commissioning.installRevocationList(bytes);
    if (!verdict.ok) return { ok: false, reason: verdict.reason };
    const version = verdict.list.listVersion;
    if (version !== before)
      this.#emit(EventKind.ConfigChange, {}, { setting: "revocationListVersion", value: version });
    return { ok: true, version };
  }

  /** Journals the lock's acknowledgement of a ledger checkpoint (docs/ledger.md). */
  acknowledgeCheckpoint(treeSize: number, checkpointHash: Uint8Array): SignedLockEvent {
    this.#alive();
    if (!Number.isSafeInteger(treeSize) || treeSize < 1 || checkpointHash.length !== 32) {
      throw new LatchkeyError(
        "LOCK_SETTING_INVALID",
        "checkpoint ack needs a tree size ≥ 1 and a 32-byte hash",
        {
          setting: "checkpoint",
        },
      );
    }
    return this.#emit(EventKind.CheckpointAck, {}, { checkpointHash: checkpointHash.slice(), treeSize });
  }

  /**
   * Remote unlock authorised by a person: the caller (link/) has verified their passkey assertion
   * over a challenge this lock issued, against an owner-signed certificate with the remote-unlock
   * permission. The mode still applies (Privacy, NoRemoteLockUnlock refuse).
   */
  remoteUnlockByPerson(a: PersonAuthorization): AttemptResult {
    this.#alive();
    const details: EventDetails = {
      authority: "passkey",
      certificateSerial: a.certificateSerial.toString(),
      subjectId: a.subjectId.slice(),
      proposalId: a.proposalId.slice(),
      snapshotHash: a.snapshotHash.slice(),
    };
    const mode = this.effectiveMode;
    if (mode === OperatingMode.Privacy || mode === OperatingMode.NoRemoteLockUnlock)
      return this.refuseRemote(DenyReason.ModeForbids, "Unlock", details);
    return this.#grantMotion(
      OperationSource.Remote,
      undefined,
      undefined,
      false,
      mode === OperatingMode.Passage ? { ...details, passage: true } : details,
    );
  }

  /**
   * Journals a refused remote request (no person's authority, a failed passkey check) without
   * counting it as a wrong code: the hub must not be able to lock the keypad out.
   */
  refuseRemote(
    reason: DenyReason,
    operation: "Lock" | "Unlock",
    details: EventDetails = {},
    source: OperationSource = OperationSource.Remote,
  ): AttemptResult {
    this.#alive();
    this.#emit(EventKind.LockOperationError, {}, { ...details, operation, reason, source });
    this.#indicate("denied");
    return { granted: false, reason, userIndex: null };
  }

  // ---------------------------------------------------------------- access attempts (LockInputs)

  keypadPin(pin: string): void {
    this.attemptPin(pin, OperationSource.Keypad);
  }

  /** A PIN typed at the keypad (or carried by a remote command when source is Remote). */
  attemptPin(pin: string, source: OperationSource): AttemptResult {
    this.#alive();
    // Look up by keyed hash (no scan); then compare in constant time.
    // Longer than any PIN can be: unknown without hashing (bounded work per attempt).
    const usable = typeof pin === "string" && pin.length <= 12;
    const hash = pinHash(this.#pinSecret, usable ? pin : "");
    const found = usable ? this.#credentials.find("PIN:" + Buffer.from(hash).toString("hex")) : undefined;
    const credential = found?.type === "PIN" && sameHash(found.hash, hash) ? found : undefined;
    return this.#attempt(credential, source);
  }

  cardPresented(uid: Uint8Array, answer?: CardAnswer): void {
    this.attemptCard(uid, answer);
  }

  attemptCard(uid: Uint8Array, answer?: CardAnswer): AttemptResult {
    this.#alive();
    const credential = this.#credentials.find("RFID:" + Buffer.from(uid).toString("hex"));
    if (
      credential?.type === "RFID" &&
      credential.key !== undefined &&
      this.#needsProof(OperationSource.RFID)
    ) {
      const challenge = this.#hw.randomBytes(16);
      const response = answer?.(challenge);
      if (response === undefined || !checkCardResponse(credential.key, credential.uid, challenge, response)) {
        return this.#deny(DenyReason.BadSignature, OperationSource.RFID, credential);
      }
    }
    return this.#attempt(credential, OperationSource.RFID);
  }

  fingerprintMatched(templateRef: number): void {
    this.attemptFingerprint(templateRef);
  }

  attemptFingerprint(templateRef: number): AttemptResult {
    this.#alive();
    return this.#attempt(
      this.#credentials.find("Fingerprint:" + String(templateRef)),
      OperationSource.Biometric,
    );
  }

  fingerprintUnknown(): void {
    this.#alive();
    this.#attempt(undefined, OperationSource.Biometric);
  }

  /** A fresh single-use challenge for a phone key (sign `phoneUnlockMessage(lockIdBytes, nonce)`). */
  issuePhoneChallenge(): Uint8Array {
    this.#alive();
    return this.#phoneChallenges.issue(this.#hw.clock.monotonicMs()).nonce;
  }

  attemptPhoneKey(
    p: PhoneKeyPresentation,
    source: OperationSource = OperationSource.PhoneKey,
  ): AttemptResult {
    this.#alive();
    const credential = this.#credentials.find("PhoneKey:" + Buffer.from(p.publicKey).toString("hex"));
    if (credential?.type === "PhoneKey" && this.#needsProof(source)) {
      const check = verifyPhoneKeyPresentation(credential, p, {
        lockId: this.lockIdBytes,
        challenges: this.#phoneChallenges,
        nowMono: this.#hw.clock.monotonicMs(),
        nowMs: this.#hw.clock.wallMs(),
        policy: this.#phonePolicy,
      });
      if (!check.ok)
        return this.#deny(
          check.reason,
          source,
          credential,
          "Unlock",
          undefined,
          check.detail === undefined ? {} : { certificate: check.detail },
        );
    }
    return this.#attempt(credential, source);
  }

  /**
   * Remote unlock (Matter UnlockDoor). It must carry a credential: a PIN (the only place a
   * RemoteOnlyUser's PIN works) or a phone-key signature over a fresh challenge. The hub alone
   * cannot open the door.
   */
  remoteUnlock(command: { pin?: string; phoneKey?: PhoneKeyPresentation }): AttemptResult {
    this.#alive();
    if (command.phoneKey !== undefined) return this.attemptPhoneKey(command.phoneKey, OperationSource.Remote);
    if (command.pin !== undefined) return this.attemptPin(command.pin, OperationSource.Remote);
    return this.#attempt(undefined, OperationSource.Remote);
  }

  /** Remote lock (Matter LockDoor). Refused in Privacy and NoRemoteLockUnlock; needs a PIN if configured. */
  remoteLock(command: { pin?: string } = {}): AttemptResult {
    this.#alive();
    const mode = this.effectiveMode;
    if (mode === OperatingMode.Privacy || mode === OperatingMode.NoRemoteLockUnlock) {
      return this.#deny(DenyReason.ModeForbids, OperationSource.Remote, undefined, "Lock");
    }
    let credential: Credential | undefined;
    if (this.#settings.requirePinForRemoteOperation) {
      const hash = pinHash(this.#pinSecret, command.pin ?? "");
      const found = this.#credentials.find("PIN:" + Buffer.from(hash).toString("hex"));
      credential = found?.type === "PIN" && sameHash(found.hash, hash) ? found : undefined;
      const decision = decideAccess(this.#accessContext(), credential, OperationSource.Remote);
      if (!decision.granted) return this.#denyDecision(decision, OperationSource.Remote, "Lock");
    }
    this.#drive("Locked", OperationSource.Remote, credential);
    return { granted: true, userIndex: credential?.userIndex ?? null };
  }

  /** The outside lock button (or the inside one): locking never needs a credential. */
  lockButton(): void {
    this.#alive();
    if (this.effectiveMode === OperatingMode.Passage) return;
    this.#drive("Locked", OperationSource.Button, undefined);
  }

  doorChanged(open: boolean): void {
    this.#alive();
    if (open) {
      const forced = this.#bolt === "Locked";
      this.#emit(EventKind.DoorStateChange, {}, { doorState: forced ? "DoorForcedOpen" : "DoorOpen" });
      if (forced) this.#alarm(AlarmCode.DoorForcedOpen);
      this.#timers.ajar?.cancel();
      this.#timers.ajar = this.#hw.clock.setTimer(this.#settings.doorAjarTime * 1000, () => {
        if (this.#poweredOff || !this.#hw.door.isOpen()) return;
        this.#doorAjarRaised = true;
        this.#emit(EventKind.DoorStateChange, {}, { doorState: "DoorAjar" });
        this.#alarm(AlarmCode.DoorAjar);
      });
    } else {
      this.#timers.ajar?.cancel();
      this.#emit(EventKind.DoorStateChange, {}, { doorState: "DoorClosed" });
      if (this.#doorAjarRaised) {
        this.#doorAjarRaised = false;
        this.#emit(EventKind.AlarmCleared, {}, { alarm: AlarmCode.DoorAjar });
      }
      if (this.#relockWhenClosed) {
        this.#relockWhenClosed = false;
        this.#drive("Locked", OperationSource.Auto, undefined);
      }
    }
  }

  tamper(kind: TamperKind): void {
    this.#alive();
    switch (kind) {
      case "escutcheon-removed":
        if (this.#escutcheonRemoved) return;
        this.#escutcheonRemoved = true;
        this.#alarm(AlarmCode.FrontEscutcheonRemoved);
        return;
      case "escutcheon-refitted":
        if (!this.#escutcheonRemoved) return;
        this.#escutcheonRemoved = false;
        this.#emit(EventKind.AlarmCleared, {}, { alarm: AlarmCode.FrontEscutcheonRemoved });
        return;
      case "forced-rotation":
        this.#alarm(AlarmCode.ForcedRotation);
        return;
      case "drilling":
        this.#alarm(AlarmCode.Drilling);
        return;
    }
  }

  batteryChanged(percent: number): void {
    this.#alive();
    const s = this.#settings;
    const stage: BatteryStage =
      percent < s.batteryCriticalPercent
        ? 3
        : percent <= s.batteryWarningPercent
          ? 2
          : percent <= s.batteryLowPercent
            ? 1
            : 0;
    if (stage === this.#batteryStage) return;
    const rising = stage > this.#batteryStage;
    this.#batteryStage = stage;
    this.#persistCounters();
    const level = stage === 3 ? "critical" : stage === 0 ? "ok" : "low";
    this.#emit(EventKind.BatteryLevel, {}, { percent: Math.round(percent), level, stage });
    if (rising && stage === 1) this.#alarm(AlarmCode.BatteryLow);
    if (rising && stage === 2) this.#alarm(AlarmCode.BatteryLow);
    if (rising && stage === 3) this.#alarm(AlarmCode.BatteryCritical);
  }

  manualBolt(state: "Locked" | "Unlocked"): void {
    this.#alive();
    if (state === this.#bolt) return;
    this.#bolt = state;
    this.#persistCounters();
    this.#emit(EventKind.LockStateChange, {}, { lockState: state, source: OperationSource.Manual });
    if (state === "Unlocked") {
      if (this.#settings.operatingMode === OperatingMode.Privacy) {
        // Turning the inside knob ends privacy (someone is leaving the room).
        this.#settings = { ...this.#settings, operatingMode: OperatingMode.Normal };
        this.#persist();
        this.#emit(EventKind.ConfigChange, {}, { setting: "operatingMode", value: OperatingMode.Normal });
      }
      this.#scheduleRelock();
    } else {
      this.#timers.relock?.cancel();
    }
  }

  // ---------------------------------------------------------------- power

  /** Power is lost: the bolt goes to the configured fail state; the runtime stops. */
  powerLoss(): void {
    this.#alive();
    const target: BoltState = this.#settings.powerLossBehaviour === "fail-safe" ? "Unlocked" : "Locked";
    if (target !== this.#bolt) {
      this.#bolt = target;
      this.#persistCounters();
      this.#emit(
        EventKind.LockStateChange,
        {},
        { lockState: target, source: OperationSource.Auto, reason: "power-loss" },
      );
    }
    this.shutdown();
  }

  /** Stops timers; the runtime refuses further calls (LOCK_POWERED_OFF). */
  shutdown(): void {
    if (this.#poweredOff) return;
    this.#poweredOff = true;
    this.#journal.close?.();
    this.#timers.relock?.cancel();
    this.#timers.ajar?.cancel();
    this.#timers.lockout?.cancel();
    this.#timers.heartbeat?.cancel();
  }

  // ---------------------------------------------------------------- internals

  #alive(): void {
    if (this.#poweredOff) throw new LatchkeyError("LOCK_POWERED_OFF", "the lock runtime is powered off");
  }

  #requireUser(index: number): User {
    const user = Number.isInteger(index) ? this.#users.get(index) : undefined;
    if (user === undefined) {
      throw new LatchkeyError("LOCK_USER_UNKNOWN", `no user at index ${String(index)}`, {
        userIndex: String(index),
      });
    }
    return user;
  }

  #dropUser(index: number): void {
    this.#users.delete(index);
    this.#credentials.removeUser(index as UserIndex);
    this.#schedules.removeUser(index);
    this.#usage.delete(index);
    this.#pendingMulti.delete(index);
  }

  #freeUserIndex(): UserIndex {
    for (let i = 1; i <= this.#capacity.users; i++) if (!this.#users.has(i)) return i as UserIndex;
    throw new LatchkeyError("LOCK_CAPACITY", "no free user slot", { capacity: this.#capacity.users });
  }

  #putCredential(
    userIndex: number,
    credentialIndex: number | undefined,
    type: CredentialType,
    build: (index: CredentialIndex, user: UserIndex) => Credential,
  ): CredentialIndex {
    const user = this.#requireUser(userIndex);
    let index: CredentialIndex;
    if (credentialIndex === undefined) index = this.#credentials.freeIndex(type);
    else {
      if (
        !Number.isInteger(credentialIndex) ||
        credentialIndex < 1 ||
        credentialIndex > this.#capacity.credentialsPerType
      ) {
        throw new LatchkeyError(
          "LOCK_CREDENTIAL_INVALID",
          `credential index must be 1–${this.#capacity.credentialsPerType}`,
          {
            field: "credentialIndex",
          },
        );
      }
      index = credentialIndex as CredentialIndex;
      const existing = this.#credentials.get(type, index);
      if (existing !== undefined && existing.userIndex !== user.index) {
        throw new LatchkeyError(
          "LOCK_CREDENTIAL_DUPLICATE",
          `${type} index ${index} belongs to another user`,
          {
            credentialType: type,
            credentialIndex: index,
          },
        );
      }
    }
    const credential = build(index, user.index);
    this.#credentials.assertNotDuplicate(credential);
    const existed = this.#credentials.get(type, index) !== undefined;
    this.#credentials.put(credential);
    this.#persist();
    this.#emit(EventKind.UserChange, actorOf(credential), {
      dataType: type,
      operation: existed ? "Modify" : "Add",
    });
    return index;
  }

  #accessContext(): Parameters<typeof decideAccess>[0] {
    return {
      users: this.#users,
      schedules: this.#schedules,
      usage: this.#usage,
      timeZone: this.#settings.timeZone,
      mode: this.effectiveMode,
      lockoutActive: this.lockoutActive,
      nowMs: this.#hw.clock.wallMs(),
    };
  }

  /**
   * Whether a proof step (card challenge, phone signature) is worth running: not when the mode
   * opens without validation, nor when a lockout or the mode refuses every credential anyway.
   */
  #needsProof(source: OperationSource): boolean {
    const mode = this.effectiveMode;
    if (mode === OperatingMode.Passage || mode === OperatingMode.Privacy || this.lockoutActive) return false;
    return !(mode === OperatingMode.NoRemoteLockUnlock && source === OperationSource.Remote);
  }

  #attempt(credential: Credential | undefined, source: OperationSource): AttemptResult {
    if (this.effectiveMode === OperatingMode.Passage) {
      // Passage: the door opens without validation (Matter); no user is credited.
      return this.#grantMotion(source, undefined, undefined, false, { passage: true });
    }
    const decision = decideAccess(this.#accessContext(), credential, source);
    if (!decision.granted) return this.#denyDecision(decision, source, "Unlock");

    const { user } = decision;
    const required = CREDENTIALS_REQUIRED[user.credentialRule];
    if (required > 1) {
      const now = this.#hw.clock.monotonicMs();
      let pending = this.#pendingMulti.get(user.index);
      if (pending === undefined || now - pending.startedMono > this.#settings.multiCredentialWindow * 1000) {
        pending = { keys: new Set(), startedMono: now };
        this.#pendingMulti.set(user.index, pending);
      }
      pending.keys.add(lookupKey(decision.credential));
      if (pending.keys.size < required) {
        this.#resetWrongCodes();
        this.#emit(EventKind.LockOperationError, actorOf(decision.credential), {
          operation: "Unlock",
          reason: DenyReason.CredentialRuleIncomplete,
          source,
          presented: pending.keys.size,
          required,
        });
        this.#indicate("denied");
        return { granted: false, reason: DenyReason.CredentialRuleIncomplete, userIndex: user.index };
      }
      this.#pendingMulti.delete(user.index);
    }
    return this.#grantMotion(
      source,
      decision.credential,
      user,
      decision.forced,
      required > 1 ? { credentials: required } : {},
    );
  }

  #grantMotion(
    source: OperationSource,
    credential: Credential | undefined,
    user: User | undefined,
    forced: boolean,
    extra: EventDetails,
  ): AttemptResult {
    const actor = actorOf(credential, user);
    const power = this.#hw.power;
    const emergency = power.emergencyPower();
    if (!emergency && power.batteryPercent() < this.#settings.batteryCriticalPercent) {
      return this.#deny(DenyReason.InsufficientBattery, source, credential, "Unlock", user);
    }
    // How long the motor ran (travel, or stall detection on a jam); 0 when already unlocked.
    let motorMs = 0;
    if (this.#bolt !== "Unlocked") {
      const result = this.#hw.motor.drive("Unlocked");
      motorMs = result.durationMs;
      if (result.outcome === "jammed") {
        this.#bolt = "NotFullyLocked";
        this.#persistCounters();
        this.#emit(EventKind.LockOperationError, actor, {
          operation: "Unlock",
          reason: DenyReason.Jammed,
          source,
          motorMs,
        });
        this.#alarm(AlarmCode.LockJammed);
        this.#indicate("denied");
        return { granted: false, reason: DenyReason.Jammed, userIndex: user?.index ?? null };
      }
      this.#bolt = "Unlocked";
    }
    if (user !== undefined) this.#recordUse(user);
    this.#resetWrongCodes();
    this.#persistCounters();
    this.#emit(EventKind.LockOperation, actor, {
      operation: forced ? "ForcedUserEvent" : "Unlock",
      source,
      motorMs,
      ...(emergency ? { emergencyPower: true } : {}),
      ...extra,
    });
    // Duress: the alarm goes to the journal (and so to the hub); the door shows a normal "granted".
    if (forced) this.#emit(EventKind.Alarm, actor, { alarm: AlarmCode.ForcedUser });
    if (user?.type === UserType.DisposableUser) {
      this.#users.set(user.index, { ...user, enabled: false });
      this.#persist();
      this.#emit(
        EventKind.UserChange,
        { userIndex: user.index },
        {
          dataType: "User",
          operation: "Modify",
          enabled: false,
          reason: "disposable-used",
        },
      );
    }
    this.#indicate("granted");
    this.#scheduleRelock();
    return { granted: true, userIndex: user?.index ?? null };
  }

  #recordUse(user: User): void {
    const prev = this.#usage.get(user.index);
    const now = this.#hw.clock.wallMs();
    const firstUseMs =
      prev?.firstUseMs ?? (user.type === UserType.ExpiringUser && now !== null ? now : undefined);
    this.#usage.set(user.index, {
      uses: (prev?.uses ?? 0) + 1,
      ...(firstUseMs !== undefined ? { firstUseMs } : {}),
    });
  }

  #denyDecision(
    decision: Extract<AccessDecision, { granted: false }>,
    source: OperationSource,
    operation: string,
  ): AttemptResult {
    return this.#deny(decision.reason, source, decision.credential, operation, decision.user);
  }

  #deny(
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
      this.#emit(EventKind.LockOperation, actor, { operation: "NonAccessUserEvent", source, reason });
    } else {
      this.#emit(EventKind.LockOperationError, actor, { ...extra, operation, reason, source });
    }
    this.#indicate("denied");
    if (COUNTS_AS_WRONG_CODE.has(reason)) this.#countWrongCode();
    return {
      granted: false,
      reason,
      userIndex: actor.userIndex === undefined ? null : (actor.userIndex as UserIndex),
    };
  }

  #countWrongCode(): void {
    this.#failedAttempts++;
    if (this.#failedAttempts >= this.#settings.wrongCodeEntryLimit) {
      const durationMs = this.#settings.userCodeTemporaryDisableTime * 1000;
      const wall = this.#hw.clock.wallMs();
      this.#failedAttempts = 0;
      this.#startLockout(durationMs, wall === null ? null : wall + durationMs);
      this.#persistCounters();
      this.#alarm(AlarmCode.WrongCodeEntryLimit);
    } else {
      this.#persistCounters();
    }
  }

  #resetWrongCodes(): void {
    this.#failedAttempts = 0;
  }

  #startLockout(remainingMs: number, endsAtWall: number | null): void {
    this.#lockoutDurationMs = remainingMs;
    this.#lockoutEndsWall = endsAtWall;
    this.#lockoutEndsMono = this.#hw.clock.monotonicMs() + remainingMs;
    this.#timers.lockout?.cancel();
    this.#timers.lockout = this.#hw.clock.setTimer(remainingMs, () => {
      if (this.#poweredOff) return;
      this.#lockoutEndsMono = null;
      this.#lockoutEndsWall = null;
      this.#lockoutDurationMs = 0;
      this.#persistCounters();
      this.#emit(EventKind.AlarmCleared, {}, { alarm: AlarmCode.WrongCodeEntryLimit });
    });
  }

  /**
   * A lockout survives reboots: with a known clock it ends at its recorded wall time (never later
   * than a full lockout from now, so a clock set backwards cannot stretch it); without a clock it
   * restarts in full.
   */
  #resumeLockout(snapshot: LockStateSnapshot | null): void {
    const l = snapshot?.lockout;
    if (l === undefined || l.durationMs <= 0) return;
    const wall = this.#hw.clock.wallMs();
    let remaining = l.durationMs;
    if (wall !== null && l.endsAtWallMs !== null) remaining = Math.min(l.durationMs, l.endsAtWallMs - wall);
    if (remaining > 0) this.#startLockout(remaining, wall === null ? l.endsAtWallMs : wall + remaining);
    else this.#persistCounters();
  }

  #scheduleRelock(): void {
    this.#timers.relock?.cancel();
    const seconds = this.#settings.autoRelockTime;
    if (seconds === 0 || this.effectiveMode === OperatingMode.Passage) return;
    this.#timers.relock = this.#hw.clock.setTimer(seconds * 1000, () => {
      if (this.#poweredOff || this.#bolt === "Locked" || this.effectiveMode === OperatingMode.Passage) return;
      if (this.#hw.door.isOpen()) this.#relockWhenClosed = true;
      else this.#drive("Locked", OperationSource.Auto, undefined);
    });
  }

  /** Drives the bolt (lock side); journals LockOperation or the jam. */
  #drive(
    target: "Locked" | "Unlocked",
    source: OperationSource,
    credential: Credential | undefined,
  ): boolean {
    const actor = actorOf(credential);
    const operation = target === "Locked" ? "Lock" : "Unlock";
    const power = this.#hw.power;
    if (!power.emergencyPower() && power.batteryPercent() < this.#settings.batteryCriticalPercent) {
      this.#emit(EventKind.LockOperationError, actor, {
        operation,
        reason: DenyReason.InsufficientBattery,
        source,
      });
      return false;
    }
    if (this.#bolt === target) {
      this.#emit(EventKind.LockOperation, actor, { operation, source });
      return true;
    }
    const result = this.#hw.motor.drive(target);
    if (result.outcome === "jammed") {
      this.#bolt = "NotFullyLocked";
      this.#persistCounters();
      this.#emit(EventKind.LockOperationError, actor, {
        operation,
        reason: DenyReason.Jammed,
        source,
        motorMs: result.durationMs,
      });
      this.#alarm(AlarmCode.LockJammed);
      return false;
    }
    this.#bolt = target;
    if (target === "Locked") {
      this.#timers.relock?.cancel();
      this.#relockWhenClosed = false;
    }
    this.#persistCounters();
    this.#emit(EventKind.LockOperation, actor, { operation, source, motorMs: result.durationMs });
    return true;
  }

  #checkModeEntry(mode: OperatingMode): void {
    if (mode === OperatingMode.Privacy && this.#bolt !== "Locked") {
      throw new LatchkeyError("LOCK_MODE_REFUSED", "Privacy mode needs the bolt locked", {
        operatingMode: mode,
      });
    }
  }

  #modeChanged(from: OperatingMode, to: OperatingMode): void {
    if (to === OperatingMode.Passage) {
      this.#timers.relock?.cancel();
      if (this.#bolt !== "Unlocked") this.#drive("Unlocked", OperationSource.Auto, undefined);
    } else if (from === OperatingMode.Passage && this.#bolt !== "Locked") {
      this.#drive("Locked", OperationSource.Auto, undefined);
    }
  }

  #alarm(alarm: AlarmCode): void {
    this.#emit(EventKind.Alarm, {}, { alarm });
    this.#indicate("alarm");
  }

  #indicate(i: Indication): void {
    for (const fn of this.#indicationListeners) fn(i);
  }

  #emit(kind: EventKind, actor: EventActor, details: EventDetails): SignedLockEvent {
    const event = this.#journal.append({ kind, actor, details }, this.#hw.clock.wallMs());
    this.#scheduleHeartbeat();
    for (const fn of this.#eventListeners) fn(event);
    return event;
  }

  /** Every event restarts the silence timer, so consecutive events are never further apart. */
  #scheduleHeartbeat(): void {
    this.#timers.heartbeat?.cancel();
    if (this.#poweredOff) return;
    this.#timers.heartbeat = this.#hw.clock.setTimer(this.#settings.heartbeatInterval * 1000, () => {
      if (this.#poweredOff) return;
      this.#emit(
        EventKind.Heartbeat,
        {},
        {
          lockState: this.#bolt,
          doorState: this.#hw.door.isOpen() ? "Open" : "Closed",
          battery: Math.round(this.#hw.power.batteryPercent()),
        },
      );
    });
  }

  #snapshot(): LockStateSnapshot {
    const weekDay: { userIndex: number; schedule: WeekDaySchedule }[] = [];
    for (const [userIndex, m] of this.#schedules.weekDay)
      for (const schedule of m.values()) weekDay.push({ userIndex, schedule });
    const yearDay: { userIndex: number; schedule: YearDaySchedule }[] = [];
    for (const [userIndex, m] of this.#schedules.yearDay)
      for (const schedule of m.values()) yearDay.push({ userIndex, schedule });
    return {
      ...this.#countersSnapshot(),
      settings: this.#settings,
      users: this.users(),
      credentials: this.#credentials.all(),
      weekDay,
      yearDay,
      holidays: [...this.#schedules.holidays.values()],
    };
  }

  /** Writes configuration and counters (administrative changes). */
  #persist(): void {
    const snap = this.#snapshot();
    saveState(this.#dir, snap, this.#wrapKey);
    saveCounters(this.#dir, snap);
  }

  /** Writes only the small counters file (grants, denials, bolt, battery, lockout). */
  #persistCounters(): void {
    saveCounters(this.#dir, this.#countersSnapshot());
  }

  #countersSnapshot(): LockCounters {
    return {
      bootCount: this.#bootCount,
      bolt: this.#bolt,
      usage: [...this.#usage].map(([userIndex, usage]) => ({ userIndex, usage })),
      lockout: {
        failedAttempts: this.#failedAttempts,
        endsAtWallMs: this.lockoutActive ? this.#lockoutEndsWall : null,
        durationMs: this.lockoutActive ? this.#lockoutDurationMs : 0,
      },
      batteryStage: this.#batteryStage,
    };
  }

  /** Rebuilds memory from a snapshot through the admin validators (a bad file is refused). */
  #restore(s: LockStateSnapshot): void {
    const int = (v: unknown, min: number, max: number, what: string): number => {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
        throw new Error(`${what} out of range`);
      return v;
    };
    try {
      this.#settings = applySettings(DEFAULT_SETTINGS, s.settings);
      this.#bolt = s.bolt;
      this.#bootCount = int(s.bootCount, 0, Number.MAX_SAFE_INTEGER - 1, "bootCount") + 1;
      for (const u of s.users) {
        this.#users.set(u.index, buildUser(checkUserIndex(u.index, this.#capacity.users), u));
      }
      for (const c of s.credentials) {
        if (!this.#users.has(c.userIndex)) throw new Error("credential of a missing user");
        int(c.index, 1, this.#capacity.credentialsPerType, "credential index");
        if (c.type === "PIN" && c.hash.length !== 32) throw new Error("PIN hash length");
        if (c.type === "RFID") {
          checkCardUid(c.uid);
          if (c.key !== undefined) checkCardKey(c.key);
        }
        if (c.type === "Fingerprint") checkTemplateRef(c.templateRef);
        if (c.type === "PhoneKey") checkPhoneKey(c.algorithm, c.publicKey);
        this.#credentials.put(c);
      }
      for (const { userIndex, schedule } of s.weekDay) {
        if (!this.#users.has(userIndex)) throw new Error("schedule of a missing user");
        checkScheduleIndex(schedule.index, this.#capacity.weekDayPerUser);
        checkWeekDay(schedule);
        this.#schedules.putWeekDay(userIndex, schedule);
      }
      for (const { userIndex, schedule } of s.yearDay) {
        if (!this.#users.has(userIndex)) throw new Error("schedule of a missing user");
        checkScheduleIndex(schedule.index, this.#capacity.yearDayPerUser);
        checkYearDay(schedule);
        this.#schedules.putYearDay(userIndex, schedule);
      }
      for (const h of s.holidays) {
        checkScheduleIndex(h.index, this.#capacity.holidays);
        checkHoliday(h);
        this.#schedules.holidays.set(h.index, h);
      }
      for (const { userIndex, usage } of s.usage) {
        const uses = int(usage.uses, 0, Number.MAX_SAFE_INTEGER, "uses");
        const first =
          usage.firstUseMs === undefined
            ? undefined
            : int(usage.firstUseMs, 0, Number.MAX_SAFE_INTEGER, "firstUseMs");
        // Counters are a separate file: ignore usage of a user cleared just before a crash.
        if (this.#users.has(userIndex))
          this.#usage.set(userIndex, first === undefined ? { uses } : { uses, firstUseMs: first });
      }
      this.#failedAttempts = int(s.lockout.failedAttempts, 0, 255, "failedAttempts");
      int(s.lockout.durationMs, 0, 255_000, "lockout duration");
      if (s.lockout.endsAtWallMs !== null)
        int(s.lockout.endsAtWallMs, 0, Number.MAX_SAFE_INTEGER, "lockout end");
      this.#batteryStage = s.batteryStage;
    } catch (e) {
      throw new LatchkeyError(
        "LOCK_STATE_CORRUPT",
        "lock state holds an invalid record",
        { file: "state.json" },
        { cause: e },
      );
    }
  }
}
