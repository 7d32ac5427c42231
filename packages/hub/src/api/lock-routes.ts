/**
 * Locks in the API: which locks wait to be commissioned, commissioning one onto a door by its
 * setup code, a door's lock and its condition, the site's fleet, and each credential's sync
 * state on every lock (with a retry button for failures).
 */
import { Type } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Ok, Strict, errorResponses } from "./schemas.js";
import type { ApiContext } from "./context.js";
import { auditCall } from "./audit-routes.js";
import { removeDoorLock, retryCredentialSync, type LockService } from "../locks/service.js";
import { acknowledgeSiteAlert, siteAlerts } from "../locks/alerts.js";
import { revokeSiteCertificate, siteRevocations } from "../locks/revocations.js";
import { commissionedLockView, credentialSyncStates, doorLockView, siteLockViews } from "../locks/views.js";

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
      return { items: await siteAlerts(call.ctx, call.params.siteId, call.query.all === "true") };
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
      await acknowledgeSiteAlert(ctx, params.siteId, Number(params.alertId), call.principal().accountId);
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
      return siteRevocations(call.ctx, call.params.siteId);
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
      const version = await revokeSiteCertificate(
        ctx,
        ctx.devices.service,
        params.siteId,
        BigInt(body.serial),
      );
      await auditCall(call, {
        action: "certificate.revoke",
        siteId: params.siteId,
        targetType: "certificate",
        targetId: body.serial,
        details: { version },
      });
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
      return commissionedLockView(ctx, lockService(ctx), params.doorId);
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
      return doorLockView(call.ctx, call.ctx.devices.service, call.params.doorId);
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
      const lockId = await removeDoorLock(ctx, () => lockService(ctx), params.doorId);
      await auditCall(call, {
        action: "lock.remove",
        siteId: call.caller.siteId,
        targetType: "door",
        targetId: params.doorId,
        details: { lockId },
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
      return { items: await siteLockViews(call.ctx, call.ctx.devices.service, call.params.siteId) };
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
      return { items: await credentialSyncStates(call.ctx, call.params.credentialId) };
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
      const retried = await retryCredentialSync(
        ctx,
        () => lockService(ctx),
        params.credentialId,
        body.lockId,
      );
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
