/**
 * The lock's side of commissioning and of the trust it installs, persisted in the lock's
 * directory:
 *  - `commissioning.bin` (0600): version ‖ X25519 channel secret (32) ‖ PBKDF2 iterations u32 ‖
 *    salt var8 ‖ w0 (32) ‖ L (65) — the SPAKE2+ verifier record, never the setup code itself.
 *    Written once, at first start ("manufacture"); a factory reset keeps it, so the code printed
 *    on the lock works again.
 *  - `commissioning.json`: the `CommissioningResponder` state (window, failures, installed owner
 *    and hub keys), the installed revocation list, passkey signature counters, how far the hub
 *    has acknowledged the journal, the hub's UTC offset, and the highest handshake counter
 *    accepted from the hub (so a replayed first handshake message is refused after a reboot).
 *    Saved after every step that changes it.
 *
 * Windows and lockouts run on the lock's *lifetime clock*: powered-on milliseconds summed over
 * boots (saved with the state). It never goes backwards, needs no wall time, and a power cut does
 * not shorten a lockout.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ByteReader,
  ByteWriter,
  CommissioningResponder,
  INITIAL_RESPONDER_STATE,
  LatchkeyError,
  PBKDF2_DEFAULT_ITERATIONS,
  RevocationStore,
  deriveBrokerPassword,
  generateSetupCode,
  isLatchkeyError,
  lockIdBytesFromPublicKey,
  normaliseSetupCode,
  type CommissioningResponderState,
  type CommissioningVerifier,
  type Ed25519,
  type FactoryResetReport,
  type LockoutPolicy,
  type ResponderStep,
  type RevocationListVerdict,
  type RevocationStoreState,
} from "@latchkey/protocol";
import { nodeX25519 } from "@latchkey/protocol/node";
import { writeFileAtomic } from "../persistence/atomic-file.js";
import { lockCommissioningVerifier } from "./verifier.js";

export const COMMISSIONING_KEYS_FILE = "commissioning.bin";
export const COMMISSIONING_STATE_FILE = "commissioning.json";
const KEYS_VERSION = 1;
/** Passkey counters kept (oldest dropped first). */
const MAX_SIGN_COUNTS = 1024;

export interface LockCommissioningOptions {
  /** The setup code to print on a new lock; default: a fresh random one. Ignored once created. */
  readonly setupCode?: string;
  /** PBKDF2 iterations of a new lock's verifier (1000–100000, default 20 000). */
  readonly pbkdf2Iterations?: number;
  /** How long a commissioning window stays open (default 15 min). */
  readonly windowMs?: number;
  readonly lockout?: LockoutPolicy;
}

interface SavedState {
  readonly version: 1;
  readonly lifetimeMs: number;
  readonly responder: CommissioningResponderState;
  readonly revocation: RevocationStoreState | null;
  readonly signCounts: Record<string, number>;
  readonly ackedSeq: number;
  readonly utcOffsetMinutes: number;
  /** Absent in files from before it existed (read as 0). */
  readonly hubHandshakeCounter?: number;
}

function corrupt(file: string, cause?: unknown): never {
  throw new LatchkeyError("LOCK_STATE_CORRUPT", `${file} is unreadable or inconsistent`, { file }, { cause });
}

function isCount(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

export class LockCommissioning {
  readonly channelSecretKey: Uint8Array;
  readonly channelPublicKey: Uint8Array;
  /** The setup code, only on the very first start (print it on the lock's label); null afterwards. */
  readonly setupCode: string | null;
  readonly responder: CommissioningResponder;
  readonly #dir: string;
  readonly #mono: () => number;
  readonly #monoAtOpen: number;
  readonly #lifetimeAtOpen: number;
  readonly #ed25519: Ed25519;
  readonly #lockIdBytes: Uint8Array;
  #revocation: RevocationStore | null;
  #signCounts: Map<string, number>;
  #ackedSeq: number;
  #utcOffsetMinutes: number;
  #hubHandshakeCounter: number;
  #lastSaved = "";

  private constructor(p: {
    dir: string;
    mono: () => number;
    ed25519: Ed25519;
    channelSecretKey: Uint8Array;
    verifier: CommissioningVerifier;
    setupCode: string | null;
    signingPublicKey: Uint8Array;
    saved: SavedState | null;
    options: LockCommissioningOptions;
  }) {
    this.#dir = p.dir;
    this.#mono = p.mono;
    this.#monoAtOpen = p.mono();
    this.#lifetimeAtOpen = p.saved?.lifetimeMs ?? 0;
    this.#ed25519 = p.ed25519;
    this.#lockIdBytes = lockIdBytesFromPublicKey(p.signingPublicKey);
    this.channelSecretKey = p.channelSecretKey;
    this.channelPublicKey = nodeX25519.publicKey(p.channelSecretKey);
    this.setupCode = p.setupCode;
    try {
      this.responder = new CommissioningResponder({
        verifier: p.verifier,
        identity: { signingPublicKey: p.signingPublicKey, channelPublicKey: this.channelPublicKey },
        now: () => this.lifetimeMs,
        ...(p.options.windowMs === undefined ? {} : { windowMs: p.options.windowMs }),
        ...(p.options.lockout === undefined ? {} : { lockout: p.options.lockout }),
        state: p.saved?.responder ?? INITIAL_RESPONDER_STATE,
      });
      const owner = this.responder.installedKeys?.ownerSigningPublicKey;
      this.#revocation =
        owner === undefined ? null : new RevocationStore(owner, p.saved?.revocation ?? undefined, p.ed25519);
    } catch (e) {
      if (isLatchkeyError(e) && e.code === "LOCK_STATE_CORRUPT") throw e;
      corrupt(COMMISSIONING_STATE_FILE, e);
    }
    this.#signCounts = new Map(Object.entries(p.saved?.signCounts ?? {}));
    this.#ackedSeq = p.saved?.ackedSeq ?? 0;
    this.#utcOffsetMinutes = p.saved?.utcOffsetMinutes ?? 0;
    this.#hubHandshakeCounter = p.saved?.hubHandshakeCounter ?? 0;
    // Power-up opens the window while the lock has no owner (as a Matter device does).
    if (!this.responder.isCommissioned) this.responder.openWindow();
    this.#save();
  }

  /** Loads the lock's commissioning state, creating it (setup code, verifier, channel key) on first start. */
  static open(p: {
    dir: string;
    random: (n: number) => Uint8Array;
    monotonicMs: () => number;
    signingPublicKey: Uint8Array;
    ed25519: Ed25519;
    options?: LockCommissioningOptions;
  }): LockCommissioning {
    const options = p.options ?? {};
    const keysPath = join(p.dir, COMMISSIONING_KEYS_FILE);
    let setupCode: string | null = null;
    let keys: { channelSecretKey: Uint8Array; verifier: CommissioningVerifier };
    if (existsSync(keysPath)) keys = readKeys(keysPath);
    else {
      setupCode =
        options.setupCode === undefined ? generateSetupCode(p.random) : normaliseSetupCode(options.setupCode);
      keys = {
        channelSecretKey: p.random(32),
        verifier: lockCommissioningVerifier(
          setupCode,
          p.random(32),
          options.pbkdf2Iterations ?? PBKDF2_DEFAULT_ITERATIONS,
        ),
      };
      writeKeys(keysPath, keys.channelSecretKey, keys.verifier);
    }
    const statePath = join(p.dir, COMMISSIONING_STATE_FILE);
    let saved: SavedState | null = null;
    if (existsSync(statePath)) saved = readState(statePath);
    return new LockCommissioning({
      dir: p.dir,
      mono: p.monotonicMs,
      ed25519: p.ed25519,
      ...keys,
      setupCode,
      signingPublicKey: p.signingPublicKey,
      saved,
      options,
    });
  }

  /** Powered-on milliseconds over the lock's life (windows and lockouts run on it). */
  get lifetimeMs(): number {
    return this.#lifetimeAtOpen + (this.#mono() - this.#monoAtOpen);
  }

  get isCommissioned(): boolean {
    return this.responder.isCommissioned;
  }
  get ownerPublicKey(): Uint8Array | null {
    return this.responder.installedKeys?.ownerSigningPublicKey ?? null;
  }
  get hubStaticPublicKey(): Uint8Array | null {
    return this.responder.installedKeys?.hubStaticPublicKey ?? null;
  }
  /**
   * The password this lock logs in to the hub's MQTT broker with (see deriveBrokerPassword): from
   * the lock's channel secret and the hub static key installed at commissioning. Null while not
   * commissioned. A secret: never log it.
   */
  brokerPassword(): string | null {
    const hub = this.hubStaticPublicKey;
    if (!this.isCommissioned || hub === null) return null;
    return deriveBrokerPassword({
      x25519: nodeX25519,
      secretKey: this.channelSecretKey,
      publicKey: hub,
      lockId: this.#lockIdBytes,
    });
  }
  get revocation(): RevocationStore | null {
    return this.#revocation;
  }
  get ackedSeq(): number {
    return this.#ackedSeq;
  }
  get utcOffsetMinutes(): number {
    return this.#utcOffsetMinutes;
  }

  /** The highest handshake counter accepted from the installed hub (0: none yet). */
  get hubHandshakeCounter(): number {
    return this.#hubHandshakeCounter;
  }

  /**
   * Records a hub session's handshake counter, durably, before the lock answers it. Returns false
   * (and changes nothing) when it is not above the highest accepted: a replayed first message.
   */
  acceptHubHandshake(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter <= this.#hubHandshakeCounter) return false;
    this.#hubHandshakeCounter = counter;
    this.#save();
    return true;
  }

  /** Feeds one commissioning message to the responder; persists whatever changed. */
  handle(bytes: Uint8Array): ResponderStep {
    const step = this.responder.handle(bytes);
    if (step.report?.kind === "commissioned") {
      const owner = this.responder.installedKeys?.ownerSigningPublicKey;
      if (owner !== undefined) this.#revocation = new RevocationStore(owner, undefined, this.#ed25519);
    }
    this.#save();
    return step;
  }

  /** The physical "open commissioning window" action. COMM_ALREADY_COMMISSIONED once commissioned. */
  openWindow(): { closesAt: number } {
    const r = this.responder.openWindow();
    this.#save();
    return r;
  }

  /** Erases the installed owner/hub keys, revocation list and counters; reopens the window. */
  factoryReset(): FactoryResetReport {
    const report = this.responder.factoryReset();
    this.#revocation = null;
    this.#signCounts = new Map();
    this.#ackedSeq = 0;
    this.#utcOffsetMinutes = 0;
    // The handshake counter survives: the same hub recommissioned must not find its old first
    // messages fresh again (a hub counts from its wall clock, so a new hub starts above it).
    this.responder.openWindow();
    this.#save();
    return report;
  }

  installRevocationList(bytes: Uint8Array): RevocationListVerdict {
    if (this.#revocation === null) return { ok: false, reason: "bad-signature" };
    const verdict = this.#revocation.install(bytes);
    if (verdict.ok) this.#save();
    return verdict;
  }

  signCount(serial: bigint): number {
    return this.#signCounts.get(serial.toString()) ?? 0;
  }

  setSignCount(serial: bigint, count: number): void {
    const key = serial.toString();
    this.#signCounts.delete(key);
    this.#signCounts.set(key, count);
    while (this.#signCounts.size > MAX_SIGN_COUNTS) {
      const oldest = this.#signCounts.keys().next();
      if (oldest.done === true) break;
      this.#signCounts.delete(oldest.value);
    }
    this.#save();
  }

  setAckedSeq(seq: number): void {
    this.#ackedSeq = seq;
    this.#save();
  }

  setUtcOffsetMinutes(minutes: number): void {
    this.#utcOffsetMinutes = minutes;
    this.#save();
  }

  /** Writes the state when it changed (a flood of refused messages must not wear the flash). */
  #save(): void {
    const content = {
      responder: this.responder.state,
      revocation: this.#revocation?.state ?? null,
      signCounts: Object.fromEntries(this.#signCounts),
      ackedSeq: this.#ackedSeq,
      utcOffsetMinutes: this.#utcOffsetMinutes,
      hubHandshakeCounter: this.#hubHandshakeCounter,
    };
    const key = JSON.stringify(content);
    if (key === this.#lastSaved) return;
    const state: SavedState = { version: 1, lifetimeMs: this.lifetimeMs, ...content };
    writeFileAtomic(join(this.#dir, COMMISSIONING_STATE_FILE), JSON.stringify(state), 0o600);
    this.#lastSaved = key;
  }
}

function writeKeys(path: string, channelSecretKey: Uint8Array, v: CommissioningVerifier): void {
  const w = new ByteWriter().u8(KEYS_VERSION).bytes(channelSecretKey).u32(v.iterations);
  w.u8(v.salt.length).bytes(v.salt).bytes(v.w0).bytes(v.L);
  writeFileAtomic(path, w.finish(), 0o600);
}

function readKeys(path: string): { channelSecretKey: Uint8Array; verifier: CommissioningVerifier } {
  try {
    const r = new ByteReader(new Uint8Array(readFileSync(path)), COMMISSIONING_KEYS_FILE);
    if (r.u8("version") !== KEYS_VERSION) throw new Error("version");
    const channelSecretKey = r.bytesFixed(32, "channel key");
    const iterations = r.u32("iterations");
    const salt = r.bytesFixed(r.u8("salt length"), "salt");
    const w0 = r.bytesFixed(32, "w0");
    const L = r.bytesFixed(65, "L");
    r.end();
    return { channelSecretKey, verifier: { salt, iterations, w0, L } };
  } catch (e) {
    return corrupt(COMMISSIONING_KEYS_FILE, e);
  }
}

function readState(path: string): SavedState {
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as Partial<SavedState>;
    if (s.version !== 1 || !isCount(s.lifetimeMs) || !isCount(s.ackedSeq)) throw new Error("fields");
    if (s.hubHandshakeCounter !== undefined && !isCount(s.hubHandshakeCounter))
      throw new Error("hubHandshakeCounter");
    if (typeof s.utcOffsetMinutes !== "number" || !Number.isInteger(s.utcOffsetMinutes))
      throw new Error("utcOffsetMinutes");
    if (s.utcOffsetMinutes < -720 || s.utcOffsetMinutes > 840) throw new Error("utcOffsetMinutes");
    if (typeof s.signCounts !== "object" || s.signCounts === null) throw new Error("signCounts");
    for (const [k, v] of Object.entries(s.signCounts))
      if (!/^[0-9]{1,20}$/.test(k) || !isCount(v, 0xffffffff)) throw new Error("signCounts");
    if (typeof s.responder !== "object" || s.responder === null) throw new Error("responder");
    return s as SavedState;
  } catch (e) {
    return corrupt(COMMISSIONING_STATE_FILE, e);
  }
}
