/**
 * Exporting a site's evidence: the chosen doors' locks over a window, from the ledger, sealed into
 * the bundle an insurer verifies offline (evidence/export.ts builds it).
 */
import { epochMs, fromHex, LatchkeyError, type NoteSigner } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { Ledger } from "../ledger/index.js";
import { siteOwnerKey } from "../keys/site-keys.js";
import { exportEvidenceBundle } from "../evidence/export.js";
import { allTables } from "../db/access.js";

/** Longest evidence window one export covers (a year). */
const MAX_EVIDENCE_WINDOW_MS = 366 * 24 * 3600 * 1000;

export interface EvidenceRequest {
  readonly siteId: string;
  readonly doorIds: readonly string[];
  /** Lock time, epoch ms. */
  readonly from: number;
  readonly to: number;
}

/** Where an export reads and seals, asked for only once the request is found sound. */
export interface EvidenceSources {
  ledger(): Ledger;
  /** The ledger's own checkpoint signer, for this one export. */
  signer(ledger: Ledger): NoteSigner & { readonly publicKey: Uint8Array };
}

/**
 * The bundle's bytes. The window is at most a year; every door must be the site's and at least
 * one must have a commissioned lock.
 */
export async function exportSiteEvidence(
  ctx: HubContext,
  sources: EvidenceSources,
  request: EvidenceRequest,
): Promise<Uint8Array> {
  const { siteId, doorIds, from, to } = request;
  if (to <= from)
    throw new LatchkeyError("HUB_BAD_REQUEST", "the window must end after it starts", { field: "to" });
  if (to - from > MAX_EVIDENCE_WINDOW_MS)
    throw new LatchkeyError("HUB_BAD_REQUEST", "an export covers at most a year", { field: "to" });
  const db = allTables(ctx.db);
  const doors = await db
    .selectFrom("doors")
    .select(["id"])
    .where("site_id", "=", siteId)
    .where("id", "in", doorIds)
    .execute();
  if (doors.length !== doorIds.length)
    throw new LatchkeyError("HUB_NOT_FOUND", "a chosen door is not in this site");
  const locks = await db
    .selectFrom("locks")
    .select(["id", "signing_public_key", "commissioning_record"])
    .where("site_id", "=", siteId)
    .where("door_id", "in", doorIds)
    .orderBy("id")
    .execute();
  const withRecord = locks.filter((l) => l.commissioning_record !== null);
  if (withRecord.length === 0)
    throw new LatchkeyError("HUB_LOCK_UNKNOWN", "none of the chosen doors has a commissioned lock");
  const ledger = sources.ledger();
  // Seal everything ingested so far under a signed checkpoint, so the export covers it.
  if ((await ledger.latestCheckpoint())?.size !== (await ledger.size())) await ledger.checkpoint();
  const owner = await siteOwnerKey(db, ctx.secret, siteId, ctx.now());
  const { bytes } = await exportEvidenceBundle({
    ledger,
    locks: withRecord.map((l) => ({
      publicKey: fromHex(l.signing_public_key),
      commissioning: fromHex(l.commissioning_record as string),
    })),
    window: { from: epochMs(from), to: epochMs(to) },
    ownerPublicKey: owner.publicKey,
    signer: sources.signer(ledger),
    now: () => ctx.now(),
  });
  return bytes;
}
