import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { SecureConnection, type ConnectionOptions } from "../channel/connection.js";
import { nobleX25519 } from "../noise/suite.js";
import { connectTcp, listenTcp, type TcpFrameTransport } from "./tcp-transport.js";

const HUB = Uint8Array.from({ length: 32 }, (_, i) => i + 7);
const LOCK = Uint8Array.from({ length: 32 }, (_, i) => i + 77);

function options(role: "hub" | "lock"): ConnectionOptions {
  return {
    pattern: "IK",
    appProtocol: "latchkey/test/v1",
    staticSecretKey: role === "hub" ? HUB : LOCK,
    remoteStaticKey: nobleX25519.publicKey(role === "hub" ? LOCK : HUB),
  };
}

describe("TcpFrameTransport", () => {
  it("keeps frame boundaries across a split stream", async () => {
    const received: Uint8Array[] = [];
    let server: TcpFrameTransport | null = null;
    const gotAll = new Promise<void>((resolve) => {
      void listenTcp({}, (t) => {
        server = t;
        t.onFrame((f) => {
          received.push(f);
          if (received.length === 3) resolve();
        });
      }).then((listener) => {
        // Write three frames byte by byte from a raw socket.
        const raw = connect({ port: listener.port, host: "127.0.0.1" }, () => {
          const bytes = Uint8Array.of(0, 2, 0xaa, 0xbb, 0, 0, 0, 1, 0xcc);
          for (const b of bytes) raw.write(Uint8Array.of(b));
        });
        void gotAll.then(() => {
          raw.destroy();
          return listener.close();
        });
      });
    });
    await gotAll;
    expect(received).toEqual([Uint8Array.of(0xaa, 0xbb), new Uint8Array(0), Uint8Array.of(0xcc)]);
    expect(server).not.toBeNull();
  });

  it("runs a secure request/response over loopback and survives injected garbage", async () => {
    const accepted: Promise<SecureConnection>[] = [];
    const listener = await listenTcp({}, (t) => accepted.push(SecureConnection.accept(t, options("lock"))));
    try {
      const hub = await SecureConnection.connect(await connectTcp({ port: listener.port }), options("hub"));
      const lock = await (accepted[0] ?? Promise.reject(new Error("no connection")));
      const closed = new Promise<number | null>((resolve) => lock.onClose(resolve));
      hub.send(new TextEncoder().encode("unlock"));
      expect(new TextDecoder().decode(await lock.nextMessage())).toBe("unlock");
      lock.send(new TextEncoder().encode("signed ack"));
      expect(new TextDecoder().decode(await hub.nextMessage())).toBe("signed ack");
      hub.close();
      expect(await closed).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("drops a connection that announces an oversized frame", async () => {
    const closedWith = new Promise<Error | undefined>((resolve) => {
      void listenTcp({ maxFrameBytes: 100 }, (t) => t.onClose(resolve)).then((listener) => {
        const raw = connect({ port: listener.port, host: "127.0.0.1" }, () =>
          raw.write(Uint8Array.of(0x01, 0x00)),
        );
        raw.on("close", () => void listener.close());
        raw.on("error", () => undefined);
      });
    });
    expect((await closedWith)?.message).toMatch(/256 bytes exceeds 100/);
  });
});
