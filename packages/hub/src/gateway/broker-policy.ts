/**
 * Who may do what on the embedded broker. Three kinds of client:
 *  - the hub's own client (username "latchkey-hub", a random password made at start);
 *  - a commissioned lock (username = client id = its LockId, password issued at commissioning):
 *    publishes only its own `up` and `status` topics, subscribes only its own `down` topic;
 *  - a lock being commissioned (username "latchkey-commissioning", client id = a random
 *    commissioning session id): publishes only that session's `up`, subscribes only its `down`.
 * Nobody else connects, nobody subscribes to wildcards but the hub, and only `status` may be retained.
 * `mosquittoAcl` writes the same rules for Mosquitto (`latchkey broker-config`).
 */
import type { LockId } from "@latchkey/protocol";
import { isCommissioningSessionId, isLockId, type TopicScheme } from "./topics.js";

export const HUB_USERNAME = "latchkey-hub";
export const COMMISSIONING_USERNAME = "latchkey-commissioning";
/**
 * The commissioning login's password: public, the same in every lock, and no secret. Mosquitto
 * refuses a user without one, and a broker that admits anonymous clients would admit them
 * everywhere; this login is admitted only to one session's commissioning topics (`%c`, the client
 * id, is the session id), where the PAKE over the setup code protects the exchange.
 */
export const COMMISSIONING_PASSWORD = "latchkey-commissioning";

export type BrokerIdentity =
  | { readonly role: "hub" }
  | { readonly role: "lock"; readonly lockId: LockId }
  | { readonly role: "commissioning"; readonly sessionId: string };

export interface ConnectAttempt {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Uint8Array | undefined;
}

export interface IdentityChecks {
  /** Constant-time check of the hub client's password. */
  isHubPassword(password: Uint8Array): boolean;
  /** Constant-time check of a commissioned, still admitted lock's password. */
  isLockPassword(lockId: LockId, password: Uint8Array): boolean;
  /** Whether another commissioning client may connect now. */
  commissioningAllowed(): boolean;
}

/** The identity a CONNECT proves, or null (refused: bad username or password). */
export function identify(attempt: ConnectAttempt, checks: IdentityChecks): BrokerIdentity | null {
  const { clientId, username, password } = attempt;
  if (username === HUB_USERNAME) {
    return clientId.startsWith("latchkey-hub-") && password !== undefined && checks.isHubPassword(password)
      ? { role: "hub" }
      : null;
  }
  if (username === COMMISSIONING_USERNAME) {
    return isCommissioningSessionId(clientId) && checks.commissioningAllowed()
      ? { role: "commissioning", sessionId: clientId }
      : null;
  }
  if (username !== undefined && isLockId(username) && clientId === username && password !== undefined) {
    return checks.isLockPassword(username, password) ? { role: "lock", lockId: username } : null;
  }
  return null;
}

export interface PublishAttempt {
  readonly topic: string;
  readonly payloadBytes: number;
  readonly retain: boolean;
}

export type PublishVerdict = "allow" | "forbidden" | "too-large";

export function mayPublish(
  who: BrokerIdentity,
  scheme: TopicScheme,
  packet: PublishAttempt,
  maxFrameBytes: number,
): PublishVerdict {
  const topic = scheme.parse(packet.topic);
  if (topic === null) return "forbidden";
  let allowed: boolean;
  switch (who.role) {
    case "hub":
      allowed = topic.channel === "down";
      break;
    case "lock":
      allowed =
        topic.kind === "lock" &&
        topic.lockId === who.lockId &&
        (topic.channel === "up" || topic.channel === "status");
      break;
    case "commissioning":
      allowed = topic.kind === "commission" && topic.sessionId === who.sessionId && topic.channel === "up";
      break;
  }
  if (!allowed) return "forbidden";
  if (topic.channel === "status") return packet.payloadBytes === 1 ? "allow" : "forbidden";
  if (packet.retain) return "forbidden";
  return packet.payloadBytes > maxFrameBytes ? "too-large" : "allow";
}

export function maySubscribe(who: BrokerIdentity, scheme: TopicScheme, filter: string): boolean {
  switch (who.role) {
    case "hub":
      return scheme.hubSubscriptions().includes(filter);
    case "lock":
      return filter === scheme.lockDown(who.lockId);
    case "commissioning":
      return filter === scheme.commissionDown(who.sessionId);
  }
}

/**
 * The rules above as a Mosquitto `acl_file`: the hub's user, one `user` block per commissioned
 * lock (its own topics only), and `pattern` lines confining commissioning clients to their own
 * session (`%c`). Mosquitto applies patterns to every client; for a lock or the hub they name a
 * commissioning topic no session can have (session ids are "c" + 32 hex digits), which the hub
 * never reads. Mosquitto cannot refuse retained frames or wildcard subscriptions by a lock to its
 * own topics; the hub drops retained frames itself.
 */
export function mosquittoAcl(scheme: TopicScheme, lockIds: readonly LockId[]): string {
  const p = scheme.prefix;
  const lines = [
    "# Generated by `latchkey broker-config` from the hub's database: edits are overwritten.",
    "# The hub",
    `user ${HUB_USERNAME}`,
    `topic write ${p}/lock/+/down`,
    `topic write ${p}/commission/+/down`,
    ...scheme.hubSubscriptions().map((filter) => `topic read ${filter}`),
    "",
  ];
  for (const lockId of [...lockIds].sort()) {
    lines.push(
      `user ${lockId}`,
      `topic write ${scheme.lockUp(lockId)}`,
      `topic write ${scheme.lockStatus(lockId)}`,
      `topic read ${scheme.lockDown(lockId)}`,
      "",
    );
  }
  lines.push(
    "# A lock being commissioned: only its own session's topics (%c = client id = session id)",
    `pattern write ${p}/commission/%c/up`,
    `pattern read ${p}/commission/%c/down`,
    "",
  );
  return lines.join("\n");
}
