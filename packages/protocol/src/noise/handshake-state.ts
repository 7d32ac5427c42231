/**
 * Noise HandshakeState (spec rev 34, section 5.3) for 25519 / ChaChaPoly|AESGCM / SHA256 and the
 * patterns in `patterns.ts`. This is the raw Noise engine: it accepts any payload in any message,
 * as the test vectors need. Applications use `SecureSession` (src/channel), which decides what a
 * handshake payload may carry (never a command in message 1).
 *
 * `readMessage` is transactional: when a message is refused (tampered, wrong key, truncated) the
 * state is exactly as before, so the genuine message can still be processed afterwards.
 */
import { ByteReader } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import type { CipherState } from "./cipher-state.js";
import { parsePatternName, type ResolvedPattern } from "./patterns.js";
import { SymmetricState } from "./symmetric-state.js";
import {
  DH_LEN,
  NOISE_MAX_MESSAGE,
  TAG_LEN,
  cipherByName,
  nobleX25519,
  platformRandomBytes,
  type CipherName,
  type X25519,
} from "./suite.js";

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface HandshakeConfig {
  /** "XX" | "IK" | "KK", optionally with psk modifiers ("IKpsk2"). */
  readonly pattern: string;
  readonly cipher: CipherName;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array;
  /** Our X25519 static secret key, when the pattern sends or pre-shares it. */
  readonly staticSecretKey?: Uint8Array;
  /** The peer's static public key, when the pattern pre-shares it (IK initiator, KK both). */
  readonly remoteStaticKey?: Uint8Array;
  /** Pre-shared keys (32 bytes each), one per psk token, in order. */
  readonly psks?: readonly Uint8Array[];
  /** A fixed ephemeral secret: ONLY for reproducing test vectors. */
  readonly fixedEphemeralSecretKey?: Uint8Array;
  readonly randomBytes?: (n: number) => Uint8Array;
  readonly x25519?: X25519;
}

/** Transport keys after Split(), already oriented for this side. */
export interface TransportKeys {
  readonly send: CipherState;
  readonly receive: CipherState;
  readonly handshakeHash: Uint8Array;
}

function checkKey(key: Uint8Array | undefined, field: string): void {
  if (key !== undefined && key.length !== DH_LEN) {
    throw new LatchkeyError("NOISE_CONFIG_INVALID", `${field} must be ${DH_LEN} bytes`, {
      field,
      length: key.length,
    });
  }
}

export class HandshakeState {
  readonly pattern: ResolvedPattern;
  readonly protocolName: string;
  readonly initiator: boolean;
  private ss: SymmetricState;
  private readonly s: KeyPair | null;
  private e: KeyPair | null = null;
  private rs: Uint8Array | null;
  private re: Uint8Array | null = null;
  private psks: readonly Uint8Array[];
  private pskIndex = 0;
  private messageIndex = 0;
  private readonly x: X25519;
  private readonly randomBytes: ((n: number) => Uint8Array) | undefined;
  private readonly fixedEphemeral: Uint8Array | undefined;

  constructor(config: HandshakeConfig) {
    this.pattern = parsePatternName(config.pattern);
    this.initiator = config.initiator;
    this.x = config.x25519 ?? nobleX25519;
    this.randomBytes = config.randomBytes;
    checkKey(config.staticSecretKey, "staticSecretKey");
    checkKey(config.remoteStaticKey, "remoteStaticKey");
    checkKey(config.fixedEphemeralSecretKey, "fixedEphemeralSecretKey");
    this.fixedEphemeral = config.fixedEphemeralSecretKey?.slice();
    this.s =
      config.staticSecretKey === undefined
        ? null
        : { secretKey: config.staticSecretKey.slice(), publicKey: this.x.publicKey(config.staticSecretKey) };
    this.rs = config.remoteStaticKey?.slice() ?? null;
    this.psks = (config.psks ?? []).map((p) => p.slice());
    if (this.psks.length !== this.pattern.pskCount || this.psks.some((p) => p.length !== 32)) {
      throw new LatchkeyError(
        "NOISE_CONFIG_INVALID",
        `pattern ${this.pattern.fullName} needs ${this.pattern.pskCount} psks of 32 bytes`,
        {
          given: this.psks.length,
        },
      );
    }

    const mine = this.initiator ? this.pattern.initiatorPre : this.pattern.responderPre;
    const theirs = this.initiator ? this.pattern.responderPre : this.pattern.initiatorPre;
    const sendsStatic = this.pattern.messages.some(
      (m, i) => (i % 2 === 0) === this.initiator && m.includes("s"),
    );
    if ((mine.length > 0 || sendsStatic) && this.s === null) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", `pattern ${this.pattern.name} needs our static key`);
    }
    if (theirs.length > 0 && this.rs === null) {
      throw new LatchkeyError(
        "NOISE_CONFIG_INVALID",
        `pattern ${this.pattern.name} needs the remote static key`,
      );
    }

    const cipher = cipherByName(config.cipher);
    this.protocolName = `Noise_${this.pattern.fullName}_25519_${cipher.name}_SHA256`;
    this.ss = SymmetricState.initialize(cipher, this.protocolName);
    this.ss.mixHash(config.prologue ?? new Uint8Array(0));
    // Pre-messages: the initiator's first, then the responder's (section 7.1).
    for (const _ of this.pattern.initiatorPre)
      this.ss.mixHash(this.initiator ? this.staticPublic() : this.remoteStatic());
    for (const _ of this.pattern.responderPre)
      this.ss.mixHash(this.initiator ? this.remoteStatic() : this.staticPublic());
  }

  /** True when it is our turn to write the next handshake message. */
  get isMyTurn(): boolean {
    return !this.isComplete && (this.messageIndex % 2 === 0) === this.initiator;
  }

  get isComplete(): boolean {
    return this.messageIndex >= this.pattern.messages.length;
  }

  /** Index (0-based) of the next handshake message to be written or read. */
  get nextMessageIndex(): number {
    return this.messageIndex;
  }

  /** The peer's static public key once known (pre-shared or received). */
  get remoteStaticKey(): Uint8Array | null {
    return this.rs?.slice() ?? null;
  }

  /** The peer's ephemeral public key once received. */
  get remoteEphemeralKey(): Uint8Array | null {
    return this.re?.slice() ?? null;
  }

  get handshakeHash(): Uint8Array {
    return this.ss.handshakeHash;
  }

  /** A deep copy, so a caller can try a message and keep the old state if it is refused later. */
  fork(): HandshakeState {
    const copy = Object.create(HandshakeState.prototype) as HandshakeState;
    Object.assign(copy, this);
    copy.ss = this.ss.clone();
    return copy;
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    if (!this.isMyTurn) {
      throw new LatchkeyError("NOISE_WRONG_STATE", "not our turn to write a handshake message", {
        messageIndex: this.messageIndex,
      });
    }
    const tokens = this.pattern.messages[this.messageIndex] ?? [];
    const parts: Uint8Array[] = [];
    for (const token of tokens) {
      switch (token) {
        case "e": {
          this.e = this.newEphemeral();
          parts.push(this.e.publicKey);
          this.ss.mixHash(this.e.publicKey);
          if (this.pattern.pskCount > 0) this.ss.mixKey(this.e.publicKey);
          break;
        }
        case "s":
          parts.push(this.ss.encryptAndHash(this.staticPublic()));
          break;
        case "psk":
          this.mixPsk(this.ss);
          break;
        case "ee":
        case "es":
        case "se":
        case "ss":
          this.ss.mixKey(this.dh(token, this.rs, this.re));
          break;
      }
    }
    parts.push(this.ss.encryptAndHash(payload));
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > NOISE_MAX_MESSAGE) {
      throw new LatchkeyError("NOISE_PAYLOAD_TOO_LARGE", `handshake message would be ${total} bytes`, {
        length: total,
        max: NOISE_MAX_MESSAGE,
      });
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    this.messageIndex++;
    return out;
  }

  /** Returns the payload; on any refusal throws a LatchkeyError and leaves the state unchanged. */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.isComplete || this.isMyTurn) {
      throw new LatchkeyError("NOISE_WRONG_STATE", "not expecting a handshake message now", {
        messageIndex: this.messageIndex,
      });
    }
    if (message.length > NOISE_MAX_MESSAGE) {
      throw new LatchkeyError("NOISE_FRAME_TOO_LARGE", `handshake message is ${message.length} bytes`, {
        length: message.length,
        max: NOISE_MAX_MESSAGE,
      });
    }
    const what = `handshake message ${this.messageIndex + 1}`;
    const r = new ByteReader(message, what);
    const ss = this.ss.clone();
    let re = this.re;
    let rs = this.rs;
    let pskIndex = this.pskIndex;
    for (const token of this.pattern.messages[this.messageIndex] ?? []) {
      switch (token) {
        case "e":
          re = r.bytesFixed(DH_LEN, "ephemeral key");
          ss.mixHash(re);
          if (this.pattern.pskCount > 0) ss.mixKey(re);
          break;
        case "s":
          rs = ss.decryptAndHash(
            r.bytesFixed(ss.hasKey() ? DH_LEN + TAG_LEN : DH_LEN, "static key"),
            "static key",
          );
          break;
        case "psk": {
          const psk = this.psks[pskIndex++];
          if (psk === undefined) throw new LatchkeyError("NOISE_CONFIG_INVALID", "missing psk");
          ss.mixKeyAndHash(psk);
          break;
        }
        case "ee":
        case "es":
        case "se":
        case "ss":
          ss.mixKey(this.dh(token, rs, re));
          break;
      }
    }
    const payload = ss.decryptAndHash(r.bytesFixed(r.remaining, "payload"), "payload");
    // Commit only now: every check has passed.
    this.ss = ss;
    this.re = re;
    this.rs = rs;
    this.pskIndex = pskIndex;
    this.messageIndex++;
    return payload;
  }

  /** Split() once the last message is written or read; erases the handshake secrets. */
  split(): TransportKeys {
    if (!this.isComplete) throw new LatchkeyError("NOISE_WRONG_STATE", "handshake is not complete");
    const [c1, c2] = this.ss.split();
    const handshakeHash = this.ss.handshakeHash;
    this.ss.destroy();
    this.e?.secretKey.fill(0);
    return this.initiator
      ? { send: c1, receive: c2, handshakeHash }
      : { send: c2, receive: c1, handshakeHash };
  }

  private newEphemeral(): KeyPair {
    if (
      this.fixedEphemeral === undefined &&
      this.randomBytes === undefined &&
      this.x.generateKeyPair !== undefined
    ) {
      return this.x.generateKeyPair();
    }
    const secretKey = this.fixedEphemeral ?? (this.randomBytes ?? platformRandomBytes)(DH_LEN);
    return { secretKey, publicKey: this.x.publicKey(secretKey) };
  }

  private mixPsk(ss: SymmetricState): void {
    const psk = this.psks[this.pskIndex++];
    if (psk === undefined) throw new LatchkeyError("NOISE_CONFIG_INVALID", "missing psk");
    ss.mixKeyAndHash(psk);
  }

  /** DH for a token; "es" means the initiator's e with the responder's s, whoever computes it. */
  private dh(token: "ee" | "es" | "se" | "ss", rs: Uint8Array | null, re: Uint8Array | null): Uint8Array {
    const initiatorSide = token[0] === "e" ? "e" : "s";
    const responderSide = token[1] === "e" ? "e" : "s";
    const localKind = this.initiator ? initiatorSide : responderSide;
    const remoteKind = this.initiator ? responderSide : initiatorSide;
    const local = localKind === "e" ? this.e : this.s;
    const remote = remoteKind === "e" ? re : rs;
    if (local === null || remote === null) {
      throw new LatchkeyError("NOISE_WRONG_STATE", `DH ${token} before its keys are known`);
    }
    return this.x.sharedSecret(local.secretKey, remote);
  }

  private staticPublic(): Uint8Array {
    if (this.s === null) throw new LatchkeyError("NOISE_CONFIG_INVALID", "static key missing");
    return this.s.publicKey;
  }

  private remoteStatic(): Uint8Array {
    if (this.rs === null) throw new LatchkeyError("NOISE_CONFIG_INVALID", "remote static key missing");
    return this.rs;
  }
}
