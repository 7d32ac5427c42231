/**
 * One decoded request from an authenticated peer → the lock's reply. The lock decides everything
 * itself: the hub's KK session may administer (users, credentials, schedules, time, revocation,
 * events, checkpoints) but can only *lock*; opening needs a person — a passkey assertion over an
 * intent naming a challenge this lock issued, the proposal and its snapshot (UnlockWithAssertion),
 * or a phone's own key in its XX session.
 * Every reply is the request's typed answer or a `Result` with a stable code; refused access
 * attempts are also journaled by the runtime as signed LockOperationError events.
 */
import {
  type ChallengeBook,
  CLEAR_ALL_CREDENTIALS,
  CLEAR_ALL_SCHEDULES,
  CLEAR_ALL_USERS,
  CredentialRule,
  credentialSealContext,
  decodeCredentialData,
  decodeDigitalKey,
  DenyReason,
  DoorState as WireDoorState,
  encodeSignedLockEvent,
  epochMs,
  equalBytes,
  isEnumValue,
  LatchkeyError,
  lockCommandSealContext,
  lockCredentialType,
  LockState as WireLockState,
  type Message,
  MESSAGE_MAX_BYTES,
  type MessageOf,
  openSealedSecret,
  OperatingMode,
  OperationSource,
  type RemoteUnlockRefusal,
  resultMessage,
  UserStatus as WireUserStatus,
  UserType,
  verifyRemoteUnlock,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { denyReasonOfCertificate } from "../commissioning/certificate-check.js";
import type { LockRuntime } from "../runtime/lock-runtime.js";
import { pinPolicyOf } from "../settings/settings.js";
import type { UserInput } from "../users/user.js";

export type PeerRole = "hub" | "phone";

/** What the dispatcher knows about the session a request arrived in. */
export interface RequestContext {
  readonly role: PeerRole;
  /** Phone sessions: the Ed25519 holder key of the certificate the phone proved in the handshake. */
  readonly phoneHolderKey: Uint8Array | null;
}

export interface WebAuthnRelyingParty {
  /** The hub's WebAuthn relying-party id, e.g. "latchkey.home.arpa". */
  readonly rpId: string;
  /** Origins of the hub's web app, e.g. ["https://latchkey.home.arpa:8443"]. */
  readonly origins: readonly string[];
}

export interface DispatcherEnv {
  readonly runtime: () => LockRuntime;
  /** Challenges for passkey remote unlocks (hub sessions). */
  readonly challenges: ChallengeBook;
  readonly relyingParty: WebAuthnRelyingParty;
  readonly firmwareVersion: string;
}

const PHONE_ALLOWED = new Set<Message["kind"]>([
  "Lock",
  "UnlockChallengeRequest",
  "UnlockWithPhoneKey",
  "GetState",
]);
/** Room left in an EventBatch for the envelope and the record count. */
const BATCH_BUDGET = MESSAGE_MAX_BYTES - 512;

type Reply = Message;
const ok = (): Reply => resultMessage("OK");
const code = (c: string): Reply => resultMessage(c);

/** How a refused remote unlock is journaled (the exact refusal goes into the event too). */
export function denyReasonOfRemote(reason: RemoteUnlockRefusal): DenyReason {
  switch (reason) {
    case "stale-challenge":
    case "foreign-challenge":
    case "reused-challenge":
      return DenyReason.StaleChallenge;
    case "revoked":
    case "wrong-door":
    case "not-yet-valid":
    case "expired":
    case "permission-missing":
    case "outside-schedule":
    case "wrong-key-type":
      return denyReasonOfCertificate(reason);
    // The certificate's and the assertion's failures share these names; either way a signature
    // (the owner's or the person's) did not check out.
    case "bad-signature":
    case "malformed":
    case "challenge-mismatch":
    case "counter-regressed":
    case "cross-origin":
    case "user-not-present":
    case "user-not-verified":
    case "wrong-origin":
    case "wrong-rp":
    case "wrong-type":
      return DenyReason.BadSignature;
  }
}

export function handleRequest(env: DispatcherEnv, ctx: RequestContext, m: Message): Reply {
  const rt = env.runtime();
  if (ctx.role === "phone" && !PHONE_ALLOWED.has(m.kind)) return code("LOCK_MESSAGE_NOT_ALLOWED");
  const c = rt.commissioning;
  const channel = (sealed: Uint8Array, context: string): Uint8Array =>
    openSealedSecret(c.channelSecretKey, sealed, context, c.channelPublicKey);

  switch (m.kind) {
    case "Lock": {
      let pin: string | undefined;
      if (m.sealedPin.length > 0) {
        const plain = channel(m.sealedPin, lockCommandSealContext(rt.lockIdBytes));
        pin = new TextDecoder().decode(plain);
        plain.fill(0);
      }
      return rt.remoteLock(pin === undefined ? {} : { pin }).granted ? ok() : code("LOCK_ACCESS_DENIED");
    }
    case "Unlock":
      // Invariant 1: the hub alone cannot open a door (it holds every PIN sealed to this lock).
      rt.refuseRemote(DenyReason.UnknownCredential, "Unlock", { authority: "none" });
      return code("LOCK_UNLOCK_NEEDS_PERSON");
    case "UnlockChallengeRequest": {
      if (ctx.role === "phone") {
        const challenge = rt.issuePhoneChallenge();
        return { kind: "UnlockChallenge", challenge, validForMs: rt.settings.phoneChallengeTime * 1000 };
      }
      const issued = env.challenges.issue();
      return { kind: "UnlockChallenge", challenge: issued.challenge, validForMs: issued.validForMs };
    }
    case "UnlockWithAssertion":
      return unlockWithAssertion(env, rt, m);
    case "UnlockWithPhoneKey": {
      let holder: Uint8Array = new Uint8Array(0);
      try {
        holder = decodeDigitalKey(m.certificate).holderKey;
      } catch {
        // A malformed certificate names no key: the runtime journals unknown-credential.
      }
      if (ctx.phoneHolderKey !== null && holder.length > 0 && !equalBytes(holder, ctx.phoneHolderKey)) {
        rt.refuseRemote(
          DenyReason.InvalidCertificate,
          "Unlock",
          { certificate: "session-mismatch" },
          OperationSource.PhoneKey,
        );
        return code("LOCK_ACCESS_DENIED");
      }
      const r = rt.attemptPhoneKey(
        { publicKey: holder, nonce: m.challenge, signature: m.signature, certificate: m.certificate },
        OperationSource.PhoneKey,
      );
      return r.granted ? ok() : code("LOCK_ACCESS_DENIED");
    }
    case "SetUser":
      return setUser(rt, m);
    case "ClearUser":
      // Idempotent: the hub resends after a crash, and clearing a user that is not there (or no
      // longer there, e.g. cleared with its last credential) leaves the state it asked for.
      if (m.userIndex === CLEAR_ALL_USERS) for (const u of rt.users()) rt.clearUser(u.index);
      else if (rt.user(m.userIndex) !== undefined) rt.clearUser(m.userIndex);
      return ok();
    case "SetCredential": {
      // Idempotent: a slot of this type already held by the same user is replaced in place (the
      // runtime journals Modify); a slot held by another user is refused (LOCK_CREDENTIAL_DUPLICATE).
      const type = lockCredentialType(m.credentialType);
      if (type === null) return code("LOCK_MESSAGE_UNSUPPORTED");
      const plain = channel(
        m.sealedData,
        credentialSealContext({
          lockId: rt.lockIdBytes,
          credentialType: m.credentialType,
          userIndex: m.userIndex,
          credentialIndex: m.credentialIndex,
        }),
      );
      try {
        const d = decodeCredentialData(type, plain);
        if (d.type === "PIN") rt.setPin(m.userIndex, d.pin, m.credentialIndex);
        else if (d.type === "RFID") rt.setCard(m.userIndex, d.uid, d.key, m.credentialIndex);
        else if (d.type === "Fingerprint") rt.setFingerprint(m.userIndex, d.templateRef, m.credentialIndex);
        else rt.setPhoneKey(m.userIndex, d.algorithm, d.publicKey, m.credentialIndex);
      } finally {
        plain.fill(0);
      }
      return ok();
    }
    case "ClearCredential": {
      const type = lockCredentialType(m.credentialType);
      if (type === null) return code("LOCK_MESSAGE_UNSUPPORTED");
      if (m.credentialIndex === CLEAR_ALL_CREDENTIALS) {
        for (const cred of rt.credentials()) if (cred.type === type) rt.clearCredential(type, cred.index);
      } else if (rt.credentials().some((cred) => cred.type === type && cred.index === m.credentialIndex)) {
        rt.clearCredential(type, m.credentialIndex);
      }
      // Idempotent: an absent credential is already cleared.
      return ok();
    }
    case "SetWeekDaySchedule":
      rt.setWeekDaySchedule(m.userIndex, {
        index: m.weekDayIndex,
        daysMask: m.daysMask,
        startMinute: m.startHour * 60 + m.startMinute,
        endMinute: m.endHour * 60 + m.endMinute,
      });
      return ok();
    case "ClearWeekDaySchedule":
      clearSchedules(
        m.weekDayIndex,
        (i) => rt.clearWeekDaySchedule(m.userIndex, i),
        () => rt.user(m.userIndex),
      );
      return ok();
    case "SetTimeZone":
      try {
        rt.updateSettings({ timeZone: m.timeZone });
      } catch (e) {
        if (e instanceof LatchkeyError && e.code === "LOCK_SETTING_INVALID") return code(e.code);
        throw e;
      }
      return ok();
    case "SetYearDaySchedule":
      rt.setYearDaySchedule(m.userIndex, {
        index: m.yearDayIndex,
        fromMs: localToUtcMs(m.localStartTime, c.utcOffsetMinutes),
        toMs: localToUtcMs(m.localEndTime, c.utcOffsetMinutes),
      });
      return ok();
    case "ClearYearDaySchedule":
      clearSchedules(
        m.yearDayIndex,
        (i) => rt.clearYearDaySchedule(m.userIndex, i),
        () => rt.user(m.userIndex),
      );
      return ok();
    case "SetHolidaySchedule": {
      if (!isEnumValue(OperatingMode, m.operatingMode)) return code("LOCK_SCHEDULE_INVALID");
      rt.setHolidaySchedule({
        index: m.holidayIndex,
        fromMs: localToUtcMs(m.localStartTime, c.utcOffsetMinutes),
        toMs: localToUtcMs(m.localEndTime, c.utcOffsetMinutes),
        operatingMode: m.operatingMode,
      });
      return ok();
    }
    case "ClearHolidaySchedule":
      clearSchedules(
        m.holidayIndex,
        (i) => rt.clearHolidaySchedule(i),
        () => true,
      );
      return ok();
    case "SetTime":
      try {
        rt.setTime(epochMs(m.utcMs), "hub");
      } catch (e) {
        // A step beyond the lock's bound needs a person; the refusal is journaled by the runtime.
        if (e instanceof LatchkeyError && e.code === "LOCK_CLOCK_STEP_REFUSED") return code(e.code);
        throw e;
      }
      c.setUtcOffsetMinutes(m.utcOffsetMinutes);
      return ok();
    case "GetState":
      return stateReport(env, rt);
    case "EventBatch":
      // A hub's empty batch means "send me what I have not acknowledged yet".
      if (m.records.length > 0) return code("LOCK_MESSAGE_NOT_ALLOWED");
      return eventBatch(rt, c.ackedSeq + 1);
    case "EventAck": {
      const next = rt.journal.nextSeq;
      const event = m.upToSeq < next ? rt.journal.read(m.upToSeq, 1)[0] : undefined;
      if (event === undefined || !equalBytes(event.hash, m.hash)) return code("LOCK_EVENT_ACK_INVALID");
      c.setAckedSeq(m.upToSeq);
      return eventBatch(rt, m.upToSeq + 1);
    }
    case "CheckpointAck": {
      const event = rt.acknowledgeCheckpoint(m.treeSize, m.checkpointHash);
      return { kind: "EventBatch", records: [encodeSignedLockEvent(event)] };
    }
    case "RevocationList":
      return rt.installRevocationList(m.signedList).ok ? ok() : code("LOCK_REVOCATION_REFUSED");
    case "FirmwareOffer":
      return code("LOCK_MESSAGE_UNSUPPORTED");
    case "Result":
    case "CommHello":
    case "CommParams":
    case "CommPake1":
    case "CommPake2":
    case "CommPake3":
    case "CommLockIdentity":
    case "CommComplete":
    case "CommAnnounce":
    case "StateReport":
    case "UnlockChallenge":
      // Replies and commissioning steps are not requests a commissioned lock answers.
      return code("LOCK_MESSAGE_NOT_ALLOWED");
  }
}

function unlockWithAssertion(
  env: DispatcherEnv,
  rt: LockRuntime,
  m: MessageOf<"UnlockWithAssertion">,
): Reply {
  const c = rt.commissioning;
  const owner = c.ownerPublicKey;
  // A refusal names what the request claimed; only a verified request's fields are the person's.
  const claim = { proposalId: m.proposalId.slice(), snapshotHash: m.snapshotHash.slice() };
  const now = rt.wallMs;
  if (owner === null || now === null) {
    rt.refuseRemote(DenyReason.TimeUnknown, "Unlock", { ...claim, authority: "passkey" });
    return code("LOCK_ACCESS_DENIED");
  }
  const verdict = verifyRemoteUnlock(
    {
      certificate: m.certificate,
      challenge: m.challenge,
      proposalId: m.proposalId,
      snapshotHash: m.snapshotHash,
      authenticatorData: m.authenticatorData,
      clientDataJSON: m.clientDataJSON,
      signature: m.signature,
    },
    {
      challenges: env.challenges,
      ownerPublicKey: owner,
      doorId: rt.lockIdBytes,
      now,
      revocationList: c.revocation?.list ?? null,
      origins: env.relyingParty.origins,
      rpId: env.relyingParty.rpId,
      previousSignCount: (serial) => c.signCount(serial),
      utcOffsetMinutes: c.utcOffsetMinutes,
      ed25519: nodeEd25519,
    },
  );
  if (!verdict.ok) {
    rt.refuseRemote(denyReasonOfRemote(verdict.reason), "Unlock", {
      ...claim,
      authority: "passkey",
      refusal: verdict.reason,
      ...(verdict.key === null ? {} : { certificateSerial: verdict.key.serial.toString() }),
    });
    return code("LOCK_ACCESS_DENIED");
  }
  c.setSignCount(verdict.key.serial, verdict.signCount);
  // The event names the proposal and snapshot the person's passkey signed (through the intent).
  const r = rt.remoteUnlockByPerson({
    certificateSerial: verdict.key.serial,
    subjectId: verdict.key.subjectId,
    proposalId: verdict.proposalId,
    snapshotHash: verdict.snapshotHash,
  });
  return r.granted ? ok() : code("LOCK_ACCESS_DENIED");
}

function setUser(rt: LockRuntime, m: MessageOf<"SetUser">): Reply {
  const type = m.userType;
  const rule = m.credentialRule;
  if (!isEnumValue(UserType, type) || !isEnumValue(CredentialRule, rule)) return code("LOCK_USER_INVALID");
  const input: UserInput = {
    name: m.name,
    type,
    enabled: m.userStatus !== WireUserStatus.OccupiedDisabled,
    credentialRule: rule,
    ...(type === UserType.ExpiringUser ? { expiringTimeoutMinutes: m.expiringTimeoutMinutes } : {}),
  };
  if (rt.user(m.userIndex) === undefined) rt.addUser(input, m.userIndex);
  else rt.modifyUser(m.userIndex, input);
  return ok();
}

/**
 * Clears one schedule, or (index 0xFE) every schedule index that exists. Idempotent: a schedule
 * (or its user) that is not there is already cleared, so the hub may resend after a crash.
 */
function clearSchedules(index: number, clear: (i: number) => void, ownerExists: () => unknown): void {
  if (ownerExists() === undefined) return;
  const from = index === CLEAR_ALL_SCHEDULES ? 1 : index;
  const to = index === CLEAR_ALL_SCHEDULES ? CLEAR_ALL_SCHEDULES - 1 : index;
  for (let i = from; i <= to; i++) {
    try {
      clear(i);
    } catch (e) {
      // Absent indexes (and those beyond the lock's capacity) are simply not there to clear.
      if (!(e instanceof LatchkeyError) || !e.code.startsWith("LOCK_SCHEDULE_")) throw e;
    }
  }
}

function localToUtcMs(localSeconds: number, utcOffsetMinutes: number): number {
  return (localSeconds - utcOffsetMinutes * 60) * 1000;
}

function stateReport(env: DispatcherEnv, rt: LockRuntime): MessageOf<"StateReport"> {
  const last = rt.journal.nextSeq - 1;
  const lastEvent = last >= 1 ? rt.journal.read(last, 1)[0] : undefined;
  const wall = rt.wallMs;
  const bolt = rt.boltState;
  return {
    kind: "StateReport",
    lockState:
      bolt === "Locked"
        ? WireLockState.Locked
        : bolt === "Unlocked"
          ? WireLockState.Unlocked
          : WireLockState.NotFullyLocked,
    doorState: rt.doorOpen ? WireDoorState.DoorOpen : WireDoorState.DoorClosed,
    operatingMode: rt.effectiveMode,
    batteryPercent: Math.max(0, Math.min(100, Math.round(rt.batteryPercent))),
    lockTimeMs: wall === null || wall < 1 ? null : wall,
    lastSeq: last,
    lastHash: lastEvent?.hash ?? new Uint8Array(32),
    revocationVersion: rt.commissioning.revocation?.version ?? 0,
    securityCounter: 0,
    firmwareVersion: env.firmwareVersion,
    pinPolicy: pinPolicyOf(rt.settings),
  };
}

/** Signed journal records from `fromSeq` on, as many as fit one message (empty = caught up). */
function eventBatch(rt: LockRuntime, fromSeq: number): MessageOf<"EventBatch"> {
  const records: Uint8Array[] = [];
  let size = 0;
  for (const event of rt.journal.read(fromSeq, 1024)) {
    const record = encodeSignedLockEvent(event);
    if (size + record.length + 2 > BATCH_BUDGET) break;
    records.push(record);
    size += record.length + 2;
  }
  return { kind: "EventBatch", records };
}
