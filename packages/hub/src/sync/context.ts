import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { HubDatabase } from "../db/schema.js";
import type { LockDriver } from "../drivers/lock-driver.js";
import type { Ingestor } from "../ingest/ingest.js";
import type { HubSecret } from "../keys/hub-secret.js";
import type { SyncPolicy } from "../config/sync-policy.js";

export interface SyncEngineOptions {
  readonly db: Kysely<HubDatabase>;
  /** How the engine reaches locks (the Latchkey link today). */
  readonly driver: LockDriver;
  readonly ingestor: Ingestor;
  /** Signs revocation lists with the site's owner key (absent: lists are not pushed). */
  readonly secret?: HubSecret;
  /** The ledger whose checkpoints locks co-sign (CheckpointAck events). */
  readonly checkpoints?: { latestCheckpoint(): Promise<{ size: number; note: string } | undefined> };
  /** The hub's clock: lock clocks are set from it, timestamps come from it. */
  readonly now: () => number;
  readonly log: Logger;
  readonly policy?: Partial<SyncPolicy>;
}

/** What one lock's agent needs from the engine. */
export interface AgentContext {
  readonly opts: SyncEngineOptions;
  readonly policy: SyncPolicy;
  readonly stopped: boolean;
  /** Each lock's clock minus the hub's at its last state report, in ms (before any correction). */
  readonly clockDrift: Map<string, number>;
  /** A lock's presence changed (the connected-locks count). */
  presenceChanged(online: boolean): void;
  /** The sync state counts may have moved. */
  refreshCounts(): Promise<void>;
}
