/**
 * C2SP transparency-log checkpoints, exactly as specified by https://c2sp.org/tlog-checkpoint
 * (v1.0.0): a signed note whose text is
 *
 *   <origin>\n                 non-empty; the log's identity (Latchkey: "<hub name>/ledger")
 *   <tree size>\n              ASCII decimal, no leading zeroes ("0" for the empty tree)
 *   <base64 root hash>\n       the RFC 6962 root of the first <tree size> leaves
 *   [<extension line>\n]*      optional, non-empty, opaque
 *
 * The log signs it with an ordinary note signature (Ed25519, type 0x01); witnesses and locks add
 * cosignatures (./cosignature.ts). Latchkey writes no extension lines but preserves any it reads.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { LatchkeyError } from "../errors/error.js";
import type { Ed25519 } from "../crypto/ed25519.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import {
  ed25519NoteVerifier,
  openNote,
  signNote,
  type NoteSigner,
  type NoteSignature,
} from "./signed-note.js";

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  /** 32-byte RFC 6962 root hash. */
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

function malformed(message: string): LatchkeyError {
  return new LatchkeyError("NOTE_CHECKPOINT_MALFORMED", `checkpoint: ${message}`);
}

/** The note text of a checkpoint. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes("\n"))
    throw malformed("origin must be one non-empty line");
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw malformed("tree size must be a non-negative integer");
  if (cp.rootHash.length !== 32) throw malformed("root hash must be 32 bytes");
  for (const e of cp.extensions)
    if (e.length === 0 || e.includes("\n")) throw malformed("extension lines must be non-empty single lines");
  return [cp.origin, String(cp.size), encodeBase64(cp.rootHash), ...cp.extensions]
    .map((l) => l + "\n")
    .join("");
}

/** Parses checkpoint note text (as returned by parseNote/openNote). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw malformed("text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw malformed(`needs at least 3 lines, has ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw malformed("origin is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw malformed("tree size is not a decimal number without leading zeroes");
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed("tree size is larger than 2^53 − 1");
  const rootHash = decodeBase64(rootText);
  if (rootHash === null || rootHash.length !== 32) throw malformed("root hash is not base64 of 32 bytes");
  for (const e of extensions) if (e.length === 0) throw malformed("extension line is empty");
  return { origin, size, rootHash, extensions };
}

export function signCheckpoint(
  cp: Checkpoint,
  signer: NoteSigner,
  existing: readonly NoteSignature[] = [],
): string {
  return signNote(formatCheckpoint(cp), [signer], existing);
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The exact signed text (what cosignatures are computed over). */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Verifies a checkpoint note signed by the log's Ed25519 key named `origin` (the log's key name
 * matches its origin, as tlog-checkpoint recommends), then parses its text. The origin line must
 * equal the expected origin.
 */
export function openCheckpoint(
  note: Uint8Array | string,
  origin: string,
  logPublicKey: Uint8Array,
  ed: Ed25519,
): OpenedCheckpoint {
  const opened = openNote(note, [ed25519NoteVerifier(origin, logPublicKey, ed)]);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) throw malformed("origin line does not match the log's origin");
  return { checkpoint, text: opened.text, signatures: opened.signatures };
}

/**
 * SHA-256 of a checkpoint's note text (UTF-8, signatures excluded): the value a lock signs into
 * its CheckpointAck journal event to say which checkpoint it saw.
 */
export function checkpointTextHash(text: string): Uint8Array {
  return sha256(new TextEncoder().encode(text));
}
