import {
  epochMs,
  EventKind,
  isLatchkeyError,
  lockIdFromPublicKey,
  nobleEd25519,
  toHex,
  verifyJournalEvents,
  verifyJournalRecords,
  type LockId,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { describe, expect, it } from "vitest";
import { MemoryJournal } from "./memory-journal.js";

const SEED = new Uint8Array(32).fill(0x42);
const PUB = nodeEd25519.publicKey(SEED);
const BOOT_A = new Uint8Array(16).fill(0xa);
const BOOT_B = new Uint8Array(16).fill(0xb);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isLatchkeyError(e)) return e.code;
    throw e;
  }
  return "no error";
}

describe("MemoryJournal", () => {
  it("refuses an invalid append and changes nothing (seq not consumed, chain intact)", () => {
    const journal = new MemoryJournal({ signingSeed: SEED, bootId: BOOT_A });
    journal.append({ kind: EventKind.Boot, details: { reason: "power-on", bootCount: 1 } }, null);
    const before = toHex(journal.lastHash);
    expect(codeOf(() => journal.append({ kind: 999 as never }, null))).toBe("JOURNAL_EVENT_INVALID");
    expect(
      codeOf(() =>
        journal.append({ kind: EventKind.ConfigChange, details: { value: "x".repeat(300) } }, null),
      ),
    ).toBe("JOURNAL_EVENT_INVALID");
    expect(codeOf(() => journal.append({ kind: EventKind.UserChange, actor: { userIndex: -1 } }, null))).toBe(
      "JOURNAL_EVENT_INVALID",
    );
    expect(journal.nextSeq).toBe(2);
    expect(toHex(journal.lastHash)).toBe(before);
    expect(journal.read(1)).toHaveLength(1);
  });

  it("refuses a lock id that is not the signing key's, and a seed of the wrong size", () => {
    expect(codeOf(() => new MemoryJournal({ signingSeed: SEED, lockId: "00".repeat(16) as LockId }))).toBe(
      "JOURNAL_WRONG_LOCK",
    );
    expect(codeOf(() => new MemoryJournal({ signingSeed: new Uint8Array(31) }))).toBe(
      "JOURNAL_EVENT_INVALID",
    );
    expect(new MemoryJournal({ signingSeed: SEED, lockId: lockIdFromPublicKey(PUB) }).lockId).toBe(
      lockIdFromPublicKey(PUB),
    );
  });

  it("stamps seq, boot id, time and links; the chain verifies; the seed appears nowhere", () => {
    const journal = new MemoryJournal({ signingSeed: SEED, bootId: BOOT_A, ed25519: nobleEd25519 });
    expect(journal.nextSeq).toBe(1);
    const boot = journal.append(
      { kind: EventKind.Boot, details: { reason: "power-on", bootCount: 1 } },
      null,
    );
    const op = journal.append(
      {
        kind: EventKind.LockOperation,
        actor: { userIndex: 2, credentialType: "PIN", credentialIndex: 1 },
        details: { operation: "Unlock", source: "Keypad" },
      },
      epochMs(1_767_225_600_000),
    );
    expect(boot.seq).toBe(1);
    expect(op.seq).toBe(2);
    expect(toHex(op.prevHash)).toBe(toHex(boot.hash));
    expect(toHex(op.bootId)).toBe(toHex(BOOT_A));
    expect(op.lockTime).toBe(1_767_225_600_000);
    expect(journal.nextSeq).toBe(3);
    expect(journal.read(2).map((e) => e.seq)).toEqual([2]);
    expect(journal.read(1, 1).map((e) => e.seq)).toEqual([1]);
    expect(journal.read(5)).toEqual([]);
    expect(verifyJournalEvents(journal.read(1), { publicKey: PUB, ed25519: nodeEd25519 }).ok).toBe(true);
    expect(verifyJournalRecords(journal.readRecords(1), { publicKey: PUB, ed25519: nodeEd25519 }).ok).toBe(
      true,
    );
    const seedHex = toHex(SEED);
    const dump = JSON.stringify(journal, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
    expect(dump).not.toContain(seedHex);
    expect(
      JSON.stringify(journal.read(1), (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v)),
    ).not.toContain(seedHex);
  });

  it("continues a chain across a simulated reboot: seq never reused, new boot id", () => {
    const first = new MemoryJournal({ signingSeed: SEED, bootId: BOOT_A });
    for (let i = 0; i < 3; i++)
      first.append({ kind: EventKind.Heartbeat, details: { battery: 90 - i } }, null);
    const second = MemoryJournal.fromRecords(first.readRecords(1), { signingSeed: SEED, bootId: BOOT_B });
    const boot = second.append({ kind: EventKind.Boot, details: { reason: "reset", bootCount: 2 } }, null);
    expect(boot.seq).toBe(4);
    expect(toHex(boot.bootId)).toBe(toHex(BOOT_B));
    expect(verifyJournalRecords(second.readRecords(1), { publicKey: PUB, ed25519: nodeEd25519 }).ok).toBe(
      true,
    );
  });

  it("fromRecords refuses a tampered history, naming the first bad event", () => {
    const journal = new MemoryJournal({ signingSeed: SEED, bootId: BOOT_A });
    for (let i = 0; i < 4; i++) journal.append({ kind: EventKind.Heartbeat }, null);
    const records = journal.readRecords(1);
    records.splice(1, 1);
    try {
      MemoryJournal.fromRecords(records, { signingSeed: SEED });
      expect.unreachable();
    } catch (e) {
      expect(isLatchkeyError(e, "JOURNAL_VERIFY_FAILED")).toBe(true);
      expect((e as { details: unknown }).details).toMatchObject({ index: 1, seq: 3, reason: "gap" });
    }
    expect(
      codeOf(() => MemoryJournal.fromRecords(journal.readRecords(1), { signingSeed: new Uint8Array(32) })),
    ).toBe("JOURNAL_VERIFY_FAILED");
  });
});
