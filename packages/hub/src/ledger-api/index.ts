export { ledgerRoutes, leafSummary } from "./routes.js";
