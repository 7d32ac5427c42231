/**
 * Remote unlock with a human in the loop, end to end on the real parts: the hub's HTTP API
 * in-process, its embedded broker and sync engine, two virtual locks speaking the protocol over
 * MQTT, and a software passkey registered through the hub's own passkey ceremony. A person asks,
 * an approver signs THE LOCK's challenge, the lock opens and its signed event names the proposal
 * and the snapshot's hash. Forged, tampered, misdirected and replayed assertions are forwarded
 * and refused BY THE LOCK, which journals each refusal; the hub's own rules (no challenge, closed,
 * expired, limits, bad snapshots, other sites, offline locks) answer with stable codes.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DigitalKeyPermission,
  EventKind,
  HolderKeyType,
  OperationSource,
  LedgerLeafKind,
  decodeDigitalKey,
  decodeSignedLockEvent,
  fromHex,
  remoteUnlockChallenge,
  toHex,
  verifyDigitalKey,
  type EpochMs,
  type RemoteUnlockIntent,
} from "@latchkey/protocol";
import { startTestHub, TEST_ORIGIN, type TestClient, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, stepUp, type SignedIn } from "../testing/flows.js";
import { SoftAuthenticator } from "../testing/soft-authenticator.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually, FAST_SYNC } from "../testing/sync-support.js";
import { siteOwnerKey } from "../keys/site-keys.js";
import { lockService } from "../api/lock-routes.js";
import {
  MAX_PENDING_PER_DOOR,
  REQUEST_LIFETIME_MS,
  SNAPSHOT_MAX_BYTES,
  type UnlockRequest,
} from "./service.js";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngDataUrl(size = 64): { url: string; bytes: Buffer } {
  const bytes = Buffer.concat([Buffer.from(PNG_MAGIC), randomBytes(size)]);
  return { url: `data:image/png;base64,${bytes.toString("base64")}`, bytes };
}

interface Offer {
  challenge: string;
  rpId: string;
  allowCredentials: { id: string }[];
  certificateFor: Record<string, string>;
}
interface View {
  id: string;
  status: string;
  result: string | null;
  snapshotHash: string;
  snapshot: string | null;
  lockId: string;
}

/**
 * What the approver's browser signs: SHA-256 of the remote-unlock intent built from the lock's
 * challenge, the request's id, the SHA-256 of the snapshot bytes it displays (hashed here from
 * the data: URL, not taken from the hub's `snapshotHash`) and the lock's id.
 */
function intentOf(offer: Offer, req: View, over: Partial<RemoteUnlockIntent> = {}): string {
  const shown = req.snapshot === null ? null : Buffer.from(req.snapshot.split(",")[1] ?? "", "base64");
  return Buffer.from(
    remoteUnlockChallenge({
      nonce: new Uint8Array(Buffer.from(offer.challenge, "base64url")),
      proposalId: fromHex(req.id),
      snapshotHash:
        shown === null ? new Uint8Array(32) : new Uint8Array(createHash("sha256").update(shown).digest()),
      doorId: fromHex(req.lockId),
      ...over,
    }),
  ).toString("base64url");
}

type Assertion = ReturnType<SoftAuthenticator["authenticate"]>;
const body = (a: Assertion) => ({
  credentialId: a.id,
  authenticatorData: a.response.authenticatorData,
  clientDataJSON: a.response.clientDataJSON,
  signature: a.response.signature,
});

describe("remote unlock with a human in the loop", () => {
  let t: TestHub;
  let dir: string;
  let owner: SignedIn;
  let passkey: SoftAuthenticator;
  let siteId = "";
  let front = "";
  let back = "";
  let bare = "";
  const locks: SimLock[] = [];
  const relyingParty = { rpId: "hub.test", origins: [TEST_ORIGIN] };

  /** The virtual locks' clocks follow the hub's test clock (certificates are checked on the lock's). */
  const syncClocks = () => {
    for (const l of locks) l.lock.clock.setWallMs(t.clock.now as EpochMs);
  };
  const lockOf = (doorId: string) => locks[doorId === front ? 0 : 1] as SimLock;
  const lastEvent = (l: SimLock) => l.lock.runtime.journal.read(l.lock.runtime.journal.nextSeq - 1, 1)[0];

  async function ask(c: TestClient, doorId: string, b: Record<string, unknown> = {}): Promise<View> {
    const r = await c.post(`/api/v1/doors/${doorId}/unlock-requests`, b);
    expect(r.statusCode, r.body).toBe(201);
    return r.json<View>();
  }
  async function challenge(c: TestClient, id: string): Promise<Offer> {
    syncClocks();
    const r = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${id}/challenge`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json<Offer>();
  }
  const approve = (c: TestClient, id: string, b: unknown) =>
    c.post(`/api/v1/sites/${siteId}/unlock-requests/${id}/approve`, b);

  beforeAll(async () => {
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    t = await startTestHub("sqlite", { mqttPort: 0, host: "127.0.0.1", topicPrefix, syncPolicy: FAST_SYNC });
    dir = mkdtempSync(join(tmpdir(), "latchkey-approvals-"));
    const url = `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`;
    for (const name of ["front", "back"])
      locks.push(
        await SimLock.start({
          dir: join(dir, name),
          url,
          topicPrefix,
          wallMs: t.clock.now,
          clockTickMs: 0,
          announceEveryMs: 200,
          commissioning: { pbkdf2Iterations: 1000 },
          endpoint: { relyingParty },
        }),
      );
    owner = await createOwner(t);
    const c = owner.client;
    siteId = (await c.post("/api/v1/sites", { name: "Home", timezone: "UTC" })).json<{ id: string }>().id;
    const doors: string[] = [];
    for (const name of ["Front door", "Back door", "Shed"])
      doors.push((await c.post(`/api/v1/sites/${siteId}/doors`, { name })).json<{ id: string }>().id);
    [front = "", back = "", bare = ""] = doors;
    for (const [i, lock] of locks.entries()) {
      await eventually("the lock announces itself", async () => {
        const r = await c.get(`/api/v1/sites/${siteId}/commissioning`);
        return r.json<{ items: { lockId: string }[] }>().items.some((x) => x.lockId === lock.lockId);
      });
      await stepUp(t, owner);
      const r = await c.post(`/api/v1/doors/${doors[i]}/lock`, {
        setupCode: lock.setupCode,
        lockId: lock.lockId,
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    for (const door of [front, back])
      await eventually("the lock is online", async () => {
        const r = await c.get(`/api/v1/doors/${door}/lock`);
        return r.json<{ online: boolean; condition: unknown }>().online;
      });
    // The owner adds a passkey through the hub's own ceremony.
    await stepUp(t, owner);
    const options = (await c.post("/api/v1/account/passkeys/options")).json<{
      challenge: string;
      rp: { id: string };
    }>();
    passkey = new SoftAuthenticator(TEST_ORIGIN);
    const registered = await c.post("/api/v1/account/passkeys", { response: passkey.register(options) });
    expect(registered.statusCode, registered.body).toBe(200);
  });

  afterAll(async () => {
    for (const l of locks) await l.stop();
    await t?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("a person asks, the approver signs the lock's challenge, the lock opens and names the proposal and snapshot", async () => {
    const c = owner.client;
    const lock = lockOf(front);
    lock.lock.runtime.lockButton();
    expect(lock.lock.runtime.boltState).toBe("Locked");
    const snap = pngDataUrl(2048);
    const req = await ask(c, front, { note: "Parcel for flat 2", snapshot: snap.url });
    expect(req.status).toBe("pending");
    expect(req.id).toMatch(/^[0-9a-f]{32}$/);
    expect(req.lockId).toBe(lock.lockId);
    expect(req.snapshotHash).toBe(createHash("sha256").update(snap.bytes).digest("hex"));
    expect(req.snapshot).toBe(snap.url);
    const listed = (await c.get(`/api/v1/sites/${siteId}/unlock-requests`)).json<{ items: View[] }>().items;
    expect(listed.map((x) => x.id)).toContain(req.id);

    const offer = await challenge(c, req.id);
    expect(offer.rpId).toBe("hub.test");
    expect(offer.allowCredentials.map((x) => x.id)).toEqual([passkey.credentialId.toString("base64url")]);
    // The certificate: the passkey's key, this door only, remote unlock only, five minutes, owner-signed.
    const certificate = new Uint8Array(
      Buffer.from(offer.certificateFor[passkey.credentialId.toString("base64url")] ?? "", "base64url"),
    );
    const cert = decodeDigitalKey(certificate);
    expect(cert.holderKeyType).toBe(HolderKeyType.P256);
    expect(cert.permissions).toBe(DigitalKeyPermission.RemoteUnlock);
    expect(cert.doorIds.map(toHex)).toEqual([lock.lockId]);
    expect(cert.notAfter - t.clock.now).toBe(5 * 60_000);
    const ownerKey = await siteOwnerKey(t.hub.ledger.db, t.hub.ctx.secret, siteId, t.clock.now);
    expect(
      verifyDigitalKey(certificate, {
        ownerPublicKey: ownerKey.publicKey,
        doorId: fromHex(lock.lockId),
        now: t.clock.now,
        revocationList: null,
        permission: DigitalKeyPermission.RemoteUnlock,
      }).ok,
    ).toBe(true);

    const assertion = passkey.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId });
    const r = await approve(c, req.id, body(assertion));
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<View>()).toMatchObject({ id: req.id, status: "approved", result: "OK" });
    expect(lock.lock.runtime.boltState).toBe("Unlocked");
    const event = lastEvent(lock);
    expect(event?.kind).toBe(EventKind.LockOperation);
    expect(event?.details).toMatchObject({
      operation: "Unlock",
      source: OperationSource.Remote,
      authority: "passkey",
      certificateSerial: cert.serial.toString(),
      proposalId: fromHex(req.id),
      snapshotHash: fromHex(req.snapshotHash),
    });

    // Decided once: a second approval or a denial is refused by the hub.
    const again = await approve(c, req.id, body(assertion));
    expect(again.json().code).toBe("HUB_UNLOCK_REQUEST_CLOSED");
    const deny = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/deny`);
    expect(deny.json().code).toBe("HUB_UNLOCK_REQUEST_CLOSED");

    // Every step is audited, with no secrets.
    const audit = (await c.get(`/api/v1/sites/${siteId}/audit`)).json<{
      items: { action: string; details: Record<string, unknown> }[];
    }>().items;
    const mine = audit.filter((a) => a.details.requestId === req.id).map((a) => a.action);
    expect(mine.sort()).toEqual([
      "unlock-request.approve",
      "unlock-request.challenge",
      "unlock-request.create",
    ]);
    expect(audit.find((a) => a.action === "unlock-request.approve")?.details).toMatchObject({ result: "OK" });

    // The lock's signed event reaches the ledger with the proposal id in it.
    await eventually("the unlock event is in the ledger", async () => {
      const ledger = t.hub.ledger.ledger;
      const size = await ledger.size();
      const entries = await ledger.entries(Math.max(0, size - 50), size);
      return entries.some((e) => {
        if (e.leaf.kind !== LedgerLeafKind.LockEvent) return false;
        const ev = decodeSignedLockEvent(e.leaf.record);
        return (
          toHex(e.leaf.lockId) === lock.lockId &&
          ev.details.proposalId instanceof Uint8Array &&
          toHex(ev.details.proposalId) === req.id &&
          ev.details.snapshotHash instanceof Uint8Array &&
          toHex(ev.details.snapshotHash) === req.snapshotHash
        );
      });
    });
  });

  /** Asks, gets a challenge, sends `tamper(assertion)`: the LOCK refuses with `refusal` and journals it. */
  async function refusedByLock(
    refusal: string,
    tamper: (a: Assertion, offer: Offer, req: View) => unknown,
  ): Promise<View> {
    const c = owner.client;
    const lock = lockOf(front);
    lock.lock.runtime.lockButton();
    const before = lock.lock.runtime.journal.nextSeq;
    const req = await ask(c, front);
    const offer = await challenge(c, req.id);
    const a = passkey.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId });
    const r = await approve(c, req.id, await tamper(a, offer, req));
    expect(r.statusCode, r.body).toBe(403);
    expect(r.json()).toMatchObject({ code: "LOCK_ACCESS_DENIED", details: { requestId: req.id } });
    expect(lock.lock.runtime.boltState).toBe("Locked");
    const refused = lock.lock.runtime.journal
      .read(before)
      .filter((e) => e.kind === EventKind.LockOperationError);
    expect(refused.length).toBe(1);
    expect(refused[0]?.details).toMatchObject({
      operation: "Unlock",
      authority: "passkey",
      refusal,
      proposalId: fromHex(req.id),
    });
    const listed = (await c.get(`/api/v1/sites/${siteId}/unlock-requests`)).json<{ items: View[] }>().items;
    const now = listed.find((x) => x.id === req.id);
    expect(now).toMatchObject({ status: "pending", result: "LOCK_ACCESS_DENIED" });
    return req;
  }

  it("the lock refuses a forged signature", async () => {
    await refusedByLock("bad-signature", (a) => {
      const sig = Buffer.from(a.response.signature, "base64url");
      sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0x01;
      return { ...body(a), signature: sig.toString("base64url") };
    });
  });

  it("the lock refuses a modified assertion (origin, relying party, user verification)", async () => {
    await refusedByLock("wrong-origin", (a) => {
      const cd = JSON.parse(Buffer.from(a.response.clientDataJSON, "base64url").toString()) as Record<
        string,
        unknown
      >;
      return {
        ...body(a),
        clientDataJSON: Buffer.from(JSON.stringify({ ...cd, origin: "https://evil.test" })).toString(
          "base64url",
        ),
      };
    });
    await refusedByLock("wrong-rp", (a) => {
      const ad = Buffer.from(a.response.authenticatorData, "base64url");
      ad[0] = (ad[0] ?? 0) ^ 0xff;
      return { ...body(a), authenticatorData: ad.toString("base64url") };
    });
    await refusedByLock("user-not-verified", (a) => {
      const ad = Buffer.from(a.response.authenticatorData, "base64url");
      ad[32] = 0x01; // user present, not verified
      return { ...body(a), authenticatorData: ad.toString("base64url") };
    });
  });

  it("the lock refuses a passkey that is not the certified one", async () => {
    const stranger = new SoftAuthenticator(TEST_ORIGIN);
    await refusedByLock("bad-signature", (a, offer, req) => {
      const s = stranger.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId });
      return { ...body(s), credentialId: a.id };
    });
  });

  it("the lock refuses another lock's challenge", async () => {
    const c = owner.client;
    await refusedByLock("challenge-mismatch", async (_a) => {
      // The back door's lock issues a challenge; the passkey approves the back door's request; it
      // is sent as an approval of the front door's request, to the front lock.
      const other = await ask(c, back);
      const offer = await challenge(c, other.id);
      return body(passkey.authenticate({ challenge: intentOf(offer, other), rpId: offer.rpId }));
    });
    // Forwarded whole (the back lock's nonce and certificate) to the front lock: its certificate
    // names another door, and the front lock never issued that nonce.
    const other = await ask(c, back);
    const offer = await challenge(c, other.id);
    const a = passkey.authenticate({ challenge: intentOf(offer, other), rpId: offer.rpId });
    const certificate = offer.certificateFor[a.id] ?? "";
    const before = lockOf(front).lock.runtime.journal.nextSeq;
    expect(await forward(front, other, offer, a, certificate)).toBe("LOCK_ACCESS_DENIED");
    expect(lockOf(front).lock.runtime.journal.read(before)[0]?.details).toMatchObject({
      refusal: "wrong-door",
    });
  });

  it("the lock refuses a reused challenge", async () => {
    const c = owner.client;
    const lock = lockOf(front);
    lock.lock.runtime.lockButton();
    const first = await ask(c, front);
    const offer = await challenge(c, first.id);
    const a = passkey.authenticate({ challenge: intentOf(offer, first), rpId: offer.rpId });
    const used = body(a);
    expect((await approve(c, first.id, used)).statusCode).toBe(200);
    expect(lock.lock.runtime.boltState).toBe("Unlocked");
    lock.lock.runtime.lockButton();
    // Through the API the hub pairs an assertion with the request's own, new challenge: no match.
    await refusedByLock("challenge-mismatch", () => used);
    // A hub replaying the whole approved message (the same nonce, proposal and snapshot).
    const before = lock.lock.runtime.journal.nextSeq;
    expect(await forward(front, first, offer, a, offer.certificateFor[a.id] ?? "")).toBe(
      "LOCK_ACCESS_DENIED",
    );
    expect(lock.lock.runtime.boltState).toBe("Locked");
    expect(lock.lock.runtime.journal.read(before)[0]?.details).toMatchObject({ refusal: "reused-challenge" });
  });

  /**
   * What a compromised hub can do: send the lock any UnlockWithAssertion it likes over its own
   * session (the approve route's checks skipped). `over` changes fields after the person signed.
   */
  async function forward(
    doorId: string,
    req: View,
    offer: Offer,
    a: Assertion,
    certificate: string,
    over: { proposalId?: Uint8Array; snapshotHash?: Uint8Array } = {},
  ): Promise<string> {
    const lockId = lockOf(doorId).lockId;
    return lockService(t.hub.ctx).engine.withSession(lockId, (session) =>
      session.unlockWithPasskey({
        challenge: new Uint8Array(Buffer.from(offer.challenge, "base64url")),
        proposalId: over.proposalId ?? fromHex(req.id),
        snapshotHash: over.snapshotHash ?? fromHex(req.snapshotHash),
        certificate: new Uint8Array(Buffer.from(certificate, "base64url")),
        authenticatorData: new Uint8Array(Buffer.from(a.response.authenticatorData, "base64url")),
        clientDataJSON: new Uint8Array(Buffer.from(a.response.clientDataJSON, "base64url")),
        signature: new Uint8Array(Buffer.from(a.response.signature, "base64url")),
      }),
    );
  }

  it("what the approver saw is what the lock records: a changed proposal id or snapshot opens nothing", async () => {
    const c = owner.client;
    // Earlier tests' pending requests expire, so the door's limit does not interfere.
    t.clock.now += REQUEST_LIFETIME_MS + 1;
    const lock = lockOf(front);
    lock.lock.runtime.lockButton();
    const snap = pngDataUrl(512);
    const req = await ask(c, front, { snapshot: snap.url });
    const offer = await challenge(c, req.id);
    // The approver's browser signs the intent for this request and the picture it displayed.
    const a = passkey.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId });
    const certificate = offer.certificateFor[a.id] ?? "";
    const other = await ask(c, front, { snapshot: pngDataUrl(512).url });
    const swaps = [
      { proposalId: fromHex(other.id) },
      { snapshotHash: fromHex(other.snapshotHash) },
      { snapshotHash: new Uint8Array(32) },
    ];
    for (const over of swaps) {
      const before = lock.lock.runtime.journal.nextSeq;
      expect(await forward(front, req, offer, a, certificate, over)).toBe("LOCK_ACCESS_DENIED");
      expect(lock.lock.runtime.boltState).toBe("Locked");
      const events = lock.lock.runtime.journal.read(before);
      expect(events.map((e) => e.kind)).toEqual([EventKind.LockOperationError]);
      expect(events[0]?.details).toMatchObject({ refusal: "challenge-mismatch", authority: "passkey" });
    }

    // The hub swaps the stored picture after the person signed, then forwards through the
    // approve route: the lock refuses, the request stays open, nothing opened.
    const stored = t.hub.ctx.unlockRequests.get(siteId, req.id) as {
      -readonly [K in keyof UnlockRequest]: UnlockRequest[K];
    };
    const real = stored.snapshotHash;
    stored.snapshotHash = fromHex(other.snapshotHash);
    const swapped = await approve(c, req.id, body(a));
    expect(swapped.json()).toMatchObject({ code: "LOCK_ACCESS_DENIED" });
    expect(lock.lock.runtime.boltState).toBe("Locked");
    expect(lastEvent(lock)?.details).toMatchObject({ refusal: "challenge-mismatch" });
    stored.snapshotHash = real;

    // Untouched, the same signature opens (the refusals spent no challenge), and the lock's event
    // names the request and the hash of the picture the approver's browser displayed.
    expect(await forward(front, req, offer, a, certificate)).toBe("OK");
    expect(lock.lock.runtime.boltState).toBe("Unlocked");
    expect(lastEvent(lock)?.details).toMatchObject({
      operation: "Unlock",
      authority: "passkey",
      proposalId: fromHex(req.id),
      snapshotHash: new Uint8Array(createHash("sha256").update(snap.bytes).digest()),
    });
  });

  it("three refusals close a request as failed", async () => {
    const c = owner.client;
    lockOf(front).lock.runtime.lockButton();
    const req = await ask(c, front);
    for (let i = 1; i <= 3; i++) {
      const offer = await challenge(c, req.id);
      const a = body(passkey.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId }));
      const r = await approve(c, req.id, { ...a, clientDataJSON: Buffer.from("{}").toString("base64url") });
      expect(r.json().code).toBe("LOCK_ACCESS_DENIED");
    }
    const r = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/challenge`);
    expect(r.json()).toMatchObject({ code: "HUB_UNLOCK_REQUEST_CLOSED", details: { status: "failed" } });
    expect(lockOf(front).lock.runtime.boltState).toBe("Locked");
  });

  it("hub rules: a challenge first, for your passkey; deny; expiry; snapshots; limits; doors without locks", async () => {
    const c = owner.client;
    const req = await ask(c, front);
    const fake = body(
      passkey.authenticate({ challenge: randomBytes(32).toString("base64url"), rpId: "hub.test" }),
    );
    expect((await approve(c, req.id, fake)).json().code).toBe("HUB_UNLOCK_NO_CHALLENGE");
    await challenge(c, req.id);
    expect((await approve(c, req.id, { ...fake, credentialId: "AAAA" })).json()).toMatchObject({
      code: "HUB_UNLOCK_NO_CHALLENGE",
      details: { field: "credentialId" },
    });
    const short = await approve(c, req.id, { ...fake, authenticatorData: "AAAA" });
    expect(short.json()).toMatchObject({
      code: "HUB_BAD_REQUEST",
      details: { field: "body/authenticatorData" },
    });
    const denied = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/deny`);
    expect(denied.json<View>().status).toBe("denied");
    expect((await approve(c, req.id, fake)).json().code).toBe("HUB_UNLOCK_REQUEST_CLOSED");

    // Requests live two minutes.
    const old = await ask(c, front);
    t.clock.now += REQUEST_LIFETIME_MS + 1;
    const expired = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${old.id}/challenge`);
    expect(expired.json()).toMatchObject({
      code: "HUB_UNLOCK_REQUEST_CLOSED",
      details: { status: "expired" },
    });
    const listed = (await c.get(`/api/v1/sites/${siteId}/unlock-requests`)).json<{ items: View[] }>().items;
    expect(listed.find((x) => x.id === old.id)?.status).toBe("expired");

    // Snapshots: images only, by their bytes, within the size limit.
    const text = `data:image/png;base64,${Buffer.from("<script>alert(1)</script>").toString("base64")}`;
    for (const snapshot of [
      text,
      "data:text/html;base64,PGI+",
      "https://example.com/cam.jpg",
      `data:image/png;base64,${Buffer.concat([Buffer.from(PNG_MAGIC), Buffer.alloc(SNAPSHOT_MAX_BYTES - 7)]).toString("base64")}`,
    ]) {
      const r = await c.post(`/api/v1/doors/${front}/unlock-requests`, { snapshot });
      expect([400, 413], r.body.slice(0, 300)).toContain(r.statusCode);
      expect(["HUB_SNAPSHOT_INVALID", "HUB_BAD_REQUEST", "HUB_BODY_TOO_LARGE"]).toContain(r.json().code);
    }
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(100)]);
    const ok = await c.post(`/api/v1/doors/${front}/unlock-requests`, {
      snapshot: `data:image/jpeg;base64,${jpeg.toString("base64")}`,
    });
    expect(ok.statusCode, ok.body).toBe(201);

    // At most a few requests wait at one door.
    const open = (await c.get(`/api/v1/sites/${siteId}/unlock-requests`))
      .json<{ items: (View & { doorId: string })[] }>()
      .items.filter((x) => x.status === "pending" && x.doorId === back).length;
    for (let i = open; i < MAX_PENDING_PER_DOOR; i++) await ask(c, back);
    const full = await c.post(`/api/v1/doors/${back}/unlock-requests`, {});
    expect(full.statusCode, full.body).toBe(429);
    expect(full.json().code).toBe("HUB_UNLOCK_REQUEST_LIMIT");
    t.clock.now += REQUEST_LIFETIME_MS + 1;
    syncClocks();

    // A door without a lock cannot be asked.
    expect((await c.post(`/api/v1/doors/${bare}/unlock-requests`, {})).json().code).toBe("HUB_LOCK_UNKNOWN");
  });

  it("isolation: other sites' managers, residents and unknown ids see nothing; approvers need a passkey", async () => {
    const c = owner.client;
    const req = await ask(c, front);
    const otherSite = (await c.post("/api/v1/sites", { name: "Elsewhere", timezone: "UTC" })).json<{
      id: string;
    }>().id;
    const outsider = await invite(t, owner, otherSite, "olga", "manager");
    const resident = await invite(t, owner, siteId, "rita", "resident");
    const manager = await invite(t, owner, siteId, "marc", "manager");
    for (const who of [outsider.client, resident.client]) {
      for (const path of ["challenge", "approve", "deny"]) {
        const r = await who.post(
          `/api/v1/sites/${siteId}/unlock-requests/${req.id}/${path}`,
          path === "approve" ? body(passkey.authenticate({ challenge: "AAAA" })) : undefined,
        );
        expect(r.json(), `${path}: ${r.body}`).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
      }
      expect((await who.get(`/api/v1/sites/${siteId}/unlock-requests`)).statusCode).toBe(404);
      expect((await who.post(`/api/v1/doors/${front}/unlock-requests`, {})).statusCode).toBe(404);
    }
    // The request's id under another site's URL (one the caller manages) is not found either.
    const cross = await outsider.client.post(
      `/api/v1/sites/${otherSite}/unlock-requests/${req.id}/challenge`,
    );
    expect(cross.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
    const unknown = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${"0".repeat(32)}/challenge`);
    expect(unknown.json().code).toBe("HUB_NOT_FOUND");
    // A manager of the site without a passkey cannot approve (TOTP alone cannot sign for the lock).
    const noKey = await manager.client.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/challenge`);
    expect(noKey.json().code).toBe("HUB_UNLOCK_NO_PASSKEY");
    // A challenge issued to the owner is not usable by another approver.
    const offer = await challenge(c, req.id);
    const a = body(passkey.authenticate({ challenge: intentOf(offer, req), rpId: offer.rpId }));
    expect((await approve(manager.client, req.id, a)).json().code).toBe("HUB_UNLOCK_NO_CHALLENGE");
    // The manager may deny.
    const denied = await manager.client.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/deny`);
    expect(denied.json<View>().status).toBe("denied");
  });

  it("a doorbell's webhook asks to open the door; the approver's passkey opens it; the token can only ask", async () => {
    const c = owner.client;
    // Earlier tests' pending requests expire, so the door's limit does not interfere.
    t.clock.now += REQUEST_LIFETIME_MS + 1;
    const other = (await c.post("/api/v1/sites", { name: "Doorbell elsewhere", timezone: "UTC" })).json<{
      id: string;
    }>().id;
    const outsider = await invite(t, owner, other, "dora", "manager");
    const resident = await invite(t, owner, siteId, "remy", "resident");
    // Another site's manager and a resident of this one can neither see nor set the doorbell.
    for (const who of [outsider, resident]) {
      await stepUp(t, who);
      for (const [method, path] of [
        ["GET", `/api/v1/doors/${front}/doorbell`],
        ["POST", `/api/v1/doors/${front}/doorbell`],
        ["DELETE", `/api/v1/doors/${front}/doorbell`],
      ] as const) {
        const r = await who.client.request(method, path);
        expect(r.json(), `${method} ${path}`).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
      }
    }
    expect((await c.get(`/api/v1/doors/${front}/doorbell`)).json()).toEqual({
      enabled: false,
      createdAt: null,
      lastRungAt: null,
    });
    // Creating a token needs a fresh second factor.
    t.clock.now += 10 * 60_000;
    expect((await c.post(`/api/v1/doors/${front}/doorbell`)).json().code).toBe("AUTH_STEP_UP_REQUIRED");
    await stepUp(t, owner);
    const created = await c.post(`/api/v1/doors/${front}/doorbell`);
    expect(created.statusCode, created.body).toBe(201);
    const { token, webhookUrl } = created.json<{ token: string; webhookUrl: string }>();
    expect(token).toMatch(/^lkdb_[A-Za-z0-9_-]{43}$/);
    expect(webhookUrl).toBe(`${TEST_ORIGIN}/api/v1/doorbell/ring`);
    const status = await c.get(`/api/v1/doors/${front}/doorbell`);
    expect(status.json()).toMatchObject({ enabled: true, lastRungAt: null });
    expect(status.body).not.toContain(token.slice(5));

    const ring = (bearer: string | null, b: Record<string, unknown> = {}) =>
      t.client().request("POST", "/api/v1/doorbell/ring", {
        body: b,
        ...(bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } }),
      });
    const countRequests = async () =>
      (await c.get(`/api/v1/sites/${siteId}/unlock-requests`)).json<{ items: View[] }>().items.length;
    const before = await countRequests();
    // No token, a malformed one, an unknown one, a bad snapshot: refused, nothing created.
    for (const bad of [null, "nope", `lkdb_${"A".repeat(43)}`]) {
      const r = await ring(bad);
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
    }
    const badSnap = await ring(token, { snapshot: "data:image/png;base64,AAAA" });
    expect(badSnap.json().code).toBe("HUB_SNAPSHOT_INVALID");
    expect(await countRequests()).toBe(before);

    // The doorbell rings with a snapshot: a pending request from "doorbell".
    const lock = lockOf(front);
    lock.lock.runtime.lockButton();
    const snap = pngDataUrl(1024);
    const rung = await ring(token, { note: "Someone at the front door", snapshot: snap.url });
    expect(rung.statusCode, rung.body).toBe(202);
    const { requestId } = rung.json<{ requestId: string; expiresAt: number }>();
    expect(Object.keys(rung.json<object>()).sort()).toEqual(["expiresAt", "requestId"]);
    const listed = (await c.get(`/api/v1/sites/${siteId}/unlock-requests`)).json<{
      items: (View & { requestedBy: { kind: string }; note: string | null })[];
    }>().items;
    const req = listed.find((x) => x.id === requestId);
    expect(req).toMatchObject({
      status: "pending",
      requestedBy: { kind: "doorbell" },
      note: "Someone at the front door",
      snapshotHash: createHash("sha256").update(snap.bytes).digest("hex"),
    });
    expect((await c.get(`/api/v1/doors/${front}/doorbell`)).json()).toMatchObject({
      lastRungAt: t.clock.now,
    });

    // The approver opens it with the passkey; the lock's event names the proposal and snapshot.
    const offer = await challenge(c, requestId);
    const approved = await approve(
      c,
      requestId,
      body(passkey.authenticate({ challenge: intentOf(offer, req as View), rpId: offer.rpId })),
    );
    expect(approved.json<View>()).toMatchObject({ status: "approved", result: "OK" });
    expect(lock.lock.runtime.boltState).toBe("Unlocked");
    expect(lastEvent(lock)?.details).toMatchObject({
      proposalId: fromHex(requestId),
      snapshotHash: new Uint8Array(createHash("sha256").update(snap.bytes).digest()),
    });

    // Audited with no token anywhere.
    const audit = (await c.get(`/api/v1/sites/${siteId}/audit`)).json<{
      items: { action: string; details: Record<string, unknown> }[];
    }>();
    const actions = audit.items.map((a) => a.action);
    expect(actions).toContain("doorbell.token.create");
    expect(
      audit.items.find((a) => a.details.requestId === requestId && a.action === "unlock-request.create")
        ?.details,
    ).toMatchObject({
      requestedBy: "doorbell",
    });
    expect(JSON.stringify(audit)).not.toContain(token.slice(5));

    // A new token replaces the old one; turning the doorbell off stops the new one.
    await stepUp(t, owner);
    const replaced = (await c.post(`/api/v1/doors/${front}/doorbell`)).json<{ token: string }>().token;
    expect(replaced).not.toBe(token);
    expect((await ring(token)).statusCode).toBe(404);
    expect((await ring(replaced)).statusCode).toBe(202);
    expect((await c.delete(`/api/v1/doors/${front}/doorbell`)).statusCode).toBe(200);
    expect((await ring(replaced)).statusCode).toBe(404);
    expect((await c.delete(`/api/v1/doors/${front}/doorbell`)).json().code).toBe("HUB_NOT_FOUND");

    // A door without a lock can hold a token, but its rings say there is no lock to open.
    await stepUp(t, owner);
    const shed = (await c.post(`/api/v1/doors/${bare}/doorbell`)).json<{ token: string }>().token;
    expect((await ring(shed)).json().code).toBe("HUB_LOCK_UNKNOWN");
  });

  it("wrong doorbell tokens from one address are slowed down", async () => {
    const tries = [];
    for (let i = 0; i < 25; i++) {
      const r = await t.client().request("POST", "/api/v1/doorbell/ring", {
        body: {},
        headers: { authorization: `Bearer lkdb_${randomBytes(32).toString("base64url")}` },
      });
      tries.push(r.statusCode);
    }
    // 20 free failures per address (the earlier test's three count too), then waits.
    expect(tries.every((s) => s === 404 || s === 429)).toBe(true);
    expect(tries.filter((s) => s === 404).length).toBeGreaterThanOrEqual(15);
    expect(tries.at(-1)).toBe(429);
  });

  it("an offline lock cannot be asked for a challenge", async () => {
    const c = owner.client;
    const req = await ask(c, back);
    await lockOf(back).stop();
    await eventually("the back lock is offline", async () => {
      const r = await c.get(`/api/v1/doors/${back}/lock`);
      return !r.json<{ online: boolean }>().online;
    });
    const r = await c.post(`/api/v1/sites/${siteId}/unlock-requests/${req.id}/challenge`);
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json().code).toBe("HUB_LOCK_OFFLINE");
  });
});
