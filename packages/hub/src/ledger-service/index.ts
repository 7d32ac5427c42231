export { HubLedger, LEDGER_SQLITE_FILE, type HubLedgerOptions } from "./hub-ledger.js";
export { AuditFeed } from "./audit-feed.js";
export { Exclusive } from "./exclusive.js";
export { beginIntent, endIntent, openIntent, scanLedger } from "./intents.js";
