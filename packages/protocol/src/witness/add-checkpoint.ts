/**
 * Wire codecs of the C2SP transparency-log witness protocol, https://c2sp.org/tlog-witness,
 * section "HTTP Interface" → "add-checkpoint". Pure and browser-safe; every decoder checks the
 * length before reading and accepts exactly one encoding.
 *
 * Request (POST <submission prefix>/add-checkpoint), each line ending in U+000A:
 *
 *   old <size>\n               ASCII decimal, no leading zeroes ("0" for zero)
 *   <base64 hash>\n            zero to 63 consistency-proof lines (RFC 6962 §2.1.2), none if old = 0
 *   \n                         an empty line
 *   <checkpoint>               a signed note (c2sp.org/tlog-checkpoint), any number of signatures
 *
 * Responses: 200 with one or more note signature lines ("— <name> <base64>\n", the witness's
 * cosignatures); 409 with a `text/x.tlog.size` body "<size>\n" (the size the witness last
 * cosigned); 400 / 403 / 404 / 422 without a defined body.
 */
import { LatchkeyError } from "../errors/error.js";
import { decodeBase64, encodeBase64 } from "../note/base64.js";
import { formatSignatureLine, NOTE_MAX_BYTES, parseNote, type NoteSignature } from "../note/signed-note.js";

/** tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
export const ADD_CHECKPOINT_MAX_PROOF_LINES = 63;
/** RFC 6962 SHA-256 tree: every proof hash is 32 bytes (44 base64 characters). */
const HASH_BYTES = 32;
const HASH_B64_CHARS = 44;
/** "old " + 16 digits (sizes are below 2^53) + "\n". */
const OLD_LINE_MAX = 4 + 16 + 1;
/** The largest well-formed request: old line, 63 proof lines, the empty line, a maximal note. */
export const ADD_CHECKPOINT_MAX_REQUEST_BYTES =
  OLD_LINE_MAX + ADD_CHECKPOINT_MAX_PROOF_LINES * (HASH_B64_CHARS + 1) + 1 + NOTE_MAX_BYTES;
/** A 200 answer: at most NOTE_MAX_SIGNATURES lines; ours are ~130 bytes, leave room for long names. */
export const ADD_CHECKPOINT_MAX_RESPONSE_BYTES = 16_384;
/** Media type of a 409 answer's body (tlog-witness, add-checkpoint). */
export const TLOG_SIZE_CONTENT_TYPE = "text/x.tlog.size";

/** One add-checkpoint request (tlog-witness, "add-checkpoint"). */
export interface AddCheckpointRequest {
  /** Size of the checkpoint the client believes the witness last cosigned (0 if none). */
  readonly oldSize: number;
  /** RFC 6962 §2.1.2 consistency proof from oldSize to the checkpoint's size; empty if oldSize is 0. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, exactly as the log signed it (signature lines included). */
  readonly checkpoint: string;
}

const SIZE_RE = /^(0|[1-9][0-9]{0,15})$/;
const encoder = new TextEncoder();

function malformed(message: string, details?: Record<string, number>): LatchkeyError {
  return new LatchkeyError("WITNESS_REQUEST_MALFORMED", `add-checkpoint: ${message}`, details);
}

function parseSize(text: string): number | null {
  if (!SIZE_RE.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function toText(body: Uint8Array | string, max: number, fail: (m: string) => LatchkeyError): string {
  if (typeof body === "string") {
    if (body.length > max || encoder.encode(body).length > max) throw fail(`body is over ${max} bytes`);
    return body;
  }
  if (body.length > max) throw fail(`body is ${body.length} bytes, over ${max}`);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw fail("body is not UTF-8");
  }
}

/** The request body (UTF-8 text). Throws WITNESS_REQUEST_MALFORMED for anything the spec forbids. */
export function encodeAddCheckpointRequest(req: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0)
    throw malformed("old size must be a non-negative integer");
  if (req.proof.length > ADD_CHECKPOINT_MAX_PROOF_LINES)
    throw malformed(`more than ${ADD_CHECKPOINT_MAX_PROOF_LINES} proof lines`, { lines: req.proof.length });
  if (req.oldSize === 0 && req.proof.length > 0) throw malformed("the proof must be empty when old is 0");
  for (const h of req.proof) if (h.length !== HASH_BYTES) throw malformed("a proof hash is not 32 bytes");
  // Validates the note (UTF-8, signature block, limits) so we never send what a witness must refuse.
  parseNoteOrFail(req.checkpoint);
  return `old ${req.oldSize}\n${req.proof.map((h) => encodeBase64(h) + "\n").join("")}\n${req.checkpoint}`;
}

function parseNoteOrFail(note: string): void {
  try {
    parseNote(note);
  } catch (e) {
    throw malformed(`the checkpoint is not a signed note (${(e as Error).message})`);
  }
}

/** Parses a request body. Throws WITNESS_REQUEST_MALFORMED (HTTP 400). */
export function parseAddCheckpointRequest(body: Uint8Array | string): AddCheckpointRequest {
  const text = toText(body, ADD_CHECKPOINT_MAX_REQUEST_BYTES, malformed);
  let at = text.indexOf("\n");
  if (at < 0 || at + 1 > OLD_LINE_MAX) throw malformed("the first line must be `old <size>`");
  const oldLine = text.slice(0, at);
  const oldSize = oldLine.startsWith("old ") ? parseSize(oldLine.slice(4)) : null;
  if (oldSize === null) throw malformed("the first line must be `old <size>` (decimal, no leading zeroes)");
  const proof: Uint8Array[] = [];
  for (let pos = at + 1; ; pos = at + 1) {
    at = text.indexOf("\n", pos);
    if (at < 0) throw malformed("no empty line before the checkpoint");
    if (at === pos) {
      const checkpoint = text.slice(at + 1);
      if (oldSize === 0 && proof.length > 0) throw malformed("the proof must be empty when old is 0");
      parseNoteOrFail(checkpoint);
      return { oldSize, proof, checkpoint };
    }
    if (proof.length === ADD_CHECKPOINT_MAX_PROOF_LINES)
      throw malformed(`more than ${ADD_CHECKPOINT_MAX_PROOF_LINES} proof lines`);
    const line = text.slice(pos, at);
    const hash = line.length === HASH_B64_CHARS ? decodeBase64(line) : null;
    if (hash?.length !== HASH_BYTES)
      throw malformed(`proof line ${proof.length} is not base64 of a 32-byte hash`, { line: proof.length });
    proof.push(hash);
  }
}

function badResponse(message: string): LatchkeyError {
  return new LatchkeyError("WITNESS_RESPONSE_MALFORMED", `witness answer: ${message}`);
}

/** A 200 answer's body: the cosignature lines. */
export function formatAddCheckpointResponse(signatures: readonly NoteSignature[]): string {
  if (signatures.length === 0) throw badResponse("needs at least one signature line");
  return signatures.map(formatSignatureLine).join("");
}

/**
 * Parses a 200 answer: one or more note signature lines (c2sp.org/signed-note syntax). Nothing is
 * verified here; the caller keeps only lines from the witness keys it trusts (tlog-witness: "The
 * client MUST ignore any cosignatures from unknown keys"). Throws WITNESS_RESPONSE_MALFORMED.
 */
export function parseAddCheckpointResponse(body: Uint8Array | string): NoteSignature[] {
  const text = toText(body, ADD_CHECKPOINT_MAX_RESPONSE_BYTES, badResponse);
  if (text.length === 0 || !text.endsWith("\n")) throw badResponse("no newline-terminated signature line");
  if (text.includes("\n\n")) throw badResponse("has an empty line");
  try {
    // The lines are exactly a note's signature block: reuse the one strict parser of it.
    // parseNote also enforces NOTE_MAX_SIGNATURES.
    return [...parseNote(`-\n\n${text}`).signatures];
  } catch (e) {
    throw badResponse(`not note signature lines (${(e as Error).message})`);
  }
}

/** A 409 answer's `text/x.tlog.size` body. */
export function formatTlogSize(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0) throw badResponse("size must be a non-negative integer");
  return `${size}\n`;
}

/** Parses a `text/x.tlog.size` body: a decimal size and a newline. Throws WITNESS_RESPONSE_MALFORMED. */
export function parseTlogSize(body: Uint8Array | string): number {
  const text = toText(body, 32, badResponse);
  const n = text.endsWith("\n") ? parseSize(text.slice(0, -1)) : null;
  if (n === null) throw badResponse("a text/x.tlog.size body must be a decimal size and a newline");
  return n;
}
