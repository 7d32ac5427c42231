/**
 * `latchkey verify BUNDLE [--json] [--report out.html] [--owner-key HEX] [--ledger-key HEX]`:
 * verifies an evidence bundle offline. Exit 0: valid (prints the plain-language summary, or the
 * JSON report with --json); 1: invalid (names the first failing element and why); 2: the file
 * cannot be read or is not an evidence bundle, or the command line is wrong.
 */
import { readFileSync, writeFileSync } from "node:fs";
import {
  buildEvidenceReport,
  fromHex,
  renderEvidenceReportHtml,
  renderEvidenceReportText,
  verifyEvidenceBundle,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { nodeMerkleHasher } from "../ledger/index.js";
import type { CliCommand } from "./main.js";

const HELP = `Usage: latchkey verify BUNDLE [options]

Verifies a Latchkey evidence bundle offline and prints what it proves.

Options:
  --json               print the report as JSON
  --report FILE.html   also write the report as a self-contained HTML page
  --owner-key HEX      refuse unless the owner's public key is exactly this (32 bytes, hex)
  --ledger-key HEX     refuse unless the hub's ledger key is exactly this (32 bytes, hex)

Exit status: 0 valid, 1 invalid (the first failing element is named), 2 unreadable or not a bundle.`;

interface Args {
  file: string;
  json: boolean;
  report?: string;
  ownerKey?: Uint8Array;
  ledgerKey?: Uint8Array;
}

function parseArgs(argv: string[]): Args | string {
  const rest = [...argv];
  let file: string | undefined;
  const args: Partial<Args> = { json: false };
  while (rest.length > 0) {
    const a = rest.shift()!;
    const value = (): string | undefined => rest.shift();
    if (a === "--json") args.json = true;
    else if (a === "--report") {
      const v = value();
      if (v === undefined) return "--report needs a file name";
      args.report = v;
    } else if (a === "--owner-key" || a === "--ledger-key") {
      const v = value() ?? "";
      if (!/^[0-9a-fA-F]{64}$/.test(v)) return `${a} needs 64 hex digits`;
      if (a === "--owner-key") args.ownerKey = fromHex(v.toLowerCase());
      else args.ledgerKey = fromHex(v.toLowerCase());
    } else if (a.startsWith("-")) return `unknown option ${a}`;
    else if (file === undefined) file = a;
    else return "only one bundle file may be given";
  }
  if (file === undefined) return "no bundle file given";
  return { ...args, file } as Args;
}

const verify: CliCommand = {
  summary: "verify an evidence bundle offline",
  run(argv: string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
      console.log(HELP);
      return Promise.resolve(0);
    }
    const args = parseArgs(argv);
    if (typeof args === "string") {
      console.error(`latchkey verify: ${args}\n\n${HELP}`);
      return Promise.resolve(2);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(args.file));
    } catch (e) {
      console.error(
        `latchkey verify: cannot read ${args.file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      );
      return Promise.resolve(2);
    }
    const result = verifyEvidenceBundle(bytes, {
      ed25519: nodeEd25519,
      hasher: nodeMerkleHasher,
      ...(args.ownerKey ? { expectOwnerKey: args.ownerKey } : {}),
      ...(args.ledgerKey ? { expectLedgerKey: args.ledgerKey } : {}),
    });
    const report = buildEvidenceReport(result);
    if (args.report !== undefined) writeFileSync(args.report, renderEvidenceReportHtml(report));
    const out = args.json ? JSON.stringify(report, null, 2) + "\n" : renderEvidenceReportText(report);
    if (result.status === "valid") process.stdout.write(out);
    else if (args.json) process.stdout.write(out);
    else process.stderr.write(out);
    return Promise.resolve(result.status === "valid" ? 0 : result.status === "invalid" ? 1 : 2);
  },
};

export default verify;
