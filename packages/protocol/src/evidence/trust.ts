/**
 * What a verifier pins: the site owner's key, the hub's ledger key (with its origin) and, reserved
 * for witness checking, witness keys. They come from a *trust file* (format "latchkey-trust",
 * version 1, docs/evidence-format.md "Pinning and the trust file"), written by `latchkey keys`
 * and registered with an insurer before anything happens, or from full keys given one by one
 * (`--owner-key`, `--ledger-key`). Pure and browser-safe: the offline page parses the same file.
 *
 * Keys are always full 32-byte Ed25519 keys, in hex (64 digits) or canonical base64. A
 * fingerprint is refused: it is 8 bytes, for comparing by eye, and pinning it would let anyone
 * who finds a key with the same short hash pass.
 */
import { equalBytes, fromHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { decodeBase64, encodeBase64 } from "../note/base64.js";
import type { PinnedWitness } from "../witness/witness.js";
import { canonicalJson } from "./canonical-json.js";

export const TRUST_FORMAT = "latchkey-trust";
export const TRUST_VERSION = 1;
/** A trust file is small; anything larger is refused before parsing. */
export const TRUST_MAX_BYTES = 64 * 1024;
const MAX_ENTRIES = 64;

export interface PinnedLedger {
  /** The checkpoint origin the key signs for; null when pinned by key alone (`--ledger-key`). */
  readonly origin: string | null;
  readonly publicKey: Uint8Array;
}

/** The keys a verifier pins. Empty lists pin nothing. */
export interface EvidenceTrust {
  /** Label from the trust file ("Home"), for people only. */
  readonly site: string | null;
  readonly owners: readonly Uint8Array[];
  readonly ledgers: readonly PinnedLedger[];
  /** Reserved for witness cosignature checking (passed on as `witnessKeys`). */
  readonly witnesses: readonly PinnedWitness[];
}

export const NO_TRUST: EvidenceTrust = { site: null, owners: [], ledgers: [], witnesses: [] };

function invalid(field: string, why: string): LatchkeyError {
  return new LatchkeyError("EVIDENCE_TRUST_INVALID", `${field}: ${why}`, { field });
}

/**
 * A full Ed25519 public key from hex (64 digits) or canonical base64 (44 characters). Throws
 * EVIDENCE_TRUST_INVALID naming `field` otherwise, and says so when it looks like a fingerprint.
 */
export function parsePinnedKey(text: string, field: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return fromHex(t.toLowerCase());
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) {
    const key = decodeBase64(t);
    if (key !== null && key.length === 32) return key;
    throw invalid(field, "is not canonical base64");
  }
  if (/^[0-9a-fA-F]{4}( ?[0-9a-fA-F]{4}){3}$/.test(t))
    throw invalid(
      field,
      "is a fingerprint: compare fingerprints by eye, but pin the full key (64 hex digits or base64)",
    );
  throw invalid(field, "must be a 32-byte public key: 64 hex digits or 44 characters of base64");
}

type Json = Record<string, unknown>;

function object(v: unknown, field: string, required: readonly string[], optional: readonly string[]): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid(field, "must be an object");
  const o = v as Json;
  for (const k of Object.keys(o))
    if (!required.includes(k) && !optional.includes(k))
      throw invalid(`${field === "$" ? "" : `${field}.`}${k}`, "is not a known field");
  for (const k of required)
    if (!(k in o)) throw invalid(`${field === "$" ? "" : `${field}.`}${k}`, "is missing");
  return o;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(field, "must be an array");
  if (v.length > MAX_ENTRIES) throw invalid(field, `must have at most ${MAX_ENTRIES} entries`);
  return v;
}

const hasControl = (s: string): boolean =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

function name(v: unknown, field: string, max: number): string {
  // Printable, no line breaks: names are shown to people and matched exactly.
  if (typeof v !== "string" || v.length === 0 || v.length > max || hasControl(v))
    throw invalid(field, `must be a string of 1–${max} printable characters`);
  return v;
}

function key(v: unknown, field: string): Uint8Array {
  if (typeof v !== "string") throw invalid(field, "must be a string (hex or base64)");
  return parsePinnedKey(v, field);
}

/** Parses a trust file (UTF-8 JSON; see the module comment). Throws only EVIDENCE_TRUST_INVALID. */
export function parseTrustFile(file: Uint8Array | string): EvidenceTrust {
  let text: string;
  if (typeof file === "string") text = file;
  else {
    if (file.length > TRUST_MAX_BYTES) throw invalid("file", `is larger than ${TRUST_MAX_BYTES} bytes`);
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(file);
    } catch {
      throw invalid("file", "is not UTF-8 text");
    }
  }
  if (text.length > TRUST_MAX_BYTES) throw invalid("file", `is larger than ${TRUST_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("file", "is not JSON");
  }
  const o = object(value, "$", ["format", "version", "owners", "ledgers"], ["site", "witnesses"]);
  if (o.format !== TRUST_FORMAT) throw invalid("format", `must be "${TRUST_FORMAT}"`);
  if (o.version !== TRUST_VERSION) throw invalid("version", `must be ${TRUST_VERSION}`);
  const owners = list(o.owners, "owners").map((e, i) => {
    const f = `owners[${i}]`;
    return key(object(e, f, ["publicKey"], []).publicKey, `${f}.publicKey`);
  });
  const ledgers = list(o.ledgers, "ledgers").map((e, i) => {
    const f = `ledgers[${i}]`;
    const l = object(e, f, ["origin", "publicKey"], []);
    return { origin: name(l.origin, `${f}.origin`, 255), publicKey: key(l.publicKey, `${f}.publicKey`) };
  });
  const witnesses = list(o.witnesses, "witnesses").map((e, i) => {
    const f = `witnesses[${i}]`;
    const w = object(e, f, ["name", "publicKey"], []);
    return { name: name(w.name, `${f}.name`, 255), publicKey: key(w.publicKey, `${f}.publicKey`) };
  });
  if (owners.length === 0 && ledgers.length === 0)
    throw invalid("owners", "a trust file must pin at least one owner or ledger key");
  return {
    site: o.site === undefined ? null : name(o.site, "site", 128),
    owners,
    ledgers,
    witnesses,
  };
}

/** The trust file's text (canonical JSON: stable bytes for the key card's QR code). */
export function formatTrustFile(t: EvidenceTrust): string {
  return canonicalJson({
    format: TRUST_FORMAT,
    version: TRUST_VERSION,
    ...(t.site === null ? {} : { site: t.site }),
    owners: t.owners.map((k) => ({ publicKey: encodeBase64(k) })),
    ledgers: t.ledgers.map((l) => {
      if (l.origin === null) throw invalid("ledgers", "a trust file pins a ledger key with its origin");
      return { origin: l.origin, publicKey: encodeBase64(l.publicKey) };
    }),
    witnesses: t.witnesses.map((w) => ({ name: w.name, publicKey: encodeBase64(w.publicKey) })),
  });
}

/** Both sets of pins together (a trust file plus keys given one by one), without repeats. */
export function mergeTrust(a: EvidenceTrust, b: EvidenceTrust): EvidenceTrust {
  const owners = [...a.owners];
  for (const k of b.owners) if (!owners.some((o) => equalBytes(o, k))) owners.push(k);
  return {
    site: a.site ?? b.site,
    owners,
    ledgers: [...a.ledgers, ...b.ledgers],
    witnesses: [...a.witnesses, ...b.witnesses],
  };
}
