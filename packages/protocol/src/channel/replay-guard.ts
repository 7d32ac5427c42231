/**
 * Replay protection for the first handshake message of IK and KK. That message is encrypted and
 * authenticated by the static keys, but Noise cannot stop a captured copy from being replayed
 * (section 7.7: weak replay protection). The initiator therefore puts a strictly increasing
 * handshake counter into its hello, and the responder accepts a first message only when its
 * counter is above the highest it has accepted from that initiator, remembering the new highest
 * *before* it answers. Kept in durable storage (a lock does), this refuses every replayed first
 * message forever — across restarts, with no capacity limit.
 */

export interface HandshakeFreshness {
  /** Whether a first message with this (authenticated) counter may be answered. */
  isFresh(counter: number): boolean;
  /**
   * Remembers `counter` as the highest accepted. Called once the message passed every check and
   * before the reply leaves; a durable implementation must have stored it when this returns (and
   * throw if it could not, which refuses the message).
   */
  accept(counter: number): void;
}

/** The highest accepted counter in RAM: for tests and responders that never restart. */
export class MemoryHandshakeFreshness implements HandshakeFreshness {
  #highest: number;

  constructor(highest = 0) {
    this.#highest = highest;
  }

  get highest(): number {
    return this.#highest;
  }

  isFresh(counter: number): boolean {
    return counter > this.#highest;
  }

  accept(counter: number): void {
    if (counter > this.#highest) this.#highest = counter;
  }
}

let lastClockCounter = 0;

/**
 * A counter for initiators that keep none of their own (tools, tests): the wall clock in ms, and
 * at least one more than the last value this process handed out. A hub keeps a per-lock counter
 * in its database instead (see the sync engine), so a restart or a clock set back cannot reuse one.
 */
export function clockHandshakeCounter(now: number = Date.now()): number {
  lastClockCounter = Math.max(Math.floor(now), lastClockCounter + 1);
  return lastClockCounter;
}
