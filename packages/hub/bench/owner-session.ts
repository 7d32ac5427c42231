/**
 * Bench support: the owner of a fresh hub, set up through the API in-process (setup link,
 * password, TOTP enrolment), as the cookie and CSRF token a signed-in browser would hold.
 */
import * as OTPAuth from "otpauth";
import type { Hub } from "../src/server/app.js";

export interface OwnerSession {
  cookie: string;
  csrf: string;
}

export async function ownerSession(hub: Hub): Promise<OwnerSession> {
  const token = new URL(hub.setupLink ?? "").hash.slice(1);
  const setup = await hub.app.inject({
    method: "POST",
    url: "/api/v1/setup",
    payload: { token, username: "owner", password: "bench marks the long pier" },
  });
  let cookie = `latchkey_session=${setup.cookies[0]?.value ?? ""}`;
  let csrf = setup.json<{ csrfToken: string }>().csrfToken;
  const begin = await hub.app.inject({
    method: "POST",
    url: "/api/v1/account/totp/begin",
    headers: { cookie, "x-csrf-token": csrf },
  });
  const secret = begin.json<{ secret: string }>().secret;
  const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
  const done = await hub.app.inject({
    method: "POST",
    url: "/api/v1/account/totp/confirm",
    headers: { cookie, "x-csrf-token": csrf },
    payload: { code },
  });
  cookie = `latchkey_session=${done.cookies[0]?.value ?? ""}`;
  csrf = done.json<{ session: { csrfToken: string } }>().session.csrfToken;
  return { cookie, csrf };
}
