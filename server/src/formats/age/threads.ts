// Large age payloads on worker threads (issue 26, speed): age's chunks are independent (each has its own
// nonce: counter + last-chunk flag), and a binary file's layout follows from its size alone, so runs of
// chunks are jobs with known input and output offsets. Each thread reads its run (pread), opens or seals it
// with ChaCha20-Poly1305 and writes it (pwritev) or hands it back, so both cores do crypto and the main
// thread only schedules (profile before: the main thread's read, write and garbage collection of 4,096
// chunk buffers took as long as the cipher itself, and Node's cipher is ~1.5x the CPU of Go's per chunk).
// Every chunk authenticates in its thread before any of its plaintext is written or returned. A thread
// never decides what is wrong with a damaged file: on any failure the caller re-reads from the failed run
// with the sequential reader (file-stream.ts), which reports the exact error.
// Its own worker source (age's chunks and ChaCha20-Poly1305); the pool itself is crypto/pool.ts's ThreadPool.
import { poolSize, ThreadPool, WORKER_PRELUDE } from '../../crypto/pool';
import { ordered } from '../../crypto/parallel';

const WORKER_SOURCE = WORKER_PRELUDE + `
const { createCipheriv, createDecipheriv } = require('node:crypto');
const CHUNK = 65536, TAG = 16, SEALED = CHUNK + TAG;
// Chunks per read/crypt/write step: the bytes are still in this core's cache when they are written.
const STEP = 4;
function wipeAll(list) { for (const p of list) p.fill(0); }
function open(job, k) {
  const kept = [];
  let inAt = 0, outAt = job.outPosition;
  for (let s = 0; s < job.count; s += STEP) {
    const n = Math.min(STEP, job.count - s);
    const len = Math.min(n * SEALED, job.inLength - inAt);
    const input = scratchOf(len);
    if (readFully(job.inFd, input, job.inPosition + inAt) < len) { wipeAll(kept); return { short: true }; }
    const pieces = [];
    for (let j = 0; j < n; j++) {
      const index = job.first + s + j, last = index === job.lastIndex;
      const body = input.subarray(j * SEALED, Math.min(len, (j + 1) * SEALED));
      let pt = null;
      if (body.length >= TAG && (last || body.length === SEALED)) {
        const d = createDecipheriv('chacha20-poly1305', k, nonce(index, last), { authTagLength: TAG });
        d.setAuthTag(body.subarray(body.length - TAG));
        pt = d.update(body.subarray(0, body.length - TAG));
        try { d.final(); } catch { pt.fill(0); pt = null; }
        if (pt && last && pt.length === 0 && index > 0) pt = null;
      }
      if (!pt) { wipeAll(pieces); wipeAll(kept); return { failedAt: s + j }; }
      pieces.push(pt);
    }
    if (job.out === 'write') { writeFully(job.outFd, pieces, outAt); for (const p of pieces) outAt += p.length; }
    if (job.out === 'return') for (const p of pieces) kept.push(p);
    else { for (const p of pieces) p.fill(0); release(pieces); }
    inAt += len;
  }
  if (kept.length < 2) return { plain: kept, failedAt: -1 };
  // One buffer per job back to the caller: one transfer and one object to collect instead of 32.
  let total = 0;
  for (const p of kept) total += p.length;
  const joined = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of kept) { p.copy(joined, at); at += p.length; p.fill(0); }
  release(kept);
  return { plain: [joined], failedAt: -1 };
}
function seal(job, k) {
  let inAt = 0, outAt = job.outPosition, used = 0;
  try {
    for (let s = 0; s < job.count; s += STEP) {
      const n = Math.min(STEP, job.count - s);
      const len = Math.min(n * CHUNK, job.inLength - inAt);
      const input = scratchOf(len);
      used = Math.max(used, len);
      if (readFully(job.inFd, input, job.inPosition + inAt) < len) return { short: true };
      const pieces = [];
      for (let j = 0; j < n; j++) {
        const index = job.first + s + j;
        const c = createCipheriv('chacha20-poly1305', k, nonce(index, index === job.lastIndex), { authTagLength: TAG });
        pieces.push(c.update(input.subarray(j * CHUNK, Math.min(len, (j + 1) * CHUNK))));
        c.final();
        pieces.push(c.getAuthTag());
      }
      writeFully(job.outFd, pieces, outAt);
      for (const p of pieces) outAt += p.length;
      release(pieces);
      inAt += len;
    }
    return { failedAt: -1 };
  } finally {
    if (scratch) scratch.fill(0, 0, used); // it held plaintext
  }
}
parentPort.on('message', job => {
  const k = Buffer.from(job.key.buffer, job.key.byteOffset, job.key.byteLength);
  try {
    const r = job.op === 'seal' ? seal(job, k) : open(job, k);
    if (r.short) { parentPort.postMessage({ id: job.id, short: true }); return; }
    const buffers = [], lengths = [];
    for (let p of r.plain || []) {
      if (p.byteOffset !== 0 || p.buffer.byteLength !== p.length) { const q = Buffer.allocUnsafeSlow(p.length); p.copy(q); p.fill(0); p = q; }
      buffers.push(p.buffer); lengths.push(p.length);
    }
    parentPort.postMessage({ id: job.id, failedAt: r.failedAt, buffers, lengths }, buffers);
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String(e && e.message || e), code: e && e.code, syscall: e && e.syscall });
  } finally {
    k.fill(0);
  }
});
`;

/** A run of `count` chunks from chunk `first`; chunk `lastIndex` of the file is its final chunk. */
export interface AgeJob {
  op: 'open' | 'seal';
  key: Uint8Array;
  first: number;
  count: number;
  lastIndex: number;
  inFd: number;
  inPosition: number;
  inLength: number;
  /** open: written to outFd at outPosition, returned, or dropped (verification). seal: always written. */
  out: 'write' | 'return' | 'none';
  outFd?: number;
  outPosition: number;
}

export interface AgeJobResult {
  /** Index in the job of the first chunk that failed, or -1. */
  failedAt: number;
  /** The input ended early (the file shrank while read). */
  short?: boolean;
  /** out 'return': the job's plaintext (one buffer). */
  pieces: Buffer[];
}

/** The age threads: the shared thread pool (crypto/pool.ts) running this file's source. */
type AgePool = ThreadPool<AgeJob>;

let pool: AgePool | undefined;

/** The age threads (NOTESEAL_CRYPTO_THREADS, as for .enc files; 0 = none): undefined when turned off. */
export function agePool(): AgePool | undefined {
  const n = poolSize();
  if (n === 0) return undefined;
  if (!pool || pool.size !== n) pool = new ThreadPool<AgeJob>(n, WORKER_SOURCE, 'age crypto thread', (job, key) => ({ msg: { ...job, key } }));
  return pool;
}

/** Chunks per job: 2 MiB. */
export const JOB_CHUNKS = 32;
/**
 * Jobs that hand plaintext back are in flight at most this many per thread (memory: 2 MiB each); the others
 * (written by the thread, or only verified) are all queued at once. On a loaded machine the main thread
 * waits long to be scheduled again (measured at load 12: with 3 jobs queued per thread, the threads sat idle
 * and a decrypt took twice as long as on one thread alone), so a thread must never wait for it.
 */
export const RETURNED_IN_FLIGHT_PER_THREAD = 8;

/** Runs jobs `from`..`total - 1` (built by `job`) on the pool and yields their results in order. */
export function runJobs(p: AgePool, from: number, total: number, returning: boolean, job: (i: number) => AgeJob): AsyncGenerator<AgeJobResult> {
  const depth = returning ? p.size * RETURNED_IN_FLIGHT_PER_THREAD : total;
  return ordered(from, total, depth, async i => { const r = await p.run(job(i)); return { ...r, pieces: r.pieces ?? [] }; },
    r => { for (const x of r.pieces) x.fill(0); });
}
