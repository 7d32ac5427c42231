/**
 * The witness a second party runs (`latchkey witness serve`): c2sp.org/tlog-witness
 * "add-checkpoint" for the logs it is configured with. It cosigns a hub's checkpoint only after
 * verifying the hub's signature with the configured log key and a consistency proof from the
 * checkpoint it cosigned last; it persists the new state before answering; it refuses rollbacks
 * and forks (409) and rewritten histories (422), and keeps the log-signed requests it refused as
 * evidence of the log's misbehaviour (`refused.log`).
 *
 * Atomicity (tlog-witness: checking the old size and persisting the new checkpoint "must be
 * performed atomically"): `addCheckpoint` is one synchronous function — parse, verify, fsync,
 * sign — so in Node's single thread no other request can interleave; and a directory lock keeps
 * a second witness process off the same state file.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  checkAddCheckpoint,
  formatAddCheckpointResponse,
  formatTlogSize,
  isLatchkeyError,
  LatchkeyError,
  parseAddCheckpointRequest,
  signCosignature,
  TLOG_SIZE_CONTENT_TYPE,
  type Ed25519,
  type MerkleHasher,
  type WitnessLogState,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { nodeMerkleHasher } from "../ledger/hasher.js";
import type { WitnessKey } from "./key.js";
import { readWitnessState, writeWitnessState, type StoredLogState } from "./state.js";

export const WITNESS_LOCK_FILE = "witness.pid";
export const WITNESS_REFUSED_LOG = "refused.log";
/** refused.log stops growing here: only the log's key can fill it, but disks are finite. */
const REFUSED_LOG_MAX_BYTES = 16 * 1024 * 1024;

export interface WitnessAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** What the witness says about itself in logs: never a key seed, never a request body. */
export interface WitnessLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface WitnessOptions {
  readonly dir: string;
  readonly key: WitnessKey;
  /** Log origin → the log's Ed25519 checkpoint key (from `--log`). */
  readonly logs: ReadonlyMap<string, Uint8Array>;
  readonly ed?: Ed25519;
  readonly hasher?: MerkleHasher;
  /** Milliseconds since the epoch (cosignature timestamps are its seconds). */
  readonly now?: () => number;
  readonly log?: WitnessLog;
  /**
   * Called after a new state is durable and before the answer is built. Tests kill the process
   * here to show that what was persisted holds even when the answer never left.
   */
  readonly onPersisted?: (origin: string, state: WitnessLogState) => void;
}

const silent: WitnessLog = { info: () => undefined, warn: () => undefined };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** Takes `<dir>/witness.pid`, or throws WITNESS_DIR_LOCKED if a live process holds it. */
function lockDir(dir: string): () => void {
  const path = join(dir, WITNESS_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new LatchkeyError(
          "WITNESS_DIR_LOCKED",
          `witness process ${pid} already uses ${dir}; stop it first (or remove ${path} if it is gone)`,
          { pid },
        );
      }
      rmSync(path, { force: true }); // left by a process that died (kill -9, power loss)
    }
  }
  throw new LatchkeyError("WITNESS_DIR_LOCKED", `cannot take ${path}`);
}

export class Witness {
  readonly #state: Map<string, StoredLogState>;
  readonly #key: WitnessKey;
  readonly #unlock: () => void;
  readonly #ed: Ed25519;
  readonly #hasher: MerkleHasher;
  readonly #now: () => number;
  readonly #log: WitnessLog;
  #closed = false;

  private constructor(
    private readonly opts: WitnessOptions,
    state: Map<string, StoredLogState>,
    unlock: () => void,
  ) {
    this.#state = state;
    // Our own copy of the seed, wiped on close (the caller's stays theirs).
    this.#key = { ...opts.key, seed: opts.key.seed.slice() };
    this.#unlock = unlock;
    this.#ed = opts.ed ?? nodeEd25519;
    this.#hasher = opts.hasher ?? nodeMerkleHasher;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log ?? silent;
  }

  /** Locks the directory and loads the state (WITNESS_DIR_LOCKED, WITNESS_STATE_CORRUPT). */
  static open(opts: WitnessOptions): Witness {
    const unlock = lockDir(opts.dir);
    try {
      return new Witness(opts, readWitnessState(opts.dir), unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }

  get name(): string {
    return this.#key.name;
  }

  get publicKey(): Uint8Array {
    return this.#key.publicKey;
  }

  /** The latest checkpoint cosigned for `origin`. */
  latest(origin: string): StoredLogState | undefined {
    return this.#state.get(origin);
  }

  /**
   * Handles one add-checkpoint request body; never throws for bad input. Synchronous on purpose
   * (see the module comment): the check against the stored size, the durable write of the new
   * one and the cosignature happen with nothing in between.
   */
  addCheckpoint(body: Uint8Array): WitnessAnswer {
    if (this.#closed) throw new LatchkeyError("LK_INTERNAL", "the witness is closed");
    let origin: string | undefined;
    try {
      const req = parseAddCheckpointRequest(body);
      const accepted = checkAddCheckpoint(req, {
        logs: this.opts.logs,
        stored: (o) => this.#state.get(o),
        ed: this.#ed,
        hasher: this.#hasher,
      });
      origin = accepted.origin;
      const now = this.#now();
      const next = new Map(this.#state);
      next.set(accepted.origin, { ...accepted.next, checkpoint: req.checkpoint, updatedAt: now });
      // Persist first; only then is the in-memory state (and the answer) allowed to move on.
      writeWitnessState(this.opts.dir, next);
      this.#state.set(accepted.origin, next.get(accepted.origin) as StoredLogState);
      this.opts.onPersisted?.(accepted.origin, accepted.next);
      const sig = signCosignature(
        accepted.text,
        this.#key.name,
        this.#key.seed,
        Math.floor(now / 1000),
        this.#ed,
      );
      this.#log.info({ origin: accepted.origin, size: accepted.next.size, old: req.oldSize }, "cosigned");
      return {
        status: 200,
        contentType: "text/plain; charset=utf-8",
        body: formatAddCheckpointResponse([sig]),
      };
    } catch (e) {
      if (!isLatchkeyError(e) || e.code.startsWith("LK_")) throw e;
      return this.refuse(e, body, origin);
    }
  }

  private refuse(e: LatchkeyError, body: Uint8Array, origin: string | undefined): WitnessAnswer {
    const fields = { code: e.code, status: e.status, ...(origin === undefined ? {} : { origin }) };
    if (e.code === "WITNESS_CONFLICT" && e.details?.fork === true) {
      this.#log.warn(fields, "refused a checkpoint that forks from the one cosigned at that size");
      this.keepEvidence(e, body);
    } else if (e.code === "WITNESS_PROOF_INVALID") {
      this.#log.warn(fields, "refused a checkpoint that does not extend the one cosigned last");
      this.keepEvidence(e, body);
    } else {
      this.#log.info(fields, `refused: ${e.message}`);
    }
    if (e.code === "WITNESS_CONFLICT") {
      return {
        status: 409,
        contentType: TLOG_SIZE_CONTENT_TYPE,
        body: formatTlogSize(Number(e.details?.size)),
      };
    }
    return { status: e.status, contentType: "text/plain; charset=utf-8", body: `${e.code}: ${e.message}\n` };
  }

  /**
   * tlog-witness: "the witness MAY log the request even if the consistency proof doesn't verify
   * … as it might be proof of log misbehavior". Only requests the log's key signed get here.
   */
  private keepEvidence(e: LatchkeyError, body: Uint8Array): void {
    const path = join(this.opts.dir, WITNESS_REFUSED_LOG);
    try {
      const size = existsSync(path) ? statSync(path).size : 0;
      if (size + body.length > REFUSED_LOG_MAX_BYTES) return;
      const header = `=== ${new Date(this.#now()).toISOString()} ${e.code} ${e.message}\n`;
      appendFileSync(path, header + Buffer.from(body).toString("utf8") + "\n", { mode: 0o600 });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "could not keep the refused checkpoint");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlock();
    this.#key.seed.fill(0);
  }
}
