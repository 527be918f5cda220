// The runtime's ceiling (issues 26 and 30): what the fastest Node program we could write does on this
// machine, with no NoteSeal code, measured in the same run as the rows it bounds. When a target needs
// more than the ceiling, the bench says so next to the verdict ("beyond this machine's ceiling").
//
// The program does the least each CLI row must do: start Node, two threads, read the input in 256 KiB
// blocks by position, the format's AEAD per 64 KiB chunk through createCipheriv (AES-256-GCM for .enc,
// ChaCha20-Poly1305 for age), write by position (pwritev), fsync where NoteSeal must. No header, no key
// unwrapping, no write signature, no frame checks. For decrypt to stdout it keeps NoteSeal's rule (nothing
// written before every chunk authenticated: a verifying pass, then a second pass to stdout); the one-pass
// variant (age's way) is measured too, for reference. Designs tried on this machine (docs/ARCHITECTURE.md,
// "Fifth round"): the main thread as one of the two threads vs two workers with the main thread flushing
// the output behind them (kept for file outputs: on a real disk the final fsync then waits for the tail
// only, as in NoteSeal); 256 KiB vs 1 MiB vs 4 MiB blocks (256 KiB kept, NoteSeal's own step: the bytes
// are still in the core's cache when written); outputs freed at once (ArrayBuffer.transfer(0)) or left to
// the GC. On this machine they were within noise of each other, and NoteSeal's own age encrypt matched them.
//
// Modes (node ceiling.js MODE ALG IN OUT):
//   enc | dec                     file to file, fsync; whole process timed from outside
//   enc-stdin                     stdin read in order (it may be a pipe), sealed on the threads, fsync
//   dec-stdout | dec-stdout-1pass to stdout: verify everything first, then decrypt again / decrypt once
//   enc-timed | dec-timed         as enc/dec, timed inside the process with the threads already running
//                                 (the API rows' method): prints "first steady" seconds
//   copy | rwloop                 no crypto: copyFileSync + fsync, a 4 MiB readSync/writeSync loop + fsync
//                                 (timed inside, twice)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { median } from './stats';

const PROGRAM = String.raw`'use strict';
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');
const fs = require('fs'); const c = require('crypto');
const CH = 65536, TAG = 16, BLOCK = 1 << 18, CPB = BLOCK / CH, NT = 2, KEY = Buffer.alloc(32, 7);
if (typeof ArrayBuffer.prototype.transfer !== 'function') require('v8').setFlagsFromString('--harmony-rab-gsab-transfer');
// Outputs are freed at once where the runtime can (the workers; the main thread's context predates the flag).
const free = bufs => { if (typeof ArrayBuffer.prototype.transfer === 'function') for (const b of bufs) if (b.byteOffset === 0 && b.buffer.byteLength === b.length) b.buffer.transfer(0); };
const nonce = (iv, i, last) => { iv.fill(0); iv.writeUIntBE(i, 5, 6); iv[11] = last ? 1 : 0; return iv; };
const chunks = (enc, size) => Math.max(1, Math.ceil(size / (enc ? CH : CH + TAG)));
// Seal or open the chunks of block b (n bytes of inp); the outputs (kept only if keep).
function work(alg, enc, inp, n, b, total, iv, keep) {
  const outs = []; const inCh = enc ? CH : CH + TAG;
  for (let o = 0, i = b * CPB; o < n; o += inCh, i++) {
    const end = Math.min(n, o + inCh); const last = i === total - 1;
    if (enc) {
      const ci = c.createCipheriv(alg, KEY, nonce(iv, i, last), { authTagLength: TAG });
      outs.push(ci.update(inp.subarray(o, end))); ci.final(); outs.push(ci.getAuthTag());
    } else {
      const d = c.createDecipheriv(alg, KEY, nonce(iv, i, last), { authTagLength: TAG });
      d.setAuthTag(inp.subarray(end - TAG, end));
      const p = d.update(inp.subarray(o, end - TAG)); d.final();
      if (keep) outs.push(p); else free([p]);
    }
  }
  return outs;
}
// Blocks t, t+NT, ... of the input, read and written by position; out null = verify only.
function blockLoop({ alg, enc, inp, out, size }, t) {
  const ifd = fs.openSync(inp, 'r'), ofd = out ? fs.openSync(out, 'r+') : -1;
  const inB = enc ? BLOCK : BLOCK + CPB * TAG, outB = enc ? BLOCK + CPB * TAG : BLOCK;
  const buf = Buffer.allocUnsafe(inB), iv = Buffer.alloc(12), total = chunks(enc, size);
  for (let b = t; b * inB < size; b += NT) {
    const n = fs.readSync(ifd, buf, 0, inB, b * inB);
    const outs = work(alg, enc, buf, n, b, total, iv, ofd >= 0);
    if (ofd >= 0) { fs.writevSync(ofd, outs, b * outB); free(outs); }
  }
  fs.closeSync(ifd); if (ofd >= 0) fs.closeSync(ofd);
}
if (!isMainThread) {
  const iv = Buffer.alloc(12), fds = new Map(), bufs = new Map();
  const fd = (p, flags) => { if (!fds.has(p)) fds.set(p, fs.openSync(p, flags)); return fds.get(p); };
  parentPort.on('message', m => {
    if (m === null) { for (const x of fds.values()) fs.closeSync(x); parentPort.close(); return; }
    if (m.kind === 'blocks') { blockLoop(m.job, workerData.t); parentPort.postMessage(0); return; }
    if (m.kind === 'open') { // decrypt block b for the main thread to write to stdout
      const inB = BLOCK + CPB * TAG; const buf = bufs.get(inB) || Buffer.allocUnsafe(inB); bufs.set(inB, buf);
      const n = fs.readSync(fd(m.inp, 'r'), buf, 0, inB, m.b * inB);
      const outs = work(m.alg, false, buf, n, m.b, m.total, iv, true);
      const one = Buffer.concat(outs); free(outs);
      parentPort.postMessage({ b: m.b, one }, [one.buffer]); return;
    }
    if (m.kind === 'seal') { // a block of stdin, sealed and written at its place
      const outs = work(m.alg, true, Buffer.from(m.ab, 0, m.n), m.n, m.b, m.total, iv, true);
      fs.writevSync(fd(m.out, 'r+'), outs, m.b * (BLOCK + CPB * TAG)); free(outs);
      parentPort.postMessage(m.ab, [m.ab]);
    }
  });
  return;
}
const [mode, alg, inp, out] = process.argv.slice(2);
let worker, worker0;
// The second thread (the main thread is the first where it has nothing else to do).
const start = () => { worker = worker || new Worker(__filename, { workerData: { t: 1 } }); return worker; };
const stop = () => { for (const w of [worker, worker0]) if (w) w.postMessage(null); worker = worker0 = undefined; };
// Both halves of a file on two workers while the main thread flushes the output behind them (fdatasync in a
// loop, as NoteSeal does), so the final fsync waits for the tail only; verifying only: the main thread works.
// (The first version's unpaced loop spun a core on tmpfs: the API ceiling measured 5-11 % instead of ~16 %.)
const both = job => new Promise(done => {
  let left = 2; const fin = () => { if (--left === 0) done(); };
  const w = start(); w.once('message', fin); w.postMessage({ kind: 'blocks', job });
  if (!job.out) { blockLoop(job, 0); fin(); return; }
  worker0 = worker0 || new Worker(__filename, { workerData: { t: 0 } }); worker0.once('message', fin); worker0.postMessage({ kind: 'blocks', job });
  const fd = fs.openSync(job.out, 'r+');
  // Paced: on tmpfs fdatasync returns at once, and an unpaced loop would take a core from the workers.
  (async () => { while (left > 0) { await new Promise(r => fs.fdatasync(fd, r)); await new Promise(r => setTimeout(r, 10)); } fs.closeSync(fd); })();
});
const fsyncPath = p => { const fd = fs.openSync(p, 'r+'); fs.fsyncSync(fd); fs.closeSync(fd); };
async function timedTwice(once) {
  const t = [];
  for (const o of [out + '.first', out]) { const t0 = performance.now(); await once(o); t.push((performance.now() - t0) / 1000); }
  fs.rmSync(out + '.first'); process.stdout.write(t[0] + ' ' + t[1]);
}
const fileToFile = async (enc, o) => { fs.closeSync(fs.openSync(o, 'w')); await both({ alg, enc, inp, out: o, size: fs.statSync(inp).size }); fsyncPath(o); };
(async () => {
  if (mode === 'enc' || mode === 'dec') { await fileToFile(mode === 'enc', out); stop(); }
  else if (mode === 'enc-timed' || mode === 'dec-timed') {
    start(); worker0 = new Worker(__filename, { workerData: { t: 0 } }); await new Promise(r => setTimeout(r, 300));
    await timedTwice(o => fileToFile(mode === 'enc-timed', o)); stop();
  } else if (mode === 'copy') await timedTwice(async o => { fs.copyFileSync(inp, o); fsyncPath(o); });
  else if (mode === 'rwloop') {
    const buf = Buffer.allocUnsafe(4 << 20);
    await timedTwice(async o => {
      const i = fs.openSync(inp, 'r'), w = fs.openSync(o, 'w'); let n;
      while ((n = fs.readSync(i, buf, 0, buf.length, null)) > 0) { let k = 0; while (k < n) k += fs.writeSync(w, buf, k, n - k); }
      fs.fsyncSync(w); fs.closeSync(w); fs.closeSync(i);
    });
  } else if (mode === 'enc-stdin') {
    // stdin in order (it may be a pipe), one block read ahead (the last chunk is known only at the end);
    // both threads seal (the main thread between reads) and write at the block's place.
    fs.closeSync(fs.openSync(out, 'w'));
    const w = start(); const spare = []; for (let i = 0; i < 4; i++) spare.push(new ArrayBuffer(BLOCK));
    let inflight = 0, wake; const iv = Buffer.alloc(12), ofd = fs.openSync(out, 'r+');
    const waitFree = () => new Promise(r => { wake = r; });
    w.on('message', ab => { spare.push(ab); inflight--; if (wake) { const r = wake; wake = undefined; r(); } });
    const fill = async () => {
      while (!spare.length) await waitFree();
      const ab = spare.pop(); const view = Buffer.from(ab); let n = 0;
      while (n < BLOCK) {
        let r; try { r = fs.readSync(0, view, n, BLOCK - n, null); } catch (e) { if (e.code === 'EAGAIN') { await new Promise(s => setTimeout(s, 1)); continue; } throw e; }
        if (r === 0) break; n += r;
      }
      return { ab, n };
    };
    let cur = await fill();
    for (let b = 0; ; b++) {
      const nxt = cur.n === BLOCK ? await fill() : { ab: null, n: 0 };
      const last = nxt.n === 0; if (last && nxt.ab) spare.push(nxt.ab);
      const total = last ? b * CPB + Math.max(1, Math.ceil(cur.n / CH)) : 2 ** 40;
      if (b % NT === 1) { inflight++; w.postMessage({ kind: 'seal', alg, out, ab: cur.ab, n: cur.n, b, total }, [cur.ab]); }
      else { const outs = work(alg, true, Buffer.from(cur.ab, 0, cur.n), cur.n, b, total, iv, true); fs.writevSync(ofd, outs, b * (BLOCK + CPB * TAG)); spare.push(cur.ab); }
      if (last) break;
      cur = nxt;
    }
    while (inflight) await waitFree();
    stop(); fs.fsyncSync(ofd); fs.closeSync(ofd);
  } else if (mode === 'dec-stdout' || mode === 'dec-stdout-1pass') {
    const size = fs.statSync(inp).size;
    if (mode === 'dec-stdout') await both({ alg, enc: false, inp, out: null, size }); // nothing out before all verified
    // Second pass: the worker decrypts blocks ahead, the main thread decrypts its share and writes in order.
    const w = start(); const inB = BLOCK + CPB * TAG, nb = Math.ceil(size / inB), total = chunks(false, size);
    const ready = new Map(); let next = 0, asked = 0, wake; const iv = Buffer.alloc(12), buf = Buffer.allocUnsafe(inB), ifd = fs.openSync(inp, 'r');
    w.on('message', m => { ready.set(m.b, m.one); if (wake) { const r = wake; wake = undefined; r(); } });
    const ask = () => { for (; asked < nb && asked - next < 6; asked++) if (asked % NT === 1) w.postMessage({ kind: 'open', alg, inp, b: asked, total }); };
    const write = async one => {
      let o = 0;
      while (o < one.length) { try { o += fs.writeSync(1, one, o); } catch (e) { if (e.code !== 'EAGAIN') throw e; await new Promise(r => setTimeout(r, 1)); } }
    };
    ask();
    while (next < nb) {
      if (next % NT === 0) {
        const n = fs.readSync(ifd, buf, 0, inB, next * inB);
        for (const p of work(alg, false, buf, n, next, total, iv, true)) await write(p);
      } else {
        while (!ready.has(next)) await new Promise(r => { wake = r; });
        const one = ready.get(next); ready.delete(next); await write(one);
      }
      next++; ask();
    }
    stop();
  }
})();
`;

/** Writes the ceiling program into `dir`; returns its path (run it with process.execPath). */
export function writeCeilingProgram(dir: string): string {
  const file = path.join(dir, 'ceiling.js');
  writeFileSync(file, PROGRAM);
  return file;
}

/** The ceiling's speed against another row, per round (same rounds): the median of other / ceiling times. */
export function perRound(ceiling: readonly number[], other: readonly number[]): number | undefined {
  if (!ceiling.length || ceiling.length !== other.length) return undefined;
  return median(ceiling.map((x, i) => other[i]! / x));
}

/**
 * What to add to a NOT met verdict when even the ceiling misses the target: `ceiling` and `want` in the
 * verdict's own unit, `higherIsBetter` says which way the target points, `also` follows the ceiling's figure.
 */
export function beyondCeiling(ceiling: number | undefined, want: number, format: (x: number) => string, higherIsBetter = true, also = ''): string {
  if (ceiling === undefined || Number.isNaN(ceiling)) return '';
  const short = higherIsBetter ? ceiling < want : ceiling > want;
  return short ? ` (beyond this machine's ceiling: the fastest Node program measured ${format(ceiling)}${also}; the target needs ${format(want)})` : '';
}
