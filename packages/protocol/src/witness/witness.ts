/**
 * What a witness decides, and what a verifier checks of its cosignatures. Pure and browser-safe;
 * the Node witness (packages/hub/src/witness/) adds persistence and HTTP around `checkAddCheckpoint`.
 *
 * c2sp.org/tlog-witness, "add-checkpoint" — the witness, for each log (identified by its origin
 * line) keeps only the latest checkpoint it cosigned (size and root hash) and, in this order:
 *   1. unknown origin                                  → 404 Not Found
 *   2. no signature verifies with the configured key   → 403 Forbidden (unknown keys are ignored)
 *   3. old size > checkpoint size                      → 400 Bad Request
 *   4. old size ≠ the size it last cosigned (0 if none) → 409 Conflict, body: that size
 *   5. old size = checkpoint size but another root     → 409 Conflict
 *   6. the RFC 6962 §2.1.2 consistency proof from old size fails → 422 Unprocessable Entity
 *   7. otherwise it MUST persist the new checkpoint, then answer 200 with its cosignature(s).
 * Steps 4–7 must be atomic per log (else two racing requests could roll the state back): the
 * caller serialises them and persists `next` before answering.
 */
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import type { Ed25519 } from "../crypto/ed25519.js";
import { equalBytes } from "../encoding/bytes.js";
import { sha256MerkleHasher, type MerkleHasher } from "../merkle/hasher.js";
import { verifyConsistency } from "../merkle/verify.js";
import { parseCheckpoint, type Checkpoint } from "../note/checkpoint.js";
import { cosignerOf, verifyCosignature } from "../note/cosignature.js";
import { ed25519NoteVerifier, openNote, parseNote } from "../note/signed-note.js";
import type { AddCheckpointRequest } from "./add-checkpoint.js";

/** tlog-witness: "the latest checkpoint it observed and verified" for one log. */
export interface WitnessLogState {
  readonly size: number;
  /** 32-byte RFC 6962 root hash at `size`. */
  readonly rootHash: Uint8Array;
}

/** A checkpoint the witness may cosign, once `next` is durably stored. */
export interface AcceptedCheckpoint {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  /** The checkpoint's note text (signatures excluded): what cosignature/v1 signs. */
  readonly text: string;
  readonly next: WitnessLogState;
}

export interface CheckAddCheckpointOptions {
  /** Log origin → the log's Ed25519 note key (type 0x01, key name = origin), from configuration. */
  readonly logs: ReadonlyMap<string, Uint8Array>;
  /** The latest checkpoint this witness cosigned for an origin, if any. */
  readonly stored: (origin: string) => WitnessLogState | undefined;
  readonly ed: Ed25519;
  readonly hasher?: MerkleHasher;
}

function conflict(message: string, size: number, fork: boolean): LatchkeyError {
  return new LatchkeyError("WITNESS_CONFLICT", message, { size, fork });
}

/**
 * Steps 1–6 above. Returns the checkpoint to cosign and the state to persist, or throws a
 * LatchkeyError whose `status` is the HTTP status to answer: WITNESS_UNKNOWN_LOG (404),
 * WITNESS_LOG_SIGNATURE_INVALID (403), WITNESS_REQUEST_MALFORMED (400), WITNESS_CONFLICT (409,
 * details.size = the size to put in the text/x.tlog.size body) or WITNESS_PROOF_INVALID (422).
 */
export function checkAddCheckpoint(
  req: AddCheckpointRequest,
  opts: CheckAddCheckpointOptions,
): AcceptedCheckpoint {
  const hasher = opts.hasher ?? sha256MerkleHasher;
  let cp: Checkpoint;
  let text: string;
  try {
    text = parseNote(req.checkpoint).text;
    cp = parseCheckpoint(text);
  } catch (e) {
    throw new LatchkeyError(
      "WITNESS_REQUEST_MALFORMED",
      `add-checkpoint: not a checkpoint (${(e as Error).message})`,
    );
  }
  const key = opts.logs.get(cp.origin);
  if (key === undefined)
    throw new LatchkeyError("WITNESS_UNKNOWN_LOG", "this witness does not witness that log's origin");
  try {
    // openNote ignores signatures by unknown keys and fails if the known key's does not verify.
    openNote(req.checkpoint, [ed25519NoteVerifier(cp.origin, key, opts.ed)]);
  } catch (e) {
    throw new LatchkeyError(
      "WITNESS_LOG_SIGNATURE_INVALID",
      `no signature on the checkpoint verifies with the log's key (${isLatchkeyError(e) ? e.code : "error"})`,
    );
  }
  if (req.oldSize > cp.size) {
    throw new LatchkeyError(
      "WITNESS_REQUEST_MALFORMED",
      `add-checkpoint: old size ${req.oldSize} is above the checkpoint's size ${cp.size}`,
      { oldSize: req.oldSize, size: cp.size },
    );
  }
  const prev = opts.stored(cp.origin);
  const prevSize = prev?.size ?? 0;
  if (req.oldSize !== prevSize)
    throw conflict(`the witness last cosigned size ${prevSize}, not ${req.oldSize}`, prevSize, false);
  const badProof = (why: string) =>
    new LatchkeyError("WITNESS_PROOF_INVALID", `consistency proof ${req.oldSize} → ${cp.size}: ${why}`, {
      oldSize: req.oldSize,
      size: cp.size,
    });
  if (req.oldSize === cp.size) {
    if (prev !== undefined && !equalBytes(prev.rootHash, cp.rootHash))
      throw conflict(`size ${cp.size} was cosigned with another root hash: a fork`, prevSize, true);
    if (req.proof.length > 0) throw badProof("must be empty between equal sizes");
    if (cp.size === 0 && !equalBytes(cp.rootHash, hasher.emptyRoot))
      throw badProof("the empty tree's root is SHA-256 of nothing");
  } else if (req.oldSize > 0 && prev !== undefined) {
    try {
      verifyConsistency(hasher, req.oldSize, cp.size, req.proof, prev.rootHash, cp.rootHash);
    } catch (e) {
      throw badProof(isLatchkeyError(e) ? e.message : "does not verify");
    }
  }
  return { origin: cp.origin, checkpoint: cp, text, next: { size: cp.size, rootHash: cp.rootHash } };
}

/** A witness a verifier trusts: its cosignature/v1 key name and Ed25519 public key. */
export interface PinnedWitness {
  readonly name: string;
  readonly publicKey: Uint8Array;
}

export interface WitnessCosignatureStatus {
  readonly name: string;
  readonly publicKey: Uint8Array;
  /**
   * cosigned: a cosignature/v1 line from this key verifies over the checkpoint text;
   * missing: no line carries this witness's name and key ID;
   * invalid: a line with its name and key ID does not verify (a forged or altered cosignature).
   */
  readonly status: "cosigned" | "missing" | "invalid";
  /** POSIX seconds the witness signed at (cosigned only). */
  readonly timestamp?: number;
}

export interface WitnessCosignatures {
  /** The checkpoint's note text (signatures excluded). */
  readonly text: string;
  /** One entry per pinned witness, in the order given. */
  readonly witnesses: readonly WitnessCosignatureStatus[];
  /** Names of the pinned witnesses that cosigned. */
  readonly cosigned: readonly string[];
}

/**
 * Which pinned witnesses cosigned a checkpoint note (c2sp.org/tlog-cosignature, cosignature/v1).
 * Lines whose name and key ID match no pinned witness are ignored, as the spec requires. Does not
 * check the log's own signature (openCheckpoint does). Throws NOTE_* only if the note does not
 * parse or a pinned key is malformed.
 */
export function verifyWitnessCosignatures(
  checkpointNote: string | Uint8Array,
  witnesses: readonly PinnedWitness[],
  ed: Ed25519,
): WitnessCosignatures {
  const note = parseNote(checkpointNote);
  const out: WitnessCosignatureStatus[] = witnesses.map((w) => {
    const cosigner = cosignerOf(w.name, w.publicKey);
    const lines = note.signatures.filter((s) => s.name === cosigner.name && s.keyId === cosigner.keyId);
    if (lines.length === 0) return { name: w.name, publicKey: w.publicKey, status: "missing" };
    let timestamp: number | undefined;
    for (const line of lines) {
      try {
        const c = verifyCosignature(note.text, line, cosigner, ed);
        timestamp ??= c.timestamp;
      } catch {
        // signed-note: a known key's failing signature makes the note's claim for it void.
        return { name: w.name, publicKey: w.publicKey, status: "invalid" };
      }
    }
    return { name: w.name, publicKey: w.publicKey, status: "cosigned", timestamp: timestamp as number };
  });
  return {
    text: note.text,
    witnesses: out,
    cosigned: out.filter((w) => w.status === "cosigned").map((w) => w.name),
  };
}
