/**
 * A fleet of simulated locks in one process (`latchkey sim`): lock directories `dir/lock-0001`,
 * `dir/lock-0002` …, each a `SimLock` speaking the real protocol to the hub over MQTT. The setup
 * codes of the locks still waiting for commissioning are kept in `dir/setup-codes.json` (0600),
 * rewritten as locks get commissioned (or factory reset); they are never printed or logged.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LockCommissioningOptions } from "@latchkey/lock";
import { SimLock } from "./sim-lock.js";

export const SETUP_CODES_FILE = "setup-codes.json";

export interface FleetOptions {
  readonly count: number;
  /** The fleet's directory (created): one sub-directory per lock, and setup-codes.json. */
  readonly dir: string;
  /** The broker: ws(s)://hub:port/mqtt or mqtt(s)://host:port. */
  readonly url: string;
  readonly topicPrefix?: string;
  /** New locks' clocks at first start (default now). */
  readonly wallMs?: number | null;
  /** New locks' setup code / PBKDF2 cost (tests use few iterations). */
  readonly commissioning?: LockCommissioningOptions;
  /** How many locks start (and make their first connection) at once (default 50). */
  readonly concurrency?: number;
  readonly announceEveryMs?: number;
  readonly reconnectPeriodMs?: number;
  readonly maxRetryMs?: number;
  /** Stop starting further locks (the ones started are returned in the fleet). */
  readonly signal?: AbortSignal;
  /** Called (at most every 100 ms) when counts may have changed. */
  readonly onProgress?: (counts: FleetCounts) => void;
}

export interface FleetCounts {
  readonly waiting: number;
  readonly connecting: number;
  readonly connected: number;
}

/** One entry of setup-codes.json. */
export interface SetupCodeEntry {
  readonly name: string;
  readonly lockId: string;
  readonly setupCode: string;
}

export interface Fleet {
  readonly locks: readonly SimLock[];
  readonly dir: string;
  /** dir/setup-codes.json */
  readonly setupCodesFile: string;
  counts(): FleetCounts;
  /** Locks not commissioned (whether or not they are online yet). */
  uncommissioned(): number;
  /** Stops every lock cleanly (they say offline) and writes the setup codes one last time. */
  stop(): Promise<void>;
}

export function lockName(index: number): string {
  return `Sim lock ${index}`;
}

export function lockDirName(index: number): string {
  return `lock-${String(index).padStart(4, "0")}`;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  if (!Number.isSafeInteger(options.count) || options.count < 1) {
    throw new RangeError("count must be a positive integer");
  }
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const setupCodesFile = join(options.dir, SETUP_CODES_FILE);
  const slots: (SimLock | undefined)[] = new Array<SimLock | undefined>(options.count);
  let stopped = false;
  let lastCodes = "";

  const writeCodes = (): void => {
    const entries: SetupCodeEntry[] = [];
    slots.forEach((lock, i) => {
      if (lock === undefined || lock.isCommissioned || lock.setupCode === null) return;
      entries.push({ name: lockName(i + 1), lockId: lock.lockId, setupCode: lock.setupCode });
    });
    const text = JSON.stringify(entries, null, 2) + "\n";
    if (text === lastCodes) return;
    lastCodes = text;
    const tmp = `${setupCodesFile}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, setupCodesFile);
  };

  const locks = (): SimLock[] => slots.filter((l): l is SimLock => l !== undefined);
  const counts = (): FleetCounts => {
    let waiting = 0;
    let connecting = 0;
    let connected = 0;
    for (const l of slots) {
      const s = l?.state;
      if (s === "waiting") waiting++;
      else if (s === "connecting") connecting++;
      else if (s === "connected") connected++;
    }
    return { waiting, connecting, connected };
  };

  let pending: ReturnType<typeof setTimeout> | null = null;
  const changed = (): void => {
    if (pending !== null || stopped) return;
    pending = setTimeout(() => {
      pending = null;
      if (stopped) return;
      writeCodes();
      options.onProgress?.(counts());
    }, 100);
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count && !stopped && options.signal?.aborted !== true) {
      const i = next++;
      slots[i] = await SimLock.start({
        dir: join(options.dir, lockDirName(i + 1)),
        url: options.url,
        ...(options.topicPrefix === undefined ? {} : { topicPrefix: options.topicPrefix }),
        ...(options.wallMs === undefined ? {} : { wallMs: options.wallMs }),
        ...(options.commissioning === undefined ? {} : { commissioning: options.commissioning }),
        ...(options.announceEveryMs === undefined ? {} : { announceEveryMs: options.announceEveryMs }),
        ...(options.reconnectPeriodMs === undefined ? {} : { reconnectPeriodMs: options.reconnectPeriodMs }),
        ...(options.maxRetryMs === undefined ? {} : { maxRetryMs: options.maxRetryMs }),
        onChange: changed,
      });
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 50, options.count));
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } catch (e) {
    stopped = true;
    await Promise.all(locks().map((l) => l.stop()));
    throw e;
  }
  writeCodes();

  return {
    get locks() {
      return locks();
    },
    dir: options.dir,
    setupCodesFile,
    counts,
    uncommissioned: () => locks().filter((l) => !l.isCommissioned).length,
    async stop() {
      if (stopped) return;
      // Codes as they stand, before the runtimes shut down.
      writeCodes();
      stopped = true;
      if (pending !== null) clearTimeout(pending);
      const all = locks();
      const batch = Math.max(1, options.concurrency ?? 50);
      for (let i = 0; i < all.length; i += batch) {
        await Promise.all(all.slice(i, i + batch).map((l) => l.stop()));
      }
    },
  };
}
