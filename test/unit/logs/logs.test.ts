// Sealed logs (issue 29): the format's log mode (partial frames), continuing a log (recovering it first),
// refusing logs grown by another writer, the appender's flush policy and lock, and the follower.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AppendWriter, decryptBuffer, encryptBuffer, parseHeader, readRangeAndLength, recoverFile, resumeLog, verifyFile,
} from '../../../server/src/crypto/format';
import { decryptStream } from '../../../server/src/crypto/format';
import { LogAppender, logLockPath } from '../../../server/src/logs/appender';
import { readLog } from '../../../server/src/logs/reader';
import { fixedKey, newDataKey, pattern, rejectsWith, STANZAS, tempDir } from '../crypto/helpers';

const KiB = 1024;

/** Writes `pieces`, sealing a partial chunk after each piece whose flag is set; closes unless told not to. */
async function writeLog(file: string, key: Buffer, pieces: [Buffer, boolean][], close = true): Promise<Buffer> {
  const w = await AppendWriter.create(file, key, STANZAS, { chunkSize: KiB, log: true });
  for (const [bytes, flush] of pieces) {
    await w.append(bytes);
    if (flush) await w.flush();
  }
  if (close) await w.close(); else await w.abandon();
  return Buffer.concat(pieces.map(p => p[0]));
}

async function readAll(file: string, key: Buffer): Promise<{ text: Buffer; end: string }> {
  const out: Buffer[] = [];
  const end = await readLog(file, fixedKey(key), async b => { out.push(Buffer.from(b)); });
  return { text: Buffer.concat(out), end };
}

const waitFor = async (what: string, cond: () => Promise<boolean> | boolean, ms = 15_000) => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
};

describe('the log format: partial frames', () => {
  const key = newDataKey();

  it('a log with partial and full chunks reads back through every reader; a recording cannot flush', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    const data = await writeLog(f, key, [[pattern(10, 1), true], [pattern(3 * KiB + 5, 2), true], [pattern(1, 3), true], [pattern(KiB, 4), false], [pattern(700, 5), true]]);
    const bytes = readFileSync(f);
    const h = parseHeader(bytes);
    assert.equal(h.appendMode, true);
    assert.equal((h as { logMode?: boolean }).logMode, true);
    assert.deepEqual(await decryptBuffer(bytes, fixedKey(key)), data);
    const streamed: Buffer[] = [];
    for await (const c of decryptStream(f, fixedKey(key))) streamed.push(Buffer.from(c));
    assert.deepEqual(Buffer.concat(streamed), data);
    assert.equal((await verifyFile(f, fixedKey(key))).plaintextBytes, data.length);
    const r = await readRangeAndLength(f, fixedKey(key), 5, 3000);
    assert.equal(r.plaintextLength, data.length);
    assert.deepEqual(r.data, data.subarray(5, 3000));
    assert.deepEqual((await readAll(f, key)).text, data);
    assert.equal((await readAll(f, key)).end, 'closed');

    const rec = await AppendWriter.create(path.join(dir, 'rec.enc'), key, STANZAS, { chunkSize: KiB });
    await rejectsWith(rec.flush(), 'INVALID_ARGUMENT');
    await rec.abandon();
  });

  it('property: any writes and flushes read back exactly; ranges too; a crash keeps every sealed byte', async t => {
    const dir = tempDir(t);
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2600 }), fc.boolean()), { maxLength: 12 }),
      fc.boolean(),
      fc.nat(), fc.nat(),
      async (steps, crash, a, b) => {
        const f = path.join(dir, `p${n++}.log.enc`);
        const pieces = steps.map(([len, flush], i): [Buffer, boolean] => [pattern(len, i + 7), flush]);
        const data = await writeLog(f, key, pieces, !crash);
        const got = await readAll(f, key);
        if (!crash) {
          assert.deepEqual(got.text, data);
          const start = data.length ? a % (data.length + 1) : 0;
          const end = start + (b % (data.length - start + 1));
          assert.deepEqual((await readRangeAndLength(f, fixedKey(key), start, end)).data, data.subarray(start, end));
          return;
        }
        // Crashed: what was sealed (everything up to the last flush or full chunk) is there, nothing else.
        let sealed = 0;
        let filled = 0;
        for (const [bytes, flush] of pieces) {
          filled += bytes.length;
          sealed += Math.floor(filled / KiB) * KiB;
          filled %= KiB;
          if (flush) { sealed += filled; filled = 0; }
        }
        // No writer's lock beside it (the writer here is the bare format writer): nothing says it crashed.
        assert.equal(got.end, 'truncated');
        assert.deepEqual(got.text, data.subarray(0, sealed));
        writeFileSync(logLockPath(f), '999999999\n'); // the lock a crashed writer leaves (its pid, dead)
        assert.equal((await readAll(f, key)).end, 'unfinished');
        unlinkSync(logLockPath(f));
        await rejectsWith(decryptBuffer(readFileSync(f), fixedKey(key)), 'UNFINISHED');
        await recoverFile(f, fixedKey(key));
        assert.deepEqual(await decryptBuffer(readFileSync(f), fixedKey(key)), got.text);
      }), { numRuns: 40 });
  });

  it('a partial frame is refused outside a log; the log flag alone is refused', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'a.log.enc');
    await writeLog(f, key, [[pattern(100, 1), true], [pattern(10, 2), false]]);
    const bytes = readFileSync(f);
    const noLog = Buffer.from(bytes); noLog[10] = 0x01; // the MAC covers the flags: wrong key first
    await rejectsWith(decryptBuffer(noLog, fixedKey(key)), 'WRONG_KEY');
    const logOnly = Buffer.from(bytes); logOnly[10] = 0x02;
    await rejectsWith(decryptBuffer(logOnly, fixedKey(key)), 'UNSUPPORTED_VERSION');
  });

  it('fuzz: a damaged log never yields bytes that were not written, only typed errors', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'base.log.enc');
    const data = await writeLog(f, key, [[pattern(1500, 1), true], [pattern(40, 2), true], [pattern(2 * KiB, 3), true], [pattern(9, 4), false]]);
    const good = readFileSync(f);
    const headerLength = parseHeader(good).headerLength;
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat()),
      async (edits, cut) => {
        const bad = Buffer.from(good);
        for (const [at, v] of edits) bad[headerLength + (at % (bad.length - headerLength))] = v;
        const file = cut === null ? bad : bad.subarray(0, headerLength + (cut % (bad.length - headerLength)));
        const p = path.join(dir, `f${n++}.log.enc`);
        writeFileSync(p, file);
        const out: Buffer[] = [];
        try {
          await readLog(p, fixedKey(key), async b => { out.push(Buffer.from(b)); });
        } catch (e) {
          assert.ok(['CORRUPTED', 'TRAILING_DATA', 'TRUNCATED'].includes((e as { code?: string }).code ?? ''), String(e));
        }
        const shown = Buffer.concat(out);
        assert.ok(data.subarray(0, shown.length).equals(shown), 'only a prefix of what was written');
        try {
          const all = await decryptBuffer(file, fixedKey(key));
          assert.ok(all.equals(data) || file.equals(good), 'whole reads are all or nothing');
        } catch (e) {
          assert.ok(['CORRUPTED', 'TRAILING_DATA', 'TRUNCATED', 'UNFINISHED'].includes((e as { code?: string }).code ?? ''), String(e));
        }
      }), { numRuns: 150 });
  });
});

describe('continuing a log', () => {
  const key = newDataKey();

  it('a closed log is continued under a new salt; an unclosed one is recovered first (a torn frame dropped)', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    const first = await writeLog(f, key, [[Buffer.from('one\n'), true], [Buffer.from('two\n'), false]]);
    const salt = parseHeader(readFileSync(f)).salt;
    let r = await resumeLog(f, fixedKey(key), key, STANZAS);
    assert.equal(r.recovered, null);
    assert.equal(r.keptBytes, first.length);
    assert.notDeepEqual(parseHeader(readFileSync(f)).salt, salt);
    await r.writer.append(Buffer.from('three\n'));
    await r.writer.flush();
    await r.writer.append(Buffer.from('fou'));
    await r.writer.abandon(); // a crash: "fou" was never sealed
    const sizeAtCrash = statSync(f).size;
    appendFileSync(f, Buffer.from([0x02, 0, 0, 0])); // and a frame head torn by it
    r = await resumeLog(f, fixedKey(key), key, STANZAS);
    assert.deepEqual(r.recovered, { droppedBytes: 4 });
    assert.ok(statSync(f).size >= sizeAtCrash - 40);
    await r.writer.append(Buffer.from('five\n'));
    await r.writer.close();
    assert.equal((await decryptBuffer(readFileSync(f), fixedKey(key))).toString(), 'one\ntwo\nthree\nfive\n');
  });

  it('refuses, leaving the file byte for byte: another key, a foreign chunk, bytes after the end, not a log', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    await writeLog(f, key, [[Buffer.from('mine\n'), true]], false);
    const other = newDataKey();
    const unchanged = async (p: string, code: Parameters<typeof rejectsWith>[1], unwrapKey = key) => {
      const before = readFileSync(p);
      await rejectsWith(resumeLog(p, fixedKey(unwrapKey), key, STANZAS), code);
      assert.deepEqual(readFileSync(p), before);
    };
    await unchanged(f, 'WRONG_KEY', other);
    // A chunk of another writer's log (its own key) spliced on after ours.
    const g = path.join(dir, 'other.log.enc');
    await writeLog(g, other, [[Buffer.from('theirs, a full chunk of it '.repeat(40)), false], [Buffer.from('x'), true]], false);
    const theirs = readFileSync(g);
    appendFileSync(f, theirs.subarray(parseHeader(theirs).headerLength));
    await unchanged(f, 'CORRUPTED');
    // Bytes after a closed log's final chunk.
    const h = path.join(dir, 'closed.log.enc');
    await writeLog(h, key, [[Buffer.from('done\n'), false]]);
    appendFileSync(h, Buffer.from('appended by someone else\n'));
    await unchanged(h, 'TRAILING_DATA');
    // Not a log: a recording, a sealed file.
    const rec = path.join(dir, 'rec.enc');
    await (await AppendWriter.create(rec, key, STANZAS, { chunkSize: KiB })).close();
    await unchanged(rec, 'INVALID_ARGUMENT');
    const plain = path.join(dir, 'notes.enc');
    writeFileSync(plain, encryptBuffer(Buffer.from('notes'), key, STANZAS));
    await unchanged(plain, 'INVALID_ARGUMENT');
  });

  it('fuzz: continuing a damaged or grown log either refuses and leaves it byte for byte, or keeps a prefix of what was written', async t => {
    const dir = tempDir(t);
    const base = path.join(dir, 'base.log.enc');
    const data = await writeLog(base, key, [[pattern(1500, 1), true], [pattern(40, 2), true], [pattern(2 * KiB, 3), false]], false);
    const good = readFileSync(base);
    const headerLength = parseHeader(good).headerLength;
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.option(fc.nat()),
      fc.uint8Array({ maxLength: 40 }),
      async (edits, cut, extra) => {
        let bad = Buffer.from(good);
        for (const [at, v] of edits) bad[headerLength + (at % (bad.length - headerLength))] = v;
        if (cut !== null) bad = bad.subarray(0, headerLength + (cut % (bad.length - headerLength)));
        bad = Buffer.concat([bad, extra]); // another writer's bytes
        const p = path.join(dir, `r${n++}.log.enc`);
        writeFileSync(p, bad);
        try {
          const r = await resumeLog(p, fixedKey(key), key, STANZAS);
          await r.writer.close();
        } catch (e) {
          assert.ok(['CORRUPTED', 'TRAILING_DATA', 'TRUNCATED', 'WRONG_KEY'].includes((e as { code?: string }).code ?? ''), String(e));
          assert.deepEqual(readFileSync(p), bad, 'refused: untouched');
          return;
        }
        const kept = await decryptBuffer(readFileSync(p), fixedKey(key));
        assert.ok(data.subarray(0, kept.length).equals(kept), 'continued: a prefix of what was written, nothing else');
      }), { numRuns: 120 });
  });

  it('a writer whose log grows under it stops without writing over the foreign bytes', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    const w = await AppendWriter.create(f, key, STANZAS, { chunkSize: KiB, log: true });
    await w.append(Buffer.from('ours\n'));
    await w.flush();
    appendFileSync(f, Buffer.from('FOREIGN'));
    const size = statSync(f).size;
    await w.append(Buffer.from('more\n'));
    await rejectsWith(w.flush(), 'CORRUPTED');
    await w.abandon();
    assert.equal(statSync(f).size, size);
    assert.ok(readFileSync(f).subarray(size - 7).equals(Buffer.from('FOREIGN')));
  });
});

describe('LogAppender and readLog', () => {
  const key = newDataKey();
  const keys = () => ({ unwrap: fixedKey(key), newKeys: async () => ({ dataKey: Buffer.from(key), stanzas: STANZAS }) });

  it('seals within the flush interval without closing; one writer at a time; the follower sees each sealed chunk once', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    const log = await LogAppender.open(f, { ...keys(), flushMs: 150, chunkSize: KiB });
    assert.equal(log.start.kind, 'new');
    await rejectsWith(LogAppender.open(f, keys()), 'INVALID_ARGUMENT'); // the lock: a second writer is refused
    const abort = new AbortController();
    const seen: Buffer[] = [];
    const following = readLog(f, fixedKey(key), async b => { seen.push(Buffer.from(b)); }, { follow: true, signal: abort.signal, pollMs: 30 });
    await log.write(Buffer.from('first line\nsecond, half'));
    // No close, no more input: the timer seals it (everything, the half line too) within the interval.
    await waitFor('the first write sealed', () => Buffer.concat(seen).toString() === 'first line\nsecond, half');
    assert.equal((await readAll(f, key)).end, 'writing'); // unclosed, and its writer holds the lock
    await log.write(Buffer.from(' done\n'));
    await log.write(pattern(3 * KiB, 9)); // full chunks go out at once
    await log.close();
    await waitFor('the close seen', () => Buffer.concat(seen).length === 23 + 6 + 3 * KiB);
    // A new appender continues it in a new file: the follower reopens it and shows only what is new.
    const again = await LogAppender.open(f, keys());
    assert.deepEqual(again.start, { kind: 'continued', keptBytes: 29 + 3 * KiB });
    await again.write(Buffer.from('next run\n'));
    await again.close();
    await waitFor('the next run seen', () => Buffer.concat(seen).toString().endsWith('next run\n'));
    abort.abort();
    assert.equal(await following, 'stopped');
    assert.deepEqual(Buffer.concat(seen), Buffer.concat([Buffer.from('first line\nsecond, half done\n'), pattern(3 * KiB, 9), Buffer.from('next run\n')]));
    assert.deepEqual(Buffer.concat(seen), await decryptBuffer(readFileSync(f), fixedKey(key)));
  });

  it('after a second, a write is sealed at its last line boundary; the rest waits', async t => {
    const dir = tempDir(t);
    const f = path.join(dir, 'app.log.enc');
    const log = await LogAppender.open(f, { ...keys(), flushMs: 100_000, chunkSize: KiB });
    await log.write(Buffer.from('a\nb'));
    assert.equal((await readAll(f, key)).text.length, 0); // before the interval: buffered
    (log as unknown as { lastSeal: number }).lastSeal -= 100_000; // the interval has passed
    await log.write(Buffer.from('c\nd'));
    assert.equal((await readAll(f, key)).text.toString(), 'a\nbc\n');
    await log.abandon();
    // As a crash: a stale lock (nobody's pid) stays, so readers say the log was not closed.
    assert.equal(readFileSync(logLockPath(f), 'utf8'), 'unfinished\n');
    assert.equal((await readAll(f, key)).end, 'unfinished');
    const r = await LogAppender.open(f, keys());
    assert.deepEqual(r.start, { kind: 'recovered', keptBytes: 5, droppedBytes: 0 });
    await r.close();
    assert.equal((await readAll(f, key)).end, 'closed');
  });
});
