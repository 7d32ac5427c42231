/**
 * The route table and the one deny-by-default check every route goes through. Each route
 * declares who may call it (`access`) and, for site-scoped routes, how to find the site of the
 * object it touches; `registerRoutes` refuses a route without a declaration, and a guard on the
 * fastify instance refuses any route registered by other means without one. Callers who may not
 * see an object get the same HUB_NOT_FOUND as for an object that does not exist.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Static, TSchema } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import type { ApiContext } from "./context.js";
import type { AccountTable, SessionTable } from "../db/schema.js";
import {
  findSession,
  sessionAccount,
  hasFreshSecondFactor,
  safeEqual,
  sessionCookieName,
  type SessionStage,
} from "../sessions/sessions.js";
import { hasSitePermission, type Principal, type SitePermission } from "../authz/permissions.js";
import { siteOfObject, type SiteObjectTable } from "../authz/site-objects.js";

export type ObjectTable = SiteObjectTable;

/** Where a site-scoped route finds its site: the path parameter `param` names a row of `table`. */
export interface SiteLocator {
  readonly param: string;
  readonly table: ObjectTable;
}

export type Access =
  /** Anyone, signed in or not (health, setup, sign-in). */
  | { readonly kind: "public" }
  /** The caller's own session/account, in one of the listed stages. */
  | { readonly kind: "session"; readonly stages: readonly SessionStage[] }
  /** Any fully signed-in account; the handler shows only what it may see. */
  | { readonly kind: "signed-in" }
  /** The organisation owner only. */
  | { readonly kind: "owner" }
  | { readonly kind: "site"; readonly permission: SitePermission; readonly site: SiteLocator };

export interface RouteSchema {
  readonly body?: TSchema;
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly response?: Readonly<Record<number, TSchema>>;
}

type StaticOf<T> = T extends TSchema ? Static<T> : undefined;

export interface Caller {
  readonly ip: string;
  readonly session: SessionTable | null;
  readonly account: AccountTable | null;
  /** Set on every route whose access is not public/session. */
  readonly principal: Principal | null;
  /** The site a site-scoped route resolved. */
  readonly siteId: string | null;
}

export interface Call<S extends RouteSchema> {
  readonly ctx: ApiContext;
  readonly body: StaticOf<S["body"]>;
  readonly params: StaticOf<S["params"]>;
  readonly query: StaticOf<S["querystring"]>;
  readonly caller: Caller;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /** For objects named in a body: HUB_NOT_FOUND unless the caller holds `permission` on `siteId`. */
  requireSite(siteId: string, permission: SitePermission): Promise<void>;
  /** The principal of a signed-in route (throws if used on a public route: a programming error). */
  principal(): Principal;
  /** The site a site-scoped route resolved (throws on any other route: a programming error). */
  site(): string;
}

export interface RouteDef<S extends RouteSchema = RouteSchema> {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly url: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly access: Access;
  /** A second factor proven within the last 5 minutes is required. */
  readonly stepUp?: boolean;
  readonly schema: S;
  /** HTTP status of success (default 200). */
  readonly status?: number;
  handler(call: Call<S>): Promise<unknown>;
}

/** Keeps each route's schema types for its handler while collecting routes in one table. */
export function defineRoute<S extends RouteSchema>(def: RouteDef<S>): RouteDef {
  return def;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function notFound(): LatchkeyError {
  return new LatchkeyError("HUB_NOT_FOUND", "not found");
}

async function locateSite(ctx: ApiContext, locator: SiteLocator, params: unknown): Promise<string | null> {
  const value = (params as Record<string, unknown> | undefined)?.[locator.param];
  if (typeof value !== "string" || value.length === 0 || value.length > 64) return null;
  return siteOfObject(ctx, locator.table, value);
}

/** Refuses cross-site state changes: a foreign Origin, or a cross-site fetch. */
function checkOrigin(ctx: ApiContext, request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ctx.origin) {
    throw new LatchkeyError("AUTH_CSRF", "request Origin does not match the hub");
  }
  if (request.headers["sec-fetch-site"] === "cross-site") {
    throw new LatchkeyError("AUTH_CSRF", "cross-site request refused");
  }
}

async function authorize(
  ctx: ApiContext,
  request: FastifyRequest,
  access: Access,
  stepUp: boolean,
): Promise<Caller> {
  const token = request.cookies[sessionCookieName(ctx.secureCookies)];
  const session = await findSession(ctx, token);
  const account = session === null ? null : await sessionAccount(ctx, session);
  const base = { ip: request.ip, session, account, principal: null, siteId: null };
  if (STATE_CHANGING.has(request.method)) {
    checkOrigin(ctx, request);
    if (access.kind !== "public") {
      const sent = request.headers["x-csrf-token"];
      if (session === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
      if (typeof sent !== "string" || !safeEqual(sent, session.csrf_token)) {
        throw new LatchkeyError("AUTH_CSRF", "missing or wrong X-CSRF-Token header");
      }
    }
  }
  if (access.kind === "public") return base;
  if (session === null || account === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
  if (access.kind === "session") {
    if (!access.stages.includes(session.stage as SessionStage)) {
      throw session.stage === "enrol"
        ? new LatchkeyError("AUTH_ENROLMENT_REQUIRED", "enrol a second factor first")
        : new LatchkeyError("AUTH_SECOND_FACTOR_REQUIRED", "confirm your second factor first");
    }
    return base;
  }
  if (session.stage === "enrol")
    throw new LatchkeyError("AUTH_ENROLMENT_REQUIRED", "enrol a second factor first");
  if (session.stage !== "full")
    throw new LatchkeyError("AUTH_SECOND_FACTOR_REQUIRED", "confirm your second factor first");
  const principal: Principal = { accountId: account.id, isOwner: account.is_owner === 1 };
  let siteId: string | null = null;
  switch (access.kind) {
    case "signed-in":
      break;
    case "owner":
      if (!principal.isOwner) throw notFound();
      break;
    case "site": {
      siteId = await locateSite(ctx, access.site, request.params);
      if (siteId === null || !(await hasSitePermission(ctx, principal, siteId, access.permission)))
        throw notFound();
      break;
    }
    default: {
      const never: never = access;
      throw new LatchkeyError("LK_INTERNAL", `unknown access kind ${String(never)}`);
    }
  }
  if (stepUp && !hasFreshSecondFactor(ctx, session)) {
    throw new LatchkeyError(
      "AUTH_STEP_UP_REQUIRED",
      "confirm your second factor again (step-up) for this action",
    );
  }
  return { ...base, principal, siteId };
}

/** Installs the guard that makes an undeclared route impossible to register. */
export function guardRouteDeclarations(app: FastifyInstance): void {
  app.addHook("onRoute", (options) => {
    if (options.config?.access === undefined) {
      throw new Error(`route ${String(options.method)} ${options.url} has no access declaration`);
    }
  });
}

export function registerRoutes(app: FastifyInstance, ctx: ApiContext, routes: readonly RouteDef[]): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: def.url,
      config: { access: def.access },
      schema: {
        summary: def.summary,
        tags: [...def.tags],
        ...(def.schema.body === undefined ? {} : { body: def.schema.body }),
        ...(def.schema.params === undefined ? {} : { params: def.schema.params }),
        ...(def.schema.querystring === undefined ? {} : { querystring: def.schema.querystring }),
        ...(def.schema.response === undefined ? {} : { response: def.schema.response }),
      },
      // Before body validation, so a caller who may not touch an object learns nothing from
      // validation errors either.
      preValidation: async (request) => {
        request.caller = await authorize(ctx, request, def.access, def.stepUp === true);
        // A route without a body schema takes no body: anything but nothing or {} is refused,
        // so unknown fields never pass silently.
        if (def.schema.body === undefined && request.body !== undefined) {
          const b = request.body;
          if (b === null || typeof b !== "object" || Array.isArray(b) || Object.keys(b).length > 0) {
            throw new LatchkeyError("HUB_BAD_REQUEST", "this route takes no request body", { field: "body" });
          }
        }
      },
      handler: async (request, reply) => {
        const caller = request.caller;
        const call: Call<RouteSchema> = {
          ctx,
          body: request.body,
          params: request.params,
          query: request.query,
          caller,
          request,
          reply,
          async requireSite(siteId, permission) {
            if (
              caller.principal === null ||
              !(await hasSitePermission(ctx, caller.principal, siteId, permission))
            ) {
              throw notFound();
            }
          },
          principal() {
            if (caller.principal === null)
              throw new LatchkeyError("LK_INTERNAL", "route used principal() without a signed-in access");
            return caller.principal;
          },
          site() {
            if (caller.siteId === null)
              throw new LatchkeyError("LK_INTERNAL", "route used site() without a site-scoped access");
            return caller.siteId;
          },
        };
        const result = await def.handler(call);
        if (!reply.sent) {
          reply.code(def.status ?? 200);
          return result ?? null;
        }
        return reply;
      },
    });
  }
}
