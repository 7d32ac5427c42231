/**
 * Crash-safe file replacement: write a temporary file, fsync it, rename over the target, fsync
 * the directory. After a crash the target holds either the old or the new content, never a mix.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join, basename } from "node:path";

export function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
