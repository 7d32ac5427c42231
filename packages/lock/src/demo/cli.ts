/**
 * `npm run demo:lock`: one virtual lock in the terminal. Type a PIN or a command; journaled events print
 * as they happen. Works with a pipe as stdin, exits cleanly on EOF, `quit` or Ctrl-C.
 *
 *   npm run demo:lock                      fresh lock in a temporary directory
 *   npm run demo:lock -- --dir ./data/demo-lock   keep the lock (users, journal) between runs
 */
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { eventLine } from "./event-line.js";
import { DemoLock, HELP, QUIT } from "./demo-lock.js";
import { tempLockDir } from "../virtual/scenario.js";

function main(): void {
  const args = process.argv.slice(2);
  const dirFlag = args.indexOf("--dir");
  const keep = dirFlag >= 0;
  const dir = keep ? (args[dirFlag + 1] ?? "./data/demo-lock") : tempLockDir("latchkey-demo-");
  const out = (line: string): void => {
    process.stdout.write(line + "\n");
  };

  const { demo, users } = DemoLock.start(dir);
  out(`Latchkey virtual lock ${demo.lock.runtime.lockId}  (state: ${dir})`);
  if (users !== null) {
    out("---- demo PINs (shown once; a real lock never prints PINs) ----");
    for (const u of users.pins) out(`  ${u.user.padEnd(16)} PIN ${u.pin}   ${u.note}`);
    // Like the label on a real lock: what a hub needs to commission it (useless once commissioned).
    const setupCode = demo.lock.setupCode;
    if (setupCode !== null) out(`  setup code       ${setupCode}   commissions this lock to a hub`);
    out("---- end of demo PINs ----");
  } else {
    out("demo users already exist in this directory; their PINs were shown at first start");
  }
  // Replay the boot's events, then print new ones live.
  for (const e of demo.lock.runtime.journal.read(1)) out("  event " + eventLine(e));
  demo.lock.runtime.onEvent((e) => out("  event " + eventLine(e)));

  // Real time drives the virtual clock (timers: auto-relock, door ajar, lockout end).
  let last = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    demo.lock.advance(now - last);
    last = now;
  }, 250);

  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  const prompt = (): void => {
    if (tty) rl.prompt();
  };
  let closed = false;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(ticker);
    demo.shutdown();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    out("bye");
  };
  rl.setPrompt("lock> ");
  rl.on("line", (line) => {
    const result = demo.command(line);
    if (result === QUIT) {
      rl.close();
      return;
    }
    if (result !== "") out(result);
    prompt();
  });
  rl.on("close", finish);
  rl.on("SIGINT", () => rl.close());
  process.on("SIGINT", () => rl.close());
  process.on("SIGTERM", () => rl.close());
  out(HELP);
  out(demo.status());
  prompt();
}

main();
