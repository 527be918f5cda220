// The worker-pool fast path (parallel.ts) must be indistinguishable from the sequential decoder: same
// bytes written, same chunks released before damage, same error code and detail. Small files are forced
// down the fast path with NOTESEAL_POOL_THRESHOLD=0; 1 MiB chunks make batches of 3 chunks, so a 10 MiB
// file has several batches in flight across both workers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  decryptFile, decryptFileToBuffer, decryptStream, decryptVerifiedFirst, encryptFile, isNoteSealError, parseHeader, verifyFile,
} from '../../../server/src/crypto/format';
import { fixedKey, newDataKey, pattern, prng, STANZAS, tempDir } from './helpers';

const MiB = 1024 * 1024;
const C = MiB;
const FRAME = C + 17;

type Outcome = { released: number; error: string };

async function outcome(fn: () => Promise<number>): Promise<Outcome> {
  try {
    return { released: await fn(), error: 'ok' };
  } catch (e) {
    if (!isNoteSealError(e)) throw e;
    return { released: -1, error: `${e.code} ${JSON.stringify(e.detail)}` };
  }
}

/** Runs every reader with the given thread setting and reports what each released and how it failed. */
async function readAll(file: string, key: Buffer, dir: string, threads: string): Promise<Record<string, Outcome | number>> {
  process.env.NOTESEAL_CRYPTO_THREADS = threads;
  const unwrap = fixedKey(key);
  let streamed = 0;
  const stream = await outcome(async () => { for await (const c of decryptStream(file, unwrap)) streamed += c.length; return streamed; });
  const out = path.join(dir, `out-${threads}`);
  const toFile = await outcome(async () => { await decryptFile(file, unwrap, out); return readFileSync(out).length; });
  const verify = await outcome(async () => (await verifyFile(file, unwrap)).plaintextBytes);
  // Into one buffer (the editor's read): the pool copies into a shared buffer; all or nothing.
  const toBuffer = await outcome(async () => (await decryptFileToBuffer(file, unwrap)).length);
  let written = 0;
  const first = await outcome(async () => { await decryptVerifiedFirst(file, unwrap, async b => { for (const c of b) written += c.length; }, { retainBytes: 4 * MiB }); return written; });
  return { stream, streamed, toFile, verify, toBuffer, first, written };
}

describe('parallel fast path (forced on small files)', () => {
  const saved = { t: process.env.NOTESEAL_POOL_THRESHOLD, n: process.env.NOTESEAL_CRYPTO_THREADS };
  before(() => { process.env.NOTESEAL_POOL_THRESHOLD = '0'; });
  after(() => {
    if (saved.t === undefined) delete process.env.NOTESEAL_POOL_THRESHOLD; else process.env.NOTESEAL_POOL_THRESHOLD = saved.t;
    if (saved.n === undefined) delete process.env.NOTESEAL_CRYPTO_THREADS; else process.env.NOTESEAL_CRYPTO_THREADS = saved.n;
  });

  it('a signed file sealed on the pool is bound to the SHA-256 of its payload as written, hashed while it is sealed', async t => {
    const dir = tempDir(t);
    const key = newDataKey();
    process.env.NOTESEAL_CRYPTO_THREADS = '2';
    for (const size of [0, C - 1, 10 * C + 123]) {
      const src = path.join(dir, `s${size}`);
      writeFileSync(src, pattern(size, size + 7));
      const enc = `${src}.enc`;
      let seen: Buffer | undefined;
      const payloadBound = { type: 6, length: 32, build: async (_prefix: Uint8Array, payloadSha256: Uint8Array) => { seen = Buffer.from(payloadSha256); return seen; } };
      await encryptFile(src, enc, key, STANZAS, { chunkSize: C, payloadBound });
      const bytes = readFileSync(enc);
      const header = parseHeader(bytes);
      assert.deepEqual(seen, createHash('sha256').update(bytes.subarray(header.headerLength)).digest(), `${size}: the hash the stanza signs`);
      assert.deepEqual(Buffer.from(header.stanzas.at(-1)!.body), seen, `${size}: the stanza written into the header`);
      assert.equal((await verifyFile(enc, fixedKey(key))).plaintextBytes, size);
    }
  });

  it('a signed stream, on the pool or in this thread, reusing its one buffer: the plaintext, its payload hash and no temp file', async t => {
    const dir = tempDir(t);
    const key = newDataKey();
    // A source that overwrites its only buffer as soon as it is asked for more (as a reader reusing a block does):
    // the sealer must have copied each piece by then.
    async function* reusing(plain: Buffer, piece: number): AsyncGenerator<Uint8Array> {
      const buf = Buffer.alloc(piece);
      for (let at = 0; at < plain.length; at += piece) {
        const n = plain.copy(buf, 0, at, Math.min(plain.length, at + piece));
        yield buf.subarray(0, n);
        buf.fill(0xee);
      }
    }
    const ways = [
      { name: 'pool', threshold: '0', threads: '2' },
      { name: 'this thread (below the threshold)', threshold: String(1 << 30), threads: '2' },
      { name: 'this thread (no threads)', threshold: '0', threads: '0' },
    ];
    for (const way of ways) {
      process.env.NOTESEAL_POOL_THRESHOLD = way.threshold;
      process.env.NOTESEAL_CRYPTO_THREADS = way.threads;
      for (const size of [0, 1, C - 1, C, 3 * C, 3 * C + 5, 10 * C + 123]) {
        const plain = pattern(size, size + 3);
        const enc = path.join(dir, `s${size}.enc`);
        let seen: Buffer | undefined;
        const payloadBound = { type: 6, length: 32, build: async (_prefix: Uint8Array, payloadSha256: Uint8Array) => { seen = Buffer.from(payloadSha256); return seen; } };
        await encryptFile(reusing(plain, C + 7), enc, key, STANZAS, { chunkSize: C, payloadBound });
        const bytes = readFileSync(enc);
        const header = parseHeader(bytes);
        assert.deepEqual(seen, createHash('sha256').update(bytes.subarray(header.headerLength)).digest(), `${way.name} ${size}: the hash the stanza signs`);
        assert.deepEqual(Buffer.from(header.stanzas.at(-1)!.body), seen, `${way.name} ${size}: the stanza in the header`);
        assert.deepEqual(await decryptFileToBuffer(enc, fixedKey(key)).then(b => Buffer.from(b)), plain, `${way.name} ${size}: the plaintext`);
      }
      // A stream that fails half-way replaces nothing and leaves no temporary file; the next one is sound.
      const enc = path.join(dir, 'failed.enc');
      async function* failing(): AsyncGenerator<Uint8Array> { yield pattern(7 * C, 1); throw new Error('the source broke'); }
      await assert.rejects(encryptFile(failing(), enc, key, STANZAS, { chunkSize: C, payloadBound: { type: 6, length: 32, build: async () => new Uint8Array(32) } }), /the source broke/);
      assert.equal(existsSync(enc), false, way.name);
      assert.deepEqual(readdirSync(dir).filter(n => n.includes('.tmp-')), [], way.name);
    }
  });

  it('round-trips several sizes through every reader; output equals the sequential encoder\'s plaintext', async t => {
    const dir = tempDir(t);
    const key = newDataKey();
    for (const size of [0, 1, C - 1, C, 3 * C, 3 * C + 5, 10 * C + 123]) {
      const plain = pattern(size, size + 1);
      const src = path.join(dir, `p${size}`);
      writeFileSync(src, plain);
      const enc = path.join(dir, `p${size}.enc`);
      process.env.NOTESEAL_CRYPTO_THREADS = '2';
      await encryptFile(src, enc, key, STANZAS, { chunkSize: C });
      const chunks: Buffer[] = [];
      for await (const c of decryptStream(enc, fixedKey(key))) chunks.push(Buffer.from(c));
      assert.deepEqual(Buffer.concat(chunks), plain, `stream ${size}`);
      const written: Buffer[] = [];
      await decryptVerifiedFirst(enc, fixedKey(key), async b => { for (const c of b) written.push(Buffer.from(c)); }, { retainBytes: 4 * MiB });
      assert.deepEqual(Buffer.concat(written), plain, `verified-first ${size}`);
      const out = path.join(dir, `p${size}.out`);
      await decryptFile(enc, fixedKey(key), out);
      assert.deepEqual(readFileSync(out), plain, `file ${size}`);
      const inOne = await decryptFileToBuffer(enc, fixedKey(key));
      assert.deepEqual(Buffer.from(inOne), plain, `one buffer ${size}`);
      assert.ok(inOne.buffer instanceof SharedArrayBuffer, `${size}: opened on the pool straight into one shared buffer`);
      // The sequential reader agrees, so the fast path wrote the format, not something of its own.
      process.env.NOTESEAL_CRYPTO_THREADS = '0';
      assert.equal((await verifyFile(enc, fixedKey(key))).plaintextBytes, size);
    }
    assert.deepEqual(readdirSync(dir).filter(n => n.includes('.tmp-')), []);
  });

  it('verifying without decrypting (GHASH of the ciphertext as associated data) refuses every flipped tag bit, head bit and sampled body bit', async t => {
    // verifyFile's batches are 'none' on the pool: the workers check each tag without decrypting (pool.ts).
    const dir = tempDir(t);
    const key = newDataKey();
    const K = 1024;
    const size = 7 * K + 100; // 1 KiB chunks: batches of many chunks; the last frame is the final one
    const src = path.join(dir, 'v');
    writeFileSync(src, pattern(size, 3));
    const enc = path.join(dir, 'v.enc');
    process.env.NOTESEAL_CRYPTO_THREADS = '2';
    await encryptFile(src, enc, key, STANZAS, { chunkSize: K });
    const file = readFileSync(enc);
    const headerLength = file.length - (7 * (K + 17) + 21 + 100);
    assert.equal((await verifyFile(enc, fixedKey(key))).plaintextBytes, size);
    const r = prng(5);
    const frames: [number, number, number][] = [[headerLength + 3 * (K + 17), 1, K], [headerLength + 7 * (K + 17), 5, 100]]; // [at, head, body]
    const bits: number[] = [];
    for (const [at, head, body] of frames) {
      for (let b = 0; b < head * 8; b++) bits.push(at * 8 + b);
      for (let b = 0; b < 128; b++) bits.push((at + head + body) * 8 + b); // the tag
      for (let i = 0; i < 24; i++) bits.push((at + head) * 8 + Math.floor(r() * body * 8));
    }
    const damaged = path.join(dir, 'd.enc');
    for (const bit of bits) {
      const b = Buffer.from(file);
      b[bit >> 3] ^= 1 << (bit & 7);
      writeFileSync(damaged, b);
      process.env.NOTESEAL_CRYPTO_THREADS = '2';
      const fast = await outcome(async () => (await verifyFile(damaged, fixedKey(key))).plaintextBytes);
      process.env.NOTESEAL_CRYPTO_THREADS = '0';
      const slow = await outcome(async () => (await verifyFile(damaged, fixedKey(key))).plaintextBytes);
      assert.notEqual(fast.error, 'ok', `bit ${bit}`);
      assert.deepEqual(fast, slow, `bit ${bit}`);
    }
  });

  it('damage anywhere: the same chunks released and the same error as the sequential decoder', async t => {
    const dir = tempDir(t);
    const key = newDataKey();
    const size = 10 * C + 123;
    const src = path.join(dir, 'p');
    writeFileSync(src, pattern(size, 9));
    const enc = path.join(dir, 'p.enc');
    await encryptFile(src, enc, key, STANZAS, { chunkSize: C });
    const file = readFileSync(enc);
    const headerLength = file.length - (10 * FRAME + 21 + 123);
    const r = prng(11);
    const cases: [string, Buffer][] = [
      ['cut at a frame boundary', file.subarray(0, headerLength + 7 * FRAME)],
      ['cut inside a frame', file.subarray(0, headerLength + 4 * FRAME + 100)],
      ['cut inside the final frame', file.subarray(0, file.length - 5)],
      ['a trailing byte', Buffer.concat([file, Buffer.of(0)])],
      ['a frame kind flipped to final', (() => { const b = Buffer.from(file); b[headerLength + 5 * FRAME] = 1; return b; })()],
      ['the final length changed', (() => { const b = Buffer.from(file); b[headerLength + 10 * FRAME + 4] ^= 1; return b; })()],
    ];
    for (let i = 0; i < 6; i++) {
      const b = Buffer.from(file);
      const pos = headerLength + Math.floor(r() * (file.length - headerLength));
      b[pos] ^= 1 << Math.floor(r() * 8);
      cases.push([`bit flip at ${pos}`, b]);
    }
    for (const [name, bytes] of cases) {
      const f = path.join(dir, 'damaged.enc');
      writeFileSync(f, bytes);
      const fast = await readAll(f, key, dir, '2');
      const slow = await readAll(f, key, dir, '0');
      assert.deepEqual(fast, slow, name);
      assert.notEqual((fast.verify as Outcome).error, 'ok', name);
      assert.equal(fast.written, 0, `${name}: nothing written before verification`);
      assert.equal(existsSync(path.join(dir, 'out-2')), false, name);
    }
  });
});
