import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/index.js";
import { ChannelFrame, transportHeader, type ChannelFrame as FrameT } from "./frame.js";

const GOLDEN_DATA =
  "01" + // version 1
  "02" + // type: data
  "a1b2c3d4" + // session tag
  "00000003" + // key epoch 3
  "0000000000000102" + // counter 258
  "00112233445566778899aabbccddeeff" + // 16-byte AEAD tag (empty payload)
  "";
const GOLDEN_HANDSHAKE =
  "01" + // version 1
  "01" + // type: handshake
  "02" + // pattern IK
  "01" + // cipher ChaChaPoly
  "00" + // handshake message index 0
  "cafe"; // the Noise message (opaque here)

function neverThrowsOtherThanLatchkeyError(bytes: Uint8Array): void {
  try {
    const f = ChannelFrame.decode(bytes);
    // Whatever decodes re-encodes to the same bytes (one encoding per frame).
    expect(toHex(ChannelFrame.encode(f))).toBe(toHex(bytes));
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
  }
}

describe("ChannelFrame", () => {
  it("decodes and encodes the golden data frame", () => {
    const f = ChannelFrame.decode(fromHex(GOLDEN_DATA));
    expect(f).toEqual({
      type: "data",
      sessionTag: 0xa1b2c3d4,
      epoch: 3,
      counter: 258,
      ciphertext: fromHex("00112233445566778899aabbccddeeff"),
    });
    expect(toHex(ChannelFrame.encode(f))).toBe(GOLDEN_DATA);
    if (f.type === "handshake") throw new Error("expected data");
    expect(toHex(transportHeader(f))).toBe(GOLDEN_DATA.slice(0, 36));
  });

  it("decodes and encodes the golden handshake frame", () => {
    const f = ChannelFrame.decode(fromHex(GOLDEN_HANDSHAKE));
    expect(f).toEqual({
      type: "handshake",
      pattern: "IK",
      cipher: "ChaChaPoly",
      index: 0,
      message: fromHex("cafe"),
    });
    expect(toHex(ChannelFrame.encode(f))).toBe(GOLDEN_HANDSHAKE);
  });

  it("refuses malformed frames with stable codes", () => {
    const cases: [string, string][] = [
      ["", "LK_DECODE_TRUNCATED"],
      ["02", "NOISE_FRAME_UNSUPPORTED"],
      ["0104", "NOISE_FRAME_UNSUPPORTED"],
      ["01010401", "NOISE_FRAME_UNSUPPORTED"],
      ["01010103", "NOISE_FRAME_UNSUPPORTED"],
      ["0101010103", "LK_DECODE_INVALID"],
      [GOLDEN_DATA.slice(0, -2), "LK_DECODE_TRUNCATED"],
      ["0102a1b2c3d400000003ff00000000000102" + "00".repeat(16), "LK_DECODE_INVALID"],
    ];
    for (const [hex, code] of cases) {
      let got = "accepted";
      try {
        ChannelFrame.decode(fromHex(hex));
      } catch (e) {
        got = isLatchkeyError(e) ? e.code : String(e);
      }
      expect(got, hex).toBe(code);
    }
    let big = "accepted";
    try {
      ChannelFrame.decode(new Uint8Array(65536));
    } catch (e) {
      big = isLatchkeyError(e) ? e.code : String(e);
    }
    expect(big).toBe("NOISE_FRAME_TOO_LARGE");
  });

  it("round-trips every valid frame", () => {
    const arb: fc.Arbitrary<FrameT> = fc.oneof(
      fc.record({
        type: fc.constant("handshake" as const),
        pattern: fc.constantFrom("XX" as const, "IK" as const, "KK" as const),
        cipher: fc.constantFrom("ChaChaPoly" as const, "AESGCM" as const),
        index: fc.integer({ min: 0, max: 2 }),
        message: fc.uint8Array({ maxLength: 200 }),
      }),
      fc.record({
        type: fc.constantFrom("data" as const, "close" as const),
        sessionTag: fc.integer({ min: 0, max: 0xffffffff }),
        epoch: fc.integer({ min: 0, max: 0xffffffff }),
        counter: fc.maxSafeNat(),
        ciphertext: fc.uint8Array({ minLength: 16, maxLength: 200 }),
      }),
    );
    fc.assert(
      fc.property(arb, (f) => {
        expect(ChannelFrame.decode(ChannelFrame.encode(f))).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it("fuzz: random bytes never throw anything but a LatchkeyError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), neverThrowsOtherThanLatchkeyError), {
      numRuns: 2000,
    });
    // Bias towards plausible headers.
    const plausible = fc
      .tuple(fc.constantFrom(1, 2), fc.constantFrom(0, 1, 2, 3, 4), fc.uint8Array({ maxLength: 60 }))
      .map(([v, t, rest]) => Uint8Array.of(v, t, ...rest));
    fc.assert(fc.property(plausible, neverThrowsOtherThanLatchkeyError), { numRuns: 2000 });
  });

  it("fuzz: mutated valid frames never throw anything but a LatchkeyError", () => {
    const seeds = [fromHex(GOLDEN_DATA), fromHex(GOLDEN_HANDSHAKE)];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat({ max: 40 }),
        (seed, edits, cut) => {
          const b = seed.slice(0, Math.max(0, seed.length - (cut % (seed.length + 1))));
          for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
          neverThrowsOtherThanLatchkeyError(b);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
