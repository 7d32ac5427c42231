/**
 * Regenerates the evidence test vectors under examples/evidence/vectors/: bundles made from the
 * sample scenario (packages/hub/src/evidence/sample-scenario.ts) — valid, unpinned, made from an
 * attacker's keys, with declared missing events, and attacked in every way the verifier names —
 * with trust files to pin, and manifest.json giving each vector's expected verdict, exit code,
 * reason codes and failing element. Every expectation follows from how the vector is made, never
 * from running the verifier. Deterministic (the sample's fixed demo seeds), so the files change only
 * when the formats or the scenario do; a test regenerates and compares them, then checks every
 * vector with the `latchkey verify` CLI and the offline page.
 *
 *   npm run evidence:vectors
 */
import { createHash } from "node:crypto";
import { readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeCommissioningRecord,
  decodeSignedLockEvent,
  ed25519NoteSigner,
  encodeEvidenceBundle,
  evidenceSealMessage,
  formatTrustFile,
  parseEvidenceBundle,
  parseNote,
  signCheckpoint,
  signCommissioningRecord,
  signNote,
  unsealedBundleBytes,
  VERDICT_EXIT_CODES,
  type EvidenceBundle,
  type EvidenceVerdictName,
  type UnsealedEvidenceBundle,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import {
  runSampleScenario,
  sampleKeys,
  tamperedSample,
} from "../packages/hub/src/evidence/sample-scenario.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const VECTORS_DIR = join(root, "examples/evidence/vectors");
/** Hand-written files in the folder that the generator leaves alone. */
export const VECTORS_HAND_WRITTEN = ["README.md"];

export interface EvidenceVector {
  /** The file to verify, in the vectors folder. */
  readonly file: string;
  /** The trust file to pin (`--trust`), or null to pin nothing. */
  readonly trust: string | null;
  readonly verdict: EvidenceVerdictName;
  readonly exitCode: number;
  /** The verdict's reason codes, in order (empty when proven). */
  readonly reasons: readonly string[];
  /** The first reason's element: the first failing element, or what is not pinned / missing. */
  readonly element: string | null;
  readonly description: string;
}

export interface EvidenceVectors {
  /** File name → content, for every generated file (manifest.json included). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly vectors: readonly EvidenceVector[];
}

const seed = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());
/** The attacker's keys: fixed seeds too, so the vectors are reproducible. */
const ATTACKER = {
  owner: seed("latchkey test vectors: an attacker's owner key"),
  hub: seed("latchkey test vectors: an attacker's ledger key"),
};

type Event = EvidenceBundle["locks"][number]["events"][number];

function withEvents(b: EvidenceBundle, edit: (events: Event[]) => void): EvidenceBundle {
  const lock = b.locks[0]!;
  const events = [...lock.events];
  edit(events);
  return { ...b, locks: [{ ...lock, events }, ...b.locks.slice(1)] };
}

/** Seals a bundle with a ledger seed: the attacker is whoever holds that key. */
function seal(b: UnsealedEvidenceBundle & { seal?: Uint8Array }, hubSeed: Uint8Array): Uint8Array {
  const unsealed: UnsealedEvidenceBundle & { seal?: Uint8Array } = { ...b };
  delete unsealed.seal;
  const signer = ed25519NoteSigner(b.ledger.origin, hubSeed, nodeEd25519);
  return encodeEvidenceBundle({
    ...unsealed,
    seal: signer.sign(evidenceSealMessage(unsealedBundleBytes(unsealed))),
  });
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export async function makeEvidenceVectors(): Promise<EvidenceVectors> {
  const sample = await runSampleScenario();
  const demo = sampleKeys();
  const hubSeed = demo.hubSeed;
  const b = parseEvidenceBundle(sample.bytes);
  const events = b.locks[0]!.events;
  const door = decodeCommissioningRecord(b.locks[0]!.commissioning).doorName;
  const files = new Map<string, Uint8Array>();
  const vectors: EvidenceVector[] = [];
  const add = (
    file: string,
    trust: string | null,
    verdict: EvidenceVerdictName,
    reasons: string[],
    element: string | null,
    description: string,
  ): void => {
    vectors.push({
      file,
      trust,
      verdict,
      exitCode: VERDICT_EXIT_CODES[verdict],
      reasons,
      element,
      description,
    });
  };

  // Trust files: what an owner registers (`latchkey keys --out`), and what a confused or misled
  // verifier might hold.
  const ownerKey = b.owner.publicKey;
  const ledgerKey = b.ledger.publicKey;
  const attackerOwner = nodeEd25519.publicKey(ATTACKER.owner);
  const attackerLedger = nodeEd25519.publicKey(ATTACKER.hub);
  const trust = (name: string, t: Parameters<typeof formatTrustFile>[0]): string => {
    files.set(name, text(formatTrustFile(t) + "\n"));
    return name;
  };
  const none = { site: null, owners: [], ledgers: [], witnesses: [] };
  const demoTrust = trust("trust-demo.json", {
    ...none,
    site: "Latchkey demo (published keys: DEMO ONLY)",
    owners: [ownerKey],
    ledgers: [{ origin: b.ledger.origin, publicKey: ledgerKey }],
  });
  const ownerOnly = trust("trust-owner-only.json", { ...none, owners: [ownerKey] });
  const otherLedger = trust("trust-other-ledger.json", {
    ...none,
    owners: [ownerKey],
    ledgers: [{ origin: b.ledger.origin, publicKey: attackerLedger }],
  });
  const otherOrigin = trust("trust-other-origin.json", {
    ...none,
    owners: [ownerKey],
    ledgers: [{ origin: `${b.ledger.origin}-elsewhere`, publicKey: ledgerKey }],
  });
  // A fingerprint where the full key belongs: refused, never matched.
  files.set(
    "trust-invalid.json",
    text(
      JSON.stringify({
        format: "latchkey-trust",
        version: 1,
        owners: [{ publicKey: "470d 26c7 4a54 90cd" }],
        ledgers: [],
      }) + "\n",
    ),
  );

  // The sample itself, under every way of pinning.
  files.set("valid.json", sample.bytes);
  add("valid.json", demoTrust, "proven", [], null, "The sample, owner and ledger keys pinned: proof.");
  add(
    "valid.json",
    null,
    "not-conclusive",
    ["owner-key-not-pinned", "ledger-key-not-pinned"],
    "owner.publicKey",
    "The sample with nothing pinned: consistent, but anyone can make a consistent bundle; the fingerprints are printed to compare.",
  );
  add(
    "valid.json",
    ownerOnly,
    "not-conclusive",
    ["ledger-key-not-pinned"],
    "ledger.publicKey",
    "Only the owner key pinned: a ledger re-created with a new key (and a made-up history) is not excluded.",
  );
  add(
    "valid.json",
    otherLedger,
    "invalid",
    ["untrusted-key"],
    "ledger.publicKey",
    "Another ledger key pinned than the bundle's.",
  );
  add(
    "valid.json",
    otherOrigin,
    "invalid",
    ["untrusted-key"],
    "ledger.origin",
    "The ledger key pinned for another origin.",
  );
  add(
    "valid.json",
    "trust-invalid.json",
    "unreadable",
    ["trust-invalid"],
    "trust",
    "A trust file that pins a fingerprint instead of a key: refused before verifying (exit 2).",
  );

  // A bundle made entirely from an attacker's keys: the owner's signature on the commissioning
  // record, the ledger's checkpoints and the seal all re-made; the lock's events untouched.
  {
    const signer = ed25519NoteSigner(b.ledger.origin, ATTACKER.hub, nodeEd25519);
    const rec = decodeCommissioningRecord(b.locks[0]!.commissioning);
    const commissioning = signCommissioningRecord(
      { ...rec, ownerKey: attackerOwner, ledgerKey: attackerLedger },
      ATTACKER.owner,
      nodeEd25519,
    ).bytes;
    const forged = seal(
      {
        ...b,
        owner: { publicKey: attackerOwner },
        ledger: { origin: b.ledger.origin, publicKey: attackerLedger },
        checkpoints: b.checkpoints.map((n) => signNote(parseNote(n).text, [signer])),
        locks: [{ ...b.locks[0]!, commissioning }, ...b.locks.slice(1)],
      },
      ATTACKER.hub,
    );
    files.set("attacker-keys.json", forged);
    add(
      "attacker-keys.json",
      demoTrust,
      "invalid",
      ["untrusted-key", "untrusted-key"],
      "owner.publicKey",
      "Every owner and ledger signature re-made with an attacker's keys, checked against the real pinned keys.",
    );
    add(
      "attacker-keys.json",
      null,
      "not-conclusive",
      ["owner-key-not-pinned", "ledger-key-not-pinned"],
      "owner.publicKey",
      "The same forgery with nothing pinned: internally consistent, so never better than not conclusive.",
    );
  }

  // Declared missing events: the hub says it lost one event, seals that, and proves the rest.
  const k = Math.floor(events.length / 2);
  const lostSeq = decodeSignedLockEvent(events[k]!.record).seq;
  {
    const lock = b.locks[0]!;
    const missing = seal(
      {
        ...b,
        locks: [
          {
            ...lock,
            events: lock.events.filter((_, i) => i !== k),
            missing: [[lostSeq, lostSeq]],
          },
        ],
      },
      hubSeed,
    );
    files.set("missing-range.json", missing);
    add(
      "missing-range.json",
      demoTrust,
      "not-conclusive",
      ["missing-events"],
      "locks[0].missing[0]",
      `Keys pinned, but the hub declares event seq ${lostSeq}–${lostSeq} of ${door} missing: never proven.`,
    );
  }

  // Attacks by someone holding only the file.
  files.set("tampered-byte.json", tamperedSample(sample.bytes));
  add(
    "tampered-byte.json",
    demoTrust,
    "invalid",
    ["bad-signature"],
    "locks[0].events[0]",
    "One byte of the first event's signed record changed (its lock time).",
  );
  files.set(
    "moved-window.json",
    encodeEvidenceBundle({
      ...b,
      window: { ...b.window, from: (b.window.from + 1) as typeof b.window.from },
    }),
  );
  add(
    "moved-window.json",
    demoTrust,
    "invalid",
    ["bad-signature"],
    "seal",
    "The window moved by 1 ms without re-sealing: only the hub's seal covers it.",
  );
  {
    const s = new TextDecoder().decode(sample.bytes);
    files.set("non-canonical.json", text(`{ ${s.slice(1)}`));
    add(
      "non-canonical.json",
      demoTrust,
      "invalid",
      ["non-canonical"],
      "file",
      "The same JSON with one space added: not the canonical bytes.",
    );
    files.set("damaged-json.json", sample.bytes.slice(0, sample.bytes.length - 100));
    add(
      "damaged-json.json",
      demoTrust,
      "invalid",
      ["malformed"],
      "file",
      "The file cut short: broken JSON that still carries the bundle marker.",
    );
    files.set("unsupported-version.json", text(s.replace('"version":1', '"version":2')));
    add(
      "unsupported-version.json",
      demoTrust,
      "unreadable",
      ["unsupported-version"],
      "version",
      "A format version this verifier does not know.",
    );
  }
  files.set("not-a-bundle.json", text('{"hello":"world"}'));
  add(
    "not-a-bundle.json",
    demoTrust,
    "unreadable",
    ["not-a-bundle"],
    "format",
    "JSON, but not marked as an evidence bundle.",
  );

  // Attacks by the hub itself, re-sealed with its own (demo) key.
  files.set(
    "deleted-event.json",
    seal(
      withEvents(b, (e) => e.splice(k, 1)),
      hubSeed,
    ),
  );
  add(
    "deleted-event.json",
    demoTrust,
    "invalid",
    ["gap"],
    `locks[0].events[${k}]`,
    `Event ${k} deleted and the bundle re-sealed by the hub, without declaring it missing.`,
  );
  files.set(
    "reordered.json",
    seal(
      withEvents(b, (e) => {
        [e[k], e[k + 1]] = [e[k + 1]!, e[k]!];
      }),
      hubSeed,
    ),
  );
  add(
    "reordered.json",
    demoTrust,
    "invalid",
    ["gap"],
    `locks[0].events[${k}]`,
    `Events ${k} and ${k + 1} swapped, re-sealed by the hub.`,
  );
  files.set(
    "truncated.json",
    seal(
      withEvents(b, (e) => {
        // Cut every event at or after the window's end, then one more: the log stops early.
        const reaches = (x: Event | undefined): boolean => {
          const t = x === undefined ? null : decodeSignedLockEvent(x.record).lockTime;
          return t !== null && t >= b.window.to;
        };
        while (reaches(e.at(-1))) e.pop();
        e.pop();
      }),
      hubSeed,
    ),
  );
  add(
    "truncated.json",
    demoTrust,
    "invalid",
    ["truncated"],
    "locks[0].events",
    "The last events cut off before the window's end, re-sealed by the hub.",
  );
  {
    const signer = ed25519NoteSigner(b.ledger.origin, hubSeed, nodeEd25519);
    const size = Number(parseNote(b.checkpoints[0]!).text.split("\n")[1]);
    const forked = signCheckpoint(
      { origin: b.ledger.origin, size, rootHash: new Uint8Array(32).fill(9), extensions: [] },
      signer,
    );
    files.set(
      "forked-checkpoint.json",
      seal(
        {
          ...b,
          checkpoints: [b.checkpoints[0]!, forked, ...b.checkpoints.slice(1)],
          consistency: [[], ...b.consistency],
        },
        hubSeed,
      ),
    );
    add(
      "forked-checkpoint.json",
      demoTrust,
      "invalid",
      ["fork"],
      "checkpoints[1]",
      "A second checkpoint of the same size with another root (a forked history), signed and re-sealed by the hub.",
    );
  }
  {
    const older = sample.allCheckpoints.at(-2)!;
    files.set(
      "older-head.json",
      seal(
        {
          ...b,
          checkpoints: [...b.checkpoints.slice(0, -2), older],
          consistency: b.consistency.slice(0, -1),
        },
        hubSeed,
      ),
    );
    add(
      "older-head.json",
      demoTrust,
      "invalid",
      ["not-included"],
      "locks[0].events[0]",
      "An older checkpoint swapped in for the head, re-sealed: the events' proofs no longer reach it.",
    );
  }

  const manifest = {
    format: "latchkey-evidence-vectors",
    version: 1,
    about:
      "Evidence bundles and trust files with the verdict every verifier must give (docs/evidence-format.md). Made by `npm run evidence:vectors` from the sample scenario; the keys are published demo keys: DEMO ONLY.",
    vectors,
  };
  files.set("manifest.json", text(JSON.stringify(manifest, null, 2) + "\n"));
  return { files, vectors };
}

/** Writes the vectors, removing generated files that are no longer made. */
export async function writeEvidenceVectors(dir = VECTORS_DIR): Promise<EvidenceVectors> {
  const made = await makeEvidenceVectors();
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir))
    if (!made.files.has(name) && !VECTORS_HAND_WRITTEN.includes(name)) rmSync(join(dir, name));
  for (const [name, bytes] of made.files) writeFileSync(join(dir, name), bytes);
  return made;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const made = await writeEvidenceVectors();
  console.log(`wrote ${made.files.size} files, ${made.vectors.length} vectors, to ${VECTORS_DIR}`);
}
