/**
 * The interactive Noise handshake patterns Latchkey uses (spec rev 34, section 7.5) and the psk
 * modifier (section 9). Patterns are data: the handshake engine walks their tokens.
 */
import { LatchkeyError } from "../errors/error.js";

export type PatternName = "XX" | "IK" | "KK";
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

export interface HandshakePattern {
  readonly name: PatternName;
  /** Pre-message tokens (only "s" here): what the initiator resp. responder already know. */
  readonly initiatorPre: readonly "s"[];
  readonly responderPre: readonly "s"[];
  /** Messages alternate initiator → responder → initiator … */
  readonly messages: readonly (readonly Token[])[];
}

export const PATTERNS: Readonly<Record<PatternName, HandshakePattern>> = {
  XX: {
    name: "XX",
    initiatorPre: [],
    responderPre: [],
    messages: [["e"], ["e", "ee", "s", "es"], ["s", "se"]],
  },
  IK: {
    name: "IK",
    initiatorPre: [],
    responderPre: ["s"],
    messages: [
      ["e", "es", "s", "ss"],
      ["e", "ee", "se"],
    ],
  },
  KK: {
    name: "KK",
    initiatorPre: ["s"],
    responderPre: ["s"],
    messages: [
      ["e", "es", "ss"],
      ["e", "ee", "se"],
    ],
  },
};

/** A pattern with psk modifiers applied, e.g. "IKpsk2" or "KKpsk0+psk2". */
export interface ResolvedPattern extends HandshakePattern {
  /** The pattern's part of the protocol name, e.g. "IKpsk2". */
  readonly fullName: string;
  readonly pskCount: number;
}

/** Applies psk modifiers: psk0 prepends to message 1, pskN appends to message N. */
export function resolvePattern(name: PatternName, pskPositions: readonly number[] = []): ResolvedPattern {
  const base = PATTERNS[name];
  const messages = base.messages.map((m) => [...m]);
  for (const pos of pskPositions) {
    if (!Number.isInteger(pos) || pos < 0 || pos > messages.length) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", `psk position ${pos} is outside pattern ${name}`, {
        position: pos,
      });
    }
    if (pos === 0) messages[0]?.unshift("psk");
    else messages[pos - 1]?.push("psk");
  }
  const suffix = pskPositions.length === 0 ? "" : pskPositions.map((p) => `psk${p}`).join("+");
  return { ...base, messages, fullName: `${name}${suffix}`, pskCount: pskPositions.length };
}

/** Parses a pattern name as it appears in a protocol name: "XX", "IKpsk2", "KKpsk0+psk2". */
export function parsePatternName(text: string): ResolvedPattern {
  const m = /^(XX|IK|KK)((?:psk\d)(?:\+psk\d)*)?$/.exec(text);
  if (m === null) throw new LatchkeyError("NOISE_CONFIG_INVALID", `unsupported handshake pattern ${text}`);
  const positions = m[2] === undefined ? [] : [...m[2].matchAll(/psk(\d)/g)].map((x) => Number(x[1]));
  return resolvePattern(m[1] as PatternName, positions);
}
