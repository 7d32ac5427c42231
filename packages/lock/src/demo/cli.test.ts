import { describe, expect, it } from "vitest";
import { runDemo } from "./run-demo.js";

describe("terminal demo", () => {
  it("reads commands from a pipe, prints events, exits cleanly at EOF", async () => {
    const { out, code } = await runDemo(
      "help\n40718263\ncard 1\ncard 2\nopen\nclose\ntamper\nbattery 15\ntime +2h\nfrobnicate\n",
    );
    expect(code).toBe(0);
    expect(out).toContain("demo PINs");
    expect(out).toContain("reason=unknown-credential");
    expect(out).toContain("card: granted");
    expect(out).toContain("alarm=FrontEscutcheonRemoved");
    expect(out).toContain("level=low");
    expect(out).toContain('unknown command "frobnicate"');
    expect(out.trimEnd().endsWith("bye")).toBe(true);
  });

  it("exits cleanly on quit and on Ctrl-C (SIGINT)", async () => {
    expect((await runDemo("quit\nstatus\n")).code).toBe(0);
    const interrupted = await runDemo("", { signal: "SIGINT" });
    expect(interrupted.code).toBe(0);
    expect(interrupted.out).toContain("bye");
  });
});
