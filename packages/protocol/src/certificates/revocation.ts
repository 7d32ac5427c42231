/**
 * Signed revocation lists: the owner's statement "these certificate serials are revoked", with a
 * monotonic version so a lock never goes back to an older list (which would un-revoke keys).
 *
 * Canonical fixed layout (big-endian), v1:
 *
 *   tag length u8 (=27) ‖ "latchkey/revocation-list/v1"
 *   list version u64      strictly increases with every new list the owner signs
 *   issued at u64 ms
 *   count u32 (≤ 100 000) ‖ serials u64 each, strictly ascending
 *   signature 64          Ed25519 by the owner key over every byte before it
 */
import { nobleEd25519, type Ed25519 } from "../crypto/ed25519.js";
import { ByteReader, ByteWriter, equalBytes, fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";

export const REVOCATION_LIST_TAG = "latchkey/revocation-list/v1";
const TAG_BYTES = new TextEncoder().encode(REVOCATION_LIST_TAG);
export const MAX_REVOKED_SERIALS = 100_000;

export interface RevocationListFields {
  readonly listVersion: number;
  readonly issuedAt: number;
  /** Strictly ascending. */
  readonly serials: readonly bigint[];
}

export interface RevocationList extends RevocationListFields {
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** Not a type guard on purpose: Array.isArray would widen a readonly array to any[]. */
function isList(x: unknown): boolean {
  return Array.isArray(x);
}

function fieldsProblem(f: RevocationListFields): [string, string] | null {
  if (!Number.isSafeInteger(f.listVersion) || f.listVersion < 1)
    return ["listVersion", "must be a positive integer"];
  if (!Number.isSafeInteger(f.issuedAt) || f.issuedAt < 0) return ["issuedAt", "must be ms since the epoch"];
  if (!isList(f.serials) || f.serials.length > MAX_REVOKED_SERIALS)
    return ["serials", `must hold at most ${MAX_REVOKED_SERIALS} serials`];
  for (let i = 0; i < f.serials.length; i++) {
    const s = f.serials[i];
    if (typeof s !== "bigint" || s < 0n || s > 0xffffffffffffffffn) return [`serials[${i}]`, "must be a u64"];
    const prev = f.serials[i - 1];
    if (prev !== undefined && prev >= s) return [`serials[${i}]`, "must be strictly ascending"];
  }
  return null;
}

export function signRevocationList(
  fields: RevocationListFields,
  ownerSecretSeed: Uint8Array,
  ed: Ed25519 = nobleEd25519,
): Uint8Array {
  const sorted = { ...fields, serials: [...fields.serials].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
  const problem = fieldsProblem(sorted);
  if (problem !== null) {
    throw new LatchkeyError("CERT_INVALID_FIELDS", `revocation list: ${problem[0]} ${problem[1]}`, {
      field: problem[0],
    });
  }
  const w = new ByteWriter().u8(TAG_BYTES.length).bytes(TAG_BYTES);
  w.u64(sorted.listVersion).u64(sorted.issuedAt).u32(sorted.serials.length);
  for (const s of sorted.serials) w.u64(s);
  const body = w.finish();
  const out = new Uint8Array(body.length + 64);
  out.set(body);
  out.set(ed.sign(ownerSecretSeed, body), body.length);
  return out;
}

function malformed(why: string, field: string): never {
  throw new LatchkeyError("CERT_MALFORMED", `revocation list: ${why}`, { field });
}

/** Decodes without verifying the signature; CERT_MALFORMED or LK_DECODE_* only. */
export function decodeRevocationList(bytes: Uint8Array): RevocationList {
  const r = new ByteReader(bytes, "revocation list");
  const tagLength = r.u8("tag length");
  if (tagLength !== TAG_BYTES.length || !equalBytes(r.bytesFixed(tagLength, "tag"), TAG_BYTES))
    malformed("unknown tag or version", "tag");
  const listVersion = r.u64Number("listVersion");
  const issuedAt = r.u64Number("issuedAt");
  const count = r.u32("count");
  if (count > MAX_REVOKED_SERIALS) malformed(`count ${count} exceeds ${MAX_REVOKED_SERIALS}`, "count");
  // Check the declared size before allocating anything for it.
  if (r.remaining !== count * 8 + 64) malformed(`count ${count} does not match the length`, "count");
  const serials: bigint[] = [];
  for (let i = 0; i < count; i++) serials.push(r.u64(`serials[${i}]`));
  const signedLength = r.position;
  const signature = r.bytesFixed(64, "signature");
  r.end();
  const list = { listVersion, issuedAt, serials, signedBytes: bytes.slice(0, signedLength), signature };
  const problem = fieldsProblem(list);
  if (problem !== null) malformed(`${problem[0]} ${problem[1]}`, problem[0]);
  return list;
}

export function isRevoked(list: RevocationListFields, serial: bigint): boolean {
  let lo = 0;
  let hi = list.serials.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = list.serials[mid] ?? 0n;
    if (s === serial) return true;
    if (s < serial) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export type RevocationListRefusal = "malformed" | "bad-signature" | "stale-version";

export type RevocationListVerdict =
  | { readonly ok: true; readonly list: RevocationList }
  | { readonly ok: false; readonly reason: RevocationListRefusal };

/**
 * Verifies a list against the owner key and the version installed on this lock. A list older
 * than the installed one is refused ("stale-version"); the same version is accepted (a retry).
 */
export function verifyRevocationList(
  bytes: Uint8Array,
  o: { readonly ownerPublicKey: Uint8Array; readonly installedVersion: number; readonly ed25519?: Ed25519 },
): RevocationListVerdict {
  let list: RevocationList;
  try {
    list = decodeRevocationList(bytes);
  } catch (e) {
    if (e instanceof LatchkeyError) return { ok: false, reason: "malformed" };
    throw e;
  }
  if (!(o.ed25519 ?? nobleEd25519).verify(o.ownerPublicKey, list.signedBytes, list.signature))
    return { ok: false, reason: "bad-signature" };
  if (list.listVersion < o.installedVersion) return { ok: false, reason: "stale-version" };
  return { ok: true, list };
}

/** Serialisable state of a RevocationStore: the installed signed list, re-verified on load. */
export interface RevocationStoreState {
  readonly signedList: string | null;
}

/**
 * The lock's installed revocation list. `install` replaces it only with a valid, owner-signed list
 * that is not older; any refusal leaves it untouched.
 */
export class RevocationStore {
  private current: RevocationList | null = null;
  private currentBytes: Uint8Array | null = null;

  constructor(
    private readonly ownerPublicKey: Uint8Array,
    state?: RevocationStoreState,
    private readonly ed: Ed25519 = nobleEd25519,
  ) {
    if (state !== undefined && state.signedList !== null) {
      const verdict = this.install(fromHex(state.signedList));
      if (!verdict.ok) {
        throw new LatchkeyError("CERT_MALFORMED", `saved revocation list is invalid: ${verdict.reason}`, {
          reason: verdict.reason,
        });
      }
    }
  }

  /** 0 when no list was ever installed. */
  get version(): number {
    return this.current?.listVersion ?? 0;
  }

  get list(): RevocationList | null {
    return this.current;
  }

  get state(): RevocationStoreState {
    return { signedList: this.currentBytes === null ? null : toHex(this.currentBytes) };
  }

  install(bytes: Uint8Array): RevocationListVerdict {
    const verdict = verifyRevocationList(bytes, {
      ownerPublicKey: this.ownerPublicKey,
      installedVersion: this.version,
      ed25519: this.ed,
    });
    if (verdict.ok) {
      this.current = verdict.list;
      this.currentBytes = bytes.slice();
    }
    return verdict;
  }

  isRevoked(serial: bigint): boolean {
    return this.current !== null && isRevoked(this.current, serial);
  }
}
