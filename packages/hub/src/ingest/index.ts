export {
  Ingestor,
  MAX_BATCH_RECORDS,
  MAX_RECORD_BYTES,
  QuarantineReason,
  type IngestAck,
  type IngestMetrics,
  type IngestResult,
  type IngestorOptions,
  type LockIdentity,
} from "./ingest.js";
export {
  registerLock,
  getLock,
  lockCursor,
  cursorOf,
  type LockCursor,
  type LockRegistration,
} from "./locks.js";
export {
  AlertKind,
  insertAlerts,
  listAlerts,
  acknowledgeAlert,
  type AlertItem,
  type NewAlert,
} from "./alerts.js";
