// The reference for "handshake + request + signed acknowledgement" benchmarks: node:tls TLS 1.3
// with mutual certificate authentication (P-256 certificates made by openssl at bench time).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from "node:tls";
import { sampleMicrosAsync } from "./harness.js";

function makeCertificates(dir: string): {
  serverKey: Buffer;
  serverCert: Buffer;
  clientKey: Buffer;
  clientCert: Buffer;
} {
  const make = (name: string): void => {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        join(dir, `${name}.key`),
        "-out",
        join(dir, `${name}.crt`),
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
  };
  make("server");
  make("client");
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    serverKey: read("server.key"),
    serverCert: read("server.crt"),
    clientKey: read("client.key"),
    clientCert: read("client.crt"),
  };
}

/** Reads exactly n bytes from a TLS socket. */
function readExactly(socket: TLSSocket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= n) {
        socket.off("data", onData);
        resolve(buf.subarray(0, n));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

/**
 * Per sample: a fresh TLS 1.3 connection with mutual P-256 certificate authentication, one
 * request, and the server's answer `makeAck(request)`; returns the samples in µs.
 */
export async function tlsRequestAckSamples(
  samples: number,
  dir: string,
  request: Uint8Array,
  makeAck: (request: Uint8Array) => Uint8Array,
): Promise<number[]> {
  const ackLength = makeAck(request).length;
  const c = makeCertificates(dir);
  const server = createTlsServer(
    {
      key: c.serverKey,
      cert: c.serverCert,
      ca: c.clientCert,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.3",
    },
    (socket) => {
      socket.setNoDelay(true);
      socket.on("error", () => undefined);
      void readExactly(socket, request.length).then((req) => socket.end(makeAck(req)));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  try {
    return await sampleMicrosAsync(async () => {
      const socket = tlsConnect({
        port,
        host: "127.0.0.1",
        key: c.clientKey,
        cert: c.clientCert,
        ca: c.serverCert,
        minVersion: "TLSv1.3",
      });
      socket.setNoDelay(true);
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      socket.write(request);
      const ack = await readExactly(socket, ackLength);
      if (ack.length !== ackLength) throw new Error("bad ack");
      socket.destroy();
    }, samples);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
