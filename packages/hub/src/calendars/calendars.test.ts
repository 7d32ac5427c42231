import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createDoor, createSite } from "../sites/sites.js";
import { openGuestLink } from "../credentials/guest-links.js";
import { calendarDb } from "./calendar-tables.js";
import { addFeed, listFeeds, removeFeed } from "./feeds.js";
import { handOverGuestCode, listBookings, replaceBookingCode } from "./bookings.js";
import {
  CALENDAR_FEED_ALERT,
  POLL_EVERY_MS,
  startCalendarPoller,
  EMPTY_POLLS_BEFORE_BELIEVED,
  FAILURES_BEFORE_ALERT,
  pollCalendars,
  pollFeed,
} from "./poller.js";
import { DEFAULT_FETCH_LIMITS, fetchFeed } from "./feed-fetch.js";
import { isPublicAddress } from "./feed-address.js";

interface Served {
  status: number;
  body: string;
  hang?: boolean;
  location?: string;
}

function vevent(e: { uid?: string; start: string; end: string; summary: string; status?: string }): string {
  const date = (v: string) => (v.includes("T") ? (v.includes(";") ? v : `:${v}`) : `;VALUE=DATE:${v}`);
  return [
    "BEGIN:VEVENT",
    ...(e.uid === undefined ? [] : [`UID:${e.uid}`]),
    `DTSTAMP:20270101T000000Z`,
    `DTSTART${date(e.start)}`,
    `DTEND${date(e.end)}`,
    `SUMMARY:${e.summary}`,
    ...(e.status === undefined ? [] : [`STATUS:${e.status}`]),
    "END:VEVENT",
  ].join("\r\n");
}

function calendar(...events: string[]): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...events, "END:VCALENDAR", ""].join(
    "\r\n",
  );
}

const at = (iso: string) => Date.parse(iso);

describe("booking calendars give guests their codes", () => {
  let t: TestHub;
  let ctx: HubContext;
  let server: Server;
  let base: string;
  const served = new Map<string, Served>();

  beforeAll(async () => {
    t = await startTestHub("sqlite", { calendarPrivateFeeds: true });
    ctx = t.hub.ctx;
    server = createServer((req, res) => {
      const s = served.get(req.url ?? "") ?? { status: 404, body: "no" };
      if (s.hang === true) return;
      res.writeHead(s.status, {
        "content-type": "text/calendar",
        ...(s.location === undefined ? {} : { location: s.location }),
      });
      res.end(s.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });
  beforeEach(() => {
    t.clock.now = at("2027-03-20T12:00:00Z");
  });

  async function setUp(path: string, body: string, leadMinutes = 48 * 60) {
    served.set(path, { status: 200, body });
    const site = await createSite(ctx, { name: `Flat ${path}`, timezone: "Europe/London" });
    const door = await createDoor(ctx, site.id, { name: "Front" });
    const feed = await addFeed(
      ctx,
      site.id,
      { name: "Airbnb", url: `${base}${path}`, doorIds: [door.id], leadMinutes },
      { accountId: null, ip: null },
    );
    return { site, door, feed };
  }

  const MANAGER = { accountId: "account-1", ip: "203.0.113.7" };
  /** Hands over every issued booking's code, as a manager does, so the stays have their PINs. */
  async function handOverAll(feedId: string) {
    for (const b of await listBookings(ctx, feedId))
      if (b.state === "booked" && b.personId !== null && b.credentialId === null)
        await handOverGuestCode(ctx, feedId, b.id, MANAGER);
  }

  async function credential(id: string | null) {
    return ctx.db
      .selectFrom("credentials")
      .selectAll()
      .where("id", "=", id ?? "")
      .executeTakeFirstOrThrow();
  }
  async function grantsOf(personId: string | null) {
    return ctx.db
      .selectFrom("grants")
      .selectAll()
      .where("person_id", "=", personId ?? "")
      .orderBy("created_at")
      .execute();
  }
  async function actions(siteId: string) {
    const rows = await ctx.db
      .selectFrom("audit")
      .select(["action", "details"])
      .where("site_id", "=", siteId)
      .orderBy("id")
      .execute();
    return rows;
  }

  it("an all-day booking across the spring clock change: check-in 15:00 GMT, check-out 11:00 BST, code made within the lead time", async () => {
    const { site, feed, door } = await setUp(
      "/spring.ics",
      calendar(vevent({ uid: "a1@airbnb", start: "20270326", end: "20270329", summary: "Reserved" })),
    );
    expect(await pollFeed(ctx, feed.id)).toEqual({ ok: true, bookings: 1, held: false });
    let [booking] = await listBookings(ctx, feed.id);
    expect(booking?.startsAt).toBe(at("2027-03-26T15:00:00Z"));
    expect(booking?.endsAt).toBe(at("2027-03-29T10:00:00Z"));
    expect(booking?.credentialId).toBeNull(); // more than 48 h ahead

    t.clock.now = at("2027-03-24T15:00:00Z");
    await pollCalendars(ctx);
    [booking] = await listBookings(ctx, feed.id);
    expect(booking?.personId).not.toBeNull(); // the guest and their access, within the lead time
    expect(booking?.credentialId).toBeNull(); // the PIN is made when it is handed over
    const handed = await handOverGuestCode(ctx, feed.id, booking?.id ?? "", MANAGER);
    booking = handed.booking;
    const code = await credential(booking?.credentialId ?? null);
    expect(code).toMatchObject({ kind: "pin", status: "active" });
    const [grant] = await grantsOf(booking?.personId ?? null);
    expect(grant).toMatchObject({
      valid_from: at("2027-03-26T15:00:00Z"),
      valid_until: at("2027-03-29T10:00:00Z"),
      revoked_at: null,
    });
    const doors = await ctx.db
      .selectFrom("grant_doors")
      .select("door_id")
      .where("grant_id", "=", grant?.id ?? "")
      .execute();
    expect(doors).toEqual([{ door_id: door.id }]);

    // The guest opens their link once; neither the PIN nor the link is in the audit or the logs.
    const link = handed.guestLink.url;
    expect(link).toMatch(/\/guest#/);
    const token = link.split("#")[1] ?? "";
    const opened = await openGuestLink(ctx, token, "203.0.113.9");
    const trail = JSON.stringify(await actions(site.id));
    expect(trail).toContain("calendar.booking.issue");
    expect(trail).toContain("calendar.booking.code-handover");
    expect(trail).not.toContain(token);
    expect(trail).not.toContain(`"${opened.pin}"`);
    expect(t.logs.text()).not.toContain(token);
    expect(t.logs.text()).not.toContain(feed.host + "/spring.ics");

    // The hub kept no copy of the link: asking again is refused (a lost link is replaced), and
    // nothing in its database holds the token.
    await expect(handOverGuestCode(ctx, feed.id, booking?.id ?? "", MANAGER)).rejects.toMatchObject({
      code: "HUB_CONFLICT",
    });
    const row = await calendarDb(ctx.db)
      .selectFrom("calendar_bookings")
      .selectAll()
      .where("id", "=", booking?.id ?? "")
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(token);

    // Polling again changes nothing: no second code.
    t.clock.now += 16 * 60_000;
    await pollCalendars(ctx);
    expect((await listBookings(ctx, feed.id))[0]?.credentialId).toBe(booking?.credentialId);

    // The stay ends at check-out: its code is revoked.
    t.clock.now = at("2027-03-29T10:00:00Z");
    await pollCalendars(ctx);
    expect((await listBookings(ctx, feed.id))[0]?.state).toBe("ended");
    expect((await credential(booking?.credentialId ?? null)).status).toBe("revoked");
  });

  it("a timed booking across the autumn clock change keeps its exact times", async () => {
    const { feed } = await setUp(
      "/autumn.ics",
      calendar(
        vevent({
          uid: "t1",
          start: ";TZID=Europe/London:20271030T160000",
          end: ";TZID=Europe/London:20271101T100000",
          summary: "Reserved - Jo",
        }),
      ),
    );
    t.clock.now = at("2027-10-29T12:00:00Z");
    await pollFeed(ctx, feed.id);
    const [booking] = await listBookings(ctx, feed.id);
    expect(booking).toMatchObject({
      startsAt: at("2027-10-30T15:00:00Z"),
      endsAt: at("2027-11-01T10:00:00Z"),
      summary: "Reserved - Jo",
    });
    const person = await ctx.db
      .selectFrom("people")
      .select("name")
      .where("id", "=", booking?.personId ?? "")
      .executeTakeFirst();
    expect(person?.name).toBe("Jo (2027-10-30)");
  });

  it("an all-day booking across the autumn clock change: check-out at 11:00 GMT", async () => {
    const { feed } = await setUp(
      "/autumn-day.ics",
      calendar(vevent({ uid: "d1", start: "20271030", end: "20271101", summary: "Reserved" })),
    );
    await pollFeed(ctx, feed.id);
    const [booking] = await listBookings(ctx, feed.id);
    expect(booking).toMatchObject({
      startsAt: at("2027-10-30T14:00:00Z"),
      endsAt: at("2027-11-01T11:00:00Z"),
    });
  });

  it("a moved stay moves the code's times; an extension keeps the code; a cancellation revokes it", async () => {
    const path = "/changes.ics";
    const { site, feed } = await setUp(
      path,
      calendar(vevent({ uid: "m1", start: "20270321", end: "20270323", summary: "Reserved" })),
    );
    await pollFeed(ctx, feed.id);
    await handOverAll(feed.id);
    const [first] = await listBookings(ctx, feed.id);
    expect(first?.credentialId).not.toBeNull();

    served.set(path, {
      status: 200,
      body: calendar(vevent({ uid: "m1", start: "20270322", end: "20270324", summary: "Reserved" })),
    });
    await pollFeed(ctx, feed.id);
    const [moved] = await listBookings(ctx, feed.id);
    expect(moved).toMatchObject({
      id: first?.id,
      credentialId: first?.credentialId,
      startsAt: at("2027-03-22T15:00:00Z"),
    });
    let grants = await grantsOf(first?.personId ?? null);
    expect(grants.map((g) => [g.valid_from, g.valid_until, g.revoked_at === null])).toEqual([
      [at("2027-03-21T15:00:00Z"), at("2027-03-23T11:00:00Z"), false],
      [at("2027-03-22T15:00:00Z"), at("2027-03-24T11:00:00Z"), true],
    ]);

    served.set(path, {
      status: 200,
      body: calendar(vevent({ uid: "m1", start: "20270322", end: "20270326", summary: "Reserved" })),
    });
    await pollFeed(ctx, feed.id);
    const [extended] = await listBookings(ctx, feed.id);
    expect(extended?.credentialId).toBe(first?.credentialId);
    expect((await credential(first?.credentialId ?? null)).status).toBe("active");
    grants = await grantsOf(first?.personId ?? null);
    expect(grants.filter((g) => g.revoked_at === null).map((g) => g.valid_until)).toEqual([
      at("2027-03-26T11:00:00Z"),
    ]);

    served.set(path, { status: 200, body: calendar() });
    // An empty download is believed only after several in a row.
    for (let i = 1; i < EMPTY_POLLS_BEFORE_BELIEVED; i++) {
      expect(await pollFeed(ctx, feed.id)).toMatchObject({ ok: true, held: true });
      expect((await credential(first?.credentialId ?? null)).status).toBe("active");
    }
    expect(await pollFeed(ctx, feed.id)).toMatchObject({ ok: true, held: false });
    expect((await listBookings(ctx, feed.id))[0]?.state).toBe("cancelled");
    expect((await credential(first?.credentialId ?? null)).status).toBe("revoked");
    expect((await grantsOf(first?.personId ?? null)).every((g) => g.revoked_at !== null)).toBe(true);
    const trail = (await actions(site.id)).map((a) => a.action);
    expect(trail).toEqual(
      expect.arrayContaining([
        "calendar.booking.move",
        "calendar.booking.extend",
        "calendar.booking.cancel",
        "calendar.booking.code-times",
      ]),
    );
  });

  it("a booking marked CANCELLED in the feed has its code revoked at once", async () => {
    const path = "/status.ics";
    const { feed } = await setUp(
      path,
      calendar(vevent({ uid: "c1", start: "20270321", end: "20270323", summary: "Reserved" })),
    );
    await pollFeed(ctx, feed.id);
    await handOverAll(feed.id);
    const [booking] = await listBookings(ctx, feed.id);
    served.set(path, {
      status: 200,
      body: calendar(
        vevent({ uid: "c1", start: "20270321", end: "20270323", summary: "Reserved", status: "CANCELLED" }),
      ),
    });
    await pollFeed(ctx, feed.id);
    expect((await listBookings(ctx, feed.id))[0]?.state).toBe("cancelled");
    expect((await credential(booking?.credentialId ?? null)).status).toBe("revoked");
  });

  it("two same-name weekly bookings, with or without stable UIDs, are not remade on every poll", async () => {
    const weekly = (uids: [string | undefined, string | undefined]) =>
      calendar(
        vevent({ uid: uids[0], start: "20270321", end: "20270323", summary: "Reserved" }),
        vevent({ uid: uids[1], start: "20270328", end: "20270330", summary: "Reserved" }),
        vevent({ uid: "block", start: "20270401", end: "20270405", summary: "Airbnb (Not available)" }),
      );
    const path = "/weekly.ics";
    const { site, feed } = await setUp(path, weekly(["w1", "w2"]), 14 * 24 * 60);
    await pollFeed(ctx, feed.id);
    await handOverAll(feed.id);
    const before = await listBookings(ctx, feed.id);
    expect(before).toHaveLength(2);
    expect(new Set(before.map((b) => b.credentialId)).size).toBe(2);
    for (const uids of [
      ["w1", "w2"],
      [undefined, undefined],
      ["x1", "x2"],
      ["same", "same"],
    ] as const) {
      served.set(path, { status: 200, body: weekly([uids[0], uids[1]]) });
      await pollFeed(ctx, feed.id);
      const after = await listBookings(ctx, feed.id);
      expect(after.map((b) => [b.id, b.state, b.credentialId])).toEqual(
        before.map((b) => [b.id, "booked", b.credentialId]),
      );
    }
    const trail = (await actions(site.id)).map((a) => a.action);
    expect(trail.filter((a) => a === "calendar.booking.add")).toHaveLength(2);
    expect(trail).not.toContain("calendar.booking.cancel");
  });

  it("a feed that fails to download revokes nothing, raises one alert after repeated failures, and recovers", async () => {
    const path = "/flaky.ics";
    const good = calendar(vevent({ uid: "f1", start: "20270321", end: "20270323", summary: "Reserved" }));
    const { feed } = await setUp(path, good);
    await pollFeed(ctx, feed.id);
    await handOverAll(feed.id);
    const [booking] = await listBookings(ctx, feed.id);
    const failures: Served[] = [
      { status: 500, body: "oops" },
      { status: 200, body: "<html>maintenance</html>" },
      { status: 200, body: good.slice(0, good.length / 2) },
      { status: 503, body: "" },
    ];
    for (const [i, failure] of failures.entries()) {
      served.set(path, failure);
      expect(await pollFeed(ctx, feed.id)).toMatchObject({ ok: false, consecutiveFailures: i + 1 });
    }
    expect((await credential(booking?.credentialId ?? null)).status).toBe("active");
    expect((await listBookings(ctx, feed.id))[0]?.state).toBe("booked");
    const alerts = await calendarDb(ctx.db)
      .selectFrom("alerts")
      .selectAll()
      .where("kind", "=", CALENDAR_FEED_ALERT)
      .execute();
    const mine = alerts.filter((a) => (JSON.parse(a.details) as { feedId: string }).feedId === feed.id);
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]?.details ?? "{}")).toMatchObject({ failures: FAILURES_BEFORE_ALERT });
    const [listed] = await listFeeds(ctx, feed.siteId);
    expect(listed).toMatchObject({ consecutiveFailures: failures.length, alertId: Number(mine[0]?.id) });

    served.set(path, { status: 200, body: good });
    expect(await pollFeed(ctx, feed.id)).toMatchObject({ ok: true });
    const resolved = await calendarDb(ctx.db)
      .selectFrom("alerts")
      .select("resolved_at")
      .where("id", "=", Number(mine[0]?.id))
      .executeTakeFirst();
    expect(resolved?.resolved_at).toBe(t.clock.now);
    expect((await listFeeds(ctx, feed.siteId))[0]).toMatchObject({
      consecutiveFailures: 0,
      alertId: null,
      lastError: null,
    });
  });

  it("a code is replaced on demand; removing the feed revokes its guests' codes", async () => {
    const { site, feed } = await setUp(
      "/replace.ics",
      calendar(vevent({ uid: "r1", start: "20270321", end: "20270323", summary: "Reserved" })),
    );
    await pollFeed(ctx, feed.id);
    await handOverAll(feed.id);
    const [booking] = await listBookings(ctx, feed.id);
    const replaced = await replaceBookingCode(ctx, feed.id, booking?.id ?? "", MANAGER);
    expect(replaced.booking.credentialId).not.toBe(booking?.credentialId);
    expect(replaced.guestLink.url).toMatch(/\/guest#/);
    expect((await credential(booking?.credentialId ?? null)).status).toBe("revoked");

    await removeFeed(ctx, feed.id, { accountId: "account-1", ip: null });
    expect((await credential(replaced.booking.credentialId)).status).toBe("revoked");
    expect(await listFeeds(ctx, site.id)).toEqual([]);
    expect((await actions(site.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["calendar.booking.code-replace", "calendar.feed.remove"]),
    );
  });

  it("the poller downloads each feed when due, as kept in the database, and settles the others", async () => {
    const path = "/due.ics";
    const { feed } = await setUp(
      path,
      calendar(vevent({ uid: "p1", start: "20270321", end: "20270323", summary: "Reserved" })),
    );
    const poller = startCalendarPoller(ctx);
    await poller.stop();
    const [booking] = await listBookings(ctx, feed.id);
    expect(booking?.personId).not.toBeNull();
    // Not due yet: a changed feed is not downloaded before the poll interval has passed.
    served.set(path, { status: 200, body: calendar() });
    t.clock.now += POLL_EVERY_MS - 1;
    await pollCalendars(ctx);
    expect((await listFeeds(ctx, feed.siteId))[0]?.nextPollAt).toBe(
      at("2027-03-20T12:00:00Z") + POLL_EVERY_MS,
    );
    expect((await listBookings(ctx, feed.id))[0]?.state).toBe("booked");
    t.clock.now += 1;
    await pollCalendars(ctx);
    expect((await listFeeds(ctx, feed.siteId))[0]?.nextPollAt).toBe(t.clock.now + POLL_EVERY_MS);
  });

  it("downloads stop at the size and time limits", async () => {
    served.set("/big.ics", { status: 200, body: "x".repeat(5000) });
    served.set("/slow.ics", { status: 200, body: "", hang: true });
    const refused = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => null,
        (err: unknown) => err,
      );
      expect(isLatchkeyError(e, "HUB_CALENDAR_FEED_UNAVAILABLE")).toBe(true);
      return e as Error;
    };
    expect(
      (
        await refused(
          fetchFeed(`${base}/big.ics`, { timeoutMs: 5000, maxBytes: 1000, allowPrivateAddresses: true }),
        )
      ).message,
    ).toContain("too large");
    expect(
      (
        await refused(
          fetchFeed(`${base}/slow.ics`, { timeoutMs: 200, maxBytes: 1000, allowPrivateAddresses: true }),
        )
      ).message,
    ).toContain("timed out");
  });

  it("refuses private, loopback and link-local addresses unless configured, whether written or looked up", async () => {
    served.set("/feed.ics", { status: 200, body: calendar() });
    const port = (server.address() as AddressInfo).port;
    const publicOnly = { ...DEFAULT_FETCH_LIMITS, timeoutMs: 5000 };
    for (const url of [
      `http://127.0.0.1:${port}/feed.ics`,
      `http://localhost:${port}/feed.ics`, // a name: refused when the socket looks it up
      `http://[::1]:${port}/feed.ics`,
      `http://[::ffff:127.0.0.1]:${port}/feed.ics`,
      "http://169.254.169.254/latest/meta-data/", // a cloud metadata service
      "http://10.0.0.1/feed.ics",
    ]) {
      const e = await fetchFeed(url, publicOnly).then(
        () => null,
        (err: unknown) => err,
      );
      expect(isLatchkeyError(e, "HUB_CALENDAR_FEED_UNAVAILABLE"), url).toBe(true);
      expect((e as Error).message, url).toContain("private or local address");
      expect((e as Error).message).not.toContain(String(port));
    }
    // The same feed with the hub configured for private feeds (--calendar-private-feeds).
    expect(await fetchFeed(`${base}/feed.ics`, { ...publicOnly, allowPrivateAddresses: true })).toContain(
      "BEGIN:VCALENDAR",
    );
    const table: [string, boolean][] = [
      ["93.184.215.14", true],
      ["2606:4700:4700::1111", true],
      ["192.168.1.10", false],
      ["172.31.255.255", false],
      ["100.64.0.1", false],
      ["fd00::1", false],
      ["fe80::1", false],
      ["::", false],
      ["::ffff:10.1.2.3", false],
      ["::ffff:93.184.215.14", true],
      ["not an address", false],
    ];
    for (const [address, expected] of table) expect(isPublicAddress(address), address).toBe(expected);
  });

  it("follows up to five redirects, checking each one", async () => {
    served.set("/moved.ics", { status: 302, body: "", location: "/feed.ics" });
    served.set("/loop.ics", { status: 301, body: "", location: "/loop.ics" });
    served.set("/elsewhere.ics", { status: 302, body: "", location: "ftp://example.com/feed.ics" });
    const limits = { ...DEFAULT_FETCH_LIMITS, allowPrivateAddresses: true };
    expect(await fetchFeed(`${base}/moved.ics`, limits)).toContain("BEGIN:VCALENDAR");
    await expect(fetchFeed(`${base}/loop.ics`, limits)).rejects.toThrow("redirects too often");
    await expect(fetchFeed(`${base}/elsewhere.ics`, limits)).rejects.toThrow("other than http or https");
  });
});
