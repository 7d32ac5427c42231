/**
 * A real, local Web Push service for tests, behaving like FCM or Mozilla's autopush: it hands out
 * subscriptions (as a browser's PushManager would), checks each push's VAPID authorization
 * (RFC 8292), decrypts its aes128gcm body (RFC 8188 + RFC 8291) and records what arrived.
 *
 * Written with node:crypto only, independent of the `web-push` library, so a test that passes
 * proves the hub's messages would be accepted and readable by a real browser.
 */
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
  type ECDH,
  type KeyObject,
} from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedCertificate } from "./tls.js";

/** What `PushSubscription.toJSON()` gives a web app, plus the private key only the browser holds. */
export interface BrowserSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** The user agent's ECDH private key (base64url), which decrypts the messages. */
  readonly privateKey: string;
}

export interface ReceivedPush {
  readonly endpoint: string;
  /** The decrypted payload, as the service worker's `event.data.text()` would read it. */
  readonly payload: string;
  /** Size of the encrypted body in octets. */
  readonly bodyBytes: number;
  readonly headers: {
    readonly ttl: string | undefined;
    readonly urgency: string | undefined;
    readonly topic: string | undefined;
    readonly contentEncoding: string | undefined;
  };
  /** The verified VAPID token's claims and key (RFC 8292 §2, §3.2). */
  readonly vapid: {
    readonly publicKey: string;
    readonly aud: string;
    readonly exp: number;
    readonly sub: string;
  };
}

export interface RefusedPush {
  readonly endpoint: string;
  readonly status: number;
  readonly reason: string;
}

export interface LocalPushService {
  /** https://localhost:<port> (or http://127.0.0.1:<port> when started without TLS). */
  readonly origin: string;
  /** The service's self-signed certificate (PEM), for the channel's `ca`; null without TLS. */
  readonly ca: string | null;
  /** Messages accepted (201), in order. */
  readonly received: readonly ReceivedPush[];
  /** Requests answered with an error, in order, with the service's reason. */
  readonly refused: readonly RefusedPush[];
  /**
   * A new subscription. With `applicationServerKey` (the VAPID public key, as a web app passes
   * to `PushManager.subscribe`), pushes signed with any other key are refused with 403.
   */
  subscribe(options?: { applicationServerKey?: string }): BrowserSubscription;
  /** Answer every push to this endpoint with `status` (410 gone, 429, 500…); null to stop. */
  answerWith(endpoint: string, status: number | null): void;
  close(): Promise<void>;
}

/** RFC 8030 §7.2 / RFC 8291 §4: a push service need not accept more than 4096 octets. */
export const MAX_PUSH_BODY_BYTES = 4096;
/** RFC 8292 §2: the token's expiry is at most 24 hours ahead. */
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

interface StoredSubscription {
  readonly endpoint: string;
  readonly userAgentKey: ECDH;
  readonly authSecret: Buffer;
  readonly applicationServerKey: string | null;
  forcedStatus: number | null;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

export async function startPushService(options: { tls?: boolean } = {}): Promise<LocalPushService> {
  const useTls = options.tls ?? true;
  const subscriptions = new Map<string, StoredSubscription>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];

  let ca: string | null = null;
  let server: http.Server;
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    void handle(request, response);
  };
  if (useTls) {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-push-"));
    try {
      const files = selfSignedCertificate(dir);
      ca = readFileSync(files.cert, "utf8");
      server = https.createServer({ cert: ca, key: readFileSync(files.key, "utf8") }, handler);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    server = http.createServer(handler);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // The certificate names localhost (CN); plain http uses the address itself.
  const origin = useTls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const endpoint = origin + (request.url ?? "/");
    try {
      const body = await readBody(request);
      const subscription = subscriptions.get(endpoint);
      if (request.method !== "POST" || subscription === undefined) {
        throw new Refusal(404, "no such subscription");
      }
      const vapid = checkVapid(request.headers.authorization, origin, subscription);
      if (subscription.forcedStatus !== null) throw new Refusal(subscription.forcedStatus, "told to refuse");
      const ttl = headerText(request.headers.ttl);
      // RFC 8030 §5.2: a push service MUST refuse a request without TTL.
      if (ttl === undefined || !/^\d+$/.test(ttl)) throw new Refusal(400, "missing or bad TTL header");
      const contentEncoding = request.headers["content-encoding"];
      if (contentEncoding !== "aes128gcm") throw new Refusal(415, "content encoding is not aes128gcm");
      if (body.length > MAX_PUSH_BODY_BYTES) throw new Refusal(413, `body of ${body.length} bytes`);
      let payload: string;
      try {
        payload = decryptAes128gcm(body, subscription.userAgentKey, subscription.authSecret).toString("utf8");
      } catch (error) {
        throw new Refusal(400, `cannot decrypt: ${(error as Error).message}`);
      }
      received.push({
        endpoint,
        payload,
        bodyBytes: body.length,
        headers: {
          ttl,
          urgency: headerText(request.headers.urgency),
          topic: headerText(request.headers.topic),
          contentEncoding,
        },
        vapid,
      });
      // RFC 8030 §5: 201 Created, with the push message resource in Location.
      response.writeHead(201, { Location: `${origin}/message/${randomUUID()}` }).end();
    } catch (error) {
      const status = error instanceof Refusal ? error.status : 500;
      const reason = error instanceof Error ? error.message : String(error);
      refused.push({ endpoint, status, reason });
      response.writeHead(status, { "Content-Type": "text/plain" }).end(reason);
    }
  }

  return {
    origin,
    ca,
    received,
    refused,
    subscribe(subscribeOptions = {}) {
      const userAgentKey = createECDH("prime256v1");
      userAgentKey.generateKeys();
      const authSecret = randomBytes(16); // RFC 8291 §3.2
      const endpoint = `${origin}/push/${randomBytes(24).toString("base64url")}`;
      subscriptions.set(endpoint, {
        endpoint,
        userAgentKey,
        authSecret,
        applicationServerKey: subscribeOptions.applicationServerKey ?? null,
        forcedStatus: null,
      });
      return {
        endpoint,
        keys: {
          p256dh: userAgentKey.getPublicKey().toString("base64url"),
          auth: authSecret.toString("base64url"),
        },
        privateKey: userAgentKey.getPrivateKey().toString("base64url"),
      };
    },
    answerWith(endpoint, status) {
      const subscription = subscriptions.get(endpoint);
      if (subscription === undefined) throw new Error("unknown endpoint");
      subscription.forcedStatus = status;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * RFC 8292 §3: `Authorization: vapid t=<JWT>, k=<public key>`. The JWT is ES256-signed by k, its
 * `aud` is this service's origin, `exp` is in the future and at most 24 h away, `sub` a contact.
 * 401 for a bad token; 403 when k is not the key the subscription was made with (RFC 8292 §4.2).
 */
function checkVapid(
  authorization: string | undefined,
  origin: string,
  subscription: StoredSubscription,
): ReceivedPush["vapid"] {
  const match = /^vapid\s+(.+)$/i.exec(authorization ?? "");
  if (match === null) throw new Refusal(401, "no vapid authorization");
  const parameters = new Map<string, string>();
  for (const part of (match[1] ?? "").split(",")) {
    const equals = part.indexOf("=");
    if (equals > 0) parameters.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim());
  }
  const token = parameters.get("t");
  const publicKeyText = parameters.get("k");
  if (token === undefined || publicKeyText === undefined) throw new Refusal(401, "vapid t or k missing");

  const publicKey = p256PublicKey(publicKeyText);
  const [headerPart, claimsPart, signaturePart, extra] = token.split(".");
  if (
    headerPart === undefined ||
    claimsPart === undefined ||
    signaturePart === undefined ||
    extra !== undefined
  ) {
    throw new Refusal(401, "token is not a JWS compact serialisation");
  }
  const header = parseJsonPart(headerPart);
  if (header.alg !== "ES256") throw new Refusal(401, "token algorithm is not ES256");
  // RFC 7518 §3.4: the ES256 signature is R || S, 32 octets each.
  const signature = Buffer.from(signaturePart, "base64url");
  const signedText = Buffer.from(`${headerPart}.${claimsPart}`);
  if (
    signature.length !== 64 ||
    !verify("sha256", signedText, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)
  ) {
    throw new Refusal(401, "token signature does not verify with k");
  }
  const claims = parseJsonPart(claimsPart);
  if (claims.aud !== origin) throw new Refusal(401, "token audience is not this push service");
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp <= now) throw new Refusal(401, "token expired");
  if (claims.exp > now + MAX_TOKEN_LIFETIME_SECONDS) throw new Refusal(401, "token expiry beyond 24 hours");
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new Refusal(401, "token subject is not a mailto: or https: contact");
  }
  if (subscription.applicationServerKey !== null && subscription.applicationServerKey !== publicKeyText) {
    throw new Refusal(403, "k is not the subscription's application server key");
  }
  return { publicKey: publicKeyText, aud: claims.aud, exp: claims.exp, sub: claims.sub };
}

function p256PublicKey(text: string): KeyObject {
  const raw = Buffer.from(text, "base64url");
  if (raw.length !== 65 || raw[0] !== 0x04) throw new Refusal(401, "k is not an uncompressed P-256 point");
  try {
    return createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: raw.subarray(1, 33).toString("base64url"),
        y: raw.subarray(33).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    throw new Refusal(401, "k is not on the P-256 curve");
  }
}

function parseJsonPart(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new Refusal(401, "token part is not a JSON object");
}

/**
 * Decrypts an aes128gcm push message body with the user agent's key and auth secret.
 * RFC 8188 §2.1 header: salt (16) | rs (uint32) | idlen (1) | keyid, where for Web Push the
 * keyid is the application server's ephemeral public key (RFC 8291 §4).
 */
export function decryptAes128gcm(body: Buffer, userAgentKey: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 21) throw new Error("body shorter than the header");
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body.readUInt8(20);
  if (keyIdLength !== 65) throw new Error("keyid is not a P-256 public key");
  const applicationServerPublicKey = body.subarray(21, 21 + keyIdLength);
  const records = body.subarray(21 + keyIdLength);
  if (recordSize < 18) throw new Error("record size too small"); // RFC 8188 §2.1

  // RFC 8291 §3.3: ECDH between the user agent's key and the sender's ephemeral key.
  const ecdhSecret = userAgentKey.computeSecret(applicationServerPublicKey);
  // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32).
  const keyInfo = Buffer.concat([
    Buffer.from("WebPush: info\0", "latin1"),
    userAgentKey.getPublicKey(),
    applicationServerPublicKey,
  ]);
  const inputKey = Buffer.from(hkdfSync("sha256", ecdhSecret, authSecret, keyInfo, 32));
  // RFC 8188 §2.2 and §2.3: content-encryption key and base nonce from the salt and IKM.
  const contentKey = Buffer.from(
    hkdfSync("sha256", inputKey, salt, Buffer.from("Content-Encoding: aes128gcm\0", "latin1"), 16),
  );
  const baseNonce = Buffer.from(
    hkdfSync("sha256", inputKey, salt, Buffer.from("Content-Encoding: nonce\0", "latin1"), 12),
  );

  const plaintext: Buffer[] = [];
  let sequence = 0;
  for (let offset = 0; offset < records.length; offset += recordSize, sequence += 1) {
    const record = records.subarray(offset, offset + recordSize);
    const isLast = offset + recordSize >= records.length;
    if (record.length < 17) throw new Error("record shorter than its tag");
    // RFC 8188 §2.3: the nonce is the base nonce XOR the record's sequence number.
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ sequence) >>> 0, 8); // fewer than 2^32 records
    const decipher = createDecipheriv("aes-128-gcm", contentKey, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // RFC 8188 §2: data || delimiter (0x02 last record, 0x01 otherwise) || zero padding.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end -= 1;
    if (end < 0 || padded[end] !== (isLast ? 2 : 1)) throw new Error("bad padding delimiter");
    plaintext.push(padded.subarray(0, end));
  }
  if (sequence === 0) throw new Error("no records");
  return Buffer.concat(plaintext);
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const limit = 64 * 1024; // well above the 4096 checked later, so 413 can be answered
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on("end", () => {
      if (size > limit) reject(new Refusal(413, "body far too large"));
      else resolve(Buffer.concat(chunks));
    });
    request.on("error", reject);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
