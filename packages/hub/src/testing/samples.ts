/**
 * Test support: one acceptable body per route that takes a body (keyed "METHOD url"), so tests
 * generated from the route table can mutate a valid request into a bad one.
 */
export interface SampleIds {
  readonly doorId: string;
}

export function sampleBodies(ids: SampleIds): Record<string, Record<string, unknown>> {
  return {
    "POST /api/v1/setup": { token: "t".repeat(43), username: "owner", password: "a quiet harbour at dawn" },
    "POST /api/v1/invites/accept": { token: "t".repeat(43), password: "a quiet harbour at dawn" },
    "POST /api/v1/auth/login": { username: "owner", password: "a quiet harbour at dawn" },
    "POST /api/v1/auth/second-factor": { method: "totp", code: "123456" },
    "POST /api/v1/account/totp/confirm": { code: "123456" },
    "POST /api/v1/account/passkeys": {
      response: {
        id: "AAAA",
        rawId: "AAAA",
        type: "public-key",
        clientExtensionResults: {},
        response: { clientDataJSON: "AAAA", attestationObject: "AAAA" },
      },
    },
    "POST /api/v1/account/password": {
      currentPassword: "a quiet harbour at dawn",
      newPassword: "another long passphrase here",
    },
    "PATCH /api/v1/organisation": { name: "Renamed organisation" },
    "POST /api/v1/sites": { name: "X", timezone: "UTC" },
    "PATCH /api/v1/sites/:siteId": { name: "renamed" },
    "POST /api/v1/sites/:siteId/doors": { name: "side door" },
    "PATCH /api/v1/doors/:doorId": { name: "renamed door" },
    "POST /api/v1/sites/:siteId/members": { username: "newcomer", role: "guest" },
    "POST /api/v1/sites/:siteId/people": { name: "Carl" },
    "PATCH /api/v1/people/:personId": { name: "Robert" },
    "POST /api/v1/people/:personId/credentials": { kind: "card", cardNumber: "04A1B2C3" },
    "POST /api/v1/people/:personId/guest-pin": { label: "Cleaner", length: 6, expiresInDays: 7 },
    "POST /api/v1/sites/:siteId/calendars": {
      name: "Airbnb",
      url: "http://127.0.0.1:9/calendar.ics",
      doorIds: [ids.doorId],
    },
    "POST /api/v1/guest/open": { token: "t".repeat(43) },
    // Nothing listens on port 9 (discard): a test notification is refused and logged, not sent.
    "POST /api/v1/notification-channels": {
      kind: "webhook",
      name: "Intake",
      settings: { url: "http://127.0.0.1:9/hook" },
    },
    "PATCH /api/v1/notification-channels/:channelId": { name: "Insurer intake" },
    "POST /api/v1/doors/:doorId/lock": { setupCode: "3482 1907" },
    "POST /api/v1/sites/:siteId/revocations": { serial: "4711" },
    "POST /api/v1/credentials/:credentialId/sync/retry": {},
    "POST /api/v1/credentials/:credentialId/replace-pin": { length: 6 },
    "POST /api/v1/doors/:doorId/demo": { action: "keypad", pin: "2468" },
    "POST /api/v1/sites/:siteId/evidence": {
      doorIds: [ids.doorId],
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 0, 2),
    },
    "POST /api/v1/doors/:doorId/unlock-requests": { note: "Parcel delivery at the front door" },
    "POST /api/v1/doorbell/ring": { note: "Someone at the front door" },
    "POST /api/v1/sites/:siteId/unlock-requests/:requestId/approve": {
      credentialId: "AAAA",
      authenticatorData: "A".repeat(50),
      clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
      signature: "MEUCIQ",
    },
    "POST /api/v1/people/:personId/grants": {
      doorIds: [ids.doorId],
      category: "guest",
      schedule: { kind: "always" },
      validFrom: Date.UTC(2027, 0, 1),
    },
  };
}
