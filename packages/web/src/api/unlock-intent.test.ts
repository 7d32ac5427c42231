/**
 * The page's half of "what the approver saw is what the lock records": the challenge it has the
 * passkey sign (WebCrypto) equals the one the lock rebuilds (protocol, @noble/hashes), and the
 * snapshot it hashes is the one its image shows.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fromHex, remoteUnlockChallenge } from "@latchkey/protocol";
import { shownSnapshot, snapshotSha256, unlockChallenge } from "./unlock-intent.js";

const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from("doorstep"),
]);
const request = { id: "9a".repeat(16), lockId: "d0".repeat(16) };

describe("approving an unlock request in the browser", () => {
  it("hashes the displayed snapshot bytes and signs the same challenge the lock rebuilds", async () => {
    const shown = shownSnapshot(`data:image/png;base64,${png.toString("base64")}`);
    expect(shown?.type).toBe("image/png");
    expect(Buffer.from(shown?.bytes ?? [])).toEqual(png);
    // The image element is drawn from the hashed bytes themselves.
    expect(shown?.url).toBe(`data:image/png;base64,${png.toString("base64")}`);
    const hash = await snapshotSha256(shown);
    expect(Buffer.from(hash).toString("hex")).toBe(createHash("sha256").update(png).digest("hex"));

    const nonce = new Uint8Array(32).fill(0x11);
    const challenge = await unlockChallenge(nonce, request, hash);
    expect(challenge).toEqual(
      remoteUnlockChallenge({
        nonce,
        proposalId: fromHex(request.id),
        snapshotHash: hash,
        doorId: fromHex(request.lockId),
      }),
    );
  });

  it("uses 32 zero bytes when there is no snapshot, and a different challenge for another picture", async () => {
    expect(await snapshotSha256(null)).toEqual(new Uint8Array(32));
    const nonce = new Uint8Array(32).fill(0x11);
    const none = await unlockChallenge(nonce, request, await snapshotSha256(null));
    const other = shownSnapshot(
      `data:image/png;base64,${Buffer.concat([png, Buffer.of(0)]).toString("base64")}`,
    );
    const withOther = await unlockChallenge(nonce, request, await snapshotSha256(other));
    expect(none).not.toEqual(withOther);
  });

  it("reads only base64 image data: URLs", () => {
    for (const url of [
      "data:text/html;base64,PGI+",
      "https://example.com/cam.jpg",
      "data:image/png;base64,%%%",
      "data:image/png;base64,A",
    ])
      expect(shownSnapshot(url), url).toBeNull();
  });
});
