// File to file, the worker threads free each output as soon as it is written (pool.ts), so memory stays
// at what is in flight instead of growing by the dead 64 KiB outputs V8 has not collected yet (about
// 60 MiB before that change, and every page of it a fresh page fault). This file runs in a process of
// its own (node:test), so the RSS it measures is the pool's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptFile, decryptVerifiedFirst, encryptFile } from '../../../server/src/crypto/format';
import { warmCryptoPool } from '../../../server/src/crypto/pool';
import { fixedKey, newDataKey, STANZAS, tempDir } from './helpers';

const MiB = 1024 * 1024;
const SIZE = 128 * MiB;

/** Peak RSS above the RSS at the start, sampled every 2 ms while `work` runs (the workers do the work). */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - start;
}

describe('worker pool memory', () => {
  it('file to file, 128 MiB each way: RSS grows by less than 32 MiB; verified first (stdout) by less than 56 MiB', async t => {
    process.env.NOTESEAL_CRYPTO_THREADS = '2';
    warmCryptoPool();
    await new Promise(r => setTimeout(r, 300)); // the threads are up, as in the long-lived worker
    const dir = tempDir(t);
    const plain = path.join(dir, 'plain.bin');
    const fd = openSync(plain, 'w');
    const block = randomBytes(4 * MiB);
    for (let i = 0; i < SIZE / block.length; i++) { block.writeUInt32BE(i, 0); writeSync(fd, block); }
    closeSync(fd);
    const key = newDataKey();
    const enc = path.join(dir, 'plain.enc');
    const out = path.join(dir, 'plain.out');

    const encGrowth = await rssGrowth(() => encryptFile(plain, enc, key, STANZAS));
    const decGrowth = await rssGrowth(() => decryptFile(enc, fixedKey(key), out));
    t.diagnostic(`RSS growth: encrypt ${(encGrowth / MiB).toFixed(1)} MiB, decrypt ${(decGrowth / MiB).toFixed(1)} MiB`);
    assert.ok(readFileSync(out).equals(readFileSync(plain)), 'the round trip changed the bytes');
    // In flight: 3 batches of 4 MiB per worker, read and written in 256 KiB steps; 32 MiB leaves room.
    assert.ok(encGrowth < 32 * MiB, `encrypt: RSS grew by ${(encGrowth / MiB).toFixed(0)} MiB`);
    assert.ok(decGrowth < 32 * MiB, `decrypt: RSS grew by ${(decGrowth / MiB).toFixed(0)} MiB`);

    // Decrypt to stdout (verify first, then decrypt again and write): the second pass's batches come in a
    // ring of slots shared with the workers, so no buffer per batch is left for the garbage collector
    // (before: the RSS grew by about 100 MiB on this file). Kept from the first pass: 16 MiB, as the CLI.
    let written = 0;
    const sink = process.platform === 'win32' ? undefined : openSync('/dev/null', 'w');
    const stdoutGrowth = await rssGrowth(() => decryptVerifiedFirst(enc, fixedKey(key), async parts => {
      for (const p of parts) { if (sink !== undefined) writeSync(sink, p); written += p.length; }
    }, { retainBytes: 16 * MiB }));
    if (sink !== undefined) closeSync(sink);
    t.diagnostic(`RSS growth: decrypt to a writer, verified first ${(stdoutGrowth / MiB).toFixed(1)} MiB`);
    assert.equal(written, SIZE);
    // 16 MiB kept, a ring of 7 batch slots of 4 MiB, a batch of the first pass in flight per worker.
    assert.ok(stdoutGrowth < 56 * MiB, `verified first: RSS grew by ${(stdoutGrowth / MiB).toFixed(0)} MiB`);
  });
});
