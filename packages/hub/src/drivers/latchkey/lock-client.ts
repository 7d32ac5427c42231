/**
 * The hub's (or a phone's) side of a Latchkey lock link: commission a lock with its setup code,
 * open a KK (hub) or XX (phone) session, and send typed requests that resolve with the lock's
 * reply. The hub's Latchkey driver (driver.ts) and commissioning use it, and so do the link tests
 * beside it, which play hub and phone against a virtual lock.
 *
 *   const identity = await LockClient.commission(transport, { setupCode, hubKeys });
 *   const hub = await LockClient.connectHub(await connectTcp({ port }), {
 *     hubStaticSecretKey, lock: { channelPublicKey: identity.channelPublicKey, lockId } });
 *   await hub.setPin(1, 1, "583920");           // sealed to the lock's channel key here
 *   const records = await hub.pullEvents();     // signed journal records, verify them offline
 *   hub.onPush((records) => …);                 // events the lock signs from now on (best effort)
 */
import {
  CommissioningInitiator,
  CredentialType as WireCredentialType,
  LatchkeyError,
  SecureConnection,
  clockHandshakeCounter,
  credentialSealContext,
  decodeMessage,
  decodeSignedLockEvent,
  encodeCredentialData,
  encodeMessage,
  isLatchkeyError,
  lockCommandSealContext,
  lockIdBytesFromPublicKey,
  sealSecret,
  type FrameTransport,
  type HubKeys,
  type CommissionedLock,
  type Message,
  type MessageKind,
  type MessageOf,
  type X25519,
  type CredentialData,
} from "@latchkey/protocol";
import { pbkdf2Sync } from "node:crypto";
import { nodeX25519 } from "@latchkey/protocol/node";
import { HUB_LOCK_PROTOCOL, PHONE_LOCK_PROTOCOL } from "@latchkey/lock";

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** What a hub or phone knows about a lock after commissioning (or from the hub). */
export interface LockPeerInfo {
  readonly channelPublicKey: Uint8Array;
  /** 16-byte lock id (= door id in certificates). */
  readonly lockId: Uint8Array;
}

export interface LockClientOptions {
  readonly timeoutMs?: number;
  readonly x25519?: X25519;
  /** Randomness for sealing (default: @noble's CSPRNG). */
  readonly ephemeralSecretKey?: () => Uint8Array;
}

type Pending = {
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

function timeout(what: string): LatchkeyError {
  return new LatchkeyError("LOCK_LINK_TIMEOUT", `${what} timed out`);
}

export class LockClient {
  readonly #pending = new Map<number, Pending>();
  readonly #pushListeners = new Set<(records: Uint8Array[]) => void>();
  #nextId = 1;
  #closed = false;

  private constructor(
    readonly connection: SecureConnection,
    readonly lockInfo: LockPeerInfo,
    private readonly options: LockClientOptions,
  ) {
    connection.onMessage((bytes) => this.#onReply(bytes));
    connection.onClose(() => this.#fail(new LatchkeyError("NOISE_SESSION_CLOSED", "lock connection closed")));
  }

  /** Runs the commissioning exchange (clear SPAKE2+ messages) over `transport`. */
  static commission(
    transport: FrameTransport,
    o: { setupCode: string; hubKeys: HubKeys; timeoutMs?: number },
  ): Promise<CommissionedLock> {
    const initiator = new CommissioningInitiator({
      setupCode: o.setupCode,
      hubKeys: o.hubKeys,
      // node:crypto's PBKDF2: the setup code's key stretching costs the hub a tenth of the time.
      pbkdf2: (password, salt, iterations, dkLen) =>
        new Uint8Array(pbkdf2Sync(password, salt, iterations, dkLen, "sha256")),
    });
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e: Error | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e !== null) return reject(e);
        const r = initiator.result;
        if (r === null)
          return reject(new LatchkeyError("COMM_UNEXPECTED_MESSAGE", "commissioning ended early"));
        resolve({ ...r, lockId: lockIdBytesFromPublicKey(r.signingPublicKey) });
      };
      const timer = setTimeout(
        () => finish(timeout("commissioning")),
        o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      );
      transport.onClose(() =>
        finish(new LatchkeyError("NOISE_SESSION_CLOSED", "carrier closed while commissioning")),
      );
      transport.onFrame((frame) => {
        if (done) return;
        try {
          const next = initiator.handle(frame);
          if (next === null) finish(null);
          else transport.send(next);
        } catch (e) {
          finish(
            isLatchkeyError(e)
              ? e
              : new LatchkeyError("LK_INTERNAL", "commissioning failed", undefined, { cause: e }),
          );
        }
      });
      transport.send(initiator.start());
    });
  }

  /**
   * A hub session (Noise KK): the hub's static key was installed on the lock at commissioning.
   * `handshakeCounter` must exceed every counter this hub sent the lock before (the lock refuses
   * anything else as a replay); the hub's sync engine keeps one per lock in its database. The
   * default, for tools and tests, is this process's monotonic wall clock (clockHandshakeCounter).
   */
  static async connectHub(
    transport: FrameTransport,
    o: LockClientOptions & { hubStaticSecretKey: Uint8Array; lock: LockPeerInfo; handshakeCounter?: number },
  ): Promise<LockClient> {
    const connection = await SecureConnection.connect(transport, {
      pattern: "KK",
      appProtocol: HUB_LOCK_PROTOCOL,
      handshakeCounter: o.handshakeCounter ?? clockHandshakeCounter(),
      staticSecretKey: o.hubStaticSecretKey,
      remoteStaticKey: o.lock.channelPublicKey,
      x25519: o.x25519 ?? nodeX25519,
      handshakeTimeoutMs: o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    return new LockClient(connection, o.lock, o);
  }

  /**
   * A phone session (Noise XX): the phone pins the lock's channel key and proves itself with its
   * certificate (`makePhoneIdentityProof`) in message 3. A refused phone sees the connection close.
   */
  static async connectPhone(
    transport: FrameTransport,
    o: LockClientOptions & {
      phoneStaticSecretKey: Uint8Array;
      identityProof: Uint8Array;
      lock: LockPeerInfo;
    },
  ): Promise<LockClient> {
    const connection = await SecureConnection.connect(transport, {
      pattern: "XX",
      appProtocol: PHONE_LOCK_PROTOCOL,
      staticSecretKey: o.phoneStaticSecretKey,
      remoteStaticKey: o.lock.channelPublicKey,
      identityProof: o.identityProof,
      x25519: o.x25519 ?? nodeX25519,
      handshakeTimeoutMs: o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    return new LockClient(connection, o.lock, o);
  }

  /** Sends one request; resolves with the lock's reply (a typed message or a Result). */
  request(message: Message): Promise<Message> {
    if (this.#closed)
      return Promise.reject(new LatchkeyError("NOISE_SESSION_CLOSED", "lock connection closed"));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(timeout(message.kind));
      }, this.options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.connection.send(encodeMessage(id, message));
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** A request whose answer must be of kind `K`; a Result (refusal) throws as LockRefusal. */
  async expect<K extends MessageKind>(message: Message, kind: K): Promise<MessageOf<K>> {
    const reply = await this.request(message);
    if (reply.kind === kind) return reply as MessageOf<K>;
    throw new LockRefusal(reply.kind === "Result" ? reply.code : `unexpected ${reply.kind}`);
  }

  /** A request answered by a Result; returns its code ("OK" or a stable error code). */
  async result(message: Message): Promise<string> {
    const reply = await this.request(message);
    if (reply.kind !== "Result") throw new LockRefusal(`unexpected ${reply.kind}`);
    return reply.code;
  }

  getState(): Promise<MessageOf<"StateReport">> {
    return this.expect({ kind: "GetState" }, "StateReport");
  }

  /** Remote lock; `pin` only for locks configured with requirePinForRemoteOperation. */
  lock(pin?: string): Promise<string> {
    const sealedPin =
      pin === undefined
        ? new Uint8Array(0)
        : this.#seal(new TextEncoder().encode(pin), lockCommandSealContext(this.lockInfo.lockId));
    return this.result({ kind: "Lock", sealedPin });
  }

  requestChallenge(): Promise<MessageOf<"UnlockChallenge">> {
    return this.expect({ kind: "UnlockChallengeRequest" }, "UnlockChallenge");
  }

  unlockWithAssertion(m: Omit<MessageOf<"UnlockWithAssertion">, "kind">): Promise<string> {
    return this.result({ kind: "UnlockWithAssertion", ...m });
  }

  unlockWithPhoneKey(m: Omit<MessageOf<"UnlockWithPhoneKey">, "kind">): Promise<string> {
    return this.result({ kind: "UnlockWithPhoneKey", ...m });
  }

  setUser(m: Omit<MessageOf<"SetUser">, "kind">): Promise<string> {
    return this.result({ kind: "SetUser", ...m });
  }

  /** Seals `data` to the lock for this user and slot, and sends SetCredential. */
  setCredential(
    wireType: number,
    userIndex: number,
    credentialIndex: number,
    data: CredentialData,
  ): Promise<string> {
    const plain = encodeCredentialData(data);
    const sealedData = this.#seal(
      plain,
      credentialSealContext({
        lockId: this.lockInfo.lockId,
        credentialType: wireType,
        userIndex,
        credentialIndex,
      }),
    );
    plain.fill(0);
    return this.setSealedCredential(wireType, userIndex, credentialIndex, sealedData);
  }

  /**
   * SetCredential with data already sealed to this lock for this slot (`credentialSealContext`):
   * how the hub sends a PIN it sealed when the PIN was made and no longer holds.
   */
  setSealedCredential(
    wireType: number,
    userIndex: number,
    credentialIndex: number,
    sealedData: Uint8Array,
  ): Promise<string> {
    return this.result({
      kind: "SetCredential",
      credentialType: wireType as MessageOf<"SetCredential">["credentialType"],
      credentialIndex,
      userIndex,
      sealedData,
    });
  }

  setPin(userIndex: number, credentialIndex: number, pin: string): Promise<string> {
    return this.setCredential(WireCredentialType.PIN, userIndex, credentialIndex, { type: "PIN", pin });
  }

  setTime(utcMs: number, utcOffsetMinutes = 0): Promise<string> {
    return this.result({ kind: "SetTime", utcMs, utcOffsetMinutes });
  }

  installRevocationList(signedList: Uint8Array): Promise<string> {
    return this.result({ kind: "RevocationList", signedList });
  }

  /** The lock journals a CheckpointAck; resolves with that signed record. */
  async acknowledgeCheckpoint(treeSize: number, checkpointHash: Uint8Array): Promise<Uint8Array> {
    const batch = await this.expect({ kind: "CheckpointAck", treeSize, checkpointHash }, "EventBatch");
    const record = batch.records[0];
    if (record === undefined) throw new LockRefusal("empty checkpoint acknowledgement");
    return record;
  }

  /**
   * Pulls every journal record the hub has not acknowledged: asks for the unacknowledged tail,
   * then acknowledges each batch (seq and hash of its last record) until the lock is caught up.
   * `lastAcked` (seq, hash) restarts from a known point.
   */
  async pullEvents(lastAcked?: { seq: number; hash: Uint8Array }): Promise<Uint8Array[]> {
    const ack = (record: Uint8Array): { seq: number; hash: Uint8Array } => {
      const e = decodeSignedLockEvent(record);
      return { seq: e.seq, hash: e.hash };
    };
    const out: Uint8Array[] = [];
    let batch =
      lastAcked === undefined
        ? await this.expect({ kind: "EventBatch", records: [] }, "EventBatch")
        : await this.expect({ kind: "EventAck", upToSeq: lastAcked.seq, hash: lastAcked.hash }, "EventBatch");
    while (batch.records.length > 0) {
      out.push(...batch.records);
      const last = ack(batch.records[batch.records.length - 1] as Uint8Array);
      batch = await this.expect({ kind: "EventAck", upToSeq: last.seq, hash: last.hash }, "EventBatch");
    }
    return out;
  }

  /**
   * Events the lock pushes unsolicited on a hub session (EventBatch with request id 0), each a
   * signed journal record to verify like pulled ones. Best effort: a push changes nothing about
   * acknowledgement, so keep pulling and acknowledging with `pullEvents`. Returns an unsubscribe.
   * A listener that throws does not disturb the connection (its error is dropped).
   */
  onPush(fn: (records: Uint8Array[]) => void): () => void {
    this.#pushListeners.add(fn);
    return () => {
      this.#pushListeners.delete(fn);
    };
  }

  /** SetTimeZone: the IANA zone week-day schedules are evaluated in (e.g. "Europe/Paris"). */
  setTimeZone(timeZone: string): Promise<string> {
    return this.result({ kind: "SetTimeZone", timeZone });
  }

  /** ClearUser (0xFFFE = every user); clearing an absent user is OK. */
  clearUser(userIndex: number): Promise<string> {
    return this.result({ kind: "ClearUser", userIndex });
  }

  /** ClearCredential (0xFFFE = every credential of the type); clearing an absent one is OK. */
  clearCredential(wireType: number, credentialIndex: number): Promise<string> {
    return this.result({
      kind: "ClearCredential",
      credentialType: wireType as MessageOf<"ClearCredential">["credentialType"],
      credentialIndex,
    });
  }

  setWeekDaySchedule(m: Omit<MessageOf<"SetWeekDaySchedule">, "kind">): Promise<string> {
    return this.result({ kind: "SetWeekDaySchedule", ...m });
  }

  /** ClearWeekDaySchedule (0xFE = every index of the user); an absent schedule is OK. */
  clearWeekDaySchedule(userIndex: number, weekDayIndex: number): Promise<string> {
    return this.result({ kind: "ClearWeekDaySchedule", weekDayIndex, userIndex });
  }

  setYearDaySchedule(m: Omit<MessageOf<"SetYearDaySchedule">, "kind">): Promise<string> {
    return this.result({ kind: "SetYearDaySchedule", ...m });
  }

  /** ClearYearDaySchedule (0xFE = every index of the user); an absent schedule is OK. */
  clearYearDaySchedule(userIndex: number, yearDayIndex: number): Promise<string> {
    return this.result({ kind: "ClearYearDaySchedule", yearDayIndex, userIndex });
  }

  close(): void {
    if (this.#closed) return;
    this.connection.close();
    this.#fail(new LatchkeyError("NOISE_SESSION_CLOSED", "lock connection closed"));
  }

  #seal(plain: Uint8Array, context: string): Uint8Array {
    const eph = this.options.ephemeralSecretKey?.();
    return eph === undefined
      ? sealSecret(this.lockInfo.channelPublicKey, plain, context)
      : sealSecret(this.lockInfo.channelPublicKey, plain, context, eph);
  }

  #onReply(bytes: Uint8Array): void {
    let env;
    try {
      env = decodeMessage(bytes);
    } catch {
      return; // a reply we cannot read: its request times out
    }
    if (env.requestId === 0) {
      // Request id 0 is never a reply (ours start at 1): a push from the lock.
      if (env.message.kind === "EventBatch") {
        const records = env.message.records;
        for (const fn of [...this.#pushListeners]) {
          try {
            fn(records.slice());
          } catch {
            // A listener's failure must not stop replies on this connection.
          }
        }
      }
      return;
    }
    const p = this.#pending.get(env.requestId);
    if (p === undefined) return;
    this.#pending.delete(env.requestId);
    clearTimeout(p.timer);
    p.resolve(env.message);
  }

  #fail(e: Error): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.#pending.clear();
  }
}

/** A lock's refusal as seen by the client: `code` is the Result code (e.g. LOCK_ACCESS_DENIED). */
export class LockRefusal extends Error {
  constructor(readonly code: string) {
    super(`lock refused: ${code}`);
    this.name = "LockRefusal";
  }
}
