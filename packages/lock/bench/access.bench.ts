/**
 * Access decision latency on a full lock: 1,000 users, 5,000 credentials (2,000 PINs, 1,500
 * cards, 1,000 fingerprints, 500 phone keys), 10,000 schedule entries (week-day and year-day).
 *  - the decision itself (keyed PIN hash, map lookup, user/schedule/mode/usage checks), with a
 *    random mix of valid and unknown PINs, against one raw node:crypto HMAC-SHA256 of a PIN;
 *  - the same decision for a card UID (no hash on the path);
 *  - a full keypad attempt through the runtime (decision + signed journal event, memory journal)
 *    for a schedule user outside its window, against the same HMAC reference.
 * Lookups are maps keyed by hash/UID/user, so none of these scans the credential set.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type CredentialIndex,
  OperatingMode,
  OperationSource,
  type UserIndex,
  UserType,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { sampleMicros, summarize, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { decideAccess, type AccessContext } from "../src/access/decide.js";
import type { Credential } from "../src/credentials/credential.js";
import { CredentialStore } from "../src/credentials/credential-store.js";
import { pinHash, sameHash } from "../src/credentials/pin-hash.js";
import { loadOrCreateKeys } from "../src/persistence/lock-keys.js";
import { wrapKeyFrom } from "../src/persistence/secret-wrap.js";
import { saveState, type LockStateSnapshot } from "../src/persistence/state-file.js";
import { memoryJournalFactory } from "../src/journal/journal-factory.js";
import { LockRuntime } from "../src/runtime/lock-runtime.js";
import { ScheduleBook } from "../src/schedules/schedule-book.js";
import type { WeekDaySchedule, YearDaySchedule } from "../src/schedules/schedule.js";
import { DEFAULT_SETTINGS } from "../src/settings/settings.js";
import { buildUser, type User } from "../src/users/user.js";
import { VirtualClock } from "../src/virtual/virtual-clock.js";
import { VirtualHardware } from "../src/virtual/virtual-hardware.js";

const USERS = 1000;
const NOW = Date.UTC(2026, 2, 2, 10, 0);

function pinOf(i: number): string {
  // Distinct 8-digit PINs that pass the weak-PIN rules are not needed here (no policy on this path).
  return String(10_000_000 + i * 7919);
}

interface Population {
  users: User[];
  credentials: Credential[];
  weekDay: { userIndex: number; schedule: WeekDaySchedule }[];
  yearDay: { userIndex: number; schedule: YearDaySchedule }[];
  pins: string[];
  uids: Uint8Array[];
}

function populate(pinSecret: Uint8Array): Population {
  const types = [
    UserType.UnrestrictedUser,
    UserType.WeekDayScheduleUser,
    UserType.YearDayScheduleUser,
    UserType.ScheduleRestrictedUser,
  ];
  const users: User[] = [];
  const credentials: Credential[] = [];
  const weekDay: Population["weekDay"] = [];
  const yearDay: Population["yearDay"] = [];
  const pins: string[] = [];
  const uids: Uint8Array[] = [];
  for (let u = 1; u <= USERS; u++) {
    users.push(buildUser(u as UserIndex, { type: types[u % types.length] ?? UserType.UnrestrictedUser }));
    // 10 schedule entries per user: 7 week-day windows and 3 year-day intervals.
    for (let s = 1; s <= 7; s++) {
      weekDay.push({
        userIndex: u,
        schedule: { index: s, daysMask: 1 << (s - 1), startMinute: 8 * 60 + s, endMinute: 17 * 60 },
      });
    }
    for (let s = 1; s <= 3; s++) {
      yearDay.push({
        userIndex: u,
        schedule: { index: s, fromMs: NOW - s * 86_400_000, toMs: NOW + s * 86_400_000 },
      });
    }
  }
  let pinIdx = 0,
    cardIdx = 0,
    fpIdx = 0,
    phoneIdx = 0;
  for (let c = 0; c < 5000; c++) {
    const userIndex = ((c % USERS) + 1) as UserIndex;
    if (c < 2000) {
      const pin = pinOf(c);
      pins.push(pin);
      credentials.push({
        type: "PIN",
        index: ++pinIdx as CredentialIndex,
        userIndex,
        hash: pinHash(pinSecret, pin),
      });
    } else if (c < 3500) {
      const uid = new Uint8Array(randomBytes(7));
      uids.push(uid);
      credentials.push({ type: "RFID", index: ++cardIdx as CredentialIndex, userIndex, uid });
    } else if (c < 4500) {
      credentials.push({
        type: "Fingerprint",
        index: ++fpIdx as CredentialIndex,
        userIndex,
        templateRef: fpIdx,
      });
    } else {
      credentials.push({
        type: "PhoneKey",
        index: ++phoneIdx as CredentialIndex,
        userIndex,
        algorithm: "Ed25519",
        publicKey: nodeEd25519.publicKey(new Uint8Array(randomBytes(32))),
      });
    }
  }
  return { users, credentials, weekDay, yearDay, pins, uids };
}

const suite: BenchSuite = {
  name: "lock access decision",
  run(ctx) {
    const samples = ctx.quick ? 3000 : 20000;
    const pinSecret = new Uint8Array(randomBytes(32));
    const pop = populate(pinSecret);

    // Pure decision path over the same stores the runtime uses.
    const store = new CredentialStore(10_000);
    for (const c of pop.credentials) store.put(c);
    const book = new ScheduleBook();
    for (const w of pop.weekDay) book.putWeekDay(w.userIndex, w.schedule);
    for (const y of pop.yearDay) book.putYearDay(y.userIndex, y.schedule);
    const users = new Map(pop.users.map((u) => [u.index as number, u]));
    const access: AccessContext = {
      users,
      schedules: book,
      usage: new Map(),
      timeZone: "Europe/London",
      mode: OperatingMode.Normal,
      lockoutActive: false,
      nowMs: NOW,
    };
    if (store.size !== 5000 || book.entryCount !== 10_000)
      throw new Error("population is not the intended size");
    let i = 0;
    const presented = pop.pins.map((p, k) => (k % 4 === 3 ? String(90_000_000 + k) : p)); // a quarter unknown
    const decidePin = (): void => {
      const pin = presented[i++ % presented.length] ?? "";
      const hash = pinHash(pinSecret, pin);
      const found = store.find("PIN:" + Buffer.from(hash).toString("hex"));
      const credential = found?.type === "PIN" && sameHash(found.hash, hash) ? found : undefined;
      decideAccess(access, credential, OperationSource.Keypad);
    };
    const decideCard = (): void => {
      const uid = pop.uids[i++ % pop.uids.length] ?? new Uint8Array(7);
      decideAccess(access, store.find("RFID:" + Buffer.from(uid).toString("hex")), OperationSource.RFID);
    };
    const rawHmac = (): void => {
      createHmac("sha256", pinSecret)
        .update(presented[i++ % presented.length] ?? "")
        .digest();
    };
    const ref = summarize(sampleMicros(rawHmac, samples));
    const pinDecision = summarize(sampleMicros(decidePin, samples));
    const cardDecision = summarize(sampleMicros(decideCard, samples));

    // Full runtime attempt: start a lock from a bulk-written state directory.
    const dir = join(ctx.tmpDir, "lock");
    mkdirSync(dir, { recursive: true });
    const { keys } = loadOrCreateKeys(dir, (n) => new Uint8Array(randomBytes(n)));
    const full = populate(keys.pinSecret);
    const snapshot: LockStateSnapshot = {
      bootCount: 0,
      settings: { ...DEFAULT_SETTINGS, timeZone: "Europe/London" },
      bolt: "Locked",
      users: full.users,
      credentials: full.credentials,
      weekDay: full.weekDay,
      yearDay: full.yearDay,
      holidays: [],
      usage: [],
      lockout: { failedAttempts: 0, endsAtWallMs: null, durationMs: 0 },
      batteryStage: 0,
    };
    saveState(dir, snapshot, wrapKeyFrom(keys.pinSecret));
    // Three months later, 03:00: every schedule user is outside its windows and intervals, so
    // attempts are pure denials (no motor, no state write; the wrong-code counter is untouched).
    const clock = new VirtualClock(Date.UTC(2026, 5, 7, 3, 0));
    const runtime = LockRuntime.start({
      dir,
      hardware: new VirtualHardware(clock),
      journal: memoryJournalFactory,
    });
    const scheduled = full.pins.filter((_p, k) => ((k % USERS) + 1) % 4 !== 0);
    let j = 0;
    const attempt = (): void => {
      runtime.attemptPin(scheduled[j++ % scheduled.length] ?? "", OperationSource.Keypad);
    };
    const attemptStats = summarize(sampleMicros(attempt, Math.min(samples, 3000)));
    runtime.shutdown();
    ctx.log(
      `population: ${store.size} credentials, ${book.entryCount} schedule entries, ${users.size} users`,
    );

    const reference = { name: "raw node:crypto HMAC-SHA256 of a PIN", median: ref.median, unit: "µs" };
    const result = (name: string, s: { median: number; p99: number }): BenchResult => ({
      name,
      unit: "µs",
      median: s.median,
      p99: s.p99,
      reference,
      ratio: s.median / ref.median,
    });
    return Promise.resolve([
      result("PIN access decision (1,000 users / 5,000 credentials / 10,000 schedule entries)", pinDecision),
      result("card access decision (same lock)", cardDecision),
      result("keypad attempt through the runtime incl. signed event (memory journal)", attemptStats),
    ]);
  },
};

export default suite;
