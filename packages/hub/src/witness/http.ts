/**
 * The witness over HTTP (node:http), c2sp.org/tlog-witness "HTTP Interface": the submission
 * prefix is the server's root, so the hub posts to `<url>/add-checkpoint`. `GET /` answers with
 * the witness's verifier key and the logs it witnesses (all public), for whoever sets it up.
 * Bodies are read up to the protocol's largest request and no further.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ADD_CHECKPOINT_MAX_REQUEST_BYTES } from "@latchkey/protocol";
import { witnessVerifierKey } from "./key.js";
import type { Witness, WitnessAnswer, WitnessLog } from "./witness.js";

export interface WitnessServer {
  /** http://host:port — the witness's submission prefix. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface WitnessServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log?: WitnessLog;
}

function send(res: ServerResponse, a: WitnessAnswer): void {
  res.writeHead(a.status, {
    "content-type": a.contentType,
    "content-length": Buffer.byteLength(a.body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(a.body);
}

const text = (status: number, body: string): WitnessAnswer => ({
  status,
  contentType: "text/plain; charset=utf-8",
  body,
});

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > max) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

export function serveWitness(
  witness: Witness,
  logs: readonly string[],
  opts: WitnessServerOptions,
): Promise<WitnessServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/add-checkpoint") {
      if (req.method !== "POST") {
        res.setHeader("allow", "POST");
        send(res, text(405, "add-checkpoint takes POST\n"));
        return;
      }
      const body = await readBody(req, ADD_CHECKPOINT_MAX_REQUEST_BYTES);
      if (body === null) {
        res.setHeader("connection", "close");
        send(
          res,
          text(
            400,
            `WITNESS_REQUEST_MALFORMED: the body is over ${ADD_CHECKPOINT_MAX_REQUEST_BYTES} bytes\n`,
          ),
        );
        return;
      }
      send(res, witness.addCheckpoint(body));
      return;
    }
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      const lines = [
        "Latchkey witness (c2sp.org/tlog-witness): POST <this URL>/add-checkpoint",
        `verifier key: ${witnessVerifierKey(witness)}`,
        ...logs.map((o) => `witnesses: ${o}`),
      ];
      send(res, text(200, lines.join("\n") + "\n"));
      return;
    }
    send(res, text(404, "not found\n"));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A failed write of the state file and the like: no cosignature, and say so.
      opts.log?.warn({ err: (e as Error).message }, "add-checkpoint failed");
      if (!res.headersSent) send(res, text(500, "LK_INTERNAL: the witness could not handle this request\n"));
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      const addr = server.address() as AddressInfo;
      const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${host}:${addr.port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
