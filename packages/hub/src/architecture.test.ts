/**
 * The hub's layering, checked on every test run. Folders form layers: the foundation (db, config,
 * keys, ledger, runtime, …) below the domain modules (sites, credentials, grants, locks, sync, …),
 * which own their rules and know nothing of HTTP; above them api/ (the routes) and, at the top,
 * the composition (server/, cli/) and the test harness (testing/). So:
 *  - no two folders import each other, directly or round a loop (type-only imports count too);
 *  - only api/, server/, cli/ and testing/ import fastify or api/ and server/.
 * Test files (`*.test.ts`) are left out: a test may use the harness above its folder. Test
 * support files are ordinary files and obey the same rules.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));
/** Folders that may speak HTTP: the routes, the composition and the test harness. */
const HTTP_SIDE = new Set(["api", "server", "cli", "testing"]);

interface Import {
  readonly file: string;
  readonly specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    const isSource = entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts");
    return isSource && !entry.name.includes(".test.") ? [path] : [];
  });
}

/** Every module a file imports or re-exports, static or dynamic, type-only or not. */
function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles.map((f) => ({ file, specifier: f.fileName }));
}

/** The top-level folder of a path under src/, or null for a file at the root (index.ts). */
function folderOf(path: string): string | null {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? (parts[0] ?? null) : null;
}

/** The folder an import lands in, when it is a relative import inside src/. */
function targetFolder(imp: Import): string | null {
  if (!imp.specifier.startsWith(".")) return null;
  const target = resolve(dirname(imp.file), imp.specifier);
  return target.startsWith(SRC + sep) ? folderOf(target) : null;
}

/** Folder → folders it imports, with one file-level example of each edge (for the message). */
function folderGraph(files: readonly string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    const from = folderOf(file);
    if (from === null) continue;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const imp of importsOf(file)) {
      const to = targetFolder(imp);
      if (to !== null && to !== from && !edges.has(to))
        edges.set(to, `${relative(SRC, file)} imports ${imp.specifier}`);
    }
  }
  return graph;
}

/** The strongly connected components of more than one node (Tarjan), each sorted. */
export function cyclesOf(graph: ReadonlyMap<string, Iterable<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe("hub architecture", () => {
  const files = sourceFiles(SRC);

  it("finds a cycle when there is one (the check itself)", () => {
    const graph = new Map([
      ["db", []],
      ["locks", ["db", "sync"]],
      ["sync", ["db", "approvals"]],
      ["approvals", ["locks"]],
      ["api", ["locks"]],
    ]);
    expect(cyclesOf(graph)).toEqual([["approvals", "locks", "sync"]]);
    expect(
      cyclesOf(
        new Map([
          ["api", ["locks"]],
          ["locks", ["db"]],
        ]),
      ),
    ).toEqual([]);
  });

  it("has no import cycle between folders", () => {
    expect(files.length).toBeGreaterThan(100);
    const graph = folderGraph(files);
    const named = (folders: readonly string[]): string =>
      folders
        .flatMap((a) => folders.map((b) => graph.get(a)?.get(b)))
        .filter((why): why is string => why !== undefined)
        .join("\n  ");
    const cycles = cyclesOf(new Map([...graph].map(([from, edges]) => [from, [...edges.keys()]])));
    expect(cycles.map((c) => `cycle: ${c.join(" ")}\n  ${named(c)}`)).toEqual([]);
  });

  it("keeps HTTP out of the domain: only api/, server/, cli/ and testing/ import fastify, api/ or server/", () => {
    const offences = files.flatMap((file) => {
      const from = folderOf(file);
      if (from === null || HTTP_SIDE.has(from)) return [];
      return importsOf(file)
        .filter((imp) => {
          const to = targetFolder(imp);
          const fastify = imp.specifier === "fastify" || imp.specifier.startsWith("@fastify/");
          return fastify || to === "api" || to === "server";
        })
        .map((imp) => `${relative(SRC, file)} imports ${imp.specifier}`);
    });
    expect(offences).toEqual([]);
  });
});
