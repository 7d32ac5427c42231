/** One human-readable line per journaled event: kind, reason, alarm, source, actor indexes — never a secret. */
import { EventKind, type SignedLockEvent } from "@latchkey/protocol";

const KIND_NAMES = new Map<number, string>(Object.entries(EventKind).map(([name, n]) => [n, name]));
const SHOWN = [
  "operation",
  "reason",
  "alarm",
  "source",
  "doorState",
  "lockState",
  "dataType",
  "setting",
  "value",
  "percent",
  "level",
  "bootCount",
];

export function eventLine(e: SignedLockEvent): string {
  const parts = [`#${e.seq}`, KIND_NAMES.get(e.kind) ?? `kind${e.kind}`];
  for (const key of SHOWN) {
    const v = e.details[key];
    if (v !== undefined && !(v instanceof Uint8Array)) parts.push(`${key}=${String(v)}`);
  }
  if (e.actor.userIndex !== undefined) parts.push(`user=${e.actor.userIndex}`);
  if (e.actor.credentialType !== undefined)
    parts.push(`credential=${e.actor.credentialType}#${e.actor.credentialIndex ?? "?"}`);
  parts.push(e.lockTime === null ? "time=unknown" : `time=${new Date(e.lockTime).toISOString()}`);
  return parts.join(" ");
}
