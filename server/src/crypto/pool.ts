// A small pool of worker threads that seal and open runs of consecutive chunks. Chunks are independent,
// so both cores work at once. A job names its input either as a byte range of a file descriptor (the
// worker reads it with pread into a buffer it reuses) or as a transferred ArrayBuffer, and its output as
// a position in a file descriptor (the worker writes with pwritev, no copy), as transferred buffers, or
// nothing (verification). The main thread then only schedules: several jobs are in flight per worker,
// so a worker never waits for the main thread between jobs. File descriptors are shared by all threads
// of a process, so the caller's open handles are used as they are.
// The worker is plain JS run with `eval`, so it needs no separate bundle entry. Keys travel per job and
// are overwritten in the worker afterwards.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { FINAL_FRAME_OVERHEAD, CHUNK_FRAME_OVERHEAD } from './constants';
import type { ChunkCipher, ChunkJob } from './payload';

/**
 * What both worker sources start with (this file's and formats/age/threads.ts's): one scratch buffer for
 * reads, outputs freed at once, the 12-byte nonce (11-byte big-endian counter, last-chunk flag: .enc frames
 * and age chunks alike), and positioned reads and writes that finish short ones.
 */
export const WORKER_PRELUDE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
let scratch = null;
function scratchOf(n) {
  if (!scratch || scratch.length < n) {
    if (scratch) scratch.fill(0); // it may hold plaintext of an earlier step
    scratch = Buffer.allocUnsafeSlow(n);
  }
  return scratch.subarray(0, n);
}
// Outputs the worker is done with go back to the allocator at once, not when V8 next collects garbage:
// otherwise a large file leaves about 70 MB of dead 64 KiB outputs behind, every page of it freshly
// faulted in (measured on a 256 MiB file: 18,000 page faults and about a fifth more time on the first
// large file of a process). transfer(0) detaches an ArrayBuffer and frees its memory. ES2024: Node 21+
// and VS Code's Electron have it; on Node 20 the pool turns on V8's flag for it before starting us.
const canRelease = typeof ArrayBuffer.prototype.transfer === 'function';
function release(pieces) {
  if (!canRelease) return;
  for (const p of pieces) if (p.length >= 4096 && p.byteOffset === 0 && p.buffer.byteLength === p.length) p.buffer.transfer(0);
}
// glibc hands freed memory at the top of its heap back to the kernel beyond a trim threshold (128 KiB
// by default), and the next allocation faults it in again. Freeing one mmapped block raises that
// threshold (mallopt(3), dynamic mmap threshold), so released outputs are reused where they are.
if (canRelease) new ArrayBuffer(4 << 20).transfer(0);
const nonceBuf = Buffer.alloc(12); // createCipheriv copies the IV
function nonce(counter, last) {
  const n = nonceBuf;
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}
function readFully(fd, buf, pos) {
  let got = 0;
  while (got < buf.length) {
    const r = fs.readSync(fd, buf, got, buf.length - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return got;
}
function writeFully(fd, parts, pos) {
  let i = 0;
  while (i < parts.length) {
    const batch = parts.slice(i, i + 512);
    let want = 0;
    for (const p of batch) want += p.length;
    let done = fs.writevSync(fd, batch, pos);
    pos += done;
    if (done === want) { i += batch.length; continue; }
    // Short write: finish the piece it stopped in, then carry on with the rest.
    for (const p of batch) {
      if (done >= p.length) { done -= p.length; i++; continue; }
      let off = done;
      while (off < p.length) { const w = fs.writeSync(fd, p, off, p.length - off, pos); off += w; pos += w; }
      done = 0;
      i++;
    }
  }
}
`;

const WORKER_SOURCE = WORKER_PRELUDE + `
const { createCipheriv, createDecipheriv, createHash, timingSafeEqual } = require('node:crypto');
// A stream's SHA-256 of the frames sealed so far, by job.hashId (sealStream runs all its jobs on this thread, in
// order); a job with digest set returns it and drops it.
const hashes = new Map();
// Wipes a view of shared memory: Buffer.fill there (a stream's batch, sealStream) takes about 14 times as long as on ordinary memory
// (measured: 244 vs 17 ms for 256 MiB), a copy from zeros does not.
const ZEROS = new Uint8Array(256 * 1024);
function wipeShared(view) {
  for (let at = 0; at < view.length; at += ZEROS.length) view.set(at + ZEROS.length <= view.length ? ZEROS : ZEROS.subarray(0, view.length - at), at);
}
// The head of every non-final frame. A view into a larger buffer, so reply() copies it rather than transferring it.
const CHUNK_HEAD = Buffer.alloc(16).subarray(0, 1);
function seal(job, k, input) {
  const C = job.chunkSize;
  const pieces = [];
  let at = 0;
  for (let i = 0; i < job.count; i++) {
    const final = i === job.count - 1 && job.finalLength >= 0;
    const len = final ? job.finalLength : C;
    const c = createCipheriv('aes-256-gcm', k, nonce(job.counter + i, final));
    c.setAAD(job.aad);
    let head;
    if (final) { head = Buffer.alloc(5); head[0] = 1; head.writeUInt32BE(len, 1); } else { head = CHUNK_HEAD; }
    const ct = c.update(input.subarray(at, at + len));
    c.final();
    pieces.push(head, ct, c.getAuthTag());
    at += len;
  }
  return pieces;
}
// Verification without decryption (out 'none': the verifying pass of decrypt to stdout, the verify command). A GCM
// tag is E(K, J0) xor GHASH_H(A, C); GHASH over the same blocks with the ciphertext passed as more
// associated data (and no ciphertext) differs only in its last block, the lengths, so the true tag is
// that tag xor ((L xor L') * H) in GF(2^128), with H = E(K, 0^128) (NIST SP 800-38D, 6.4 and 7.1). OpenSSL
// hashes associated data at GHASH speed and writes no output: in a loop here about 3x the speed of
// decrypting; over a whole verifying pass, reading the file included, about a fifth less CPU.
// Used only after a self-check at start (the runtime's GCM must accept associated data in pieces);
// otherwise, or on any surprise, the chunk is decrypted as before.
const GF_R = 0xE1n << 120n;
function gfMul(x, y) {
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = (v & 1n) ? (v >> 1n) ^ GF_R : v >> 1n;
  }
  return z;
}
const toBig = b => BigInt('0x' + b.toString('hex'));
const lengthsBlock = (aadBytes, ctBytes) => (BigInt(aadBytes * 8) << 64n) | BigInt(ctBytes * 8);
/** Per key and AAD: the tag correction for a ciphertext of each length (memoized: full chunks share one). */
function tagFixer(k, aad) {
  const e = createCipheriv('aes-256-ecb', k, null);
  e.setAutoPadding(false);
  const hBuf = e.update(Buffer.alloc(16));
  const h = toBig(hBuf);
  hBuf.fill(0);
  const pad = Buffer.alloc((16 - aad.length % 16) % 16);
  const fixes = new Map();
  return {
    pad,
    fix(ctLength) {
      let f = fixes.get(ctLength);
      if (f === undefined) {
        f = gfMul(lengthsBlock(aad.length, ctLength) ^ lengthsBlock(aad.length + pad.length + ctLength, 0), h);
        fixes.set(ctLength, f);
      }
      return f;
    },
  };
}
const tagOut = Buffer.alloc(16);
function tagMatches(k, fixer, aad, iv, ct, tag) {
  const c = createCipheriv('aes-256-gcm', k, iv);
  c.setAAD(aad);
  if (fixer.pad.length) c.setAAD(fixer.pad);
  if (ct.length) c.setAAD(ct);
  c.final();
  const t = toBig(c.getAuthTag()) ^ fixer.fix(ct.length);
  tagOut.write(t.toString(16).padStart(32, '0'), 'hex');
  return tag.length === 16 && timingSafeEqual(tagOut, tag);
}
/** Whether tagMatches agrees with real GCM here: a good tag accepted, a flipped bit or tag refused. */
const canVerifyByHash = (() => {
  try {
    const k = Buffer.alloc(32, 9), aad = Buffer.alloc(32, 3), iv = Buffer.alloc(12, 5), data = Buffer.alloc(100, 7);
    const c = createCipheriv('aes-256-gcm', k, iv);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(data), c.final()]);
    const tag = c.getAuthTag();
    const f = tagFixer(k, aad);
    if (!tagMatches(k, f, aad, iv, ct, tag)) return false;
    ct[50] ^= 1;
    if (tagMatches(k, f, aad, iv, ct, tag)) return false;
    ct[50] ^= 1;
    tag[0] ^= 1;
    return !tagMatches(k, f, aad, iv, ct, tag);
  } catch {
    return false;
  }
})();
/** The tag fixer of a job that only verifies (out 'none'), where the self-check passed; else null (decrypt). */
const verifierFor = (job, k) => (job.out === 'none' && canVerifyByHash ? tagFixer(k, job.aad) : null);
function open(job, k, input, fixer) {
  const C = job.chunkSize;
  const plain = [];
  let at = 0;
  for (let i = 0; i < job.count; i++) {
    const final = i === job.count - 1 && job.finalLength >= 0;
    const len = final ? job.finalLength : C;
    const head = final ? 5 : 1;
    if (at + head + len + 16 > input.length || input[at] !== (final ? 1 : 0) || (final && input.readUInt32BE(at + 1) !== len)) {
      return { plain, failedAt: i };
    }
    const body = input.subarray(at + head, at + head + len + 16);
    if (fixer) {
      if (!tagMatches(k, fixer, job.aad, nonce(job.counter + i, final), body.subarray(0, len), body.subarray(len))) return { plain, failedAt: i };
      at += head + len + 16;
      continue;
    }
    const d = createDecipheriv('aes-256-gcm', k, nonce(job.counter + i, final));
    d.setAAD(job.aad);
    d.setAuthTag(body.subarray(len));
    const pt = d.update(body.subarray(0, len));
    try { d.final(); } catch { pt.fill(0); return { plain, failedAt: i }; }
    plain.push(pt);
    at += head + len + 16;
  }
  return { plain, failedAt: -1 };
}
// A job from a file, or one whose frames this thread writes, runs in steps of about STEP_BYTES: read (or take
// from the shared input), seal or open, write, so the bytes are still in this core's cache when they are
// encrypted and written (whole 4 MiB batches go to memory and back).
const STEP_BYTES = 256 * 1024;
function stepped(job, k) {
  const C = job.chunkSize;
  // A shared input (a stream's batch slot, sealStream): its first inLength bytes, wiped once sealed.
  const data = job.data ? Buffer.from(job.data, 0, job.inLength) : null;
  const unit = job.op === 'seal' ? C : C + ${CHUNK_FRAME_OVERHEAD};
  const step = Math.max(1, Math.round(STEP_BYTES / C));
  const plain = [];
  let failedAt = -1;
  let inAt = 0;
  let outAt = job.outPosition;
  let used = 0;
  let ok = false;
  const fixer = job.op === 'open' ? verifierFor(job, k) : null;
  let hash = null;
  if (job.hashId !== undefined) {
    hash = hashes.get(job.hashId);
    if (!hash) { hash = createHash('sha256'); hashes.set(job.hashId, hash); }
  }
  try {
    for (let s = 0; s < job.count && failedAt < 0; s += step) {
      const n = Math.min(step, job.count - s);
      const last = s + n === job.count;
      const len = last ? job.inLength - inAt : n * unit;
      let input;
      if (data) {
        input = data.subarray(inAt, inAt + len);
      } else {
        input = scratchOf(len);
        used = Math.max(used, len);
        if (readFully(job.inFd, input, job.inPosition + inAt) < len) return { short: true };
      }
      const sub = { aad: job.aad, chunkSize: C, counter: job.counter + s, count: n, finalLength: last ? job.finalLength : -1 };
      let pieces;
      if (job.op === 'seal') {
        pieces = seal(sub, k, input);
        if (data) wipeShared(input); // while it is still in this core's cache
        if (hash) for (const p of pieces) hash.update(p);
      } else {
        const r = open(sub, k, input, fixer);
        pieces = r.plain;
        if (r.failedAt >= 0) failedAt = s + r.failedAt;
      }
      if (job.out === 'write' && failedAt < 0) {
        writeFully(job.outFd, pieces, outAt);
        for (const p of pieces) outAt += p.length;
      }
      if (job.out === 'shared' && failedAt < 0) outAt = copyInto(job.outShared, pieces, outAt);
      if (job.out === 'return') for (const p of pieces) plain.push(p);
      else {
        if (job.op === 'open') for (const p of pieces) p.fill(0);
        release(pieces);
      }
      inAt += len;
    }
    ok = true;
    return { plain, failedAt, digest: job.digest && hash ? hash.digest() : undefined };
  } finally {
    if (job.digest || !ok) hashes.delete(job.hashId);
    if (job.op === 'seal' && data && !ok) wipeShared(data); // the steps wipe theirs; an error may have left one
    if (job.op === 'seal' && !data) scratch?.fill(0, 0, used); // it held plaintext
    if (!ok && job.op === 'open') for (const p of plain) p.fill(0); // short read or error: nothing is returned
  }
}
// out 'shared': the caller's one output buffer, shared with every worker; each writes its batch at its
// offset while the bytes are still in this core's cache, so the caller never concatenates.
function copyInto(shared, pieces, at) {
  const view = new Uint8Array(shared);
  for (const p of pieces) { view.set(p, at); at += p.length; }
  return at;
}
function reply(job, result) {
  if (job.out === 'return') {
    // Each update() result owns its ArrayBuffer: hand them over without copying.
    const buffers = [];
    const lengths = [];
    for (let p of result.plain) {
      if (p.byteOffset !== 0 || p.buffer.byteLength !== p.length) { const q = Buffer.allocUnsafeSlow(p.length); p.copy(q); p.fill(0); p = q; }
      buffers.push(p.buffer); lengths.push(p.length);
    }
    parentPort.postMessage({ id: job.id, failedAt: result.failedAt, buffers, lengths }, buffers);
  } else {
    parentPort.postMessage({ id: job.id, failedAt: result.failedAt, digest: result.digest });
  }
}
parentPort.on('message', job => {
  const k = Buffer.from(job.key.buffer, job.key.byteOffset, job.key.byteLength);
  try {
    if (!job.data || job.out === 'write') {
      const result = stepped(job, k);
      if (result.short) { parentPort.postMessage({ id: job.id, short: true }); return; }
      reply(job, result);
      return;
    }
    const input = Buffer.from(job.data);
    const result = job.op === 'seal' ? { plain: seal(job, k, input), failedAt: -1 } : open(job, k, input, verifierFor(job, k));
    input.fill(0); // it held plaintext, or is about to be dropped
    if (job.out === 'write' && result.failedAt < 0) writeFully(job.outFd, result.plain, job.outPosition);
    if (job.out === 'shared' && result.failedAt < 0) copyInto(job.outShared, result.plain, job.outPosition);
    if (job.out !== 'return') {
      if (job.op === 'open') for (const p of result.plain) p.fill(0);
      release(result.plain);
    }
    reply(job, result);
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String(e && e.message || e), code: e && e.code, syscall: e && e.syscall });
  } finally {
    k.fill(0);
  }
});
`;

/** A run of `count` consecutive chunks starting at chunk `counter`; the last one is final when finalLength >= 0. */
export interface PoolJob {
  op: 'seal' | 'open';
  key: Uint8Array;
  aad: Uint8Array;
  chunkSize: number;
  counter: number;
  count: number;
  finalLength: number;
  /**
   * Input: a transferred buffer, the first inLength bytes of a buffer shared with the threads (wiped by the
   * worker once sealed), or inLength bytes of inFd at inPosition.
   */
  data?: ArrayBuffer | SharedArrayBuffer;
  inFd?: number;
  inPosition?: number;
  inLength?: number;
  /** A seal job of a stream (sealStream): the worker keeps a SHA-256 of the frames it seals under this id. */
  hashId?: number;
  /** With hashId: the job returns that hash's digest (and the worker drops it). */
  digest?: boolean;
  /** Output: written to outFd at outPosition, copied into outShared at outPosition, returned, or dropped (verification). */
  out: 'write' | 'shared' | 'return' | 'none';
  outFd?: number;
  outShared?: SharedArrayBuffer;
  outPosition?: number;
}

export interface PoolResult {
  /** Index in the job of the first chunk that failed (malformed frame or authentication), or -1. */
  failedAt: number;
  /** The input file ended early (it shrank while being read). */
  short?: boolean;
  /** out 'return': sealed frames as [head, ciphertext, tag] per chunk, or one plaintext per authentic chunk. */
  pieces?: Buffer[];
  /** A job with hashId and digest: the SHA-256 of every frame sealed under that id. */
  digest?: Buffer;
}

interface Reply { id: number; failedAt?: number; short?: boolean; buffers?: ArrayBuffer[]; lengths?: number[]; digest?: Uint8Array; error?: string; code?: string; syscall?: string }

/**
 * A few worker threads running one evaluated source, each job to the least busy: the .enc pool below and the
 * age pool (formats/age/threads.ts) differ only in their source and in what a job sends. Threads are unref'd
 * while idle (an idle pool must not keep the process alive) and all restarted after any thread's error.
 */
export class ThreadPool<J extends { key: Uint8Array }> {
  private readonly workers: { w: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (r: PoolResult) => void; reject: (e: Error) => void; slot: { busy: number } }>();
  private nextId = 0;

  /**
   * `message(job, key)`: what is posted for a job, with `key` a fresh copy of job.key (wiped once posted), and
   * what is transferred. `label` names the threads in errors.
   */
  constructor(readonly size: number, private readonly source: string, private readonly label: string,
    private readonly message: (job: J, key: Uint8Array) => { msg: object; transfer?: ArrayBuffer[] }) {}

  /** Starts the threads now (they take tens of ms), e.g. while the caller reads a key or a header. */
  warm(): void {
    for (let i = 0; i < this.size; i++) this.slot(i);
  }

  private slot(i: number): { w: Worker; busy: number } {
    let s = this.workers[i];
    if (!s) {
      enableArrayBufferTransfer();
      const w = new (loadWorkerThreads().Worker)(this.source, { eval: true });
      s = { w, busy: 0 };
      w.on('message', (r: Reply) => this.settle(r));
      w.on('error', e => this.failAll(e));
      w.unref(); // an idle pool must not keep the process alive
      this.workers[i] = s;
    }
    return s;
  }

  private settle(r: Reply): void {
    const p = this.waiting.get(r.id);
    if (!p) return;
    this.waiting.delete(r.id);
    p.slot.busy--;
    if (this.waiting.size === 0) for (const s of this.workers) s?.w.unref();
    if (r.error !== undefined) {
      const e = new Error(`${this.label}: ${r.error}`) as NodeJS.ErrnoException;
      if (r.code) { e.code = r.code; e.syscall = r.syscall; }
      p.reject(e);
      return;
    }
    p.resolve({
      failedAt: r.failedAt ?? -1,
      short: r.short,
      pieces: r.buffers?.map((b, i) => Buffer.from(b, 0, r.lengths![i])),
      ...(r.digest ? { digest: Buffer.from(r.digest) } : {}),
    });
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
    for (const s of this.workers) void s?.w.terminate();
    this.workers.length = 0; // start fresh workers next time
  }

  /** Runs `job` on the least busy thread, or with `pin` on thread pin mod size (jobs pinned alike run in order). */
  run(job: J, pin?: number): Promise<PoolResult> {
    const id = this.nextId++;
    let best = this.slot(pin === undefined ? 0 : pin % this.size);
    if (pin === undefined) for (let i = 1; i < this.size; i++) { const s = this.slot(i); if (s.busy < best.busy) best = s; }
    best.busy++;
    if (this.waiting.size === 0) for (const s of this.workers) s?.w.ref(); // pending work keeps us alive
    // A fresh copy: a Buffer may be a view of a shared pool slab, and cloning a view sends its whole slab.
    const key = Uint8Array.from(job.key);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot: best });
      try {
        const { msg, transfer } = this.message(job, key);
        best.w.postMessage({ ...msg, id }, transfer ?? []);
      } finally {
        key.fill(0);
      }
    });
  }
}

/** The .enc pool: AES-GCM frames (WORKER_SOURCE above). */
type CryptoPool = ThreadPool<PoolJob>;
const newCryptoPool = (n: number): CryptoPool => new ThreadPool<PoolJob>(n, WORKER_SOURCE, 'crypto worker',
  (job, key) => ({ msg: { ...job, key, aad: Uint8Array.from(job.aad) }, transfer: job.data instanceof ArrayBuffer ? [job.data] : [] }));

/**
 * The workers free their outputs with ArrayBuffer.prototype.transfer (see WORKER_SOURCE). Node 20's V8
 * (11.3) has it behind a flag; worker isolates started after the flag is set get it. Newer runtimes,
 * including VS Code's Electron, have it already and are left alone.
 */
export function enableArrayBufferTransfer(): void {
  if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function') return;
  if (!process.versions.v8.startsWith('11.')) return; // older V8: the flag may not exist; go without
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--harmony-rab-gsab-transfer');
}

/**
 * worker_threads and v8 are required only when a pool starts: a CLI command on a small file (the 1 KiB
 * decrypt through the agent, issue 12's 100 ms target) never pays their few milliseconds of loading.
 */
function loadWorkerThreads(): typeof import('node:worker_threads') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  return require('node:worker_threads') as typeof import('node:worker_threads');
}

let shared: CryptoPool | undefined;

/**
 * Worker threads for large files: NOTESEAL_CRYPTO_THREADS (0 = none), else one per CPU (at most 8).
 * Measured on the 2-vCPU machine (test/bench): two workers doing their own pread/pwrite beat one thread.
 */
export function poolSize(): number {
  const env = process.env.NOTESEAL_CRYPTO_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.min(Number(env), 8, os.availableParallelism() * 2);
  return Math.min(os.availableParallelism(), 8);
}

/** The shared pool; undefined when threads are turned off. */
export function cryptoPool(): CryptoPool | undefined {
  const n = poolSize();
  if (n === 0) return undefined;
  if (!shared || shared.size !== n) shared = newCryptoPool(n);
  return shared;
}

/** Starts the worker threads ahead of a large job (they boot in parallel with other work). */
export function warmCryptoPool(): void {
  cryptoPool()?.warm();
}

/** Copies the job bodies into one transferable buffer. */
function pack(jobs: ChunkJob[]): ArrayBuffer {
  let total = 0;
  for (const j of jobs) total += j.body.length;
  const buf = Buffer.allocUnsafeSlow(total);
  let o = 0;
  for (const j of jobs) { buf.set(j.body, o); o += j.body.length; }
  return buf.buffer as ArrayBuffer;
}

/** Splits jobs into runs of consecutive counters, with a final chunk only at the end of a run. */
function runs(jobs: ChunkJob[], parts: number): ChunkJob[][] {
  const out: ChunkJob[][] = [];
  const per = Math.max(1, Math.ceil(jobs.length / parts));
  let cur: ChunkJob[] = [];
  for (const j of jobs) {
    const prev = cur[cur.length - 1];
    if (cur.length >= per || (prev && (prev.final || j.counter !== prev.counter + 1))) { out.push(cur); cur = []; }
    cur.push(j);
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A ChunkCipher that spreads each batch over the pool's threads (batch in, batch out, copies in and out). */
export function pooledChunkCipher(key: Uint8Array, aad: Uint8Array): ChunkCipher {
  const p = cryptoPool() ?? newCryptoPool(1);
  const job = (op: 'seal' | 'open', part: ChunkJob[]): PoolJob => {
    const last = part[part.length - 1]!;
    const chunkSize = part[0]!.final ? Math.max(1, part[0]!.body.length) : (op === 'seal' ? part[0]!.body.length : part[0]!.body.length - 16);
    return {
      op, key, aad, chunkSize, counter: part[0]!.counter, count: part.length, finalLength: last.final ? (op === 'seal' ? last.body.length : last.body.length - 16) : -1,
      data: op === 'seal' ? pack(part) : packFrames(part), out: 'return',
    };
  };
  return {
    async seal(jobs) {
      const results = await Promise.all(runs(jobs, p.size).map(part => p.run(job('seal', part))));
      return results.flatMap(r => r.pieces!);
    },
    async open(jobs) {
      const parts = runs(jobs, p.size);
      const results = await Promise.all(parts.map(part => p.run(job('open', part))));
      const out: (Buffer | null)[] = [];
      results.forEach((r, i) => {
        const pieces = r.pieces!;
        parts[i]!.forEach((_, j) => out.push(j < pieces.length ? pieces[j]! : null));
      });
      return out;
    },
  };
}

/** Re-frames chunk bodies (ciphertext || tag) so the worker can parse them as in a file. */
function packFrames(jobs: ChunkJob[]): ArrayBuffer {
  let total = 0;
  for (const j of jobs) total += j.body.length + (j.final ? FINAL_FRAME_OVERHEAD - 16 : CHUNK_FRAME_OVERHEAD - 16);
  const buf = Buffer.allocUnsafeSlow(total);
  let o = 0;
  for (const j of jobs) {
    if (j.final) { buf[o] = 1; buf.writeUInt32BE(Math.max(0, j.body.length - 16), o + 1); o += 5; } else { buf[o++] = 0; }
    buf.set(j.body, o);
    o += j.body.length;
  }
  return buf.buffer as ArrayBuffer;
}
