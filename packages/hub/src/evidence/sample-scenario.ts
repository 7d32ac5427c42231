/**
 * The sample evidence scenario (examples/evidence/): a scripted night at a front door, run on the
 * real lock runtime with a controllable clock, ingested into a real ledger in a temporary SQLite
 * file and exported with the real exporter.
 *
 *   21:59:38  the resident mistypes the PIN (refused: unknown credential)
 *   21:59:44  the resident's PIN unlocks; door opens 21:59:49, closes 21:59:58
 *   22:00:14  auto-lock (30 s after the unlock)
 *   …         signed heartbeats every 5 minutes; hourly checkpoints, acknowledged by the lock
 *   03:12:40  the door is forced open while locked: DoorForcedOpen
 *   03:12:41  the front escutcheon is removed: tamper alarm
 *
 * Times are Europe/London, which is UTC in March. Every key comes from a fixed, published seed:
 * DEMO ONLY — anyone can sign as these keys, so never trust them for real evidence. The same
 * inputs always give the same bundle, byte for byte.
 *
 * Commissioning is the real SPAKE2+ exchange over the lock's setup code; checkpoint
 * acknowledgements use the runtime's `acknowledgeCheckpoint`; the 5-minute heartbeats are the
 * runtime's own (its default `heartbeatInterval`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import {
  buildEvidenceReport,
  checkpointTextHash,
  CommissioningInitiator,
  ed25519NoteSigner,
  encodeSignedLockEvent,
  epochMs,
  LatchkeyError,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  nobleX25519,
  parseNote,
  renderEvidenceReportHtml,
  signCommissioningRecord,
  verifyEvidenceBundle,
  type EvidenceBundle,
  type EvidenceReport,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { LockRuntime, VirtualClock, VirtualHardware, type Journal } from "@latchkey/lock";
import { Ledger, SqliteLedgerStore, nodeMerkleHasher } from "../ledger/index.js";
import { exportEvidenceBundle } from "./export.js";

const seed = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());

/** The demo's fixed seeds (SHA-256 of these labels). Published: demo only. */
export const SAMPLE_DEMO_SEEDS = {
  owner: "latchkey demo owner key - DEMO ONLY, published",
  hub: "latchkey demo hub ledger key - DEMO ONLY, published",
  lockRandomness: "latchkey demo lock randomness - DEMO ONLY, published",
} as const;

export const SAMPLE_ORIGIN = "demo.latchkey.invalid/ledger";
export const SAMPLE_DOOR = "Front door";
export const SAMPLE_TIME_ZONE = "Europe/London";
const START = Date.UTC(2026, 2, 6, 18, 0, 0);
const at = (h: number, m: number, s = 0): number => Date.UTC(2026, 2, h < 12 ? 7 : 6, h, m, s);
export const SAMPLE_WINDOW = { from: at(21, 30), to: at(3, 30) } as const;
const HEARTBEAT_MS = 5 * 60_000;

/** Lock hardware whose randomness is a fixed SHA-256 counter stream (keys, boot ids, challenges). */
class SeededHardware extends VirtualHardware {
  private counter = 0;
  constructor(
    clock: VirtualClock,
    private readonly label: string,
  ) {
    super(clock);
  }
  override randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      out.set(seed(`${this.label}/${this.counter++}`).subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  }
}

export interface SampleEvidence {
  readonly bytes: Uint8Array;
  readonly bundle: EvidenceBundle;
  readonly report: EvidenceReport;
  readonly html: string;
  /** Every checkpoint the demo hub signed, cosigned notes in size order (for tests of old/forked checkpoints). */
  readonly allCheckpoints: readonly string[];
}

export interface SampleOptions {
  /** Label of the lock's randomness (tests use another one to make an impostor lock). */
  readonly lockRandomness?: string;
  /** Use this commissioning record instead of signing one for the lock (impostor tests). */
  readonly commissioning?: Uint8Array;
  /**
   * The hub bends the lock's clock around a valid PIN entry (issue 13, "time the hub cannot
   * bend"). At 00:30 it asks the lock to jump to the target (refused when beyond the lock's
   * 5-minute bound), then walks the clock there in 5-minute steps two seconds apart (each
   * accepted and journaled), lets the resident's valid PIN unlock the door, and walks it back.
   * "past-window": to 04:00, so the entry lies after the window's end by the lock's clock;
   * "within-window": one step of 5 minutes, within the bound.
   */
  readonly clockAttack?: "past-window" | "within-window";
}

/** The clock attack's timing (real times; see `SampleOptions.clockAttack`). */
export const CLOCK_ATTACK = {
  startsAt: Date.UTC(2026, 2, 7, 0, 30, 0),
  target: {
    "past-window": Date.UTC(2026, 2, 7, 4, 0, 0),
    "within-window": Date.UTC(2026, 2, 7, 0, 35, 0),
  },
  stepMs: 5 * 60_000,
  everyMs: 2000,
} as const;

export async function runSampleScenario(options: SampleOptions = {}): Promise<SampleEvidence> {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-evidence-sample-"));
  const db = new Database(join(dir, "ledger.sqlite"));
  try {
    const clock = new VirtualClock(START);
    // The hub's own time: the virtual clock's monotonic reading started at START. (The lock's wall
    // clock is the same until someone sets it.)
    const hubNow = (): number => START + clock.monotonicMs();
    const hardware = new SeededHardware(clock, options.lockRandomness ?? SAMPLE_DEMO_SEEDS.lockRandomness);
    const runtime = LockRuntime.start({
      dir: join(dir, "lock"),
      hardware,
      ed25519: nodeEd25519,
      initialSettings: { timeZone: SAMPLE_TIME_ZONE, autoRelockTime: 30 },
    });
    const journal: Journal = runtime.journal;
    const hubSigner = ed25519NoteSigner(SAMPLE_ORIGIN, seed(SAMPLE_DEMO_SEEDS.hub), nodeEd25519);
    const ownerSeed = seed(SAMPLE_DEMO_SEEDS.owner);
    const ownerKey = nodeEd25519.publicKey(ownerSeed);
    const ledger = await Ledger.open({
      store: new SqliteLedgerStore(db),
      origin: SAMPLE_ORIGIN,
      signer: hubSigner,
      ed: nodeEd25519,
      hasher: nodeMerkleHasher,
      checkpointEvery: { entries: Number.MAX_SAFE_INTEGER, seconds: 86_400 },
      now: hubNow,
    });
    const lockId = lockIdBytesFromPublicKey(runtime.publicKey);
    const lockIdHex = runtime.lockId;

    let ingested = 1;
    /** The hub receives the lock's new events half a second after each happened. */
    const ingest = async (): Promise<void> => {
      const events = journal.read(ingested);
      for (const e of events) {
        await ledger.append({
          kind: LedgerLeafKind.LockEvent,
          // When the event happened by the hub's clock (its monotonic reading since START).
          hubTimeMs: epochMs(START + (e.monotonicMs ?? clock.monotonicMs()) + 500),
          lockId,
          record: encodeSignedLockEvent(e),
        });
        ingested = e.seq + 1;
      }
    };
    /**
     * Advances the clock to `target` in 5-minute steps (the lock signs its own heartbeats after
     * 5 minutes of silence); the hub ingests at every step and checkpoints every hour.
     */
    const advanceTo = async (target: number): Promise<void> => {
      for (;;) {
        const now = hubNow();
        const nextBeat = (Math.floor(now / HEARTBEAT_MS) + 1) * HEARTBEAT_MS;
        if (nextBeat > target) break;
        clock.advance(nextBeat - now);
        await ingest();
        if (nextBeat % 3_600_000 === 0) await checkpointAndAck();
      }
      clock.advance(target - hubNow());
      await ingest();
    };
    /** The hub signs a checkpoint; the lock acknowledges it 2 s later in its own journal. */
    const checkpointAndAck = async (): Promise<void> => {
      const cp = await ledger.checkpoint();
      clock.advance(2000);
      const checkpointHash = checkpointTextHash(parseNote(cp.note).text);
      const ack = runtime.acknowledgeCheckpoint(cp.size, checkpointHash);
      await ingest();
      await ledger.addLockAck(cp.size, lockIdHex, checkpointHash, encodeSignedLockEvent(ack));
    };

    // Commissioning (18:00): SPAKE2+ over the printed setup code installs the owner's and the
    // hub's keys (the lock journals Commissioned); the owner signs the commissioning record.
    const setupCode = runtime.setupCode;
    if (setupCode === null) throw new Error("a fresh lock must show its setup code");
    const hubRandom = new SeededHardware(clock, `${SAMPLE_DEMO_SEEDS.hub}/commissioning`);
    const initiator = new CommissioningInitiator({
      setupCode,
      hubKeys: {
        ownerSigningPublicKey: ownerKey,
        hubStaticPublicKey: nobleX25519.publicKey(seed(`${SAMPLE_DEMO_SEEDS.hub}/noise`)),
      },
      randomBytes: (n) => hubRandom.randomBytes(n),
    });
    for (let out: Uint8Array | null = initiator.start(); out !== null;) {
      out = initiator.handle(runtime.handleCommissioningMessage(out));
    }
    const commissioning =
      options.commissioning ??
      signCommissioningRecord(
        {
          lockId,
          lockSigningKey: runtime.publicKey,
          ownerKey,
          ledgerKey: hubSigner.publicKey,
          commissionedAtMs: epochMs(START),
          ledgerOrigin: SAMPLE_ORIGIN,
          doorName: SAMPLE_DOOR,
          timeZone: SAMPLE_TIME_ZONE,
        },
        ownerSeed,
        nodeEd25519,
      ).bytes;
    const resident = runtime.addUser({ name: "Resident" });
    runtime.setPin(resident, "582039");
    await ingest();

    await advanceTo(at(21, 59, 38));
    runtime.attemptPin("582093", "Keypad");
    await advanceTo(at(21, 59, 44));
    runtime.attemptPin("582039", "Keypad");
    await advanceTo(at(21, 59, 49));
    hardware.door.open = true;
    runtime.doorChanged(true);
    await advanceTo(at(21, 59, 58));
    hardware.door.open = false;
    runtime.doorChanged(false);
    if (options.clockAttack !== undefined) {
      const target = CLOCK_ATTACK.target[options.clockAttack];
      await advanceTo(CLOCK_ATTACK.startsAt); // the auto-lock fires at 22:00:14 on the way
      const lockClock = (): number => runtime.wallMs ?? hubNow();
      /** The hub's SetTime, as its sync would send it: the lock takes it or refuses it. */
      const setLockClock = (to: number): void => {
        try {
          runtime.setTime(epochMs(to), "hub");
        } catch (e) {
          if (!(e instanceof LatchkeyError && e.code === "LOCK_CLOCK_STEP_REFUSED")) throw e;
        }
      };
      setLockClock(target); // past the bound: refused, and a ClockSetRefused is journaled
      while (lockClock() < target) {
        await advanceTo(hubNow() + CLOCK_ATTACK.everyMs);
        setLockClock(Math.min(lockClock() + CLOCK_ATTACK.stepMs, target));
      }
      await advanceTo(hubNow() + 30_000);
      runtime.attemptPin("582039", "Keypad"); // granted, at a time of the hub's choosing
      await advanceTo(hubNow() + 40_000); // the auto-lock at 30 s
      while (lockClock() > hubNow() + 1000) {
        await advanceTo(hubNow() + CLOCK_ATTACK.everyMs);
        setLockClock(Math.max(lockClock() - CLOCK_ATTACK.stepMs, hubNow()));
      }
    }
    await advanceTo(at(3, 12, 40)); // the auto-lock fires at 22:00:14 on the way
    hardware.door.open = true;
    runtime.doorChanged(true);
    await advanceTo(at(3, 12, 41));
    runtime.tamper("escutcheon-removed");
    await advanceTo(at(3, 15, 0));
    await checkpointAndAck();
    await advanceTo(at(3, 30, 0));
    await ledger.checkpoint();
    runtime.shutdown();

    const exportedAt = at(3, 30, 10);
    const { bundle, bytes } = await exportEvidenceBundle({
      ledger,
      locks: [{ publicKey: runtime.publicKey, commissioning }],
      window: SAMPLE_WINDOW,
      ownerPublicKey: ownerKey,
      signer: hubSigner,
      now: () => exportedAt,
    });
    const allCheckpoints = await Promise.all(
      (await ledger.listCheckpoints(-1, 1000)).map((c) => ledger.cosignedCheckpoint(c.size)),
    );
    const report = buildEvidenceReport(
      verifyEvidenceBundle(bytes, { ed25519: nodeEd25519, hasher: nodeMerkleHasher }),
    );
    return { bytes, bundle, report, html: renderEvidenceReportHtml(report), allCheckpoints };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The demo seeds' keys, for tests that act as the (demo) hub or owner. */
export function sampleKeys(): { hubSeed: Uint8Array; ownerSeed: Uint8Array } {
  return { hubSeed: seed(SAMPLE_DEMO_SEEDS.hub), ownerSeed: seed(SAMPLE_DEMO_SEEDS.owner) };
}

/**
 * The sample with one byte changed inside the first event's signed record: its lock time moved
 * by a few seconds at most. Every verifier must reject it, naming that event.
 */
export function tamperedSample(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const at = text.indexOf('"record":"') + '"record":"'.length;
  // Base64 character 78 holds the low 4 bits of the record's byte 58 and the top 2 of byte 59:
  // the low bytes of lockTime (offsets 52–59 in journal format v2).
  const i = at + 78;
  const out = bytes.slice();
  out[i] = out[i] === 0x41 ? 0x42 : 0x41;
  return out;
}
