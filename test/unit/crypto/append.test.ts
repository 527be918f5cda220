// Append mode (recordings): chunks become durable as they fill; crash leaves UNFINISHED; recover seals.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AppendWriter, decryptBuffer, parseHeader, recoverFile, verifyFile } from '../../../server/src/crypto/format';
import { referenceDecrypt } from '../../../server/src/crypto/reference-noble';
import { fixedKey, newDataKey, pattern, prng, rejectsWith, STANZAS, tempDir } from './helpers';

const KiB = 1024;
const FRAME = KiB + 17;

async function record(file: string, key: Buffer, data: Buffer, seed: number): Promise<AppendWriter> {
  const w = await AppendWriter.create(file, key, STANZAS, { chunkSize: KiB });
  const r = prng(seed);
  for (let p = 0; p < data.length;) {
    const n = Math.min(data.length - p, 1 + Math.floor(r() * 700));
    await w.append(data.subarray(p, p + n));
    p += n;
  }
  return w;
}

describe('AppendWriter and recoverFile', () => {
  const key = newDataKey();

  it('writes a file that decrypts like any other, and refuses to overwrite', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'rec.enc');
    const data = pattern(10 * KiB + 77, 2);
    const w = await record(f, key, data, 1);
    assert.equal(w.plaintextBytes, data.length);
    await w.close();
    const bytes = readFileSync(f);
    assert.equal(parseHeader(bytes).appendMode, true);
    assert.deepEqual(await decryptBuffer(bytes, fixedKey(key)), data);
    assert.deepEqual(Buffer.from(referenceDecrypt(bytes, key)), data);
    await assert.rejects(AppendWriter.create(f, key, STANZAS), /EEXIST/);
    await rejectsWith(w.append(Buffer.of(1)), 'INVALID_ARGUMENT');
  });

  it('full chunks are on disk as soon as append resolves; an unclosed recording is UNFINISHED', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'crash.enc');
    const data = pattern(5 * KiB + 100, 3);
    const w = await record(f, key, data, 2);
    const h = parseHeader(readFileSync(f)).headerLength;
    assert.equal(readFileSync(f).length, h + 5 * FRAME);
    await w.abandon(); // as a crash would
    await rejectsWith(verifyFile(f, fixedKey(key)), 'UNFINISHED');
    await rejectsWith(decryptBuffer(readFileSync(f), fixedKey(key)), 'UNFINISHED');
    const r = await recoverFile(f, fixedKey(key));
    assert.deepEqual(r, { chunks: 6, plaintextBytes: 5 * KiB, droppedBytes: 0 });
    assert.deepEqual(await decryptBuffer(readFileSync(f), fixedKey(key)), data.subarray(0, 5 * KiB));
    // Recovering again changes nothing.
    const again = readFileSync(f);
    assert.deepEqual(await recoverFile(f, fixedKey(key)), { chunks: 6, plaintextBytes: 5 * KiB, droppedBytes: 0 });
    assert.deepEqual(readFileSync(f), again);
  });

  it('recovery re-encrypts under a fresh salt, so no nonce of the old payload key is reused', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'salt.enc');
    const w = await record(f, key, pattern(3 * KiB, 4), 3);
    await w.abandon();
    const before = parseHeader(readFileSync(f));
    await recoverFile(f, fixedKey(key));
    const after = parseHeader(readFileSync(f));
    assert.notDeepEqual(after.salt, before.salt);
    assert.equal(after.appendMode, true);
  });

  it('a torn last frame (crash mid-write) is dropped, every complete chunk is kept', async t => {
    const dir = tempDir(t);
    const data = pattern(8 * KiB, 5);
    for (const tear of [1, 17, 500, FRAME - 1]) {
      const f = path.join(dir, `torn-${tear}.enc`);
      const w = await record(f, key, data, tear);
      await w.abandon();
      const h = parseHeader(readFileSync(f)).headerLength;
      truncateSync(f, h + 6 * FRAME + tear); // chunk 6 only partly reached the disk
      await rejectsWith(verifyFile(f, fixedKey(key)), 'UNFINISHED');
      const r = await recoverFile(f, fixedKey(key));
      assert.deepEqual(r, { chunks: 7, plaintextBytes: 6 * KiB, droppedBytes: tear });
      assert.deepEqual(await decryptBuffer(readFileSync(f), fixedKey(key)), data.subarray(0, 6 * KiB));
    }
    // A complete-length last frame with a hole in it (a lost page) is dropped too.
    const f = path.join(dir, 'hole.enc');
    const w = await record(f, key, data, 9);
    await w.abandon();
    const bytes = readFileSync(f);
    bytes[bytes.length - 200] ^= 0xff;
    writeFileSync(f, bytes);
    assert.equal((await recoverFile(f, fixedKey(key))).droppedBytes, FRAME);
  });

  it('a torn final chunk (crash during close) is recovered without reusing its nonce', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'close.enc');
    const data = pattern(4 * KiB + 600, 6);
    const w = await record(f, key, data, 6);
    await w.close();
    const size = readFileSync(f).length;
    truncateSync(f, size - 10);
    await rejectsWith(verifyFile(f, fixedKey(key)), 'UNFINISHED');
    assert.deepEqual(await recoverFile(f, fixedKey(key)), { chunks: 5, plaintextBytes: 4 * KiB, droppedBytes: 600 + 21 - 10 });
  });

  it('recover does not paper over damage in the middle, trailing data, or ordinary truncated files', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'mid.enc');
    const w = await record(f, key, pattern(6 * KiB, 7), 7);
    await w.abandon();
    const bytes = readFileSync(f);
    const h = parseHeader(bytes).headerLength;
    bytes[h + FRAME + 10] ^= 1;
    writeFileSync(f, bytes);
    await rejectsWith(recoverFile(f, fixedKey(key)), 'CORRUPTED');
    assert.deepEqual(readFileSync(f), bytes);
    const g = path.join(dir, 'closed.enc');
    const w2 = await record(g, key, pattern(2 * KiB, 8), 8);
    await w2.close();
    appendFileSync(g, Buffer.of(0));
    await rejectsWith(recoverFile(g, fixedKey(key)), 'TRAILING_DATA');
    await rejectsWith(recoverFile(g, fixedKey(newDataKey())), 'WRONG_KEY');
  });
});
