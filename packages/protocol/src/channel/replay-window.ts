/**
 * Sliding-window replay protection over explicit frame counters (the RFC 6479 / IPsec idea): the
 * highest counter accepted so far and a bitmap of the `size` counters at and below it. A counter
 * is fresh when it is above the highest, or inside the window and not yet marked. `check` never
 * changes anything; `accept` is called only after the frame authenticated, so forged frames cannot
 * move the window.
 */
import { LatchkeyError } from "../errors/error.js";

export type ReplayVerdict = "fresh" | "replayed" | "too-old";

export class ReplayWindow {
  private highest = -1;
  private readonly bits: Uint32Array;

  constructor(readonly size = 1024) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0 || size > 1 << 20) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", "replay window must be a multiple of 32 in 32..2^20", {
        size,
      });
    }
    this.bits = new Uint32Array(size / 32);
  }

  /** The highest counter accepted so far (-1 before the first). */
  get highestAccepted(): number {
    return this.highest;
  }

  /** The lowest counter that can still be accepted if unseen. */
  get lowestAcceptable(): number {
    return Math.max(0, this.highest - this.size + 1);
  }

  check(counter: number): ReplayVerdict {
    if (counter > this.highest) return "fresh";
    if (counter <= this.highest - this.size) return "too-old";
    return this.isMarked(counter) ? "replayed" : "fresh";
  }

  /** Throws NOISE_FRAME_REPLAYED / NOISE_FRAME_TOO_OLD unless the counter is fresh. */
  assertFresh(counter: number): void {
    const verdict = this.check(counter);
    if (verdict === "replayed") {
      throw new LatchkeyError("NOISE_FRAME_REPLAYED", `frame counter ${counter} was already accepted`, {
        counter,
      });
    }
    if (verdict === "too-old") {
      throw new LatchkeyError(
        "NOISE_FRAME_TOO_OLD",
        `frame counter ${counter} is behind the replay window (lowest ${this.lowestAcceptable})`,
        { counter, lowest: this.lowestAcceptable },
      );
    }
  }

  /** Marks a fresh counter as seen, sliding the window forward when it is the new highest. */
  accept(counter: number): void {
    if (this.check(counter) !== "fresh")
      throw new LatchkeyError("LK_INTERNAL", "accepting a counter that is not fresh");
    if (counter > this.highest) {
      const advance = counter - this.highest;
      if (advance >= this.size) this.bits.fill(0);
      else for (let c = this.highest + 1; c <= counter; c++) this.clear(c);
      this.highest = counter;
    }
    const slot = counter % this.size;
    this.bits[slot >>> 5] = (this.bits[slot >>> 5] ?? 0) | (1 << (slot & 31));
  }

  private isMarked(counter: number): boolean {
    const slot = counter % this.size;
    return ((this.bits[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
  }

  private clear(counter: number): void {
    const slot = counter % this.size;
    this.bits[slot >>> 5] = (this.bits[slot >>> 5] ?? 0) & ~(1 << (slot & 31));
  }
}
