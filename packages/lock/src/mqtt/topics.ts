/**
 * The MQTT topic scheme between locks and the hub. Topics carry only public, random-looking ids:
 * a commissioned lock's `LockId` (a hash of its public key) or a commissioning session id chosen
 * at random by the lock. No names, setup codes or personal data ever appear in a topic.
 *
 *   <prefix>/lock/<lockId>/up          lock → hub, one channel frame per message, QoS 1
 *   <prefix>/lock/<lockId>/down        hub → lock, one channel frame per message, QoS 1
 *   <prefix>/lock/<lockId>/status      presence: 1 byte, 0x01 online / 0x00 offline (the will);
 *                                      retained, the only retained topic (never a frame)
 *   <prefix>/commission/<sessionId>/up|down   a not-yet-commissioned lock's PAKE exchange
 */
import { LatchkeyError, type LockId } from "@latchkey/protocol";

export const DEFAULT_TOPIC_PREFIX = "latchkey/v1";

/** Lower-case hex of 16 bytes, as `LockId` is defined. */
const LOCK_ID = /^[0-9a-f]{32}$/;
/** "c" + 32 hex: a random commissioning session id; never equal to a LockId (so never the same MQTT client id). */
const SESSION_ID = /^c[0-9a-f]{32}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export const STATUS_ONLINE = Uint8Array.of(1);
export const STATUS_OFFLINE = Uint8Array.of(0);

export function isLockId(value: string): value is LockId {
  return LOCK_ID.test(value);
}

export function isCommissioningSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

export type ParsedTopic =
  | { readonly kind: "lock"; readonly lockId: LockId; readonly channel: "up" | "down" | "status" }
  | { readonly kind: "commission"; readonly sessionId: string; readonly channel: "up" | "down" };

export class TopicScheme {
  constructor(readonly prefix: string = DEFAULT_TOPIC_PREFIX) {
    if (!PREFIX.test(prefix) || prefix.length > 128) {
      throw new LatchkeyError(
        "HUB_GATEWAY_TOPIC_INVALID",
        "topic prefix must be 1-128 characters of [A-Za-z0-9_-] levels separated by /",
      );
    }
  }

  lockUp(lockId: LockId): string {
    return `${this.prefix}/lock/${checkLockId(lockId)}/up`;
  }
  lockDown(lockId: LockId): string {
    return `${this.prefix}/lock/${checkLockId(lockId)}/down`;
  }
  lockStatus(lockId: LockId): string {
    return `${this.prefix}/lock/${checkLockId(lockId)}/status`;
  }
  commissionUp(sessionId: string): string {
    return `${this.prefix}/commission/${checkSessionId(sessionId)}/up`;
  }
  commissionDown(sessionId: string): string {
    return `${this.prefix}/commission/${checkSessionId(sessionId)}/down`;
  }

  /** The hub's subscriptions: every lock's up and status topics and every commissioning up topic. */
  hubSubscriptions(): readonly string[] {
    return [`${this.prefix}/lock/+/up`, `${this.prefix}/lock/+/status`, `${this.prefix}/commission/+/up`];
  }

  /** Parses a concrete topic of this scheme; null for anything else. */
  parse(topic: string): ParsedTopic | null {
    if (!topic.startsWith(this.prefix + "/")) return null;
    const rest = topic.slice(this.prefix.length + 1).split("/");
    if (rest.length !== 3) return null;
    const [kind, id, channel] = rest as [string, string, string];
    if (kind === "lock" && isLockId(id) && (channel === "up" || channel === "down" || channel === "status")) {
      return { kind: "lock", lockId: id, channel };
    }
    if (kind === "commission" && isCommissioningSessionId(id) && (channel === "up" || channel === "down")) {
      return { kind: "commission", sessionId: id, channel };
    }
    return null;
  }
}

function checkLockId(lockId: string): string {
  if (!isLockId(lockId)) {
    throw new LatchkeyError("HUB_GATEWAY_TOPIC_INVALID", "lockId must be 32 lower-case hex characters");
  }
  return lockId;
}

function checkSessionId(sessionId: string): string {
  if (!isCommissioningSessionId(sessionId)) {
    throw new LatchkeyError(
      "HUB_GATEWAY_TOPIC_INVALID",
      'commissioning session id must be "c" followed by 32 lower-case hex characters',
    );
  }
  return sessionId;
}
