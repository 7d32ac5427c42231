/**
 * Unlock requests in the API (service.ts explains the flow): ask to open a door, list a site's
 * requests, ask the door's lock for a challenge (with certificates for the approver's passkeys),
 * approve with a passkey assertion over that challenge — which the hub only forwards; the lock
 * decides — or deny. Every step is audited (approvals/requests.ts); the lock's own signed events
 * record the outcome.
 */
import { Type } from "typebox";
import { LatchkeyError, MESSAGE_LIMITS, base64UrlEncode, toHex } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { auditCall } from "./audit-routes.js";
import { EpochMs, Id, Ok, SafeText, Strict, errorResponses } from "./schemas.js";
import { NOTE_MAX_LENGTH, type UnlockRequest } from "../approvals/service.js";
import { createDoorbellToken, doorbellStatus, removeDoorbell } from "../approvals/doorbell.js";
import {
  approveUnlockRequest,
  challengeUnlockRequest,
  denyUnlockRequest,
  requestUnlock,
  ringDoorbellForUnlock,
  type Person,
} from "../approvals/requests.js";

/** The signed-in caller of a site route, as the approvals domain names who acts. */
function person(call: Call<RouteSchema>): Person {
  return { accountId: call.principal().accountId, ip: call.caller.ip };
}

const errors = errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 500);

const RequestId = Type.String({ pattern: "^[0-9a-f]{32}$", maxLength: 32 });
const B64u = (max: number) => Type.String({ pattern: "^[A-Za-z0-9_-]+$", minLength: 1, maxLength: max });
/** A data: URL of at most SNAPSHOT_MAX_BYTES of image (checked again when decoded). */
const Snapshot = Type.String({ minLength: 1, maxLength: 62_000 });

const Status = Type.Union(["pending", "approved", "denied", "expired", "failed"].map((s) => Type.Literal(s)));

const UnlockRequestView = Strict({
  id: Type.String(),
  siteId: Type.String(),
  doorId: Type.String(),
  doorName: Type.String(),
  lockId: Type.String(),
  status: Status,
  note: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.Union([
    Strict({ kind: Type.Literal("account"), accountId: Type.String(), username: Type.String() }),
    Strict({ kind: Type.Literal("doorbell") }),
  ]),
  createdAt: EpochMs,
  expiresAt: EpochMs,
  decidedAt: Type.Union([EpochMs, Type.Null()]),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  /** The lock's last answer: "OK" (it opened), a LOCK_* refusal code, or HUB_LOCK_OFFLINE. */
  result: Type.Union([Type.String(), Type.Null()]),
  /** The snapshot as a data: URL (null when none). */
  snapshot: Type.Union([Type.String(), Type.Null()]),
  /** SHA-256 of the snapshot's bytes (hex; zeros when none) — what the lock's event names. */
  snapshotHash: Type.String(),
});

const Params = Strict({ siteId: Id, requestId: RequestId });

function view(r: UnlockRequest) {
  return {
    id: r.id,
    siteId: r.siteId,
    doorId: r.doorId,
    doorName: r.doorName,
    lockId: r.lockId,
    status: r.status as "pending",
    note: r.note,
    requestedBy:
      r.requestedBy.kind === "account"
        ? { kind: "account" as const, accountId: r.requestedBy.accountId, username: r.requestedBy.username }
        : { kind: "doorbell" as const },
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decidedAt: r.decidedAt,
    decidedBy: r.decidedBy,
    result: r.result,
    snapshot:
      r.snapshot === null
        ? null
        : `data:${r.snapshot.type};base64,${Buffer.from(r.snapshot.bytes).toString("base64")}`,
    snapshotHash: toHex(r.snapshotHash),
  };
}

const DoorbellStatusView = Strict({
  enabled: Type.Boolean(),
  createdAt: Type.Union([EpochMs, Type.Null()]),
  lastRungAt: Type.Union([EpochMs, Type.Null()]),
});

export const APPROVAL_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/doors/:doorId/doorbell",
    summary: "Whether the door has a doorbell webhook, since when, and when it last rang",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    schema: {
      params: Strict({ doorId: Id }),
      response: { 200: DoorbellStatusView, ...errors },
    },
    handler(call) {
      return doorbellStatus(call.ctx, call.params.doorId);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doors/:doorId/doorbell",
    summary:
      "Create (or replace) the door's doorbell webhook token (step-up): shown once; a camera or NVR posts unlock requests with it",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ doorId: Id }),
      response: {
        201: Strict({ token: Type.String(), webhookUrl: Type.String(), createdAt: EpochMs }),
        ...errors,
      },
    },
    async handler(call) {
      const { ctx, params } = call;
      const siteId = call.caller.siteId;
      if (siteId === null) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
      const created = await createDoorbellToken(ctx, { id: params.doorId, siteId });
      await auditCall(call, {
        action: "doorbell.token.create",
        siteId,
        targetType: "door",
        targetId: params.doorId,
        details: {},
      });
      return created;
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/doors/:doorId/doorbell",
    summary: "Turn the door's doorbell webhook off (its token stops working)",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    schema: { params: Strict({ doorId: Id }), response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      await removeDoorbell(ctx, params.doorId);
      await auditCall(call, {
        action: "doorbell.token.remove",
        siteId: call.caller.siteId,
        targetType: "door",
        targetId: params.doorId,
        details: {},
      });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doorbell/ring",
    summary:
      "A doorbell, camera or NVR asks to open its door (Authorization: Bearer <doorbell token>), with an optional snapshot; a person approves with a passkey",
    tags: ["unlock-requests"],
    access: { kind: "public" },
    status: 202,
    schema: {
      body: Strict({
        note: Type.Optional(SafeText(NOTE_MAX_LENGTH)),
        snapshot: Type.Optional(Snapshot),
      }),
      response: { 202: Strict({ requestId: Type.String(), expiresAt: EpochMs }), ...errors },
    },
    async handler(call) {
      const { ctx, body, caller } = call;
      const r = await ringDoorbellForUnlock(
        ctx,
        ctx.unlockRequests,
        { accountId: caller.account?.id ?? null, ip: caller.ip },
        call.request.headers.authorization,
        { note: body.note ?? null, snapshot: body.snapshot ?? null },
      );
      return { requestId: r.id, expiresAt: r.expiresAt };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doors/:doorId/unlock-requests",
    summary:
      "Ask to open a door: a proposal (2 minutes) with an optional snapshot that an approver unlocks with a passkey",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.read", site: { param: "doorId", table: "doors" } },
    status: 201,
    schema: {
      params: Strict({ doorId: Id }),
      body: Strict({
        note: Type.Optional(SafeText(NOTE_MAX_LENGTH)),
        snapshot: Type.Optional(Snapshot),
      }),
      response: { 201: UnlockRequestView, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const account = call.caller.account;
      if (account === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
      const r = await requestUnlock(
        ctx,
        ctx.unlockRequests,
        { accountId: account.id, username: account.username, ip: call.caller.ip },
        params.doorId,
        { note: body.note ?? null, snapshot: body.snapshot ?? null },
      );
      return view(r);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/unlock-requests",
    summary: "The site's unlock requests, newest first: waiting ones and those decided in the last hour",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      response: { 200: Strict({ items: Type.Array(UnlockRequestView) }), ...errors },
    },
    handler(call) {
      return Promise.resolve({ items: call.ctx.unlockRequests.list(call.params.siteId).map(view) });
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/unlock-requests/:requestId/challenge",
    summary:
      "Ask the door's lock for a one-time challenge to sign with your passkey; returns it with 5-minute certificates for your passkeys",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Params,
      response: {
        200: Strict({
          challenge: Type.String(),
          rpId: Type.String(),
          timeoutMs: Type.Integer(),
          userVerification: Type.Literal("required"),
          allowCredentials: Type.Array(Strict({ id: Type.String(), type: Type.Literal("public-key") })),
          certificateFor: Type.Record(Type.String(), Type.String()),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const { ctx, params } = call;
      const offer = await challengeUnlockRequest(
        ctx,
        ctx.unlockRequests,
        person(call),
        params.siteId,
        params.requestId,
      );
      return {
        challenge: base64UrlEncode(offer.challenge),
        rpId: offer.rpId,
        timeoutMs: offer.validForMs,
        userVerification: "required" as const,
        allowCredentials: offer.credentials.map((c) => ({ id: c.id, type: "public-key" as const })),
        certificateFor: Object.fromEntries(
          offer.credentials.map((c) => [c.id, base64UrlEncode(c.certificate)]),
        ),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/unlock-requests/:requestId/approve",
    summary:
      "Approve with your passkey's assertion over the remote-unlock intent (the lock's challenge, this request, the snapshot's SHA-256, the lock); the hub forwards it and the lock decides",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Params,
      body: Strict({
        credentialId: B64u(1366),
        authenticatorData: B64u(Math.ceil((MESSAGE_LIMITS.authenticatorData * 4) / 3)),
        clientDataJSON: B64u(Math.ceil((MESSAGE_LIMITS.clientDataJSON * 4) / 3)),
        signature: B64u(Math.ceil((MESSAGE_LIMITS.derSignature * 4) / 3)),
      }),
      response: { 200: UnlockRequestView, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const r = await approveUnlockRequest(
        ctx,
        ctx.unlockRequests,
        person(call),
        params.siteId,
        params.requestId,
        body,
      );
      return view(r);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/unlock-requests/:requestId/deny",
    summary: "Deny an unlock request (nothing is sent to the lock)",
    tags: ["unlock-requests"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    schema: { params: Params, response: { 200: UnlockRequestView, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      const r = await denyUnlockRequest(
        ctx,
        ctx.unlockRequests,
        person(call),
        params.siteId,
        params.requestId,
      );
      return view(r);
    },
  }),
];
