import { describe, it, expect } from "vitest";
import { LogCapture } from "../testing/hub-fixture.js";
import { createLogger } from "./logging.js";

describe("structured logging", () => {
  it("redacts secret-named fields and cookies wherever a log call passes them", () => {
    const capture = new LogCapture();
    const log = createLogger("info", capture);
    log.info(
      {
        password: "hunter2-long-pass",
        body: { pin: "482913" },
        user: { token: "tok-abc", code: "123456", name: "ann" },
      },
      "x",
    );
    log.info({ req: { headers: { cookie: "latchkey_session=s3cr3t", "x-csrf-token": "csrf-xyz" } } }, "y");
    log.error({ err: Object.assign(new Error("boom"), { code: "E_X", params: ["482913"] }) }, "z");
    const text = capture.text();
    for (const secret of ["hunter2-long-pass", "482913", "tok-abc", "123456", "s3cr3t", "csrf-xyz"])
      expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
    expect(text).toContain('"name":"ann"');
    expect(text).toContain('"errorCode":"E_X"');
  });
});
