/** How a witness names the logs it watches (`--log`) and a hub names its witnesses (`--witness`). */
import { describe, expect, it } from "vitest";
import {
  encodeBase64,
  formatVerifierKey,
  isLatchkeyError,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  toHex,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { helpText, parseConfig, WITNESS_FLAGS } from "../config/config.js";
import { parseLogKey, parseWitnessEndpoint } from "./config.js";

const pub = nodeEd25519.publicKey(new Uint8Array(32).fill(5));
const LOG = formatVerifierKey("hub.example/ledger/1a2b", SIG_TYPE_ED25519, pub);
const WITNESS = formatVerifierKey("witness.example.org/alice", SIG_TYPE_COSIGNATURE_V1, pub);

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

describe("--log (the witness)", () => {
  it("takes the hub's ledger verifier key, or ORIGIN=KEY in hex, base64 or as a vkey", () => {
    for (const text of [
      LOG,
      `hub.example/ledger/1a2b=${toHex(pub)}`,
      `hub.example/ledger/1a2b=${encodeBase64(pub)}`,
      `hub.example/ledger/1a2b=${LOG}`,
    ]) {
      const k = parseLogKey(text);
      expect([k.origin, toHex(k.publicKey)], text).toEqual(["hub.example/ledger/1a2b", toHex(pub)]);
    }
  });

  it("refuses anything else with WITNESS_CONFIG_INVALID", () => {
    for (const bad of [
      "",
      "hub.example/ledger",
      WITNESS, // a cosigner key is not a log key
      `other.example/ledger=${LOG}`, // vkey named for another origin
      `hub.example/ledger=${toHex(pub).slice(2)}`,
      `hub example=${toHex(pub)}`,
      `=${toHex(pub)}`,
    ])
      expect(
        code(() => parseLogKey(bad)),
        bad,
      ).toBe("WITNESS_CONFIG_INVALID");
  });
});

describe("--witness (the hub)", () => {
  it("takes URL=VKEY (the URL may hold '='), also from LATCHKEY_WITNESSES, and lists it in --help", () => {
    expect(parseWitnessEndpoint(`https://w.example.org/tlog/=${WITNESS}`)).toMatchObject({
      url: "https://w.example.org/tlog",
      name: "witness.example.org/alice",
    });
    expect(parseWitnessEndpoint(`http://10.0.0.2:7380/a=b=${WITNESS}`).url).toBe("http://10.0.0.2:7380/a=b");
    const other = formatVerifierKey(
      "w2",
      SIG_TYPE_COSIGNATURE_V1,
      nodeEd25519.publicKey(new Uint8Array(32).fill(6)),
    );
    const cfg = parseConfig(["--witness", `http://a:1=${WITNESS}`, "--witness", `http://b:2=${other}`], {});
    expect(cfg.witnesses?.map((w) => w.name)).toEqual(["witness.example.org/alice", "w2"]);
    const env = parseConfig([], { LATCHKEY_WITNESSES: ` http://a:1=${WITNESS}  http://b:2=${other} ` });
    expect(env.witnesses?.map((w) => w.url)).toEqual(["http://a:1", "http://b:2"]);
    expect(parseConfig([], {}).witnesses).toEqual([]);
    for (const f of WITNESS_FLAGS) expect(helpText()).toContain(f.env);
  });

  it("refuses a log key, a non-HTTP URL, credentials, a query, and a witness named twice", () => {
    for (const bad of [
      `http://a:1=${LOG}`,
      `ftp://a=${WITNESS}`,
      `http://user:pw@a:1=${WITNESS}`,
      `http://a:1/?x=${WITNESS}`,
      "http://a:1",
      WITNESS,
    ])
      expect(
        code(() => parseWitnessEndpoint(bad)),
        bad,
      ).toBe("HUB_CONFIG_INVALID");
    expect(
      code(() =>
        parseConfig(["--witness", `http://a:1=${WITNESS}`, "--witness", `http://b:1=${WITNESS}`], {}),
      ),
    ).toBe("HUB_CONFIG_INVALID");
  });
});
