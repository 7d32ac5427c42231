/**
 * `latchkey verify BUNDLE [--trust FILE] [--owner-key KEY] [--ledger-key KEY] [--json] [--report out.html]`:
 * verifies an evidence bundle offline and prints the verdict (packages/protocol verdict.ts, the
 * same rule as the offline page): 0 proven, 1 invalid, 2 unreadable (or a bad command line or
 * trust file), 3 not conclusive (consistent, but a key is not pinned or events are declared
 * missing). docs/evidence-format.md "Verdicts and exit codes".
 */
import { readFileSync, writeFileSync } from "node:fs";
import {
  buildEvidenceReport,
  evidenceVerdict,
  isLatchkeyError,
  mergeTrust,
  NO_TRUST,
  parsePinnedKey,
  parseTrustFile,
  readEvidenceBundle,
  renderEvidenceReportHtml,
  renderEvidenceReportText,
  unreadableVerdict,
  verifyParsedEvidenceBundle,
  type EvidenceTrust,
  type EvidenceVerification,
  type ReadEvidenceBundle,
} from "@latchkey/protocol";
import { nodeEd25519, nodeSha256Parts } from "@latchkey/protocol/node";
import { startParallelSignatures } from "../evidence/index.js";
import { nodeMerkleHasher } from "../ledger/index.js";
import type { CliCommand } from "./main.js";

const HELP = `Usage: latchkey verify BUNDLE [options]

Verifies a Latchkey evidence bundle offline and says whether it proves anything.

Options:
  --trust FILE         pin the keys in this trust file (from \`latchkey keys --out\`, the owner's key card)
  --owner-key KEY      pin the site owner's public key (32 bytes: 64 hex digits or base64); repeatable
  --ledger-key KEY     pin the hub's ledger key (32 bytes: hex or base64; any origin); repeatable
  --json               print the report, with its verdict, as JSON
  --report FILE.html   also write the report as a self-contained HTML page

Fingerprints ("1a2b 3c4d …") are for comparing by eye; pin full keys.

Exit status:
  0  proven: valid, owner and ledger keys pinned and matching, no events missing
  1  invalid: a check failed or a pinned key does not match (the first failing element is named)
  2  unreadable: not a bundle, unsupported version, cannot read the file, bad options or trust file
  3  not conclusive: internally consistent, but a key is not pinned (its fingerprint is printed to
     compare) or the hub declared events missing`;

interface Args {
  file: string;
  json: boolean;
  report?: string;
  trust: EvidenceTrust;
}

/** Why the bundle never reached the verifier: the verdict "unreadable" (exit 2). */
class Refused extends Error {
  constructor(
    readonly code: "usage" | "unreadable-file" | "trust-invalid",
    readonly element: string,
    message: string,
  ) {
    super(message);
  }
}

function pinned(text: string, flag: string): Uint8Array {
  try {
    return parsePinnedKey(text, flag);
  } catch (e) {
    if (isLatchkeyError(e)) throw new Refused("trust-invalid", flag, `${e.code}: ${e.message}`);
    throw e;
  }
}

/** Reads a file the command line names. */
function read(path: string, what: string): Uint8Array {
  try {
    // A view of the Buffer, not a copy: a 100,000-event bundle is over 100 MB.
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new Refused("unreadable-file", "file", `cannot read ${what} ${path}: ${code}`);
  }
}

function readTrust(path: string): EvidenceTrust {
  const bytes = read(path, "trust file");
  try {
    return parseTrustFile(bytes);
  } catch (e) {
    if (isLatchkeyError(e))
      throw new Refused("trust-invalid", "trust", `trust file ${path}: ${e.code}: ${e.message}`);
    throw e;
  }
}

function parseArgs(argv: string[]): Args {
  const rest = [...argv];
  let file: string | undefined;
  let json = false;
  let report: string | undefined;
  let trust: EvidenceTrust = NO_TRUST;
  while (rest.length > 0) {
    const a = rest.shift()!;
    const value = (): string => {
      const v = rest.shift();
      if (v === undefined) throw new Refused("usage", "arguments", `${a} needs a value`);
      return v;
    };
    if (a === "--json") json = true;
    else if (a === "--report") report = value();
    else if (a === "--trust") trust = mergeTrust(trust, readTrust(value()));
    else if (a === "--owner-key") trust = mergeTrust(trust, { ...NO_TRUST, owners: [pinned(value(), a)] });
    else if (a === "--ledger-key")
      trust = mergeTrust(trust, { ...NO_TRUST, ledgers: [{ origin: null, publicKey: pinned(value(), a) }] });
    else if (a.startsWith("-")) throw new Refused("usage", "arguments", `unknown option ${a}`);
    else if (file === undefined) file = a;
    else throw new Refused("usage", "arguments", "only one bundle file may be given");
  }
  if (file === undefined) throw new Refused("usage", "arguments", "no bundle file given");
  return { file, json, trust, ...(report === undefined ? {} : { report }) };
}

function refuse(r: Refused, json: boolean): number {
  const verdict = unreadableVerdict(r.code, r.element, r.message);
  if (json)
    process.stdout.write(
      JSON.stringify({ format: "latchkey-evidence-report", version: 1, conclusion: verdict }, null, 2) + "\n",
    );
  else console.error(`latchkey verify: ${verdict.headline}${r.code === "usage" ? `\n\n${HELP}` : ""}`);
  return verdict.exitCode;
}

const verify: CliCommand = {
  summary: "verify an evidence bundle offline",
  run(argv: string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
      console.log(HELP);
      return Promise.resolve(0);
    }
    let args: Args;
    let parsed: ReadEvidenceBundle;
    try {
      args = parseArgs(argv);
      // Only the parsed bundle and its seal's hash are kept: the file's bytes (100 MB for 100,000
      // events) can go before the checks build their own.
      parsed = readEvidenceBundle(read(args.file, "bundle"), nodeSha256Parts);
    } catch (e) {
      if (e instanceof Refused) return Promise.resolve(refuse(e, argv.includes("--json")));
      throw e;
    }
    let result: EvidenceVerification;
    if (parsed.bundle === null) result = parsed.result;
    else {
      // The events' signatures are most of the work: other cores check them meanwhile.
      const signatures = startParallelSignatures(parsed.bundle, nodeEd25519);
      try {
        result = verifyParsedEvidenceBundle(parsed, {
          ed25519: signatures.ed25519,
          hasher: nodeMerkleHasher,
          sha256: nodeSha256Parts,
          // Pinned witnesses must have cosigned the head (docs/witness.md).
          ...(args.trust.witnesses.length > 0 ? { witnessKeys: args.trust.witnesses } : {}),
        });
      } finally {
        signatures.stop();
      }
    }
    const conclusion = evidenceVerdict(result, args.trust);
    const report = buildEvidenceReport(result, conclusion);
    if (args.report !== undefined) writeFileSync(args.report, renderEvidenceReportHtml(report));
    const out = args.json ? JSON.stringify(report, null, 2) + "\n" : renderEvidenceReportText(report);
    if (args.json || conclusion.exitCode === 0 || conclusion.exitCode === 3) process.stdout.write(out);
    else process.stderr.write(out);
    return Promise.resolve(conclusion.exitCode);
  },
};

export default verify;
