/**
 * The evidence bundle file (format "latchkey-evidence", version 1): types, the strict parser and
 * the canonical serialiser. Layout and rules: docs/evidence-format.md.
 *
 * The parser checks, in order: UTF-8 → JSON → the format marker and version → the bytes are the
 * canonical serialisation (canonical-json.ts) → every field's presence, type and range. It throws
 * only LatchkeyError: EVIDENCE_NOT_A_BUNDLE, EVIDENCE_UNSUPPORTED_VERSION, EVIDENCE_MALFORMED,
 * EVIDENCE_NON_CANONICAL, each naming the element (`details.element`).
 */
import { fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { decodeBase64, encodeBase64 } from "../note/base64.js";
import type { EpochMs } from "../units.js";
import {
  EVIDENCE_FORMAT,
  EVIDENCE_LIMITS,
  EVIDENCE_VERSION,
  type BundleEvent,
  type BundleLock,
  type EvidenceBundle,
  type UnsealedEvidenceBundle,
} from "./bundle-format.js";
import { scanEvidenceBundle } from "./bundle-scan.js";
import { canonicalJson, firstDifference } from "./canonical-json.js";

export {
  EVIDENCE_FORMAT,
  EVIDENCE_LIMITS,
  EVIDENCE_SEAL_TAG,
  EVIDENCE_VERSION,
  HEARTBEAT_MAX_GAP_MS,
  type BundleEvent,
  type BundleLock,
  type EvidenceBundle,
  type UnsealedEvidenceBundle,
} from "./bundle-format.js";

// ---------------------------------------------------------------- serialising

const b64 = encodeBase64;

function eventJson(e: BundleEvent): Record<string, unknown> {
  const proof: string[] = [];
  for (let at = 0; at < e.proof.length; at += 32) proof.push(b64(e.proof.subarray(at, at + 32)));
  return { hubTimeMs: e.hubTimeMs, leafIndex: e.leafIndex, proof, record: b64(e.record) };
}

/** The bundle as a JSON value (without the seal when `seal` is absent). */
export function bundleToJson(
  b: UnsealedEvidenceBundle & { readonly seal?: Uint8Array },
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    format: b.format,
    version: b.version,
    generatedAt: b.generatedAt,
    window: { from: b.window.from, to: b.window.to },
    owner: { publicKey: b64(b.owner.publicKey) },
    ledger: { origin: b.ledger.origin, publicKey: b64(b.ledger.publicKey) },
    checkpoints: [...b.checkpoints],
    consistency: b.consistency.map((p) => p.map(b64)),
    locks: b.locks.map((l) => ({
      lockId: l.lockId,
      publicKey: b64(l.publicKey),
      commissioning: b64(l.commissioning),
      events: l.events.map(eventJson),
      missing: l.missing.map(([a, z]) => [a, z]),
    })),
  };
  if (b.seal !== undefined) json.seal = b64(b.seal);
  return json;
}

/** The canonical file bytes of a sealed bundle. */
export function encodeEvidenceBundle(b: EvidenceBundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundleToJson(b)));
}

/** The canonical bytes the seal's hash covers: the bundle without its "seal" member. */
export function unsealedBundleBytes(b: UnsealedEvidenceBundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundleToJson(b)));
}

// ---------------------------------------------------------------- parsing

function malformed(element: string, why: string): LatchkeyError {
  return new LatchkeyError("EVIDENCE_MALFORMED", `${element}: ${why}`, { element });
}

type Json = Record<string, unknown>;

function object(v: unknown, path: string, keys: readonly string[]): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw malformed(path, "must be an object");
  const o = v as Json;
  for (const k of Object.keys(o))
    if (!keys.includes(k)) throw malformed(`${path}.${k}`, "is not a known field");
  for (const k of keys) if (!(k in o)) throw malformed(`${path}.${k}`, "is missing");
  return o;
}

function array(v: unknown, path: string, max: number, min = 0): unknown[] {
  if (!Array.isArray(v)) throw malformed(path, "must be an array");
  if (v.length < min || v.length > max) throw malformed(path, `must have ${min}–${max} entries`);
  return v;
}

function int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
    throw malformed(path, `must be an integer ${min}–${max}`);
  return v;
}

function string(v: unknown, path: string, max: number): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max)
    throw malformed(path, `must be a string of 1–${max} characters`);
  return v;
}

function bytes(v: unknown, path: string, length?: number, max = 1 << 20): Uint8Array {
  if (typeof v !== "string" || v.length > ((max + 2) / 3) * 4 + 4) throw malformed(path, "must be base64");
  const out = decodeBase64(v);
  if (out === null) throw malformed(path, "is not canonical base64");
  if (length !== undefined && out.length !== length) throw malformed(path, `must be ${length} bytes`);
  return out;
}

function hashes(v: unknown, path: string): Uint8Array[] {
  return array(v, path, EVIDENCE_LIMITS.proofHashes).map((h, i) => bytes(h, `${path}[${i}]`, 32));
}

/** 32-byte hashes one after another (BundleEvent.proof). */
export function packHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}

function parseEvent(v: unknown, path: string): BundleEvent {
  const o = object(v, path, ["hubTimeMs", "leafIndex", "proof", "record"]);
  return {
    hubTimeMs: int(o.hubTimeMs, `${path}.hubTimeMs`) as EpochMs,
    leafIndex: int(o.leafIndex, `${path}.leafIndex`),
    proof: packHashes(hashes(o.proof, `${path}.proof`)),
    record: bytes(o.record, `${path}.record`, undefined, 0xffff),
  };
}

function parseLock(v: unknown, path: string): BundleLock {
  const o = object(v, path, ["commissioning", "events", "lockId", "missing", "publicKey"]);
  const lockId = string(o.lockId, `${path}.lockId`, 32);
  if (!/^[0-9a-f]{32}$/.test(lockId)) throw malformed(`${path}.lockId`, "must be 32 lower-case hex digits");
  return {
    lockId: toHex(fromHex(lockId)),
    publicKey: bytes(o.publicKey, `${path}.publicKey`, 32),
    commissioning: bytes(o.commissioning, `${path}.commissioning`, undefined, 4096),
    events: array(o.events, `${path}.events`, EVIDENCE_LIMITS.eventsPerLock, 1).map((e, i) =>
      parseEvent(e, `${path}.events[${i}]`),
    ),
    missing: parseMissing(o.missing, `${path}.missing`),
  };
}

function parseMissing(v: unknown, path: string): [number, number][] {
  let after = 0;
  return array(v, path, EVIDENCE_LIMITS.checkpoints).map((r, i) => {
    const pair = array(r, `${path}[${i}]`, 2, 2);
    const first = int(pair[0], `${path}[${i}][0]`, after + 1);
    const last = int(pair[1], `${path}[${i}][1]`, first);
    after = last + 1;
    return [first, last];
  });
}

const FORMAT_MARKER = `"format":"${EVIDENCE_FORMAT}"`;

/** Whether damaged bytes still look like an evidence bundle (the CLI's exit 1 rather than 2). */
function looksLikeBundle(text: string): boolean {
  return text.startsWith("{") && text.includes(FORMAT_MARKER);
}

/** Parses a bundle file strictly (see the module comment). Never throws anything but LatchkeyError. */
export function parseEvidenceBundle(file: Uint8Array): EvidenceBundle {
  // A canonical bundle is read in one pass over its bytes; anything else takes the general path,
  // which finds and names what is wrong.
  return scanEvidenceBundle(file) ?? parseEvidenceBundleGeneral(file);
}

/** The general parser: JSON.parse, the canonical-form check, then the schema. Exported for tests. */
export function parseEvidenceBundleGeneral(file: Uint8Array): EvidenceBundle {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(file);
  } catch {
    const ascii = new TextDecoder("latin1").decode(file.subarray(0, 4096));
    if (looksLikeBundle(ascii)) throw malformed("file", "is not valid UTF-8");
    throw new LatchkeyError("EVIDENCE_NOT_A_BUNDLE", "file is not text (not valid UTF-8)", {
      element: "file",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (looksLikeBundle(text)) throw malformed("file", `is not valid JSON (${(e as Error).message})`);
    throw new LatchkeyError("EVIDENCE_NOT_A_BUNDLE", "file is not JSON", { element: "file" });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LatchkeyError("EVIDENCE_NOT_A_BUNDLE", "file is not a JSON object", { element: "file" });
  }
  const top = value as Json;
  if (top.format !== EVIDENCE_FORMAT) {
    if (looksLikeBundle(text)) throw malformed("format", `must be "${EVIDENCE_FORMAT}"`);
    throw new LatchkeyError("EVIDENCE_NOT_A_BUNDLE", `file is not marked "${EVIDENCE_FORMAT}"`, {
      element: "format",
    });
  }
  if (top.version !== EVIDENCE_VERSION) {
    throw new LatchkeyError(
      "EVIDENCE_UNSUPPORTED_VERSION",
      `version: ${JSON.stringify(top.version) ?? "missing"} is not a supported version (1)`,
      { element: "version" },
    );
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch (e) {
    if (e instanceof LatchkeyError) throw e;
    throw malformed("file", "holds a value that has no canonical form");
  }
  if (canonical !== text) {
    const at = firstDifference(new TextEncoder().encode(canonical), file);
    throw new LatchkeyError(
      "EVIDENCE_NON_CANONICAL",
      `file: bytes differ from the canonical serialisation at byte ${at}`,
      { element: "file", byte: at },
    );
  }
  const o = object(top, "$", [
    "checkpoints",
    "consistency",
    "format",
    "generatedAt",
    "ledger",
    "locks",
    "owner",
    "seal",
    "version",
    "window",
  ]);
  const window = object(o.window, "window", ["from", "to"]);
  const owner = object(o.owner, "owner", ["publicKey"]);
  const ledger = object(o.ledger, "ledger", ["origin", "publicKey"]);
  const checkpoints = array(o.checkpoints, "checkpoints", EVIDENCE_LIMITS.checkpoints, 1).map((c, i) =>
    string(c, `checkpoints[${i}]`, 65_536),
  );
  const consistency = array(o.consistency, "consistency", EVIDENCE_LIMITS.checkpoints).map((p, i) =>
    hashes(p, `consistency[${i}]`),
  );
  if (consistency.length !== checkpoints.length - 1) {
    throw malformed("consistency", `must have one proof per pair of checkpoints (${checkpoints.length - 1})`);
  }
  const from = int(window.from, "window.from") as EpochMs;
  const to = int(window.to, "window.to") as EpochMs;
  if (to < from) throw malformed("window", "ends before it starts");
  return {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    generatedAt: int(o.generatedAt, "generatedAt") as EpochMs,
    window: { from, to },
    owner: { publicKey: bytes(owner.publicKey, "owner.publicKey", 32) },
    ledger: {
      origin: string(ledger.origin, "ledger.origin", 255),
      publicKey: bytes(ledger.publicKey, "ledger.publicKey", 32),
    },
    checkpoints,
    consistency,
    locks: array(o.locks, "locks", EVIDENCE_LIMITS.locks, 1).map((l, i) => parseLock(l, `locks[${i}]`)),
    seal: bytes(o.seal, "seal", 64),
  };
}
