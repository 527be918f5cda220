// The fast path for large files: every chunk's place in the file follows from the chunk size and the
// file size alone (FORMAT.md, "Random access"), so batches of chunks are independent jobs with known
// input and output offsets. The worker threads read, seal or open, and write their batches themselves
// (pread/pwritev on the caller's descriptors); the main thread keeps a few batches in flight per worker
// and takes results in order. Memory is bounded by the batches in flight, whatever the file size.
//
// The fast path never decides what is wrong with a damaged file. When a batch does not look exactly as
// an intact file's would (a frame kind, a length, a tag, a short read), it stops with ParallelMiss and
// the caller re-reads with the sequential decoder (payload.ts), which reports the precise error in the
// order the format prescribes.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { writeAll } from './atomic';
import { CHUNK_FRAME_OVERHEAD, FINAL_FRAME_OVERHEAD, MAX_CHUNKS } from './constants';
import type { FileKeys } from './derive';
import { NoteSealError } from './errors';
import type { ParsedHeader } from './header';
import { framesPerBatch, localChunkCipher, type ChunkJob } from './payload';
import type { PoolJob, PoolResult } from './pool';

/** Runs one job: on the worker pool, or (small inputs) in this thread; jobs with the same `pin` run on the same thread, in order. */
export type JobRunner = (job: PoolJob, pin?: number) => Promise<PoolResult>;

/** The fast path could not vouch for this batch; re-read sequentially for the exact error. */
export class ParallelMiss extends Error {
  override readonly name = 'ParallelMiss';
}

/** Batches in flight per worker: one being processed, more queued so no worker waits between jobs. */
export const IN_FLIGHT_PER_WORKER = 3;

export interface PayloadLayout {
  chunkSize: number;
  headerLength: number;
  /** Index of the final chunk (= number of full chunks). */
  finalIndex: number;
  finalLength: number;
  batchChunks: number;
  batches: number;
}

/** The frame layout an intact file of this size has; null if no intact file has this size. */
export function payloadLayout(header: Pick<ParsedHeader, 'chunkSize' | 'headerLength'> & { logMode?: boolean }, size: number): PayloadLayout | null {
  if (header.logMode) return null; // a log's partial frames: where a chunk starts only a sequential read knows
  const C = header.chunkSize;
  const frame = C + CHUNK_FRAME_OVERHEAD;
  const payload = size - header.headerLength;
  if (payload < FINAL_FRAME_OVERHEAD) return null;
  const finalIndex = Math.floor((payload - FINAL_FRAME_OVERHEAD) / frame);
  const finalLength = payload - finalIndex * frame - FINAL_FRAME_OVERHEAD;
  if (finalLength >= C || finalIndex >= MAX_CHUNKS) return null;
  const batchChunks = framesPerBatch(C);
  return { chunkSize: C, headerLength: header.headerLength, finalIndex, finalLength, batchChunks, batches: Math.ceil((finalIndex + 1) / batchChunks) };
}

/** The plaintext layout of `size` bytes: full chunks, then the final one. */
export function plaintextLayout(chunkSize: number, size: number, headerLength: number): PayloadLayout {
  const finalIndex = Math.floor(size / chunkSize);
  const batchChunks = framesPerBatch(chunkSize);
  return { chunkSize, headerLength, finalIndex, finalLength: size - finalIndex * chunkSize, batchChunks, batches: Math.ceil((finalIndex + 1) / batchChunks) };
}

interface BatchRange { first: number; count: number; final: boolean; framesAt: number; framesLength: number; plainAt: number; plainLength: number }

export function batchRange(l: PayloadLayout, b: number): BatchRange {
  const first = b * l.batchChunks;
  const count = Math.min(l.batchChunks, l.finalIndex + 1 - first);
  const final = first + count === l.finalIndex + 1;
  const full = final ? count - 1 : count;
  const frame = l.chunkSize + CHUNK_FRAME_OVERHEAD;
  return {
    first, count, final,
    framesAt: l.headerLength + first * frame,
    framesLength: full * frame + (final ? FINAL_FRAME_OVERHEAD + l.finalLength : 0),
    plainAt: first * l.chunkSize,
    plainLength: full * l.chunkSize + (final ? l.finalLength : 0),
  };
}

/**
 * Starts jobs `from`..`total-1` with at most `depth` in flight and yields their results in order. On
 * exit (done, error, or the consumer stopping) it waits for every job still running: a worker must not
 * outlive the descriptors it writes to. Results never taken are handed to `drop`.
 */
export async function* ordered<T>(from: number, total: number, depth: number, start: (i: number) => Promise<T>, drop: (r: T) => void): AsyncGenerator<T> {
  const inFlight: Promise<T>[] = [];
  let next = from;
  const launch = () => {
    const p = start(next++);
    p.catch(() => undefined); // observed when its turn comes, or in the finally below
    inFlight.push(p);
  };
  try {
    while (next < total && inFlight.length < depth) launch();
    while (inFlight.length) {
      const r = await inFlight.shift()!;
      if (next < total) launch();
      yield r;
    }
  } finally {
    for (const s of await Promise.allSettled(inFlight)) if (s.status === 'fulfilled') drop(s.value);
  }
}

function wipe(r: PoolResult): void {
  for (const p of r.pieces ?? []) p.fill(0);
}

export interface OpenedBatch { first: number; plaintext: Buffer[]; plainLength: number }

/**
 * Where opened plaintext goes besides being returned: a file descriptor, or one buffer shared with the
 * workers, at each batch's plaintext offset or, with `slotOf`, at the offset it gives for batch b.
 */
export type OpenOutput = { fd: number } | { shared: SharedArrayBuffer; slotOf?: (b: number) => number };

/**
 * Opens batches `from`.. of an intact-looking file. `mode(b)` says what becomes of batch b's plaintext:
 * returned, written to `output` at its plaintext offset (a file, or a shared buffer), or dropped
 * (verification). Throws ParallelMiss at the first batch that is not exactly as an intact file's; a
 * shared buffer may then hold some plaintext, which the caller wipes.
 */
export async function* openParallel(
  run: JobRunner, depth: number, fd: number, keys: FileKeys, l: PayloadLayout, from: number,
  mode: (b: number) => 'return' | 'write' | 'none', output?: OpenOutput,
): AsyncGenerator<OpenedBatch> {
  const out = (b: number) => { const m = mode(b); return m === 'write' && output && 'shared' in output ? 'shared' as const : m; };
  const start = async (b: number) => {
    const r = batchRange(l, b);
    const res = await run({
      op: 'open', key: keys.payloadKey, aad: keys.chunkAad, chunkSize: l.chunkSize, counter: r.first, count: r.count,
      finalLength: r.final ? l.finalLength : -1, inFd: fd, inPosition: r.framesAt, inLength: r.framesLength,
      out: out(b), outFd: output && 'fd' in output ? output.fd : undefined,
      outShared: output && 'shared' in output ? output.shared : undefined,
      outPosition: output && 'shared' in output && output.slotOf ? output.slotOf(b) : r.plainAt,
    });
    return { r, res };
  };
  for await (const { r, res } of ordered(from, l.batches, depth, start, x => wipe(x.res))) {
    if (res.short || res.failedAt >= 0) { wipe(res); throw new ParallelMiss('batch did not authenticate as laid out'); }
    yield { first: r.first, plaintext: res.pieces ?? [], plainLength: r.plainLength };
  }
}

/**
 * Seals `l` (a plaintext layout) read from `srcFd` into `dstFd` at the frame offsets; false on a short read.
 * `written` hears of each batch once it is in the file, in file order, with its place (a signed write hashes
 * the payload there, on this thread, while the workers seal the next batches).
 */
export async function sealFileParallel(run: JobRunner, depth: number, srcFd: number, dstFd: number, keys: FileKeys, l: PayloadLayout, written?: (bytes: number, at: number) => void): Promise<boolean> {
  const start = async (b: number) => {
    const r = batchRange(l, b);
    return run({
      op: 'seal', key: keys.payloadKey, aad: keys.chunkAad, chunkSize: l.chunkSize, counter: r.first, count: r.count,
      finalLength: r.final ? l.finalLength : -1, inFd: srcFd, inPosition: r.plainAt, inLength: r.plainLength,
      out: 'write', outFd: dstFd, outPosition: r.framesAt,
    });
  };
  let b = 0;
  for await (const res of ordered(0, l.batches, depth, start, () => undefined)) {
    if (res.short) return false;
    const r = batchRange(l, b++);
    written?.(r.framesLength, r.framesAt);
  }
  return true;
}

const ZEROS = new Uint8Array(256 * 1024);

/** Wipes a view of shared memory (fill there takes about 14 times as long as a copy from zeros: the worker's wipeShared). */
function wipeShared(view: Uint8Array): void {
  for (let at = 0; at < view.length; at += ZEROS.length) view.set(at + ZEROS.length <= view.length ? ZEROS : ZEROS.subarray(0, view.length - at), at);
}

/** Runs a stream's seal jobs: in this thread, or on the pool (with `pin`, always on the same thread). */
export interface StreamRunner { run: JobRunner; depth: number }

/** Batches a stream holds before it chooses between this thread and the pool, if the pool's threshold is higher. */
const MAX_HELD_BATCHES = 8;

let nextHashId = 0;

/**
 * Seals a stream of unknown length into `dstFd` at the frame offsets, as sealFileParallel seals a file: each
 * piece is copied into the batch being filled (a buffer shared with the threads), each full batch is one
 * seal job whose frames its runner writes itself, and the rest ends as a last job with the final chunk.
 * With a pool, the first batches are held until the input reaches its threshold (`pooled` gives the pool) or
 * ends (this thread: a small stream starts no threads). With `hashing`, the runner hashes the frames as it seals
 * them (SHA-256, in order: every job on one thread) and the last job returns the digest, so this thread,
 * busy reading the stream, neither hashes nor reads the frames back. Every piece is copied before the next
 * is asked for, so a source may reuse its buffers. Memory: the batches in flight, whatever the length.
 * `written` hears of each batch once it is in the file, in order.
 */
export async function sealStream(input: AsyncIterable<Uint8Array>, dstFd: number, keys: FileKeys, chunkSize: number, headerLength: number,
  how: { pooled?: (bytesSeen: number) => StreamRunner | undefined; local: StreamRunner; hashing: boolean; written?: (bytes: number) => void }): Promise<{ plaintextBytes: number; digest?: Buffer }> {
  const C = chunkSize;
  const frame = C + CHUNK_FRAME_OVERHEAD;
  const batchChunks = framesPerBatch(C);
  const batchBytes = batchChunks * C;
  const hashId = how.hashing ? nextHashId++ : undefined;
  const slots: SharedArrayBuffer[] = []; // every batch buffer made, for the wipe on failure
  const idle: Uint8Array<SharedArrayBuffer>[] = [];
  const held: Uint8Array<SharedArrayBuffer>[] = []; // full batches not yet launched (no runner chosen yet)
  const inFlight: { done: Promise<PoolResult>; slot: Uint8Array<SharedArrayBuffer>; length: number }[] = [];
  const newSlot = () => { const s = new SharedArrayBuffer(batchBytes); slots.push(s); return new Uint8Array(s); };
  let runner: StreamRunner | undefined = how.pooled ? undefined : how.local; // no pool: nothing to wait for
  let slot = newSlot();
  let filled = 0;
  let first = 0; // the first chunk of the next batch launched
  let total = 0;
  let digest: Buffer | undefined;
  let ok = false;
  const launch = (batch: Uint8Array<SharedArrayBuffer>, bytes: number, final: boolean) => {
    const full = final ? Math.floor(bytes / C) : batchChunks;
    const count = final ? full + 1 : full;
    if (first + count > MAX_CHUNKS) throw new NoteSealError('LIMIT_EXCEEDED', 'the file has more chunks than the format allows');
    const finalLength = final ? bytes - full * C : -1;
    const done = runner!.run({
      op: 'seal', key: keys.payloadKey, aad: keys.chunkAad, chunkSize: C, counter: first, count, finalLength,
      data: batch.buffer, inLength: bytes, out: 'write', outFd: dstFd, outPosition: headerLength + first * frame,
      ...(hashId !== undefined ? { hashId, digest: final } : {}),
    }, hashId);
    done.catch(() => undefined); // observed in turn below, or in the finally
    inFlight.push({ done, slot: batch, length: full * frame + (final ? FINAL_FRAME_OVERHEAD + finalLength : 0) });
    first += full;
  };
  const settleOldest = async () => {
    const job = inFlight.shift()!;
    const r = await job.done;
    if (r.short || r.failedAt >= 0) throw new Error('a seal job did not complete');
    digest = r.digest;
    how.written?.(job.length);
    idle.push(job.slot); // the runner wiped it
  };
  try {
    for await (const piece of input) {
      for (let p = 0; p < piece.length;) {
        const n = Math.min(batchBytes - filled, piece.length - p);
        slot.set(piece.subarray(p, p + n), filled);
        filled += n;
        total += n;
        p += n;
        if (filled < batchBytes) continue;
        if (!runner) {
          held.push(slot);
          runner = how.pooled!(total) ?? (held.length >= MAX_HELD_BATCHES ? how.local : undefined);
          if (runner) for (const b of held.splice(0)) launch(b, batchBytes, false);
        } else {
          launch(slot, batchBytes, false);
        }
        while (runner && inFlight.length >= runner.depth) await settleOldest();
        slot = idle.pop() ?? newSlot();
        filled = 0;
      }
    }
    runner ??= how.local;
    for (const b of held.splice(0)) launch(b, batchBytes, false);
    launch(slot, filled, true);
    filled = 0;
    while (inFlight.length) await settleOldest();
    ok = true;
    return { plaintextBytes: total, ...(digest ? { digest } : {}) };
  } finally {
    // Every job ends before we return: a worker must not outlive the descriptor it writes to.
    await Promise.allSettled(inFlight.map(j => j.done));
    wipeShared(slot.subarray(0, filled));
    if (!ok) {
      for (const s of slots) wipeShared(new Uint8Array(s)); // a failed job may not have wiped its batch
      // The runner's hash of a stream that will not end: an empty last job drops it.
      if (runner && hashId !== undefined) {
        runner.run({ op: 'seal', key: keys.payloadKey, aad: keys.chunkAad, chunkSize: C, counter: first, count: 0, finalLength: -1, out: 'none', hashId, digest: true }, hashId).catch(() => undefined);
      }
    }
  }
}

/**
 * Seals a stream's batches in this thread (a small stream: no threads started), the write of one overlapping
 * the sealing of the next, hashing the frames in order as sealStream asks.
 */
export function localSealRunner(out: FileHandle): StreamRunner {
  let hash: Hash | undefined;
  return {
    depth: 2,
    run: async job => {
      const input = Buffer.from(job.data!, 0, job.inLength);
      const cipher = localChunkCipher(job.key, job.aad);
      const chunks: ChunkJob[] = [];
      for (let i = 0, at = 0; i < job.count; i++) {
        const final = i === job.count - 1 && job.finalLength >= 0;
        const length = final ? job.finalLength : job.chunkSize;
        chunks.push({ counter: job.counter + i, final, body: input.subarray(at, at + length) });
        at += length;
      }
      const frames = await cipher.seal(chunks);
      wipeShared(input);
      if (job.hashId !== undefined) {
        hash ??= createHash('sha256');
        for (const f of frames) hash.update(f);
      }
      const digest = job.digest ? hash?.digest() : undefined;
      await writeAll(out, frames, job.outPosition);
      return { failedAt: -1, ...(digest ? { digest } : {}) };
    },
  };
}
