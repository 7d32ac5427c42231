/** The access model's routes, joined into one table. */
import type { RouteDef } from "./route-table.js";
import { SITE_ROUTES } from "./site-routes.js";
import { ORGANISATION_ROUTES } from "./organisation-routes.js";
import { PEOPLE_ROUTES } from "./people-routes.js";
import { CREDENTIAL_ROUTES } from "./credential-routes.js";
import { GRANT_ROUTES } from "./grant-routes.js";
import { AUDIT_ROUTES } from "./audit-routes.js";

import { LOCK_ROUTES } from "./lock-routes.js";
import { DEMO_ROUTES } from "./demo-routes.js";
import { EVENT_ROUTES } from "./event-routes.js";
import { APPROVAL_ROUTES } from "./approval-routes.js";
import { GUEST_LINK_ROUTES } from "./guest-link-routes.js";
import { CALENDAR_ROUTES } from "./calendar-routes.js";
import { NOTIFICATION_ROUTES } from "./notification-routes.js";

export const MODEL_ROUTES: readonly RouteDef[] = [
  ...ORGANISATION_ROUTES,
  ...SITE_ROUTES,
  ...PEOPLE_ROUTES,
  ...CREDENTIAL_ROUTES,
  ...GRANT_ROUTES,
  ...AUDIT_ROUTES,
  ...LOCK_ROUTES,
  ...DEMO_ROUTES,
  ...EVENT_ROUTES,
  ...APPROVAL_ROUTES,
  ...GUEST_LINK_ROUTES,
  ...CALENDAR_ROUTES,
  ...NOTIFICATION_ROUTES,
];
