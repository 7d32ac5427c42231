// Cacophony test vectors (Noise rev 34) for the patterns and suites Latchkey implements:
// XX, IK, KK and their psk variants with 25519 / ChaChaPoly|AESGCM / SHA256.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { HandshakeState } from "./handshake-state.js";
import type { CipherState } from "./cipher-state.js";
import type { CipherName } from "./suite.js";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

// packages/protocol/src/noise → /work/shared (shared/ sits beside the repo clone).
const file = new URL("../../../../../shared/vectors/noise/cacophony.txt", import.meta.url);
const all = (JSON.parse(readFileSync(file, "utf8")) as { vectors: Vector[] }).vectors;
const SELECT = /^Noise_(XX|IK|KK)(psk\d(\+psk\d)*)?_25519_(ChaChaPoly|AESGCM)_SHA256$/;
const selected = all.filter((v) => SELECT.test(v.protocol_name));

const opt = (hex: string | undefined): Uint8Array | undefined =>
  hex === undefined ? undefined : fromHex(hex);

function runVector(v: Vector): void {
  const m = SELECT.exec(v.protocol_name);
  if (m === null) throw new Error("unselected vector");
  const pattern = `${m[1]}${m[2] ?? ""}`;
  const cipher = m[4] as CipherName;
  const init = new HandshakeState({
    pattern,
    cipher,
    initiator: true,
    prologue: fromHex(v.init_prologue),
    staticSecretKey: opt(v.init_static),
    remoteStaticKey: opt(v.init_remote_static),
    psks: (v.init_psks ?? []).map(fromHex),
    fixedEphemeralSecretKey: fromHex(v.init_ephemeral),
  });
  const resp = new HandshakeState({
    pattern,
    cipher,
    initiator: false,
    prologue: fromHex(v.resp_prologue),
    staticSecretKey: opt(v.resp_static),
    remoteStaticKey: opt(v.resp_remote_static),
    psks: (v.resp_psks ?? []).map(fromHex),
    fixedEphemeralSecretKey: fromHex(v.resp_ephemeral),
  });
  expect(init.protocolName).toBe(v.protocol_name);

  let i = 0;
  for (; !init.isComplete; i++) {
    const msg = v.messages[i];
    if (msg === undefined) throw new Error("vector ends inside the handshake");
    const [writer, reader] = i % 2 === 0 ? [init, resp] : [resp, init];
    const ct = writer.writeMessage(fromHex(msg.payload));
    expect(toHex(ct), `${v.protocol_name} message ${i}`).toBe(msg.ciphertext);
    expect(toHex(reader.readMessage(ct))).toBe(msg.payload);
  }
  expect(resp.isComplete).toBe(true);
  const ik = init.split();
  const rk = resp.split();
  expect(toHex(ik.handshakeHash)).toBe(v.handshake_hash);
  expect(toHex(rk.handshakeHash)).toBe(v.handshake_hash);
  // Transport messages keep alternating, starting with whoever did not send the last handshake message.
  for (; i < v.messages.length; i++) {
    const msg = v.messages[i];
    if (msg === undefined) break;
    const [send, receive]: [CipherState, CipherState] =
      i % 2 === 0 ? [ik.send, rk.receive] : [rk.send, ik.receive];
    const ct = send.encryptWithAd(new Uint8Array(0), fromHex(msg.payload));
    expect(toHex(ct), `${v.protocol_name} transport message ${i}`).toBe(msg.ciphertext);
    expect(toHex(receive.decryptWithAd(new Uint8Array(0), ct) ?? new Uint8Array(0))).toBe(msg.payload);
  }
}

describe("Noise cacophony vectors", () => {
  it("covers XX, IK and KK (plain and psk) with ChaChaPoly and AESGCM", () => {
    const names = selected.map((v) => v.protocol_name);
    for (const p of ["XX", "IK", "KK"])
      for (const c of ["ChaChaPoly", "AESGCM"]) expect(names).toContain(`Noise_${p}_25519_${c}_SHA256`);
  });

  it("reproduces every selected vector byte for byte", () => {
    let passed = 0;
    const failures: string[] = [];
    for (const v of selected) {
      try {
        runVector(v);
        passed++;
      } catch (e) {
        failures.push(`${v.protocol_name}: ${(e as Error).message}`);
      }
    }
    console.log(
      `noise vectors: ${selected.length} run, ${passed} passed (${selected.map((v) => v.protocol_name.replace(/^Noise_|_SHA256$/g, "")).join(", ")})`,
    );
    expect(failures).toEqual([]);
    expect(passed).toBe(selected.length);
  });
});
