export { buildHub, type Hub } from "./server/app.js";
export { parseConfig, helpText, type HubConfig } from "./config/config.js";
export { recordAudit, type AuditEntry } from "./audit/audit.js";
export { parseLockPublicKey } from "./credentials/lock-public-key.js";
export { MIGRATION_NAMES } from "./db/migrations.js";
export { HubLedger, LEDGER_SQLITE_FILE, type HubLedgerOptions } from "./ledger-service/index.js";
export * from "./ingest/index.js";
export { ledgerRoutes, leafSummary } from "./api/ledger-routes.js";
export {};
export {
  exportEvidenceBundle,
  type EvidenceLockIdentity,
  type ExportEvidenceOptions,
} from "./evidence/index.js";
export {
  DeviceGateway,
  DeviceMqttClient,
  MqttFrameTransport,
  TopicScheme,
  LOCKS_CONNECTED_METRIC,
  type DeviceGatewayOptions,
  type DeviceGatewayEvents,
  type DeviceClientOptions,
} from "./gateway/index.js";
