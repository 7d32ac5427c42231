import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { isLatchkeyError } from "../errors/error.js";
import { nobleEd25519 as ed } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import {
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatVerifierKey,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
  SIG_TYPE_ED25519,
} from "./signed-note.js";
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from "./checkpoint.js";
import {
  cosignatureMessage,
  cosignerOf,
  decodeCosignature,
  signCosignature,
  verifyCosignature,
} from "./cosignature.js";

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

// golang.org/x/mod/sumdb/note documentation example (the reference implementation).
const GO_SKEY_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; // 0x01 ‖ Ed25519 seed
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE =
  GO_TEXT +
  "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const ENOCH_LINE =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
// c2sp.org/signed-note "Example" section.
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

const verifierOf = (vkey: string) => {
  const k = parseVerifierKey(vkey);
  return ed25519NoteVerifier(k.name, k.publicKey, ed);
};
const goSeed = () => (decodeBase64(GO_SKEY_B64) as Uint8Array).slice(1);

describe("c2sp.org/signed-note", () => {
  it("parses verifier keys whose base64 contains '+' (cut at the first two '+' only)", () => {
    let withPlus = 0;
    for (let i = 0; i < 64; i++) {
      const seed = new Uint8Array(32).fill(i + 1);
      const vkey = formatVerifierKey("hub.example/ledger", SIG_TYPE_ED25519, ed.publicKey(seed));
      if (vkey.split("+").length > 3) withPlus++;
      expect(parseVerifierKey(vkey).publicKey).toEqual(ed.publicKey(seed));
    }
    expect(withPlus).toBeGreaterThan(0); // the property above was really exercised
  });

  it("reproduces the Go reference signature byte for byte and derives its key ID", () => {
    const signer = ed25519NoteSigner("PeterNeumann", goSeed(), ed);
    expect(signer.keyId.toString(16)).toBe("c74f20a3");
    expect(formatVerifierKey("PeterNeumann", SIG_TYPE_ED25519, signer.publicKey)).toBe(GO_VKEY);
    expect(signNote(GO_TEXT, [signer])).toBe(GO_NOTE);
  });

  it("verifies the spec example and the doubly-signed Go example", () => {
    expect(openNote(SPEC_NOTE, [verifierOf(SPEC_VKEY)]).text).toBe("This is an example message.\n");
    const both = GO_NOTE + ENOCH_LINE;
    const opened = openNote(both, [verifierOf(GO_VKEY), verifierOf(ENOCH_VKEY)]);
    expect(opened.verified.map((s) => s.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    // Only Peter known: Enoch's signature is ignored, not an error.
    const one = openNote(new TextEncoder().encode(both), [verifierOf(GO_VKEY)]);
    expect(one.unverified.map((s) => s.name)).toEqual(["EnochRoot"]);
  });

  it("rejects a changed text, a forged signature and a note without trusted signatures (attack)", () => {
    const v = [verifierOf(GO_VKEY)];
    expect(code(() => openNote(GO_NOTE.replace("problem,", "problem;"), v))).toBe("NOTE_SIGNATURE_INVALID");
    expect(code(() => openNote(GO_NOTE.replace("x08go/ZJ", "x08go/ZK"), v))).toBe("NOTE_SIGNATURE_INVALID");
    expect(code(() => openNote(SPEC_NOTE, v))).toBe("NOTE_UNVERIFIED");
    // Same name, other key ID: unknown key, so ignored → unverified.
    const other = ed25519NoteSigner("PeterNeumann", new Uint8Array(32).fill(9), ed);
    expect(code(() => openNote(signNote(GO_TEXT, [other]), v))).toBe("NOTE_UNVERIFIED");
  });

  it("rejects malformed notes with stable codes", () => {
    const cases: Array<[string | Uint8Array, string]> = [
      [GO_TEXT, "NOTE_MALFORMED"], // no signature block
      [GO_NOTE.slice(0, -1), "NOTE_MALFORMED"], // no final newline
      [GO_NOTE.replace("— ", "- "), "NOTE_MALFORMED"], // hyphen, not em dash
      [GO_NOTE.replace("PeterNeumann ", "Peter+Neumann "), "NOTE_MALFORMED"],
      [GO_NOTE.replace("PeterNeumann ", "Peter\u00a0Neumann "), "NOTE_MALFORMED"], // Unicode space
      [GO_NOTE.replace("problem,", "problem,\t"), "NOTE_MALFORMED"], // control character
      [GO_NOTE.replace("nAM=", "nAN="), "NOTE_MALFORMED"], // non-canonical base64
      [GO_TEXT + "\n— PeterNeumann AAAA\n", "NOTE_MALFORMED"], // signature shorter than 5 bytes
      [Uint8Array.of(0x61, 0x0a, 0x0a, 0xff, 0x0a), "NOTE_MALFORMED"], // invalid UTF-8
      [GO_TEXT + "\n" + "— a AAAAAAA=\n".repeat(101), "NOTE_TOO_LARGE"],
      ["x".repeat(70_000) + "\n\n— a AAAAAAA=\n", "NOTE_TOO_LARGE"],
    ];
    cases.forEach(([note, want], i) =>
      expect(
        code(() => parseNote(note)),
        `case ${i}`,
      ).toBe(want),
    );
  });

  it("rejects malformed verifier keys", () => {
    expect(
      code(() =>
        parseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="),
      ),
    ).toBe("NOTE_KEY_MALFORMED");
    expect(
      code(() => parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")),
    ).toBe("NOTE_KEY_MALFORMED");
    expect(code(() => parseVerifierKey(GO_VKEY.replace("c74f20a3", "c74f20a4")))).toBe("NOTE_KEY_MALFORMED");
    for (let i = 1; i < GO_VKEY.length; i++)
      expect(code(() => parseVerifierKey(GO_VKEY.slice(0, i)))).toBe("NOTE_KEY_MALFORMED");
  });

  it("never throws anything but a LatchkeyError on random or mutated notes (fuzz)", () => {
    const v = [verifierOf(GO_VKEY)];
    const valid = new TextEncoder().encode(GO_NOTE + ENOCH_LINE);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
            const m = valid.slice();
            m[i] = b;
            return m;
          }),
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
          fc.string({ maxLength: 200 }).map((s) => s + "\n\n— " + s + "\n"),
        ),
        (input) => {
          for (const fn of [
            () => parseNote(input),
            () => openNote(input, v),
            () => parseCheckpoint(typeof input === "string" ? input : new TextDecoder().decode(input)),
          ]) {
            try {
              fn();
            } catch (e) {
              expect(isLatchkeyError(e)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("encodes and decodes base64 canonically", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const s = encodeBase64(b);
        expect(s).toBe(Buffer.from(b).toString("base64"));
        expect(toHex(decodeBase64(s) as Uint8Array)).toBe(toHex(b));
      }),
    );
    for (const bad of ["A", "AA=", "AB==", "A===", "AA==AA==", "****", "AAA\n", " AAA"])
      expect(decodeBase64(bad)).toBeNull();
  });
});

describe("c2sp.org/tlog-checkpoint", () => {
  const root = Uint8Array.from({ length: 32 }, (_, i) => i);
  const signer = ed25519NoteSigner("hub.example/ledger", new Uint8Array(32).fill(7), ed);

  it("formats the three lines exactly and round-trips extension lines", () => {
    const text = formatCheckpoint({
      origin: "hub.example/ledger",
      size: 20852163,
      rootHash: root,
      extensions: [],
    });
    expect(text).toBe("hub.example/ledger\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
    const withExt = formatCheckpoint({ origin: "o", size: 0, rootHash: root, extensions: ["ext one"] });
    expect(parseCheckpoint(withExt).extensions).toEqual(["ext one"]);
    const note = signCheckpoint(
      { origin: "hub.example/ledger", size: 5, rootHash: root, extensions: [] },
      signer,
    );
    const opened = openCheckpoint(note, "hub.example/ledger", signer.publicKey, ed);
    expect(opened.checkpoint.size).toBe(5);
    expect(toHex(opened.checkpoint.rootHash)).toBe(toHex(root));
  });

  it("parses the spec example's text", () => {
    const cp = parseCheckpoint(
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    );
    expect(cp).toMatchObject({ origin: "example.com/behind-the-sofa", size: 20852163, extensions: [] });
  });

  it("rejects malformed checkpoint text with NOTE_CHECKPOINT_MALFORMED", () => {
    const r = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    for (const bad of [
      `o\n5\n${r}`, // no final newline
      `o\n5\n`, // two lines
      `\n5\n${r}\n`, // empty origin
      `o\n05\n${r}\n`, // leading zero
      `o\n-5\n${r}\n`,
      `o\n5.0\n${r}\n`,
      `o\n99999999999999999999\n${r}\n`,
      `o\n5\nAAEC\n`, // not 32 bytes
      `o\n5\n${r}\n\n`, // empty extension line
    ]) {
      expect(
        code(() => parseCheckpoint(bad)),
        bad,
      ).toBe("NOTE_CHECKPOINT_MALFORMED");
    }
    const other = ed25519NoteSigner("other.example/ledger", new Uint8Array(32).fill(7), ed);
    const note = signCheckpoint(
      { origin: "other.example/ledger", size: 1, rootHash: root, extensions: [] },
      other,
    );
    expect(code(() => openCheckpoint(note, "hub.example/ledger", signer.publicKey, ed))).toBe(
      "NOTE_UNVERIFIED",
    );
  });
});

describe("c2sp.org/tlog-cosignature (cosignature/v1)", () => {
  const text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  const seed = new Uint8Array(32).fill(3);

  it("signs exactly the spec's message layout (checked with node:crypto)", () => {
    expect(new TextDecoder().decode(cosignatureMessage(1679315147, text))).toBe(
      "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    );
    const sig = signCosignature(text, "witness.example.com/w1", seed, 1679315147, ed);
    expect(sig.signature.length).toBe(72);
    // bytes 0..7: big-endian timestamp 1679315147 = 0x641850cb
    expect(toHex(sig.signature.slice(0, 8))).toBe("00000000641850cb");
    const pub = ed.publicKey(seed);
    // key ID: SHA-256(name ‖ "\n" ‖ 0x04 ‖ pub)[:4]
    expect(cosignerOf("witness.example.com/w1", pub).keyId).toBe(sig.keyId);
    const spki = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pub]),
      format: "der",
      type: "spki",
    });
    const msg = Buffer.from(`cosignature/v1\ntime 1679315147\n${text}`);
    expect(nodeVerify(null, msg, spki, sig.signature.slice(8))).toBe(true);
    expect(verifyCosignature(text, sig, cosignerOf("witness.example.com/w1", pub), ed).timestamp).toBe(
      1679315147,
    );
  });

  it("decodes the spec example's timestamp from its signature line", () => {
    const line =
      "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    const note = parseNote(text + "\n" + line);
    expect(decodeCosignature(note.signatures[0]!).timestamp).toBe(1679315147);
  });

  it("rejects a cosignature over another checkpoint, time or key (attack)", () => {
    const pub = ed.publicKey(seed);
    const cosigner = cosignerOf("w", pub);
    const sig = signCosignature(text, "w", seed, 100, ed);
    expect(code(() => verifyCosignature(text.replace("20852163", "20852164"), sig, cosigner, ed))).toBe(
      "NOTE_SIGNATURE_INVALID",
    );
    const later = sig.signature.slice();
    later[7] = 101;
    expect(code(() => verifyCosignature(text, { ...sig, signature: later }, cosigner, ed))).toBe(
      "NOTE_SIGNATURE_INVALID",
    );
    expect(code(() => verifyCosignature(text, sig, cosignerOf("w2", pub), ed))).toBe("NOTE_KEY_MALFORMED");
    expect(
      code(() => verifyCosignature(text, { ...sig, signature: sig.signature.slice(1) }, cosigner, ed)),
    ).toBe("NOTE_COSIGNATURE_MALFORMED");
    const huge = sig.signature.slice();
    huge[0] = 0x80;
    expect(code(() => verifyCosignature(text, { ...sig, signature: huge }, cosigner, ed))).toBe(
      "NOTE_COSIGNATURE_MALFORMED",
    );
  });
});
