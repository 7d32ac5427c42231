/** The topic scheme, the broker rules as a table, and the packet-size guard. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLatchkeyError, type LockId } from "@latchkey/protocol";
import { identify, mayPublish, maySubscribe, mosquittoAcl, type BrokerIdentity } from "./broker-policy.js";
import { PacketSizeGuard, PacketTooLargeError } from "./streams.js";
import { TopicScheme } from "@latchkey/lock/mqtt";

const A = "0123456789abcdef0123456789abcdef" as LockId;
const B = "fedcba9876543210fedcba9876543210" as LockId;
const S = `c${"ab".repeat(16)}`;
const scheme = new TopicScheme();

describe("TopicScheme", () => {
  it("names topics by LockId / session id only and parses them back", () => {
    expect(scheme.lockUp(A)).toBe(`latchkey/v1/lock/${A}/up`);
    expect(scheme.parse(scheme.lockDown(A))).toEqual({ kind: "lock", lockId: A, channel: "down" });
    expect(scheme.parse(scheme.commissionUp(S))).toEqual({ kind: "commission", sessionId: S, channel: "up" });
    for (const bad of [
      "latchkey/v1/lock/ABC/up",
      "latchkey/v1/lock/" + A + "/up/x",
      "other/lock/" + A + "/up",
      "#",
    ]) {
      expect(scheme.parse(bad)).toBeNull();
    }
  });

  it("refuses ids and prefixes that could smuggle wildcards or levels", () => {
    for (const f of [
      () => scheme.lockUp("+" as LockId),
      () => scheme.lockUp(`${A}/x` as LockId),
      () => scheme.commissionUp(A), // a LockId is not a session id (they never share a client id)
      () => new TopicScheme("a/#"),
      () => new TopicScheme("/a"),
    ]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "HUB_GATEWAY_TOPIC_INVALID")).toBe(true);
      }
    }
  });
});

describe("broker policy", () => {
  const checks = {
    isHubPassword: (p: Uint8Array) => Buffer.from(p).toString() === "hub-pw",
    isLockPassword: (id: LockId, p: Uint8Array) => id === A && Buffer.from(p).toString() === "a-pw",
    commissioningAllowed: () => true,
  };
  const pw = (s: string) => new Uint8Array(Buffer.from(s));

  it("identifies the hub, admitted locks and commissioning clients; nobody else", () => {
    expect(
      identify({ clientId: "latchkey-hub-1", username: "latchkey-hub", password: pw("hub-pw") }, checks),
    ).toEqual({
      role: "hub",
    });
    expect(identify({ clientId: A, username: A, password: pw("a-pw") }, checks)).toEqual({
      role: "lock",
      lockId: A,
    });
    expect(
      identify({ clientId: S, username: "latchkey-commissioning", password: undefined }, checks),
    ).toEqual({
      role: "commissioning",
      sessionId: S,
    });
    for (const attempt of [
      { clientId: "x", username: "latchkey-hub", password: pw("hub-pw") },
      { clientId: B, username: A, password: pw("a-pw") },
      { clientId: B, username: B, password: pw("a-pw") },
      { clientId: A, username: "latchkey-commissioning", password: undefined },
      { clientId: A, username: undefined, password: undefined },
    ]) {
      expect(identify(attempt, checks)).toBeNull();
    }
    expect(
      identify(
        { clientId: S, username: "latchkey-commissioning", password: undefined },
        { ...checks, commissioningAllowed: () => false },
      ),
    ).toBeNull();
  });

  const hub: BrokerIdentity = { role: "hub" };
  const lockA: BrokerIdentity = { role: "lock", lockId: A };
  const comm: BrokerIdentity = { role: "commissioning", sessionId: S };
  const pub = (who: BrokerIdentity, topic: string, payloadBytes = 10, retain = false) =>
    mayPublish(who, scheme, { topic, payloadBytes, retain }, 1000);

  it("publish rules", () => {
    expect(pub(lockA, scheme.lockUp(A))).toBe("allow");
    expect(pub(lockA, scheme.lockStatus(A), 1, true)).toBe("allow");
    expect(pub(lockA, scheme.lockUp(B))).toBe("forbidden");
    expect(pub(lockA, scheme.lockDown(A))).toBe("forbidden");
    expect(pub(lockA, scheme.lockStatus(B), 1, true)).toBe("forbidden");
    expect(pub(lockA, scheme.lockUp(A), 10, true)).toBe("forbidden");
    expect(pub(lockA, scheme.lockUp(A), 1001)).toBe("too-large");
    expect(pub(lockA, "elsewhere/topic")).toBe("forbidden");
    expect(pub(hub, scheme.lockDown(B))).toBe("allow");
    expect(pub(hub, scheme.lockUp(B))).toBe("forbidden");
    expect(pub(hub, scheme.lockStatus(B), 1, true)).toBe("forbidden");
    expect(pub(hub, scheme.commissionDown(S))).toBe("allow");
    expect(pub(comm, scheme.commissionUp(S))).toBe("allow");
    expect(pub(comm, scheme.commissionUp(`c${"cd".repeat(16)}`))).toBe("forbidden");
    expect(pub(comm, scheme.lockUp(A))).toBe("forbidden");
  });

  it("subscribe rules: only the hub uses wildcards, each device only its own down topic", () => {
    for (const f of scheme.hubSubscriptions()) expect(maySubscribe(hub, scheme, f)).toBe(true);
    expect(maySubscribe(hub, scheme, "#")).toBe(false);
    expect(maySubscribe(lockA, scheme, scheme.lockDown(A))).toBe(true);
    for (const f of ["#", "latchkey/#", "latchkey/v1/lock/+/down", scheme.lockDown(B), scheme.lockUp(A)]) {
      expect(maySubscribe(lockA, scheme, f)).toBe(false);
    }
    expect(maySubscribe(comm, scheme, scheme.commissionDown(S))).toBe(true);
    expect(maySubscribe(comm, scheme, scheme.lockDown(A))).toBe(false);
  });
});

function runGuard(limit: number, chunks: Uint8Array[]): Promise<{ out: Buffer; error: unknown }> {
  return new Promise((resolve) => {
    const guard = new PacketSizeGuard(limit);
    const out: Buffer[] = [];
    guard.on("data", (c: Buffer) => out.push(c));
    guard.on("error", (error) => resolve({ out: Buffer.concat(out), error }));
    guard.on("end", () => resolve({ out: Buffer.concat(out), error: null }));
    for (const c of chunks) guard.write(c);
    guard.end();
  });
}

describe("PacketSizeGuard", () => {
  it("passes packets within the limit unchanged, split anywhere", async () => {
    const packet = (n: number) =>
      Buffer.concat([
        Buffer.from([0x30, ...(n < 128 ? [n] : [(n % 128) | 0x80, n >> 7])]),
        Buffer.alloc(n, 7),
      ]);
    const stream = Buffer.concat([packet(5), packet(300), packet(0), packet(127)]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 6 }),
        async (cuts) => {
          const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.length];
          const chunks = points.slice(1).map((end, i) => stream.subarray(points[i], end));
          const { out, error } = await runGuard(300, chunks);
          expect(error).toBeNull();
          expect(out.equals(stream)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("fails on a packet announcing more than the limit, and on a malformed length", async () => {
    expect((await runGuard(300, [Uint8Array.of(0x30, 0xad, 0x02)])).error).toBeInstanceOf(
      PacketTooLargeError,
    );
    expect((await runGuard(1e9, [Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)])).error).toBeInstanceOf(
      PacketTooLargeError,
    );
  });

  it("never fails with anything but PacketTooLargeError on random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const { error } = await runGuard(64, [bytes]);
        expect(error === null || error instanceof PacketTooLargeError).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe("mosquittoAcl", () => {
  /** The rules of one `user` block, or the `pattern` lines with %c as the session S. */
  function rules(acl: string, user: string | null): { access: string; topic: string }[] {
    const out: { access: string; topic: string }[] = [];
    let current: string | null = null;
    for (const line of acl.split("\n")) {
      const [word, ...rest] = line.split(" ");
      if (word === "user") current = rest.join(" ");
      else if (word === "topic" && current === user && user !== null)
        out.push({ access: rest[0] ?? "", topic: rest.slice(1).join(" ") });
      else if (word === "pattern" && user === null)
        out.push({ access: rest[0] ?? "", topic: rest.slice(1).join(" ").replace("%c", S) });
    }
    return out;
  }

  it("grants Mosquitto clients exactly what the embedded broker's rules grant", () => {
    const acl = mosquittoAcl(scheme, [B, A]);
    const cases: [string | null, BrokerIdentity][] = [
      ["latchkey-hub", { role: "hub" }],
      [A, { role: "lock", lockId: A }],
      [B, { role: "lock", lockId: B }],
      [null, { role: "commissioning", sessionId: S }],
    ];
    for (const [user, who] of cases) {
      const granted = rules(acl, user);
      expect(granted.length).toBeGreaterThan(0);
      for (const { access, topic } of granted) {
        if (access === "read")
          expect(maySubscribe(who, scheme, topic), `${String(user)} read ${topic}`).toBe(true);
        else {
          expect(access).toBe("write");
          // A wildcard write stands for every concrete topic under it; one of them must be allowed.
          const concrete = topic.replace("+", who.role === "hub" && topic.includes("/commission/") ? S : A);
          const verdict = mayPublish(
            who,
            scheme,
            { topic: concrete, payloadBytes: 1, retain: false },
            65_535,
          );
          expect(verdict, `${String(user)} write ${topic}`).toBe("allow");
        }
      }
    }
    // A lock's block names only its own topics.
    expect(rules(acl, A).every((r) => r.topic.includes(`/lock/${A}/`))).toBe(true);
  });
});
