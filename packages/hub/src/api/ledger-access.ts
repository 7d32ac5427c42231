/**
 * How the events and evidence routes reach the hub's ledger and its checkpoint signer.
 *
 * The ledger comes from the context. The signer is rebuilt from the checkpoint key in the data
 * directory (the same key `HubLedger.open` loads) for each export, checked against the ledger's
 * public key, and its seed copy lives only as long as that export.
 */
import { ed25519NoteSigner, equalBytes, LatchkeyError, type NoteSigner } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { Ledger } from "../ledger/index.js";
import { loadOrCreateCheckpointKey } from "../keys/checkpoint-key.js";
import type { ApiContext } from "./context.js";

export function eventsLedger(ctx: ApiContext): Ledger {
  const ledger = ctx.devices.ledger;
  if (ledger === null) throw new LatchkeyError("HUB_GATEWAY_NOT_RUNNING", "the ledger is not open");
  return ledger;
}

export function evidenceSigner(
  ctx: ApiContext,
  ledger: Ledger,
): NoteSigner & { readonly publicKey: Uint8Array } {
  const key = loadOrCreateCheckpointKey(ctx.config.dataDir, {
    publicUrl: ctx.config.publicUrl,
    ...(ctx.config.ledgerOrigin === undefined ? {} : { origin: ctx.config.ledgerOrigin }),
  });
  try {
    // The signer keeps its own copy of the seed for the one export it serves.
    const signer = ed25519NoteSigner(key.origin, key.seed.slice(), nodeEd25519);
    if (!equalBytes(signer.publicKey, ledger.publicKey) || signer.name !== ledger.origin)
      throw new LatchkeyError("LK_INTERNAL", "the checkpoint key does not match the ledger");
    return signer;
  } finally {
    key.seed.fill(0);
  }
}
