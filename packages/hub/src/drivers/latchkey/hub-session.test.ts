/**
 * The hub's session beyond requests and replies: the broker password both sides derive, the
 * announcement of a lock waiting to be commissioned, events pushed on open hub sessions (never to
 * phones), the time zone week-day schedules run in, and administration that is safe to resend.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  CredentialType as WireCredentialType,
  DaysMask,
  EventKind,
  HolderKeyType,
  UserStatus,
  UserType as WireUserType,
  decodeCommAnnounce,
  decodeMessage,
  decodeSignedLockEvent,
  deriveBrokerPassword,
  encodeMessage,
  equalBytes,
  nobleX25519,
  verifyLockEventRecord,
  type MessageOf,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { type AutoMemoryLink, type VirtualLock, fileJournalFactory } from "@latchkey/lock";
import { certificate, newHub, newOwner, newPhone, phoneProof, startLinkedLock } from "@latchkey/lock/testing";
import type { CommissionedLock } from "@latchkey/protocol";
import { LockClient } from "./lock-client.js";
import { commissionLock } from "./link-testing.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

function user(
  userIndex: number,
  userType: number = WireUserType.UnrestrictedUser,
): Omit<MessageOf<"SetUser">, "kind"> {
  return {
    userIndex,
    userType: userType as MessageOf<"SetUser">["userType"],
    userStatus: UserStatus.OccupiedEnabled,
    credentialRule: 0,
    uniqueId: null,
    expiringTimeoutMinutes: 0,
    name: `user ${userIndex}`,
  };
}

/** A commissioned lock with a hub session over a memory link the test can deliver on. */
async function hubOnLock(opts: Parameters<typeof startLinkedLock>[0] = {}): Promise<{
  lock: VirtualLock;
  hubKeys: ReturnType<typeof newHub>;
  owner: ReturnType<typeof newOwner>;
  identity: CommissionedLock;
  link: AutoMemoryLink;
  hub: LockClient;
}> {
  const lock = startLinkedLock(opts);
  cleanup.push(() => lock.runtime.shutdown());
  const owner = newOwner();
  const hubKeys = newHub();
  const identity = await commissionLock(lock, lock.setupCode ?? "", owner, hubKeys);
  const link = lock.connectMemory();
  const hub = await LockClient.connectHub(link.client, {
    hubStaticSecretKey: hubKeys.secretKey,
    lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
    timeoutMs: 2000,
  });
  cleanup.push(() => hub.close());
  return { lock, hubKeys, owner, identity, link, hub };
}

/** Frames the lock has sent on a link so far. */
const fromLock = (link: AutoMemoryLink): number => link.link.captured.filter((f) => f.from === "b").length;

describe("broker password", () => {
  it("is null before commissioning; then the lock and the hub derive the same one, across restarts", async () => {
    const lock = startLinkedLock({ journal: fileJournalFactory });
    cleanup.push(() => lock.runtime.shutdown());
    expect(lock.runtime.commissioning.brokerPassword()).toBeNull();
    const hubKeys = newHub();
    const identity = await commissionLock(lock, lock.setupCode ?? "", newOwner(), hubKeys);
    const hubSide = deriveBrokerPassword({
      x25519: nobleX25519,
      secretKey: hubKeys.secretKey,
      publicKey: identity.channelPublicKey,
      lockId: identity.lockId,
    });
    expect(lock.runtime.commissioning.brokerPassword()).toBe(hubSide);
    lock.restart();
    expect(lock.runtime.commissioning.brokerPassword()).toBe(hubSide);
    // Another hub key gives another password; a factory reset leaves none.
    expect(
      deriveBrokerPassword({
        x25519: nobleX25519,
        secretKey: newHub().secretKey,
        publicKey: identity.channelPublicKey,
        lockId: identity.lockId,
      }),
    ).not.toBe(hubSide);
    lock.factoryReset();
    expect(lock.runtime.commissioning.brokerPassword()).toBeNull();
  });
});

describe("CommAnnounce", () => {
  it("a lock waiting to be commissioned announces its id; it answers no announcement; commissioned, it is quiet", async () => {
    const lock = startLinkedLock();
    cleanup.push(() => lock.runtime.shutdown());
    const announcement = lock.endpoint.announcement();
    expect(announcement).not.toBeNull();
    const env = decodeMessage(announcement ?? new Uint8Array(0));
    expect(env.requestId).toBe(0);
    expect(env.message).toEqual({ kind: "CommAnnounce", lockId: lock.runtime.lockIdBytes });
    expect(decodeCommAnnounce(announcement ?? new Uint8Array(0))).toEqual(lock.runtime.lockIdBytes);

    // Another lock's announcement (or a stray Result) gets no answer and changes nothing.
    const stray = lock.connectMemory();
    stray.inject(encodeMessage(0, { kind: "CommAnnounce", lockId: new Uint8Array(16).fill(9) }));
    stray.inject(encodeMessage(0, { kind: "Result", code: "OK", retryAfterMs: 0 }));
    expect(fromLock(stray)).toBe(0);
    expect(lock.endpoint.stats.refusals.COMM_UNEXPECTED_MESSAGE).toBe(2);
    expect(lock.runtime.commissioning.responder.state.consecutiveFailures).toBe(0);

    const hubKeys = newHub();
    const identity = await commissionLock(lock, lock.setupCode ?? "", newOwner(), hubKeys);
    expect(lock.endpoint.announcement()).toBeNull();

    // Commissioned: a clear CommAnnounce is dropped without a reply …
    const late = lock.connectMemory();
    late.inject(encodeMessage(0, { kind: "CommAnnounce", lockId: new Uint8Array(16).fill(9) }));
    expect(fromLock(late)).toBe(0);
    // … and inside a hub session it is not a request.
    const link = lock.connectMemory();
    const hub = await LockClient.connectHub(link.client, {
      hubStaticSecretKey: hubKeys.secretKey,
      lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
      timeoutMs: 2000,
    });
    cleanup.push(() => hub.close());
    expect(await hub.result({ kind: "CommAnnounce", lockId: identity.lockId })).toBe(
      "LOCK_MESSAGE_NOT_ALLOWED",
    );
    expect((await hub.getState()).lastSeq).toBe(lock.runtime.journal.nextSeq - 1);
  });
});

describe("event push", () => {
  it("sends every event the lock signs to the open hub session, verifiable, without changing acknowledgement", async () => {
    const { lock, identity, link, hub } = await hubOnLock();
    const pushed: Uint8Array[] = [];
    hub.onPush((records) => pushed.push(...records));
    expect(await hub.setUser(user(1))).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");
    // The hub's own changes are pushed too (before each reply).
    expect(pushed.map((r) => decodeSignedLockEvent(r).kind)).toEqual([
      EventKind.UserChange,
      EventKind.UserChange,
    ]);
    pushed.length = 0;

    const seqBefore = lock.runtime.journal.nextSeq;
    expect(lock.enterPin("583920")).toMatchObject({ granted: true, userIndex: 1 });
    link.link.deliver(); // the lock sent on its own: hand the frames over
    expect(pushed.length).toBe(lock.runtime.journal.nextSeq - seqBefore);
    expect(pushed.length).toBeGreaterThan(0);
    for (const record of pushed) {
      expect(verifyLockEventRecord(record, identity.signingPublicKey, nodeEd25519)).toBe(true);
      expect(Buffer.from(record).includes(Buffer.from("583920"))).toBe(false);
    }
    const events = pushed.map((r) => decodeSignedLockEvent(r));
    expect(events[0]?.seq).toBe(seqBefore);
    expect(events.some((e) => e.kind === EventKind.LockOperation && e.actor.userIndex === 1)).toBe(true);

    // Pulling still returns (and acknowledges) everything, the pushed events included.
    const pulled = await hub.pullEvents();
    expect(pulled.length).toBe(lock.runtime.journal.nextSeq - 1);
    expect(pulled.slice(-pushed.length)).toEqual(pushed);
    expect(lock.runtime.commissioning.ackedSeq).toBe(lock.runtime.journal.nextSeq - 1);
    expect(lock.endpoint.stats.refusals).toEqual({});
  });

  it("follows a restarted runtime, stops when the hub leaves, and never pushes to a phone", async () => {
    const { lock, owner, identity, link, hub } = await hubOnLock();
    const pushed: Uint8Array[] = [];
    const stop = hub.onPush((records) => pushed.push(...records));
    expect(await hub.setUser(user(1))).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");

    // A phone with a valid key: its session gets no pushes.
    const phone = newPhone();
    expect(
      await hub.setCredential(WireCredentialType.AliroEvictableEndpointKey, 1, 1, {
        type: "PhoneKey",
        algorithm: "Ed25519",
        publicKey: phone.publicKey,
      }),
    ).toBe("OK");
    const phoneLink = lock.connectMemory();
    const phoneClient = await LockClient.connectPhone(phoneLink.client, {
      phoneStaticSecretKey: phone.noise.secretKey,
      identityProof: phoneProof(
        phone,
        certificate(
          owner,
          { holderKeyType: HolderKeyType.Ed25519, holderKey: phone.publicKey, doorIds: [identity.lockId] },
          lock.runtime.wallMs ?? 0,
        ),
      ),
      lock: { channelPublicKey: identity.channelPublicKey, lockId: identity.lockId },
      timeoutMs: 2000,
    });
    cleanup.push(() => phoneClient.close());
    const phonePushed: Uint8Array[] = [];
    phoneClient.onPush((records) => phonePushed.push(...records));
    const phoneFrames = fromLock(phoneLink);
    pushed.length = 0;
    expect(lock.enterPin("583920").granted).toBe(true);
    link.link.deliver();
    phoneLink.link.deliver();
    expect(pushed.length).toBeGreaterThan(0);
    expect(fromLock(phoneLink)).toBe(phoneFrames);
    expect(phonePushed).toEqual([]);

    // A restart brings a new runtime; the endpoint follows it once the hub speaks again.
    lock.restart();
    expect((await hub.getState()).lastSeq).toBe(lock.runtime.journal.nextSeq - 1);
    pushed.length = 0;
    const seq = lock.runtime.journal.nextSeq;
    lock.enterPin("583920");
    link.link.deliver();
    expect(pushed.map((r) => decodeSignedLockEvent(r).seq)[0]).toBe(seq);

    // An unsubscribed listener hears nothing; a closed hub session is sent nothing, and nothing fails.
    stop();
    const count = pushed.length;
    lock.enterPin("583920");
    link.link.deliver();
    expect(pushed.length).toBe(count);
    hub.close();
    link.link.deliver();
    const framesAfterClose = fromLock(link);
    lock.enterPin("583920");
    link.link.deliver();
    expect(fromLock(link)).toBe(framesAfterClose);
    expect(lock.endpoint.stats.refusals).toEqual({});
  });
});

describe("SetTimeZone", () => {
  it("sets the zone week-day schedules run in; an unknown zone is a LOCK_SETTING_INVALID result", async () => {
    // 2026-03-02 10:00 UTC is a Monday: 10:00 in UTC, 05:00 in New York.
    const { lock, hub } = await hubOnLock();
    expect(await hub.setUser(user(1, WireUserType.WeekDayScheduleUser))).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");
    expect(
      await hub.setWeekDaySchedule({
        weekDayIndex: 1,
        userIndex: 1,
        daysMask: DaysMask.Monday,
        startHour: 9,
        startMinute: 0,
        endHour: 12,
        endMinute: 0,
      }),
    ).toBe("OK");
    expect(lock.enterPin("583920").granted).toBe(true);
    expect(await hub.lock()).toBe("OK");

    const from = lock.runtime.journal.nextSeq;
    expect(await hub.setTimeZone("America/New_York")).toBe("OK");
    expect(lock.runtime.settings.timeZone).toBe("America/New_York");
    expect(lock.runtime.journal.read(from).map((e) => [e.kind, e.details.setting])).toEqual([
      [EventKind.ConfigChange, "timeZone"],
    ]);
    expect(lock.enterPin("583920").granted).toBe(false);

    const before = lock.runtime.journal.nextSeq;
    expect(await hub.setTimeZone("Mars/Olympus_Mons")).toBe("LOCK_SETTING_INVALID");
    expect(lock.runtime.settings.timeZone).toBe("America/New_York");
    expect(lock.runtime.journal.nextSeq).toBe(before);
    expect(lock.endpoint.stats.refusals.LOCK_SETTING_INVALID).toBe(1);
    // The session is unharmed.
    expect(await hub.setTimeZone("UTC")).toBe("OK");
    expect(lock.enterPin("583920").granted).toBe(true);
  });
});

describe("administration is safe to resend", () => {
  it("SetCredential on the same user's slot replaces it; another user's slot is refused", async () => {
    const { lock, hub } = await hubOnLock();
    expect(await hub.setUser(user(1))).toBe("OK");
    expect(await hub.setUser(user(2))).toBe("OK");
    const from = lock.runtime.journal.nextSeq;
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK"); // the sync engine's resend after a crash
    expect(await hub.setPin(1, 1, "402817")).toBe("OK"); // a changed PIN, same slot
    expect(lock.runtime.credentials()).toEqual([{ type: "PIN", index: 1, userIndex: 1 }]);
    expect(lock.runtime.journal.read(from).map((e) => [e.details.dataType, e.details.operation])).toEqual([
      ["PIN", "Add"],
      ["PIN", "Modify"],
      ["PIN", "Modify"],
    ]);
    expect(lock.enterPin("583920").granted).toBe(false);
    expect(lock.enterPin("402817").granted).toBe(true);
    expect(await hub.setPin(2, 1, "739164")).toBe("LOCK_CREDENTIAL_DUPLICATE");
    expect(lock.runtime.credentials()).toEqual([{ type: "PIN", index: 1, userIndex: 1 }]);
  });

  it("clearing what is not there is OK and journals nothing", async () => {
    const { lock, hub } = await hubOnLock();
    expect(await hub.setUser(user(1))).toBe("OK");
    expect(await hub.setPin(1, 1, "583920")).toBe("OK");
    expect(await hub.setPin(1, 2, "402817")).toBe("OK");
    expect(
      await hub.setYearDaySchedule({
        yearDayIndex: 1,
        userIndex: 1,
        localStartTime: 1_772_000_000,
        localEndTime: 1_773_000_000,
      }),
    ).toBe("OK");
    const from = lock.runtime.journal.nextSeq;
    expect(await hub.clearYearDaySchedule(1, 1)).toBe("OK");
    expect(await hub.clearYearDaySchedule(1, 1)).toBe("OK");
    expect(await hub.clearWeekDaySchedule(1, 3)).toBe("OK");
    expect(await hub.clearCredential(WireCredentialType.PIN, 2)).toBe("OK");
    expect(await hub.clearCredential(WireCredentialType.PIN, 2)).toBe("OK");
    expect(await hub.clearCredential(WireCredentialType.PIN, 9)).toBe("OK");
    expect(lock.runtime.journal.read(from).map((e) => [e.details.dataType, e.details.operation])).toEqual([
      ["YearDaySchedule", "Clear"],
      ["PIN", "Clear"],
    ]);
    const mid = lock.runtime.journal.nextSeq;
    expect(await hub.clearUser(1)).toBe("OK");
    expect(await hub.clearUser(1)).toBe("OK");
    expect(await hub.clearUser(7)).toBe("OK");
    expect(await hub.clearWeekDaySchedule(1, 0xfe)).toBe("OK"); // the user is gone: nothing left
    expect(await hub.clearYearDaySchedule(7, 1)).toBe("OK");
    expect(lock.runtime.journal.read(mid).map((e) => [e.details.dataType, e.details.operation])).toEqual([
      ["User", "Clear"],
    ]);
    expect(lock.runtime.users()).toEqual([]);
    expect(lock.runtime.credentials()).toEqual([]);
    expect(lock.endpoint.stats.refusals).toEqual({});
    expect(
      equalBytes(
        (await hub.getState()).lastHash,
        lock.runtime.journal.read(mid)[0]?.hash ?? new Uint8Array(0),
      ),
    ).toBe(true);
  });
});
