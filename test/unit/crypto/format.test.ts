// The public API: buffers, headers, files, streams, ranges, key rotation and crash-safe writes.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import {
  decryptBuffer, decryptFile, decryptStream, encryptBuffer, encryptFile, parseHeader, readHeaderFromFile, readRange,
  rewrapFile, verifyFile, writeFileAtomic, type Stanza,
} from '../../../server/src/crypto/format';
import { NoteSealError } from '../../../server/src/crypto/errors';
import { referenceDecrypt } from '../../../server/src/crypto/reference-noble';
import { fixedKey, newDataKey, pattern, prng, rejectsWith, STANZAS, tempDir } from './helpers';
import { assertUnixMode } from '../platformModes';

const KiB = 1024;

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function* pieces(data: Buffer, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let p = 0; p < data.length;) {
    const n = Math.min(data.length - p, sizes());
    yield Buffer.from(data.subarray(p, p + n));
    p += n;
  }
}

describe('buffer API', () => {
  const key = newDataKey();
  for (const size of [0, 1, KiB - 1, KiB, KiB + 1, 5 * KiB, 5 * KiB + 7]) {
    it(`round-trips ${size} bytes at 1 KiB chunks, and the reference agrees`, async () => {
      const pt = pattern(size, size);
      const file = encryptBuffer(pt, key, STANZAS, { chunkSize: KiB });
      assert.deepEqual(await decryptBuffer(file, fixedKey(key)), pt);
      assert.deepEqual(Buffer.from(referenceDecrypt(file, key)), pt);
    });
  }

  it('uses a fresh salt on every write (same input, different bytes)', () => {
    const a = encryptBuffer(Buffer.from('same'), key, STANZAS);
    const b = encryptBuffer(Buffer.from('same'), key, STANZAS);
    assert.notDeepEqual(parseHeader(a).salt, parseHeader(b).salt);
    assert.notDeepEqual(a, b);
  });

  it('parses the header: version, suite, chunk size, stanzas', () => {
    const stanzas: Stanza[] = [{ type: 1, body: Buffer.from('one') }, { type: 2, body: Buffer.alloc(0) }, { type: 255, body: Buffer.alloc(2048, 7) }];
    const h = parseHeader(encryptBuffer(Buffer.from('x'), key, stanzas, { chunkSize: 4096 }));
    assert.equal(h.version, 1);
    assert.equal(h.suite, 1);
    assert.equal(h.chunkSize, 4096);
    assert.equal(h.salt.length, 16);
    assert.equal(h.appendMode, false);
    assert.deepEqual(h.stanzas.map(s => [s.type, Buffer.from(s.body)]), stanzas.map(s => [s.type, Buffer.from(s.body)]));
    assert.equal(h.headerLength, 31 + 1 + (3 + 3) + 3 + (3 + 2048) + 32);
  });

  it('passes the stanzas to unwrap, and a wrong key is WRONG_KEY', async () => {
    const file = encryptBuffer(Buffer.from('secret'), key, STANZAS);
    let seen: readonly Stanza[] = [];
    await decryptBuffer(file, s => { seen = s; return key; });
    assert.deepEqual(Buffer.from(seen[0]!.body), Buffer.from(STANZAS[0]!.body));
    await rejectsWith(decryptBuffer(file, fixedKey(newDataKey())), 'WRONG_KEY');
    await rejectsWith(decryptBuffer(file, () => { throw new NoteSealError('KEY_NOT_FOUND', 'shredded'); }), 'KEY_NOT_FOUND');
  });

  it('rejects bad arguments and limits', () => {
    assert.throws(() => encryptBuffer(Buffer.alloc(1), Buffer.alloc(16), STANZAS), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => encryptBuffer(Buffer.alloc(1), key, STANZAS, { chunkSize: 512 }), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => encryptBuffer(Buffer.alloc(1), key, STANZAS, { chunkSize: 16 * 1024 * 1024 + 1 }), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => encryptBuffer(Buffer.alloc(1), key, Array(17).fill(STANZAS[0])), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => encryptBuffer(Buffer.alloc(1), key, [{ type: 1, body: Buffer.alloc(2049) }]), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
    const file = encryptBuffer(Buffer.alloc(1), key, STANZAS);
    const many = Buffer.from(file); many[31] = 17;
    assert.throws(() => parseHeader(many), (e: NoteSealError) => e.code === 'LIMIT_EXCEEDED');
    const big = Buffer.from(file); big.writeUInt16BE(2049, 33);
    assert.throws(() => parseHeader(big), (e: NoteSealError) => e.code === 'LIMIT_EXCEEDED');
    const huge = Buffer.from(file); huge.writeUInt32BE(0xffffffff, 11);
    assert.throws(() => parseHeader(huge), (e: NoteSealError) => e.code === 'LIMIT_EXCEEDED');
    assert.throws(() => parseHeader(Buffer.alloc(0)), (e: NoteSealError) => e.code === 'NOT_NOTESEAL');
    assert.throws(() => parseHeader(Buffer.from('hello world, plain text')), (e: NoteSealError) => e.code === 'NOT_NOTESEAL');
    assert.throws(() => parseHeader(file.subarray(0, 5)), (e: NoteSealError) => e.code === 'TRUNCATED');
  });

  it('error messages carry no plaintext', async () => {
    const secret = 'TOP-SECRET-PLAINTEXT';
    const file = encryptBuffer(Buffer.from(secret.repeat(100)), key, STANZAS, { chunkSize: KiB });
    file[file.length - 3]! ^= 1;
    const e = await rejectsWith(decryptBuffer(file, fixedKey(key)), 'CORRUPTED');
    assert.ok(!e.message.includes('SECRET') && !JSON.stringify(e.detail).includes('SECRET'));
  });
});

describe('files and streams', () => {
  const key = newDataKey();

  it('encryptFile from a path and from a stream of odd pieces; decryptFile, decryptStream, verifyFile', async t => {
    const dir = tempDir(t);
    const pt = pattern(300 * KiB + 123, 7);
    const src = path.join(dir, 'plain.bin');
    writeFileSync(src, pt);
    const a = path.join(dir, 'a.enc');
    const b = path.join(dir, 'b.enc');
    await encryptFile(src, a, key, STANZAS, { chunkSize: 4 * KiB });
    const r = prng(3);
    await encryptFile(pieces(pt, () => 1 + Math.floor(r() * 10000)), b, key, STANZAS, { chunkSize: 4 * KiB });
    for (const f of [a, b]) {
      assert.deepEqual(await decryptBuffer(readFileSync(f), fixedKey(key)), pt);
      assert.deepEqual(await collect(decryptStream(f, fixedKey(key))), pt);
      assert.deepEqual(await verifyFile(f, fixedKey(key)), { chunks: Math.floor(pt.length / (4 * KiB)) + 1, plaintextBytes: pt.length });
    }
    const out = path.join(dir, 'out.bin');
    await decryptFile(a, fixedKey(key), out);
    assert.deepEqual(readFileSync(out), pt);
    const sink = new PassThrough();
    const got = collect(sink as unknown as AsyncIterable<Buffer>);
    await decryptFile(b, fixedKey(key), sink);
    sink.end();
    assert.deepEqual(await got, pt);
    assert.equal((await readHeaderFromFile(a)).chunkSize, 4 * KiB);
    assertUnixMode(statSync(a).mode, 0o600);
    assert.deepEqual(readdirSync(dir).filter(n => n.includes('.tmp-')), []);
  });

  it('encryptFile from a Uint8Array-yielding generator of the empty input', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'empty.enc');
    await encryptFile((async function* () { /* nothing */ })(), f, key, STANZAS);
    assert.equal((await decryptBuffer(readFileSync(f), fixedKey(key))).length, 0);
  });

  it('a failed decryptFile leaves no output and no temp file', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'x.enc');
    writeFileSync(f, encryptBuffer(pattern(10 * KiB), key, STANZAS, { chunkSize: KiB }).subarray(0, -30));
    const out = path.join(dir, 'x.txt');
    await rejectsWith(decryptFile(f, fixedKey(key), out), 'TRUNCATED');
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir), ['x.enc']);
  });

  it('readRange returns exactly the requested bytes and authenticates only what it needs', async t => {
    const dir = tempDir(t);
    const pt = pattern(20 * KiB + 300, 9);
    const f = path.join(dir, 'r.enc');
    writeFileSync(f, encryptBuffer(pt, key, STANZAS, { chunkSize: KiB }));
    const r = prng(11);
    const cases: [number, number][] = [[0, 0], [0, 1], [0, pt.length], [KiB - 1, KiB + 1], [KiB, 2 * KiB], [pt.length - 5, pt.length + 100], [pt.length + 10, pt.length + 20], [20 * KiB, 20 * KiB + 300]];
    for (let i = 0; i < 40; i++) { const s = Math.floor(r() * pt.length); cases.push([s, s + Math.floor(r() * 5000)]); }
    for (const [s, e] of cases) assert.deepEqual(await readRange(f, fixedKey(key), s, e), pt.subarray(s, Math.min(e, pt.length)), `${s}..${e}`);
    await rejectsWith(readRange(f, fixedKey(key), 5, 2), 'INVALID_ARGUMENT');
    // A damaged chunk outside the range does not matter; inside it does; the end is always checked.
    const bytes = readFileSync(f);
    const h = parseHeader(bytes).headerLength;
    bytes[h + 5 * (KiB + 17) + 100]! ^= 1;
    writeFileSync(f, bytes);
    assert.deepEqual(await readRange(f, fixedKey(key), 0, KiB), pt.subarray(0, KiB));
    const e = await rejectsWith(readRange(f, fixedKey(key), 5 * KiB, 5 * KiB + 1), 'CORRUPTED');
    assert.equal(e.detail.chunk, 5);
    writeFileSync(f, bytes.subarray(0, h + 20 * (KiB + 17)));
    await rejectsWith(readRange(f, fixedKey(key), 0, 10), 'TRUNCATED');
    writeFileSync(f, Buffer.concat([encryptBuffer(pt, key, STANZAS, { chunkSize: KiB }), Buffer.of(1)]));
    await rejectsWith(readRange(f, fixedKey(key), 0, 10), 'TRAILING_DATA');
  });

  it('rewrapFile replaces the stanzas without touching the chunks; the old header no longer verifies with new stanzas', async t => {
    const dir = tempDir(t);
    const pt = pattern(10 * KiB, 4);
    const f = path.join(dir, 'w.enc');
    writeFileSync(f, encryptBuffer(pt, key, STANZAS, { chunkSize: KiB }));
    chmodSync(f, 0o640);
    const before = readFileSync(f);
    const hBefore = parseHeader(before);
    const newStanzas: Stanza[] = [{ type: 1, body: Buffer.from('rewrapped under the new master key') }, { type: 2, body: Buffer.from('ref') }];
    await rewrapFile(f, fixedKey(key), newStanzas);
    const after = readFileSync(f);
    const hAfter = parseHeader(after);
    assert.deepEqual(hAfter.stanzas.map(s => Buffer.from(s.body).toString()), newStanzas.map(s => Buffer.from(s.body).toString()));
    assert.deepEqual(after.subarray(hAfter.headerLength), before.subarray(hBefore.headerLength));
    assert.deepEqual(await decryptBuffer(after, fixedKey(key)), pt);
    assertUnixMode(statSync(f).mode, 0o640);
    // Splicing the new stanzas onto the old MAC (or the reverse) fails.
    const spliced = Buffer.concat([after.subarray(0, hAfter.headerLength - 32), before.subarray(hBefore.headerLength - 32)]);
    await rejectsWith(decryptBuffer(spliced, fixedKey(key)), 'WRONG_KEY');
    await rejectsWith(rewrapFile(f, fixedKey(newDataKey()), STANZAS), 'WRONG_KEY');
  });

  it('writeFileAtomic keeps the mode of the file it replaces and cleans up after a failing source', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'atomic.enc');
    writeFileSync(f, 'old');
    chmodSync(f, 0o604);
    await writeFileAtomic(f, Buffer.from('new'));
    assert.equal(readFileSync(f, 'utf8'), 'new');
    assertUnixMode(statSync(f).mode, 0o604);
    async function* failing(): AsyncGenerator<Uint8Array> { yield Buffer.from('partial'); throw new Error('source failed'); }
    await assert.rejects(writeFileAtomic(f, failing()), /source failed/);
    assert.equal(readFileSync(f, 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['atomic.enc']);
    const fresh = path.join(dir, 'fresh.enc');
    await writeFileAtomic(fresh, Buffer.from('x'));
    assertUnixMode(statSync(fresh).mode, 0o600);
  });
});
