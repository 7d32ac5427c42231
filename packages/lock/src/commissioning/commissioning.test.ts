import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CommissioningInitiator,
  DenyReason,
  createCommissioningVerifier,
  isLatchkeyError,
  signRevocationList,
  toHex,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { phoneUnlockMessage } from "../credentials/phone-key.js";
import { commissionLock, newHub, newOwner, startLinkedLock } from "../testing/fixtures.js";
import { fileJournalFactory } from "../journal/journal-factory.js";
import { startTempLock, tempLockDir } from "../virtual/scenario.js";
import { VirtualLock } from "../virtual/virtual-lock.js";
import { COMMISSIONING_KEYS_FILE, COMMISSIONING_STATE_FILE } from "./lock-commissioning.js";
import { lockCommissioningVerifier } from "./verifier.js";

describe("lock-side commissioning", () => {
  it("computes the same verifier record as the protocol package", () => {
    const salt = new Uint8Array(32).fill(9);
    expect(lockCommissioningVerifier("2020-2021", salt, 1000)).toEqual(
      createCommissioningVerifier("20202021", salt, 1000),
    );
  });

  it("creates a setup code once, stores only the verifier record, and opens the window at power-up", () => {
    const dir = tempLockDir();
    const lock = startLinkedLock({ dir, journal: fileJournalFactory });
    const code = lock.setupCode ?? "";
    expect(code).toMatch(/^[0-9]{8}$/);
    const c = lock.runtime.commissioning;
    expect(c.isCommissioned).toBe(false);
    expect(c.responder.windowClosesAt).not.toBeNull();
    expect(statSync(join(dir, COMMISSIONING_KEYS_FILE)).mode & 0o777).toBe(0o600);
    const channel = toHex(c.channelPublicKey);
    // The code itself (as text or as its PBKDF2 password bytes) is nowhere in the lock's files.
    const v = Number(code);
    const password = Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(Buffer.from(code)), f).toBe(false);
      expect(bytes.includes(password), f).toBe(false);
    }
    lock.restart();
    expect(lock.setupCode).toBeNull();
    expect(toHex(lock.runtime.commissioning.channelPublicKey)).toBe(channel);
    expect(lock.runtime.commissioning.responder.windowClosesAt).not.toBeNull();
    lock.runtime.shutdown();
  });

  it("persists the responder after every step: a counted attempt survives a reboot", () => {
    const lock = startLinkedLock({ journal: fileJournalFactory });
    const owner = newOwner();
    const hub = newHub();
    const init = new CommissioningInitiator({
      setupCode: lock.setupCode ?? "",
      hubKeys: { ownerSigningPublicKey: owner.publicKey, hubStaticPublicKey: hub.publicKey },
    });
    const params = lock.runtime.handleCommissioningMessage(init.start());
    const pake1 = init.handle(params);
    expect(pake1).not.toBeNull();
    lock.runtime.handleCommissioningMessage(pake1 ?? new Uint8Array(0));
    expect(lock.runtime.commissioning.responder.state.consecutiveFailures).toBe(1);
    lock.restart();
    expect(lock.runtime.commissioning.responder.state.consecutiveFailures).toBe(1);
    // The attempt itself ended with the reboot: its CommPake3 is out of place now.
    lock.runtime.shutdown();
  });

  it("keeps owner, hub key, revocation list and acknowledgements across restarts; refuses a damaged state file", () => {
    const dir = tempLockDir();
    const lock = startLinkedLock({ dir, journal: fileJournalFactory });
    const owner = newOwner();
    const hub = newHub();
    commissionLock(lock, lock.setupCode ?? "", owner, hub);
    const list = signRevocationList({ listVersion: 3, issuedAt: 1, serials: [5n] }, owner.seed, nodeEd25519);
    expect(lock.runtime.installRevocationList(list)).toEqual({ ok: true, version: 3 });
    const older = signRevocationList({ listVersion: 2, issuedAt: 1, serials: [] }, owner.seed, nodeEd25519);
    expect(lock.runtime.installRevocationList(older)).toEqual({ ok: false, reason: "stale-version" });
    lock.runtime.commissioning.setAckedSeq(2);
    lock.restart();
    const c = lock.runtime.commissioning;
    expect(c.ownerPublicKey).toEqual(owner.publicKey);
    expect(c.hubStaticPublicKey).toEqual(hub.publicKey);
    expect(c.revocation?.version).toBe(3);
    expect(c.revocation?.isRevoked(5n)).toBe(true);
    expect(c.ackedSeq).toBe(2);
    lock.runtime.shutdown();
    writeFileSync(join(dir, COMMISSIONING_STATE_FILE), "{");
    let error: unknown;
    try {
      VirtualLock.start({ dir, journal: fileJournalFactory });
    } catch (e) {
      error = e;
    }
    expect(isLatchkeyError(error, "LOCK_STATE_CORRUPT")).toBe(true);
  });

  it("a phone key needs a certificate from the owner key; an uncommissioned lock has none and refuses", () => {
    const seed = new Uint8Array(32).fill(4);
    const present = (lock: VirtualLock) => {
      const nonce = lock.runtime.issuePhoneChallenge();
      return lock.runtime.attemptPhoneKey({
        publicKey: nodeEd25519.publicKey(seed),
        nonce,
        signature: nodeEd25519.sign(seed, phoneUnlockMessage(lock.runtime.lockIdBytes, nonce)),
      });
    };
    const plain = startTempLock({ commissioning: { pbkdf2Iterations: 1000 } });
    const u = plain.runtime.addUser({});
    plain.runtime.setPhoneKey(u, "Ed25519", nodeEd25519.publicKey(seed));
    expect(present(plain)).toEqual({ granted: false, reason: DenyReason.InvalidCertificate, userIndex: u });
    const refused = plain.runtime.journal.read(plain.runtime.journal.nextSeq - 1, 1)[0];
    expect(refused?.details).toMatchObject({ certificate: "not-commissioned" });
    expect(plain.runtime.boltState).toBe("Locked");
    plain.runtime.shutdown();

    const lock = startLinkedLock();
    commissionLock(lock, lock.setupCode ?? "", newOwner(), newHub());
    const user = lock.runtime.addUser({});
    lock.runtime.setPhoneKey(user, "Ed25519", nodeEd25519.publicKey(seed));
    lock.runtime.lockButton();
    expect(present(lock)).toEqual({ granted: false, reason: DenyReason.InvalidCertificate, userIndex: user });
    const last = lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1, 1)[0];
    expect(last?.details).toMatchObject({ reason: DenyReason.InvalidCertificate, certificate: "missing" });
    expect(lock.runtime.boltState).toBe("Locked");
    lock.runtime.shutdown();
  });

  it("refuses a bad manufacture setup code", () => {
    try {
      startTempLock({ commissioning: { setupCode: "12345678" } });
      expect.unreachable();
    } catch (e) {
      expect(isLatchkeyError(e, "COMM_INVALID_SETUP_CODE")).toBe(true);
    }
  });
});
