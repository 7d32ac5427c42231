/**
 * The hub API client: same-origin `fetch`, JSON in and out, the session's CSRF token on every
 * state-changing request, the hub's stable error codes turned into sentences a person can act on,
 * and step-up: when the hub answers AUTH_STEP_UP_REQUIRED the client asks the person for their
 * second factor (through a hook the app installs) and retries the request once.
 */
import type { SessionInfo } from "./types.js";

export interface ApiHooks {
  /** A response carried a (new) session: keep its CSRF token and stage. */
  onSession(session: SessionInfo): void;
  /** The session ended (expired, signed out elsewhere): show sign-in. */
  onSessionEnded(): void;
  /** Ask for a second factor again; resolves true once proven, false if the person cancels. */
  stepUp(): Promise<boolean>;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    /** What the person should read: the hub's message made human, with what to do next. */
    readonly human: string,
    readonly details: Record<string, string | number | boolean> = {},
  ) {
    super(human);
    this.name = "ApiError";
  }
  /** The form field the hub blamed, when it named one (`body/name` → `name`). */
  get field(): string | null {
    const f = this.details.field;
    return typeof f === "string" ? f.replace(/^body\//, "").replace(/\//g, ".") : null;
  }
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === "") return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function seconds(n: number): string {
  if (n < 90) return `${n} second${n === 1 ? "" : "s"}`;
  return `${Math.ceil(n / 60)} minutes`;
}

/** The message a person sees for a hub error code. */
export function humanMessage(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
  retryAfterSeconds: number | null = null,
): string {
  switch (code) {
    case "AUTH_LAST_SECOND_FACTOR":
      return sentence(message);
    case "AUTH_INVALID_CREDENTIALS":
      return "That did not match. Check the user name, password or code and try again.";
    case "AUTH_RATE_LIMITED": {
      const wait =
        retryAfterSeconds ??
        (typeof details.retryAfterSeconds === "number" ? details.retryAfterSeconds : null);
      return wait === null
        ? "Too many failed attempts. Wait a moment, then try again."
        : `Too many failed attempts. Wait ${seconds(wait)}, then try again.`;
    }
    case "AUTH_REQUIRED":
      return "Your session has ended (after 30 minutes without activity, or 12 hours in all). Please sign in again.";
    case "AUTH_SECOND_FACTOR_REQUIRED":
      return "Confirm your second factor to finish signing in.";
    case "AUTH_ENROLMENT_REQUIRED":
      return "Set up an authenticator app or a passkey before anything else.";
    case "AUTH_STEP_UP_REQUIRED":
      return "This action needs your second factor again. It was not done.";
    case "AUTH_CSRF":
      return "The hub refused this request to protect your account (its security token was missing or stale). Reload the page and try again.";
    case "AUTH_SETUP_INVALID":
      return "This link is wrong, already used or expired. Restart the hub to print a new setup link, or ask for a new invitation.";
    case "AUTH_SETUP_DONE":
      return "Setup is already done on this hub. Sign in instead.";
    case "AUTH_PASSWORD_POLICY":
      return `${sentence(message)} A passphrase of three or four unrelated words is long and easy to remember.`;
    case "AUTH_FACTOR_STATE":
      return sentence(message);
    case "HUB_NOT_FOUND":
      return "Not found. It may have been deleted, or your account may not have access to it.";
    case "HUB_NAME_INVALID":
      return "This text contains an invisible control or text-direction character (often from copying and pasting). Retype it and try again.";
    case "HUB_CONFLICT":
    case "HUB_PIN_WEAK":
    case "HUB_PIN_RATE_LIMITED":
    case "HUB_GRANT_INVALID":
    case "HUB_SEAL_INVALID":
      return sentence(message);
    case "HUB_COMMISSION_FAILED":
      return `The lock was not added: ${message}. Check the setup code on the lock's label (or its QR code) and try again.`;
    case "HUB_COMMISSION_NO_LOCK":
      return `No lock is waiting to be added (${message}). Power the lock on or reset it, wait until it appears in the list, then try again.`;
    case "HUB_COMMISSION_AMBIGUOUS":
      return "Several locks are waiting. Choose which one to add by the lock id printed on its label.";
    case "HUB_DOOR_HAS_LOCK":
      return "This door already has a lock. Remove that lock first.";
    case "HUB_LOCK_UNKNOWN":
      return "This door has no lock.";
    case "HUB_LOCK_OFFLINE":
      return "The door's lock is not connected to the hub right now. Try again when it is online.";
    case "LOCK_ACCESS_DENIED":
      return "The lock refused: it could not verify this request (for an unlock, the passkey signature over its challenge). Nothing was opened; the refusal is in the lock's signed log.";
    case "HUB_UNLOCK_REQUEST_CLOSED":
      return "This unlock request is no longer waiting (it was decided, failed or expired after 2 minutes). Ask again if someone is still at the door.";
    case "HUB_UNLOCK_NO_CHALLENGE":
      return "The lock's challenge for this request was used or expired. Press Unlock again.";
    case "HUB_UNLOCK_NO_PASSKEY":
      return "Approving an unlock needs a passkey the lock can check (ES256, which most phones, computers and security keys make). Add one under Security, then try again.";
    case "HUB_UNLOCK_REQUEST_LIMIT":
      return "Too many unlock requests are waiting. Decide or let some expire first.";
    case "HUB_SNAPSHOT_INVALID":
      return "The snapshot must be a JPEG, PNG or WebP image of at most 45 KB.";
    case "HUB_GATEWAY_NOT_RUNNING":
      return "The hub's connection to locks is not running. Restart the hub; if it keeps happening, look at its log.";
    case "HUB_BAD_REQUEST":
    case "HUB_MALFORMED_JSON":
    case "HUB_UNSUPPORTED_MEDIA_TYPE":
    case "HUB_BODY_TOO_LARGE":
      return `The hub could not accept this form: ${message}.`;
    case "NETWORK":
      return "Cannot reach the hub. Check that it is running and that this device is connected.";
    default:
      return "The hub ran into a problem and nothing was changed. Try again; if it keeps happening, look at the hub's log.";
  }
}

interface Options {
  /** Do not ask for step-up on AUTH_STEP_UP_REQUIRED (the step-up call itself). */
  readonly noStepUp?: boolean;
  /** AUTH_REQUIRED is an expected answer (probing the session): do not report the session ended. */
  readonly probe?: boolean;
}

const noHooks: ApiHooks = {
  onSession: () => undefined,
  onSessionEnded: () => undefined,
  stepUp: () => Promise.resolve(false),
};

export class Api {
  private csrf: string | null = null;
  private hooks: ApiHooks = noHooks;

  constructor(private readonly base: string) {}

  install(hooks: ApiHooks): void {
    this.hooks = hooks;
  }

  setCsrf(token: string | null): void {
    this.csrf = token;
  }

  get<T>(path: string, options: Options = {}): Promise<T> {
    return this.request<T>("GET", path, undefined, options);
  }
  post<T>(path: string, body?: unknown, options: Options = {}): Promise<T> {
    return this.request<T>("POST", path, body, options);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body, {});
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path, undefined, {});
  }

  /**
   * POSTs JSON and returns the answer's exact bytes (a file to download, e.g. an evidence bundle,
   * whose bytes are sealed and must not be re-serialised), with the same errors and step-up.
   */
  async postForFile(path: string, body: unknown): Promise<{ bytes: Uint8Array; filename: string | null }> {
    const once = async () => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.csrf !== null) headers["x-csrf-token"] = this.csrf;
      let res: Response;
      try {
        res = await fetch(new URL(`api/v1${path}`, this.base), {
          method: "POST",
          headers,
          credentials: "same-origin",
          cache: "no-store",
          body: JSON.stringify(body),
        });
      } catch {
        throw new ApiError("NETWORK", 0, humanMessage("NETWORK", ""));
      }
      if (!res.ok) {
        let err: { code?: unknown; message?: unknown; details?: unknown } = {};
        try {
          err = (await res.json()) as typeof err;
        } catch {
          err = {};
        }
        const code =
          typeof err.code === "string" ? err.code : res.status >= 500 ? "LK_INTERNAL" : "HTTP_ERROR";
        const details = (
          typeof err.details === "object" && err.details !== null ? err.details : {}
        ) as Record<string, string | number | boolean>;
        if (code === "AUTH_REQUIRED") this.hooks.onSessionEnded();
        throw new ApiError(
          code,
          res.status,
          humanMessage(code, typeof err.message === "string" ? err.message : res.statusText, details),
          details,
        );
      }
      const cd = res.headers.get("content-disposition") ?? "";
      const m = /filename="([^"]+)"/.exec(cd);
      return { bytes: new Uint8Array(await res.arrayBuffer()), filename: m?.[1] ?? null };
    };
    try {
      return await once();
    } catch (e) {
      if (e instanceof ApiError && e.code === "AUTH_STEP_UP_REQUIRED" && (await this.hooks.stepUp()))
        return once();
      throw e;
    }
  }

  async request<T>(method: string, path: string, body: unknown, options: Options = {}): Promise<T> {
    try {
      return await this.once<T>(method, path, body, options);
    } catch (e) {
      if (e instanceof ApiError && e.code === "AUTH_STEP_UP_REQUIRED" && options.noStepUp !== true) {
        if (await this.hooks.stepUp()) return this.once<T>(method, path, body, options);
      }
      throw e;
    }
  }

  private async once<T>(method: string, path: string, body: unknown, options: Options): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET" && this.csrf !== null) headers["x-csrf-token"] = this.csrf;
    let res: Response;
    try {
      res = await fetch(new URL(`api/v1${path}`, this.base), {
        method,
        headers,
        credentials: "same-origin",
        cache: "no-store",
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError("NETWORK", 0, humanMessage("NETWORK", ""));
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!res.ok) {
      const err = (json ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
      const code = typeof err.code === "string" ? err.code : res.status >= 500 ? "LK_INTERNAL" : "HTTP_ERROR";
      const message = typeof err.message === "string" ? err.message : res.statusText;
      const details = (typeof err.details === "object" && err.details !== null ? err.details : {}) as Record<
        string,
        string | number | boolean
      >;
      const retry = Number(res.headers.get("retry-after"));
      if (code === "AUTH_REQUIRED" && options.probe !== true) this.hooks.onSessionEnded();
      throw new ApiError(
        code,
        res.status,
        humanMessage(code, message, details, Number.isFinite(retry) && retry > 0 ? retry : null),
        details,
      );
    }
    const session = sessionIn(json);
    if (session !== null) {
      this.csrf = session.csrfToken;
      this.hooks.onSession(session);
    }
    return json as T;
  }
}

function sessionIn(json: unknown): SessionInfo | null {
  if (typeof json !== "object" || json === null) return null;
  const o = json as { csrfToken?: unknown; stage?: unknown; session?: unknown };
  if (typeof o.csrfToken === "string" && typeof o.stage === "string") return o as SessionInfo;
  if (typeof o.session === "object" && o.session !== null) return sessionIn(o.session);
  return null;
}

/** The app's root URL: `/` for `/setup#…` and `/#/people`, or a reverse proxy's prefix. */
export const appRoot = new URL(".", window.location.href).href.replace(/#.*$/, "");

export const api = new Api(appRoot);
