/**
 * C2SP signed notes, exactly as specified by https://c2sp.org/signed-note (v1.0.0):
 *
 *   <text ending in "\n">
 *   "\n"
 *   "— " <key name> " " base64(key ID (4 bytes, big-endian) ‖ signature) "\n"   (one or more)
 *
 * - The note is UTF-8 with no control character below U+0020 other than newline.
 * - The text ends at the *last* blank line; it includes its final newline.
 * - Key names are non-empty, without Unicode spaces or "+".
 * - Ed25519 (signature type 0x01): key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4],
 *   signature = Ed25519 over the text.
 * - Verifier keys ("vkeys"): <name>+<hex key ID>+base64(type ‖ public key).
 * - Verifiers ignore signatures from unknown keys, reject the note when a known key's signature
 *   fails, and reject a note with no verified signature.
 *
 * Latchkey limits a note to 64 KiB and 100 signatures (the spec asks for at least 16).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { LatchkeyError } from "../errors/error.js";
import type { Ed25519 } from "../crypto/ed25519.js";
import { concatBytes, toHex } from "../encoding/bytes.js";
import { decodeBase64, encodeBase64 } from "./base64.js";

export const NOTE_MAX_BYTES = 65_536;
export const NOTE_MAX_SIGNATURES = 100;
/** Signature type bytes assigned by c2sp.org/signed-note. */
export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

const SIG_PREFIX = "\u2014 "; // em dash, space
const encoder = new TextEncoder();

/** One signature line, as found in a note (not yet verified). */
export interface NoteSignature {
  readonly name: string;
  /** The uint32 key ID (first four bytes of the decoded signature, big-endian). */
  readonly keyId: number;
  /** The signature bytes after the key ID. */
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Uint8Array;
}

function malformed(message: string, details?: Record<string, string | number | boolean>): LatchkeyError {
  return new LatchkeyError("NOTE_MALFORMED", message, details);
}

/** Go's unicode.IsSpace set (plus U+FEFF, which JavaScript's \s also matches). */
const SPACE = /[\s\u0085]/u;

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !SPACE.test(name) && !name.includes("+") && isWellFormed(name);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], as a uint32. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(encoder.encode(name), Uint8Array.of(0x0a, type), publicKey));
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0);
}

function keyIdBytes(keyId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, keyId);
  return b;
}

function toText(msg: Uint8Array | string): string {
  if (typeof msg === "string") {
    if (!isWellFormed(msg)) throw malformed("note is not valid UTF-8 (lone surrogate)");
    if (msg.length > NOTE_MAX_BYTES)
      throw new LatchkeyError("NOTE_TOO_LARGE", "note is too large", { max: NOTE_MAX_BYTES });
    return msg;
  }
  if (msg.length > NOTE_MAX_BYTES) {
    throw new LatchkeyError("NOTE_TOO_LARGE", `note is ${msg.length} bytes, at most ${NOTE_MAX_BYTES}`, {
      length: msg.length,
      max: NOTE_MAX_BYTES,
    });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(msg);
  } catch {
    throw malformed("note is not valid UTF-8");
  }
}

/** Parses a signed note without verifying anything. Throws NOTE_MALFORMED / NOTE_TOO_LARGE. */
export function parseNote(msg: Uint8Array | string): ParsedNote {
  const s = toText(msg);
  if (encoder.encode(s).length > NOTE_MAX_BYTES) {
    throw new LatchkeyError("NOTE_TOO_LARGE", "note is too large", { max: NOTE_MAX_BYTES });
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a)
      throw malformed(`note has control character 0x${c.toString(16)} at ${i}`, { at: i });
  }
  const split = s.lastIndexOf("\n\n");
  if (split < 0) throw malformed("note has no blank line before its signatures");
  const text = s.slice(0, split + 1);
  let sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith("\n"))
    throw malformed("note's signature block is empty or lacks a final newline");
  const signatures: NoteSignature[] = [];
  while (sigs.length > 0) {
    const nl = sigs.indexOf("\n");
    const line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (signatures.length >= NOTE_MAX_SIGNATURES) {
      throw new LatchkeyError("NOTE_TOO_LARGE", `note has more than ${NOTE_MAX_SIGNATURES} signatures`, {
        max: NOTE_MAX_SIGNATURES,
      });
    }
    if (!line.startsWith(SIG_PREFIX))
      throw malformed(`signature line ${signatures.length} does not start with "— "`, {
        line: signatures.length,
      });
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(" ");
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? "" : rest.slice(space + 1);
    const raw = decodeBase64(b64);
    if (!isValidKeyName(name) || b64 === "" || raw === null || raw.length < 5) {
      throw malformed(`signature line ${signatures.length} is malformed`, { line: signatures.length });
    }
    signatures.push({
      name,
      keyId: new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0),
      signature: raw.slice(4),
    });
  }
  return { text, signatures };
}

export function formatSignatureLine(sig: NoteSignature): string {
  return `${SIG_PREFIX}${sig.name} ${encodeBase64(concatBytes(keyIdBytes(sig.keyId), sig.signature))}\n`;
}

/** Serialises a note: text, blank line, signature lines. */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  checkText(text);
  if (signatures.length === 0) throw malformed("a signed note needs at least one signature");
  return text + "\n" + signatures.map(formatSignatureLine).join("");
}

function checkText(text: string): void {
  if (!text.endsWith("\n")) throw malformed("note text must end with a newline");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a)
      throw malformed(`note text has control character 0x${c.toString(16)} at ${i}`, { at: i });
  }
  if (!isWellFormed(text)) throw malformed("note text is not valid UTF-8 (lone surrogate)");
}

/** Signs `text` with every signer and returns the serialised note (plus any existing signatures). */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  checkText(text);
  const msg = encoder.encode(text);
  const sigs = [...existing];
  for (const s of signers) sigs.push({ name: s.name, keyId: s.keyId, signature: s.sign(msg) });
  return formatNote(text, sigs);
}

export interface OpenedNote extends ParsedNote {
  /** Signatures that verified under a known key. */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys we do not know (ignored, per spec). */
  readonly unverified: readonly NoteSignature[];
}

/**
 * Parses and verifies a note against known verifiers (matched by name AND key ID).
 * Throws NOTE_SIGNATURE_INVALID if a known key's signature fails, NOTE_UNVERIFIED if none verifies.
 */
export function openNote(msg: Uint8Array | string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const note = parseNote(msg);
  const bytes = encoder.encode(note.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of note.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (v === undefined) {
      unverified.push(sig);
      continue;
    }
    if (!v.verify(bytes, sig.signature)) {
      throw new LatchkeyError("NOTE_SIGNATURE_INVALID", `signature by ${sig.name} does not verify`, {
        name: sig.name,
        keyId: keyIdHex(sig.keyId),
      });
    }
    if (!verified.some((x) => x.name === sig.name && x.keyId === sig.keyId)) verified.push(sig);
  }
  if (verified.length === 0)
    throw new LatchkeyError("NOTE_UNVERIFIED", "note has no signature from a trusted key");
  return { ...note, verified, unverified };
}

export function keyIdHex(keyId: number): string {
  return toHex(keyIdBytes(keyId));
}

// --- Ed25519 keys ------------------------------------------------------------------------------

/** An Ed25519 note signer (type 0x01). The seed never leaves this closure. */
export function ed25519NoteSigner(
  name: string,
  seed: Uint8Array,
  ed: Ed25519,
): NoteSigner & { readonly publicKey: Uint8Array } {
  if (!isValidKeyName(name))
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "key name is empty or has a space or '+'");
  if (seed.length !== 32) throw new LatchkeyError("NOTE_KEY_MALFORMED", "Ed25519 seed must be 32 bytes");
  const publicKey = ed.publicKey(seed);
  return {
    name,
    publicKey,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, publicKey),
    sign: (message) => ed.sign(seed, message),
  };
}

export function ed25519NoteVerifier(name: string, publicKey: Uint8Array, ed: Ed25519): NoteVerifier {
  if (!isValidKeyName(name))
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "key name is empty or has a space or '+'");
  if (publicKey.length !== 32)
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "Ed25519 public key must be 32 bytes");
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, publicKey),
    verify: (message, signature) => signature.length === 64 && ed.verify(publicKey, message, signature),
  };
}

export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

/** Formats a vkey: <name>+<hex key ID>+base64(type ‖ public key). */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name))
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "key name is empty or has a space or '+'");
  return `${name}+${keyIdHex(noteKeyId(name, type, publicKey))}+${encodeBase64(concatBytes(Uint8Array.of(type), publicKey))}`;
}

/** Parses a vkey and checks its key ID. Ed25519 (0x01) and cosignature/v1 (0x04) keys are 32 bytes. */
export function parseVerifierKey(vkey: string): VerifierKey {
  const bad = (why: string) => new LatchkeyError("NOTE_KEY_MALFORMED", `verifier key: ${why}`);
  // Names cannot contain "+" but standard base64 can: cut at the first two only (as Go's
  // note.NewVerifier does).
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw bad("expected name+keyid+key");
  const name = vkey.slice(0, first);
  const hash = vkey.slice(first + 1, second);
  const b64 = vkey.slice(second + 1);
  if (!isValidKeyName(name)) throw bad("invalid key name");
  if (!/^[0-9a-f]{8}$/.test(hash)) throw bad("key ID is not 8 lower-case hex digits");
  const raw = decodeBase64(b64);
  if (raw === null || raw.length < 2) throw bad("key is not canonical base64");
  const type = raw[0] as number;
  const publicKey = raw.slice(1);
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1)
    throw bad(`unsupported signature type 0x${type.toString(16)}`);
  if (publicKey.length !== 32) throw bad("Ed25519 key must be 32 bytes");
  const keyId = noteKeyId(name, type, publicKey);
  if (keyIdHex(keyId) !== hash) throw bad("key ID does not match the key");
  return { name, keyId, type, publicKey };
}
