import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LatchkeyError } from "@latchkey/protocol";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { selfSignedCertificate } from "../../testing/tls.js";
import type { DeliveryOutcome, OutboundMessage } from "./channel.js";
import {
  newWebhookSecret,
  signWebhook,
  validateWebhookConfig,
  webhookChannel,
  webhookPayload,
} from "./webhook.js";

// The independent verifier is the Standard Webhooks reference library (`standardwebhooks`).

const message: OutboundMessage = {
  id: "msg_2f1c9a7e4b",
  event: "alert.forced-entry",
  title: "Front door forced",
  body: "The front door opened without an unlock.",
  priority: "urgent",
  tags: ["warning", "door"],
  url: "https://hub.example/doors/front",
  actions: [{ label: "Activity", url: "https://hub.example/doors/front/activity" }],
  occurredAt: Date.UTC(2026, 11, 7, 22, 15, 30, 250),
  data: { lockId: "lock_front", reason: "forced", battery: 81, armed: true, note: null },
};

interface Received {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The Standard Webhooks library accepted the headers and body. */
  readonly verified: boolean;
  /** The library's verdict on the same body with one character changed. */
  readonly tamperedVerified: boolean;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** The status the next deliveries get once verified (defaults to 204). */
  status: number;
}

const servers: Server[] = [];
const outcomes: DeliveryOutcome[] = [];
const signal = new AbortController().signal;

afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function listen(server: Server, host = "127.0.0.1"): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function verifies(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/** A webhook receiver that verifies every delivery with the reference library. */
function handler(secret: string, receiver: { received: Received[]; status: number }) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string",
      ),
    );
    const tampered = body.replace("forced", "Forced");
    const verified = verifies(secret, body, headers);
    receiver.received.push({
      headers,
      body,
      verified,
      tamperedVerified: verifies(secret, tampered, headers),
    });
    response.statusCode = verified ? receiver.status : 401;
    response.end();
  };
}

async function receiver(secret: string, path = "/hooks/latchkey?token=q-s3cr3t-t0ken"): Promise<Receiver> {
  const state: Receiver = {
    url: "",
    received: [],
    status: 204,
  };
  const server = createServer((request, response) => void handler(secret, state)(request, response));
  const port = await listen(server);
  return Object.assign(state, { url: `http://127.0.0.1:${port}${path}` });
}

/** A server answering every POST with `status` (and a Location for redirects), after reading it. */
async function answering(status: number): Promise<string> {
  const server = createServer((request, response) => {
    void readBody(request).then(() => {
      if (status >= 300 && status < 400) response.setHeader("location", "https://elsewhere.example/");
      response.statusCode = status;
      response.end("{}");
    });
  });
  return `http://127.0.0.1:${await listen(server)}/hook?token=q-s3cr3t-t0ken`;
}

async function send(
  config: { url: string; secret: string; ca?: string; timeoutMs?: number },
  abort = signal,
): Promise<DeliveryOutcome> {
  const outcome = await webhookChannel(config).send(message, { signal: abort });
  outcomes.push(outcome);
  return outcome;
}

const SECRET = newWebhookSecret();

describe("webhook signing", () => {
  it("matches the Standard Webhooks reference vector", () => {
    // From the reference library's tests (libraries/javascript/src/webhook.test.ts, "sign function
    // works"); the spec itself (spec/standard-webhooks.md) publishes no secret with its example.
    const signature = signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("makes fresh secrets of whsec_ and base64 of 24 to 64 bytes, accepted by the library", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).not.toBe(b);
    for (const secret of [a, b]) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      const bytes = Buffer.from(secret.slice("whsec_".length), "base64").byteLength;
      expect(bytes).toBeGreaterThanOrEqual(24);
      expect(bytes).toBeLessThanOrEqual(64);
      const signed = signWebhook(secret, "msg_1", 1_700_000_000, "{}");
      expect(new Webhook(secret).sign("msg_1", new Date(1_700_000_000_000), "{}")).toBe(signed);
    }
  });

  it("builds the payload from the message: type, event time, data", () => {
    expect(JSON.parse(webhookPayload(message))).toEqual({
      type: "alert.forced-entry",
      timestamp: "2026-12-07T22:15:30.250Z",
      data: {
        title: "Front door forced",
        body: "The front door opened without an unlock.",
        priority: "urgent",
        tags: ["warning", "door"],
        url: "https://hub.example/doors/front",
        actions: [{ label: "Activity", url: "https://hub.example/doors/front/activity" }],
        lockId: "lock_front",
        reason: "forced",
        battery: 81,
        armed: true,
        note: null,
      },
    });
  });
});

describe("webhook configuration", () => {
  const secret = newWebhookSecret();

  function fieldOf(input: unknown): string | undefined {
    try {
      validateWebhookConfig(input);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(LatchkeyError);
      expect((error as LatchkeyError).code).toBe("HUB_BAD_REQUEST");
      expect((error as LatchkeyError).message).not.toContain(secret);
      expect((error as LatchkeyError).message).not.toContain("t0ken");
      return (error as LatchkeyError).details?.field as string;
    }
  }

  it("accepts absolute http(s) URLs with a well-formed secret", () => {
    expect(validateWebhookConfig({ url: "https://example.com/hook?token=t0ken", secret })).toEqual({
      url: "https://example.com/hook?token=t0ken",
      secret,
    });
    expect(fieldOf({ url: "http://192.168.1.20:8123/api/webhook/x", secret })).toBeUndefined();
  });

  it("rejects bad URLs, secrets and CAs, naming the field", () => {
    expect(fieldOf(null)).toBe("url");
    expect(fieldOf({ url: "/relative/hook?token=t0ken", secret })).toBe("url");
    expect(fieldOf({ url: "ftp://example.com/hook", secret })).toBe("url");
    expect(fieldOf({ url: "mailto:owner@example.com", secret })).toBe("url");
    expect(fieldOf({ url: 42, secret })).toBe("url");
    expect(fieldOf({ url: "https://example.com/hook" })).toBe("secret");
    expect(fieldOf({ url: "https://example.com/hook", secret: secret.slice("whsec_".length) })).toBe(
      "secret",
    );
    // 16 bytes: below Standard Webhooks' minimum of 24.
    expect(
      fieldOf({ url: "https://example.com/", secret: "whsec_" + Buffer.alloc(16).toString("base64") }),
    ).toBe("secret");
    expect(
      fieldOf({ url: "https://example.com/", secret: "whsec_" + Buffer.alloc(65).toString("base64") }),
    ).toBe("secret");
    expect(fieldOf({ url: "https://example.com/", secret: "whsec_not*base64!" })).toBe("secret");
    expect(fieldOf({ url: "https://example.com/", secret, ca: "not a certificate" })).toBe("ca");
  });
});

describe("webhook delivery", () => {
  afterAll(() => {
    // Nothing any test in this file got back repeats a secret or the URL's token.
    expect(outcomes.length).toBeGreaterThan(5);
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SECRET.slice("whsec_".length));
      expect(text).not.toContain("t0ken");
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain("?");
    }
  });

  it("delivers a message the reference library verifies", async () => {
    const peer = await receiver(SECRET);
    const before = Math.floor(Date.now() / 1000);
    const outcome = await send({ url: peer.url, secret: SECRET });
    const after = Math.floor(Date.now() / 1000);

    expect(outcome).toEqual({ ok: true, detail: "HTTP 204" });
    expect(peer.received).toHaveLength(1);
    const [delivery] = peer.received;
    expect(delivery?.verified).toBe(true);
    expect(delivery?.headers["webhook-id"]).toBe(message.id);
    expect(delivery?.headers["content-type"]).toBe("application/json");
    const timestamp = Number(delivery?.headers["webhook-timestamp"]);
    expect(Number.isInteger(timestamp)).toBe(true);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(after);
    expect(delivery?.body).toBe(webhookPayload(message));
  });

  it("signs so that a tampered body or another secret does not verify", async () => {
    const peer = await receiver(SECRET);
    expect((await send({ url: peer.url, secret: SECRET })).ok).toBe(true);
    expect(peer.received[0]?.verified).toBe(true);
    expect(peer.received[0]?.tamperedVerified).toBe(false);

    // The receiver knows another secret: it cannot verify, answers 401, and that is final.
    const other = await receiver(newWebhookSecret());
    const outcome = await send({ url: other.url, secret: SECRET });
    expect(other.received[0]?.verified).toBe(false);
    expect(outcome).toEqual({ ok: false, retryable: false, reason: "unauthorized (HTTP 401)" });
  });

  it("keeps the webhook-id on a retry and stamps the attempt's own time", async () => {
    const peer = await receiver(SECRET);
    peer.status = 503;
    expect(await send({ url: peer.url, secret: SECRET })).toEqual({
      ok: false,
      retryable: true,
      reason: "service unavailable (HTTP 503)",
    });
    await sleep(1_100);
    peer.status = 200;
    expect(await send({ url: peer.url, secret: SECRET })).toEqual({ ok: true, detail: "HTTP 200" });

    const [first, second] = peer.received;
    expect(first?.verified && second?.verified).toBe(true);
    expect(second?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
    expect(Number(second?.headers["webhook-timestamp"])).toBeGreaterThan(
      Number(first?.headers["webhook-timestamp"]),
    );
    expect(second?.headers["webhook-signature"]).not.toBe(first?.headers["webhook-signature"]);
    expect(second?.body).toBe(first?.body);
  });

  it.each([
    [500, true, "internal server error (HTTP 500)"],
    [429, true, "too many requests (HTTP 429)"],
    [400, false, "bad request (HTTP 400)"],
    [410, false, "gone (HTTP 410)"],
    [301, false, "redirected (HTTP 301)"],
    [307, false, "redirected (HTTP 307)"],
  ])("maps HTTP %i to retryable=%s", async (status, retryable, reason) => {
    const url = await answering(status);
    expect(await send({ url, secret: SECRET })).toEqual({ ok: false, retryable, reason });
  });

  it("does not follow a redirect", async () => {
    const target = await receiver(SECRET);
    const redirector = createServer((request, response) => {
      void readBody(request).then(() => {
        response.writeHead(308, { location: target.url }).end();
      });
    });
    const port = await listen(redirector);
    const outcome = await send({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET });
    expect(outcome).toEqual({ ok: false, retryable: false, reason: "redirected (HTTP 308)" });
    expect(target.received).toHaveLength(0);
  });

  it("treats a closed port as retryable: connection refused", async () => {
    const server = createServer();
    const port = await listen(server);
    await closeServer(servers.pop() as Server);
    const outcome = await send({
      url: `http://user:hunter2@127.0.0.1:${port}/hook?token=q-s3cr3t-t0ken`,
      secret: SECRET,
    });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: `connection refused (127.0.0.1:${port})` });
  });

  it("treats a name that does not resolve as retryable: DNS lookup failed", async () => {
    const outcome = await send({
      url: "https://latchkey-test.invalid/hook?token=q-s3cr3t-t0ken",
      secret: SECRET,
    });
    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      reason: "DNS lookup failed (latchkey-test.invalid)",
    });
  });

  it("gives up on a server that never answers, retryable", async () => {
    let arrived = false;
    const server = createServer(() => {
      arrived = true; // …and never respond.
    });
    const port = await listen(server);
    const started = Date.now();
    const outcome = await send({
      url: `http://127.0.0.1:${port}/hook?token=q-s3cr3t-t0ken`,
      secret: SECRET,
      timeoutMs: 300,
    });
    expect(arrived).toBe(true);
    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      reason: `timed out after 0.3 s (127.0.0.1:${port})`,
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("stops when the caller aborts", async () => {
    const server = createServer(() => {});
    const port = await listen(server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const outcome = await send({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }, controller.signal);
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "aborted" });
  });

  it("reads at most 64 KiB of a reply and does not wait for the rest", async () => {
    let bytesWritten = 0;
    const server = createServer((request, response) => {
      void readBody(request).then(() => {
        response.writeHead(200, { "content-type": "text/plain" });
        const chunk = Buffer.alloc(16 * 1024, "x");
        // An endless body: only the client hanging up ends it.
        const pump = (): void => {
          for (let more = true; more && !response.destroyed; bytesWritten += chunk.byteLength)
            more = response.write(chunk);
          if (!response.destroyed) response.once("drain", pump);
        };
        pump();
      });
    });
    const port = await listen(server);
    const started = Date.now();
    const outcome = await send({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET, timeoutMs: 5_000 });
    expect(outcome).toEqual({ ok: true, detail: "HTTP 200" });
    // Done well before the deadline: the client hung up instead of reading on until the timeout.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(bytesWritten).toBeGreaterThanOrEqual(64 * 1024);
  });

  describe("over https", () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-webhook-tls-"));
    const files = selfSignedCertificate(dir);
    const cert = readFileSync(files.cert, "utf8");
    const key = readFileSync(files.key, "utf8");
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function httpsReceiver(): Promise<Receiver> {
      const state: Receiver = { url: "", received: [], status: 200 };
      const server = createHttpsServer(
        { cert, key },
        (request, response) => void handler(SECRET, state)(request, response),
      );
      // The certificate names localhost; the server answers there.
      const port = await listen(server, "localhost");
      return Object.assign(state, { url: `https://localhost:${port}/hook?token=q-s3cr3t-t0ken` });
    }

    it("delivers to a server whose certificate the configured CA signed", async () => {
      const peer = await httpsReceiver();
      expect(validateWebhookConfig({ url: peer.url, secret: SECRET, ca: cert }).ca).toBe(cert);
      expect(await send({ url: peer.url, secret: SECRET, ca: cert })).toEqual({
        ok: true,
        detail: "HTTP 200",
      });
      expect(peer.received[0]?.verified).toBe(true);
    });

    it("refuses a certificate it cannot trust, permanently", async () => {
      const peer = await httpsReceiver();
      const outcome = await send({ url: peer.url, secret: SECRET });
      expect(outcome).toMatchObject({ ok: false, retryable: false });
      expect(outcome.ok ? "" : outcome.reason).toMatch(/^TLS handshake failed: [A-Z_]+ \(localhost:\d+\)$/);
      expect(peer.received).toHaveLength(0);
    });
  });
});
