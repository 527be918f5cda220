// The payload: a sequence of chunk frames. Sealing re-chunks any input into full chunks plus one short
// final chunk; opening walks the frames, authenticates each chunk and checks where the file ends.
import { CHUNK_FRAME_OVERHEAD, FINAL_FRAME_OVERHEAD, FRAME_CHUNK, FRAME_FINAL, FRAME_PARTIAL } from './constants';
import { openChunk, sealChunk } from './chunks';
import { NoteSealError } from './errors';
import type { ByteSource } from './source';

/** Read and seal in batches of about this many bytes: few chunks in memory, few system calls. */
export const BATCH_BYTES = 4 * 1024 * 1024;

export function framesPerBatch(chunkSize: number): number {
  return Math.max(1, Math.floor(BATCH_BYTES / (chunkSize + CHUNK_FRAME_OVERHEAD)));
}

export interface ChunkJob { counter: number; final: boolean; body: Uint8Array }

/** Opens or seals a batch of independent chunks: in this thread, or on a worker pool. */
export interface ChunkCipher {
  open(jobs: ChunkJob[]): Promise<(Buffer | null)[]>;
  /** The sealed frames, in order, as pieces to write. */
  seal(jobs: ChunkJob[]): Promise<Buffer[]>;
}

export function localChunkCipher(key: Uint8Array, aad: Uint8Array): ChunkCipher {
  return {
    async open(jobs) { return jobs.map(j => openChunk(key, aad, j.counter, j.final, j.body)); },
    async seal(jobs) { return jobs.flatMap(j => sealChunk(key, aad, j.counter, j.final, j.body)); },
  };
}

export interface PayloadContext {
  chunkSize: number;
  appendMode: boolean;
  /** A log: partial frames (FRAME_PARTIAL) may appear between full ones. */
  logMode?: boolean;
  /** File offset of the first frame, for error details. */
  headerLength: number;
}

/** The error for input that ends before its final chunk. */
export function endedEarly(ctx: PayloadContext, chunk: number, offset: number): NoteSealError {
  return ctx.appendMode
    ? new NoteSealError('UNFINISHED', 'the recording was not closed (no final chunk); recover it to seal what was written', { chunk, offset })
    : new NoteSealError('TRUNCATED', 'the file ends before its final chunk', { chunk, offset });
}

export function chunkFailed(chunk: number, offset: number): NoteSealError {
  return new NoteSealError('CORRUPTED', `chunk ${chunk} at byte ${offset} failed authentication`, { chunk, offset });
}

async function readMore(src: ByteSource, have: Buffer, need: number): Promise<Buffer> {
  if (have.length >= need) return have;
  return Buffer.concat([have, await src.read(need - have.length)]);
}

/**
 * Opens every frame of the payload (from frame `firstChunk`), yielding plaintext chunks in order as batches authenticate.
 * Throws a typed error at the first problem, after yielding the authentic chunks before it; the
 * final chunk is yielded only once the end of the file is confirmed.
 */
export async function* openPayload(src: ByteSource, ctx: PayloadContext, cipher: ChunkCipher, firstChunk = 0): AsyncGenerator<Buffer[]> {
  const C = ctx.chunkSize;
  const frameLength = C + CHUNK_FRAME_OVERHEAD;
  const batchFrames = framesPerBatch(C);
  // Starting later (`src` then starts at that frame) is for readers that already authenticated the
  // full chunks before `firstChunk`.
  let counter = firstChunk;
  let offset = ctx.headerLength + firstChunk * frameLength;
  for (;;) {
    let block = await src.read(batchFrames * frameLength);
    if (block.length === 0) throw endedEarly(ctx, counter, offset);
    const jobs: ChunkJob[] = [];
    const offsets: number[] = [];
    let pos = 0;
    let problem: NoteSealError | null = null;
    let finalSeen = false;
    let trailing = false;
    while (pos < block.length && problem === null && !finalSeen) {
      const kind = block[pos]!;
      if (kind === FRAME_CHUNK) {
        if (ctx.logMode && pos + frameLength > block.length) block = await readMore(src, block, pos + frameLength);
        if (pos + frameLength > block.length) { problem = endedEarly(ctx, counter, offset + pos); break; }
        jobs.push({ counter, final: false, body: block.subarray(pos + 1, pos + frameLength) });
        offsets.push(offset + pos);
        counter++;
        pos += frameLength;
      } else if (kind === FRAME_PARTIAL && ctx.logMode) {
        // A log's short chunk, sealed as a full one is. Frames after it no longer line up with the block.
        block = await readMore(src, block, pos + 5);
        if (block.length < pos + 5) { problem = endedEarly(ctx, counter, offset + pos); break; }
        const length = block.readUInt32BE(pos + 1);
        if (length === 0 || length >= C) {
          problem = new NoteSealError('CORRUPTED', `the partial chunk ${counter} claims ${length} bytes, outside 1..chunk size`, { chunk: counter, offset: offset + pos });
          break;
        }
        const need = length + FINAL_FRAME_OVERHEAD;
        block = await readMore(src, block, pos + need);
        if (block.length < pos + need) { problem = endedEarly(ctx, counter, offset + pos); break; }
        jobs.push({ counter, final: false, body: block.subarray(pos + 5, pos + need) });
        offsets.push(offset + pos);
        counter++;
        pos += need;
      } else if (kind === FRAME_FINAL) {
        let frame = await readMore(src, block.subarray(pos), 5);
        if (frame.length < 5) { problem = endedEarly(ctx, counter, offset + pos); break; }
        const length = frame.readUInt32BE(1);
        if (length >= C) {
          problem = new NoteSealError('CORRUPTED', `the final chunk claims ${length} bytes, more than the chunk size allows`, { chunk: counter, offset: offset + pos });
          break;
        }
        const need = length + FINAL_FRAME_OVERHEAD;
        frame = await readMore(src, frame, need);
        if (frame.length < need) { problem = endedEarly(ctx, counter, offset + pos); break; }
        jobs.push({ counter, final: true, body: frame.subarray(5, need) });
        offsets.push(offset + pos);
        finalSeen = true;
        trailing = frame.length > need || (await src.read(1)).length > 0;
      } else {
        problem = new NoteSealError('CORRUPTED', `chunk ${counter} at byte ${offset + pos} has an unknown frame kind`, { chunk: counter, offset: offset + pos });
      }
    }
    const plaintexts = await cipher.open(jobs);
    const bad = plaintexts.indexOf(null);
    const good = (bad < 0 ? plaintexts : plaintexts.slice(0, bad)) as Buffer[];
    if (bad >= 0) {
      // Release the authentic chunks before the failure (recovery keeps them), never those after it.
      for (const p of plaintexts.slice(bad)) p?.fill(0);
      if (good.length) yield good;
      throw chunkFailed(jobs[bad]!.counter, offsets[bad]!);
    }
    if (problem) {
      if (good.length) yield good;
      throw problem;
    }
    if (finalSeen) {
      const last = good.pop()!;
      if (good.length) yield good;
      if (trailing) {
        last.fill(0);
        throw new NoteSealError('TRAILING_DATA', 'bytes follow the final chunk', { chunk: counter, offset: offset + pos + last.length + FINAL_FRAME_OVERHEAD });
      }
      yield [last];
      return;
    }
    yield good;
    offset += pos;
  }
}

/**
 * Re-chunks any input into full chunks and seals them; ends with the short final chunk.
 * The input must not reuse a buffer it has yielded (whole chunks are sealed from it without copying).
 */
export async function* sealPayload(input: AsyncIterable<Uint8Array>, chunkSize: number, cipher: ChunkCipher): AsyncGenerator<Buffer[]> {
  const batchFrames = framesPerBatch(chunkSize);
  let counter = 0;
  let pending = Buffer.allocUnsafe(chunkSize);
  let filled = 0;
  let jobs: ChunkJob[] = [];
  const flush = async (): Promise<Buffer[]> => {
    const frames = await cipher.seal(jobs);
    jobs = [];
    return frames;
  };
  for await (const piece of input) {
    let p = 0;
    while (p < piece.length) {
      if (filled === 0 && piece.length - p >= chunkSize) {
        jobs.push({ counter: counter++, final: false, body: piece.subarray(p, p + chunkSize) }); // no copy
        p += chunkSize;
      } else {
        const n = Math.min(chunkSize - filled, piece.length - p);
        pending.set(piece.subarray(p, p + n), filled);
        filled += n;
        p += n;
        if (filled === chunkSize) {
          jobs.push({ counter: counter++, final: false, body: pending });
          pending = Buffer.allocUnsafe(chunkSize);
          filled = 0;
        }
      }
      if (jobs.length >= batchFrames) yield await flush();
    }
  }
  jobs.push({ counter, final: true, body: pending.subarray(0, filled) });
  const out = await flush();
  pending.fill(0);
  yield out;
}
