/**
 * Child process of crash.test.ts (run with `node --import tsx`): the whole hub (buildHub) on the
 * test's data directory, its embedded broker on the given port, syncing to the virtual locks the
 * parent runs and ingesting their events. While it runs, it keeps the sync busy like an owner
 * would: it adds a PIN every ~150 ms (printing `CRED <id>` once the API answered 201) and now and
 * then revokes one (`REVOKED <id>` after 200). It prints `READY` once the hub is up; the parent
 * kills it with SIGKILL at a random moment.
 *
 *   LK_COOKIE=… LK_CSRF=… node --import tsx sync-crash-child.ts <dataDir> <mqttPort> <topicPrefix> <clockOffsetMs> <personId>
 */
import { buildHub } from "../server/app.js";
import { TestClient } from "./hub-fixture.js";
import { crashHubConfig } from "./sync-crash.js";

const [dataDir, portText, topicPrefix, offsetText, personId] = process.argv.slice(2);
if (
  dataDir === undefined ||
  portText === undefined ||
  topicPrefix === undefined ||
  offsetText === undefined ||
  personId === undefined
) {
  throw new Error("usage: sync-crash-child.ts <dataDir> <mqttPort> <topicPrefix> <clockOffsetMs> <personId>");
}
const offset = Number(offsetText);
const hub = await buildHub(
  crashHubConfig({ dataDir, mqttPort: Number(portText), topicPrefix, now: () => Date.now() + offset }),
);
process.stdout.write("READY\n");

// The owner's session, made by the parent (the session lives in the database).
const client = new TestClient(hub);
client.cookie = process.env.LK_COOKIE ?? null;
client.csrf = process.env.LK_CSRF ?? null;
const created: string[] = [];
for (let i = 0; i < 40; i++) {
  await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 100)));
  const r = await client.post(`/api/v1/people/${personId}/credentials`, { kind: "pin" });
  if (r.statusCode !== 201) {
    process.stderr.write(`create: ${r.statusCode} ${r.body}\n`);
    continue;
  }
  const id = r.json<{ credential: { id: string } }>().credential.id;
  created.push(id);
  process.stdout.write(`CRED ${id}\n`);
  if (i % 3 === 2 && created.length > 1) {
    const victim = created.splice(Math.floor(Math.random() * created.length), 1)[0] ?? "";
    const v = await client.post(`/api/v1/credentials/${victim}/revoke`);
    if (v.statusCode === 200) process.stdout.write(`REVOKED ${victim}\n`);
    else process.stderr.write(`revoke: ${v.statusCode} ${v.body}\n`);
  }
}
process.stdout.write("IDLE\n");
