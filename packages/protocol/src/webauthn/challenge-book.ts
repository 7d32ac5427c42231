/**
 * The lock's single-use challenges for remote unlocks. A challenge is 32 random bytes valid for
 * `ttlMs` (60 s by default) from issue, on the lock's own clock. `check` never changes anything,
 * so a refused request leaves the book as it was; only `consume` after a fully verified request
 * spends the challenge. Spent and expired challenges are remembered (up to `capacity` entries,
 * oldest forgotten first) so refusals can say "reused" or "stale" rather than "foreign".
 * Challenges do not survive a reboot, by design: they are seconds-long.
 */
import { randomBytes as nobleRandomBytes } from "@noble/hashes/utils.js";
import { toHex } from "../encoding/bytes.js";

export const CHALLENGE_LENGTH = 32;
export const DEFAULT_CHALLENGE_TTL_MS = 60_000;

export type ChallengeStatus = "ok" | "stale-challenge" | "foreign-challenge" | "reused-challenge";

export interface IssuedChallenge {
  readonly challenge: Uint8Array;
  readonly expiresAt: number;
  readonly validForMs: number;
}

export interface ChallengeBookOptions {
  readonly now: () => number;
  readonly randomBytes?: (n: number) => Uint8Array;
  readonly ttlMs?: number;
  /** How many challenges (outstanding, spent or expired) are remembered. */
  readonly capacity?: number;
}

interface Entry {
  readonly expiresAt: number;
  used: boolean;
}

export class ChallengeBook {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  readonly ttlMs: number;
  private readonly capacity: number;

  constructor(options: ChallengeBookOptions) {
    this.now = options.now;
    this.random = options.randomBytes ?? nobleRandomBytes;
    this.ttlMs = options.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
    this.capacity = options.capacity ?? 64;
  }

  issue(): IssuedChallenge {
    const challenge = this.random(CHALLENGE_LENGTH);
    const expiresAt = this.now() + this.ttlMs;
    while (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(toHex(challenge), { expiresAt, used: false });
    return { challenge, expiresAt, validForMs: this.ttlMs };
  }

  /** Whether the challenge may be used now. Changes nothing. */
  check(challenge: Uint8Array): ChallengeStatus {
    if (challenge.length !== CHALLENGE_LENGTH) return "foreign-challenge";
    const entry = this.entries.get(toHex(challenge));
    if (entry === undefined) return "foreign-challenge";
    if (entry.used) return "reused-challenge";
    if (this.now() >= entry.expiresAt) return "stale-challenge";
    return "ok";
  }

  /** Spends the challenge if it is usable; returns what `check` said. */
  consume(challenge: Uint8Array): ChallengeStatus {
    const status = this.check(challenge);
    if (status === "ok") {
      const entry = this.entries.get(toHex(challenge));
      if (entry !== undefined) entry.used = true;
    }
    return status;
  }

  /** Number of challenges that could still be used. */
  get outstanding(): number {
    const now = this.now();
    let n = 0;
    for (const e of this.entries.values()) if (!e.used && now < e.expiresAt) n++;
    return n;
  }

  /** A JSON-safe picture of the book (for tests and diagnostics; challenges are not secrets). */
  snapshot(): { challenge: string; expiresAt: number; used: boolean }[] {
    return [...this.entries].map(([challenge, e]) => ({ challenge, expiresAt: e.expiresAt, used: e.used }));
  }
}
