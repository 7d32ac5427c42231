/**
 * Secrets stay secret: runs a broad scenario (every credential type, grants, denials, lockout,
 * alarms, refused admin input, restarts, the terminal demo) and scans everything it produced —
 * every journaled event (signed encoding and details), every error message and its JSON, every
 * line the demo printed except its one-time demo-PIN banner, and the persisted state and journal
 * files — for every PIN used, the card key, the PIN-hash secret and the signing seed, in raw, hex
 * and base64 forms. keys.bin is the one place the keys live and is not scanned.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  encodeSignedLockEvent,
  epochMs,
  isLatchkeyError,
  type SignedLockEvent,
  UserType,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { phoneUnlockMessage } from "../credentials/phone-key.js";
import { runDemo } from "../demo/run-demo.js";
import { eventLine } from "../demo/event-line.js";
import { KEYS_FILE } from "../persistence/lock-keys.js";
import { VirtualCard } from "../virtual/virtual-card.js";
import { startTempLock, tempLockDir } from "../virtual/scenario.js";

const PINS = ["58392047", "40718263", "77310958", "29461835", "61029384"];
const WEAK_OR_BAD = ["123456", "111111", "5839", "5839204718264", "58392a47"];
const CARD_KEY = Uint8Array.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));
const PHONE_SEED = Uint8Array.from(Array.from({ length: 32 }, (_, i) => 0x40 + i));

function forms(secret: Uint8Array | string): string[] {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  const out = [
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
    bytes.toString("base64"),
    bytes.toString("base64url"),
  ];
  if (typeof secret === "string") out.push(secret);
  // Short secrets (a 4-digit PIN in hex is 8 chars) are still specific enough; drop base64 padding noise.
  return out.map((f) => f.replace(/=+$/, ""));
}

interface Haystacks {
  texts: string[];
  binaries: Buffer[];
}

function scan(h: Haystacks, secrets: { name: string; value: Uint8Array | string }[]): string[] {
  const hits: string[] = [];
  for (const { name, value } of secrets) {
    const raw = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
    for (const form of forms(value)) {
      h.texts.forEach((t, i) => {
        if (t.includes(form)) hits.push(`${name} (${form.length} chars) in text #${i}`);
      });
      h.binaries.forEach((b, i) => {
        if (b.includes(Buffer.from(form, "utf8"))) hits.push(`${name} as text in binary #${i}`);
      });
    }
    h.binaries.forEach((b, i) => {
      if (b.includes(raw)) hits.push(`${name} raw in binary #${i}`);
    });
  }
  return hits;
}

function eventTexts(e: SignedLockEvent): string {
  return (
    JSON.stringify({ actor: e.actor, details: e.details }, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
    ) +
    "\n" +
    eventLine(e)
  );
}

describe("no secret in any event, error, log line or state file", () => {
  it("scans the whole suite scenario", async () => {
    const dir = tempLockDir();
    const lock = startTempLock({
      dir,
      initialSettings: { wrongCodeEntryLimit: 3, userCodeTemporaryDisableTime: 5 },
    });
    const errors: unknown[] = [];
    const tryIt = (fn: () => unknown): void => {
      try {
        fn();
      } catch (e) {
        errors.push(e);
      }
    };
    const rt = lock.runtime;
    const a = rt.addUser({ name: "resident" });
    const b = rt.addUser({ type: UserType.ForcedUser });
    const c = rt.addUser({ type: UserType.RemoteOnlyUser });
    const d = rt.addUser({ type: UserType.WeekDayScheduleUser });
    rt.setPin(a, PINS[0] ?? "");
    rt.setPin(b, PINS[1] ?? "");
    rt.setPin(c, PINS[2] ?? "");
    rt.setPin(d, PINS[3] ?? "");
    const uid = Uint8Array.from([4, 9, 8, 7, 6, 5, 4]);
    rt.setCard(a, uid, CARD_KEY);
    rt.setFingerprint(a, 12);
    const phonePub = nodeEd25519.publicKey(PHONE_SEED);
    rt.setPhoneKey(a, "Ed25519", phonePub);
    for (const pin of WEAK_OR_BAD) tryIt(() => rt.setPin(a, pin));
    tryIt(() => rt.setPin(b, PINS[0] ?? ""));
    tryIt(() => rt.setPin(99, PINS[4] ?? ""));
    tryIt(() => rt.setCard(a, uid, CARD_KEY.subarray(0, 5)));
    for (const pin of PINS) lock.enterPin(pin);
    lock.advance(31_000);
    lock.tapCard(new VirtualCard(uid, CARD_KEY));
    lock.tapCard(new VirtualCard(uid));
    lock.touchFingerprint(12);
    const nonce = rt.issuePhoneChallenge();
    rt.attemptPhoneKey({
      publicKey: phonePub,
      nonce,
      signature: nodeEd25519.sign(PHONE_SEED, phoneUnlockMessage(rt.lockIdBytes, nonce)),
    });
    rt.remoteUnlock({ pin: PINS[2] ?? "" });
    for (const pin of PINS) rt.remoteUnlock({ pin: pin + "9" });
    lock.advance(10_000);
    lock.openDoor();
    lock.advance(120_000);
    lock.closeDoor();
    lock.tamper("drilling");
    lock.setBattery(8);
    tryIt(() => rt.setTime(epochMs(Date.UTC(2026, 5, 1)), "hub")); // refused: beyond the step bound
    lock.restart();
    lock.enterPin(PINS[0] ?? "");
    lock.powerCycle({ keepTime: false });
    lock.enterPin(PINS[3] ?? "");
    tryIt(() => lock.runtime.updateSettings({ timeZone: "Nowhere/" + (PINS[0] ?? "") }));
    const events = lock.runtime.journal.read(1);
    lock.runtime.shutdown();
    expect(errors.length).toBeGreaterThanOrEqual(9);
    expect(errors.every((e) => isLatchkeyError(e))).toBe(true);

    const demo = await runDemo("");
    const pinsLine = demo.out.split("\n").filter((l) => / PIN \d+ /.test(l));
    const demoPins = pinsLine.map((l) => /PIN (\d+)/.exec(l)?.[1] ?? "");
    expect(demoPins).toHaveLength(3);
    expect(demo.code).toBe(0);
    const demoBody = (out: string): string => {
      const start = out.indexOf("---- demo PINs");
      const end = out.indexOf("---- end of demo PINs ----");
      return out.slice(0, start) + out.slice(end);
    };
    // A second demo lock: its own banner is cut; the first lock's PINs typed into it must not echo.
    const typed = await runDemo(demoPins.join("\n") + "\nstatus\n");
    expect(typed.out).toContain("reason=unknown-credential");

    const keys = readFileSync(join(dir, KEYS_FILE));
    const signingSeed = keys.subarray(1, 33);
    const pinSecret = keys.subarray(33, 65);
    const files = readdirSync(dir).filter((f) => f !== KEYS_FILE);
    const haystacks: Haystacks = {
      texts: [
        ...events.map(eventTexts),
        ...errors.map((e) =>
          isLatchkeyError(e) ? `${e.message} ${JSON.stringify(e.toJSON())} ${e.stack ?? ""}` : String(e),
        ),
        demoBody(demo.out),
        typed.out.slice(typed.out.indexOf("---- end of demo PINs ----")),
        ...files.map((f) => readFileSync(join(dir, f)).toString("utf8")),
      ],
      binaries: [
        ...events.map((e) => Buffer.from(encodeSignedLockEvent(e))),
        ...files.map((f) => readFileSync(join(dir, f))),
      ],
    };
    expect(events.length).toBeGreaterThan(40);
    const secrets = [
      ...[...PINS, ...WEAK_OR_BAD.slice(0, 2)].map((p, i) => ({ name: `pin${i}`, value: p })),
      ...demoPins.map((p, i) => ({ name: `demoPin${i}`, value: p })),
      { name: "cardKey", value: CARD_KEY },
      { name: "phoneSeed", value: PHONE_SEED },
      { name: "signingSeed", value: new Uint8Array(signingSeed) },
      { name: "pinSecret", value: new Uint8Array(pinSecret) },
    ];
    // The demo's typed PINs must not show up in the demo output after the banner either.
    expect(scan(haystacks, secrets)).toEqual([]);
    // And the scan is not blind: it finds a planted secret.
    expect(
      scan({ texts: [`x${Buffer.from(pinSecret).toString("base64")}`], binaries: [] }, secrets),
    ).not.toEqual([]);
  });
});
