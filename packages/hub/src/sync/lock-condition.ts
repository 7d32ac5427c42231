/**
 * What the hub knows of a lock's condition, and keeping the lock's own settings in line with the
 * hub's: its clock (set when it drifts, within a bound), the site's time zone, the site's newest
 * revocation list. Read on connect, after a push, and otherwise every `stateEveryMs`.
 */
import type { LockId, PinPolicy } from "@latchkey/protocol";
import type { LockSession } from "../drivers/lock-driver.js";
import type { AgentContext } from "./context.js";
import { revocationVersion, signedRevocationList } from "./revocation.js";

/** What the hub last learned of a lock's condition (from its state report). */
export interface LockCondition {
  readonly lockState: number | null;
  readonly doorState: number | null;
  readonly operatingMode: number | null;
  readonly batteryPercent: number | null;
  readonly firmwareVersion: string;
  readonly lastSeq: number;
  readonly revocationVersion: number;
  readonly appliedTimeZone: string | null;
  /** The PIN policy the lock reported (absent in rows written before locks reported one). */
  readonly pinPolicy?: PinPolicy;
  /** The lock's clock is off by more than a drift step: a person must authorise setting it. */
  readonly clockNeedsAuthorisation?: boolean;
}

/** The lock's row as a pass reads it. */
export interface LockSettingsWanted {
  readonly siteId: string;
  readonly timeZone: string;
  /** The condition stored at the last read (JSON), null before the first. */
  readonly stateJson: string | null;
}

export class LockConditionReader {
  /** When the condition was last read (Date.now; 0: read on the next pass). */
  #readAt = 0;
  /** The clock difference that needs a person (set when first seen; cleared once the clocks agree). */
  #clockNeedsPerson: number | null = null;
  /** This lock's state-read period: the policy's, spread ±10 % so a fleet's reads do not bunch up. */
  readonly everyMs: number;

  constructor(
    private readonly ctx: AgentContext,
    readonly lockId: LockId,
  ) {
    this.everyMs = Math.round(ctx.policy.stateEveryMs * (0.9 + Math.random() * 0.2));
  }

  get readAt(): number {
    return this.#readAt;
  }

  /** Reads the condition on the next pass. */
  forget(): void {
    this.#readAt = 0;
  }

  /** Reads the lock's condition when due (or when the site's time zone changed), and stores it. */
  async refresh(session: LockSession, wanted: LockSettingsWanted): Promise<void> {
    const { db, now, log } = this.ctx.opts;
    const previous =
      wanted.stateJson === null ? null : (JSON.parse(wanted.stateJson) as Partial<LockCondition>);
    const due = Date.now() - this.#readAt >= this.everyMs;
    if (!due && previous?.appliedTimeZone === wanted.timeZone) return;
    const report = await session.readState();
    const hubNow = now();
    let drift = report.lockTimeMs === null ? null : report.lockTimeMs - hubNow;
    if (drift === null) this.ctx.clockDrift.delete(this.lockId);
    else this.ctx.clockDrift.set(this.lockId, drift);
    const policy = this.ctx.policy;
    if (drift !== null && Math.abs(drift) <= policy.clockToleranceMs) this.#clockNeedsPerson = null;
    else if (this.#clockNeedsPerson === null) {
      // Small steps only, and never again once refused: each refusal is a signed event at the
      // lock, and walking its clock in allowed steps is exactly what the bound is there to stop.
      const code =
        drift !== null && Math.abs(drift) > policy.clockStepMaxMs
          ? "LOCK_CLOCK_STEP_REFUSED"
          : await session.setClock(now());
      if (code === "OK") drift = 0;
      else if (code === "LOCK_CLOCK_STEP_REFUSED") {
        this.#clockNeedsPerson = drift ?? 0;
        log.warn(
          { lockId: this.lockId, driftMs: drift, code },
          "clock needs authorisation: the lock's clock differs from the hub's by more than a drift step",
        );
      } else log.warn({ lockId: this.lockId, code }, "lock refused the time");
    }
    let appliedTimeZone = previous?.appliedTimeZone ?? null;
    if (appliedTimeZone !== wanted.timeZone) {
      const code = await session.setTimeZone(wanted.timeZone);
      if (code === "OK") appliedTimeZone = wanted.timeZone;
      else log.warn({ lockId: this.lockId, code }, "lock refused the site's time zone");
    }
    let installedVersion = report.revocationVersion;
    const secret = this.ctx.opts.secret;
    if (secret !== undefined && (await revocationVersion(db, wanted.siteId)) > report.revocationVersion) {
      const current = await signedRevocationList(db, secret, wanted.siteId, now());
      if (current !== null) {
        const code = await session.installRevocationList(current.list);
        if (code === "OK") installedVersion = current.version;
        else log.warn({ lockId: this.lockId, code }, "lock refused the revocation list");
      }
    }
    const condition: LockCondition = {
      lockState: report.lockState,
      doorState: report.doorState,
      operatingMode: report.operatingMode,
      batteryPercent: report.batteryPercent,
      firmwareVersion: report.firmwareVersion,
      lastSeq: report.lastSeq,
      revocationVersion: installedVersion,
      appliedTimeZone,
      ...(report.pinPolicy === undefined ? {} : { pinPolicy: report.pinPolicy }),
      ...(this.#clockNeedsPerson === null ? {} : { clockNeedsAuthorisation: true }),
    };
    await db
      .updateTable("locks")
      .set({
        state_json: JSON.stringify(condition),
        state_at: hubNow,
        last_seen_at: hubNow,
        clock_drift_ms: drift,
      })
      .where("id", "=", this.lockId)
      .execute();
    this.#readAt = Date.now();
  }
}
