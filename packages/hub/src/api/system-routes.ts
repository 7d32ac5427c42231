/** Health, metrics and the OpenAPI document. */
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { Strict } from "./schemas.js";
import { countActiveSessions } from "../sessions/sessions.js";
import { pingDatabase } from "../db/access.js";

export function systemRoutes(app: FastifyInstance): readonly RouteDef[] {
  return [
    defineRoute({
      method: "GET",
      url: "/healthz",
      summary: "Liveness and database reachability",
      tags: ["system"],
      access: { kind: "public" },
      schema: { response: { 200: Strict({ status: Type.Literal("ok"), database: Type.String() }) } },
      async handler({ ctx }) {
        await pingDatabase(ctx.db);
        return { status: "ok" as const, database: ctx.dialect };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/metrics",
      summary: "Prometheus metrics",
      tags: ["system"],
      access: { kind: "public" },
      schema: {},
      async handler({ ctx, reply }) {
        const activeSessions = await countActiveSessions(ctx);
        reply.type("text/plain; version=0.0.4");
        return ctx.metrics.render({
          latchkey_sessions_active: {
            help: "Sessions seen within the idle timeout.",
            value: activeSessions,
          },
        });
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/openapi.json",
      summary: "This API's OpenAPI 3.1 description",
      tags: ["system"],
      access: { kind: "public" },
      schema: {},
      handler() {
        return Promise.resolve(app.swagger());
      },
    }),
  ];
}
