/**
 * Child process of crash.test.ts: opens the journal in argv[2] and appends events forever. After
 * each append returns it writes "<seq> <hash hex>" to stdout, synchronously, so every line the
 * parent sees is an event "reported as written". The parent kills it with SIGKILL at random.
 * argv[3] === "torn" writes each frame in small pieces with pauses, so kills land mid-frame the
 * way a power cut can. The signing seed comes from the environment (a test key, never printed),
 * and so does how often the start-up anchor moves (the parent makes it often, so kills land
 * between an append and its anchor write, and in the middle of anchor writes).
 */
import { writeSync as fsWriteSync } from "node:fs";

/**
 * stdout is a non-blocking pipe: when the parent is slow to read (a loaded machine), a write can
 * fail with EAGAIN. Retry until the whole line is out — the line must be written before the next
 * append, since it is the child's report that the event was acknowledged.
 */
function writeSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fsWriteSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
}
import { EventKind, fromHex, toHex } from "@latchkey/protocol";
import { FileJournal } from "./file-journal.js";

const dir = process.argv[2];
const seedHex = process.env["LATCHKEY_CRASH_TEST_SEED"];
if (dir === undefined || seedHex === undefined) {
  writeSync(2, "usage: LATCHKEY_CRASH_TEST_SEED=<hex> crash-child.ts <dir> [torn]\n");
  process.exit(2);
}
const anchorEvery = process.env["LATCHKEY_CRASH_TEST_ANCHOR_EVERY"];
const journal = FileJournal.open({
  dir,
  signingSeed: fromHex(seedHex),
  ...(anchorEvery === undefined ? {} : { anchorEvery: Number(anchorEvery) }),
  ...(process.argv[3] === "torn" ? { faultInjection: { chunkBytes: 24, pauseMs: 1 } } : {}),
});
writeSync(1, `ready ${journal.nextSeq}\n`);
const boot = journal.append({ kind: EventKind.Boot, details: { reason: "power-on" } }, null);
writeSync(1, `${boot.seq} ${toHex(boot.hash)}\n`);
for (let i = 0; ; i++) {
  const event = journal.append(
    i % 3 === 0
      ? {
          kind: EventKind.LockOperation,
          actor: { userIndex: 1 + (i % 7) },
          details: { operation: "Unlock", source: "Keypad", n: i },
        }
      : { kind: EventKind.Heartbeat, details: { battery: 100 - (i % 100), lockState: "Locked" } },
    null,
  );
  writeSync(1, `${event.seq} ${toHex(event.hash)}\n`);
}
