/** The organisation: the top of the model (organisation → sites → doors). */
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Name, Strict, StrictPatch, errorResponses } from "./schemas.js";
import { auditCall } from "./audit-routes.js";
import { loadOrganisation, renameOrganisation } from "../organisation/organisation.js";

const errors = errorResponses(400, 401, 403, 404, 415);
const Organisation = Strict({ id: Id, name: Type.String(), createdAt: EpochMs });

export const ORGANISATION_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/organisation",
    summary: "The organisation this hub serves",
    tags: ["organisation"],
    access: { kind: "signed-in" },
    schema: { response: { 200: Organisation, ...errors } },
    handler: ({ ctx }) => loadOrganisation(ctx),
  }),
  defineRoute({
    method: "PATCH",
    url: "/api/v1/organisation",
    summary: "Rename the organisation (owner)",
    tags: ["organisation"],
    access: { kind: "owner" },
    schema: { body: StrictPatch({ name: Name }), response: { 200: Organisation, ...errors } },
    async handler(call) {
      const organisation = await renameOrganisation(call.ctx, call.body.name);
      await auditCall(call, { action: "organisation.rename", targetType: "organisation" });
      return organisation;
    },
  }),
];
