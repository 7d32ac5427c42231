import { createPrivateKey, sign } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { LatchkeyError } from "@latchkey/protocol";
import webpush from "web-push";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Channel, DeliveryOutcome, OutboundMessage, Priority } from "./channel.js";
import {
  startPushService,
  type BrowserSubscription,
  type LocalPushService,
} from "../../testing/push-service.js";
import {
  MAX_PUSH_PLAINTEXT_BYTES,
  PUSH_TTL_SECONDS,
  isSubscriptionGone,
  newVapidKeys,
  topicFor,
  validatePushSubscription,
  webPushChannel,
  type PushSubscription,
} from "./web-push.js";

const SUBJECT = "mailto:owner@example.org";
const vapid = { ...newVapidKeys(), subject: SUBJECT };
let service: LocalPushService;
let counter = 0;

beforeAll(async () => {
  service = await startPushService();
});
afterAll(async () => {
  await service.close();
});

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  counter += 1;
  return {
    id: `msg-${counter}-${Date.now()}`,
    event: "alert.forced-entry",
    title: "Front door forced open",
    body: "The front door opened without a credential at 14:02.",
    priority: "urgent",
    tags: ["alert", "door"],
    url: "https://hub.example.org/doors/front/activity",
    actions: [
      { label: "Open activity", url: "https://hub.example.org/doors/front/activity" },
      { label: "Lock all", url: "https://hub.example.org/site/lockdown" },
      { label: "Third", url: "https://hub.example.org/ignored" },
    ],
    occurredAt: Date.UTC(2026, 11, 7, 14, 2),
    data: { lockId: "front" },
    ...overrides,
  };
}

function subscriptionOf(browser: BrowserSubscription): PushSubscription {
  return { endpoint: browser.endpoint, keys: browser.keys };
}

/** A channel trusting the local service's certificate; `ca: null` trusts only the default roots. */
function channelFor(browser: BrowserSubscription, keys = vapid, ca: string | null = service.ca) {
  return webPushChannel({
    subscription: subscriptionOf(browser),
    vapid: keys,
    ...(ca === null ? {} : { ca }),
  });
}

const send = (channel: Channel, msg: OutboundMessage = message()): Promise<DeliveryOutcome> =>
  channel.send(msg, { signal: new AbortController().signal });

function receivedAt(endpoint: string) {
  return service.received.filter((push) => push.endpoint === endpoint);
}

function expectBadRequest(action: () => unknown, field: string): LatchkeyError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(LatchkeyError);
    const latchkeyError = error as LatchkeyError;
    expect(latchkeyError.code).toBe("HUB_BAD_REQUEST");
    expect(latchkeyError.details).toEqual({ field });
    return latchkeyError;
  }
  throw new Error(`expected a refusal for ${field}`);
}

describe("web push channel against a local push service", () => {
  it("delivers a message the subscriber decrypts to the JSON sent, with a valid VAPID token", async () => {
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    const msg = message();
    const outcome = await send(channelFor(browser), msg);
    expect(outcome).toEqual({ ok: true, detail: `accepted by ${new URL(service.origin).host} (HTTP 201)` });

    const [push, ...more] = receivedAt(browser.endpoint);
    expect(more).toHaveLength(0);
    expect(JSON.parse(push!.payload)).toEqual({
      id: msg.id,
      title: msg.title,
      body: msg.body,
      url: msg.url,
      actions: msg.actions.slice(0, 2),
      tag: "alert.forced-entry",
      priority: "urgent",
      occurredAt: msg.occurredAt,
    });
    expect(push!.headers.contentEncoding).toBe("aes128gcm");
    const now = Date.now() / 1000;
    expect(push!.vapid).toMatchObject({ publicKey: vapid.publicKey, aud: service.origin, sub: SUBJECT });
    expect(push!.vapid.exp).toBeGreaterThan(now);
    expect(push!.vapid.exp).toBeLessThanOrEqual(now + 24 * 3600);
  });

  it("sets TTL, Urgency from the priority and a Topic derived from the message id", async () => {
    const browser = service.subscribe();
    const channel = channelFor(browser);
    const expected: Record<Priority, string> = {
      min: "very-low",
      low: "low",
      default: "normal",
      high: "high",
      urgent: "high",
    };
    const ids: string[] = [];
    for (const priority of Object.keys(expected) as Priority[]) {
      const msg = message({ priority });
      ids.push(msg.id);
      expect((await send(channel, msg)).ok).toBe(true);
    }
    const pushes = receivedAt(browser.endpoint);
    expect(pushes.map((push) => push.headers.urgency)).toEqual(Object.values(expected));
    expect(new Set(pushes.map((push) => push.headers.ttl))).toEqual(new Set([String(PUSH_TTL_SECONDS)]));
    expect(PUSH_TTL_SECONDS).toBe(86_400);
    const topics = pushes.map((push) => push.headers.topic);
    expect(topics).toEqual(ids.map(topicFor));
    for (const topic of topics) expect(topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/); // RFC 8030 §5.4
    expect(new Set(topics).size).toBe(ids.length);

    // A retry of the same message carries the same Topic, so the service replaces, not repeats.
    const retried = message();
    await send(channel, retried);
    await send(channel, retried);
    const [first, second] = receivedAt(browser.endpoint).slice(-2);
    expect(first!.headers.topic).toBe(second!.headers.topic);
  });

  it("fails permanently when the push service refuses the VAPID key (403)", async () => {
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    const otherKeys = { ...newVapidKeys(), subject: SUBJECT };
    const outcome = await send(channelFor(browser, otherKeys));
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(!outcome.ok && outcome.reason).toMatch(/refused the VAPID authorization \(HTTP 403\)/);
    expect(receivedAt(browser.endpoint)).toHaveLength(0);
    expect(service.refused.at(-1)).toMatchObject({ endpoint: browser.endpoint, status: 403 });
    expect(isSubscriptionGone(outcome)).toBe(false);
  });

  it("reports an expired subscription (404/410) as permanent and gone", async () => {
    const browser = service.subscribe();
    service.answerWith(browser.endpoint, 410);
    const outcome = await send(channelFor(browser));
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      reason: `subscription expired (HTTP 410) at ${new URL(service.origin).host}`,
    });
    expect(isSubscriptionGone(outcome)).toBe(true);

    const unknown = { ...browser, endpoint: `${service.origin}/push/never-issued` };
    const notFound = await send(channelFor(unknown));
    expect(notFound).toMatchObject({ ok: false, retryable: false });
    expect(isSubscriptionGone(notFound)).toBe(true);
  });

  it("retries on 429 and 500, gives up on 413", async () => {
    const browser = service.subscribe();
    const channel = channelFor(browser);
    for (const status of [429, 500, 503]) {
      service.answerWith(browser.endpoint, status);
      const outcome = await send(channel);
      expect(outcome).toMatchObject({ ok: false, retryable: true });
      expect(!outcome.ok && outcome.reason).toContain(`HTTP ${status}`);
      expect(isSubscriptionGone(outcome)).toBe(false);
    }
    service.answerWith(browser.endpoint, 413);
    const tooLarge = await send(channel);
    expect(tooLarge).toMatchObject({ ok: false, retryable: false });
    expect(!tooLarge.ok && tooLarge.reason).toMatch(/^payload too large/);

    service.answerWith(browser.endpoint, null);
    expect((await send(channel)).ok).toBe(true);
    expect(receivedAt(browser.endpoint)).toHaveLength(1);
  });

  it("cuts a long body so the payload fits the 4 KB push limit", async () => {
    const browser = service.subscribe();
    const sentence = "Schloss geöffnet 🔒 — ";
    const body = sentence.repeat(400); // ~9 KB of UTF-8 with 4-byte code points
    const outcome = await send(channelFor(browser), message({ body }));
    expect(outcome.ok).toBe(true);

    const [push] = receivedAt(browser.endpoint);
    expect(Buffer.byteLength(push!.payload, "utf8")).toBeLessThanOrEqual(MAX_PUSH_PLAINTEXT_BYTES);
    expect(push!.bodyBytes).toBeLessThanOrEqual(4096);
    const received = JSON.parse(push!.payload) as { body: string; title: string };
    expect(received.body.endsWith("…")).toBe(true);
    expect(body.startsWith(received.body.slice(0, -1))).toBe(true);
    expect(received.body.length).toBeGreaterThan(1000); // cut to fit, not emptied
    expect(received.title).toBe("Front door forced open");
    expect(received.body).not.toMatch(/\uD83D$/); // no half surrogate pair before the ellipsis
  });

  it("fails permanently, sending nothing, when the message cannot fit even without its body", async () => {
    const browser = service.subscribe();
    const hugeUrl = `https://hub.example.org/${"a".repeat(5000)}`;
    const outcome = await send(channelFor(browser), message({ url: hugeUrl }));
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(!outcome.ok && outcome.reason).toMatch(/^payload too large/);
    expect(receivedAt(browser.endpoint)).toHaveLength(0);
  });

  it("accepts an http endpoint on loopback (development)", async () => {
    const plain = await startPushService({ tls: false });
    try {
      const browser = plain.subscribe();
      expect(browser.endpoint.startsWith("http://127.0.0.1:")).toBe(true);
      const outcome = await send(webPushChannel({ subscription: subscriptionOf(browser), vapid }));
      expect(outcome.ok).toBe(true);
      expect(plain.received).toHaveLength(1);
    } finally {
      await plain.close();
    }
  });

  it("never puts a push key, the auth secret or the endpoint path in an outcome", async () => {
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    const channel = channelFor(browser);
    const outcomes: DeliveryOutcome[] = [await send(channel)];
    for (const status of [410, 429, 500, 413, 400]) {
      service.answerWith(browser.endpoint, status);
      outcomes.push(await send(channel));
    }
    service.answerWith(browser.endpoint, null);
    outcomes.push(await send(channelFor(browser, { ...newVapidKeys(), subject: SUBJECT }))); // 403
    outcomes.push(await send(channel, message({ url: `https://x.example/${"a".repeat(5000)}` })));
    // Not trusting the self-signed certificate: a TLS failure.
    outcomes.push(await send(channelFor(browser, vapid, null)));
    // An aborted attempt and a refused connection.
    const aborted = new AbortController();
    aborted.abort();
    outcomes.push(await channel.send(message(), { signal: aborted.signal }));
    const closedPort = await unusedPort();
    const refusedBrowser = { ...browser, endpoint: `http://127.0.0.1:${closedPort}/push/x` };
    outcomes.push(await send(channelFor(refusedBrowser)));

    const texts = outcomes.map((outcome) => (outcome.ok ? outcome.detail : outcome.reason));
    expect(outcomes[0]!.ok).toBe(true);
    expect(outcomes.filter((outcome) => !outcome.ok)).toHaveLength(outcomes.length - 1);
    const endpointPath = new URL(browser.endpoint).pathname;
    const secrets = [
      vapid.privateKey,
      browser.keys.auth,
      browser.keys.p256dh,
      browser.privateKey,
      endpointPath,
    ];
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(texts.at(-3)).toMatch(/TLS certificate .* not trusted/);
    expect(outcomes.at(-3)).toMatchObject({ retryable: false });
    expect(outcomes.at(-2)).toMatchObject({ retryable: true, reason: "aborted before sending" });
    expect(outcomes.at(-1)).toMatchObject({ retryable: true });
    expect(texts.at(-1)).toMatch(/connection refused/);
  });

  it("gives up a hanging attempt when the signal aborts, as retryable", async () => {
    const hanging = http.createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = hanging.address() as AddressInfo;
      const browser = service.subscribe();
      const channel = channelFor({ ...browser, endpoint: `http://127.0.0.1:${port}/push/x` });
      const outcome = await channel.send(message(), { signal: AbortSignal.timeout(200) });
      expect(outcome).toMatchObject({ ok: false, retryable: true });
      expect(!outcome.ok && outcome.reason).toMatch(/^aborted/);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});

/** RFC 8292 §3: a hand-made `vapid t=…, k=…` header, to probe the push service's checks. */
function vapidHeader(
  keys: { publicKey: string; privateKey: string },
  claims: Record<string, unknown>,
  k?: string,
) {
  const raw = Buffer.from(keys.publicKey, "base64url");
  const key = createPrivateKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: raw.subarray(1, 33).toString("base64url"),
      y: raw.subarray(33).toString("base64url"),
      d: keys.privateKey,
    },
    format: "jwk",
  });
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signed = `${encode({ typ: "JWT", alg: "ES256" })}.${encode(claims)}`;
  const signature = sign("sha256", Buffer.from(signed), { key, dsaEncoding: "ieee-p1363" });
  return `vapid t=${signed}.${signature.toString("base64url")}, k=${k ?? keys.publicKey}`;
}

function postRaw(endpoint: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      endpoint,
      { method: "POST", headers, ca: service.ca ?? undefined },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("the local push service's VAPID checks (RFC 8292)", () => {
  it("accepts a well-formed token and refuses forged, misaddressed or stale ones", async () => {
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    const intruder = newVapidKeys();
    const now = Math.floor(Date.now() / 1000);
    const good = { aud: service.origin, exp: now + 3600, sub: SUBJECT };
    const body = webpush.encrypt(browser.keys.p256dh, browser.keys.auth, "hello", "aes128gcm").cipherText;
    const post = (authorization: string | null) =>
      postRaw(
        browser.endpoint,
        {
          TTL: "60",
          "Content-Encoding": "aes128gcm",
          ...(authorization === null ? {} : { Authorization: authorization }),
        },
        body,
      );

    expect(await post(vapidHeader(vapid, good))).toBe(201);
    expect(receivedAt(browser.endpoint).map((push) => push.payload)).toEqual(["hello"]);

    expect(await post(null)).toBe(401);
    // Signed by another key but claiming the subscription's key.
    expect(await post(vapidHeader(intruder, good, vapid.publicKey))).toBe(401);
    expect(await post(vapidHeader(vapid, { ...good, aud: "https://push.example.org" }))).toBe(401);
    expect(await post(vapidHeader(vapid, { ...good, exp: now - 10 }))).toBe(401);
    expect(await post(vapidHeader(vapid, { ...good, exp: now + 25 * 3600 }))).toBe(401);
    expect(await post(vapidHeader(vapid, { aud: good.aud, exp: good.exp }))).toBe(401);
    // A valid token from a key the subscription was not made for.
    expect(await post(vapidHeader(intruder, good))).toBe(403);
    expect(receivedAt(browser.endpoint)).toHaveLength(1);
  });

  it("refuses a body that does not decrypt with the subscription's keys", async () => {
    const browser = service.subscribe();
    const other = service.subscribe();
    const now = Math.floor(Date.now() / 1000);
    const body = webpush.encrypt(
      other.keys.p256dh,
      other.keys.auth,
      "for someone else",
      "aes128gcm",
    ).cipherText;
    const status = await postRaw(
      browser.endpoint,
      {
        TTL: "60",
        "Content-Encoding": "aes128gcm",
        Authorization: vapidHeader(vapid, { aud: service.origin, exp: now + 60, sub: SUBJECT }),
      },
      body,
    );
    expect(status).toBe(400);
    expect(receivedAt(browser.endpoint)).toHaveLength(0);
  });
});

describe("validatePushSubscription", () => {
  const point = () => service.subscribe().keys;

  it("accepts a browser's subscription, https or loopback http", () => {
    const keys = point();
    for (const endpoint of [
      "https://fcm.googleapis.com/fcm/send/abc:def",
      "http://127.0.0.1:8080/push/x",
      "http://localhost/push",
      "http://[::1]:9/push",
    ]) {
      expect(validatePushSubscription({ endpoint, keys })).toEqual({ endpoint, keys });
    }
  });

  it("refuses bad endpoints", () => {
    const keys = point();
    for (const endpoint of [
      undefined,
      "",
      "/push/relative",
      "not a url",
      "http://push.example.org/x",
      "http://192.168.1.5/x",
      "ftp://push.example.org/x",
      "https://user:pass@push.example.org/x",
      `https://push.example.org/${"a".repeat(2100)}`,
    ]) {
      expectBadRequest(() => validatePushSubscription({ endpoint, keys }), "endpoint");
    }
    expectBadRequest(() => validatePushSubscription(null), "subscription");
    expectBadRequest(() => validatePushSubscription({ endpoint: "https://p.example/x" }), "keys");
  });

  it("refuses keys of the wrong shape without quoting them", () => {
    const { p256dh, auth } = point();
    const raw = Buffer.from(p256dh, "base64url");
    const endpoint = "https://push.example.org/x";
    const offCurve = Buffer.from(raw);
    offCurve[64] = offCurve[64]! ^ 1;
    const compressed = Buffer.concat([Buffer.from([0x02 + (raw[64]! & 1)]), raw.subarray(1, 33)]);
    const badP256dh = [
      raw.subarray(0, 64).toString("base64url"),
      compressed.toString("base64url"),
      offCurve.toString("base64url"),
      Buffer.concat([Buffer.from([0x05]), raw.subarray(1)]).toString("base64url"),
      raw.toString("base64"), // standard alphabet with padding
      42,
    ];
    for (const value of badP256dh) {
      const error = expectBadRequest(
        () => validatePushSubscription({ endpoint, keys: { p256dh: value, auth } }),
        "keys.p256dh",
      );
      expect(error.message).not.toContain(p256dh.slice(0, 20));
      expect(error.message).not.toContain(auth);
    }
    const authBytes = Buffer.from(auth, "base64url");
    for (const value of [
      authBytes.subarray(0, 15).toString("base64url"),
      Buffer.concat([authBytes, Buffer.from([1])]).toString("base64url"),
      `${auth}==`,
      "",
    ]) {
      const error = expectBadRequest(
        () => validatePushSubscription({ endpoint, keys: { p256dh, auth: value } }),
        "keys.auth",
      );
      expect(error.message).not.toContain(auth);
    }
  });

  it("refuses a VAPID configuration whose keys do not match or whose subject is not a contact", () => {
    const subscription = subscriptionOf(service.subscribe());
    const other = newVapidKeys();
    const error = expectBadRequest(
      () => webPushChannel({ subscription, vapid: { ...vapid, privateKey: other.privateKey } }),
      "vapid.privateKey",
    );
    expect(error.message).not.toContain(other.privateKey);
    expectBadRequest(
      () => webPushChannel({ subscription, vapid: { ...vapid, privateKey: "AAAA" } }),
      "vapid.privateKey",
    );
    expectBadRequest(
      () => webPushChannel({ subscription, vapid: { ...vapid, publicKey: other.privateKey } }),
      "vapid.publicKey",
    );
    expectBadRequest(
      () => webPushChannel({ subscription, vapid: { ...vapid, subject: "owner" } }),
      "vapid.subject",
    );
    expectBadRequest(
      () => webPushChannel({ subscription, vapid: { ...vapid, subject: "http://hub.example.org" } }),
      "vapid.subject",
    );
  });

  it("makes fresh P-256 VAPID keys", () => {
    const keys = newVapidKeys();
    expect(Buffer.from(keys.publicKey, "base64url")).toHaveLength(65);
    expect(Buffer.from(keys.privateKey, "base64url")).toHaveLength(32);
    expect(keys.publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(newVapidKeys().privateKey).not.toBe(keys.privateKey);
  });
});

async function unusedPort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
