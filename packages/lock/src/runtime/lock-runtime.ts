/**
 * The lock runtime ("firmware"): a thin composition of the lock's parts — users, credentials and
 * schedules (their books), settings, the access flow and wrong-code lockout (access/), the bolt
 * and sensor alarms (hardware/), commissioning, and the signed event log (journal/). It wires them
 * to the hardware and to persistence and keeps the lock's public API. Persistent state lives in
 * one directory (keys.bin, state.json, the journal); restarting from it restores everything and
 * appends a Boot event.
 */
import { mkdirSync } from "node:fs";
import {
  AlarmCode,
  commissioningKeyHash,
  enumName,
  type CredentialIndex,
  DenyReason,
  type Ed25519,
  type EpochMs,
  type EventDetails,
  EventKind,
  LatchkeyError,
  type LockId,
  lockIdBytesFromPublicKey,
  OperatingMode,
  OperationSource,
  type SignedLockEvent,
  toHex,
  type UserIndex,
  UserType,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { actorOf, DoorAccess, type AttemptResult } from "../access/door-access.js";
import { WrongCodeLockout } from "../access/lockout.js";
import { certificatePhoneKeyCheck } from "../commissioning/certificate-check.js";
import { CommissioningEvents } from "../commissioning/commissioning-events.js";
import { LockCommissioning, type LockCommissioningOptions } from "../commissioning/lock-commissioning.js";
import { checkCardResponse } from "../credentials/card-challenge.js";
import type { CredentialType, PhoneKeyAlgorithm } from "../credentials/credential.js";
import { CredentialBook, type CredentialInfo, type CredentialPut } from "../credentials/credential-book.js";
import {
  PhoneChallenges,
  verifyPhoneKeyPresentation,
  type PhoneKeyPolicy,
  type PhoneKeyPresentation,
} from "../credentials/phone-key.js";
import { Bolt } from "../hardware/bolt.js";
import type { BoltState, CardAnswer, LockHardware, LockInputs, TamperKind } from "../hardware/hal.js";
import { BatteryMonitor, DoorMonitor, TamperMonitor } from "../hardware/sensor-alarms.js";
import { CLOCK_STEP_LIMIT_MS, setWallClock } from "../hardware/wall-clock.js";
import { EventLog, type Indication, type LockReporter } from "../journal/event-log.js";
import { fileJournalFactory, type JournalFactory } from "../journal/journal-factory.js";
import type { Journal } from "../journal/journal.js";
import { loadOrCreateKeys } from "../persistence/lock-keys.js";
import { wrapKeyFrom } from "../persistence/secret-wrap.js";
import {
  loadState,
  saveCounters,
  saveState,
  type LockCounters,
  type LockStateSnapshot,
} from "../persistence/state-file.js";
import {
  DEFAULT_SCHEDULE_CAPACITY,
  ScheduleBook,
  type ScheduleCapacity,
} from "../schedules/schedule-book.js";
import type { HolidaySchedule, WeekDaySchedule, YearDaySchedule } from "../schedules/schedule.js";
import { applySettings, DEFAULT_SETTINGS, pinPolicyOf, type LockSettings } from "../settings/settings.js";
import { UserBook, type UserUsage } from "../users/user-book.js";
import type { User, UserInput } from "../users/user.js";

export interface LockCapacity extends ScheduleCapacity {
  readonly users: number;
  readonly credentialsPerType: number;
}

export const DEFAULT_CAPACITY: LockCapacity = {
  users: 2000,
  credentialsPerType: 10_000,
  ...DEFAULT_SCHEDULE_CAPACITY,
};

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

/** Events name enum values (people read them in evidence); the protocol's names map gives them. */
function nameOf(e: Readonly<Record<string, number>>, value: number): string {
  return enumName(e, value) ?? String(value);
}

function settingValueOf<K extends keyof LockSettings>(
  key: K,
  value: LockSettings[K],
): string | number | boolean {
  return key === "operatingMode" ? nameOf(OperatingMode, value as OperatingMode) : value;
}

export class LockRuntime implements LockInputs {
  readonly lockId: LockId;
  readonly lockIdBytes: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly bootId: Uint8Array;
  /** The largest clock step `setTime` takes without a person's authorisation. */
  readonly clockStepLimitMs: number;

  readonly #dir: string;
  readonly #hw: LockHardware;
  readonly #wrapKey: Uint8Array;
  readonly #log: EventLog;
  readonly #commissioning: LockCommissioning;
  readonly #commissioningEvents: CommissioningEvents;
  readonly #phonePolicy: PhoneKeyPolicy;
  readonly #users: UserBook;
  readonly #credentials: CredentialBook;
  readonly #schedules: ScheduleBook;
  readonly #lockout: WrongCodeLockout;
  readonly #bolt: Bolt;
  readonly #access: DoorAccess;
  readonly #door: DoorMonitor;
  readonly #tamper: TamperMonitor;
  readonly #battery: BatteryMonitor;
  #phoneChallenges: PhoneChallenges;
  #settings: LockSettings;
  #bootCount = 1;
  #poweredOff = false;

  private constructor(opts: LockRuntimeOptions) {
    this.#dir = opts.dir;
    const hw = (this.#hw = opts.hardware);
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const { keys } = loadOrCreateKeys(opts.dir, (n) => hw.randomBytes(n));
    this.#wrapKey = wrapKeyFrom(keys.pinSecret);
    const ed25519 = opts.ed25519 ?? nodeEd25519;
    this.publicKey = ed25519.publicKey(keys.signingSeed);
    this.lockIdBytes = lockIdBytesFromPublicKey(this.publicKey);
    this.lockId = toHex(this.lockIdBytes) as LockId;
    this.bootId = hw.randomBytes(16);
    const capacity = { ...DEFAULT_CAPACITY, ...opts.capacity };
    this.clockStepLimitMs = opts.clockStepLimitMs ?? CLOCK_STEP_LIMIT_MS;
    this.#commissioning = LockCommissioning.open({
      dir: opts.dir,
      random: (n) => hw.randomBytes(n),
      monotonicMs: () => hw.clock.monotonicMs(),
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
    this.#settings = applySettings(DEFAULT_SETTINGS, opts.initialSettings ?? {});

    // The parts report through the event log, which opens the journal only once the state loaded.
    const report: LockReporter = {
      event: (kind, actor, details) => this.#log.event(kind, actor, details),
      alarm: (alarm) => this.#log.alarm(alarm),
      indicate: (indication) => this.#log.indicate(indication),
    };
    const settings = () => this.#settings;
    const mode = () => this.effectiveMode;
    const persistCounters = () => this.#persistCounters();
    this.#users = new UserBook(capacity.users);
    this.#credentials = new CredentialBook(capacity.credentialsPerType, keys.pinSecret);
    this.#schedules = new ScheduleBook(capacity);
    this.#commissioningEvents = new CommissioningEvents(this.#commissioning, report);
    this.#lockout = new WrongCodeLockout({
      clock: hw.clock,
      report,
      limits: () => ({
        wrongCodeEntryLimit: this.#settings.wrongCodeEntryLimit,
        lockoutMs: this.#settings.userCodeTemporaryDisableTime * 1000,
      }),
      changed: persistCounters,
    });
    this.#bolt = new Bolt({ hardware: hw, report, settings, mode, changed: persistCounters });
    this.#access = new DoorAccess({
      clock: hw.clock,
      report,
      users: this.#users,
      schedules: this.#schedules,
      lockout: this.#lockout,
      bolt: this.#bolt,
      settings,
      mode,
      persist: () => this.#persist(),
      persistCounters,
    });
    this.#door = new DoorMonitor({
      clock: hw.clock,
      report,
      isOpen: () => hw.door.isOpen(),
      bolt: () => this.#bolt.state,
      doorAjarMs: () => this.#settings.doorAjarTime * 1000,
    });
    this.#tamper = new TamperMonitor(report);
    this.#battery = new BatteryMonitor(report, persistCounters);

    const snapshot = loadState(opts.dir, this.#wrapKey);
    if (snapshot !== null) this.#restore(snapshot);
    this.#phoneChallenges = new PhoneChallenges(this.#settings.phoneChallengeTime * 1000);
    this.#log = new EventLog({
      journal: (opts.journal ?? fileJournalFactory)({
        dir: opts.dir,
        signingSeed: keys.signingSeed,
        bootId: this.bootId,
        ed25519,
        monotonicMs: () => hw.clock.monotonicMs(),
      }),
      wallMs: () => hw.clock.wallMs(),
      setTimer: (ms, fn) => hw.clock.setTimer(ms, fn),
      heartbeatIntervalMs: () => this.#settings.heartbeatInterval * 1000,
      heartbeatDetails: () => ({
        lockState: this.#bolt.state,
        doorState: hw.door.isOpen() ? "Open" : "Closed",
        battery: Math.round(hw.power.batteryPercent()),
      }),
    });
    this.#persist();
    this.#log.event(
      EventKind.Boot,
      {},
      { reason: opts.bootReason ?? "power-on", bootCount: this.#bootCount },
    );
    this.#lockout.resume(snapshot?.lockout);
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
    return this.#bolt.state;
  }
  get bootCount(): number {
    return this.#bootCount;
  }
  get journal(): Journal {
    return this.#log.journal;
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
    return this.#lockout.active;
  }
  get failedAttempts(): number {
    return this.#lockout.failedAttempts;
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
    return this.#users.all();
  }
  usage(index: number): UserUsage | undefined {
    return this.#users.usage(index);
  }
  credentials(): CredentialInfo[] {
    return this.#credentials.infos();
  }
  get credentialCount(): number {
    return this.#credentials.size;
  }

  onEvent(fn: (e: SignedLockEvent) => void): () => void {
    return this.#log.onEvent(fn);
  }
  onIndication(fn: (i: Indication) => void): () => void {
    return this.#log.onIndication(fn);
  }

  // ---------------------------------------------------------------- administration

  /** Adds a user at `index` (or the first free index). Journals UserChange Add. */
  addUser(input: UserInput, index?: number): UserIndex {
    this.#alive();
    const user = this.#users.add(input, index);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "User", operation: "Add", userType: nameOf(UserType, user.type) },
    );
    return user.index;
  }

  modifyUser(index: number, input: UserInput): void {
    this.#alive();
    const { before, after } = this.#users.modify(index, input);
    if (after.enabled && !before.enabled) this.#access.forgetPending(before.index);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      { userIndex: before.index },
      {
        dataType: "User",
        operation: "Modify",
        userType: nameOf(UserType, after.type),
        enabled: after.enabled,
      },
    );
  }

  /** Removes a user with all its credentials, schedules and usage. */
  clearUser(index: number): void {
    this.#alive();
    const user = this.#users.require(index);
    this.#dropUser(user.index);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "User", operation: "Clear" },
    );
  }

  /** Resets use count and first-use time (re-arms a disposable, expiring or counted user). */
  resetUsage(index: number): void {
    this.#alive();
    const user = this.#users.require(index);
    this.#users.resetUsage(user.index);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      { userIndex: user.index },
      { dataType: "Usage", operation: "Clear" },
    );
  }

  setPin(userIndex: number, pin: string, credentialIndex?: number): CredentialIndex {
    this.#alive();
    const user = this.#users.require(userIndex).index;
    return this.#stored(this.#credentials.setPin(user, pin, pinPolicyOf(this.#settings), credentialIndex));
  }

  /** A card by UID; with `key`, a challenge-response card that must answer the lock's challenge. */
  setCard(userIndex: number, uid: Uint8Array, key?: Uint8Array, credentialIndex?: number): CredentialIndex {
    this.#alive();
    const user = this.#users.require(userIndex).index;
    return this.#stored(this.#credentials.setCard(user, uid, key, credentialIndex));
  }

  setFingerprint(userIndex: number, templateRef: number, credentialIndex?: number): CredentialIndex {
    this.#alive();
    const user = this.#users.require(userIndex).index;
    return this.#stored(this.#credentials.setFingerprint(user, templateRef, credentialIndex));
  }

  setPhoneKey(
    userIndex: number,
    algorithm: PhoneKeyAlgorithm,
    publicKey: Uint8Array,
    credentialIndex?: number,
  ): CredentialIndex {
    this.#alive();
    const user = this.#users.require(userIndex).index;
    return this.#stored(this.#credentials.setPhoneKey(user, algorithm, publicKey, credentialIndex));
  }

  /**
   * Removes a credential. As in Matter, clearing a user's last credential clears the user too
   * (replace a PIN in place with `setPin(user, pin, credentialIndex)` to keep the user).
   */
  clearCredential(type: CredentialType, index: number): void {
    this.#alive();
    const c = this.#credentials.remove(type, index);
    this.#access.forgetPending(c.userIndex);
    const lastOne = this.#credentials.countOfUser(c.userIndex) === 0;
    if (lastOne) this.#dropUser(c.userIndex);
    this.#persist();
    this.#log.event(EventKind.UserChange, actorOf(c), { dataType: type, operation: "Clear" });
    if (lastOne) {
      this.#log.event(
        EventKind.UserChange,
        { userIndex: c.userIndex },
        { dataType: "User", operation: "Clear", reason: "last-credential" },
      );
    }
  }

  setWeekDaySchedule(userIndex: number, schedule: WeekDaySchedule): void {
    this.#alive();
    const user = this.#users.require(userIndex);
    const existed = this.#schedules.setWeekDay(user.index, schedule);
    this.#scheduleChanged(user.index, "WeekDaySchedule", existed ? "Modify" : "Add", schedule.index);
  }

  setYearDaySchedule(userIndex: number, schedule: YearDaySchedule): void {
    this.#alive();
    const user = this.#users.require(userIndex);
    const existed = this.#schedules.setYearDay(user.index, schedule);
    this.#scheduleChanged(user.index, "YearDaySchedule", existed ? "Modify" : "Add", schedule.index);
  }

  setHolidaySchedule(schedule: HolidaySchedule): void {
    this.#alive();
    const existed = this.#schedules.setHoliday(schedule);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      {},
      {
        dataType: "HolidaySchedule",
        operation: existed ? "Modify" : "Add",
        scheduleIndex: schedule.index,
        operatingMode: nameOf(OperatingMode, schedule.operatingMode),
      },
    );
  }

  clearWeekDaySchedule(userIndex: number, index: number): void {
    this.#alive();
    const user = this.#users.require(userIndex);
    this.#schedules.removeWeekDay(user.index, index);
    this.#scheduleChanged(user.index, "WeekDaySchedule", "Clear", index);
  }

  clearYearDaySchedule(userIndex: number, index: number): void {
    this.#alive();
    const user = this.#users.require(userIndex);
    this.#schedules.removeYearDay(user.index, index);
    this.#scheduleChanged(user.index, "YearDaySchedule", "Clear", index);
  }

  clearHolidaySchedule(index: number): void {
    this.#alive();
    this.#schedules.removeHoliday(index);
    this.#persist();
    this.#log.event(
      EventKind.UserChange,
      {},
      { dataType: "HolidaySchedule", operation: "Clear", scheduleIndex: index },
    );
  }

  /** Changes settings (validated as a whole first); one ConfigChange event per changed setting. */
  updateSettings(patch: Partial<LockSettings>): void {
    this.#alive();
    const next = applySettings(this.#settings, patch);
    if (
      next.operatingMode !== this.#settings.operatingMode &&
      next.operatingMode === OperatingMode.Privacy &&
      this.#bolt.state !== "Locked"
    ) {
      throw new LatchkeyError("LOCK_MODE_REFUSED", "Privacy mode needs the bolt locked", {
        operatingMode: nameOf(OperatingMode, next.operatingMode),
      });
    }
    const before = this.#settings;
    this.#settings = next;
    this.#phoneChallenges = new PhoneChallenges(next.phoneChallengeTime * 1000);
    this.#persist();
    for (const key of Object.keys(next) as (keyof LockSettings)[]) {
      if (next[key] !== before[key])
        this.#log.event(EventKind.ConfigChange, {}, { setting: key, value: settingValueOf(key, next[key]) });
    }
    if (next.operatingMode !== before.operatingMode)
      this.#bolt.modeChanged(before.operatingMode, next.operatingMode);
  }

  setOperatingMode(mode: OperatingMode): void {
    this.updateSettings({ operatingMode: mode });
  }

  /**
   * Sets the real-time clock (from the hub, a phone, NTP); journals ClockSet with the old and new
   * time. A known clock moves at most `clockStepLimitMs` either way per call; a larger step is
   * journaled as ClockSetRefused and throws LOCK_CLOCK_STEP_REFUSED: only a person may authorise
   * it (`setTimeByPerson`). See hardware/wall-clock.ts.
   */
  setTime(ms: EpochMs, source: string): void {
    this.#alive();
    setWallClock(this.#hw.clock, this.#log, ms, source, this.clockStepLimitMs);
  }

  // ---------------------------------------------------------------- commissioning and trust

  /**
   * One commissioning message (clear PAKE exchange) → the reply to send. Journals Commissioned
   * (owner and hub key hashes) and every failed attempt; never throws for bad input.
   */
  handleCommissioningMessage(bytes: Uint8Array): Uint8Array {
    this.#alive();
    return this.#commissioningEvents.handle(bytes);
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
    this.#log.event(
      EventKind.FactoryReset,
      {},
      {
        wasCommissioned: owner !== null,
        ...(owner === null ? {} : { previousOwnerKeyHash: commissioningKeyHash(owner) }),
        users: this.#users.size,
        credentials: this.#credentials.size,
      },
    );
    for (const index of this.#users.indices()) this.#dropUser(index);
    this.#schedules.holidays.clear();
    this.#settings = applySettings(DEFAULT_SETTINGS, {});
    this.#phoneChallenges = new PhoneChallenges(this.#settings.phoneChallengeTime * 1000);
    this.#lockout.clear();
    this.#commissioning.factoryReset();
    this.#persist();
    this.#log.alarm(AlarmCode.LockFactoryReset);
  }

  /** Installs an owner-signed revocation list (monotonic); journals the new version. */
  installRevocationList(bytes: Uint8Array): { ok: true; version: number } | { ok: false; reason: string } {
    this.#alive();
    const before = this.#commissioning.revocation?.version ?? 0;
    const verdict = this.#commissioning.installRevocationList(bytes);
    if (!verdict.ok) return { ok: false, reason: verdict.reason };
    const version = verdict.list.listVersion;
    if (version !== before)
      this.#log.event(EventKind.ConfigChange, {}, { setting: "revocationListVersion", value: version });
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
    return this.#log.event(EventKind.CheckpointAck, {}, { checkpointHash: checkpointHash.slice(), treeSize });
  }

  /**
   * Remote unlock authorised by a person: the caller (link/) has verified their passkey assertion
   * over a challenge this lock issued, against an owner-signed certificate with the remote-unlock
   * permission. The mode still applies (Privacy, NoRemoteLockUnlock refuse).
   */
  remoteUnlockByPerson(a: PersonAuthorization): AttemptResult {
    this.#alive();
    return this.#access.unlockForPerson({
      authority: "passkey",
      certificateSerial: a.certificateSerial.toString(),
      subjectId: a.subjectId.slice(),
      proposalId: a.proposalId.slice(),
      snapshotHash: a.snapshotHash.slice(),
    });
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
    return this.#access.refuseRemote(reason, operation, details, source);
  }

  // ---------------------------------------------------------------- access attempts (LockInputs)

  keypadPin(pin: string): void {
    this.attemptPin(pin, OperationSource.Keypad);
  }

  /** A PIN typed at the keypad (or carried by a remote command when source is Remote). */
  attemptPin(pin: string, source: OperationSource): AttemptResult {
    this.#alive();
    return this.#access.attempt(this.#credentials.matchPin(pin), source);
  }

  cardPresented(uid: Uint8Array, answer?: CardAnswer): void {
    this.attemptCard(uid, answer);
  }

  attemptCard(uid: Uint8Array, answer?: CardAnswer): AttemptResult {
    this.#alive();
    const credential = this.#credentials.findCard(uid);
    if (
      credential?.type === "RFID" &&
      credential.key !== undefined &&
      this.#access.needsProof(OperationSource.RFID)
    ) {
      const challenge = this.#hw.randomBytes(16);
      const response = answer?.(challenge);
      if (response === undefined || !checkCardResponse(credential.key, credential.uid, challenge, response)) {
        return this.#access.refuse(DenyReason.BadSignature, OperationSource.RFID, credential);
      }
    }
    return this.#access.attempt(credential, OperationSource.RFID);
  }

  fingerprintMatched(templateRef: number): void {
    this.attemptFingerprint(templateRef);
  }

  attemptFingerprint(templateRef: number): AttemptResult {
    this.#alive();
    return this.#access.attempt(this.#credentials.findFingerprint(templateRef), OperationSource.Biometric);
  }

  fingerprintUnknown(): void {
    this.#alive();
    this.#access.attempt(undefined, OperationSource.Biometric);
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
    const credential = this.#credentials.findPhoneKey(p.publicKey);
    if (credential?.type === "PhoneKey" && this.#access.needsProof(source)) {
      const check = verifyPhoneKeyPresentation(credential, p, {
        lockId: this.lockIdBytes,
        challenges: this.#phoneChallenges,
        nowMono: this.#hw.clock.monotonicMs(),
        nowMs: this.#hw.clock.wallMs(),
        policy: this.#phonePolicy,
      });
      if (!check.ok)
        return this.#access.refuse(
          check.reason,
          source,
          credential,
          "Unlock",
          undefined,
          check.detail === undefined ? {} : { certificate: check.detail },
        );
    }
    return this.#access.attempt(credential, source);
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
    return this.#access.attempt(undefined, OperationSource.Remote);
  }

  /** Remote lock (Matter LockDoor). Refused in Privacy and NoRemoteLockUnlock; needs a PIN if configured. */
  remoteLock(command: { pin?: string } = {}): AttemptResult {
    this.#alive();
    const pinRequired = this.#settings.requirePinForRemoteOperation;
    return this.#access.remoteLock(pinRequired ? this.#credentials.matchPin(command.pin ?? "") : null);
  }

  /** The outside lock button (or the inside one): locking never needs a credential. */
  lockButton(): void {
    this.#alive();
    if (this.effectiveMode === OperatingMode.Passage) return;
    this.#bolt.drive("Locked", OperationSource.Button, {});
  }

  doorChanged(open: boolean): void {
    this.#alive();
    if (open) this.#door.opened();
    else {
      this.#door.closed();
      this.#bolt.doorClosed();
    }
  }

  tamper(kind: TamperKind): void {
    this.#alive();
    this.#tamper.tamper(kind);
  }

  batteryChanged(percent: number): void {
    this.#alive();
    this.#battery.changedTo(percent, this.#settings);
  }

  manualBolt(state: "Locked" | "Unlocked"): void {
    this.#alive();
    if (!this.#bolt.movedByHand(state)) return;
    if (state === "Unlocked" && this.#settings.operatingMode === OperatingMode.Privacy) {
      // Turning the inside knob ends privacy (someone is leaving the room).
      this.#settings = { ...this.#settings, operatingMode: OperatingMode.Normal };
      this.#persist();
      this.#log.event(
        EventKind.ConfigChange,
        {},
        { setting: "operatingMode", value: nameOf(OperatingMode, OperatingMode.Normal) },
      );
    }
  }

  // ---------------------------------------------------------------- power

  /** Power is lost: the bolt goes to the configured fail state; the runtime stops. */
  powerLoss(): void {
    this.#alive();
    this.#bolt.fallTo(this.#settings.powerLossBehaviour === "fail-safe" ? "Unlocked" : "Locked");
    this.shutdown();
  }

  /** Stops timers; the runtime refuses further calls (LOCK_POWERED_OFF). */
  shutdown(): void {
    if (this.#poweredOff) return;
    this.#poweredOff = true;
    this.#log.stop();
    this.#bolt.stop();
    this.#door.stop();
    this.#lockout.stop();
  }

  // ---------------------------------------------------------------- internals

  #alive(): void {
    if (this.#poweredOff) throw new LatchkeyError("LOCK_POWERED_OFF", "the lock runtime is powered off");
  }

  /** Persists a stored credential and journals it. */
  #stored({ credential, existed }: CredentialPut): CredentialIndex {
    this.#persist();
    this.#log.event(EventKind.UserChange, actorOf(credential), {
      dataType: credential.type,
      operation: existed ? "Modify" : "Add",
    });
    return credential.index;
  }

  #scheduleChanged(userIndex: UserIndex, dataType: string, operation: string, scheduleIndex: number): void {
    this.#persist();
    this.#log.event(EventKind.UserChange, { userIndex }, { dataType, operation, scheduleIndex });
  }

  #dropUser(index: number): void {
    this.#users.delete(index);
    this.#credentials.removeUser(index as UserIndex);
    this.#schedules.removeUser(index);
    this.#access.forgetPending(index);
  }

  /** Writes configuration and counters (administrative changes). */
  #persist(): void {
    const snap: LockStateSnapshot = {
      ...this.#counters(),
      settings: this.#settings,
      users: this.#users.all(),
      credentials: this.#credentials.all(),
      ...this.#schedules.snapshot(),
    };
    saveState(this.#dir, snap, this.#wrapKey);
    saveCounters(this.#dir, snap);
  }

  /** Writes only the small counters file (grants, denials, bolt, battery, lockout). */
  #persistCounters(): void {
    saveCounters(this.#dir, this.#counters());
  }

  #counters(): LockCounters {
    return {
      bootCount: this.#bootCount,
      bolt: this.#bolt.state,
      usage: this.#users.usageEntries(),
      lockout: this.#lockout.state(),
      batteryStage: this.#battery.stage,
    };
  }

  /** Rebuilds memory from a snapshot through each part's validators (a bad file is refused). */
  #restore(s: LockStateSnapshot): void {
    try {
      this.#settings = applySettings(DEFAULT_SETTINGS, s.settings);
      this.#bolt.restore(s.bolt);
      if (!Number.isSafeInteger(s.bootCount) || s.bootCount < 0 || s.bootCount > Number.MAX_SAFE_INTEGER - 1)
        throw new Error("bootCount out of range");
      this.#bootCount = s.bootCount + 1;
      this.#users.restore(s.users, s.usage);
      const userExists = (index: number) => this.#users.has(index);
      this.#credentials.restore(s.credentials, userExists);
      this.#schedules.restore(s, userExists);
      this.#lockout.restore(s.lockout);
      this.#battery.restore(s.batteryStage);
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
