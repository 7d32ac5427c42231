/**
 * The hub's side of c2sp.org/tlog-witness: every checkpoint the ledger signs goes to each
 * configured witness (`--witness URL=VKEY`) as an add-checkpoint request — the old size the hub
 * believes the witness last cosigned, the RFC 6962 consistency proof from there, the signed note —
 * and the cosignature/v1 lines that come back are verified with the configured witness key and
 * stored beside the checkpoint (`Ledger.addWitnessCosignature`), so `cosignedCheckpoint`, the
 * ledger API and evidence bundles carry them.
 *
 * A witness never blocks the ledger: submissions run beside it, one at a time per witness, always
 * with the newest checkpoint (older ones waiting are skipped); a failure is logged — witness name,
 * URL, status and code, never a body — and the next checkpoint tries again. On 409 the hub
 * learns the witness's size from the body and retries once from there (the witness may have
 * persisted a cosignature whose answer never arrived). A 409 at the same size, or a 422, means
 * the witness holds a history this hub's ledger does not extend: logged as an error, loudly.
 */
import type { Logger } from "pino";
import {
  cosignerOf,
  encodeAddCheckpointRequest,
  isLatchkeyError,
  LatchkeyError,
  parseAddCheckpointResponse,
  parseTlogSize,
  ADD_CHECKPOINT_MAX_RESPONSE_BYTES,
  TLOG_SIZE_CONTENT_TYPE,
  type Cosigner,
} from "@latchkey/protocol";
import type { Ledger } from "../ledger/index.js";
import type { StoredCheckpoint } from "../ledger/store.js";
import type { WitnessEndpoint } from "../witness/config.js";

export interface WitnessSubmitterOptions {
  readonly ledger: Ledger;
  readonly witnesses: readonly WitnessEndpoint[];
  readonly log: Logger;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

interface Track {
  readonly endpoint: WitnessEndpoint;
  readonly cosigner: Cosigner;
  /** The size this witness last cosigned for us, as far as we know (undefined: ask the store). */
  known: number | undefined;
  /** The newest checkpoint not yet submitted. */
  next: StoredCheckpoint | null;
  running: Promise<void> | null;
}

/** Outcome of the last attempt per witness, for tests and status pages. */
export interface WitnessStatus {
  readonly name: string;
  readonly url: string;
  /** The size the witness last cosigned for this hub, as far as the hub knows. */
  readonly cosignedSize: number | undefined;
  readonly lastError: { readonly code: string; readonly size: number } | null;
}

function unavailable(w: WitnessEndpoint, message: string, status?: number): LatchkeyError {
  return new LatchkeyError("WITNESS_UNAVAILABLE", `witness ${w.name}: ${message}`, {
    witness: w.name,
    ...(status === undefined ? {} : { status }),
  });
}

async function readLimited(res: Response, w: WitnessEndpoint): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > ADD_CHECKPOINT_MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new LatchkeyError("WITNESS_RESPONSE_MALFORMED", `witness ${w.name}: the answer is too large`, {
        witness: w.name,
      });
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export class WitnessSubmitter {
  readonly #tracks: Track[];
  readonly #ledger: Ledger;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #abort = new AbortController();
  readonly #errors = new Map<string, { code: string; size: number } | null>();
  #closed = false;

  constructor(opts: WitnessSubmitterOptions) {
    this.#ledger = opts.ledger;
    this.#log = opts.log;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    const names = new Set<string>();
    this.#tracks = opts.witnesses.map((endpoint) => {
      if (names.has(endpoint.name))
        throw new LatchkeyError("HUB_CONFIG_INVALID", `witness ${endpoint.name} is configured twice`);
      names.add(endpoint.name);
      return {
        endpoint,
        cosigner: cosignerOf(endpoint.name, endpoint.publicKey),
        known: undefined,
        next: null,
        running: null,
      };
    });
  }

  /**
   * Queues `cp` for every witness that has not cosigned it (or a later one). Never throws; the
   * promise settles when the witnesses are done with it (failures are logged, not rejected).
   */
  submit(cp: StoredCheckpoint): Promise<void> {
    if (this.#closed) return Promise.resolve();
    for (const t of this.#tracks) {
      if (t.known !== undefined && cp.size <= t.known) continue;
      if (t.next === null || cp.size > t.next.size) t.next = cp;
      this.kick(t);
    }
    return this.idle();
  }

  private kick(t: Track): void {
    if (t.running !== null || this.#closed) return;
    t.running = this.drain(t).finally(() => {
      t.running = null;
      // A checkpoint queued after the loop's last look but before this callback.
      if (t.next !== null) this.kick(t);
    });
  }

  private async drain(t: Track): Promise<void> {
    while (t.next !== null && !this.#closed) {
      const cp = t.next;
      t.next = null;
      if (t.known !== undefined && cp.size <= t.known) continue; // cosigned meanwhile
      try {
        await this.submitOne(t, cp);
        this.#errors.set(t.endpoint.name, null);
      } catch (e) {
        if (this.#closed) return;
        const code = isLatchkeyError(e) ? e.code : "LK_INTERNAL";
        this.#errors.set(t.endpoint.name, { code, size: cp.size });
        const fields = {
          witness: t.endpoint.name,
          url: t.endpoint.url,
          size: cp.size,
          code,
          status: isLatchkeyError(e) ? e.details?.status : undefined,
          message: (e as Error).message,
        };
        // These mean the witness remembers a history our ledger does not extend.
        if (code === "WITNESS_PROOF_INVALID" || code === "WITNESS_CONFLICT")
          this.#log.error(fields, "a witness refused the ledger's checkpoint: its history differs from ours");
        else
          this.#log.warn(fields, "a witness did not cosign the ledger's checkpoint; retrying with the next");
      }
    }
  }

  private async submitOne(t: Track, cp: StoredCheckpoint): Promise<void> {
    const w = t.endpoint;
    t.known ??= (await this.#ledger.latestCosignedSize([w.name])) ?? 0;
    let old = t.known;
    // One try, plus one after each 409 that names a size we have not tried (at most two).
    for (let attempt = 0; attempt < 3; attempt++) {
      if (old > cp.size) {
        const have = await this.#ledger.size();
        if (old > have) {
          // The witness cosigned more of this log than the ledger now holds: history was lost
          // (or the witness is lying). Ask again next time rather than skip every checkpoint.
          t.known = undefined;
          throw new LatchkeyError(
            "WITNESS_CONFLICT",
            `witness ${w.name} cosigned size ${old}, but the ledger has ${have} leaves (restored from an old backup?)`,
            { witness: w.name, size: old, status: 409 },
          );
        }
        this.#log.debug(
          { witness: w.name, witnessSize: old, size: cp.size },
          "the witness is ahead of this checkpoint",
        );
        return;
      }
      const proof =
        old === 0 || old === cp.size ? [] : (await this.#ledger.consistencyProof(old, cp.size)).hashes;
      const body = encodeAddCheckpointRequest({ oldSize: old, proof, checkpoint: cp.note });
      let res: Response;
      try {
        res = await fetch(`${w.url}/add-checkpoint`, {
          method: "POST",
          headers: { "content-type": "text/plain; charset=utf-8" },
          body,
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)]),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: unknown } }).cause?.code;
        throw unavailable(
          w,
          `cannot reach ${w.url} (${typeof cause === "string" ? cause : (e as Error).name})`,
        );
      }
      const answer = await readLimited(res, w);
      if (res.status === 200) {
        const mine = parseAddCheckpointResponse(answer).filter(
          (s) => s.name === t.cosigner.name && s.keyId === t.cosigner.keyId,
        );
        if (mine.length === 0) {
          throw new LatchkeyError(
            "WITNESS_RESPONSE_MALFORMED",
            `witness ${w.name} answered without a cosignature from its configured key`,
            { witness: w.name },
          );
        }
        for (const sig of mine) {
          try {
            await this.#ledger.addWitnessCosignature(cp.size, sig, t.cosigner);
          } catch (e) {
            if (!isLatchkeyError(e) || !e.code.startsWith("NOTE_")) throw e;
            throw new LatchkeyError(
              "WITNESS_RESPONSE_MALFORMED",
              `witness ${w.name}'s cosignature does not verify (${e.code})`,
              { witness: w.name },
            );
          }
        }
        t.known = cp.size;
        this.#log.debug({ witness: w.name, size: cp.size }, "a witness cosigned the ledger's checkpoint");
        return;
      }
      if (res.status === 409) {
        if (!(res.headers.get("content-type") ?? "").startsWith(TLOG_SIZE_CONTENT_TYPE)) {
          throw new LatchkeyError("WITNESS_RESPONSE_MALFORMED", `witness ${w.name}: a 409 without a size`, {
            witness: w.name,
          });
        }
        const size = parseTlogSize(answer);
        if (size === old) {
          // We sent the witness's own size and it still refused: same size, another root.
          throw new LatchkeyError(
            "WITNESS_CONFLICT",
            `witness ${w.name} cosigned another checkpoint at size ${size}: a fork of this ledger`,
            { witness: w.name, size, status: 409 },
          );
        }
        t.known = size;
        old = size;
        continue;
      }
      const status = res.status;
      const refused = (
        code:
          | "WITNESS_REQUEST_MALFORMED"
          | "WITNESS_LOG_SIGNATURE_INVALID"
          | "WITNESS_UNKNOWN_LOG"
          | "WITNESS_PROOF_INVALID",
        why: string,
      ) =>
        new LatchkeyError(code, `witness ${w.name} answered ${status}: ${why}`, { witness: w.name, status });
      if (status === 400) throw refused("WITNESS_REQUEST_MALFORMED", "it found the request malformed");
      if (status === 403)
        throw refused(
          "WITNESS_LOG_SIGNATURE_INVALID",
          "it does not have this hub's ledger key (check its --log)",
        );
      if (status === 404)
        throw refused("WITNESS_UNKNOWN_LOG", "it does not witness this ledger's origin (check its --log)");
      if (status === 422)
        throw refused(
          "WITNESS_PROOF_INVALID",
          `the ledger does not extend the checkpoint it cosigned at size ${old}`,
        );
      throw unavailable(w, `unexpected HTTP status ${status}`, status);
    }
    throw new LatchkeyError("WITNESS_CONFLICT", `witness ${w.name} kept answering 409`, {
      witness: w.name,
      status: 409,
    });
  }

  status(): WitnessStatus[] {
    return this.#tracks.map((t) => ({
      name: t.endpoint.name,
      url: t.endpoint.url,
      cosignedSize: t.known,
      lastError: this.#errors.get(t.endpoint.name) ?? null,
    }));
  }

  /** Resolves once nothing is queued or in flight (tests; shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.#tracks.flatMap((t) => (t.running === null ? [] : [t.running]));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Aborts requests in flight and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await this.idle();
  }
}
