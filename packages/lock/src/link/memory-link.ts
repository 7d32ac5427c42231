/**
 * An in-memory lock link that delivers by itself: a `MemoryLink` whose client end schedules
 * delivery after each send, so async client code (await client.request(...)) just works. The
 * link still records every frame in `captured` for replay and tamper tests.
 */
import { MemoryLink, type FrameTransport, type LinkConditions } from "@latchkey/protocol";

export interface AutoMemoryLink {
  readonly link: MemoryLink;
  /** The hub's or phone's end. */
  readonly client: FrameTransport;
  /** The lock's end (give it to `LockEndpoint.accept`). */
  readonly lock: FrameTransport;
  /** Sends raw bytes from the client side (an attacker injecting a frame) and delivers them. */
  inject(frame: Uint8Array): void;
}

export function autoMemoryLink(conditions?: LinkConditions): AutoMemoryLink {
  const link = new MemoryLink(conditions);
  let scheduled = false;
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      link.deliver();
    });
  };
  const client: FrameTransport = {
    send: (frame) => {
      link.a.send(frame);
      schedule();
    },
    onFrame: (h) => link.a.onFrame(h),
    onClose: (h) => link.a.onClose(h),
    close: () => {
      link.a.close();
      schedule();
    },
  };
  return {
    link,
    client,
    lock: link.b,
    inject: (frame) => {
      link.a.send(frame);
      link.deliver();
    },
  };
}
