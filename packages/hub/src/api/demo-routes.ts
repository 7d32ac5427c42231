/**
 * The demo panel's API (demo mode only): press keys on a demo door's keypad, tap a card, touch
 * the fingerprint reader, open or close the door, trigger the tamper switch and set the battery.
 * Each input goes to the door's virtual lock exactly as its hardware would report it; what the
 * lock decides comes back here and, as signed events, through the sync engine into the ledger.
 * Outside demo mode, and for doors without a demo lock, every route answers "not found".
 */
import { Type } from "typebox";
import { fromHex, LatchkeyError } from "@latchkey/protocol";
import { VirtualCard, type AttemptResult } from "@latchkey/lock";
import { defineRoute, type RouteDef } from "./route-table.js";
import { Id, Strict, errorResponses } from "./schemas.js";
import type { ApiContext } from "./context.js";
import type { SimLock } from "../sim/sim-lock.js";

const errors = errorResponses(400, 401, 403, 404, 415);

const Input = Type.Union([
  Strict({ action: Type.Literal("keypad"), pin: Type.String({ pattern: "^[0-9]{1,12}$" }) }),
  Strict({
    action: Type.Literal("card"),
    cardNumber: Type.String({ pattern: "^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$" }),
  }),
  Strict({
    action: Type.Literal("fingerprint"),
    templateRef: Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.Null()]),
  }),
  Strict({ action: Type.Literal("door"), open: Type.Boolean() }),
  Strict({ action: Type.Literal("lock-button") }),
  Strict({
    action: Type.Literal("tamper"),
    kind: Type.Union([
      Type.Literal("escutcheon-removed"),
      Type.Literal("escutcheon-refitted"),
      Type.Literal("forced-rotation"),
      Type.Literal("drilling"),
    ]),
  }),
  Strict({ action: Type.Literal("battery"), percent: Type.Integer({ minimum: 0, maximum: 100 }) }),
]);

const Outcome = Strict({
  result: Type.Union([Type.Literal("granted"), Type.Literal("denied"), Type.Literal("done")]),
  reason: Type.Union([Type.String(), Type.Null()]),
  lockState: Type.String(),
  doorOpen: Type.Boolean(),
  batteryPercent: Type.Number(),
});

const DemoDoor = Strict({
  doorId: Type.String(),
  lockId: Type.String(),
  connected: Type.Boolean(),
  lockState: Type.String(),
  doorOpen: Type.Boolean(),
  batteryPercent: Type.Number(),
});

function demoLock(ctx: ApiContext, doorId: string): SimLock {
  const lock = ctx.devices.demo?.locks.get(doorId);
  if (lock === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  return lock;
}

function state(lock: SimLock) {
  const rt = lock.lock.runtime;
  return { lockState: rt.boltState, doorOpen: rt.doorOpen, batteryPercent: Math.round(rt.batteryPercent) };
}

function outcome(lock: SimLock, r: AttemptResult | undefined) {
  if (r === undefined) return { result: "done" as const, reason: null, ...state(lock) };
  return r.granted
    ? { result: "granted" as const, reason: null, ...state(lock) }
    : { result: "denied" as const, reason: String(r.reason), ...state(lock) };
}

export const DEMO_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/demo",
    summary: "Demo mode: the site's virtual locks and what their hardware shows",
    tags: ["demo"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      response: { 200: Strict({ items: Type.Array(DemoDoor) }), ...errors },
    },
    async handler(call) {
      const demo = call.ctx.devices.demo;
      if (demo === null || demo.siteId !== call.params.siteId) return { items: [] };
      const items = [...demo.locks.entries()].map(([doorId, lock]) => ({
        doorId,
        lockId: lock.lockId,
        connected: lock.state === "connected",
        ...state(lock),
      }));
      return Promise.resolve({ items });
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/doors/:doorId/demo",
    summary: "Demo mode: drive a demo door's virtual hardware (keypad, card, finger, door, tamper, battery)",
    tags: ["demo"],
    access: { kind: "site", permission: "site.manage", site: { param: "doorId", table: "doors" } },
    schema: { params: Strict({ doorId: Id }), body: Input, response: { 200: Outcome, ...errors } },
    handler(call) {
      const lock = demoLock(call.ctx, call.params.doorId);
      const v = lock.lock;
      const b = call.body;
      switch (b.action) {
        case "keypad":
          return Promise.resolve(outcome(lock, v.enterPin(b.pin)));
        case "card":
          return Promise.resolve(
            outcome(lock, v.tapCard(new VirtualCard(fromHex(b.cardNumber.toLowerCase())))),
          );
        case "fingerprint":
          return Promise.resolve(outcome(lock, v.touchFingerprint(b.templateRef)));
        case "door":
          if (b.open) v.openDoor();
          else v.closeDoor();
          return Promise.resolve(outcome(lock, undefined));
        case "lock-button":
          v.runtime.lockButton();
          return Promise.resolve(outcome(lock, undefined));
        case "tamper":
          v.tamper(b.kind);
          return Promise.resolve(outcome(lock, undefined));
        case "battery":
          v.setBattery(b.percent);
          return Promise.resolve(outcome(lock, undefined));
      }
    },
  }),
];
