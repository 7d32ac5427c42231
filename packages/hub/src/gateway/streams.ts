/**
 * Stream plumbing for the embedded broker: an in-memory duplex pair (the hub's own MQTT client
 * talks to the in-process broker without any socket) and a guard that cuts a connection whose
 * next MQTT packet announces more bytes than we accept (aedes itself has no packet size limit,
 * so without this a client could make the broker buffer up to 256 MB before authenticating).
 */
import { Duplex, Transform, type TransformCallback } from "node:stream";

/** Two connected duplex streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const other = peer();
        if (!other.destroyed) other.push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(error, callback) {
        const other = peer();
        if (!other.destroyed) other.destroy();
        callback(error);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/** Thrown into the stream when a packet is too large (the connection is then dropped). */
export class PacketTooLargeError extends Error {
  constructor(
    readonly announced: number,
    readonly limit: number,
  ) {
    super(`MQTT packet of ${announced} bytes exceeds ${limit}`);
  }
}

/**
 * Passes bytes through while following MQTT packet boundaries: a fixed-header byte, a 1-4 byte
 * variable-length "remaining length", then that many bytes. Fails as soon as a remaining length
 * above `maxPacketBytes` (or a malformed length) is seen.
 */
export class PacketSizeGuard extends Transform {
  private state: "header" | "length" | "body" = "header";
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "header") {
        i++;
        this.state = "length";
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === "length") {
        const byte = chunk[i++] ?? 0;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.length > this.maxPacketBytes || (byte & 0x80 && this.lengthBytes >= 4)) {
          callback(new PacketTooLargeError(this.length, this.maxPacketBytes));
          return;
        }
        if ((byte & 0x80) === 0) {
          this.remaining = this.length;
          this.state = this.remaining === 0 ? "header" : "body";
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = "header";
      }
    }
    callback(null, chunk);
  }
}

/** Wraps a connection so what it receives first passes the guard; a violation destroys it. */
export function guarded(connection: Duplex, maxPacketBytes: number, onTooLarge: () => void): Duplex {
  const guard = new PacketSizeGuard(maxPacketBytes);
  connection.pipe(guard);
  const combined = Duplex.from({ readable: guard, writable: connection });
  guard.on("error", (e) => {
    if (e instanceof PacketTooLargeError) onTooLarge();
    connection.destroy();
    combined.destroy();
  });
  connection.on("close", () => combined.destroy());
  combined.on("close", () => connection.destroy());
  connection.on("error", () => combined.destroy());
  return combined;
}
