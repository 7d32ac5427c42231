/**
 * Frames over TCP (node:net): each frame is sent as a 2-byte big-endian length followed by the
 * frame, so one `send` arrives as one frame however TCP splits the stream. Used by tests, the
 * benchmark and Node processes that talk to a lock over a plain socket. Nagle is off: channel
 * frames are small and latency-sensitive.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { FrameTransport } from "../channel/transport.js";

/** The length prefix is 16 bits, so no frame can exceed this. */
export const TCP_MAX_FRAME = 0xffff;

export class TcpFrameTransport implements FrameTransport {
  private buffered: Buffer = Buffer.alloc(0);
  private frameHandler: ((frame: Uint8Array) => void) | null = null;
  private closeHandler: ((error?: Error) => void) | null = null;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly maxFrameBytes = TCP_MAX_FRAME,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => {
      this.failure = error;
    });
    socket.on("close", () => this.finish());
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.socket.destroyed) return;
    if (frame.length > this.maxFrameBytes)
      throw new RangeError(`frame of ${frame.length} bytes exceeds the TCP limit`);
    const record = Buffer.allocUnsafe(2 + frame.length);
    record.writeUInt16BE(frame.length, 0);
    record.set(frame, 2);
    this.socket.write(record);
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
    if (this.closed) handler(this.failure);
  }

  /** Half-closes after pending frames are written; the peer sees the end of the stream. */
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 2) {
      const length = this.buffered.readUInt16BE(0);
      if (length > this.maxFrameBytes) {
        // The stream cannot be resynchronised after a bad length: drop the connection.
        this.failure = new Error(`incoming frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
        this.socket.destroy();
        return;
      }
      if (this.buffered.length < 2 + length) return;
      const frame = new Uint8Array(this.buffered.subarray(2, 2 + length));
      this.buffered = this.buffered.subarray(2 + length);
      this.frameHandler?.(frame);
      if (this.closed || this.socket.destroyed) return;
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeHandler?.(this.failure);
  }
}

export function connectTcp(options: {
  port: number;
  host?: string;
  maxFrameBytes?: number;
}): Promise<TcpFrameTransport> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: options.port, host: options.host ?? "127.0.0.1" });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new TcpFrameTransport(socket, options.maxFrameBytes));
    });
  });
}

export interface TcpFrameListener {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Listens on loopback (by default) and hands each accepted connection over as a transport. */
export function listenTcp(
  options: { port?: number; host?: string; maxFrameBytes?: number },
  onTransport: (transport: TcpFrameTransport) => void,
): Promise<TcpFrameListener> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    onTransport(new TcpFrameTransport(socket, options.maxFrameBytes));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({
        port,
        server,
        // Stops listening and drops connections still open.
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of open) socket.destroy();
          }),
      });
    });
  });
}
