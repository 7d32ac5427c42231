/**
 * `latchkey keys`: prints a site's key card — the owner key and the hub's ledger key (with its
 * origin), each in full and as the fingerprint the evidence report shows, and a QR code of the
 * trust file — and with `--out` writes that trust file. The owner registers the card with an
 * insurer *before* anything happens; a verifier then pins it (`latchkey verify --trust`, the
 * offline page), and only a bundle signed by these keys can be proven
 * (docs/evidence-format.md "Key card").
 *
 * Reads the hub's data directory like `broker-config` (with SQLite, stop the hub first: it holds
 * the database exclusively). Only public keys are printed; the seeds are opened to derive them
 * and wiped. A site without an owner key yet gets one here, exactly as the hub would on first use.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import encodeQR from "qr";
import {
  encodeBase64,
  formatTrustFile,
  isLatchkeyError,
  keyFingerprint,
  LatchkeyError,
  type EvidenceTrust,
} from "@latchkey/protocol";
import type { CliCommand } from "./main.js";
import type { IngestTables, SyncTables } from "../db/schema.js";
import { defaultSqlitePath, openDatabase } from "../db/database.js";
import { loadOrCreateHubSecret } from "../keys/hub-secret.js";
import { CHECKPOINT_KEY_FILE, loadOrCreateCheckpointKey } from "../keys/checkpoint-key.js";
import { siteOwnerKey } from "../keys/site-keys.js";
import { parseWitnessEndpoint, type WitnessEndpoint } from "../witness/config.js";

export const summary =
  "Print a site's key card (owner and ledger key fingerprints, QR) and write its trust file.";

const HELP = `Usage: latchkey keys [options]

Prints the key card of a site: its owner key and the hub's ledger key, in full and as
fingerprints, and a QR code of the trust file. Give the card (or the trust file) to your insurer
now, before anything happens: an evidence bundle is proven only against keys pinned in advance
(\`latchkey verify BUNDLE --trust trust.json\`, or the offline verifier page).
With a SQLite database, stop the hub first (it holds the database exclusively).

Options (flags win over environment variables):
  --data-dir DIR      LATCHKEY_DATA_DIR    the hub's data directory (default ./data)
  --database URL      LATCHKEY_DATABASE    SQLite path or postgres:// URL (default <data-dir>/latchkey.sqlite)
  --site ID|NAME                           which site (needed when the hub has several)
  --witness URL=VKEY  LATCHKEY_WITNESSES   the hub's witnesses, as given to \`latchkey start\`,
                                           to pin their keys too (repeatable)
  --out FILE                               write the trust file (JSON) there
  --json                                   print the card as JSON instead of text
  --help                                   show this text

Exit status: 0 printed; 1 no such data directory, site or key; 2 bad options.`;

export interface KeyCard {
  readonly site: { readonly id: string; readonly name: string };
  readonly owner: { readonly publicKey: string; readonly fingerprint: string };
  readonly ledger: { readonly origin: string; readonly publicKey: string; readonly fingerprint: string };
  readonly witnesses: readonly {
    readonly name: string;
    readonly publicKey: string;
    readonly fingerprint: string;
  }[];
  /** Whether the owner key was created by this run (the site had none yet). */
  readonly ownerKeyCreated: boolean;
  /** The trust file's exact text (what --out writes and the QR code holds). */
  readonly trustFile: string;
}

/** A site label the trust file accepts: printable, at most 128 characters. */
function label(name: string): string {
  const clean = [...name]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? " " : c))
    .join("")
    .trim();
  return (clean === "" ? "site" : clean).slice(0, 128);
}

/** The key card of one site of a hub data directory. */
export async function readKeyCard(o: {
  dataDir: string;
  database?: string | undefined;
  site?: string | undefined;
  witnesses?: readonly WitnessEndpoint[];
}): Promise<KeyCard> {
  const dataDir = resolve(o.dataDir);
  // Never create keys for a folder that is no hub's: a made-up ledger key would be worse than none.
  for (const file of ["secret.key", CHECKPOINT_KEY_FILE])
    if (!existsSync(join(dataDir, file)))
      throw new LatchkeyError(
        "HUB_CONFIG_INVALID",
        `no ${file} in ${dataDir}; point --data-dir at the hub's data directory`,
      );
  const witnesses = o.witnesses ?? [];
  const ledgerKey = loadOrCreateCheckpointKey(dataDir, { publicUrl: "http://localhost" });
  ledgerKey.seed.fill(0);
  const secret = loadOrCreateHubSecret(dataDir);
  const opened = await openDatabase({ url: o.database ?? defaultSqlitePath(dataDir) });
  try {
    const db = opened.db.withTables<Pick<IngestTables & SyncTables, keyof (IngestTables & SyncTables)>>();
    const sites = await db.selectFrom("sites").select(["id", "name"]).orderBy("created_at").execute();
    const wanted = o.site;
    const matches = wanted === undefined ? sites : sites.filter((s) => s.id === wanted || s.name === wanted);
    const list = sites.map((s) => `${s.id} (${s.name})`).join(", ");
    if (sites.length === 0)
      throw new LatchkeyError("HUB_NOT_FOUND", "the hub has no site yet; create one first");
    if (matches.length === 0)
      throw new LatchkeyError("HUB_NOT_FOUND", `no site ${wanted ?? ""}; the sites are: ${list}`);
    if (matches.length > 1)
      throw new LatchkeyError("HUB_BAD_REQUEST", `choose a site with --site ID; the sites are: ${list}`);
    const site = matches[0]!;
    const had = await db
      .selectFrom("site_keys")
      .select("site_id")
      .where("site_id", "=", site.id)
      .executeTakeFirst();
    // The public key derived from the sealed seed: the key that really signs, not a copy of it.
    const owner = await siteOwnerKey(db, secret, site.id, Date.now());
    const trust: EvidenceTrust = {
      site: label(site.name),
      owners: [owner.publicKey],
      ledgers: [{ origin: ledgerKey.origin, publicKey: ledgerKey.publicKey }],
      witnesses: witnesses.map((w) => ({ name: w.name, publicKey: w.publicKey })),
    };
    const show = (k: Uint8Array) => ({ publicKey: encodeBase64(k), fingerprint: keyFingerprint(k) });
    return {
      site: { id: site.id, name: site.name },
      owner: show(owner.publicKey),
      ledger: { origin: ledgerKey.origin, ...show(ledgerKey.publicKey) },
      witnesses: witnesses.map((w) => ({ name: w.name, ...show(w.publicKey) })),
      ownerKeyCreated: had === undefined,
      trustFile: formatTrustFile(trust) + "\n",
    };
  } finally {
    await opened.close();
  }
}

/** The card as terminal text, with the trust file as a QR code (dark terminal: light modules drawn). */
export function renderKeyCard(card: KeyCard): string {
  const pad = (s: string) => s.padEnd(14);
  const lines = [
    `Latchkey key card: site "${card.site.name}" (${card.site.id})`,
    "",
    "Register this card with your insurer (or whoever may one day check your evidence) now,",
    "before anything happens. An evidence bundle of this site is proven only against these keys:",
    "`latchkey verify BUNDLE --trust trust.json` or the offline verifier page.",
    "",
    `${pad("Owner key")}fingerprint ${card.owner.fingerprint}`,
    `${pad("")}${card.owner.publicKey}${card.ownerKeyCreated ? "  (created now; the hub signs with it from here on)" : ""}`,
    `${pad("Ledger key")}fingerprint ${card.ledger.fingerprint}`,
    `${pad("")}origin ${card.ledger.origin}`,
    `${pad("")}${card.ledger.publicKey}`,
    ...card.witnesses.flatMap((w) => [
      `${pad("Witness")}${w.name}, fingerprint ${w.fingerprint}`,
      `${pad("")}${w.publicKey}`,
    ]),
    "",
    "Trust file (scan the code, or save it with --out trust.json):",
    encodeQR(card.trustFile.trimEnd(), "ascii", { ecc: "medium", border: 2 }),
    card.trustFile.trimEnd(),
  ];
  return lines.join("\n") + "\n";
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        database: { type: "string" },
        site: { type: "string" },
        witness: { type: "string", multiple: true },
        out: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`latchkey keys: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const env = (name: string): string | undefined =>
    process.env[name] === "" ? undefined : process.env[name];
  let witnesses: WitnessEndpoint[];
  try {
    const given =
      values.witness ??
      env("LATCHKEY_WITNESSES")
        ?.split(/\s+/)
        .filter((w) => w !== "") ??
      [];
    witnesses = given.map((w) => parseWitnessEndpoint(w));
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    console.error(`latchkey keys: ${e.code}: ${e.message}\n\n${HELP}`);
    return 2;
  }
  try {
    const card = await readKeyCard({
      dataDir: values["data-dir"] ?? env("LATCHKEY_DATA_DIR") ?? "./data",
      database: values.database ?? env("LATCHKEY_DATABASE"),
      site: values.site,
      witnesses,
    });
    if (values.out !== undefined) writeFileSync(resolve(values.out), card.trustFile);
    if (values.json === true) process.stdout.write(JSON.stringify(card, null, 2) + "\n");
    else process.stdout.write(renderKeyCard(card));
    if (values.out !== undefined && values.json !== true)
      console.log(`Wrote the trust file to ${resolve(values.out)}.`);
    return 0;
  } catch (e) {
    if (isLatchkeyError(e)) {
      console.error(`latchkey keys: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const command: CliCommand = { summary, run };
export default command;
