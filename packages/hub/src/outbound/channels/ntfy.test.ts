import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LatchkeyError } from "@latchkey/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { DeliveryOutcome, OutboundMessage, Priority } from "./channel.js";
import { ntfyChannel, validateNtfyConfig } from "./ntfy.js";

const TOKEN = `tk_${randomBytes(20).toString("hex").slice(0, 29)}`;

const message: OutboundMessage = {
  id: "msg_7d0e3b",
  event: "approval.requested",
  title: "Approve entry?",
  body: "Sam asks to open the back door.",
  priority: "high",
  tags: ["door", "approval"],
  url: "https://hub.example/approvals/ap_1",
  actions: [
    { label: "Review", url: "https://hub.example/approvals/ap_1" },
    { label: "Activity", url: "https://hub.example/doors/back/activity" },
  ],
  occurredAt: Date.UTC(2026, 11, 7, 22, 15, 30),
  data: { approvalId: "ap_1" },
};

interface Published {
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly path: string;
  readonly json: Record<string, unknown>;
  /** The id this server gave the message in its reply. */
  readonly id: string;
}

/**
 * A small ntfy server: POST / with a JSON body (https://docs.ntfy.sh/publish/#publish-as-json),
 * Bearer tokens for protected topics, ntfy's error bodies, and its reply to a published message.
 */
interface NtfyServer {
  readonly url: string;
  readonly published: Published[];
  /** Topic → the only token that may publish to it; topics not listed are public. */
  readonly protectedTopics: Map<string, string>;
  rateLimited: boolean;
}

const servers: Server[] = [];
const outcomes: DeliveryOutcome[] = [];
const signal = new AbortController().signal;

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

afterAll(() => {
  expect(outcomes.length).toBeGreaterThan(5);
  for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(TOKEN.slice(3));
});

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function ntfyError(response: ServerResponse, http: number, code: number, error: string): void {
  response.writeHead(http, { "content-type": "application/json" });
  response.end(JSON.stringify({ code, http, error, link: "https://ntfy.sh/docs/publish/" }) + "\n");
}

/** What ntfy checks of a JSON publish before accepting it; null when it is acceptable. */
function invalidField(json: Record<string, unknown>): string | null {
  if (typeof json.topic !== "string" || !/^[-_A-Za-z0-9]{1,64}$/.test(json.topic)) return "topic";
  if (typeof json.message !== "string") return "message";
  if (json.title !== undefined && typeof json.title !== "string") return "title";
  if (![1, 2, 3, 4, 5].includes(json.priority as number)) return "priority";
  if (!Array.isArray(json.tags) || !json.tags.every((tag) => typeof tag === "string")) return "tags";
  if (json.click !== undefined && (typeof json.click !== "string" || !URL.canParse(json.click)))
    return "click";
  const actions = json.actions as unknown[] | undefined;
  if (actions !== undefined) {
    if (!Array.isArray(actions) || actions.length > 3) return "actions";
    for (const action of actions as Record<string, unknown>[])
      if (action.action !== "view" || typeof action.label !== "string" || typeof action.url !== "string")
        return "actions";
  }
  return null;
}

async function ntfyServer(): Promise<NtfyServer> {
  const state: NtfyServer = { url: "", published: [], protectedTopics: new Map(), rateLimited: false };
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      if (request.method !== "POST" || request.url !== "/")
        return ntfyError(response, 404, 40401, "page not found");
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return ntfyError(response, 400, 40017, "invalid request: request body must be message JSON");
      }
      const invalid = invalidField(json);
      if (invalid !== null) return ntfyError(response, 400, 40000, `invalid request: ${invalid}`);
      const required = state.protectedTopics.get(json.topic as string);
      if (required !== undefined && request.headers.authorization !== `Bearer ${required}`)
        return ntfyError(response, 401, 40101, "unauthorized");
      if (state.rateLimited) return ntfyError(response, 429, 42901, "limit reached: too many requests");
      const id = randomBytes(9).toString("base64url").replace(/[-_]/g, "x").slice(0, 12);
      state.published.push({
        authorization: request.headers.authorization,
        contentType: request.headers["content-type"],
        path: request.url,
        json,
        id,
      });
      const time = Math.floor(Date.now() / 1000);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ id, time, expires: time + 43200, event: "message", ...json, topic: json.topic }) +
          "\n",
      );
    });
  });
  servers.push(server);
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
  return Object.assign(state, { url: `http://127.0.0.1:${port}` });
}

async function publish(
  server: NtfyServer,
  topic: string,
  token: string | null,
  what: OutboundMessage = message,
): Promise<DeliveryOutcome> {
  const outcome = await ntfyChannel({ server: server.url, topic, token }).send(what, { signal });
  outcomes.push(outcome);
  return outcome;
}

describe("ntfy channel", () => {
  it("publishes the message as ntfy JSON with the token", async () => {
    const ntfy = await ntfyServer();
    ntfy.protectedTopics.set("front-door_alerts", TOKEN);
    const outcome = await publish(ntfy, "front-door_alerts", TOKEN);

    expect(ntfy.published).toHaveLength(1);
    const [published] = ntfy.published;
    expect(outcome).toEqual({ ok: true, detail: `ntfy message ${published?.id}` });
    expect(published?.path).toBe("/");
    expect(published?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(published?.contentType).toBe("application/json");
    expect(published?.json).toEqual({
      topic: "front-door_alerts",
      title: "Approve entry?",
      message: "Sam asks to open the back door.",
      priority: 4,
      tags: ["door", "approval"],
      click: "https://hub.example/approvals/ap_1",
      actions: [
        { action: "view", label: "Review", url: "https://hub.example/approvals/ap_1" },
        { action: "view", label: "Activity", url: "https://hub.example/doors/back/activity" },
      ],
    });
  });

  it("maps the five priorities to ntfy's 1 (min) to 5 (urgent)", async () => {
    const ntfy = await ntfyServer();
    const priorities: Priority[] = ["min", "low", "default", "high", "urgent"];
    for (const priority of priorities)
      expect((await publish(ntfy, "levels", null, { ...message, priority })).ok).toBe(true);
    expect(ntfy.published.map((p) => p.json.priority)).toEqual([1, 2, 3, 4, 5]);
  });

  it("sends at most three actions, no click without a URL, and no Authorization without a token", async () => {
    const ntfy = await ntfyServer();
    const actions = [1, 2, 3, 4, 5].map((n) => ({ label: `Action ${n}`, url: `https://hub.example/${n}` }));
    expect(await publish(ntfy, "public", null, { ...message, url: null, actions })).toMatchObject({
      ok: true,
    });
    const [published] = ntfy.published;
    expect(published?.authorization).toBeUndefined();
    expect(published?.json).not.toHaveProperty("click");
    expect((published?.json.actions as { label: string }[]).map((a) => a.label)).toEqual([
      "Action 1",
      "Action 2",
      "Action 3",
    ]);
  });

  it("fails for good when the token is missing or wrong: unauthorized (HTTP 401)", async () => {
    const ntfy = await ntfyServer();
    ntfy.protectedTopics.set("locked", TOKEN);
    const unauthorized = { ok: false, retryable: false, reason: "unauthorized (HTTP 401)" };
    expect(await publish(ntfy, "locked", null)).toEqual(unauthorized);
    expect(await publish(ntfy, "locked", `tk_${"x".repeat(29)}`)).toEqual(unauthorized);
    expect(ntfy.published).toHaveLength(0);
  });

  it("retries when rate limited: too many requests (HTTP 429)", async () => {
    const ntfy = await ntfyServer();
    ntfy.protectedTopics.set("busy", TOKEN);
    ntfy.rateLimited = true;
    expect(await publish(ntfy, "busy", TOKEN)).toEqual({
      ok: false,
      retryable: true,
      reason: "too many requests (HTTP 429)",
    });
    ntfy.rateLimited = false;
    expect(await publish(ntfy, "busy", TOKEN)).toMatchObject({ ok: true });
  });

  it("retries when the server is down, and never names the token", async () => {
    const ntfy = await ntfyServer();
    const server = servers.pop() as Server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const outcome = await publish(ntfy, "down", TOKEN);
    expect(outcome).toEqual({
      ok: false,
      retryable: true,
      reason: `connection refused (${new URL(ntfy.url).host})`,
    });
  });
});

describe("ntfy configuration", () => {
  function fieldOf(input: unknown): string | undefined {
    try {
      validateNtfyConfig(input);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(LatchkeyError);
      expect((error as LatchkeyError).code).toBe("HUB_BAD_REQUEST");
      expect((error as LatchkeyError).message).not.toContain(TOKEN.slice(3));
      return (error as LatchkeyError).details?.field as string;
    }
  }

  it("accepts a server root, a topic and an optional tk_ token", () => {
    expect(validateNtfyConfig({ server: "https://ntfy.sh", topic: "latchkey-home_1", token: TOKEN })).toEqual(
      {
        server: "https://ntfy.sh",
        topic: "latchkey-home_1",
        token: TOKEN,
      },
    );
    expect(validateNtfyConfig({ server: "http://192.168.1.5:8080/", topic: "a" })).toEqual({
      server: "http://192.168.1.5:8080/",
      topic: "a",
      token: null,
    });
    expect(fieldOf({ server: "https://ntfy.example", topic: "x".repeat(64), token: null })).toBeUndefined();
  });

  it("rejects bad servers, topics, tokens and CAs, naming the field", () => {
    expect(fieldOf(undefined)).toBe("server");
    expect(fieldOf({ server: "ntfy.sh", topic: "t" })).toBe("server");
    expect(fieldOf({ server: "ftp://ntfy.sh", topic: "t" })).toBe("server");
    expect(fieldOf({ server: "https://ntfy.sh/mytopic", topic: "t" })).toBe("server");
    expect(fieldOf({ server: "https://ntfy.sh/?auth=x", topic: "t" })).toBe("server");
    expect(fieldOf({ server: "https://user:pw@ntfy.sh", topic: "t" })).toBe("server");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "" })).toBe("topic");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "x".repeat(65) })).toBe("topic");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "has space" })).toBe("topic");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "a/b" })).toBe("topic");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "t", token: TOKEN.slice(3) })).toBe("token");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "t", token: `${TOKEN}\r\nX-Evil: 1` })).toBe("token");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "t", token: 7 })).toBe("token");
    expect(fieldOf({ server: "https://ntfy.sh", topic: "t", ca: "-----BEGIN CERTIFICATE-----\nnope" })).toBe(
      "ca",
    );
  });
});
