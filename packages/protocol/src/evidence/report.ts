/**
 * The plain-language report of a verified bundle: the same facts as JSON (`buildEvidenceReport`),
 * as a self-contained HTML page (`renderEvidenceReportHtml`) and as terminal text
 * (`renderEvidenceReportText`). It says what happened at each door and exactly what is proven,
 * with the assurance level of each fact. "No valid credential was used between A and B" is only
 * stated when the lock's signed sequence is gapless (checked by the verifier) and its events —
 * heartbeats while idle — are never more than HEARTBEAT_MAX_GAP_MS apart across [A, B], with a
 * known, non-decreasing lock clock; otherwise the report says what cannot be proven and why.
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
function describeAt(e: VerifiedEvent, t: string): string {
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
    case EventKind.ClockSet:
      return `clock set ${t}${d.source !== undefined ? ` (${str(d.source)})` : ""}`;
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
function describeWhen(e: VerifiedEvent): string {
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
  return "when " + describeAt(e, "").replace(/\s+/g, " ").replace(/ :/, ":").trim();
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
 * Whether the lock's events prove silence over [a, b]: from the last event at or before `a` to
 * the first at or after `b`, every event has a known time, times never go backwards, and no two
 * consecutive events are more than HEARTBEAT_MAX_GAP_MS apart. (The chain itself — gapless,
 * linked, signed — was checked by the verifier.)
 */
function coverage(
  events: readonly VerifiedEvent[],
  a: number,
  b: number,
  f: Fmt,
): { ok: true } | { ok: false; why: string } {
  let start = -1;
  for (let i = 0; i < events.length; i++) {
    const t = events[i]!.lockTime;
    if (t !== null && t <= a) start = i;
  }
  if (start < 0) return { ok: false, why: `the bundle has no lock event at or before ${hms(f, a)}` };
  for (let i = start; i < events.length; i++) {
    const e = events[i]!;
    if (e.lockTime === null) return { ok: false, why: `the lock did not know the time at seq ${e.seq}` };
    if (i > start) {
      const before = events[i - 1]!;
      if (e.seq !== before.seq + 1)
        return {
          ok: false,
          why: `events seq ${before.seq + 1}–${e.seq - 1} are missing from the hub's ledger`,
        };
      const prev = before.lockTime!;
      if (e.lockTime < prev) return { ok: false, why: `the lock's clock went backwards at seq ${e.seq}` };
      if (e.lockTime - prev > HEARTBEAT_MAX_GAP_MS) {
        return {
          ok: false,
          why: `the lock was silent for ${minutes(e.lockTime - prev)} from ${hms(f, prev)} to ${hms(f, e.lockTime)} (heartbeats must be at most ${minutes(HEARTBEAT_MAX_GAP_MS)} apart)`,
        };
      }
    }
    if (e.lockTime >= b) return { ok: true };
  }
  return { ok: false, why: `the lock's events end before ${hms(f, b)}` };
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
  let firstIn = events.length;
  for (let i = 0; i < events.length; i++) {
    const t = events[i]!.lockTime;
    if (t !== null && t > from) {
      firstIn = i;
      break;
    }
    applyState(state, events[i]!);
  }
  const stateAtStart = { ...state };
  const inWindow = events.slice(firstIn).filter((e) => e.lockTime === null || e.lockTime <= to);

  // The narrative.
  const phrases: string[] = [
    `was ${state.bolt === null ? "in an unknown state" : state.bolt.toLowerCase()}${state.door === null ? "" : ` with the door ${state.door.toLowerCase()}`} at ${hms(f, from)}`,
  ];
  const notable = inWindow.filter((e) => !QUIET_KINDS.has(e.kind));
  let lastTime = from;
  for (let k = 0; k < notable.length; k++) {
    const e = notable[k]!;
    const next = notable[k + 1];
    // A forced-open or ajar door change is followed by its alarm: tell it once.
    if (
      e.kind === EventKind.DoorStateChange &&
      (e.details.doorState === "DoorForcedOpen" || e.details.doorState === "DoorAjar") &&
      next?.kind === EventKind.Alarm &&
      next.details.alarm === e.details.doorState
    ) {
      continue;
    }
    const t = e.lockTime;
    if (t === null) {
      phrases.push(describeAt(e, "at an unknown time"));
      continue;
    }
    if (state.bolt === "Locked" && t - lastTime >= 60_000) {
      const c = coverage(events, lastTime, t, f);
      if (c.ok) phrases.push(`no valid credential used until ${hms(f, t)}, ${describeWhen(e)}`);
      else
        phrases.push(
          `whether a credential was used before ${hms(f, t)} cannot be proven (${c.why})`,
          describeAt(e, hms(f, t)),
        );
    } else {
      phrases.push(describeAt(e, hms(f, t)));
    }
    applyState(state, e);
    lastTime = t;
  }
  if (state.bolt === "Locked" && to - lastTime >= 60_000) {
    const c = coverage(events, lastTime, to, f);
    phrases.push(
      c.ok
        ? `no valid credential used until the end of the window (${hms(f, to)})`
        : `whether a credential was used before ${hms(f, to)} cannot be proven (${c.why})`,
    );
  }
  const summary = `${name} ${phrases.join("; ")}.`;

  // Statements: each stretch while the bolt was locked, from the window's start or a lock event to
  // the next granted access or the window's end.
  const periods: ReportPeriod[] = [];
  const bolt: DoorState = { ...stateAtStart };
  let lockedSince: number | null = bolt.bolt === "Locked" ? from : null;
  const close = (b: number): void => {
    if (lockedSince === null || b <= lockedSince) return;
    const a = lockedSince;
    const c = coverage(events, a, b, f);
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
  for (const e of inWindow) {
    if (e.lockTime === null) continue;
    applyState(bolt, e);
    if (isGrantedAccess(e)) {
      close(e.lockTime);
      lockedSince = null;
    } else if (bolt.bolt === "Locked" && lockedSince === null) lockedSince = e.lockTime;
  }
  close(to);
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
    text: describeAt(e, "").replace(/\s+/g, " ").replace(/ :/, ":").trim(),
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

/** The report of a verification: full facts when valid, the failure otherwise. */
export function buildEvidenceReport(result: EvidenceVerification): EvidenceReport {
  const base = {
    format: "latchkey-evidence-report" as const,
    version: 1 as const,
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
  ];
  const notProven = [
    ...doors.flatMap((d) => d.notProven),
    ...(acks.length === 0
      ? [
          "No lock acknowledged a ledger checkpoint in this bundle: the ledger's history rests on the hub's signature alone.",
        ]
      : []),
    "Who was at the door: the lock proves which credential was used (for example user #1's PIN), not which person held it.",
    `Trust rests on the owner key ${ownerFp}: compare it with the fingerprint the owner gave you independently (\`latchkey verify --owner-key\`).`,
    ...(v.head.otherSignatures.length > 0
      ? [
          `Cosignatures by ${v.head.otherSignatures.join(", ")} are present but were not checked (no witness keys are pinned).`,
        ]
      : []),
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
  const lines: string[] = [];
  if (r.verdict !== "valid") {
    lines.push(`${r.verdict === "invalid" ? "INVALID" : "UNREADABLE"}: ${r.failure?.message ?? ""}`);
    if (r.failure !== null) lines.push(`  first failing element: ${r.failure.element} (${r.failure.reason})`);
    return lines.join("\n") + "\n";
  }
  lines.push(`VALID evidence bundle: ${r.window?.from ?? ""} to ${r.window?.to ?? ""}`);
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
.valid{background:#e6f4ea;border:2px solid #1e7b34}.invalid,.unreadable{background:#fdecea;border:2px solid #b3261e}
.summary{font-size:1.1rem;background:#f5f5f5;padding:.75rem 1rem;border-left:4px solid #555}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.heartbeat{color:#777}.tag{font-size:.75rem;background:#eee;border-radius:4px;padding:0 .3rem;white-space:nowrap}
code{font-size:.85rem}li{margin:.25rem 0}`;

/** The report as an HTML fragment (the page body), every value escaped. */
export function renderEvidenceReportBody(r: EvidenceReport): string {
  const out: string[] = [];
  if (r.verdict !== "valid") {
    out.push(
      `<div class="verdict ${r.verdict}" data-verdict="${r.verdict}">${r.verdict === "invalid" ? "Invalid evidence bundle" : "Not a readable evidence bundle"}</div>`,
      `<p>First failing element: <code data-element>${esc(r.failure?.element ?? "")}</code> — <span data-reason>${esc(r.failure?.reason ?? "")}</span></p>`,
      `<p>${esc(r.failure?.message ?? "")}</p>`,
      `<p>Nothing in this file may be relied on.</p>`,
    );
    return out.join("\n");
  }
  out.push(
    `<div class="verdict valid" data-verdict="valid">Valid evidence bundle — every signature, hash link and proof checks out</div>`,
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
    r.verdict === "valid"
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
