/**
 * Remembers the initiator ephemeral keys of first handshake messages (IK, KK) a responder has
 * accepted, so a captured message 1 replayed to the same responder process is refused outright.
 * Replaying message 1 could achieve nothing anyway (it carries only a hello, never a command, and
 * the attacker cannot finish the handshake without the ephemeral secret), but refusing it early
 * saves the responder's work and makes the attempt visible. Bounded: the oldest keys are forgotten.
 * Share one guard between all responder sessions that use the same static key.
 */
import { toHex } from "../encoding/bytes.js";

export class HandshakeReplayGuard {
  private readonly seen = new Set<string>();

  constructor(readonly capacity = 65536) {}

  has(ephemeralKey: Uint8Array): boolean {
    return this.seen.has(toHex(ephemeralKey));
  }

  remember(ephemeralKey: Uint8Array): void {
    const id = toHex(ephemeralKey);
    if (this.seen.has(id)) return;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      // Sets iterate in insertion order: the first entry is the oldest.
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
