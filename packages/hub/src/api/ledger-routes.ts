/**
 * The ledger over HTTP, for the organisation owner: the latest signed checkpoint (C2SP text with
 * witness cosignatures), inclusion and consistency proofs, and a page of leaves (kind, time,
 * assurance, a one-line summary — never a secret). Owner only: the ledger spans every site, and
 * a manager scoped to some sites must not see the others' activity; managers get a door's
 * history through evidence exports.
 */
import { Type } from "typebox";
import {
  decodeSignedLockEvent,
  EventKind,
  LatchkeyError,
  leafAssurance,
  LedgerLeafKind,
  toHex,
  type LedgerLeaf,
} from "@latchkey/protocol";
import { defineRoute, type RouteDef } from "./route-table.js";
import { Strict, errorResponses } from "./schemas.js";
import type { HubLedger } from "../ledger-service/hub-ledger.js";

const Count = Type.String({ pattern: "^(?:0|[1-9][0-9]{0,14})$" });
const PageLimit = Type.String({ pattern: "^(?:[1-9][0-9]{0,2}|1000)$" });
const Base64 = Type.String({ contentEncoding: "base64" });
const errors = errorResponses(400, 401, 404);

const KIND_NAMES: Record<number, string> = {
  [LedgerLeafKind.LockEvent]: "lock-event",
  [LedgerLeafKind.ObservedEvent]: "observed-event",
  [LedgerLeafKind.AdminAction]: "admin-action",
  [LedgerLeafKind.Heartbeat]: "heartbeat",
};
const EVENT_NAMES = new Map<number, string>(Object.entries(EventKind).map(([name, n]) => [n, name]));

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

const LeafItem = Strict({
  index: Type.Integer({ minimum: 0 }),
  kind: Type.String(),
  hubTimeMs: Type.Integer({ minimum: 0 }),
  assurance: Type.String(),
  lockId: Type.Union([Type.String(), Type.Null()]),
  seq: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  summary: Type.String(),
  leafHash: Base64,
});

/** One line about a leaf, from non-secret fields only (journal details are never secret). */
export function leafSummary(leaf: LedgerLeaf): { summary: string; seq: number | null } {
  switch (leaf.kind) {
    case LedgerLeafKind.LockEvent: {
      try {
        const e = decodeSignedLockEvent(leaf.record);
        const facts = Object.entries(e.details)
          .filter(([, v]) => typeof v !== "object")
          .map(([k, v]) => `${k}=${String(v)}`);
        if (e.actor.userIndex !== undefined) facts.unshift(`user ${e.actor.userIndex}`);
        if (e.actor.credentialType !== undefined) facts.push(`credential ${e.actor.credentialType}`);
        const text = `${EVENT_NAMES.get(e.kind) ?? `event ${e.kind}`} #${e.seq}${facts.length > 0 ? `: ${facts.join(", ")}` : ""}`;
        return { summary: text.slice(0, 300), seq: e.seq };
      } catch {
        return { summary: "undecodable lock event", seq: null };
      }
    }
    case LedgerLeafKind.ObservedEvent:
      return { summary: `observed by ${leaf.bridge} (${leaf.payload.length} bytes)`, seq: null };
    case LedgerLeafKind.AdminAction:
      return {
        summary: `${leaf.action} by ${leaf.actor}${leaf.target === "" ? "" : ` on ${leaf.target}`}`.slice(
          0,
          300,
        ),
        seq: null,
      };
    case LedgerLeafKind.Heartbeat:
      return {
        summary: `lock ${leaf.online ? "online" : "offline"}, journal at seq ${leaf.lastSeq}`,
        seq: null,
      };
  }
}

export function ledgerRoutes(hub: HubLedger): RouteDef[] {
  const ledger = hub.ledger;
  // Proofs default to the latest signed checkpoint; before any leaf is signed, to the current tree.
  const defaultSize = async (): Promise<number> => {
    const signed = (await ledger.latestCheckpoint())?.size ?? 0;
    return signed > 0 ? signed : ledger.size();
  };
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/ledger/checkpoint",
      summary: "The latest signed checkpoint (C2SP tlog-checkpoint note, with witness cosignatures)",
      tags: ["ledger"],
      access: { kind: "owner" },
      schema: {
        response: {
          200: Strict({
            origin: Type.String(),
            verifierKey: Type.String({ description: "C2SP signed-note verifier key of the hub" }),
            size: Type.Integer({ minimum: 0 }),
            rootHash: Base64,
            checkpoint: Type.String({ description: "signed note text, hub signature first" }),
            lockAcks: Type.Array(Type.String(), {
              description: "lock ids that acknowledged this checkpoint",
            }),
          }),
          ...errors,
        },
      },
      async handler() {
        const cp = await ledger.latestCheckpoint();
        if (cp === undefined) throw new LatchkeyError("LEDGER_CHECKPOINT_NOT_FOUND", "no checkpoint yet");
        const acks = (await ledger.cosignatures(cp.size)).filter((c) => c.kind === "lock-ack");
        return {
          origin: hub.origin,
          verifierKey: hub.verifierKey,
          size: cp.size,
          rootHash: b64(cp.rootHash),
          checkpoint: await ledger.cosignedCheckpoint(cp.size),
          lockAcks: acks.map((a) => a.signer),
        };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/ledger/proofs/inclusion",
      summary:
        "RFC 9162 inclusion proof of leaf `index` (default: the last) in the tree of `size` leaves (default: the latest checkpoint's)",
      tags: ["ledger"],
      access: { kind: "owner" },
      schema: {
        querystring: Strict({ index: Type.Optional(Count), size: Type.Optional(Count) }),
        response: {
          200: Strict({
            index: Type.Integer({ minimum: 0 }),
            size: Type.Integer({ minimum: 1 }),
            leafHash: Base64,
            hashes: Type.Array(Base64),
          }),
          ...errors,
        },
      },
      async handler({ query }) {
        const size = query.size === undefined ? await defaultSize() : Number(query.size);
        const index = query.index === undefined ? size - 1 : Number(query.index);
        if (index < 0 || index >= size) {
          throw new LatchkeyError("LEDGER_RANGE_INVALID", `leaf ${index} is not in a tree of ${size}`, {
            index,
            size,
          });
        }
        const p = await ledger.inclusionProof(index, size);
        return { index: p.index, size: p.size, leafHash: b64(p.leafHash), hashes: p.hashes.map(b64) };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/ledger/proofs/consistency",
      summary:
        "RFC 9162 consistency proof between tree sizes `from` (default: the checkpoint before `to`) and `to` (default: the latest checkpoint's)",
      tags: ["ledger"],
      access: { kind: "owner" },
      schema: {
        querystring: Strict({ from: Type.Optional(Count), to: Type.Optional(Count) }),
        response: {
          200: Strict({
            from: Type.Integer({ minimum: 0 }),
            to: Type.Integer({ minimum: 0 }),
            hashes: Type.Array(Base64),
          }),
          ...errors,
        },
      },
      async handler({ query }) {
        const to = query.to === undefined ? await defaultSize() : Number(query.to);
        // Default: from the checkpoint signed before `to` (what a client last saw), else `to` itself.
        const earlier = (await ledger.listCheckpoints(-1, 100_000)).filter((c) => c.size > 0 && c.size < to);
        const from =
          query.from === undefined ? (earlier[earlier.length - 1]?.size ?? to) : Number(query.from);
        if (from > to) {
          throw new LatchkeyError("LEDGER_RANGE_INVALID", `size ${from} is larger than ${to}`, { from, to });
        }
        const p = await ledger.consistencyProof(from, to);
        return { from: p.size1, to: p.size2, hashes: p.hashes.map(b64) };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/ledger/leaves",
      summary: "A page of ledger leaves from `start` (kind, time, assurance, summary; never secrets)",
      tags: ["ledger"],
      access: { kind: "owner" },
      schema: {
        querystring: Strict({ start: Type.Optional(Count), limit: Type.Optional(PageLimit) }),
        response: {
          200: Strict({
            size: Type.Integer({ minimum: 0 }),
            items: Type.Array(LeafItem),
            nextStart: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          }),
          ...errors,
        },
      },
      async handler({ query }) {
        const size = await ledger.size();
        const start = Math.min(Number(query.start ?? "0"), size);
        const end = Math.min(size, start + Number(query.limit ?? "100"));
        const entries = await ledger.entries(start, end);
        return {
          size,
          items: entries.map((e) => {
            const { summary, seq } = leafSummary(e.leaf);
            return {
              index: e.index,
              kind: KIND_NAMES[e.leaf.kind] ?? String(e.leaf.kind),
              hubTimeMs: e.leaf.hubTimeMs,
              assurance: leafAssurance(e.leaf),
              lockId: e.leaf.kind === LedgerLeafKind.AdminAction ? null : toHex(e.leaf.lockId),
              seq,
              summary,
              leafHash: b64(e.leafHash),
            };
          }),
          nextStart: end < size ? end : null,
        };
      },
    }),
  ];
}
