import { checkpointTextHash, parseNote } from "@latchkey/protocol";
import type { LockSession } from "../drivers/lock-driver.js";
import type { AgentContext } from "./context.js";

/**
 * Asks a lock to co-sign the ledger's latest checkpoint: the lock journals a signed CheckpointAck,
 * which ingestion hands to the ledger, so the hub cannot fork history behind the lock's back.
 * Once per connection and then every `checkpointAckEveryMs`, since each is itself an event.
 */
export class CheckpointCosigning {
  #askedAt = 0;
  #askedSize = -1;

  constructor(private readonly ctx: AgentContext) {}

  /** A new session asks again. */
  forget(): void {
    this.#askedAt = 0;
  }

  /** True when the lock co-signed a new checkpoint (it then has an event to pull). */
  async maybeAcknowledge(session: LockSession): Promise<boolean> {
    const source = this.ctx.opts.checkpoints;
    if (source === undefined) return false;
    if (Date.now() - this.#askedAt < this.ctx.policy.checkpointAckEveryMs) return false;
    const cp = await source.latestCheckpoint();
    // The empty tree's checkpoint has nothing to co-sign (and the wire needs a size ≥ 1).
    if (cp === undefined || cp.size < 1 || cp.size === this.#askedSize) return false;
    await session.acknowledgeCheckpoint(cp.size, checkpointTextHash(parseNote(cp.note).text));
    this.#askedAt = Date.now();
    this.#askedSize = cp.size;
    return true;
  }
}
