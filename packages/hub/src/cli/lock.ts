/**
 * `latchkey lock`: add a lock to a door of a running hub from the command line, through the
 * hub's API with your own account (password and a current authenticator code), exactly as the web
 * app does.
 *
 *   latchkey lock waiting --hub URL --site SITE_ID
 *   latchkey lock add --hub URL --door DOOR_ID [--lock-id ID]
 *
 * Secrets are never flags: the password, the authenticator code and the setup code come from
 * LATCHKEY_PASSWORD, LATCHKEY_TOTP and LATCHKEY_SETUP_CODE, or are asked for on the terminal
 * (not echoed). The user name comes from --user or LATCHKEY_USERNAME.
 */
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import type { CliCommand } from "./main.js";

export const summary = "Add a lock to a door of a running hub by its setup code (or list waiting locks).";

const HELP = `Usage:
  latchkey lock waiting --hub URL --site SITE_ID
  latchkey lock add --hub URL --door DOOR_ID [--lock-id LOCK_ID]

Options:
  --hub URL        the hub, e.g. http://127.0.0.1:8080
  --user NAME      your account (or LATCHKEY_USERNAME)
  --site ID        the site whose waiting locks to list
  --door ID        the door to add the lock to
  --lock-id ID     which waiting lock (32 hex digits, on its label); needed when several wait

Secrets are read from the environment or asked for, never taken as flags:
  LATCHKEY_PASSWORD, LATCHKEY_TOTP (a current authenticator code), LATCHKEY_SETUP_CODE`;

type Ask = (question: string) => Promise<string>;

/** Asks on the terminal without echoing what is typed. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const mutable = rl as unknown as { _writeToOutput: (s: string) => void };
    mutable._writeToOutput = () => undefined;
    process.stdout.write(question);
    rl.question("", (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer.trim());
    });
  });
}

class HubSession {
  #cookie = "";
  #csrf = "";
  constructor(private readonly base: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (this.#cookie !== "") headers.cookie = this.#cookie;
    if (this.#csrf !== "" && method !== "GET") headers["x-csrf-token"] = this.#csrf;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(new URL(path, this.base), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const setCookie = res.headers.get("set-cookie");
    const session = setCookie?.match(/((?:__Host-)?latchkey_session=[^;]*)/)?.[1];
    if (session !== undefined) this.#cookie = session;
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    const token = (json.session as { csrfToken?: unknown } | undefined)?.csrfToken ?? json.csrfToken;
    if (typeof token === "string") this.#csrf = token;
    return { status: res.status, json };
  }
}

function failure(what: string, r: { status: number; json: Record<string, unknown> }): Error {
  const code = typeof r.json.code === "string" ? `${r.json.code}: ` : "";
  const message = typeof r.json.message === "string" ? r.json.message : `HTTP ${r.status}`;
  return new Error(`${what}: ${code}${message}`);
}

async function signIn(hub: HubSession, user: string, ask: Ask): Promise<void> {
  const password = process.env.LATCHKEY_PASSWORD ?? (await ask("Password: "));
  const login = await hub.call("POST", "/api/v1/auth/login", { username: user, password });
  if (login.status >= 300) throw failure("sign-in failed", login);
  const code = process.env.LATCHKEY_TOTP ?? (await ask("Authenticator code: "));
  const mfa = await hub.call("POST", "/api/v1/auth/second-factor", { method: "totp", code });
  if (mfa.status >= 300) throw failure("second factor refused", mfa);
}

export async function run(argv: string[], ask: Ask = askHidden): Promise<number> {
  const [sub, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        hub: { type: "string" },
        user: { type: "string" },
        site: { type: "string" },
        door: { type: "string" },
        "lock-id": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`latchkey lock: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true || sub === "--help" || sub === "help") {
    console.log(HELP);
    return 0;
  }
  const need = (flag: string, v: string | undefined): string => {
    if (v === undefined || v === "") throw new UsageError(`--${flag} is required`);
    return v;
  };
  try {
    if (sub !== "add" && sub !== "waiting") throw new UsageError('say "add" or "waiting"');
    const base = need("hub", values.hub);
    if (!/^https?:\/\//.test(base)) throw new UsageError("--hub must be an http:// or https:// URL");
    const user = values.user ?? process.env.LATCHKEY_USERNAME ?? "";
    if (user === "") throw new UsageError("--user (or LATCHKEY_USERNAME) is required");
    const hub = new HubSession(base);
    if (sub === "waiting") {
      const site = need("site", values.site);
      await signIn(hub, user, ask);
      const r = await hub.call("GET", `/api/v1/sites/${encodeURIComponent(site)}/commissioning`);
      if (r.status >= 300) throw failure("could not list waiting locks", r);
      const items = (r.json.items ?? []) as { lockId: string; lastSeenAt: number; announcers?: number }[];
      if (items.length === 0)
        console.log("No lock is waiting. Power one on (or factory-reset it) near the hub.");
      for (const i of items) {
        const several =
          (i.announcers ?? 1) > 1
            ? `  (announced by ${i.announcers} devices: at most one is the lock; its setup code decides)`
            : "";
        console.log(`${i.lockId}  last heard ${new Date(i.lastSeenAt).toISOString()}${several}`);
      }
      return 0;
    }
    const door = need("door", values.door);
    const lockId = values["lock-id"];
    if (lockId !== undefined && !/^[0-9a-fA-F]{32}$/.test(lockId))
      throw new UsageError("--lock-id must be 32 hex digits");
    await signIn(hub, user, ask);
    const setupCode = process.env.LATCHKEY_SETUP_CODE ?? (await ask("Setup code from the lock's label: "));
    console.log("Commissioning… (the lock and the hub each prove they know the setup code)");
    const r = await hub.call("POST", `/api/v1/doors/${encodeURIComponent(door)}/lock`, {
      setupCode,
      ...(lockId === undefined ? {} : { lockId }),
    });
    if (r.status >= 300) throw failure("the lock was not added", r);
    console.log(
      `Lock ${String(r.json.id)} added to door ${door}. It will now receive this door's credentials.`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`latchkey lock: ${e.message}\n\n${HELP}`);
      return 2;
    }
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    console.error(`latchkey lock: ${(e as Error).message}${cause === undefined ? "" : ` (${cause})`}`);
    return 1;
  }
}

class UsageError extends Error {}

const command: CliCommand = { summary, run: (argv) => run(argv) };
export default command;
