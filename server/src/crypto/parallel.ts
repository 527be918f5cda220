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
import { CHUNK_FRAME_OVERHEAD, FINAL_FRAME_OVERHEAD, MAX_CHUNKS } from './constants';
import type { FileKeys } from './derive';
import type { ParsedHeader } from './header';
import { framesPerBatch } from './payload';
import type { PoolJob, PoolResult } from './pool';

/** Runs one job: on the worker pool, or (small inputs) in this thread. */
export type JobRunner = (job: PoolJob) => Promise<PoolResult>;

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
