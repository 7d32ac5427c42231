/**
 * The plain-language report of a verified bundle: the same facts as JSON (`buildEvidenceReport`),
 * as a self-contained HTML page (`renderEvidenceReportHtml`) and as terminal text
 * (`renderEvidenceReportText`). It says what happened at each door and exactly what is proven,
 * with the assurance level of each fact. "No valid credential was used between A and B" is only
 * stated when, over the events between A and B in seq order, nothing breaks it: no declared
 * missing range, no clock change, no reboot without heartbeat cover, no silence longer than
 * HEARTBEAT_MAX_GAP_MS (on the lock's monotonic clock), no wall-clock jump that no ClockSet
 * explains; otherwise the report says exactly what breaks it (docs/evidence-format.md "Time rules").
 */
import { toHex } from "../encoding/bytes.js";
import { encodeBase64 } from "../note/base64.js";
import { AlarmCode, DenyReason, EventKind } from "../journal/kinds.js";
import { HEARTBEAT_MAX_GAP_MS } from "./bundle.js";
import {
  keyFingerprint,
  type EvidenceFailure,
  type EvidenceVerification,
  type VerifiedBundle,
  type VerifiedEvent,
} from "./verify.js";
import { evidenceVerdict, type EvidenceVerdict } from "./verdict.js";

export type ReportAssurance = "sealed-by-lock" | "observed-by-hub";

export interface ReportEvent {
  readonly seq: number;
  /** ISO 8601 UTC, or null when the lock did not know the time. */
  readonly time: string | null;
  /** Local date and time at the door ("2026-03-06 22:00:14"). */
  readonly local: string | null;
  readonly kind: string;
  readonly text: string;
  readonly assurance: ReportAssurance;
  readonly leafIndex: number;
}

export interface ReportPeriod {
  readonly from: string;
  readonly to: string;
  readonly proven: boolean;
  /** The sentence, exactly as it may be quoted. */
  readonly statement: string;
}

export interface DoorReport {
  readonly door: string;
  readonly lockId: string;
  readonly lockKeyFingerprint: string;
  readonly timeZone: string;
  readonly assurance: ReportAssurance;
  readonly commissionedAt: string;
  readonly events: { readonly count: number; readonly firstSeq: number; readonly lastSeq: number };
  readonly stateAtStart: {
    readonly bolt: string | null;
    readonly door: string | null;
    readonly asOfSeq: number | null;
  };
  readonly summary: string;
  readonly periods: readonly ReportPeriod[];
  readonly denials: readonly {
    readonly seq: number;
    readonly local: string | null;
    readonly reason: string;
    readonly words: string;
  }[];
  readonly timeline: readonly ReportEvent[];
}

export interface EvidenceReport {
  readonly format: "latchkey-evidence-report";
  readonly version: 1;
  /**
   * What may be relied on (verdict.ts): proven / not-conclusive / invalid / unreadable, with the
   * reasons and the key fingerprints to compare. Read this, not `verdict`.
   */
  readonly conclusion: EvidenceVerdict;
  /** The bundle's internal check only: "valid" even for a bundle made from an attacker's keys. */
  readonly verdict: "valid" | "invalid" | "unreadable";
  readonly failure: EvidenceFailure | null;
  readonly window: { readonly from: string; readonly to: string } | null;
  readonly generatedAt: string | null;
  readonly heartbeatMaxGapMinutes: number;
  readonly trust: {
    readonly ownerKeyFingerprint: string;
    /** The owner's full public key, hex (what `--owner-key` pins). */
    readonly ownerPublicKey: string;
    readonly ledgerOrigin: string;
    readonly ledgerKeyFingerprint: string;
    readonly headCheckpoint: { readonly size: number; readonly rootHash: string };
    readonly checkpoints: number;
    readonly lockAcknowledgements: readonly {
      readonly door: string;
      readonly seq: number;
      readonly local: string | null;
      readonly treeSize: number;
    }[];
    readonly unverifiedCosigners: readonly string[];
  } | null;
  readonly doors: readonly DoorReport[];
  readonly proven: readonly string[];
  readonly notProven: readonly string[];
}

// ---------------------------------------------------------------- words

const DENY_WORDS: Record<string, string> = {
  [DenyReason.UnknownCredential]:
    "the credential is not known to the lock: a wrong PIN, an unknown card or finger",
  [DenyReason.DisabledUser]: "the user is disabled",
  [DenyReason.OutsideSchedule]: "it was outside the user's schedule",
  [DenyReason.NoSchedule]: "the user has no schedule that allows entry",
  [DenyReason.TimeUnknown]: "the lock did not know the time, so the schedule could not be checked",
  [DenyReason.Expired]: "the access had expired",
  [DenyReason.UsesExhausted]: "the allowed number of uses was used up",
  [DenyReason.LockoutActive]: "the keypad was locked out after too many wrong codes",
  [DenyReason.ModeForbids]: "the lock's operating mode forbids it",
  [DenyReason.RemoteOnlyAtKeypad]: "a remote-only code was typed at the keypad",
  [DenyReason.NonAccessUser]: "the user has no access rights",
  [DenyReason.InsufficientBattery]: "the battery was too low to move the bolt",
  [DenyReason.CredentialRuleIncomplete]:
    "a further credential is required (multi-factor) and was not presented",
  [DenyReason.Jammed]: "the bolt jammed",
  [DenyReason.InvalidCertificate]: "the phone key's certificate is not valid",
  [DenyReason.StaleChallenge]: "the phone answered an old or unknown challenge",
  [DenyReason.BadSignature]: "the credential's cryptographic proof failed",
  [DenyReason.Revoked]: "the credential was revoked",
};

export function denyReasonWords(reason: string): string {
  return DENY_WORDS[reason] ?? `reason "${reason}"`;
}

const ALARM_WORDS: Record<string, string> = {
  [AlarmCode.FrontEscutcheonRemoved]: "tamper alarm (FrontEscutcheonRemoved)",
  [AlarmCode.ForcedRotation]: "tamper alarm (ForcedRotation)",
  [AlarmCode.Drilling]: "tamper alarm (Drilling)",
  [AlarmCode.LockJammed]: "jam alarm (LockJammed)",
  [AlarmCode.WrongCodeEntryLimit]: "wrong-code limit alarm (WrongCodeEntryLimit)",
  [AlarmCode.ForcedUser]: "duress alarm (ForcedUser)",
  [AlarmCode.DoorAjar]: "door-ajar alarm (DoorAjar)",
  [AlarmCode.BatteryLow]: "low-battery alarm (BatteryLow)",
  [AlarmCode.BatteryCritical]: "critical-battery alarm (BatteryCritical)",
};

const SOURCE_WORDS: Record<string, string> = {
  Keypad: "at the keypad",
  RFID: "with a card",
  Biometric: "with a fingerprint",
  PhoneKey: "with a phone key",
  Remote: "remotely",
  Button: "with the lock button",
  Manual: "by hand",
  Auto: "automatically",
  Schedule: "by schedule",
};

const CREDENTIAL_WORDS: Record<string, string> = {
  PIN: "PIN",
  RFID: "card",
  Fingerprint: "fingerprint",
  PhoneKey: "phone key",
  ProgrammingPIN: "programming PIN",
};

const str = (v: unknown): string =>
  typeof v === "string" ? v : v instanceof Uint8Array ? encodeBase64(v) : String(v);

function who(e: VerifiedEvent): string {
  const a = e.actor;
  const parts: string[] = [];
  if (a.userIndex !== undefined) parts.push(`user #${a.userIndex}`);
  if (a.credentialType !== undefined)
    parts.push(
      `${CREDENTIAL_WORDS[a.credentialType] ?? a.credentialType}${a.credentialIndex !== undefined ? ` #${a.credentialIndex}` : ""}`,
    );
  return parts.length === 0 ? "" : parts.length === 1 ? parts[0]! : `${parts[0]} with ${parts[1]}`;
}

function source(e: VerifiedEvent): string {
  const s = e.details.source;
  return typeof s === "string" ? (SOURCE_WORDS[s] ?? `(${s})`) : "";
}

const join = (...parts: string[]): string => parts.filter((p) => p !== "").join(" ");

/** "locked 22:00:14 by auto-lock": what happened, with the time where it reads naturally. */
function describeAt(e: VerifiedEvent, t: string, f?: Fmt): string {
  const d = e.details;
  switch (e.kind) {
    case EventKind.LockOperation: {
      const op = str(d.operation);
      if (op === "Lock")
        return d.source === "Auto"
          ? `locked ${t} by auto-lock`
          : join("locked", t, source(e), who(e) ? `by ${who(e)}` : "");
      if (op === "Unlock" || op === "Unlatch")
        return d.passage === true
          ? `opened ${t} without a credential (Passage mode)`
          : join(op === "Unlock" ? "unlocked" : "unlatched", t, who(e) ? `by ${who(e)}` : "", source(e));
      if (op === "ForcedUserEvent") return join("unlocked", t, "under duress by", who(e), source(e));
      if (op === "NonAccessUserEvent") return join("non-access", who(e), "recognised", t, "(no unlock)");
      return `lock operation ${op} ${t}`;
    }
    case EventKind.LockOperationError:
      return join(
        str(d.operation ?? "Unlock").toLowerCase(),
        "attempt",
        source(e),
        who(e) ? `by ${who(e)}` : "",
        `refused ${t}:`,
        denyReasonWords(str(d.reason)),
      );
    case EventKind.DoorStateChange: {
      const s = str(d.doorState);
      if (s === "DoorOpen") return `door opened ${t}`;
      if (s === "DoorClosed") return `door closed ${t}`;
      if (s === "DoorForcedOpen") return `door forced open ${t} (DoorForcedOpen)`;
      if (s === "DoorAjar") return `door left ajar ${t}`;
      return `door ${s} ${t}`;
    }
    case EventKind.LockStateChange:
      return join(
        "bolt",
        str(d.lockState).toLowerCase(),
        t,
        d.reason === "power-loss" ? "on power loss" : source(e),
      );
    case EventKind.Alarm:
      return `${ALARM_WORDS[str(d.alarm)] ?? `${str(d.alarm)} alarm`} ${t}`;
    case EventKind.AlarmCleared:
      return `${str(d.alarm)} alarm cleared ${t}`;
    case EventKind.Boot:
      return `lock started ${t} (${str(d.reason ?? "power-on")})`;
    case EventKind.JournalRecovered:
      return `journal recovered after a crash ${t}`;
    case EventKind.ClockSet: {
      // Old and new readings, so a reader sees how far the clock moved (Time rules).
      const when = (ms: unknown): string =>
        typeof ms !== "number" ? "" : f === undefined ? iso(ms) : full(f, ms);
      const by =
        d.source === "hub"
          ? "by the hub"
          : d.source === "person"
            ? "authorised by a person"
            : str(d.source ?? "");
      return join(
        "clock set",
        typeof d.fromMs === "number" ? `from ${when(d.fromMs)}` : "(time was unknown)",
        typeof d.toMs === "number" ? `to ${when(d.toMs)}` : t,
        by === "" ? "" : `(${by})`,
      );
    }
    case EventKind.ClockSetRefused: {
      const when = (ms: unknown): string =>
        typeof ms !== "number" ? "?" : f === undefined ? iso(ms) : full(f, ms);
      return join(
        `clock change refused ${t}:`,
        `${d.source === "hub" ? "the hub" : str(d.source ?? "someone")} asked to set it from ${when(d.fromMs)} to ${when(d.toMs)},`,
        `more than the lock's bound of ${typeof d.limitMs === "number" ? minutes(d.limitMs) : "?"} without a person's authorisation (clock unchanged)`,
      );
    }
    case EventKind.FactoryReset:
      return `factory reset ${t}`;
    case EventKind.Commissioned:
      return `commissioned ${t}`;
    case EventKind.UserChange:
      return join(`${str(d.operation).toLowerCase()} of ${str(d.dataType)}`, who(e) ? `(${who(e)})` : "", t);
    case EventKind.ConfigChange:
      return `setting ${str(d.setting)} changed to ${str(d.value)} ${t}`;
    case EventKind.BatteryLevel:
      return `battery ${str(d.percent)}% (${str(d.level)}) ${t}`;
    case EventKind.Heartbeat:
      return join(
        "heartbeat",
        t,
        d.lockState !== undefined
          ? `(bolt ${str(d.lockState)}${d.doorState !== undefined ? `, door ${str(d.doorState)}` : ""})`
          : "",
      );
    case EventKind.CheckpointAck:
      return `acknowledged ledger checkpoint of size ${str(d.treeSize)} ${t}`;
    default:
      return `event ${String(e.kind)} ${t}`;
  }
}

/** "when DoorForcedOpen was raised": the event as the end of a quiet period. */
function describeWhen(e: VerifiedEvent, f?: Fmt): string {
  const d = e.details;
  if (e.kind === EventKind.Alarm) {
    const a = str(d.alarm);
    return a === AlarmCode.DoorForcedOpen
      ? "when DoorForcedOpen was raised"
      : `when a ${ALARM_WORDS[a] ?? `${a} alarm`} was raised`;
  }
  if (e.kind === EventKind.LockOperationError) {
    return join(
      "when an",
      str(d.operation ?? "Unlock").toLowerCase(),
      "attempt",
      source(e),
      who(e) ? `by ${who(e)}` : "",
      `was refused: ${denyReasonWords(str(d.reason))}`,
    );
  }
  if (e.kind === EventKind.LockOperation && isGrantedAccess(e) && who(e) !== "") {
    return join(
      "when",
      who(e),
      d.operation === "ForcedUserEvent" ? "unlocked under duress" : "unlocked",
      source(e),
    );
  }
  return "when " + describeAt(e, "", f).replace(/\s+/g, " ").replace(/ :/, ":").trim();
}

const KIND_NAMES = new Map<number, string>(Object.entries(EventKind).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------- time

function timeFormatter(timeZone: string): {
  date: Intl.DateTimeFormat;
  time: Intl.DateTimeFormat;
  zone: string;
} {
  const make = (zone: string) => ({
    date: new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }),
    time: new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }),
    zone,
  });
  try {
    return make(timeZone);
  } catch {
    return make("UTC");
  }
}

type Fmt = ReturnType<typeof timeFormatter>;
const hms = (f: Fmt, ms: number): string => f.time.format(ms);
const full = (f: Fmt, ms: number): string => `${f.date.format(ms)} ${f.time.format(ms)}`;
const iso = (ms: number): string => new Date(ms).toISOString();
const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

// ---------------------------------------------------------------- analysis

const QUIET_KINDS = new Set<number>([EventKind.Heartbeat, EventKind.CheckpointAck]);

function isGrantedAccess(e: VerifiedEvent): boolean {
  if (e.kind === EventKind.LockOperation) {
    const op = e.details.operation;
    return op === "Unlock" || op === "Unlatch" || op === "ForcedUserEvent";
  }
  return e.kind === EventKind.LockStateChange && e.details.lockState === "Unlocked";
}

/**
 * Largest disagreement, within one boot, between how far the lock's wall clock moved and how far
 * its monotonic clock moved (1 s plus 0.1 % of the elapsed time: far above a real-time clock's
 * drift) before the report calls it a clock jump that no ClockSet explains.
 */
export const WALL_CLOCK_SLACK_MS = 1000;
export const WALL_CLOCK_SLACK_RATIO = 0.001;

/** At most this many reasons are spelled out for one claim (the rest are counted). */
const MAX_REASONS = 6;

function clockSetter(e: VerifiedEvent): string {
  const s = e.details.source;
  return s === "hub"
    ? "by the hub"
    : s === "person"
      ? "authorised by a person's passkey"
      : s === undefined
        ? "source not given"
        : `source "${str(s)}"`;
}

/**
 * "the lock's clock was set from 00:30:00 to 00:35:00 (by the hub) at seq 41", or for a run of
 * steps (clock walked in small steps) "… was set 42 times (by the hub) between seq 41 and seq 82,
 * from 00:30:00 to 04:00:00"; always ending "no claim across it".
 */
function clockSetWords(run: readonly VerifiedEvent[], f: Fmt): string {
  const first = run[0]!;
  const last = run[run.length - 1]!;
  const by = [...new Set(run.map(clockSetter))].join(", ");
  const to =
    typeof last.details.toMs === "number"
      ? full(f, last.details.toMs)
      : last.lockTime === null
        ? "?"
        : full(f, last.lockTime);
  const from =
    typeof first.details.fromMs === "number"
      ? `from ${full(f, first.details.fromMs)}`
      : "(it did not know the time)";
  return run.length === 1
    ? `the lock's clock was set ${from} to ${to} (${by}) at seq ${first.seq}: no claim across it`
    : `the lock's clock was set ${run.length} times (${by}) between seq ${first.seq} and seq ${last.seq}, ${from} to ${to}: no claim across it`;
}

/**
 * Whether the lock's events prove silence between events `i0` and `i1` (indexes into the lock's
 * events in seq order: the last event at or before the claim's start, the first at or after its
 * end). docs/evidence-format.md "Time rules". Every reason that breaks the claim is given:
 *
 * - a declared missing range (a seq gap) inside it;
 * - an event whose lock time is unknown;
 * - a ClockSet after `i0` up to and including `i1` (its wall times cannot be compared across it);
 * - a reboot (a new bootId) not covered by heartbeats: the last event before it and the new
 *   boot's first event must both have known times at most HEARTBEAT_MAX_GAP_MS apart;
 * - silence: two consecutive events more than HEARTBEAT_MAX_GAP_MS apart, measured on the
 *   lock's monotonic clock within one boot (format v2), else on its wall clock;
 * - a wall clock that moved differently from the monotonic clock within one boot (a jump no
 *   ClockSet explains), or either clock going backwards.
 *
 * The chain itself (gapless but for declared ranges, linked, signed) was checked by the verifier.
 */
function coverage(
  events: readonly VerifiedEvent[],
  i0: number,
  i1: number,
  f: Fmt,
): { ok: true } | { ok: false; why: string } {
  if (i0 < 0) return { ok: false, why: "the bundle has no lock event before this span" };
  if (i1 >= events.length || i1 < 0)
    return { ok: false, why: "the lock's events end before the end of this span" };
  const reasons: string[] = [];
  // Clock changes come first; steps with only heartbeats between them are told as one run.
  const clockRuns: VerifiedEvent[][] = [];
  let runEnd = -1;
  const first = events[i0]!;
  if (first.lockTime === null) reasons.push(`the lock did not know the time at seq ${first.seq}`);
  for (let k = i0 + 1; k <= i1; k++) {
    const prev = events[k - 1]!;
    const e = events[k]!;
    if (e.seq !== prev.seq + 1)
      reasons.push(`events seq ${prev.seq + 1}–${e.seq - 1} are missing from the hub's ledger`);
    if (e.lockTime === null) {
      reasons.push(`the lock did not know the time at seq ${e.seq}`);
      continue;
    }
    if (e.kind === EventKind.ClockSet) {
      const run = clockRuns[clockRuns.length - 1];
      const quietSince =
        run !== undefined && events.slice(runEnd + 1, k).every((x) => QUIET_KINDS.has(x.kind));
      if (run !== undefined && quietSince) run.push(e);
      else clockRuns.push([e]);
      runEnd = k;
      continue;
    }
    if (prev.lockTime === null) continue;
    const wall = e.lockTime - prev.lockTime;
    const sameBoot = equalBootIds(prev.bootId, e.bootId);
    if (!sameBoot) {
      // A reboot: the monotonic clock restarted, so only the wall clock spans it.
      if (wall < 0 || wall > HEARTBEAT_MAX_GAP_MS)
        reasons.push(
          `the lock restarted at seq ${e.seq} (${hms(f, e.lockTime)}) and the time it was off is not covered by heartbeats (last event before it at ${hms(f, prev.lockTime)}, seq ${prev.seq})`,
        );
      continue;
    }
    if (prev.monotonicMs === undefined || e.monotonicMs === undefined) {
      // Version 1 events: wall time only.
      if (wall < 0) reasons.push(`the lock's clock went backwards at seq ${e.seq}`);
      else if (wall > HEARTBEAT_MAX_GAP_MS) reasons.push(silence(f, prev.lockTime, e.lockTime, wall));
      continue;
    }
    const mono = e.monotonicMs - prev.monotonicMs;
    if (mono < 0) {
      reasons.push(`the lock's monotonic clock went backwards at seq ${e.seq}`);
      continue;
    }
    if (mono > HEARTBEAT_MAX_GAP_MS) reasons.push(silence(f, prev.lockTime, e.lockTime, mono));
    if (Math.abs(wall - mono) > WALL_CLOCK_SLACK_MS + WALL_CLOCK_SLACK_RATIO * mono)
      reasons.push(
        `the lock's wall clock moved ${signedDuration(wall)} between seq ${prev.seq} and seq ${e.seq} while its monotonic clock moved ${signedDuration(mono)}, and no ClockSet explains it`,
      );
  }
  reasons.unshift(...clockRuns.map((run) => clockSetWords(run, f)));
  if (reasons.length === 0) return { ok: true };
  const unique = [...new Set(reasons)];
  const shown = unique.slice(0, MAX_REASONS);
  if (unique.length > MAX_REASONS) shown.push(`and ${unique.length - MAX_REASONS} more`);
  return { ok: false, why: shown.join("; ") };
}

function silence(f: Fmt, from: number, to: number, ms: number): string {
  return `the lock was silent for ${minutes(ms)} from ${hms(f, from)} to ${hms(f, to)} (heartbeats must be at most ${minutes(HEARTBEAT_MAX_GAP_MS)} apart)`;
}

function signedDuration(ms: number): string {
  const sign = ms < 0 ? "back " : "";
  const a = Math.abs(ms);
  return a < 120_000 ? `${sign}${Math.round(a / 1000)} s` : `${sign}${minutes(a)}`;
}

function equalBootIds(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface DoorState {
  bolt: string | null;
  door: string | null;
  asOfSeq: number | null;
}

function applyState(s: DoorState, e: VerifiedEvent): void {
  const d = e.details;
  if (e.kind === EventKind.Heartbeat) {
    if (typeof d.lockState === "string") s.bolt = d.lockState;
    if (typeof d.doorState === "string") s.door = d.doorState;
  } else if (e.kind === EventKind.LockOperation) {
    if (d.operation === "Lock") s.bolt = "Locked";
    else if (isGrantedAccess(e)) s.bolt = "Unlocked";
  } else if (e.kind === EventKind.LockStateChange && typeof d.lockState === "string") {
    s.bolt = d.lockState;
  } else if (e.kind === EventKind.DoorStateChange && typeof d.doorState === "string") {
    s.door = d.doorState === "DoorClosed" ? "Closed" : "Open";
  } else if (e.kind === EventKind.LockOperationError && d.reason === DenyReason.Jammed) {
    s.bolt = "NotFullyLocked";
  } else return;
  s.asOfSeq = e.seq;
}

function doorReport(
  v: VerifiedBundle,
  lockIndex: number,
): { door: DoorReport; proven: string[]; notProven: string[] } {
  const lock = v.locks[lockIndex]!;
  const rec = lock.commissioning;
  const f = timeFormatter(rec.timeZone);
  const { from, to } = v.bundle.window;
  const events = lock.events;
  const name = rec.doorName;
  const state: DoorState = { bolt: null, door: null, asOfSeq: null };
  // Events are taken in seq order (the lock's order), never sorted by their wall times: the window
  // runs from the first event after its start to the last one at or before its end, and an event
  // whose clock was moved outside the window in between still counts, in its place.
  let firstIn = events.length;
  for (let i = 0; i < events.length; i++) {
    const t = events[i]!.lockTime;
    if (t !== null && t > from) {
      firstIn = i;
      break;
    }
    applyState(state, events[i]!);
  }
  let lastIn = firstIn - 1;
  for (let i = events.length - 1; i >= firstIn; i--) {
    const t = events[i]!.lockTime;
    if (t !== null && t <= to) {
      lastIn = i;
      break;
    }
  }
  // The claim up to the window's end runs to the first event at or after it (seq order).
  const windowEnd = lastIn >= 0 && events[lastIn]!.lockTime === to ? lastIn : lastIn + 1;
  const stateAtStart = { ...state };
  const inWindow = events.slice(firstIn, lastIn + 1);
  /** Index (into `events`) of the window's k-th event. */
  const at = (k: number): number => firstIn + k;

  // The narrative.
  const phrases: string[] = [
    `was ${state.bolt === null ? "in an unknown state" : state.bolt.toLowerCase()}${state.door === null ? "" : ` with the door ${state.door.toLowerCase()}`} at ${hms(f, from)}`,
  ];
  const notable = inWindow.map((e, k) => ({ e, i: at(k) })).filter(({ e }) => !QUIET_KINDS.has(e.kind));
  let lastTime = from;
  let lastIndex = firstIn - 1;
  for (let k = 0; k < notable.length; k++) {
    const { e, i } = notable[k]!;
    const next = notable[k + 1]?.e;
    // A forced-open or ajar door change is followed by its alarm: tell it once.
    if (
      e.kind === EventKind.DoorStateChange &&
      (e.details.doorState === "DoorForcedOpen" || e.details.doorState === "DoorAjar") &&
      next?.kind === EventKind.Alarm &&
      next.details.alarm === e.details.doorState
    ) {
      continue;
    }
    // A clock walked in steps is told once, as one run.
    let runEnd = k;
    while (e.kind === EventKind.ClockSet && notable[runEnd + 1]?.e.kind === EventKind.ClockSet) runEnd++;
    if (runEnd > k) {
      const run = notable.slice(k, runEnd + 1);
      const end = run[run.length - 1]!;
      const c = state.bolt === "Locked" ? coverage(events, lastIndex, end.i, f) : null;
      const endTime = end.e.lockTime ?? lastTime;
      phrases.push(
        c !== null && !c.ok
          ? `whether a credential was used before ${hms(f, endTime)} cannot be proven (${c.why})`
          : clockSetWords(
              run.map((x) => x.e),
              f,
            ).replace(/: no claim across it$/, ""),
      );
      lastTime = endTime;
      lastIndex = end.i;
      k = runEnd;
      continue;
    }
    const t = e.lockTime;
    if (t === null) {
      phrases.push(describeAt(e, "at an unknown time"));
      continue;
    }
    const c = state.bolt === "Locked" ? coverage(events, lastIndex, i, f) : null;
    if (c !== null && !c.ok)
      phrases.push(
        `whether a credential was used before ${hms(f, t)} cannot be proven (${c.why})`,
        // A clock change is already named in the reason.
        ...(e.kind === EventKind.ClockSet ? [] : [describeAt(e, hms(f, t), f)]),
      );
    else if (c !== null && t - lastTime >= 60_000)
      phrases.push(`no valid credential used until ${hms(f, t)}, ${describeWhen(e, f)}`);
    else phrases.push(describeAt(e, hms(f, t), f));
    applyState(state, e);
    lastTime = t;
    lastIndex = i;
  }
  if (state.bolt === "Locked") {
    const c = coverage(events, lastIndex, windowEnd, f);
    if (!c.ok) phrases.push(`whether a credential was used before ${hms(f, to)} cannot be proven (${c.why})`);
    else if (to - lastTime >= 60_000)
      phrases.push(`no valid credential used until the end of the window (${hms(f, to)})`);
  }
  const summary = `${name} ${phrases.join("; ")}.`;

  // Statements: each stretch while the bolt was locked, from the window's start or a lock event to
  // the next granted access or the window's end, each checked over the events between (by seq).
  const periods: ReportPeriod[] = [];
  const bolt: DoorState = { ...stateAtStart };
  let lockedSince: { time: number; index: number } | null =
    bolt.bolt === "Locked" ? { time: from, index: firstIn - 1 } : null;
  const close = (b: number, endIndex: number): void => {
    if (lockedSince === null) return;
    const a = lockedSince.time;
    const c = coverage(events, lockedSince.index, endIndex, f);
    if (c.ok && b <= a) return;
    const span = `between ${full(f, a)} and ${full(f, b)} (${f.zone}), while it was locked`;
    periods.push(
      c.ok
        ? {
            from: iso(a),
            to: iso(b),
            proven: true,
            statement: `No valid credential was used at ${name} ${span}.`,
          }
        : {
            from: iso(a),
            to: iso(b),
            proven: false,
            statement: `It cannot be proven whether a credential was used at ${name} ${span}: ${c.why}.`,
          },
    );
  };
  for (let k = 0; k < inWindow.length; k++) {
    const e = inWindow[k]!;
    if (e.lockTime === null) continue;
    applyState(bolt, e);
    if (isGrantedAccess(e)) {
      close(e.lockTime, at(k));
      lockedSince = null;
    } else if (bolt.bolt === "Locked" && lockedSince === null)
      lockedSince = { time: e.lockTime, index: at(k) };
  }
  close(to, windowEnd);
  if (bolt.bolt !== "Locked" && lockedSince === null && periods.length === 0) {
    periods.push({
      from: iso(from),
      to: iso(to),
      proven: false,
      statement: `${name} was not locked during the window, so no statement about credentials is made.`,
    });
  }

  const denials = inWindow
    .filter((e) => e.kind === EventKind.LockOperationError)
    .map((e) => ({
      seq: e.seq,
      local: e.lockTime === null ? null : full(f, e.lockTime),
      reason: str(e.details.reason),
      words: denyReasonWords(str(e.details.reason)),
    }));
  const timeline: ReportEvent[] = events.map((e) => ({
    seq: e.seq,
    time: e.lockTime === null ? null : iso(e.lockTime),
    local: e.lockTime === null ? null : full(f, e.lockTime),
    kind: KIND_NAMES.get(e.kind) ?? String(e.kind),
    text: describeAt(e, "", f).replace(/\s+/g, " ").replace(/ :/, ":").trim(),
    assurance: "sealed-by-lock",
    leafIndex: e.leafIndex,
  }));
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const proven = [
    `${name}: all ${events.length} events (seq ${first.seq}–${last.seq}) were signed by the lock itself (sealed by lock) with the key the owner commissioned for this door on ${full(f, rec.commissionedAtMs)}; ${v.bundle.locks[lockIndex]!.missing.length === 0 ? "none is missing, altered or reordered" : "none is altered or reordered, and the only missing ones are those declared below"}.`,
    ...periods.filter((p) => p.proven).map((p) => p.statement),
  ];
  const notProven = [
    ...v.bundle.locks[lockIndex]!.missing.map(
      ([a, z]) =>
        `${name}: the hub's ledger lacks the lock's events seq ${a}–${z} (declared by the exporter); nothing is proven across them.`,
    ),
    ...periods.filter((p) => !p.proven).map((p) => p.statement),
  ];
  return {
    door: {
      door: name,
      lockId: lock.lockId,
      lockKeyFingerprint: keyFingerprint(lock.publicKey),
      timeZone: f.zone,
      assurance: "sealed-by-lock",
      commissionedAt: iso(rec.commissionedAtMs),
      events: { count: events.length, firstSeq: first.seq, lastSeq: last.seq },
      stateAtStart: { bolt: stateAtStart.bolt, door: stateAtStart.door, asOfSeq: stateAtStart.asOfSeq },
      summary,
      periods,
      denials,
      timeline,
    },
    proven,
    notProven,
  };
}

/**
 * The report of a verification: full facts when valid, the failure otherwise. `conclusion` is the
 * verdict given what the verifier pinned (default: nothing pinned, so at best not conclusive).
 */
export function buildEvidenceReport(
  result: EvidenceVerification,
  conclusion: EvidenceVerdict = evidenceVerdict(result),
): EvidenceReport {
  const base = {
    format: "latchkey-evidence-report" as const,
    version: 1 as const,
    conclusion,
    heartbeatMaxGapMinutes: HEARTBEAT_MAX_GAP_MS / 60_000,
  };
  if (result.status !== "valid") {
    return {
      ...base,
      verdict: result.status,
      failure: result.failure,
      window: null,
      generatedAt: null,
      trust: null,
      doors: [],
      proven: [],
      notProven: [
        result.status === "invalid"
          ? `Nothing in this bundle is proven: ${result.failure.message}.`
          : `This file could not be read as an evidence bundle: ${result.failure.message}.`,
      ],
    };
  }
  const v = result.verified;
  const b = v.bundle;
  const doors = v.locks.map((_, i) => doorReport(v, i));
  const head = v.head.checkpoint;
  const acks = v.acks.map((a) => {
    const lock = v.locks[a.lockIndex]!;
    const f = timeFormatter(lock.commissioning.timeZone);
    return {
      door: lock.commissioning.doorName,
      seq: a.seq,
      local: a.lockTime === null ? null : full(f, a.lockTime),
      treeSize: a.treeSize,
    };
  });
  const ownerFp = keyFingerprint(b.owner.publicKey);
  const proven = [
    ...(conclusion.keys?.owner.pinned === true && conclusion.keys.ledger.pinned
      ? [
          `The owner key ${ownerFp} and the ledger key ${keyFingerprint(b.ledger.publicKey)} are the ones you pinned: the bundle speaks for the site whose key card you hold.`,
        ]
      : []),
    ...doors.flatMap((d) => d.proven),
    `Every event is a leaf of the hub's append-only ledger "${b.ledger.origin}": each has an inclusion proof in its checkpoint of size ${head.size}, signed by the ledger key ${keyFingerprint(b.ledger.publicKey)}.`,
    ...(v.checkpoints.length > 1
      ? [
          `The ${v.checkpoints.length} checkpoints in the bundle are consistent: each later one extends the earlier ones (consistency proofs), so no history was rewritten between them.`,
        ]
      : []),
    ...[...new Set(acks.map((a) => a.door))].map((door) => {
      const own = acks.filter((a) => a.door === door);
      const last = own[own.length - 1]!;
      return `${door}'s lock itself acknowledged the ledger checkpoint${own.length > 1 ? "s" : ""} of size ${own.map((a) => a.treeSize).join(", ")} (the last at seq ${last.seq}${last.local === null ? "" : `, ${last.local}`}), and the head checkpoint extends ${own.length > 1 ? "them" : "it"}: the hub cannot have shown the lock a different history.`;
    }),
    ...(v.witnesses.at(-1)?.cosigned ?? []).map(
      (w) =>
        `Witness ${w.name}, whose key you pinned, cosigned the head checkpoint (size ${head.size}) at ${iso(w.timestamp * 1000)}: it had checked that this history extends everything it cosigned before, so the hub cannot rewrite it without that witness noticing.`,
    ),
  ];
  const notProven = [
    ...doors.flatMap((d) => d.notProven),
    ...(acks.length === 0
      ? [
          "No lock acknowledged a ledger checkpoint in this bundle: the ledger's history rests on the hub's signature alone.",
        ]
      : []),
    "Who was at the door: the lock proves which credential was used (for example user #1's PIN), not which person held it.",
    ...(conclusion.keys?.owner.pinned === true && conclusion.keys.ledger.pinned
      ? []
      : [
          `Whose lock and ledger these are: the owner key ${ownerFp} and ledger key ${keyFingerprint(b.ledger.publicKey)} were not both pinned; compare them with the owner's key card and verify again with \`latchkey verify --trust\`.`,
        ]),
    ...(() => {
      // Cosignatures on the head that no pinned witness accounts for were not checked.
      const checked = new Set((v.witnesses.at(-1)?.cosigned ?? []).map((w) => w.name));
      const unchecked = v.head.otherSignatures.filter((name) => !checked.has(name));
      return unchecked.length > 0
        ? [
            `Cosignatures by ${unchecked.join(", ")} are present but were not checked (those witnesses' keys are not pinned).`,
          ]
        : [];
    })(),
  ];
  return {
    ...base,
    verdict: "valid",
    failure: null,
    window: { from: iso(b.window.from), to: iso(b.window.to) },
    generatedAt: iso(b.generatedAt),
    trust: {
      ownerKeyFingerprint: ownerFp,
      ownerPublicKey: toHex(b.owner.publicKey),
      ledgerOrigin: b.ledger.origin,
      ledgerKeyFingerprint: keyFingerprint(b.ledger.publicKey),
      headCheckpoint: { size: head.size, rootHash: encodeBase64(head.rootHash) },
      checkpoints: v.checkpoints.length,
      lockAcknowledgements: acks,
      unverifiedCosigners: v.head.otherSignatures,
    },
    doors: doors.map((d) => d.door),
    proven,
    notProven,
  };
}

// ---------------------------------------------------------------- rendering

export function renderEvidenceReportText(r: EvidenceReport): string {
  const c = r.conclusion;
  const lines: string[] = [c.headline];
  // A refused bundle tells no story: only why it was refused.
  const refusal = c.verdict === "invalid" || c.verdict === "unreadable" ? (c.reasons[0] ?? null) : null;
  if (refusal !== null || r.verdict !== "valid") {
    if (refusal !== null) lines.push(`  first failing element: ${refusal.element} (${refusal.code})`);
    return lines.join("\n") + "\n";
  }
  for (const x of c.reasons) lines.push(`  - ${x.message}`);
  lines.push("");
  lines.push(
    `The bundle is internally consistent (every signature, hash link and proof checks out): ${r.window?.from ?? ""} to ${r.window?.to ?? ""}`,
  );
  for (const d of r.doors) lines.push("", d.summary);
  lines.push("", "Proven:");
  for (const p of r.proven) lines.push(`  - ${p}`);
  lines.push("", "Not proven:");
  for (const p of r.notProven) lines.push(`  - ${p}`);
  if (r.trust !== null) {
    lines.push(
      "",
      `Owner key ${r.trust.ownerKeyFingerprint} (${r.trust.ownerPublicKey}); ledger ${r.trust.ledgerOrigin} key ${r.trust.ledgerKeyFingerprint}; head checkpoint size ${r.trust.headCheckpoint.size}.`,
    );
  }
  return lines.join("\n") + "\n";
}

const esc = (s: string): string =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

export const REPORT_CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
.verdict{padding:1rem 1.25rem;border-radius:8px;font-size:1.2rem;font-weight:600}
.proven{background:#e6f4ea;border:2px solid #1e7b34}.invalid,.unreadable{background:#fdecea;border:2px solid #b3261e}
.not-conclusive{background:#fff4e5;border:2px solid #8a5300}.verdict-name{font-size:1.5rem}.verdict p,.verdict ul{font-size:1rem;font-weight:400;margin:.4rem 0}
.summary{font-size:1.1rem;background:#f5f5f5;padding:.75rem 1rem;border-left:4px solid #555}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.heartbeat{color:#777}.tag{font-size:.75rem;background:#eee;border-radius:4px;padding:0 .3rem;white-space:nowrap}
code{font-size:.85rem}li{margin:.25rem 0}`;

const VERDICT_TITLES = {
  proven: "Proven",
  "not-conclusive": "Not conclusive",
  invalid: "Invalid evidence bundle",
  unreadable: "Not a readable evidence bundle",
} as const;

/**
 * The verdict, first and unmistakable: its name, the one-line headline, the reasons (each with
 * its stable code) and, when the bundle was read, the key fingerprints to compare.
 */
export function renderVerdictBanner(c: EvidenceVerdict): string {
  const out = [
    `<div class="verdict ${c.verdict}" data-verdict="${c.verdict}" data-exit-code="${c.exitCode}">`,
    `<div class="verdict-name">${VERDICT_TITLES[c.verdict]}</div>`,
    `<p data-headline>${esc(c.headline)}</p>`,
  ];
  if (c.verdict !== "proven" && c.reasons.length > 0)
    out.push(
      "<ul data-reasons>",
      ...c.reasons.map(
        (x) =>
          `<li data-reason-code="${esc(x.code)}" data-reason-element="${esc(x.element)}">${esc(x.message)}</li>`,
      ),
      "</ul>",
    );
  if (c.keys !== null)
    out.push(
      `<p class="keys">Owner key <code data-owner-fingerprint>${esc(c.keys.owner.fingerprint)}</code> (${c.keys.owner.pinned ? "pinned" : "not pinned"}); ledger <code>${esc(c.keys.ledger.origin)}</code> key <code data-ledger-fingerprint>${esc(c.keys.ledger.fingerprint)}</code> (${c.keys.ledger.pinned ? "pinned" : "not pinned"}).</p>`,
    );
  out.push("</div>");
  return out.join("");
}

/** The report as an HTML fragment (the page body), every value escaped. */
export function renderEvidenceReportBody(r: EvidenceReport): string {
  const c = r.conclusion;
  const out: string[] = [renderVerdictBanner(c)];
  // A refused bundle tells no story: only why it was refused.
  const refusal = c.verdict === "invalid" || c.verdict === "unreadable" ? (c.reasons[0] ?? null) : null;
  if (refusal !== null || r.verdict !== "valid") {
    out.push(
      `<p>First failing element: <code data-element>${esc(refusal?.element ?? "")}</code> — <span data-reason>${esc(refusal?.code ?? "")}</span></p>`,
      `<p>Nothing in this file may be relied on.</p>`,
    );
    return out.join("\n");
  }
  out.push(
    `<p data-verification="valid">The bundle is internally consistent: every signature, hash link and proof checks out.</p>`,
    `<p>Window: ${esc(r.window?.from ?? "")} to ${esc(r.window?.to ?? "")} (UTC). Exported ${esc(r.generatedAt ?? "")}.</p>`,
  );
  for (const d of r.doors)
    out.push(`<h2>${esc(d.door)}</h2>`, `<p class="summary" data-summary>${esc(d.summary)}</p>`);
  out.push("<h2>What is proven</h2><ul data-proven>", ...r.proven.map((p) => `<li>${esc(p)}</li>`), "</ul>");
  out.push(
    "<h2>What is not proven</h2><ul data-not-proven>",
    ...r.notProven.map((p) => `<li>${esc(p)}</li>`),
    "</ul>",
  );
  for (const d of r.doors) {
    out.push(
      `<h2>${esc(d.door)}: events</h2>`,
      `<p>Lock ${esc(d.lockId)} (key ${esc(d.lockKeyFingerprint)}), times in ${esc(d.timeZone)}. Assurance: <b>sealed by lock</b> — the lock signed each event itself. Heartbeats prove silence only when at most ${r.heartbeatMaxGapMinutes} minutes apart.</p>`,
    );
    if (d.denials.length > 0) {
      out.push(
        "<h3>Refused attempts</h3><ul>",
        ...d.denials.map((x) => `<li>${esc(x.local ?? "time unknown")} (seq ${x.seq}): ${esc(x.words)}</li>`),
        "</ul>",
      );
    }
    out.push(
      "<table><thead><tr><th>seq</th><th>lock time</th><th>event</th><th>assurance</th><th>ledger leaf</th></tr></thead><tbody>",
    );
    for (const e of d.timeline) {
      out.push(
        `<tr${e.kind === "Heartbeat" ? ' class="heartbeat"' : ""}><td>${e.seq}</td><td>${esc(e.local ?? "unknown")}</td><td>${esc(e.text)}</td><td><span class="tag">${e.assurance === "sealed-by-lock" ? "sealed by lock" : "observed by hub"}</span></td><td>${e.leafIndex}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
  }
  if (r.trust !== null) {
    const t = r.trust;
    out.push(
      "<h2>Trust anchors</h2><ul>",
      `<li>Owner key fingerprint: <code>${esc(t.ownerKeyFingerprint)}</code> (key <code>${esc(t.ownerPublicKey)}</code>)</li>`,
      `<li>Ledger <code>${esc(t.ledgerOrigin)}</code>, key fingerprint <code>${esc(t.ledgerKeyFingerprint)}</code></li>`,
      `<li>Head checkpoint: size ${t.headCheckpoint.size}, root <code>${esc(t.headCheckpoint.rootHash)}</code>; ${t.checkpoints} checkpoint(s) in the bundle</li>`,
      ...t.lockAcknowledgements.map(
        (a) =>
          `<li>${esc(a.door)} acknowledged checkpoint size ${a.treeSize} (seq ${a.seq}, ${esc(a.local ?? "time unknown")})</li>`,
      ),
      "</ul>",
    );
  }
  return out.join("\n");
}

/** A complete, self-contained HTML page (no scripts, no external resources). */
export function renderEvidenceReportHtml(r: EvidenceReport): string {
  const title =
    r.verdict === "valid" && r.conclusion.verdict !== "invalid"
      ? `Evidence report: ${r.doors.map((d) => d.door).join(", ")}`
      : "Evidence report: invalid bundle";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${REPORT_CSS}</style></head>
<body><h1>${esc(title)}</h1>
${renderEvidenceReportBody(r)}
<p><small>Produced by the Latchkey evidence verifier (format latchkey-evidence v1). Verify the bundle yourself: <code>npx latchkey verify BUNDLE</code> or the offline verifier page.</small></p>
</body></html>
`;
}
