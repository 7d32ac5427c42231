/**
 * The transparency-dev/merkle test vectors (Apache-2.0, /work/shared/vectors/merkle): every
 * inclusion, consistency, subtree-inclusion and subtree-consistency probe, valid and invalid.
 * Plus the accumulated generation vectors of draft-ietf-plants-merkle-tree-certs ("Subtree Test
 * Vectors" appendix, as reproduced in transparency-dev/merkle testonly/vectors_test.go), which
 * pin our proof *generation* byte for byte for every subtree of trees up to 130 leaves.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/error.js";
import { toHex } from "../encoding/bytes.js";
import { sha256MerkleHasher as H } from "./hasher.js";
import { isValidSubtree } from "./plan.js";
import { MemoryMerkleTree } from "./tree.js";
import {
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from "./verify.js";

// CI checks out shared/ beside the repository, exactly as on the development machine.
const VECTORS = fileURLToPath(new URL("../../../../../shared/vectors/merkle/", import.meta.url));

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (name.endsWith(".json")) out.push(p);
  }
  return out;
}

interface Probe {
  [k: string]: unknown;
  desc: string;
  wantErr: boolean;
}

function load(path: string): Probe {
  // Some sizes exceed 2^53: keep them exact as strings; Number() of them is then out of range
  // and our API rejects it, as it must.
  const text = readFileSync(path, "utf8").replace(/:\s*(\d{16,})/g, ': "$1"');
  return JSON.parse(text) as Probe;
}

const num = (v: unknown): number => Number(v);
const b64 = (v: unknown): Uint8Array => new Uint8Array(Buffer.from((v as string | null) ?? "", "base64"));
const proofOf = (v: unknown): Uint8Array[] => ((v as string[] | null) ?? []).map(b64);

const RUNNERS: Record<string, (p: Probe) => void> = {
  inclusion: (p) =>
    verifyInclusion(H, num(p.leafIdx), num(p.treeSize), b64(p.leafHash), proofOf(p.proof), b64(p.root)),
  consistency: (p) =>
    verifyConsistency(H, num(p.size1), num(p.size2), proofOf(p.proof), b64(p.root1), b64(p.root2)),
  subtreeinclusion: (p) =>
    verifySubtreeInclusion(
      H,
      num(p.leafIdx),
      num(p.start),
      num(p.end),
      b64(p.leafHash),
      proofOf(p.proof),
      b64(p.root),
    ),
  subtreeconsistency: (p) =>
    verifySubtreeConsistency(
      H,
      num(p.start),
      num(p.end),
      num(p.size),
      proofOf(p.proof),
      b64(p.root1),
      b64(p.root2),
    ),
};

describe("merkle test vectors (transparency-dev/merkle)", () => {
  it("passes every probe in inclusion, consistency, subtreeinclusion and subtreeconsistency", () => {
    let run = 0;
    let passed = 0;
    const failures: string[] = [];
    for (const [folder, runner] of Object.entries(RUNNERS)) {
      const files = jsonFiles(join(VECTORS, folder));
      expect(files.length, folder).toBeGreaterThan(10);
      for (const file of files) {
        const probe = load(file);
        run++;
        let error: unknown = null;
        try {
          runner(probe);
        } catch (e) {
          error = e;
        }
        if (error !== null && !isLatchkeyError(error))
          failures.push(
            `${file}: threw a non-LatchkeyError ${error instanceof Error ? error.message : typeof error}`,
          );
        else if (probe.wantErr === (error !== null)) passed++;
        else failures.push(`${file} (${probe.desc}): wantErr=${probe.wantErr}, got ${String(error)}`);
      }
    }
    console.log(`merkle vectors: ${run} run, ${passed} passed`);
    expect(failures).toEqual([]);
    expect(passed).toBe(run);
    expect(run).toBeGreaterThan(500);
  });
});

describe("subtree generation vectors (draft-ietf-plants-merkle-tree-certs appendix)", () => {
  const MAX = 130;
  const tree = new MemoryMerkleTree(H);
  for (let i = 0; i < MAX; i++) tree.appendData(Uint8Array.of(i));
  const proofLine = (prefix: string, proof: Uint8Array[]): string =>
    prefix + proof.map((h) => " " + toHex(h)).join("") + "\n";

  it("subtree hashes", () => {
    const h = createHash("sha256");
    for (let end = 0; end <= MAX; end++)
      for (let start = 0; start <= end; start++)
        if (isValidSubtree(start, end))
          h.update(`[${start}, ${end}) ${toHex(tree.subtreeHash(start, end))}\n`);
    expect(h.digest("hex")).toBe("b82806ad4265bb151c1119c0f4db437bb4d1a1f887b3a7fba1cd4ebf552e3e81");
  });

  it("subtree inclusion proofs", () => {
    const h = createHash("sha256");
    for (let end = 0; end <= MAX; end++)
      for (let start = 0; start <= end; start++) {
        if (!isValidSubtree(start, end)) continue;
        for (let index = start; index < end; index++)
          h.update(proofLine(`${index} [${start}, ${end})`, tree.subtreeInclusionProof(index, start, end)));
      }
    expect(h.digest("hex")).toBe("ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f");
  });

  it("subtree consistency proofs", () => {
    const h = createHash("sha256");
    for (let n = 0; n <= MAX; n++)
      for (let end = 0; end <= n; end++)
        for (let start = 0; start <= end; start++) {
          if (!isValidSubtree(start, end)) continue;
          h.update(proofLine(`[${start}, ${end}) ${n}`, tree.subtreeConsistencyProof(start, end, n)));
        }
    expect(h.digest("hex")).toBe("10fa99b37bf9bf9ffa26b412fbd98bd75363256d0b75d61bc4538b9c9c5a0a74");
  });
});
