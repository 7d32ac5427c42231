import { describe, expect, it } from "vitest";
import { answerWords, boltWords, denyWords, syncWords } from "./words.js";

describe("lock facts in words", () => {
  it("says what the lock answered", () => {
    expect(answerWords({ result: "granted", reason: null })).toBe("Granted");
    expect(answerWords({ result: "denied", reason: "outside-schedule" })).toBe("Denied: outside schedule");
    expect(answerWords({ result: "denied", reason: "lockout-active" })).toBe(
      "Denied: locked out after too many wrong tries",
    );
    // A reason this app does not know yet is still readable.
    expect(denyWords("some-new-reason")).toBe("some new reason");
    expect(boltWords("NotFullyLocked")).toBe("Not fully locked");
  });

  it("says where a credential stands on a lock, with the reason for failures", () => {
    expect(syncWords({ state: "set", reason: null })).toBe("Set on the lock");
    expect(syncWords({ state: "pending", reason: "lock unreachable" })).toBe(
      "Waiting to be sent: the lock is not reachable right now",
    );
    expect(syncWords({ state: "failed", reason: "LOCK_CAPACITY" })).toBe(
      "Failed: the lock has no free slot left",
    );
    expect(syncWords({ state: "failed", reason: "LOCK_SOMETHING_NEW" })).toBe(
      "Failed: the lock refused (LOCK_SOMETHING_NEW)",
    );
    // A removal keeps the earlier reason in the row; "removed" alone is the news.
    expect(syncWords({ state: "removed", reason: "lock unreachable" })).toBe("Removed from the lock");
    expect(syncWords({ state: "failed", reason: "LOCK_CREDENTIAL_DUPLICATE" })).toBe(
      "Failed: the lock already has this PIN or card for another user; replace the PIN with a new one (Replace PIN)",
    );
  });
});
