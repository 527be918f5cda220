// Which engine seals and opens chunks: this thread for small inputs (no start-up cost, no copies), the
// worker pool for large ones (chunks are independent, so two cores work at once). A note's save (a buffer
// sealed to a file) stays in this thread at any size: the pool would first copy the plaintext for its
// threads, and measured through the real worker on the 2-vCPU machine that made a 20 MiB save slower
// (137 vs 114 ms, medians of 5 runs of 11); file-to-file encryption reads its own input and keeps the pool,
// and a stream past the threshold goes to it too (parallel.ts sealStream: its one copy goes into the batch).
import type { FileKeys } from './derive';
import { IN_FLIGHT_PER_WORKER, type JobRunner } from './parallel';
import { localChunkCipher, type ChunkCipher } from './payload';
import { cryptoPool, pooledChunkCipher, poolSize } from './pool';

/**
 * Below this many payload bytes stay in this thread. Measured on the 2-vCPU machine (bench child mode,
 * `run.js --api enc|dec <threads> <src> <dst>` with NOTESEAL_POOL_THRESHOLD=0): with the pool already
 * running, 8 MiB (two 4 MiB batches) is break-even and 16 MiB a clear win (about 29 vs 37 ms); a cold
 * pool adds 30-50 ms of thread start-up, which the CLI hides behind Argon2id (it starts the threads
 * before unlocking) and the long-lived extension worker pays once.
 */
export const POOL_THRESHOLD = 16 * 1024 * 1024;

/**
 * A note opened into one buffer (the editor's read) goes to the pool from here: the workers copy their
 * batches into a buffer shared with them, so nothing is concatenated, and two batches already pay.
 * Measured through the real worker (medians of 4 runs of 11): 8 MiB 25 vs 39 ms, 20 MiB 58 vs 100 ms.
 */
export const BUFFER_READ_POOL_THRESHOLD = 8 * 1024 * 1024;

/** NOTESEAL_POOL_THRESHOLD (bytes), so tests can drive small files down the fast path, else `fallback`. */
export function poolThreshold(fallback = POOL_THRESHOLD): number {
  const env = process.env.NOTESEAL_POOL_THRESHOLD;
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : fallback;
}

export function chooseCipher(keys: FileKeys, sizeHint: number): ChunkCipher {
  if (sizeHint >= poolThreshold() && poolSize() > 0) return pooledChunkCipher(keys.payloadKey, keys.chunkAad);
  return localChunkCipher(keys.payloadKey, keys.chunkAad);
}

/** The worker pool as a job runner for an input of `sizeHint` bytes, or undefined to stay in this thread. */
export function parallelFor(sizeHint: number, threshold = poolThreshold()): { run: JobRunner; depth: number } | undefined {
  if (!(sizeHint >= threshold)) return undefined;
  const pool = cryptoPool();
  if (!pool) return undefined;
  return { run: (job, pin) => pool.run(job, pin), depth: pool.size * IN_FLIGHT_PER_WORKER };
}
