export { Ledger } from "./ledger.js";
export type {
  AppendedLeaf,
  AuditResult,
  CheckpointPolicy,
  ConsistencyProof,
  InclusionProof,
  LedgerEntry,
  LedgerOptions,
} from "./ledger.js";
export { SqliteLedgerStore, type SqliteLedgerOptions } from "./sqlite-store.js";
export { PgLedgerStore, type PgLedgerOptions } from "./pg-store.js";
export type * from "./store.js";
export { nodeMerkleHasher } from "./hasher.js";
