/**
 * An in-memory pair of frame transports for tests, demos and benchmarks. Delivery is explicit and
 * deterministic: frames wait in a queue until `deliver()` runs, and a seeded link can drop,
 * duplicate and reorder them like a lossy radio. Every frame sent is also recorded in `captured`
 * (an eavesdropper's tap) so attack tests can replay or tamper with real traffic.
 */
import type { FrameTransport } from "./transport.js";

export interface LinkConditions {
  /** Probability that a frame is dropped (0..1). */
  readonly loss?: number;
  /** Probability that a frame is delivered twice (0..1). */
  readonly duplicate?: number;
  /** Frames are shuffled within windows of this many frames (0 or 1 = in order). */
  readonly reorderWindow?: number;
  /** PRNG seed, so a failing run can be repeated. */
  readonly seed?: number;
}

export interface CapturedFrame {
  readonly from: "a" | "b";
  readonly bytes: Uint8Array;
}

/** mulberry32: a tiny seeded PRNG (not for secrets; it only decides loss and order). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class MemoryEndpoint implements FrameTransport {
  frameHandler: ((frame: Uint8Array) => void) | null = null;
  closeHandler: ((error?: Error) => void) | null = null;
  closed = false;

  constructor(
    private readonly link: MemoryLink,
    private readonly side: "a" | "b",
  ) {}

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.link.enqueue(this.side, frame.slice());
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
  }

  close(): void {
    this.link.requestClose();
  }
}

export class MemoryLink {
  readonly a: FrameTransport;
  readonly b: FrameTransport;
  readonly captured: CapturedFrame[] = [];
  private readonly ends: Record<"a" | "b", MemoryEndpoint>;
  private queue: { to: "a" | "b"; bytes: Uint8Array }[] = [];
  private readonly random: () => number;
  private closing = false;

  constructor(readonly conditions: LinkConditions = {}) {
    this.random = prng(conditions.seed ?? 1);
    const a = new MemoryEndpoint(this, "a");
    const b = new MemoryEndpoint(this, "b");
    this.ends = { a, b };
    this.a = a;
    this.b = b;
  }

  /** Frames waiting for `deliver()`. */
  get pending(): number {
    return this.queue.length;
  }

  enqueue(from: "a" | "b", bytes: Uint8Array): void {
    if (this.closing) return;
    this.captured.push({ from, bytes });
    const to = from === "a" ? "b" : "a";
    if (this.random() < (this.conditions.loss ?? 0)) return;
    this.queue.push({ to, bytes });
    if (this.random() < (this.conditions.duplicate ?? 0)) this.queue.push({ to, bytes });
  }

  /**
   * Delivers queued frames (and the frames their handlers send in turn) until the link is quiet
   * or `maxFrames` were delivered; returns how many were delivered.
   */
  deliver(maxFrames = 100_000): number {
    let delivered = 0;
    while (this.queue.length > 0 && delivered < maxFrames) {
      const batch = this.shuffle(this.queue);
      this.queue = [];
      for (const f of batch) {
        const end = this.ends[f.to];
        if (end.closed) continue;
        delivered++;
        end.frameHandler?.(f.bytes);
      }
    }
    if (this.closing && this.queue.length === 0) this.closeBoth();
    return delivered;
  }

  /** Like a stream's end(): frames already sent are still delivered, then both ends close. */
  requestClose(): void {
    if (this.queue.length === 0) this.closeBoth();
    else this.closing = true;
  }

  closeBoth(): void {
    this.closing = true;
    for (const end of [this.ends.a, this.ends.b]) {
      if (end.closed) continue;
      end.closed = true;
      end.closeHandler?.();
    }
    this.queue = [];
  }

  private shuffle<T>(items: T[]): T[] {
    const w = this.conditions.reorderWindow ?? 0;
    if (w <= 1) return items;
    const out = items.slice();
    for (let start = 0; start < out.length; start += w) {
      const end = Math.min(out.length, start + w);
      for (let i = end - 1; i > start; i--) {
        const j = start + Math.floor(this.random() * (i - start + 1));
        const t = out[i] as T;
        out[i] = out[j] as T;
        out[j] = t;
      }
    }
    return out;
  }
}
