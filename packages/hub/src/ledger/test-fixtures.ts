/** Leaves and keys shared by the ledger tests, the crash child and the benchmark. */
import { epochMs, LedgerLeafKind, type LedgerLeaf } from "@latchkey/protocol";

export const TEST_ORIGIN = "hub.test/ledger";
export const TEST_HUB_SEED = new Uint8Array(32).fill(0x42);

const lockA = Uint8Array.from({ length: 16 }, (_, i) => i);
const lockB = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);

/** A deterministic leaf of each kind in turn (never a secret inside). */
export function sampleLeaf(i: number): LedgerLeaf {
  const hubTimeMs = epochMs(1_700_000_000_000 + i);
  switch (i % 4) {
    case 0:
      return {
        kind: LedgerLeafKind.LockEvent,
        hubTimeMs,
        lockId: lockA,
        record: new TextEncoder().encode(`signed event ${i}`),
      };
    case 1:
      return {
        kind: LedgerLeafKind.ObservedEvent,
        hubTimeMs,
        lockId: lockB,
        bridge: "matter",
        observedAtMs: epochMs(1_700_000_000_000 + i - 1),
        payload: Uint8Array.of(i & 0xff),
      };
    case 2:
      return {
        kind: LedgerLeafKind.AdminAction,
        hubTimeMs,
        actor: "user:owner",
        action: "grant.create",
        target: `grant:${i}`,
        details: new Uint8Array(0),
      };
    default:
      return {
        kind: LedgerLeafKind.Heartbeat,
        hubTimeMs,
        lockId: lockA,
        lastSeq: i,
        headHash: new Uint8Array(32).fill(i & 0xff),
        online: true,
      };
  }
}
