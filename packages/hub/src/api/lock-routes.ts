/**
 * Locks in the API: which locks wait to be commissioned, commissioning one onto a door by its
 * setup code, a door's lock and its condition, the site's fleet, and each credential's sync
 * state on every lock (with a retry button for failures).
 */
import { Type } from "typebox";
import { DoorState as WireDoorState, LatchkeyError, LockState as WireLockState } from "@latchkey/protocol";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Ok, Strict, errorResponses } from "./schemas.js";
import type { ApiContext } from "./context.js";
import type { HubDatabase } from "../db/schema.js";
import { auditCall } from "./audit-routes.js";
import type { LockService } from "../locks/service.js";
import { revocationVersion, revokeCertificate } from "../sync/revocation.js";
import { acknowledgeAlert } from "../ingest/alerts.js";
import type { LockCondition } from "../sync/lock-condition.js";
import type { Kysely } from "kysely";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422);
const LockIdString = Type.String({ pattern: "^[0-9a-fA-F]{32}$" });
const SyncStateName = Type.Union(
  ["idle", "pending", "sending", "set", "failed", "removing", "removed"].map((s) => Type.Literal(s)),
);

const Condition = Strict({
  lockState: Type.Union([Type.Literal("locked"), Type.Literal("unlocked"), Type.Literal("not-fully-locked")]),
  doorState: Type.Union([Type.Literal("open"), Type.Literal("closed")]),
  batteryPercent: Type.Union([Type.Integer(), Type.Null()]),
  firmwareVersion: Type.String(),
  lastSeq: Type.Integer(),
});
const LockView = Strict({
  id: Type.String(),
  doorId: Type.Union([Type.String(), Type.Null()]),
  online: Type.Boolean(),
  commissionedAt: EpochMs,
  lastSeenAt: Type.Union([EpochMs, Type.Null()]),
  clockDriftMs: Type.Union([Type.Integer(), Type.Null()]),
  /**
   * The lock's clock is off by more than the 5-minute step a lock accepts from the hub, so the hub
   * leaves it alone: its events stay signed and ordered, only their wall times are off.
   */
  clockNeedsAuthorisation: Type.Boolean(),
  condition: Type.Union([Condition, Type.Null()]),
  breakerOpenUntil: Type.Union([EpochMs, Type.Null()]),
  sync: Type.Record(Type.String(), Type.Integer()),
});
const SyncRow = Strict({
  lockId: Type.String(),
  doorId: Type.Union([Type.String(), Type.Null()]),
  state: SyncStateName,
  reason: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([EpochMs, Type.Null()]),
  updatedAt: EpochMs,
});

export function lockService(ctx: ApiContext): LockService {
  const s = ctx.devices.service;
  if (s === null) throw new LatchkeyError("HUB_GATEWAY_NOT_RUNNING", "the device gateway is not running");
  return s;
}

function hubDb(ctx: ApiContext): Kysely<HubDatabase> {
  return ctx.db.withTables<Pick<HubDatabase, keyof HubDatabase>>();
}

const LOCK_STATE: Record<number, "locked" | "unlocked" | "not-fully-locked"> = {
  [WireLockState.NotFullyLocked]: "not-fully-locked",
  [WireLockState.Locked]: "locked",
  [WireLockState.Unlocked]: "unlocked",
  [WireLockState.Unlatched]: "unlocked",
};

async function lockViews(ctx: ApiContext, where: { doorId?: string; siteId?: string }) {
  const db = hubDb(ctx);
  let q = db.selectFrom("locks").innerJoin("doors", "doors.id", "locks.door_id").selectAll("locks");
  if (where.doorId !== undefined) q = q.where("locks.door_id", "=", where.doorId);
  if (where.siteId !== undefined) q = q.where("doors.site_id", "=", where.siteId);
  const rows = await q.orderBy("locks.id").execute();
  const service = ctx.devices.service;
  const out = [];
  for (const r of rows) {
    const counts = await db
      .selectFrom("credential_sync")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("lock_id", "=", r.id)
      .groupBy("state")
      .execute();
    const c = r.state_json === null ? null : (JSON.parse(r.state_json) as LockCondition);
    out.push({
      id: r.id,
      doorId: r.door_id,
      // Presence from the authenticated channel (heartbeats), never from the broker.
      online: service?.engine.isOnline(r.id) ?? false,
      commissionedAt: Number(r.commissioned_at),
      lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at),
      clockDriftMs: r.clock_drift_ms === null ? null : Number(r.clock_drift_ms),
      clockNeedsAuthorisation: c?.clockNeedsAuthorisation === true,
      condition:
        c === null
          ? null
          : {
              lockState: LOCK_STATE[c.lockState ?? -1] ?? "not-fully-locked",
              doorState: c.doorState === WireDoorState.DoorClosed ? ("closed" as const) : ("open" as const),
              batteryPercent: c.batteryPercent,
              firmwareVersion: c.firmwareVersion,
              lastSeq: c.lastSeq,
            },
      breakerOpenUntil: service?.engine.breakerOpenUntil(r.id) ?? null,
      sync: Object.fromEntries(counts.map((x) => [x.state, Number(x.n)])),
    });
  }
  return out;
}

const AlertView = Strict({
  id: Type.Integer(),
  kind: Type.String(),
  lockId: Type.Union([Type.String(), Type.Null()]),
  doorId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
  ),
  createdAt: EpochMs,
  acknowledgedAt: Type.Union([EpochMs, Type.Null()]),
  /** When the condition ended by itself (a lock offline that answers again). */
  resolvedAt: Type.Union([EpochMs, Type.Null()]),
});

export const LOCK_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/alerts",
    summary:
      "Alerts about the site's locks: missing events (gap), quarantined records, forked checkpoints, drift, locks offline (open ones — neither acknowledged nor resolved — unless all=true)",
    tags: ["locks"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      querystring: Strict({ all: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])) }),
      response: { 200: Strict({ items: Type.Array(AlertView) }), ...errors },
    },
    async handler(call) {
      let q = hubDb(call.ctx)
        .selectFrom("alerts")
        .innerJoin("locks", "locks.id", "alerts.lock_id")
        .select([
          "alerts.id as id",
          "alerts.kind as kind",
          "alerts.lock_id as lockId",
          "locks.door_id as doorId",
          "alerts.details as details",
          "alerts.created_at as createdAt",
          "alerts.acknowledged_at as acknowledgedAt",
          "alerts.resolved_at as resolvedAt",
        ])
        .where("locks.site_id", "=", call.params.siteId)
        .orderBy("alerts.id", "desc")
        .limit(200);
      if (call.query.all !== "true")
        q = q.where("alerts.acknowledged_at", "is", null).where("alerts.resolved_at", "is", null);
      const rows = await q.execute();
      return {
        items: rows.map((r) => ({
          id: Number(r.id),
          kind: r.kind,
          lockId: r.lockId,
          doorId: r.doorId,
          details: JSON.parse(r.details) as Record<string, string | number | boolean | null>,
          createdAt: Number(r.createdAt),
          acknowledgedAt: r.acknowledgedAt === null ? null : Number(r.acknowledgedAt),
          resolvedAt: r.resolvedAt === null ? null : Number(r.resolvedAt),
        })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/alerts/:alertId/acknowledge",
    summary: "Acknowledge one of the site's alerts (it stays on record, no longer open)",
    tags: ["locks"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id, alertId: Type.String({ pattern: "^[1-9][0-9]{0,15}$" }) }),
      response: { 200: Ok, ...errors },
    },
    async handler(call) {
      const { ctx, params } = call;
      const db = hubDb(ctx);
      const alert = await db
        .selectFrom("alerts")
        .innerJoin("locks", "locks.id", "alerts.lock_id")
        .select("alerts.id as id")
        .where("alerts.id", "=", Number(params.alertId))
        .where("locks.site_id", "=", params.siteId)
        .executeTakeFirst();
      if (alert === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
      await acknowledgeAlert(db, Number(alert.id), call.principal().accountId, ctx.now());
      await auditCall(call, {
        action: "alert.acknowledge",
        siteId: params.siteId,
        targetType: "alert",
        targetId: params.alertId,
      });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/revocations",
    summary: "The site's revoked certificate serials and the list version its locks should hold",
    tags: ["locks"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      response: {
        200: Strict({
          version: Type.Integer(),
          items: Type.Array(Strict({ serial: Type.String(), revokedAt: EpochMs })),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const db = hubDb(call.ctx);
      const rows = await db
        .selectFrom("revoked_certificates")
        .selectAll()
        .where("site_id", "=", call.params.siteId)
        .orderBy("revoked_at")
        .execute();
      return {
        version: await revocationVersion(db, call.params.siteId),
        items: rows.map((r) => ({ serial: r.serial, revokedAt: Number(r.revoked_at) })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/revocations",
    summary:
      "Revoke a certificate (phone key, remote-unlock key) by serial (step-up): every lock of the site gets the new signed list",
    tags: ["locks"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    stepUp: true,
    schema: {
      params: Strict({ siteId: Id }),
      body: Strict({ serial: Type.String({ pattern: "^[0-9]{1,20}$" }) }),
      response: { 200: Strict({ version: Type.Integer() }), ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const version = await revokeCertificate(
        hubDb(ctx),
        ctx.secret,
        params.siteId,
        BigInt(body.serial),
        ctx.now(),
      );
      await auditCall(call, {
        action: "certificate.revoke",
        siteId: params.siteId,
        targetType: "certificate",
        targetId: body.serial,
        details: { version },
      });
      await ctx.devices.service?.engine.revocationChanged(params.siteId);
      ctx.desiredState.siteChanged(params.siteId);
      return { version };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/commissioning",
    summary: "Locks waiting to be commissioned (they announce themselves on the device gateway)",
    tags: ["locks"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      response: {
        200: Strict({
          items: Type.Array(
            Strict({
              lockId: Type.String(),
              firstSeenAt: EpochMs,
              lastSeenAt: EpochMs,
              announcers: Type.Integer({
                minimum: 1,
                description:
                  "sessions announcing this lock id; more than one means at least one is not the lock",
              }),
            }),
          ),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const items = (await lockService(call.ctx).waiting()).map((w) => ({
        lockId: w.lockId,
        firstSeenAt: w.firstSeenAt,
        lastSeenAt: w.lastSeenAt,
        announcers: w.announcers,
      }));
      return { items };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doors/:doorId/lock",
    summary:
      "Commission a waiting lock onto this door with the setup code on its label (step-up). Name the lock when several wait",
    tags: ["locks"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ doorId: Id }),
      body: Strict({
        setupCode: Type.String({ minLength: 8, maxLength: 16, pattern: "^[0-9 -]+$" }),
        lockId: Type.Optional(LockIdString),
      }),
      response: { 201: LockView, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const done = await lockService(ctx).commission({
        doorId: params.doorId,
        setupCode: body.setupCode,
        ...(body.lockId === undefined ? {} : { lockId: body.lockId.toLowerCase() }),
      });
      await auditCall(call, {
        action: "lock.commission",
        siteId: call.caller.siteId,
        targetType: "door",
        targetId: params.doorId,
        details: { lockId: done.lockId },
      });
      const [view] = await lockViews(ctx, { doorId: params.doorId });
      if (view === undefined) throw new LatchkeyError("LK_INTERNAL", "commissioned lock not found");
      return view;
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/doors/:doorId/lock",
    summary: "The door's lock: online, condition (bolt, door, battery, firmware), clock drift, sync counts",
    tags: ["locks"],
    access: { kind: "site", permission: "site.read", site: { param: "doorId", table: "doors" } },
    schema: { params: Strict({ doorId: Id }), response: { 200: LockView, ...errors } },
    async handler(call) {
      const [view] = await lockViews(call.ctx, { doorId: call.params.doorId });
      if (view === undefined)
        throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
      return view;
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doors/:doorId/lock/remove",
    summary: "Remove the door's lock from the hub (step-up); its signed events stay in the ledger",
    tags: ["locks"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    stepUp: true,
    schema: { params: Strict({ doorId: Id }), response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      const lock = await hubDb(ctx)
        .selectFrom("locks")
        .select("id")
        .where("door_id", "=", params.doorId)
        .executeTakeFirst();
      if (lock === undefined)
        throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
      await lockService(ctx).remove(lock.id);
      await auditCall(call, {
        action: "lock.remove",
        siteId: call.caller.siteId,
        targetType: "door",
        targetId: params.doorId,
        details: { lockId: lock.id },
      });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/locks",
    summary: "Every lock of the site with its condition and sync counts (the fleet view)",
    tags: ["locks"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      response: { 200: Strict({ items: Type.Array(LockView) }), ...errors },
    },
    async handler(call) {
      return { items: await lockViews(call.ctx, { siteId: call.params.siteId }) };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/credentials/:credentialId/sync",
    summary: "Where a credential is: its state on each lock (set, pending, failed with the reason …)",
    tags: ["locks"],
    access: { kind: "site", permission: "site.read", site: { param: "credentialId", table: "credentials" } },
    schema: {
      params: Strict({ credentialId: Id }),
      response: { 200: Strict({ items: Type.Array(SyncRow) }), ...errors },
    },
    async handler(call) {
      const rows = await hubDb(call.ctx)
        .selectFrom("credential_sync")
        .innerJoin("locks", "locks.id", "credential_sync.lock_id")
        .select([
          "credential_sync.lock_id as lockId",
          "locks.door_id as doorId",
          "credential_sync.state as state",
          "credential_sync.reason as reason",
          "credential_sync.attempts as attempts",
          "credential_sync.next_attempt_at as nextAttemptAt",
          "credential_sync.updated_at as updatedAt",
        ])
        .where("credential_sync.credential_id", "=", call.params.credentialId)
        .orderBy("credential_sync.lock_id")
        .execute();
      return {
        items: rows.map((r) => ({
          lockId: r.lockId,
          doorId: r.doorId,
          state: r.state as "set",
          reason: r.reason,
          attempts: Number(r.attempts),
          nextAttemptAt:
            r.state === "failed" || r.state === "pending" || r.state === "removing"
              ? Math.min(Number(r.nextAttemptAt), 8_640_000_000_000_000)
              : null,
          updatedAt: Number(r.updatedAt),
        })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/credentials/:credentialId/sync/retry",
    summary: "Retry now wherever this credential is failed or waiting (resets the lock's breaker)",
    tags: ["locks"],
    access: {
      kind: "site",
      permission: "site.manage",
      site: { param: "credentialId", table: "credentials" },
    },
    schema: {
      params: Strict({ credentialId: Id }),
      body: Strict({ lockId: Type.Optional(LockIdString) }),
      response: { 200: Strict({ retried: Type.Integer() }), ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      let q = hubDb(ctx)
        .selectFrom("credential_sync")
        .select("lock_id")
        .where("credential_id", "=", params.credentialId)
        .where("state", "in", ["failed", "pending", "removing"]);
      if (body.lockId !== undefined) q = q.where("lock_id", "=", body.lockId.toLowerCase());
      const rows = await q.execute();
      let retried = 0;
      for (const r of rows)
        if (await lockService(ctx).engine.retry(params.credentialId, r.lock_id)) retried++;
      await auditCall(call, {
        action: "credential.sync.retry",
        siteId: call.caller.siteId,
        targetType: "credential",
        targetId: params.credentialId,
        details: { locks: retried },
      });
      return { retried };
    },
  }),
];
