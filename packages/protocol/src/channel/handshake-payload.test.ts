import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/index.js";
import { HandshakePayload } from "./handshake-payload.js";

const GOLDEN_HELLO =
  "02" + // record version 2
  "01" + // kind: hello
  "0100" + // largest accepted frame: 256 bytes
  "0b" + // app protocol length 11
  "6c6b2f6875622d6c6f636b" + // "lk/hub-lock"
  "0000019aa0b1c2d3"; // handshake counter 1,763,632,595,667 (a wall-clock ms)
const GOLDEN_RESPONDER =
  "02" + // record version 2
  "02" + // kind: responder hello
  "ffff" + // largest accepted frame: 65535
  "0003" + // identity proof length 3
  "aabbcc"; // identity proof
const GOLDEN_FINISH =
  "02" + // record version 2
  "03" + // kind: finish
  "0000"; // no identity proof

function decodeCode(hex: string): string {
  try {
    HandshakePayload.decode(fromHex(hex));
    return "accepted";
  } catch (e) {
    return isLatchkeyError(e) ? e.code : String(e);
  }
}

describe("HandshakePayload", () => {
  it("matches the golden encodings", () => {
    const hello = {
      kind: "hello",
      maxFrameBytes: 256,
      appProtocol: "lk/hub-lock",
      handshakeCounter: 0x19aa0b1c2d3,
    } as const;
    expect(toHex(HandshakePayload.encode(hello))).toBe(GOLDEN_HELLO);
    expect(HandshakePayload.decode(fromHex(GOLDEN_HELLO))).toEqual(hello);
    const responder = {
      kind: "responder-hello",
      maxFrameBytes: 65535,
      identityProof: fromHex("aabbcc"),
    } as const;
    expect(toHex(HandshakePayload.encode(responder))).toBe(GOLDEN_RESPONDER);
    expect(HandshakePayload.decode(fromHex(GOLDEN_RESPONDER))).toEqual(responder);
    expect(HandshakePayload.decode(fromHex(GOLDEN_FINISH))).toEqual({
      kind: "finish",
      identityProof: new Uint8Array(0),
    });
  });

  it("refuses anything but the three fixed records", () => {
    expect(decodeCode("")).toBe("LK_DECODE_TRUNCATED");
    expect(decodeCode("0301")).toBe("NOISE_HELLO_INVALID"); // version
    // Version 1 (a hello without a handshake counter) is refused: it could be replayed forever.
    expect(decodeCode("0101" + GOLDEN_HELLO.slice(4, -16))).toBe("NOISE_HELLO_INVALID");
    expect(decodeCode("0204")).toBe("NOISE_HELLO_INVALID"); // kind
    expect(decodeCode("0201007f0161" + "00".repeat(8))).toBe("NOISE_HELLO_INVALID"); // frame limit below 128
    expect(decodeCode("020101000141" + "00".repeat(8))).toBe("NOISE_HELLO_INVALID"); // upper-case app protocol
    expect(decodeCode("0201010000" + "00".repeat(8))).toBe("NOISE_HELLO_INVALID"); // empty app protocol
    expect(decodeCode(GOLDEN_HELLO.slice(0, -2))).toBe("LK_DECODE_TRUNCATED"); // counter cut short
    expect(decodeCode(GOLDEN_HELLO.slice(0, -16) + "ff".repeat(8))).toBe("LK_DECODE_INVALID"); // > 2^53-1
    expect(decodeCode(GOLDEN_HELLO + "00")).toBe("LK_DECODE_TRAILING");
    expect(decodeCode("02030801" + "00".repeat(2049))).toBe("LK_DECODE_INVALID"); // proof > 2048
    expect(decodeCode("0203")).toBe("LK_DECODE_TRUNCATED");
  });

  it("fuzz: never throws anything but a LatchkeyError", () => {
    const seeds = [GOLDEN_HELLO, GOLDEN_RESPONDER, GOLDEN_FINISH].map(fromHex);
    const check = (b: Uint8Array): void => {
      try {
        const p = HandshakePayload.decode(b);
        expect(toHex(HandshakePayload.encode(p))).toBe(toHex(b));
      } catch (e) {
        if (!isLatchkeyError(e)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), check), { numRuns: 1000 });
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.nat({ max: 20 }),
        (seed, edits, cut) => {
          const b = seed.slice(0, Math.max(0, seed.length - (cut % (seed.length + 1))));
          for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
          check(b);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
