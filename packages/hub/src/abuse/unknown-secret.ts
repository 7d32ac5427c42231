/**
 * The answer to a wrong bearer secret (a guest link, a doorbell token): counted as an
 * authentication failure, throttled per client address like every other guess, and the same
 * "not found" as asking for something that does not exist.
 */
import { LatchkeyError } from "@latchkey/protocol";
import { ADDRESS_POLICY, type Throttle } from "./rate-limit.js";

/** The part of the hub's context this answer uses. */
export interface SecretGuards {
  readonly throttle: Throttle;
  readonly metrics: { authFailure(kind: string): void };
}

export async function refuseUnknownSecret(ctx: SecretGuards, kind: string, ip: string): Promise<never> {
  ctx.metrics.authFailure(kind);
  await ctx.throttle.fail(`ip:${ip}`, ADDRESS_POLICY);
  throw new LatchkeyError("HUB_NOT_FOUND", "not found");
}
