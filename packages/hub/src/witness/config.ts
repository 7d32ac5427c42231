/**
 * The two ways a witness and a hub name each other on a command line, both built on C2SP
 * verifier keys (c2sp.org/signed-note "Verifier keys": `<name>+<hex key id>+base64(type ‖ key)`):
 *
 *  - the witness's `--log`: the hub's ledger key, type 0x01 (Ed25519), whose name is the log's
 *    origin — exactly the `verifierKey` the hub shows (`GET /api/v1/ledger/checkpoint`, and
 *    printed by `latchkey start`). `ORIGIN=KEY` with KEY as 64 hex digits or base64 also works.
 *  - the hub's `--witness`: `URL=VKEY`, the witness's submission prefix and its cosignature/v1
 *    verifier key (type 0x04), as `latchkey witness init` prints it.
 */
import {
  fromHex,
  decodeBase64,
  isLatchkeyError,
  LatchkeyError,
  parseVerifierKey,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  type VerifierKey,
} from "@latchkey/protocol";
import type { ErrorCode } from "@latchkey/protocol";
import { WITNESS_NAME_RE } from "./key.js";

/** A witness the hub submits its checkpoints to. */
export interface WitnessEndpoint {
  /** Submission prefix (tlog-witness "HTTP Interface"); the hub posts to `<url>/add-checkpoint`. */
  readonly url: string;
  /** The witness's cosignature/v1 key name. */
  readonly name: string;
  /** Its 32-byte Ed25519 cosigning key. */
  readonly publicKey: Uint8Array;
}

function tryVkey(text: string): VerifierKey | null {
  try {
    return parseVerifierKey(text);
  } catch (e) {
    if (isLatchkeyError(e)) return null;
    throw e;
  }
}

/** `--log VKEY` or `--log ORIGIN=KEY` → the log's origin and Ed25519 key. Throws `code`. */
export function parseLogKey(
  text: string,
  code: ErrorCode = "WITNESS_CONFIG_INVALID",
): { origin: string; publicKey: Uint8Array } {
  const bad = (why: string) => new LatchkeyError(code, `--log ${text.slice(0, 120)}: ${why}`);
  const whole = tryVkey(text);
  if (whole !== null) {
    if (whole.type !== SIG_TYPE_ED25519) throw bad("is not a log (Ed25519, type 0x01) verifier key");
    return { origin: whole.name, publicKey: whole.publicKey };
  }
  const eq = text.indexOf("=");
  if (eq < 0) throw bad("expected the hub's ledger verifier key (origin+keyid+key) or ORIGIN=KEY");
  const origin = text.slice(0, eq);
  const keyText = text.slice(eq + 1);
  if (!WITNESS_NAME_RE.test(origin))
    throw bad("the origin must be printable characters without spaces or '+'");
  const vkey = tryVkey(keyText);
  let publicKey: Uint8Array | null;
  if (vkey !== null) {
    if (vkey.type !== SIG_TYPE_ED25519 || vkey.name !== origin)
      throw bad("the verifier key is not an Ed25519 key named after the origin");
    publicKey = vkey.publicKey;
  } else if (/^[0-9a-f]{64}$/i.test(keyText)) publicKey = fromHex(keyText.toLowerCase());
  else publicKey = decodeBase64(keyText);
  if (publicKey?.length !== 32) throw bad("KEY must be a verifier key, 64 hex digits or base64 of 32 bytes");
  return { origin, publicKey };
}

/** `--witness URL=VKEY` → a witness endpoint. Throws `code` (HUB_CONFIG_INVALID for the hub). */
export function parseWitnessEndpoint(text: string, code: ErrorCode = "HUB_CONFIG_INVALID"): WitnessEndpoint {
  // The URL may itself hold '=' (a query string) and a vkey's name may too: take the first
  // split whose left side is an http(s) URL and right side a cosignature/v1 verifier key.
  for (let eq = text.indexOf("="); eq >= 0; eq = text.indexOf("=", eq + 1)) {
    const vkey = tryVkey(text.slice(eq + 1));
    if (vkey === null) continue;
    let url: URL;
    try {
      url = new URL(text.slice(0, eq));
    } catch {
      continue;
    }
    if (vkey.type !== SIG_TYPE_COSIGNATURE_V1) {
      throw new LatchkeyError(code, `--witness: ${vkey.name}'s key is not a cosignature/v1 (type 0x04) key`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new LatchkeyError(code, "--witness: the witness URL must be http:// or https://");
    // Credentials in a URL end up in logs and error messages; witnesses need none (tlog-witness:
    // no authentication beyond the checkpoint's signature).
    if (url.username !== "" || url.password !== "")
      throw new LatchkeyError(code, "--witness: the witness URL must not contain a user name or password");
    if (url.search !== "" || url.hash !== "")
      throw new LatchkeyError(code, "--witness: the witness URL must not have a query or fragment");
    return { url: url.href.replace(/\/+$/, ""), name: vkey.name, publicKey: vkey.publicKey };
  }
  throw new LatchkeyError(
    code,
    "--witness must be URL=VKEY: the witness's URL and the verifier key `latchkey witness init` printed",
  );
}
