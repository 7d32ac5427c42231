/**
 * Joining with a one-time link: the first-run setup link creates the owner (and the
 * organisation); an invitation creates a new account with the site role it names, or, when
 * addressed to an account that already exists (a site's manager cannot tell the two apart when
 * inviting), is accepted with that account's own password, throttled like sign-in. Either way a
 * second factor must follow: the new session is in stage "enrol", or "mfa" for an account that
 * already has one.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { Database, OneTimeLinkTable, SessionTable } from "../db/schema.js";
import { ADDRESS_POLICY } from "../abuse/rate-limit.js";
import { recordAudit } from "../audit/audit.js";
import { createSession, endSession } from "../sessions/sessions.js";
import { createOrganisation, DEFAULT_ORGANISATION_NAME } from "../organisation/organisation.js";
import { checkPasswordPolicy } from "./password-policy.js";
import { consumeLink, linkUsername } from "./links.js";
import { hasSecondFactor } from "./factors.js";
import {
  addressKey,
  failAttempt,
  normaliseUsername,
  passwordKey,
  type AccountsContext,
  type SignedIn,
} from "./sign-in.js";

/** Creates the owner account and the organisation with the setup link (AUTH_SETUP_DONE once done). */
export function setUpOwner(
  ctx: AccountsContext,
  input: { token: string; username: string; password: string; organisationName?: string; ip: string },
): Promise<SignedIn> {
  return joinWithLink(ctx, { ...input, purpose: "setup", replacing: null });
}

/**
 * Accepts an invitation with a new password (a new account) or the invited account's own;
 * `replacing`, the browser's session before, ends when an existing account joins, as at sign-in.
 */
export function acceptInvitation(
  ctx: AccountsContext,
  input: { token: string; password: string; ip: string; replacing: SessionTable | null },
): Promise<SignedIn> {
  return joinWithLink(ctx, { ...input, purpose: "invite", username: null });
}

interface Joining {
  readonly purpose: "setup" | "invite";
  readonly token: string;
  /** The chosen user name at setup; an invitation names its own. */
  readonly username: string | null;
  readonly password: string;
  readonly organisationName?: string | undefined;
  readonly ip: string;
  readonly replacing: SessionTable | null;
}

/** The site role an invitation names, for this account (replacing any it had there). */
async function setSiteRole(trx: Kysely<Database>, accountId: string, link: OneTimeLinkTable, now: number) {
  if (link.site_id === null || link.role === null) return;
  await trx
    .deleteFrom("site_roles")
    .where("account_id", "=", accountId)
    .where("site_id", "=", link.site_id)
    .execute();
  await trx
    .insertInto("site_roles")
    .values({ account_id: accountId, site_id: link.site_id, role: link.role, created_at: now })
    .execute();
}

async function joinWithLink(ctx: AccountsContext, joining: Joining): Promise<SignedIn> {
  const { purpose, token, password, ip } = joining;
  const usernameInput = joining.username;
  const addressed = purpose === "invite" ? await linkUsername(ctx, purpose, token) : null;
  const accountKey = addressed === null ? null : passwordKey(normaliseUsername(addressed));
  await ctx.throttle.check(accountKey === null ? [addressKey(ip)] : [accountKey, addressKey(ip)]);
  const now = ctx.now();
  let id: string = randomUUID();
  let joined = false;
  // Validate the password before consuming the link, so a policy refusal does not burn it.
  if (usernameInput !== null) checkPasswordPolicy(password, usernameInput);
  let username = "";
  try {
    await ctx.db.transaction().execute(async (trx) => {
      if (purpose === "setup") {
        const existing = await trx.selectFrom("accounts").select("id").limit(1).executeTakeFirst();
        if (existing !== undefined)
          throw new LatchkeyError("AUTH_SETUP_DONE", "the owner account already exists; sign in");
      }
      const link = await consumeLink(ctx, trx, purpose, token);
      username = normaliseUsername(usernameInput ?? link.username ?? "");
      const taken = await trx
        .selectFrom("accounts")
        .select(["id", "password_hash", "is_owner"])
        .where("username", "=", username)
        .executeTakeFirst();
      if (taken !== undefined && purpose === "invite") {
        if (!(await ctx.passwords.verify(taken.password_hash, password)))
          throw new LatchkeyError("AUTH_INVALID_CREDENTIALS", "wrong credentials");
        id = taken.id;
        joined = true;
        // The owner already holds every role; anyone else gets this site's role from the link.
        if (taken.is_owner !== 1) await setSiteRole(trx, id, link, now);
        await recordAudit(trx, now, {
          actorAccountId: id,
          action: "account.invite.accept",
          siteId: link.site_id,
          targetType: "account",
          targetId: id,
          details: { username, role: taken.is_owner === 1 ? "owner" : (link.role ?? "") },
          ip,
        });
        return;
      }
      checkPasswordPolicy(password, username);
      if (taken !== undefined)
        throw new LatchkeyError("HUB_CONFLICT", "user name already taken", { field: "username" });
      await trx
        .insertInto("accounts")
        .values({
          id,
          username,
          password_hash: await ctx.passwords.hash(password),
          is_owner: purpose === "setup" ? 1 : 0,
          created_at: now,
          totp_secret_sealed: null,
          totp_pending_sealed: null,
          totp_last_step: null,
          factors_changed_at: now,
        })
        .execute();
      if (purpose === "setup")
        await createOrganisation(trx, joining.organisationName ?? DEFAULT_ORGANISATION_NAME, now);
      if (purpose === "invite") await setSiteRole(trx, id, link, now);
      await recordAudit(trx, now, {
        actorAccountId: id,
        action: purpose === "setup" ? "account.owner.create" : "account.invite.accept",
        siteId: link.site_id,
        targetType: "account",
        targetId: id,
        details: { username, role: link.role ?? "owner" },
        ip,
      });
    });
  } catch (e) {
    if (e instanceof LatchkeyError && e.code === "AUTH_SETUP_INVALID") {
      ctx.metrics.authFailure("link");
      await ctx.throttle.fail(addressKey(ip), ADDRESS_POLICY);
    }
    if (e instanceof LatchkeyError && e.code === "AUTH_INVALID_CREDENTIALS") {
      // The link stays unused (the transaction rolled back); the guess counts like a sign-in.
      await recordAudit(ctx.db, now, {
        actorAccountId: null,
        action: "auth.login.failed",
        details: { username, via: "invitation" },
        ip,
      });
      return failAttempt(ctx, "password", { account: passwordKey(username), ip });
    }
    throw e;
  }
  const account = await ctx.db
    .selectFrom("accounts")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  if (accountKey !== null) await ctx.throttle.reset(accountKey);
  const stage = joined && (await hasSecondFactor(ctx, account)) ? "mfa" : "enrol";
  // A session of this browser for another account ends, as at sign-in.
  if (joined && joining.replacing !== null) await endSession(ctx, joining.replacing.id_hash);
  return { account, session: await createSession(ctx, id, stage, null) };
}
