/** Runs the terminal demo as a child process with piped stdin (tests, CI smoke checks). */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/**
 * Feeds `input` and closes stdin (EOF), or with `signal` sends it once the prompt loop runs.
 * Resolves with everything printed and the exit code.
 */
export function runDemo(
  input: string,
  opts: { signal?: NodeJS.Signals } = {},
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const collect = (d: Buffer): void => {
      out += d.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("exit", (code) => resolve({ out, code }));
    const signal = opts.signal;
    if (signal === undefined) {
      child.stdin.end(input);
      return;
    }
    const wait = setInterval(() => {
      if (out.includes("bolt=")) {
        clearInterval(wait);
        child.kill(signal);
      }
    }, 20);
  });
}
