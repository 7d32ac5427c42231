/**
 * The answer to a wrong bearer secret (a guest link, a doorbell token): counted as an
 * authentication failure, throttled per client address like every other guess, and the same
 * "not found" as asking for something that does not exist.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../server/context.js";
import { ADDRESS_POLICY } from "./rate-limit.js";

export async function refuseUnknownSecret(ctx: HubContext, kind: string, ip: string): Promise<never> {
  ctx.metrics.authFailure(kind);
  await ctx.throttle.fail(`ip:${ip}`, ADDRESS_POLICY);
  throw new LatchkeyError("HUB_NOT_FOUND", "not found");
}
