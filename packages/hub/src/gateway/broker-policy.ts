/**
 * Who may do what on the embedded broker. Three kinds of client:
 *  - the hub's own client (username "latchkey-hub", a random password made at start);
 *  - a commissioned lock (username = client id = its LockId, password issued at commissioning):
 *    publishes only its own `up` and `status` topics, subscribes only its own `down` topic;
 *  - a lock being commissioned (username "latchkey-commissioning", client id = a random
 *    commissioning session id): publishes only that session's `up`, subscribes only its `down`.
 * Nobody else connects, nobody subscribes to wildcards but the hub, and only `status` may be retained.
 * The same rules, written for Mosquitto, are in docs/hub.md ("Device gateway").
 */
import type { LockId } from "@latchkey/protocol";
import { isCommissioningSessionId, isLockId, type TopicScheme } from "./topics.js";

export const HUB_USERNAME = "latchkey-hub";
export const COMMISSIONING_USERNAME = "latchkey-commissioning";

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
