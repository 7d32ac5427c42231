/**
 * Issue 13 acceptance, "time the hub cannot bend": the hub sets a lock's clock around a valid PIN
 * entry. The real lock runtime on the virtual clock, the real ledger and exporter, the real
 * verifier and report (sample-scenario.ts with `clockAttack`).
 *
 *  - past-window: the hub asks for a jump to 04:00, past the window's end (the lock refuses it and
 *    journals the refusal), then walks the clock there in 5-minute steps, each accepted and each a
 *    signed ClockSet; the resident's PIN is used at what the lock then calls 04:00. Before the
 *    Time rules, the report claimed "no valid credential was used" from 22:00:14 to the window's
 *    end. Now it makes no claim across the steps and names them.
 *  - within-window: one step of 5 minutes (within the bound) forward before the entry and one back
 *    after: no claim across either, each named.
 */
import { describe, expect, it } from "vitest";
import {
  decodeSignedLockEvent,
  EventKind,
  verifyEvidenceBundle,
  type SignedLockEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { CLOCK_STEP_LIMIT_MS } from "@latchkey/lock";
import { nodeMerkleHasher } from "../ledger/index.js";
import { CLOCK_ATTACK, runSampleScenario, SAMPLE_WINDOW } from "./sample-scenario.js";

const events = (bundle: {
  locks: readonly { events: readonly { record: Uint8Array }[] }[];
}): SignedLockEvent[] => bundle.locks[0]!.events.map((e) => decodeSignedLockEvent(e.record));

describe("a hub that bends the lock's clock around a valid PIN entry", () => {
  it("past the window's end: the jump is refused, the steps are signed, no absence claim is made over them", async () => {
    const sample = await runSampleScenario({ clockAttack: "past-window" });
    const verified = verifyEvidenceBundle(sample.bytes, { ed25519: nodeEd25519, hasher: nodeMerkleHasher });
    expect(verified.status).toBe("valid");
    const all = events(sample.bundle);

    // The lock refused the big jump and said so in its own journal.
    const refused = all.filter((e) => e.kind === EventKind.ClockSetRefused);
    expect(
      refused.map((e) => [e.details.fromMs, e.details.toMs, e.details.source, e.details.limitMs]),
    ).toEqual([[CLOCK_ATTACK.startsAt, CLOCK_ATTACK.target["past-window"], "hub", CLOCK_STEP_LIMIT_MS]]);
    // Every step it took is a signed ClockSet with old and new values, none beyond the bound.
    const steps = all.filter((e) => e.kind === EventKind.ClockSet);
    expect(steps.length).toBeGreaterThan(30);
    for (const s of steps) {
      expect(s.details.source).toBe("hub");
      expect(Math.abs((s.details.toMs as number) - (s.details.fromMs as number))).toBeLessThanOrEqual(
        CLOCK_STEP_LIMIT_MS,
      );
    }
    // Every event carries the monotonic reading the hub cannot set: it shows the real spacing.
    expect(all.every((e) => e.version === 2 && e.monotonicMs !== undefined)).toBe(true);
    const [first, last] = [steps[0]!, steps[steps.length - 1]!];
    expect(last.monotonicMs! - first.monotonicMs!).toBe((steps.length - 1) * CLOCK_ATTACK.everyMs);
    expect(last.lockTime! - first.lockTime!).toBeGreaterThan(2.9 * 3_600_000);

    // The report: no absence claim from the auto-lock at 22:00:14 on; the steps are named.
    const door = sample.report.doors[0]!;
    const claims = door.periods.filter((p) => p.proven);
    expect(claims.map((p) => [p.from, p.to])).toEqual([
      ["2026-03-06T21:30:00.000Z", "2026-03-06T21:59:44.000Z"],
    ]);
    for (const p of claims) expect(Date.parse(p.to)).toBeLessThan(CLOCK_ATTACK.startsAt);
    const voided = door.periods.find((p) => !p.proven && p.from === "2026-03-06T22:00:14.000Z");
    expect(voided?.to).toBe(new Date(SAMPLE_WINDOW.to).toISOString());
    expect(voided?.statement).toContain(
      `the lock's clock was set ${steps.length} times (by the hub) between seq ${first.seq} and seq ${last.seq}, from 2026-03-07 00:30:02 to`,
    );
    expect(voided?.statement).toContain("no claim across it");
    expect(sample.report.proven.join("\n")).not.toMatch(
      /No valid credential was used at Front door between 2026-03-06 22:00:14/,
    );
    expect(sample.report.notProven).toContain(voided?.statement);
    expect(door.summary).toContain(
      "clock change refused: the hub asked to set it from 2026-03-07 00:30:00 to 2026-03-07 04:00:00, more than the lock's bound of 5 min",
    );
  }, 120_000);

  it("within the bound: one step forward before the entry, one back after, each named; no claim across either", async () => {
    const sample = await runSampleScenario({ clockAttack: "within-window" });
    expect(
      verifyEvidenceBundle(sample.bytes, { ed25519: nodeEd25519, hasher: nodeMerkleHasher }).status,
    ).toBe("valid");
    const all = events(sample.bundle);
    expect(all.some((e) => e.kind === EventKind.ClockSetRefused)).toBe(false);
    const [forward, back] = all.filter((e) => e.kind === EventKind.ClockSet);
    const entry = all.find(
      (e) => e.kind === EventKind.LockOperation && e.details.operation === "Unlock" && e.seq > forward!.seq,
    );
    expect(entry?.actor).toEqual({ userIndex: 1, credentialType: "PIN", credentialIndex: 1 });
    // By the lock's (bent) clock the entry is 5 minutes late; its monotonic reading is not.
    expect(entry!.lockTime! - (entry!.monotonicMs! + Date.UTC(2026, 2, 6, 18))).toBe(CLOCK_ATTACK.stepMs);

    const door = sample.report.doors[0]!;
    const periods = door.periods.map((p) => [p.from, p.to, p.proven]);
    expect(periods).toEqual([
      ["2026-03-06T21:30:00.000Z", "2026-03-06T21:59:44.000Z", true],
      ["2026-03-06T22:00:14.000Z", "2026-03-07T00:35:30.000Z", false],
      ["2026-03-07T00:36:00.000Z", "2026-03-07T03:25:02.000Z", false],
    ]);
    expect(door.periods[1]!.statement).toContain(
      `the lock's clock was set from 2026-03-07 00:30:00 to 2026-03-07 00:35:00 (by the hub) at seq ${forward!.seq}: no claim across it`,
    );
    expect(door.periods[2]!.statement).toContain(
      `the lock's clock was set from 2026-03-07 00:36:12 to 2026-03-07 00:31:12 (by the hub) at seq ${back!.seq}: no claim across it`,
    );
    expect(door.summary).toContain("unlocked 00:35:30 by user #1 with PIN #1 at the keypad");
  }, 120_000);
});
