/**
 * Commissioning messages as the journal sees them: a completed commissioning journals Commissioned
 * (owner and hub key hashes), and every failed attempt journals a refusal — including the one a
 * hub abandons after learning from confirmV that its code is wrong, noticed when the next attempt
 * says hello.
 */
import { DenyReason, EventKind } from "@latchkey/protocol";
import type { LockReporter } from "../journal/event-log.js";
import type { LockCommissioning } from "./lock-commissioning.js";

export class CommissioningEvents {
  /** The counted commissioning failure already journaled as abandoned. */
  #abandonedAttempt = "";

  constructor(
    private readonly commissioning: LockCommissioning,
    private readonly report: LockReporter,
  ) {}

  /** One commissioning message (clear PAKE exchange) → the reply to send; never throws for bad input. */
  handle(bytes: Uint8Array): Uint8Array {
    const responder = this.commissioning.responder;
    // A hub that learns from confirmV that its code is wrong walks away without CommPake3; the
    // responder has counted the failure. Journal it when the next attempt says hello.
    const isHello = bytes.length >= 3 && bytes[1] === 0x01 && bytes[2] === 0x01;
    if (isHello && responder.phase === "pake2-sent") {
      const s = responder.state;
      const mark = `${s.consecutiveFailures}@${s.lastFailureAt ?? 0}`;
      if (mark !== this.#abandonedAttempt) {
        this.#abandonedAttempt = mark;
        this.#failed("abandoned", s.consecutiveFailures, responder.lockedUntil !== null);
      }
    }
    const step = this.commissioning.handle(bytes);
    const r = step.report;
    if (r?.kind === "commissioned") {
      this.report.event(
        EventKind.Commissioned,
        {},
        { ownerKeyHash: r.ownerKeyHash, hubKeyHash: r.hubKeyHash },
      );
    } else if (r?.kind === "attempt-failed") {
      this.#failed(r.reason, r.consecutiveFailures, r.lockedUntil !== null);
    }
    return step.reply;
  }

  #failed(error: string, consecutiveFailures: number, lockedOut: boolean): void {
    this.report.event(
      EventKind.LockOperationError,
      {},
      { operation: "Commission", reason: DenyReason.BadSignature, error, consecutiveFailures, lockedOut },
    );
  }
}
