// SecureConnection over the in-memory link: clean, then lossy/duplicating/reordering.
import { describe, expect, it } from "vitest";
import { nobleX25519 } from "../noise/suite.js";
import { SecureConnection, type ConnectionOptions } from "./connection.js";
import { MemoryLink } from "./memory-transport.js";
import type { ErrorCode } from "../errors/index.js";

const HUB = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const LOCK = Uint8Array.from({ length: 32 }, (_, i) => i + 100);
const APP = "latchkey/test/v1";

function options(role: "hub" | "lock", extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    pattern: "KK",
    appProtocol: APP,
    staticSecretKey: role === "hub" ? HUB : LOCK,
    remoteStaticKey: nobleX25519.publicKey(role === "hub" ? LOCK : HUB),
    ...extra,
  };
}

async function connectPair(
  link: MemoryLink,
  extra: Partial<ConnectionOptions> = {},
): Promise<[SecureConnection, SecureConnection]> {
  const accepting = SecureConnection.accept(link.b, options("lock", extra));
  const connecting = SecureConnection.connect(link.a, options("hub", extra));
  link.deliver();
  return Promise.all([connecting, accepting]);
}

describe("SecureConnection over a MemoryLink", () => {
  it("handshakes, exchanges request and response, closes with a reason", async () => {
    const link = new MemoryLink();
    const [hub, lock] = await connectPair(link);
    const closed: (number | null)[] = [];
    lock.onClose((r) => closed.push(r));
    hub.send(new TextEncoder().encode("unlock"));
    link.deliver();
    expect(new TextDecoder().decode(await lock.nextMessage())).toBe("unlock");
    lock.send(new TextEncoder().encode("ok"));
    link.deliver();
    expect(new TextDecoder().decode(await hub.nextMessage())).toBe("ok");
    hub.close(3);
    link.deliver();
    expect(closed).toEqual([3]);
    expect(lock.session.phase).toBe("closed");
  });

  it("calls every close handler once, in order (a request client and its owner both learn of it)", async () => {
    const link = new MemoryLink();
    const [hub, lock] = await connectPair(link);
    const heard: string[] = [];
    hub.onClose((r) => heard.push(`client ${r}`));
    hub.onClose((r) => heard.push(`owner ${r}`));
    lock.close(2);
    link.deliver();
    link.deliver();
    expect(heard).toEqual(["client 2", "owner 2"]);
  });

  it("injected garbage and replays are counted and dropped, the connection survives", async () => {
    const link = new MemoryLink();
    const refused: ErrorCode[] = [];
    const [hub, lock] = await connectPair(link, { onRefusal: (e) => refused.push(e.code) });
    hub.send(Uint8Array.of(1));
    link.deliver();
    await lock.nextMessage();
    // The attacker replays everything it captured towards the lock, plus junk.
    for (const f of link.captured.filter((c) => c.from === "a")) link.a.send(f.bytes);
    link.a.send(Uint8Array.of(1, 2, 3));
    link.deliver();
    expect(lock.refusals).toBe(3);
    expect(refused.sort()).toEqual(["LK_DECODE_TRUNCATED", "NOISE_FRAME_REPLAYED", "NOISE_UNEXPECTED_FRAME"]);
    hub.send(Uint8Array.of(2));
    link.deliver();
    expect(await lock.nextMessage()).toEqual(Uint8Array.of(2));
  });

  it("a lossy, duplicating, reordering link delivers each surviving message exactly once", async () => {
    const link = new MemoryLink({ seed: 42 });
    const [hub, lock] = await connectPair(link, { limits: { rekeyAfterMessages: 50, replayWindow: 64 } });
    Object.assign(link.conditions, { loss: 0.2, duplicate: 0.1, reorderWindow: 8 });
    const got: number[] = [];
    lock.onMessage((m) => got.push(new DataView(m.buffer, m.byteOffset).getUint32(0)));
    for (let i = 0; i < 1000; i++) {
      const m = new Uint8Array(4);
      new DataView(m.buffer).setUint32(0, i);
      hub.send(m);
      if (i % 16 === 15) link.deliver();
    }
    link.deliver();
    expect(new Set(got).size).toBe(got.length); // no duplicates
    expect(got.length).toBeGreaterThan(700); // ~80% survive loss
    expect(got.length).toBeLessThan(900);
    expect(got.every((n) => n >= 0 && n < 1000)).toBe(true);
    expect(got.some((n, i) => i > 0 && n < (got[i - 1] ?? 0))).toBe(true); // really reordered
    expect(lock.refusals).toBeGreaterThan(0); // duplicates refused as replays
    expect(lock.session.stats.receiveEpoch).toBeGreaterThanOrEqual(18); // followed the rekeys
  });

  it("a handshake that never completes times out", async () => {
    const link = new MemoryLink({ loss: 1 });
    await expect(
      SecureConnection.connect(link.a, options("hub", { handshakeTimeoutMs: 20 })),
    ).rejects.toMatchObject({
      code: "NOISE_WRONG_STATE",
    });
  });
});
