/**
 * Lock journal benchmarks: how fast the lock can testify, and how fast a verifier can check it.
 *  - append+sign+fsync (FileJournal) vs raw writeSync+fsyncSync of a same-sized frame;
 *  - append+sign without I/O (MemoryJournal) vs raw node:crypto Ed25519 sign;
 *  - chain verification (decode, signature, seq, link) vs raw node:crypto Ed25519 verify;
 *  - FileJournal open (scan, checksum, verify) of the same chain.
 * Every reference is measured in the same run on the same machine.
 */
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { EventKind, lockEventSigningInput, verifyJournalRecords } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import {
  median,
  rateRounds,
  sampleMicros,
  summarize,
  type BenchResult,
  type BenchSuite,
} from "../../../bench/harness.js";
import { FileJournal, frameJournalRecord } from "../src/journal/file-journal.js";
import type { JournalEntryInput } from "../src/journal/journal.js";
import { MemoryJournal } from "../src/journal/memory-journal.js";

const SEED = new Uint8Array(32).fill(0x6b);
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A typical event: a keypad unlock by user 3 with PIN 1. */
const UNLOCK: JournalEntryInput = {
  kind: EventKind.LockOperation,
  actor: { userIndex: 3, credentialType: "PIN", credentialIndex: 1 },
  details: { operation: "Unlock", source: "Keypad" },
};

const suite: BenchSuite = {
  name: "lock journal",
  run(ctx) {
    const results: BenchResult[] = [];
    const rounds = ctx.quick ? 3 : 7;
    const roundMs = ctx.quick ? 250 : 1000;
    const time = 1_767_225_600_000 as Parameters<MemoryJournal["append"]>[1];

    // --- append + sign + fsync -------------------------------------------------------------
    const fileDir = join(ctx.tmpDir, "file-journal");
    const journal = FileJournal.open({ dir: fileDir, signingSeed: SEED });
    const sample = new MemoryJournal({ signingSeed: SEED });
    sample.append(UNLOCK, time);
    const frameBytes = frameJournalRecord(sample.readRecords(1)[0]!).length;
    const rawPath = join(ctx.tmpDir, "raw.bin");
    const rawFd = openSync(rawPath, "a");
    const rawFrame = new Uint8Array(frameBytes).fill(0x5a);
    const rawAppend = (): void => {
      writeSync(rawFd, rawFrame);
      fsyncSync(rawFd);
    };
    const journalAppend = (): void => {
      journal.append(UNLOCK, time);
    };
    // Interleave the rounds so both see the same disk conditions.
    const appendRates: number[] = [];
    const rawRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      appendRates.push(...rateRounds(journalAppend, 1, 1, roundMs));
      rawRates.push(...rateRounds(rawAppend, 1, 1, roundMs));
    }
    const samples = ctx.quick ? 150 : 1000;
    const appendLatency = summarize(sampleMicros(journalAppend, samples, 10));
    const rawLatency = summarize(sampleMicros(rawAppend, samples, 10));
    closeSync(rawFd);
    journal.close();
    ctx.log(
      `frame ${frameBytes} bytes; journal append ${median(appendRates).toFixed(0)}/s vs raw ${median(rawRates).toFixed(0)}/s`,
    );
    results.push({
      name: `journal append+sign+fsync (FileJournal, ${frameBytes}-byte frame), rate; ratio = journal/raw`,
      unit: "events/s",
      median: median(appendRates),
      p99: null,
      reference: { name: "raw writeSync+fsyncSync, same size", median: median(rawRates), unit: "writes/s" },
      ratio: median(appendRates) / median(rawRates),
    });
    results.push({
      name: "journal append+sign+fsync latency (FileJournal)",
      unit: "µs",
      median: appendLatency.median,
      p99: appendLatency.p99,
      reference: { name: "raw writeSync+fsyncSync latency", median: rawLatency.median, unit: "µs" },
      ratio: appendLatency.median / rawLatency.median,
    });

    // --- append + sign, no I/O --------------------------------------------------------------
    const memory = new MemoryJournal({ signingSeed: SEED });
    const privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, SEED]),
      format: "der",
      type: "pkcs8",
    });
    const message = new Uint8Array(frameBytes);
    const signRates: number[] = [];
    const memoryRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      signRates.push(...rateRounds(() => void sign(null, message, privateKey), 1, 1, roundMs));
      memoryRates.push(...rateRounds(() => void memory.append(UNLOCK, time), 1, 1, roundMs));
    }
    results.push({
      name: "journal append+sign, no I/O (MemoryJournal), rate; ratio = journal/raw sign",
      unit: "events/s",
      median: median(memoryRates),
      p99: null,
      reference: { name: "node:crypto Ed25519 sign", median: median(signRates), unit: "signs/s" },
      ratio: median(memoryRates) / median(signRates),
    });

    // --- verification -----------------------------------------------------------------------
    const count = ctx.quick ? 2_000 : 20_000;
    const chain = new MemoryJournal({ signingSeed: SEED });
    for (let i = 0; i < count; i++) {
      chain.append(
        i % 4 === 0 ? UNLOCK : { kind: EventKind.Heartbeat, details: { battery: 90, lockState: "Locked" } },
        time,
      );
    }
    const records = chain.readRecords(1);
    const publicKey = chain.publicKey;
    const keyObject = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: "der",
      type: "spki",
    });
    // The raw reference verifies exactly what the journal verifier verifies: tag ‖ body, signature.
    const signed = records.map((r) => ({
      input: lockEventSigningInput(r.subarray(0, r.length - 64)),
      signature: r.subarray(r.length - 64),
    }));
    const openDir = join(ctx.tmpDir, "open-journal");
    mkdirSync(openDir, { recursive: true });
    FileJournal.open({ dir: openDir, signingSeed: SEED }).close();
    appendFileSync(join(openDir, "journal.lkj"), Buffer.concat(records.map(frameJournalRecord)));

    const rawVerify = (): void => {
      for (const s of signed)
        if (!verify(null, s.input, keyObject, s.signature)) throw new Error("raw verify failed");
    };
    const journalVerify = (): void => {
      if (!verifyJournalRecords(records, { publicKey, ed25519: nodeEd25519 }).ok)
        throw new Error("chain failed");
    };
    // Open = scan + CRC + decode + verify the same chain from disk.
    const journalOpen = (): void => {
      const opened = FileJournal.open({ dir: openDir, signingSeed: SEED });
      if (opened.nextSeq !== count + 1 || opened.recovery !== null) throw new Error("open failed");
      opened.close();
    };
    // Interleaved, one pass per round, so all three see the same machine load.
    const rawVerifyRates: number[] = [];
    const verifyRates: number[] = [];
    const openRates: number[] = [];
    for (let r = 0; r < (ctx.quick ? 3 : 5); r++) {
      rawVerifyRates.push(...rateRounds(rawVerify, count, 1, 0));
      verifyRates.push(...rateRounds(journalVerify, count, 1, 0));
      openRates.push(...rateRounds(journalOpen, count, 1, 0));
    }
    results.push({
      name: `journal verification, ${count.toLocaleString("en")} events (decode+hash+signature+seq+link); ratio = journal/raw`,
      unit: "events/s",
      median: median(verifyRates),
      p99: null,
      reference: { name: "node:crypto Ed25519 verify", median: median(rawVerifyRates), unit: "verifies/s" },
      ratio: median(verifyRates) / median(rawVerifyRates),
    });
    results.push({
      name: `journal open (scan+CRC+verify), ${count.toLocaleString("en")} events; ratio = open/raw verify`,
      unit: "events/s",
      median: median(openRates),
      p99: null,
      reference: { name: "node:crypto Ed25519 verify", median: median(rawVerifyRates), unit: "verifies/s" },
      ratio: median(openRates) / median(rawVerifyRates),
    });
    return Promise.resolve(results);
  },
};

export default suite;
