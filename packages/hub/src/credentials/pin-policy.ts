/**
 * The hub's side of the one PIN policy (`@latchkey/protocol`'s pin-policy, which every lock
 * applies when a PIN is set). Each lock reports the policy it applies (StateReport); a PIN is
 * sealed to every lock of its site, so the hub holds a chosen PIN to the strictest policy among
 * them — the reference lock's default for a lock that has not reported yet — and refuses one a
 * lock would refuse before anything is created. Generated PINs are drawn to pass it.
 */
import {
  DEFAULT_PIN_POLICY,
  LatchkeyError,
  generatePin,
  pinWeakness,
  type PinPolicy,
} from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { Database, IngestTables } from "../db/schema.js";
import type { LockCondition } from "../sync/lock-condition.js";

/** The default policy's bounds (what the web app offers, and the guest-link form). */
export const PIN_MIN = DEFAULT_PIN_POLICY.minLength;
export const PIN_MAX = DEFAULT_PIN_POLICY.maxLength;
/** Generated PINs are this long unless asked otherwise (or the locks want more). */
export const PIN_DEFAULT_LENGTH = 6;

/** The policy every one of `policies` accepts (the default when there are none). */
export function strictestPinPolicy(policies: readonly PinPolicy[]): PinPolicy {
  if (policies.length === 0) return DEFAULT_PIN_POLICY;
  return {
    minLength: Math.max(...policies.map((p) => p.minLength)),
    maxLength: Math.min(...policies.map((p) => p.maxLength)),
    rejectRepeats: policies.some((p) => p.rejectRepeats),
    rejectRuns: policies.some((p) => p.rejectRuns),
    rejectCommon: policies.some((p) => p.rejectCommon),
  };
}

/** The strictest policy among the site's bound locks (as each last reported it). */
export async function sitePinPolicy(db: Kysely<Database>, siteId: string): Promise<PinPolicy> {
  const rows = await db
    .withTables<Pick<IngestTables, "locks">>()
    .selectFrom("locks")
    .innerJoin("doors", "doors.id", "locks.door_id")
    .select("locks.state_json as stateJson")
    .where("doors.site_id", "=", siteId)
    .execute();
  return strictestPinPolicy(
    rows.map((r) =>
      r.stateJson === null
        ? DEFAULT_PIN_POLICY
        : ((JSON.parse(r.stateJson) as LockCondition).pinPolicy ?? DEFAULT_PIN_POLICY),
    ),
  );
}

/** HUB_PIN_WEAK (naming the rule, never the PIN) unless `policy` and the phone rule accept `pin`. */
export function assertStrongPin(
  pin: string,
  phone: string | null,
  policy: PinPolicy = DEFAULT_PIN_POLICY,
): void {
  const weakness = pinWeakness(pin, policy, phone);
  if (weakness !== null)
    throw new LatchkeyError("HUB_PIN_WEAK", `PIN ${weakness.reason}`, {
      field: "pin",
      rule: weakness.rule,
      minLength: policy.minLength,
      maxLength: policy.maxLength,
    });
}

/** The length a generated PIN has when none is asked for: the default, or the locks' minimum. */
export function defaultPinLength(policy: PinPolicy): number {
  return Math.max(PIN_DEFAULT_LENGTH, policy.minLength);
}

/** A uniformly random PIN the locks accept (HUB_PIN_WEAK for a length outside the policy). */
export function generateHubPin(
  length: number,
  phone: string | null,
  policy: PinPolicy = DEFAULT_PIN_POLICY,
): string {
  const pin = generatePin(length, policy, phone);
  if (pin === null)
    throw new LatchkeyError(
      "HUB_PIN_WEAK",
      `PIN must have ${policy.minLength} to ${policy.maxLength} digits`,
      { field: "length", rule: "length", minLength: policy.minLength, maxLength: policy.maxLength },
    );
  return pin;
}
