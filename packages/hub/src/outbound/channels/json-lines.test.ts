/**
 * The JSON-lines channel: to a real file in a temp directory (read back and parsed), and to a real
 * HTTP receiver on a loopback port that parses the NDJSON body and checks the bearer token.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLatchkeyError } from "@latchkey/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryOutcome, OutboundMessage } from "./channel.js";
import { jsonLinesChannel, validateJsonLinesConfig, type JsonLinesChannelOptions } from "./json-lines.js";

const TOKEN = `siem-${randomBytes(24).toString("base64url")}`;
const signal = new AbortController().signal;
const outcomes: DeliveryOutcome[] = [];

const message: OutboundMessage = {
  id: "01JF8ZK6Q0V3T9X2M4N5P6R7S8",
  event: "alert.door-forced",
  title: "Door forced",
  body: "Front door opened without an unlock.\nSecond line — café.",
  priority: "urgent",
  tags: ["alert", "forced-entry"],
  url: "https://hub.example.test/#/doors/d1",
  actions: [{ label: "View door", url: "https://hub.example.test/#/doors/d1" }],
  occurredAt: Date.UTC(2026, 11, 7, 3, 12, 0, 45),
  data: { doorId: "d1", count: 2, confirmed: true, note: null },
};

/** What a SIEM reads back: the record's fields, exactly. */
const record = (sent: OutboundMessage) => ({
  time: new Date(sent.occurredAt).toISOString(),
  id: sent.id,
  event: sent.event,
  title: sent.title,
  body: sent.body,
  priority: sent.priority,
  tags: sent.tags,
  url: sent.url,
  data: sent.data,
});

async function send(
  options: JsonLinesChannelOptions,
  sent: OutboundMessage = message,
): Promise<DeliveryOutcome> {
  const outcome = await jsonLinesChannel(options).send(sent, { signal });
  outcomes.push(outcome);
  return outcome;
}

afterAll(() => {
  expect(outcomes.length).toBeGreaterThan(6);
  for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(TOKEN);
});

describe("jsonLinesChannel to a file", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "latchkey-jsonl-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("appends exactly one JSON object per message, across channel instances, in a 0600 file", async () => {
    const path = join(dir, "events.jsonl");
    const second = { ...message, id: "m2", priority: "low" as const, data: {} };
    const third = { ...message, id: "m3", url: null, tags: [] };
    expect(await send({ path })).toEqual({ ok: true, detail: expect.stringMatching(/^appended \d+ bytes$/) });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // A new instance (a restarted hub) appends; it does not truncate.
    expect((await send({ path }, second)).ok).toBe(true);
    expect((await send({ path }, third)).ok).toBe(true);

    const text = readFileSync(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.split("\n").slice(0, -1);
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      record(message),
      record(second),
      record(third),
    ]);
    expect(lines[0]).toContain('"time":"2026-12-07T03:12:00.045Z"');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keeps what a file already holds and writes concurrent lines whole", async () => {
    const path = join(dir, "shared.jsonl");
    writeFileSync(path, '{"earlier":true}\n', { mode: 0o600 });
    const many = Array.from({ length: 20 }, (_, i) => ({ ...message, id: `c${i}`, body: "x".repeat(2000) }));
    const results = await Promise.all(many.map((sent) => send({ path }, sent)));
    expect(results.every((outcome) => outcome.ok)).toBe(true);
    const lines = readFileSync(path, "utf8").split("\n").slice(0, -1);
    expect(lines[0]).toBe('{"earlier":true}');
    const ids = lines.slice(1).map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids.sort()).toEqual(many.map((sent) => sent.id).sort());
  });

  it("fails for good when the file cannot be opened, and says why without the contents", async () => {
    expect(await send({ path: join(dir, "missing", "events.jsonl") })).toEqual({
      ok: false,
      retryable: false,
      reason: "cannot open the file: ENOENT",
    });
    mkdirSync(join(dir, "a-directory"));
    expect(await send({ path: join(dir, "a-directory") })).toEqual({
      ok: false,
      retryable: false,
      reason: "cannot open the file: EISDIR",
    });
  });
});

interface Received {
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

describe("jsonLinesChannel to an HTTP endpoint", () => {
  const received: Received[] = [];
  let answer = 200;
  let server: Server;
  let url = "";

  function readBody(request: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      request.on("error", reject);
    });
  }

  beforeAll(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((body) => {
        received.push({
          authorization: request.headers.authorization,
          contentType: request.headers["content-type"],
          body,
        });
        // Like a collector: a wrong token is 401, whatever `answer` says.
        const auth = request.headers.authorization;
        const status = auth !== undefined && auth !== `Bearer ${TOKEN}` ? 401 : answer;
        response.writeHead(status, { "content-type": "text/plain" }).end(`status ${status}: ${auth ?? ""}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest?source=latchkey`;
  });
  afterEach(() => {
    received.length = 0;
    answer = 200;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("POSTs one NDJSON line with the bearer token", async () => {
    expect(await send({ url, token: TOKEN })).toEqual({ ok: true, detail: "HTTP 200" });
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got?.contentType).toBe("application/x-ndjson");
    expect(got?.body.endsWith("\n")).toBe(true);
    expect(got?.body.split("\n")).toHaveLength(2);
    expect(JSON.parse(got?.body ?? "")).toEqual(record(message));
  });

  it("sends no Authorization header without a token", async () => {
    expect((await send({ url, token: null })).ok).toBe(true);
    expect(received[0]?.authorization).toBeUndefined();
  });

  it("retries a 500, gives up on a 400 and a 401, and never repeats the token", async () => {
    answer = 500;
    expect(await send({ url, token: TOKEN })).toEqual({
      ok: false,
      retryable: true,
      reason: "internal server error (HTTP 500)",
    });
    answer = 400;
    expect(await send({ url, token: TOKEN })).toEqual({
      ok: false,
      retryable: false,
      reason: "bad request (HTTP 400)",
    });
    expect(await send({ url, token: `${TOKEN}-wrong` })).toEqual({
      ok: false,
      retryable: false,
      reason: "unauthorized (HTTP 401)",
    });
    expect(received).toHaveLength(3);
  });

  it("is retryable when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await send({ url: `http://127.0.0.1:${port}/ingest`, token: TOKEN })).toEqual({
      ok: false,
      retryable: true,
      reason: `connection refused (127.0.0.1:${port})`,
    });
  });
});

describe("validateJsonLinesConfig", () => {
  function refusal(input: unknown): { field: unknown; message: string } {
    try {
      validateJsonLinesConfig(input);
    } catch (error) {
      if (isLatchkeyError(error) && error.code === "HUB_BAD_REQUEST")
        return { field: error.details?.field, message: error.message };
      throw error;
    }
    throw new Error("accepted");
  }

  it("accepts a file path or an http(s) URL with an optional token", () => {
    expect(validateJsonLinesConfig({ path: "/var/log/latchkey/events.jsonl" })).toEqual({
      path: "/var/log/latchkey/events.jsonl",
    });
    expect(validateJsonLinesConfig({ url: "https://siem.example.test/ingest", token: TOKEN })).toEqual({
      url: "https://siem.example.test/ingest",
      token: TOKEN,
    });
    expect(validateJsonLinesConfig({ url: "http://10.0.0.5:8080/" })).toEqual({
      url: "http://10.0.0.5:8080/",
      token: null,
    });
  });

  it("wants exactly one of path or url, and names the field at fault without repeating a token", () => {
    expect(refusal({}).field).toBe("path");
    expect(refusal(null).field).toBe("path");
    expect(refusal({ path: "/tmp/a.jsonl", url: "https://siem.example.test/" }).field).toBe("url");
    expect(refusal({ path: "relative/events.jsonl" }).field).toBe("path");
    expect(refusal({ path: "/tmp/a\0b" }).field).toBe("path");
    expect(refusal({ path: "/tmp/a.jsonl", token: TOKEN }).field).toBe("token");
    expect(refusal({ url: "ftp://siem.example.test/" }).field).toBe("url");
    expect(refusal({ url: "not a url" }).field).toBe("url");
    expect(refusal({ url: "https://siem.example.test/", ca: "nope" }).field).toBe("ca");
    const badToken = refusal({ url: "https://siem.example.test/", token: `${TOKEN} x` });
    expect(badToken.field).toBe("token");
    expect(badToken.message).not.toContain(TOKEN);
  });
});
