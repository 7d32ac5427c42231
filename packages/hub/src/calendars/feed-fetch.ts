/**
 * Downloading a booking calendar: http(s) only, public addresses only unless configured
 * (feed-address.ts), at most five redirects, a time limit and a size limit, and a body that
 * must be a whole iCalendar file. Any failure is HUB_CALENDAR_FEED_UNAVAILABLE, whose message
 * never repeats the URL (it carries the feed's secret token).
 */
import { lookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { LatchkeyError } from "@latchkey/protocol";
import { isPublicAddress } from "./feed-address.js";

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Private, loopback and link-local addresses too (feed-address.ts); off unless configured. */
  readonly allowPrivateAddresses: boolean;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  timeoutMs: 15_000,
  maxBytes: 2 * 1024 * 1024,
  allowPrivateAddresses: false,
};

/** Downloads a feed; resolves to its text, or rejects saying why (never with the URL). */
export type FeedFetcher = (url: string, limits: FetchLimits) => Promise<string>;

function unavailable(reason: string): LatchkeyError {
  return new LatchkeyError("HUB_CALENDAR_FEED_UNAVAILABLE", `calendar feed ${reason}`, { reason });
}

/** Refuses anything but an absolute http(s) URL; answers its host. */
export function feedUrlHost(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LatchkeyError("HUB_BAD_REQUEST", "url is not an absolute URL", { field: "url" });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new LatchkeyError("HUB_BAD_REQUEST", "url must be http or https", { field: "url" });
  return parsed.host;
}

const MAX_REDIRECTS = 5;

/** A refused address, told apart from other lookup failures by its code. */
const PRIVATE_ADDRESS = "LATCHKEY_PRIVATE_ADDRESS";

/**
 * dns.lookup that refuses a name with any non-public address. It runs when the socket connects,
 * so a name that answers a public address to a first check and a private one to the connection
 * (DNS rebinding) is still refused.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err !== null) return callback(err, "", 4);
    if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
      const refused = Object.assign(new Error(`${hostname} has a private address`), {
        code: PRIVATE_ADDRESS,
      });
      return callback(refused, "", 4);
    }
    if (options.all === true)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

const refusedPrivate = () =>
  unavailable("is on a private or local address (start the hub with --calendar-private-feeds to allow that)");

/** One GET; resolves to the response (a redirect's location is the caller's to follow). */
function get(url: URL, limits: FetchLimits, signal: AbortSignal): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // An address written in the URL is never looked up, so it is checked here.
  if (!limits.allowPrivateAddresses && isIP(host) !== 0 && !isPublicAddress(host))
    return Promise.reject(refusedPrivate());
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "GET",
        headers: { accept: "text/calendar, */*;q=0.5", "user-agent": "Latchkey hub" },
        signal,
        ...(limits.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup }),
      },
      resolve,
    );
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === PRIVATE_ADDRESS) reject(refusedPrivate());
      else if (signal.aborted) reject(unavailable("timed out"));
      else reject(unavailable("could not be reached"));
    });
    req.end();
  });
}

export const fetchFeed: FeedFetcher = async (url, limits) => {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let target = new URL(url);
  let response: IncomingMessage;
  for (let hops = 0; ; hops++) {
    response = await get(target, limits, signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status < 300 || status >= 400 || location === undefined) break;
    response.resume();
    if (hops === MAX_REDIRECTS) throw unavailable("redirects too often");
    try {
      target = new URL(location, target);
    } catch {
      throw unavailable("redirects to an invalid address");
    }
    if (target.protocol !== "https:" && target.protocol !== "http:")
      throw unavailable("redirects to something other than http or https");
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    response.resume();
    throw unavailable(`answered HTTP ${status}`);
  }
  const declared = Number(response.headers["content-length"] ?? "0");
  if (declared > limits.maxBytes) {
    response.destroy();
    throw unavailable("is too large");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        response.destroy();
        throw unavailable("is too large");
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof LatchkeyError) throw e;
    throw unavailable(signal.aborted ? "timed out" : "download was interrupted");
  }
  return Buffer.concat(chunks).toString("utf8");
};
