/**
 * The driver for Latchkey's own locks: a Noise KK session over the device gateway (the lock's
 * MQTT login), requests from the protocol's message catalogue, credentials sealed to the lock's
 * channel key, and events the lock signs and hash-chains itself (docs/secure-channel.md,
 * docs/evidence-format.md).
 */
import {
  CLEAR_ALL_SCHEDULES,
  CredentialRule,
  fromHex,
  isLatchkeyError,
  lockIdToBytes,
  PIN_LENGTH_LIMITS,
  UserStatus,
  UserType,
  type LockId,
  type MessageOf,
} from "@latchkey/protocol";
import { DEFAULT_CAPACITY } from "@latchkey/lock";
import type { Kysely } from "kysely";
import type { HubDatabase } from "../../db/schema.js";
import type { DeviceGateway } from "../../gateway/device-gateway.js";
import {
  LockRefused,
  LockUnreachable,
  type EventAck,
  type LockAddress,
  type LockCapabilities,
  type LockDriver,
  type LockReport,
  type LockSession,
  type OpenOptions,
  type PasskeyUnlock,
  type ResultCode,
  type SealedCredential,
  type UserSlot,
} from "../lock-driver.js";
import { nextHandshakeCounter } from "./handshake-counter.js";
import { LockClient, LockRefusal } from "./lock-client.js";

/** What every Latchkey lock holds and how it behaves (lock/src/runtime DEFAULT_CAPACITY). */
export const LATCHKEY_CAPABILITIES: LockCapabilities = {
  userTypes: [
    "UnrestrictedUser",
    "YearDayScheduleUser",
    "WeekDayScheduleUser",
    "ScheduleRestrictedUser",
    "DisposableUser",
    "ExpiringUser",
  ],
  credentialTypes: ["PIN", "RFID"],
  pinLength: { min: PIN_LENGTH_LIMITS.min, max: PIN_LENGTH_LIMITS.max },
  slots: {
    users: DEFAULT_CAPACITY.users,
    credentialsPerType: DEFAULT_CAPACITY.credentialsPerType,
    weekDaySchedulesPerUser: DEFAULT_CAPACITY.weekDayPerUser,
    yearDaySchedulesPerUser: DEFAULT_CAPACITY.yearDayPerUser,
  },
  confirmation: "acknowledged",
  eventAssurance: "sealed-by-lock",
  presence: "authenticated-session",
  credentialDelivery: "sealed-to-lock",
  remoteUnlockByPasskey: true,
};

export interface LatchkeyDriverOptions {
  readonly db: Kysely<HubDatabase>;
  readonly gateway: DeviceGateway;
  /** The hub's X25519 static secret (Noise KK). */
  readonly hubStaticSecretKey: Uint8Array;
}

export class LatchkeyDriver implements LockDriver {
  readonly kind = "latchkey";

  constructor(private readonly opts: LatchkeyDriverOptions) {}

  async open(lock: LockAddress, { timeoutMs, signal }: OpenOptions): Promise<LockSession> {
    const { db, gateway, hubStaticSecretKey } = this.opts;
    let giveUp: (() => void) | undefined;
    try {
      // Stored before the first handshake message leaves (handshake-counter.ts).
      const handshakeCounter = await nextHandshakeCounter(db, lock.lockId);
      signal?.throwIfAborted();
      const transport = gateway.openLockTransport(lock.lockId);
      // Closing the carrier ends the handshake at once (NOISE_SESSION_CLOSED).
      giveUp = () => transport.close();
      signal?.addEventListener("abort", giveUp, { once: true });
      const client = await LockClient.connectHub(transport, {
        hubStaticSecretKey,
        lock: { channelPublicKey: fromHex(lock.channelPublicKey), lockId: lockIdToBytes(lock.lockId) },
        timeoutMs,
        handshakeCounter,
      });
      return new LatchkeySession(lock.lockId, client);
    } catch (e) {
      throw new LockUnreachable(`handshake failed: ${(e as Error).message}`, { cause: e });
    } finally {
      if (giveUp !== undefined) signal?.removeEventListener("abort", giveUp);
    }
  }

  onHint(fn: (lockId: LockId) => void): () => void {
    this.opts.gateway.on("lockConnected", fn);
    return () => this.opts.gateway.off("lockConnected", fn);
  }

  hinted(lockId: LockId): boolean {
    return this.opts.gateway.isConnected(lockId);
  }
}

/** A transport failure (no answer) vs. an answer: the lock's word, a refusal included. */
function isNoAnswer(e: unknown): boolean {
  return isLatchkeyError(e) && (e.code === "LOCK_LINK_TIMEOUT" || e.code.startsWith("NOISE_"));
}

class LatchkeySession implements LockSession {
  readonly capabilities = LATCHKEY_CAPABILITIES;
  readonly #answered: (() => void)[] = [];

  constructor(
    readonly lockId: LockId,
    private readonly client: LockClient,
  ) {}

  /** Every request goes through here: any answer counts for presence, no answer is unreachable. */
  async #ask<T>(request: () => Promise<T>): Promise<T> {
    try {
      const answer = await request();
      this.#heard();
      return answer;
    } catch (e) {
      if (e instanceof LockRefusal) {
        this.#heard();
        throw new LockRefused(e.code);
      }
      if (isNoAnswer(e)) throw new LockUnreachable((e as Error).message, { cause: e });
      throw e;
    }
  }

  #heard(): void {
    for (const fn of this.#answered) fn();
  }

  async readState(): Promise<LockReport> {
    const r = await this.#ask(() => this.client.getState());
    return {
      lockState: r.lockState,
      doorState: r.doorState,
      operatingMode: r.operatingMode,
      batteryPercent: r.batteryPercent,
      firmwareVersion: r.firmwareVersion,
      lastSeq: r.lastSeq,
      revocationVersion: r.revocationVersion,
      lockTimeMs: r.lockTimeMs,
      ...(r.pinPolicy === undefined ? {} : { pinPolicy: r.pinPolicy }),
    };
  }

  remoteLock(): Promise<ResultCode> {
    return this.#ask(() => this.client.lock());
  }

  setClock(utcMs: number): Promise<ResultCode> {
    return this.#ask(() => this.client.setTime(utcMs, 0));
  }

  setTimeZone(timeZone: string): Promise<ResultCode> {
    return this.#ask(() => this.client.setTimeZone(timeZone));
  }

  installRevocationList(signedList: Uint8Array): Promise<ResultCode> {
    return this.#ask(() => this.client.installRevocationList(signedList));
  }

  async acknowledgeCheckpoint(treeSize: number, checkpointHash: Uint8Array): Promise<void> {
    await this.#ask(() => this.client.acknowledgeCheckpoint(treeSize, checkpointHash));
  }

  async pullEvents(store: (records: readonly Uint8Array[]) => Promise<EventAck | null>): Promise<void> {
    let batch = await this.#ask(() => this.client.expect({ kind: "EventBatch", records: [] }, "EventBatch"));
    let lastAck = -1;
    while (batch.records.length > 0) {
      const ack = await store(batch.records);
      if (ack === null || ack.seq <= lastAck) break;
      lastAck = ack.seq;
      batch = await this.#ask(() =>
        this.client.expect({ kind: "EventAck", upToSeq: ack.seq, hash: ack.hash }, "EventBatch"),
      );
    }
  }

  async applyUser(userIndex: number, user: UserSlot): Promise<string | null> {
    const steps: MessageOf<
      | "SetUser"
      | "ClearWeekDaySchedule"
      | "SetWeekDaySchedule"
      | "ClearYearDaySchedule"
      | "SetYearDaySchedule"
    >[] = [
      {
        kind: "SetUser",
        userIndex,
        userType: UserType[user.userType],
        userStatus: UserStatus.OccupiedEnabled,
        credentialRule: CredentialRule.Single,
        uniqueId: null,
        expiringTimeoutMinutes: user.expiringTimeoutMinutes,
        // Names stay on the hub: the lock needs none to decide.
        name: "",
      },
      { kind: "ClearWeekDaySchedule", userIndex, weekDayIndex: CLEAR_ALL_SCHEDULES },
      ...user.weekDay.map((w, i) => ({
        kind: "SetWeekDaySchedule" as const,
        userIndex,
        weekDayIndex: i + 1,
        daysMask: w.daysMask,
        startHour: Math.floor(w.startMinute / 60),
        startMinute: w.startMinute % 60,
        endHour: Math.floor(w.endMinute / 60),
        endMinute: w.endMinute % 60,
      })),
      { kind: "ClearYearDaySchedule", userIndex, yearDayIndex: CLEAR_ALL_SCHEDULES },
      ...user.yearDay.map((y, i) => ({
        kind: "SetYearDaySchedule" as const,
        userIndex,
        yearDayIndex: i + 1,
        localStartTime: Math.floor(y.fromMs / 1000),
        localEndTime: Math.floor(y.toMs / 1000),
      })),
    ];
    for (const step of steps) {
      const code = await this.#ask(() => this.client.result(step));
      if (code !== "OK") return `${step.kind}: ${code}`;
    }
    return null;
  }

  clearUser(userIndex: number): Promise<ResultCode> {
    return this.#ask(() => this.client.clearUser(userIndex));
  }

  setCredential(c: SealedCredential): Promise<ResultCode> {
    return this.#ask(() =>
      this.client.setSealedCredential(c.credentialType, c.userIndex, c.credentialIndex, c.sealed),
    );
  }

  clearCredential(credentialType: number, credentialIndex: number): Promise<ResultCode> {
    return this.#ask(() => this.client.clearCredential(credentialType, credentialIndex));
  }

  requestUnlockChallenge(): Promise<{ challenge: Uint8Array; validForMs: number }> {
    return this.#ask(() => this.client.requestChallenge());
  }

  unlockWithPasskey(approval: PasskeyUnlock): Promise<ResultCode> {
    return this.#ask(() => this.client.unlockWithAssertion(approval));
  }

  onAnswer(fn: () => void): void {
    this.#answered.push(fn);
  }

  onEvents(fn: () => void): void {
    // A pushed batch is the lock speaking on its authenticated session; its records are pulled
    // (and acknowledged) on the next pass like any others.
    this.client.onPush(() => {
      this.#heard();
      fn();
    });
  }

  onClose(fn: () => void): void {
    this.client.connection.onClose(fn);
  }

  close(): void {
    this.client.close();
  }
}
