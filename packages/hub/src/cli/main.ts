/**
 * `latchkey <command>`: dispatches to one module per command. Each command module exports
 * `run(argv: string[]): Promise<number>` returning the process exit code, and `summary`.
 */
export interface CliCommand {
  readonly summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  start: async () => (await import("./start.js")).default,
  verify: () => import("./verify.js").then((m) => m.default),
  keys: () => import("./keys.js").then((m) => m.default),
  lock: () => import("./lock.js").then((m) => m.default),
  sim: () => import("./sim.js").then((m) => m.default),
  "broker-config": () => import("./broker-config.js").then((m) => m.default),
  witness: () => import("./witness.js").then((m) => m.default),
};

/** One line per command for --help (here, so listing them loads none of them). */
const SUMMARIES: Record<keyof typeof COMMANDS, string> = {
  start: "Run the hub (HTTP API, accounts, access model).",
  verify: "Verify an evidence bundle offline: proven (0), invalid (1), unreadable (2), not conclusive (3).",
  keys: "Print a site's key card (owner and ledger key fingerprints, QR) and write its trust file.",
  lock: "Add a lock to a door of a running hub by its setup code (or list waiting locks).",
  sim: "Run a fleet of virtual locks against a hub (over MQTT).",
  "broker-config": "Write a locked-down Mosquitto configuration (logins and ACLs per lock) for --broker.",
  witness: "Run a witness that cosigns a hub's ledger checkpoints (C2SP tlog-witness).",
};

function usage(): string {
  const lines = ["Usage: latchkey <command> [options]", "", "Commands:"];
  for (const name of Object.keys(COMMANDS).sort()) lines.push(`  ${name.padEnd(15)}${SUMMARIES[name] ?? ""}`);
  lines.push("", "Run `latchkey <command> --help` for a command's options.");
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    console.error(`latchkey: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
