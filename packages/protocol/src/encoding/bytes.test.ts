import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/error.js";
import { ByteReader, ByteWriter, equalBytes, fromHex, toHex } from "./bytes.js";

describe("ByteReader/ByteWriter", () => {
  it("round-trips every field type", () => {
    const bytes = new ByteWriter()
      .u8(0xab)
      .u16(0x0102)
      .u32(0xdeadbeef)
      .u64(2n ** 53n - 1n)
      .bytesVar16(Uint8Array.of(1, 2, 3))
      .utf8Var16("Haustür")
      .finish();
    const r = new ByteReader(bytes, "test record");
    expect(r.u8("a")).toBe(0xab);
    expect(r.u16("b")).toBe(0x0102);
    expect(r.u32("c")).toBe(0xdeadbeef);
    expect(r.u64Number("d")).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.bytesVar16("e")).toEqual(Uint8Array.of(1, 2, 3));
    expect(r.utf8Var16("f")).toBe("Haustür");
    r.end();
  });

  it("names the field when input is truncated", () => {
    const r = new ByteReader(Uint8Array.of(0, 5, 1), "test record");
    try {
      r.bytesVar16("payload");
      expect.unreachable();
    } catch (e) {
      expect(isLatchkeyError(e, "LK_DECODE_TRUNCATED")).toBe(true);
      expect((e as Error).message).toContain("payload");
    }
  });

  it("rejects trailing bytes, oversize fields, bad UTF-8 and unsafe integers", () => {
    const trailing = new ByteReader(Uint8Array.of(1, 2), "r");
    trailing.u8("x");
    expect(() => trailing.end()).toThrow(/unexpected bytes/);
    expect(() => new ByteReader(Uint8Array.of(0, 3, 1, 2, 3), "r").bytesVar16("f", 2)).toThrow(/at most 2/);
    expect(() => new ByteReader(Uint8Array.of(0, 1, 0xff), "r").utf8Var16("s")).toThrow(/UTF-8/);
    expect(() => new ByteReader(new Uint8Array(8).fill(0xff), "r").u64Number("n")).toThrow(/2\^53/);
  });

  it("never throws anything but a LatchkeyError on random input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (input) => {
        const r = new ByteReader(input, "fuzz");
        try {
          r.u8("a");
          r.bytesVar16("b", 16);
          r.utf8Var16("c", 16);
          r.u64Number("d");
          r.end();
        } catch (e) {
          if (!isLatchkeyError(e)) throw e;
        }
      }),
    );
  });

  it("converts hex strictly and compares in constant time", () => {
    expect(toHex(fromHex("00ff10"))).toBe("00ff10");
    expect(() => fromHex("abc")).toThrow();
    expect(() => fromHex("zz")).toThrow();
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
  });
});
