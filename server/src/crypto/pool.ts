// A small pool of worker threads that seal and open batches of chunks. Chunks are independent, so two
// cores work at once; the main thread only moves bytes. The worker is plain JS run with `eval`, so it
// needs no separate bundle entry. Keys travel per job and are overwritten in the worker afterwards.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkCipher, ChunkJob } from './payload';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createCipheriv, createDecipheriv } = require('node:crypto');
function nonce(counter, last) {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}
parentPort.on('message', ({ id, op, key, aad, items, data }) => {
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const input = Buffer.from(data);
  try {
    let total = 0;
    for (const it of items) total += op === 'seal' ? it.length + (it.final ? 21 : 17) : it.length - 16;
    const out = Buffer.allocUnsafeSlow(Math.max(total, 0));
    let o = 0;
    let failedAt = -1;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const body = input.subarray(it.start, it.start + it.length);
      if (op === 'seal') {
        const c = createCipheriv('aes-256-gcm', k, nonce(it.counter, it.final));
        c.setAAD(aad);
        if (it.final) { out[o] = 1; out.writeUInt32BE(it.length, o + 1); o += 5; } else { out[o++] = 0; }
        o += c.update(body).copy(out, o);
        c.final();
        o += c.getAuthTag().copy(out, o);
      } else {
        const d = createDecipheriv('aes-256-gcm', k, nonce(it.counter, it.final));
        d.setAAD(aad);
        d.setAuthTag(body.subarray(body.length - 16));
        const pt = d.update(body.subarray(0, body.length - 16));
        try { d.final(); } catch { pt.fill(0); failedAt = i; break; }
        o += pt.copy(out, o);
        pt.fill(0);
      }
    }
    if (op === 'seal') input.fill(0); // it held plaintext
    parentPort.postMessage({ id, data: out.buffer, failedAt }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  } finally {
    k.fill(0);
  }
});
`;

interface Reply { id: number; data?: ArrayBuffer; failedAt?: number; error?: string }
interface WireItem { counter: number; final: boolean; start: number; length: number }

class CryptoPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(readonly size: number) {}

  private worker(i: number): Worker {
    let w = this.workers[i];
    if (!w) {
      w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (r: Reply) => this.settle(r));
      w.on('error', e => this.failAll(e));
      w.unref(); // an idle pool must not keep the process alive
      this.workers[i] = w;
    }
    return w;
  }

  private settle(r: Reply): void {
    const p = this.waiting.get(r.id);
    if (!p) return;
    this.waiting.delete(r.id);
    if (this.waiting.size === 0) for (const w of this.workers) w?.unref();
    if (r.error) p.reject(new Error(`crypto worker: ${r.error}`)); else p.resolve(r);
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
    this.workers.length = 0; // start fresh workers next time
  }

  run(op: 'seal' | 'open', key: Uint8Array, aad: Uint8Array, items: WireItem[], data: ArrayBuffer): Promise<Reply> {
    const id = this.nextId++;
    const w = this.worker(this.turn++ % this.size);
    if (this.waiting.size === 0) for (const x of this.workers) x?.ref(); // pending work keeps us alive
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, op, key, aad, items, data }, [data]);
    });
  }
}

let shared: CryptoPool | undefined;

/**
 * Threads for large files: NOTESEAL_CRYPTO_THREADS (0 = none). Off by default: measured on the 2-vCPU
 * machine the single-thread path with overlapped I/O was faster (see test/bench), because one batch at a
 * time leaves the workers idle during I/O and the copies in and out cost the main thread.
 */
export function poolSize(): number {
  const env = process.env.NOTESEAL_CRYPTO_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.min(Number(env), 8, os.availableParallelism() * 2);
  return 0;
}

function pool(): CryptoPool {
  if (!shared || shared.size !== poolSize()) shared = new CryptoPool(Math.max(1, poolSize()));
  return shared;
}

/** Copies the job bodies into one transferable buffer. */
function pack(jobs: ChunkJob[]): { items: WireItem[]; data: ArrayBuffer } {
  let total = 0;
  for (const j of jobs) total += j.body.length;
  const buf = Buffer.allocUnsafeSlow(total);
  const items: WireItem[] = [];
  let o = 0;
  for (const j of jobs) {
    buf.set(j.body, o);
    items.push({ counter: j.counter, final: j.final, start: o, length: j.body.length });
    o += j.body.length;
  }
  return { items, data: buf.buffer as ArrayBuffer };
}

function split<T>(list: T[], parts: number): T[][] {
  const out: T[][] = [];
  const per = Math.ceil(list.length / parts);
  for (let i = 0; i < list.length; i += per) out.push(list.slice(i, i + per));
  return out;
}

/** A ChunkCipher that spreads each batch over the pool's threads. */
export function pooledChunkCipher(key: Uint8Array, aad: Uint8Array): ChunkCipher {
  const p = pool();
  return {
    async seal(jobs) {
      const replies = await Promise.all(split(jobs, p.size).map(part => {
        const { items, data } = pack(part);
        return p.run('seal', key, aad, items, data);
      }));
      return replies.map(r => Buffer.from(r.data!));
    },
    async open(jobs) {
      const parts = split(jobs, p.size);
      const replies = await Promise.all(parts.map(part => {
        const { items, data } = pack(part);
        return p.run('open', key, aad, items, data);
      }));
      const result: (Buffer | null)[] = [];
      let failed = false;
      replies.forEach((r, pi) => {
        const out = Buffer.from(r.data!);
        let o = 0;
        parts[pi]!.forEach((job, i) => {
          if (failed || r.failedAt === i) { failed = true; result.push(null); return; }
          const n = job.body.length - 16;
          result.push(out.subarray(o, o + n));
          o += n;
        });
      });
      return result;
    },
  };
}
