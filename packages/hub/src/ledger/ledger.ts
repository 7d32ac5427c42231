/**
 * The hub's verifiable ledger: an append-only RFC 6962 Merkle tree of typed leaves, signed
 * C2SP checkpoints, and the cosignatures of witnesses and locks on those checkpoints.
 *
 *   const ledger = await Ledger.open({ store: new SqliteLedgerStore(db), origin, signer, ed });
 *   const { index } = await ledger.append(leaf);            // durable when it resolves
 *   const proof = await ledger.inclusionProof(index, cp.size); // against a signed checkpoint
 *
 * Proofs read O(log n) stored perfect nodes (one batched read). Checkpoints are signed every
 * `checkpointEvery.entries` leaves or, via `startCheckpointTimer`, every `seconds` when the tree
 * grew. A checkpoint never changes once stored; a second checkpoint at the same size with another
 * root would be a fork and is refused.
 */
import {
  assembleProof,
  checkpointTextHash,
  consistencyProofPlan,
  decodeLedgerLeaf,
  encodeLedgerLeaf,
  equalBytes,
  formatNote,
  inclusionProofPlan,
  LatchkeyError,
  LedgerLeafKind,
  nodeKey,
  openCheckpoint,
  parseNote,
  planNodes,
  signCheckpoint,
  toHex,
  verifyCosignature,
  type Cosignature,
  type Cosigner,
  type Ed25519,
  type LeafRange,
  type LedgerLeaf,
  type MerkleHasher,
  type NodeId,
  type NoteSignature,
  type NoteSigner,
} from "@latchkey/protocol";
import { nodeMerkleHasher } from "./hasher.js";
import type { LeafInput, LedgerStore, StoredCheckpoint, StoredCosignature } from "./store.js";
import { appendToSnapshot, EMPTY_SNAPSHOT, snapshotRoot, type TreeSnapshot } from "./tree-state.js";

export interface CheckpointPolicy {
  /** Sign a checkpoint once this many leaves were appended since the last one (default 256). */
  readonly entries: number;
  /** With `startCheckpointTimer`: sign at most this long after the first unsigned leaf (default 60). */
  readonly seconds: number;
}

export interface LedgerOptions {
  readonly store: LedgerStore;
  /** Checkpoint origin line, e.g. "hub.example/ledger"; the signer's key name must equal it. */
  readonly origin: string;
  /** The hub's checkpoint key (ed25519NoteSigner(origin, seed, nodeEd25519)). */
  readonly signer: NoteSigner & { readonly publicKey: Uint8Array };
  /** Verifies witness cosignatures (nodeEd25519 in the hub). */
  readonly ed: Ed25519;
  readonly hasher?: MerkleHasher;
  readonly checkpointEvery?: Partial<CheckpointPolicy>;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

export interface AppendedLeaf {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** Tree size and root right after this append. */
  readonly size: number;
  readonly root: Uint8Array;
  /** Set when this append triggered a checkpoint. */
  readonly checkpoint?: StoredCheckpoint;
}

export interface InclusionProof {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  /** RFC 9162 inclusion path, bottom-up. */
  readonly hashes: readonly Uint8Array[];
}

export interface ConsistencyProof {
  readonly size1: number;
  readonly size2: number;
  readonly hashes: readonly Uint8Array[];
}

export interface LedgerEntry {
  readonly index: number;
  readonly leaf: LedgerLeaf;
  /** The canonical bytes that were hashed. */
  readonly data: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly appendedAt: number;
}

export interface AuditResult {
  readonly ok: boolean;
  readonly size: number;
  /** First leaf whose stored bytes, hash or position disagree with the tree, if any. */
  readonly firstBadIndex?: number;
  readonly reason?: string;
}

const lockIdOf = (leaf: LedgerLeaf): string | null =>
  leaf.kind === LedgerLeafKind.AdminAction ? null : toHex(leaf.lockId);

export class Ledger {
  readonly hasher: MerkleHasher;
  readonly policy: CheckpointPolicy;
  private readonly now: () => number;
  private lastCheckpoint: { size: number; at: number } = { size: 0, at: 0 };
  /** Appends wait for each other in this process so checkpoint decisions see a settled size. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly checkpointListeners = new Set<(cp: StoredCheckpoint) => void | Promise<unknown>>();
  /** Work listeners started (witness submissions), until it settles. */
  private readonly listenerWork = new Set<Promise<unknown>>();

  private constructor(private readonly opts: LedgerOptions) {
    this.hasher = opts.hasher ?? nodeMerkleHasher;
    this.policy = { entries: 256, seconds: 60, ...opts.checkpointEvery };
    this.now = opts.now ?? Date.now;
    if (opts.signer.name !== opts.origin) {
      throw new LatchkeyError("NOTE_KEY_MALFORMED", "the checkpoint key name must equal the ledger origin");
    }
  }

  static async open(opts: LedgerOptions): Promise<Ledger> {
    const ledger = new Ledger(opts);
    await opts.store.init();
    const latest = await opts.store.latestCheckpoint();
    // With no checkpoint yet, the T-seconds clock starts now.
    ledger.lastCheckpoint =
      latest === undefined ? { size: 0, at: ledger.now() } : { size: latest.size, at: latest.createdAt };
    return ledger;
  }

  get origin(): string {
    return this.opts.origin;
  }

  /** The hub's checkpoint public key (for vkeys and verifiers). */
  get publicKey(): Uint8Array {
    return this.opts.signer.publicKey;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Appends one leaf; resolves after it is durable (and checkpointed, if the policy says so). */
  async append(leaf: LedgerLeaf): Promise<AppendedLeaf> {
    const [one] = await this.appendMany([leaf]);
    return one as AppendedLeaf;
  }

  /** Appends leaves in one durable transaction (group commit). */
  appendMany(leaves: readonly LedgerLeaf[]): Promise<AppendedLeaf[]> {
    return this.serial(async () => {
      if (leaves.length === 0) return [];
      const at = this.now();
      const inputs: LeafInput[] = [];
      const hashes: Uint8Array[] = [];
      for (const leaf of leaves) {
        const data = encodeLedgerLeaf(leaf);
        inputs.push({ kind: leaf.kind, data, lockId: lockIdOf(leaf), appendedAt: at });
        hashes.push(this.hasher.hashLeaf(data));
      }
      const res = await this.opts.store.append(inputs, hashes, this.hasher);
      let checkpoint: StoredCheckpoint | undefined;
      if (res.size - this.lastCheckpoint.size >= this.policy.entries)
        checkpoint = await this.signCheckpointAt(res.size);
      return hashes.map((leafHash, i) => ({
        index: res.firstIndex + i,
        leafHash,
        size: res.size,
        root: res.root,
        ...(checkpoint !== undefined && i === hashes.length - 1 ? { checkpoint } : {}),
      }));
    });
  }

  size(): Promise<number> {
    return this.opts.store.size();
  }

  private async checkSize(size: number): Promise<void> {
    const have = await this.size();
    if (!Number.isSafeInteger(size) || size < 0 || size > have) {
      throw new LatchkeyError("LEDGER_RANGE_INVALID", `the ledger has ${have} leaves, not ${size}`, {
        size,
        have,
      });
    }
  }

  private async resolve(plan: readonly LeafRange[]): Promise<Uint8Array[]> {
    const ids = planNodes(plan);
    const found = await this.opts.store.readNodes(ids.map((id) => nodeKey(id.level, id.index)));
    return assembleProof(plan, (id: NodeId) => found.get(nodeKey(id.level, id.index)), this.hasher);
  }

  /** MTH of the first `size` leaves (default: all). */
  async root(size?: number): Promise<Uint8Array> {
    const n = size ?? (await this.size());
    await this.checkSize(n);
    if (n === 0) return this.hasher.emptyRoot;
    const [root] = await this.resolve([{ start: 0, end: n }]);
    return root as Uint8Array;
  }

  async inclusionProof(index: number, size?: number): Promise<InclusionProof> {
    const n = size ?? (await this.size());
    await this.checkSize(n);
    const plan = inclusionProofPlan(index, n);
    const [leafHash, ...hashes] = await this.resolve([{ start: index, end: index + 1 }, ...plan]);
    return { index, size: n, leafHash: leafHash as Uint8Array, hashes };
  }

  async consistencyProof(size1: number, size2?: number): Promise<ConsistencyProof> {
    const n = size2 ?? (await this.size());
    await this.checkSize(n);
    return { size1, size2: n, hashes: await this.resolve(consistencyProofPlan(size1, n)) };
  }

  async entries(start: number, end: number): Promise<LedgerEntry[]> {
    const rows = await this.opts.store.readLeaves(start, end);
    return rows.map((r) => ({
      index: r.index,
      leaf: decodeLedgerLeaf(r.data),
      data: r.data,
      leafHash: this.hasher.hashLeaf(r.data),
      appendedAt: r.appendedAt,
    }));
  }

  async entry(index: number): Promise<LedgerEntry> {
    const [e] = await this.entries(index, index + 1);
    if (e === undefined)
      throw new LatchkeyError("LEDGER_LEAF_NOT_FOUND", `no ledger leaf ${index}`, { index });
    return e;
  }

  // --- checkpoints ---------------------------------------------------------------------------

  private async signCheckpointAt(size: number): Promise<StoredCheckpoint> {
    const rootHash = await this.root(size);
    const note = signCheckpoint(
      { origin: this.opts.origin, size, rootHash, extensions: [] },
      this.opts.signer,
    );
    const stored = await this.opts.store.putCheckpoint({ size, rootHash, note, createdAt: this.now() });
    if (!equalBytes(stored.rootHash, rootHash)) {
      throw new LatchkeyError(
        "LEDGER_STORE_CORRUPT",
        `a checkpoint at size ${size} with another root is stored`,
        { size },
      );
    }
    if (size >= this.lastCheckpoint.size) this.lastCheckpoint = { size, at: stored.createdAt };
    for (const listener of this.checkpointListeners) {
      try {
        const work = listener(stored);
        if (work instanceof Promise) {
          const settled: Promise<unknown> = work
            .catch(() => undefined)
            .finally(() => this.listenerWork.delete(settled));
          this.listenerWork.add(settled);
        }
      } catch {
        // A listener (witness submission) must never fail or delay the ledger.
      }
    }
    return stored;
  }

  /**
   * Calls `listener` with every checkpoint this process signs (also one re-signed at an unchanged
   * size). It runs inside the checkpoint step, so it must only start work: a promise it returns
   * is not awaited here, only by `checkpointWorkSettled`.
   */
  onCheckpoint(listener: (cp: StoredCheckpoint) => void | Promise<unknown>): () => void {
    this.checkpointListeners.add(listener);
    return () => {
      this.checkpointListeners.delete(listener);
    };
  }

  /**
   * Waits at most `timeoutMs` for the work listeners started for the checkpoints signed so far
   * (witnesses cosigning them). True if all of it finished.
   */
  async checkpointWorkSettled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      for (;;) {
        const pending = [...this.listenerWork];
        if (pending.length === 0) return true;
        const done = await Promise.race([Promise.all(pending).then(() => true as const), timeout]);
        if (!done) return false;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Signs and stores a checkpoint of the current tree now (idempotent at an unchanged size). */
  checkpoint(): Promise<StoredCheckpoint> {
    return this.serial(async () => this.signCheckpointAt(await this.size()));
  }

  /** Signs a checkpoint if leaves are unsigned and `entries` or `seconds` says it is time. */
  checkpointIfDue(): Promise<StoredCheckpoint | undefined> {
    return this.serial(async () => {
      const size = await this.size();
      const pending = size - this.lastCheckpoint.size;
      if (pending <= 0) return undefined;
      const due =
        pending >= this.policy.entries || this.now() - this.lastCheckpoint.at >= this.policy.seconds * 1000;
      return due ? this.signCheckpointAt(size) : undefined;
    });
  }

  /** Checks every `seconds` / 4 whether a checkpoint is due; returns a stop function. */
  startCheckpointTimer(onError: (e: unknown) => void): () => void {
    const timer = setInterval(
      () => {
        this.checkpointIfDue().catch(onError);
      },
      Math.max(250, (this.policy.seconds * 1000) / 4),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  async getCheckpoint(size: number): Promise<StoredCheckpoint> {
    const cp = await this.opts.store.getCheckpoint(size);
    if (cp === undefined)
      throw new LatchkeyError("LEDGER_CHECKPOINT_NOT_FOUND", `no checkpoint at size ${size}`, { size });
    return cp;
  }

  latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return this.opts.store.latestCheckpoint();
  }

  listCheckpoints(afterSize = -1, limit = 100): Promise<StoredCheckpoint[]> {
    return this.opts.store.listCheckpoints(afterSize, limit);
  }

  // --- cosignatures --------------------------------------------------------------------------

  /**
   * Verifies a witness's cosignature/v1 over the stored checkpoint at `size` and stores it.
   * The witness's cosigner key must come from configuration, never from the request.
   */
  async addWitnessCosignature(
    size: number,
    signature: NoteSignature,
    cosigner: Cosigner,
  ): Promise<Cosignature> {
    const cp = await this.getCheckpoint(size);
    const text = parseNote(cp.note).text;
    const c = verifyCosignature(text, signature, cosigner, this.opts.ed);
    await this.opts.store.putCosignature({
      checkpointSize: size,
      kind: "witness",
      signer: cosigner.name,
      keyId: cosigner.keyId,
      timestamp: c.timestamp,
      signature: signature.signature,
      receivedAt: this.now(),
    });
    return c;
  }

  /**
   * Stores a lock's acknowledgement of the checkpoint at `size`. `checkpointHash` is what the lock
   * signed (SHA-256 of the checkpoint text, `checkpointTextHash`); `record` is the lock's encoded,
   * signed CheckpointAck journal record, kept opaque here. The caller (event ingestion) must have
   * verified the record's signature with the lock's key before calling; this method checks that
   * the lock saw *our* checkpoint at that size, so a forked history shows up as LEDGER_ACK_MISMATCH.
   */
  async addLockAck(
    size: number,
    lockId: string,
    checkpointHash: Uint8Array,
    record: Uint8Array,
  ): Promise<void> {
    const cp = await this.getCheckpoint(size);
    if (!equalBytes(checkpointTextHash(parseNote(cp.note).text), checkpointHash)) {
      throw new LatchkeyError(
        "LEDGER_ACK_MISMATCH",
        `lock ${lockId} acknowledged a different checkpoint at size ${size}`,
        { lockId, size },
      );
    }
    await this.opts.store.putCosignature({
      checkpointSize: size,
      kind: "lock-ack",
      signer: lockId,
      keyId: null,
      timestamp: null,
      signature: record,
      receivedAt: this.now(),
    });
  }

  cosignatures(size: number): Promise<StoredCosignature[]> {
    return this.opts.store.listCosignatures(size);
  }

  /** The largest checkpoint size cosigned by every named witness (none: undefined). */
  latestCosignedSize(witnessNames: readonly string[]): Promise<number | undefined> {
    return this.opts.store.latestCosignedSize(witnessNames);
  }

  /** The checkpoint note at `size` with every stored witness cosignature appended (C2SP format). */
  async cosignedCheckpoint(size: number): Promise<string> {
    const cp = await this.getCheckpoint(size);
    const note = parseNote(cp.note);
    const witness = (await this.cosignatures(size)).filter((c) => c.kind === "witness");
    const lines = witness.map((c) => ({ name: c.signer, keyId: c.keyId ?? 0, signature: c.signature }));
    return formatNote(note.text, [...note.signatures, ...lines]);
  }

  // --- audit ---------------------------------------------------------------------------------

  /**
   * Recomputes the whole tree from the stored leaves and checks every stored leaf hash, node on
   * the way, and every checkpoint's signature and root. Names the first leaf that disagrees.
   * Linear in the ledger size; meant for `latchkey verify --ledger` and periodic self-checks.
   */
  async audit(batch = 10_000): Promise<AuditResult> {
    const size = await this.size();
    const checkpoints = new Map<number, StoredCheckpoint>();
    for (let after = -1; ;) {
      const page = await this.listCheckpoints(after, 1000);
      for (const cp of page) checkpoints.set(cp.size, cp);
      if (page.length < 1000) break;
      after = (page[page.length - 1] as StoredCheckpoint).size;
    }
    let snap: TreeSnapshot = EMPTY_SNAPSHOT;
    const bad = (firstBadIndex: number, reason: string): AuditResult => ({
      ok: false,
      size,
      firstBadIndex,
      reason,
    });
    const checkCheckpoint = (s: TreeSnapshot): AuditResult | undefined => {
      const cp = checkpoints.get(s.size);
      if (cp === undefined) return undefined;
      try {
        const opened = openCheckpoint(cp.note, this.opts.origin, this.publicKey, this.opts.ed);
        if (opened.checkpoint.size !== s.size || !equalBytes(opened.checkpoint.rootHash, cp.rootHash)) {
          return bad(Math.max(0, s.size - 1), `checkpoint ${s.size} does not match its stored root`);
        }
      } catch (e) {
        return bad(Math.max(0, s.size - 1), `checkpoint ${s.size} signature: ${(e as Error).message}`);
      }
      if (!equalBytes(snapshotRoot(s, this.hasher), cp.rootHash)) {
        return bad(Math.max(0, s.size - 1), `leaves do not produce checkpoint ${s.size}'s root`);
      }
      return undefined;
    };
    const first = checkCheckpoint(snap);
    if (first !== undefined) return first;
    for (let start = 0; start < size; start += batch) {
      const end = Math.min(size, start + batch);
      const rows = await this.opts.store.readLeaves(start, end);
      const steps: { leaf: number; rows: { key: number; hash: Uint8Array }[]; snap: TreeSnapshot }[] = [];
      for (let i = start; i < end; i++) {
        const row = rows[i - start];
        if (row?.index !== i) return bad(i, `leaf ${i} is missing or out of order`);
        try {
          decodeLedgerLeaf(row.data);
        } catch {
          return bad(i, `leaf ${i} is not a valid ledger leaf`);
        }
        const step = appendToSnapshot(snap, [this.hasher.hashLeaf(row.data)], this.hasher);
        snap = step.next;
        steps.push({ leaf: i, rows: step.rows, snap });
      }
      // Leaf by leaf: its stored nodes (its hash and the perfect nodes it completes), then any
      // checkpoint at the size it reaches — so the first disagreement names the first bad leaf.
      const stored = await this.opts.store.readNodes(steps.flatMap((st) => st.rows.map((r) => r.key)));
      for (const st of steps) {
        for (const r of st.rows) {
          const kept = stored.get(r.key);
          if (kept === undefined || !equalBytes(kept, r.hash)) {
            return bad(st.leaf, `leaf ${st.leaf} or a tree node it completes does not match the stored tree`);
          }
        }
        const cpBad = checkCheckpoint(st.snap);
        if (cpBad !== undefined) return cpBad;
      }
    }
    if (!equalBytes(snapshotRoot(snap, this.hasher), await this.root(size))) {
      return bad(Math.max(0, size - 1), "stored tree nodes disagree with the leaves");
    }
    return { ok: true, size };
  }
}
