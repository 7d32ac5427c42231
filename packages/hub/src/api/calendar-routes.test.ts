import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";

const FEED = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "BEGIN:VEVENT",
  "UID:r1@example",
  "DTSTART;VALUE=DATE:20261121",
  "DTEND;VALUE=DATE:20261123",
  "SUMMARY:Reserved - Ada",
  "END:VEVENT",
  "END:VCALENDAR",
].join("\r\n");

describe("booking calendar routes", () => {
  let t: TestHub;
  let owner: SignedIn;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    t = await startTestHub("sqlite", { calendarPrivateFeeds: true });
    owner = await createOwner(t);
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/calendar" });
      res.end(FEED);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/export.ics?s=secret-token`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it("add, poll, list bookings, fetch and replace the guest link, remove", async () => {
    const c = owner.client;
    const site = (await c.post("/api/v1/sites", { name: "Cottage", timezone: "Europe/London" })).json<{
      id: string;
    }>();
    const door = (await c.post(`/api/v1/sites/${site.id}/doors`, { name: "Front" })).json<{ id: string }>();
    await stepUp(t, owner);
    const added = await c.post(`/api/v1/sites/${site.id}/calendars`, {
      name: "Airbnb",
      url,
      doorIds: [door.id],
    });
    expect(added.statusCode, added.body).toBe(201);
    const feed = added.json<{ id: string; host: string }>();
    expect(added.body).not.toContain("secret-token");

    const polled = await c.post(`/api/v1/sites/${site.id}/calendars/${feed.id}/poll`, undefined);
    expect(polled.statusCode, polled.body).toBe(200);
    expect(polled.json()).toEqual({ ok: true, bookings: 1, held: false });

    const listed = await c.get(`/api/v1/sites/${site.id}/calendars/${feed.id}/bookings`);
    const [booking] = listed.json<{ items: { id: string; personId: string | null }[] }>().items;
    expect(booking?.personId).not.toBeNull();

    await stepUp(t, owner);
    const link = await c.post(
      `/api/v1/sites/${site.id}/calendars/${feed.id}/bookings/${booking?.id}/guest-link`,
      undefined,
    );
    expect(link.statusCode, link.body).toBe(201);
    const handed = link.json<{ booking: { credentialId: string }; guestLink: { url: string } }>();
    expect(handed.guestLink.url).toMatch(/\/guest#/);
    // Answered once: the hub keeps no copy of the link to answer again.
    const again = await c.post(
      `/api/v1/sites/${site.id}/calendars/${feed.id}/bookings/${booking?.id}/guest-link`,
      undefined,
    );
    expect(again.statusCode).toBe(409);
    expect(again.body).not.toContain(handed.guestLink.url.split("#")[1]);
    const replaced = await c.post(
      `/api/v1/sites/${site.id}/calendars/${feed.id}/bookings/${booking?.id}/replace-code`,
      undefined,
    );
    expect(replaced.statusCode, replaced.body).toBe(201);
    expect(replaced.json<{ booking: { credentialId: string } }>().booking.credentialId).not.toBe(
      handed.booking.credentialId,
    );

    const feeds = await c.get(`/api/v1/sites/${site.id}/calendars`);
    expect(feeds.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect(feeds.body).not.toContain("secret-token");
    expect((await c.delete(`/api/v1/sites/${site.id}/calendars/${feed.id}`)).statusCode).toBe(200);
    expect((await c.get(`/api/v1/sites/${site.id}/calendars`)).json<{ items: unknown[] }>().items).toEqual(
      [],
    );
    expect(t.logs.text()).not.toContain("secret-token");
  });
});
