/**
 * Witness cosignatures in an evidence bundle (docs/witness.md). A bundle's checkpoints carry the
 * hub's signature and any c2sp.org/tlog-cosignature `cosignature/v1` lines its witnesses returned.
 * Without pinned witnesses those lines are only reported. With pinned witnesses (`witnessKeys`):
 *
 *  - every checkpoint: a line with a pinned witness's name and key ID that does not verify is a
 *    forged or altered cosignature — `bad-signature` at that checkpoint;
 *  - the head (the checkpoint every event is proven in) must carry a valid cosignature from every
 *    pinned witness, or from `witnessThreshold` of them when given (k of n) — else `not-witnessed`.
 *
 * Why the head: a witness cosigns a checkpoint only if it extends every checkpoint it cosigned
 * before, so a witnessed head fixes the whole history up to it; the hub cannot later present
 * another history of that length without the witness refusing it (tlog-witness 409/422).
 */
import type { Ed25519 } from "../crypto/ed25519.js";
import { cosignerOf } from "../note/cosignature.js";
import { verifyWitnessCosignatures, type PinnedWitness } from "../witness/witness.js";

/** Which pinned witnesses cosigned one checkpoint of the bundle. */
export interface CheckpointWitnesses {
  readonly checkpointIndex: number;
  readonly size: number;
  /** Pinned witnesses whose cosignature verified, with the POSIX seconds they signed at. */
  readonly cosigned: readonly { readonly name: string; readonly timestamp: number }[];
  /** Pinned witnesses with no cosignature on this checkpoint. */
  readonly missing: readonly string[];
}

export interface WitnessCheckFailure {
  readonly element: string;
  readonly reason: "bad-signature" | "not-witnessed" | "malformed";
  readonly detail: string;
}

/**
 * Checks the pinned witnesses' cosignatures on `notes` (the bundle's checkpoints, oldest first,
 * the last being the head). `sizes[j]` is checkpoint j's tree size (already verified).
 */
export function checkBundleWitnesses(
  notes: readonly string[],
  sizes: readonly number[],
  witnesses: readonly PinnedWitness[],
  threshold: number | undefined,
  ed: Ed25519,
): { readonly facts: readonly CheckpointWitnesses[] } | { readonly failure: WitnessCheckFailure } {
  if (witnesses.length === 0) return { facts: [] };
  for (let i = 0; i < witnesses.length; i++) {
    try {
      cosignerOf(witnesses[i]!.name, witnesses[i]!.publicKey);
    } catch (e) {
      return { failure: { element: `witnessKeys[${i}]`, reason: "malformed", detail: (e as Error).message } };
    }
  }
  const needed = threshold ?? witnesses.length;
  if (!Number.isSafeInteger(needed) || needed < 1 || needed > witnesses.length) {
    return {
      failure: {
        element: "witnessThreshold",
        reason: "malformed",
        detail: `must be an integer from 1 to ${witnesses.length} (the number of pinned witnesses)`,
      },
    };
  }
  const facts: CheckpointWitnesses[] = [];
  for (let j = 0; j < notes.length; j++) {
    const r = verifyWitnessCosignatures(notes[j]!, witnesses, ed);
    const bad = r.witnesses.find((w) => w.status === "invalid");
    if (bad !== undefined) {
      return {
        failure: {
          element: `checkpoints[${j}]`,
          reason: "bad-signature",
          detail: `the cosignature by witness ${bad.name} does not verify: it was forged or altered`,
        },
      };
    }
    facts.push({
      checkpointIndex: j,
      size: sizes[j]!,
      cosigned: r.witnesses.flatMap((w) =>
        w.status === "cosigned" ? [{ name: w.name, timestamp: w.timestamp as number }] : [],
      ),
      missing: r.witnesses.filter((w) => w.status === "missing").map((w) => w.name),
    });
  }
  const head = facts[facts.length - 1]!;
  if (head.cosigned.length < needed) {
    return {
      failure: {
        element: `checkpoints[${head.checkpointIndex}]`,
        reason: "not-witnessed",
        detail: `the head checkpoint is cosigned by ${head.cosigned.length} of the pinned witnesses, ${needed} needed (missing: ${head.missing.join(", ")})`,
      },
    };
  }
  return { facts };
}
