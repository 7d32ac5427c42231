/**
 * `buildHub(config)`: the whole hub as a fastify instance plus a close function. Tests drive it
 * in-process with `app.inject`; `latchkey start` adds a listener and signal handling.
 */
import { readFileSync } from "node:fs";
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import { LatchkeyError } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { HubConfig } from "../config/config.js";
import {
  defaultSqlitePath,
  openDatabase,
  writePidFile,
  removePidFile,
  isPostgresUrl,
} from "../db/database.js";
import { loadOrCreateHubSecret } from "../keys/hub-secret.js";
import { PasswordHasher } from "../accounts/password-policy.js";
import { Throttle } from "../abuse/rate-limit.js";
import { guardRouteDeclarations, registerRoutes, type RouteDef } from "../api/route-table.js";
import { ACCOUNT_ROUTES } from "../api/account-routes.js";
import { prepareSetupLink } from "../accounts/links.js";
import { MODEL_ROUTES } from "../api/model-routes.js";
import { systemRoutes } from "../api/system-routes.js";
import { createLogger } from "./logging.js";
import { lazyValidatorFactory, sharedSerializerFactory } from "./schema-compilers.js";
import { prepareDataDir } from "../config/data-dir.js";
import { SAFE_TEXT_PATTERN, unsafeTextReason } from "../api/schemas.js";
import { Metrics } from "../runtime/metrics.js";
import type { ApiContext } from "../api/context.js";
import type { HubContext } from "../runtime/context.js";
import { lockService } from "../api/lock-routes.js";
import { UnlockRequests } from "../approvals/service.js";
import { HubLedger } from "../ledger-service/hub-ledger.js";
import { describeOldEvents } from "../events/describe.js";
import { Ingestor } from "../ingest/ingest.js";
import { ledgerRoutes } from "../api/ledger-routes.js";
import { DeviceGateway, LOCKS_CONNECTED_METRIC } from "../gateway/device-gateway.js";
import { CommissioningLobby } from "../locks/lobby.js";
import { LockPasswords, LockService } from "../locks/service.js";
import { SyncEngine } from "../sync/engine.js";
import { LatchkeyDriver } from "../drivers/latchkey/driver.js";
import { startCalendarPoller } from "../calendars/poller.js";
import { Outbox } from "../outbound/outbox.js";
import type { HomeAssistantService } from "../outbound/home-assistant/service.js";
import { channelOpener } from "../outbound/channels-store.js";

export const BODY_LIMIT_BYTES = 64 * 1024;
/** What the hub tells integrations (Home Assistant's device page) it runs. */
export const HUB_SOFTWARE_VERSION = "0.1.0";

export interface Hub {
  readonly app: FastifyInstance;
  readonly ctx: ApiContext;
  /** The route table, for tests and docs. */
  readonly routes: readonly RouteDef[];
  /** The one-time first-run link, or null once the owner exists. Print it; never log it. */
  readonly setupLink: string | null;
  /** The device gateway (MQTT for locks), started with the hub and closed with it. */
  readonly gateway: DeviceGateway;
  /** The hub's ledger (checkpoints, proofs, the audit feed). */
  readonly ledger: HubLedger;
  /** Lock event ingestion into the ledger (the device gateway hands it each batch). */
  readonly ingestor: Ingestor;
  /** Commissioning and the sync engine. */
  readonly locks: LockService;
  close(): Promise<void>;
}

/** The value at a JSON pointer (`/a/0/b`) inside a request part, for error messages. */
function valueAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** A name or label that breaks the one name rule (schemas.ts): HUB_NAME_INVALID saying where and why. */
function nameError(err: FastifyError, request: FastifyRequest): LatchkeyError | null {
  const bad = err.validation?.find(
    (v) => v.keyword === "pattern" && (v.params as { pattern?: unknown }).pattern === SAFE_TEXT_PATTERN,
  );
  if (bad === undefined) return null;
  const context = err.validationContext ?? "body";
  const part = context === "body" ? request.body : context === "querystring" ? request.query : request.params;
  const value = valueAt(part, bad.instancePath);
  const field = `${context}${bad.instancePath}`;
  const reason =
    (typeof value === "string" ? unsafeTextReason(value) : null) ?? "contains a forbidden character";
  return new LatchkeyError(
    "HUB_NAME_INVALID",
    `${field} ${reason}; names may not contain control, bidirectional or unpaired surrogate characters`,
    { field },
  );
}

function toApiError(err: FastifyError, request: FastifyRequest): LatchkeyError {
  if (err instanceof LatchkeyError) return err;
  if (err.validation !== undefined) {
    const invalidName = nameError(err, request);
    if (invalidName !== null) return invalidName;
    const first = err.validation[0];
    const where = `${err.validationContext ?? "request"}${first?.instancePath ?? ""}`;
    const extra = (first?.params as { additionalProperty?: unknown } | undefined)?.additionalProperty;
    const message = `${where} ${first?.message ?? "is invalid"}${typeof extra === "string" ? ` (${extra.slice(0, 64)})` : ""}`;
    return new LatchkeyError("HUB_BAD_REQUEST", message, { field: where });
  }
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new LatchkeyError("HUB_BODY_TOO_LARGE", `request body exceeds ${BODY_LIMIT_BYTES} bytes`);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new LatchkeyError("HUB_UNSUPPORTED_MEDIA_TYPE", "send application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new LatchkeyError("HUB_BAD_REQUEST", "request body is empty");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new LatchkeyError("HUB_MALFORMED_JSON", "request body is not valid JSON");
    default:
      break;
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return new LatchkeyError("HUB_MALFORMED_JSON", "request body is not valid JSON");
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new LatchkeyError("HUB_BAD_REQUEST", "bad request");
  }
  return new LatchkeyError("LK_INTERNAL", "internal error");
}

export async function buildHub(config: HubConfig): Promise<Hub> {
  const log = createLogger(config.logLevel, config.logDestination);
  const sqlite = !isPostgresUrl(config.database);
  // Before any key or database is touched: a data directory others can read is refused.
  prepareDataDir(config.dataDir);
  const databaseUrl = config.database === "" ? defaultSqlitePath(config.dataDir) : config.database;
  const secret = loadOrCreateHubSecret(config.dataDir);
  const opened = await openDatabase({
    url: databaseUrl,
    ...(config.pgSchema === undefined ? {} : { pgSchema: config.pgSchema }),
  });
  if (sqlite) writePidFile(config.dataDir);
  const origin = new URL(config.publicUrl).origin;
  const now = config.now ?? (() => Date.now());
  let hubLedger: HubLedger;
  try {
    hubLedger = await HubLedger.open({
      db: opened.db,
      dialect: opened.dialect,
      dataDir: config.dataDir,
      publicUrl: config.publicUrl,
      ledgerOrigin: config.ledgerOrigin,
      ...(config.witnesses === undefined ? {} : { witnesses: config.witnesses }),
      checkpointEvery: config.checkpointEvery,
      databaseUrl,
      pgSchema: config.pgSchema,
      now,
      log,
    });
  } catch (e) {
    await opened.close();
    if (sqlite) removePidFile(config.dataDir);
    throw e;
  }
  const domainContext: HubContext = {
    db: opened.db,
    dialect: opened.dialect,
    config,
    secret,
    throttle: new Throttle(opened.db, now),
    metrics: new Metrics(),
    log,
    origin,
    rpId: new URL(config.publicUrl).hostname,
    now,
    // The site's locks are reconciled in the background; the change does not wait for them.
    desiredState: { siteChanged: (siteId) => ctx.devices.service?.engine.kick(siteId) },
  };
  const outbox = new Outbox({
    db: opened.db,
    log: log.child({ part: "outbound" }),
    now,
    origin,
    open: channelOpener(domainContext),
  });
  const ctx: ApiContext = {
    ...domainContext,
    outbox,
    passwords: new PasswordHasher(config.argon2),
    secureCookies: origin.startsWith("https:"),
    devices: { service: null, demo: null, ledger: hubLedger.ledger },
    unlockRequests: new UnlockRequests(domainContext, () => lockService(ctx)),
  };
  const ingestor = new Ingestor({
    db: hubLedger.db,
    ledger: hubLedger.ledger,
    exclusive: hubLedger.exclusive,
    ed25519: nodeEd25519,
    now,
    metrics: ctx.metrics,
    // An alarm's notification leaves as soon as it is sealed, not at the outbox's next look.
    alerted: () => outbox.kick(),
  });
  // Events ingested before migration 0006 get their filter columns (once; resumable).
  await describeOldEvents(hubLedger.db, hubLedger.ledger, log);

  const tls =
    config.tlsCert !== undefined && config.tlsKey !== undefined
      ? { https: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } }
      : {};
  // Every answer, errors and 404s included: never sniffed as another type; API answers (PINs,
  // recovery codes, TOTP secrets, tokens) never stored by a browser or proxy cache. Static assets
  // set their own caching first. HSTS whenever the hub is reached over HTTPS (its own TLS, or an
  // https public URL behind a proxy); without includeSubDomains, since the hub often lives on one
  // name of a domain whose other hosts its owner does not run.
  const hsts = tls.https !== undefined || ctx.secureCookies;
  const commonHeaders = (reply: FastifyReply): FastifyReply => {
    void reply.header("x-content-type-options", "nosniff");
    if (!reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
    if (hsts) void reply.header("strict-transport-security", "max-age=31536000");
    return reply;
  };
  const app = Fastify({
    ...tls,
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    exposeHeadRoutes: false,
    trustProxy: false,
    // Router-level failures (over-long or undecodable path parameters) get our error format too.
    frameworkErrors: (error, _request, reply) => {
      const apiError =
        error.code === "FST_ERR_MAX_PARAM_LENGTH" || error.code === "FST_ERR_BAD_URL"
          ? new LatchkeyError("HUB_NOT_FOUND", "not found")
          : new LatchkeyError("HUB_BAD_REQUEST", "bad request");
      // Router-level answers skip the route hooks, so they get the response headers here.
      void commonHeaders(reply).code(apiError.status).send(apiError.toJSON());
    },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
    schemaController: {
      compilersFactory: {
        buildValidator: lazyValidatorFactory(),
        buildSerializer: sharedSerializerFactory(),
      },
    },
  }) as unknown as FastifyInstance;

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Latchkey hub API",
        version: "1.0.0",
        description: "Errors: {code, message, details?}; codes in docs/errors.md.",
      },
      components: {
        securitySchemes: { session: { type: "apiKey", in: "cookie", name: "latchkey_session" } },
      },
    },
  });
  guardRouteDeclarations(app);

  app.addHook("onSend", async (_request, reply, payload) => {
    // Every answer of a route, error handler or 404 handler.
    commonHeaders(reply);
    return payload;
  });

  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    ctx.metrics.observeRequest(request.method, route, reply.statusCode, seconds);
    // One line per request: method, route pattern, status and time; never bodies, cookies or queries.
    log.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request",
    );
    done();
  });

  // An administrative action is acknowledged only once its audit row is in the ledger: the
  // action's transaction has committed by now, so this flush includes its row.
  app.addHook("onSend", async (request, _reply, payload) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      await hubLedger.flushAudit();
    }
    return payload;
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const apiError = toApiError(err, request);
    if (apiError.code === "LK_INTERNAL") log.error({ err, reqId: request.id }, "request failed");
    if (apiError.status === 429 && typeof apiError.details?.retryAfterSeconds === "number") {
      void reply.header("retry-after", String(apiError.details.retryAfterSeconds));
    }
    void reply.code(apiError.status).send(apiError.toJSON());
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(new LatchkeyError("HUB_NOT_FOUND", "not found").toJSON());
  });

  const routes = [...systemRoutes(app), ...ACCOUNT_ROUTES, ...MODEL_ROUTES, ...ledgerRoutes(hubLedger)];
  registerRoutes(app, ctx, routes);
  await (await import("./web-static.js")).registerWebApp(app); // the browser app at / (packages/web/dist)
  await app.ready();

  // Device gateway: embedded broker on this server at /mqtt (or --broker), started with the hub.
  // Locks log in to the broker with a password both sides derive from their Noise keys.
  const hubNoise = secret.noiseStaticSecret();
  const passwords = await LockPasswords.load(hubLedger.db, hubNoise);
  const gateway = new DeviceGateway({
    ...(config.broker === undefined
      ? { httpServer: app.server, allowedOrigin: origin }
      : { brokerUrl: config.broker }),
    ...(config.mqttPort === undefined ? {} : { mqttTcp: { host: config.host, port: config.mqttPort } }),
    deriveLockPassword: (lockId) => passwords.password(lockId),
    admittedLocks: passwords.lockIds(),
    commissioning: {
      open: true,
      maxClients: config.commissioningClients,
      maxClientsPerSource: config.commissioningClientsPerSource,
    },
    ...(config.topicPrefix === undefined ? {} : { topicPrefix: config.topicPrefix }),
    log: log.child({ part: "gateway" }),
  });
  const lobby = new CommissioningLobby(gateway, {
    maxWaiting: config.commissioningClients,
    maxPerSource: config.commissioningClientsPerSource,
  });
  const engine = new SyncEngine({
    db: hubLedger.db,
    driver: new LatchkeyDriver({ db: hubLedger.db, gateway, hubStaticSecretKey: hubNoise }),
    ingestor,
    secret,
    checkpoints: hubLedger.ledger,
    now,
    log: log.child({ part: "sync" }),
    ...(config.syncPolicy === undefined ? {} : { policy: config.syncPolicy }),
  });
  try {
    await gateway.start();
    await engine.start();
  } catch (e) {
    lobby.close();
    await engine.stop();
    await gateway.close();
    await app.close();
    await hubLedger.close();
    await opened.close();
    if (sqlite) removePidFile(config.dataDir);
    throw e;
  }
  ctx.metrics.registerGauge(
    LOCKS_CONNECTED_METRIC,
    "Locks whose authenticated session answers (presence from heartbeats, never from the broker).",
    () => engine.onlineCount(),
  );
  ctx.metrics.registerGauge(
    "latchkey_lock_clock_drift_seconds_max",
    "Largest lock clock error seen at the locks' last state reports (the hub corrects clocks off by more than 2 s).",
    () => engine.maxClockDriftSeconds(),
  );
  ctx.metrics.registerLabeledGauge(
    "latchkey_credential_sync",
    "Credential × lock pairs by sync state (idle, pending, sending, set, failed, removing, removed).",
    "state",
    () => engine.counts(),
  );
  ctx.devices.service = new LockService({
    db: hubLedger.db,
    secret,
    gateway,
    lobby,
    engine,
    ledger: { origin: hubLedger.origin, publicKey: hubLedger.ledger.publicKey },
    now,
    log: log.child({ part: "locks" }),
    passwords,
  });

  const setupLink = await prepareSetupLink(ctx);
  await hubLedger.flushAudit();
  // Booking calendars → guest codes; started once locks can be told of the codes it makes.
  const calendars = startCalendarPoller(domainContext, { firstPassAfterMs: 3_000 });
  // Notifications: what was queued before a restart goes out now.
  outbox.start();
  // Loaded only when configured, like the notification channels.
  const homeAssistant: HomeAssistantService | null =
    config.homeAssistant === null
      ? null
      : new (await import("../outbound/home-assistant/service.js")).HomeAssistantService(
          {
            ctx: domainContext,
            log: log.child({ part: "home-assistant" }),
            swVersion: HUB_SOFTWARE_VERSION,
            lockDoor: (doorId) => lockService(ctx).lockDoor(doorId),
            isOnline: (lockId) => ctx.devices.service?.engine.isOnline(lockId) ?? false,
            requestUnlock: async (doorId) => {
              await ctx.unlockRequests.create({
                doorId,
                requestedBy: { kind: "doorbell" },
                note: "Home Assistant asked to unlock",
                snapshot: null,
              });
            },
          },
          config.homeAssistant,
        );
  homeAssistant?.start();
  let closed = false;
  return {
    app,
    ctx,
    routes,
    setupLink,
    gateway,
    ledger: hubLedger,
    ingestor,
    locks: ctx.devices.service,
    async close() {
      if (closed) return;
      closed = true;
      await calendars.stop();
      await outbox.stop();
      await homeAssistant?.stop();
      ctx.devices.service = null;
      await ctx.devices.demo?.stop();
      ctx.devices.demo = null;
      lobby.close();
      await engine.stop();
      await gateway.close();
      await app.close();
      await hubLedger.close();
      await opened.close();
      if (sqlite) removePidFile(config.dataDir);
    },
  };
}
