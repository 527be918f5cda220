// Tamper suite: every way of altering a file must fail with the right typed error and release no
// plaintext (the buffer API returns nothing; streams release only authentic chunks before the damage).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptBuffer, decryptFile, decryptStream, encryptBuffer, encryptBufferDeterministic, parseHeader } from '../../../server/src/crypto/format';
import type { NoteSealErrorCode } from '../../../server/src/crypto/errors';
import { referenceDecrypt } from '../../../server/src/crypto/reference-noble';
import { fixedKey, newDataKey, pattern, prng, rejectsWith, STANZAS, tempDir } from './helpers';

const C = 1024;
const FRAME = C + 17;
const SIZES = [0, 1, C - 1, C, C + 1, 3 * C + 5];
const key = newDataKey();
const unwrap = fixedKey(key);

interface Sample { name: string; plaintext: Buffer; file: Buffer; headerLength: number; frames: Buffer[] }

function sample(size: number, flags = 0): Sample {
  const plaintext = pattern(size, size + 1);
  const file = flags
    ? encryptBufferDeterministic(plaintext, key, STANZAS, { chunkSize: C, salt: pattern(16, size + 99), flags })
    : encryptBuffer(plaintext, key, STANZAS, { chunkSize: C });
  const headerLength = parseHeader(file).headerLength;
  const frames: Buffer[] = [];
  for (let p = headerLength; p < file.length; p += FRAME) frames.push(file.subarray(p, Math.min(file.length, p + FRAME)));
  return { name: `${size} B`, plaintext, file, headerLength, frames };
}

/** Fails with one of `codes` in the fast path, and the reference decryptor rejects too. */
async function mustFail(file: Buffer, codes: NoteSealErrorCode | NoteSealErrorCode[], context: string) {
  const e = await rejectsWith(decryptBuffer(file, unwrap), codes, context);
  assert.throws(() => referenceDecrypt(file, key), `${context}: the reference accepted it`);
  return e;
}

/** What a single-bit change at `pos` must produce, from the layout in docs/FORMAT.md. */
function expectedForFlip(s: Sample, pos: number, bit: number): NoteSealErrorCode[] {
  if (pos < 8) return ['NOT_NOTESEAL'];
  if (pos === 8 || pos === 9) return ['UNSUPPORTED_VERSION'];
  if (pos === 10) return bit === 0 ? ['WRONG_KEY'] : ['UNSUPPORTED_VERSION']; // bit 0 is the (MACed) append flag
  if (pos < 15) return ['LIMIT_EXCEEDED', 'WRONG_KEY']; // chunk size: out of range, or in range and MACed
  if (pos === 31 || (pos >= 33 && pos < 35)) return ['LIMIT_EXCEEDED', 'TRUNCATED', 'WRONG_KEY']; // stanza count / body length
  if (pos < s.headerLength) return ['WRONG_KEY']; // salt, stanza type and body, MAC
  return ['CORRUPTED', 'TRUNCATED']; // frame bytes; TRUNCATED only when a kind or length byte makes a frame overrun the end
}

describe('tamper suite (1 KiB chunks)', () => {
  for (const size of SIZES) {
    const s = sample(size);

    it(`${s.name}: every single-bit flip fails with the right error`, async () => {
      const r = prng(size + 5);
      const headerPositions = Array.from({ length: s.headerLength }, (_, i) => i);
      const payloadPositions = Array.from({ length: s.file.length - s.headerLength }, (_, i) => s.headerLength + i);
      const sampled = payloadPositions.length <= 1200 ? payloadPositions : payloadPositions.filter(() => r() < 0.25);
      for (const pos of [...headerPositions, ...sampled]) {
        const bits = pos < s.headerLength ? [0, 1, 2, 3, 4, 5, 6, 7] : [Math.floor(r() * 8)];
        for (const bit of bits) {
          const t = Buffer.from(s.file);
          t[pos]! ^= 1 << bit;
          const e = await mustFail(t, expectedForFlip(s, pos, bit), `flip byte ${pos} bit ${bit}`);
          if (pos >= s.headerLength) {
            const frame = Math.floor((pos - s.headerLength) / FRAME);
            const frameStart = s.headerLength + frame * FRAME;
            const isLengthField = frame === s.frames.length - 1 && pos - frameStart < 5;
            if (pos !== frameStart && !isLengthField) {
              // A ciphertext or tag byte: exactly this chunk, at this offset.
              assert.equal(e.code, 'CORRUPTED', `flip byte ${pos}`);
              assert.deepEqual(e.detail, { chunk: frame, offset: frameStart }, `flip byte ${pos}`);
            }
          }
        }
      }
    });

    it(`${s.name}: every truncation is TRUNCATED (NOT_NOTESEAL when nothing is left)`, async () => {
      for (let cut = 0; cut < s.file.length; cut++) {
        await mustFail(s.file.subarray(0, cut), cut === 0 ? 'NOT_NOTESEAL' : 'TRUNCATED', `cut at ${cut}`);
      }
    });

    it(`${s.name}: appended bytes are TRAILING_DATA`, async () => {
      const finalFrame = s.frames[s.frames.length - 1]!;
      for (const extra of [Buffer.of(0), Buffer.alloc(16, 0xaa), Buffer.alloc(FRAME, 1), finalFrame, s.frames[0]!]) {
        const e = await mustFail(Buffer.concat([s.file, extra]), 'TRAILING_DATA', `append ${extra.length} bytes`);
        assert.equal(e.detail.offset, s.file.length);
      }
    });

    it(`${s.name}: version, suite, flags and chunk-size changes are refused`, async () => {
      for (const v of [0, 2, 255]) { const t = Buffer.from(s.file); t[8] = v; await mustFail(t, 'UNSUPPORTED_VERSION', `version ${v}`); }
      for (const v of [0, 2]) { const t = Buffer.from(s.file); t[9] = v; await mustFail(t, 'UNSUPPORTED_VERSION', `suite ${v}`); }
      const flagged = Buffer.from(s.file); flagged[10] = 1;
      await mustFail(flagged, 'WRONG_KEY', 'append flag set');
      for (const cs of [2048, 1025, 64 * 1024]) { const t = Buffer.from(s.file); t.writeUInt32BE(cs, 11); await mustFail(t, 'WRONG_KEY', `chunk size ${cs}`); }
      for (const cs of [0, 1023, 16 * 1024 * 1024 + 1]) { const t = Buffer.from(s.file); t.writeUInt32BE(cs, 11); await mustFail(t, 'LIMIT_EXCEEDED', `chunk size ${cs}`); }
      const stripped = Buffer.concat([s.file.subarray(0, 31), Buffer.of(0), s.file.subarray(s.headerLength - 32)]);
      await mustFail(stripped, 'WRONG_KEY', 'stanzas removed');
    });
  }

  it('dropped, duplicated and reordered chunks: property test over random frame sequences', async () => {
    const s = sample(5 * C + 300); // frames 0..4 full, 5 final
    const n = s.frames.length;
    const r = prng(42);
    let checked = 0;
    for (let round = 0; round < 400; round++) {
      // A random edit: drop, duplicate, swap, move, or a random sequence of frame indices.
      const seq = Array.from({ length: n }, (_, i) => i);
      const kind = round % 5;
      const i = Math.floor(r() * n);
      const j = Math.floor(r() * n);
      if (kind === 0) seq.splice(i, 1);
      else if (kind === 1) seq.splice(i, 0, i);
      else if (kind === 2) [seq[i], seq[j]] = [seq[j]!, seq[i]!];
      else if (kind === 3) seq.splice(j, 0, ...seq.splice(i, 1));
      else { seq.length = 0; const len = 1 + Math.floor(r() * (n + 2)); for (let k = 0; k < len; k++) seq.push(Math.floor(r() * n)); }
      const file = Buffer.concat([s.file.subarray(0, s.headerLength), ...seq.map(k => s.frames[k]!)]);
      const firstWrong = seq.findIndex((k, pos) => pos < n && k !== pos); // nothing after the final frame is opened
      if (firstWrong < 0 && seq.length === n) {
        assert.deepEqual(await decryptBuffer(file, unwrap), s.plaintext);
        continue;
      }
      checked++;
      if (firstWrong >= 0) {
        const e = await mustFail(file, 'CORRUPTED', `sequence ${seq.join(',')}`);
        assert.equal(e.detail.chunk, firstWrong, `sequence ${seq.join(',')}`);
      } else if (seq.length < n) {
        await mustFail(file, 'TRUNCATED', `sequence ${seq.join(',')}`);
      } else {
        await mustFail(file, 'TRAILING_DATA', `sequence ${seq.join(',')}`);
      }
    }
    assert.ok(checked > 300);
  });

  it('chunks swapped between two files under the same data key are CORRUPTED', async () => {
    const a = sample(4 * C + 10);
    const b = sample(4 * C + 10);
    assert.notDeepEqual(a.file, b.file);
    for (let i = 0; i < a.frames.length; i++) {
      const frames = a.frames.map((f, k) => (k === i ? b.frames[i]! : f));
      const e = await mustFail(Buffer.concat([a.file.subarray(0, a.headerLength), ...frames]), 'CORRUPTED', `frame ${i} from b`);
      assert.equal(e.detail.chunk, i);
    }
    // B's header on A's chunks: B's header is genuine, so only the chunks can tell.
    const e = await mustFail(Buffer.concat([b.file.subarray(0, b.headerLength), ...a.frames]), 'CORRUPTED', 'b header, a chunks');
    assert.equal(e.detail.chunk, 0);
  });

  it('append-mode files: a missing final chunk is UNFINISHED, anything else as for other files', async () => {
    const s = sample(3 * C + 5, 1);
    for (let cut = s.headerLength; cut < s.file.length; cut++) await rejectsWith(decryptBuffer(s.file.subarray(0, cut), unwrap), 'UNFINISHED', `cut ${cut}`);
    const cleared = Buffer.from(s.file); cleared[10] = 0;
    await mustFail(cleared, 'WRONG_KEY', 'append flag cleared');
    await mustFail(Buffer.concat([s.file, Buffer.of(0)]), 'TRAILING_DATA', 'trailing');
  });

  it('streaming releases only the authentic chunks before the damage; decryptFile to a path releases nothing', async t => {
    const dir = tempDir(t);
    const s = sample(6 * C + 50);
    const r = prng(7);
    for (let round = 0; round < 30; round++) {
      const damaged = Buffer.from(s.file);
      const pos = s.headerLength + Math.floor(r() * (s.file.length - s.headerLength));
      const frame = Math.floor((pos - s.headerLength) / FRAME);
      damaged[pos]! ^= 1 << Math.floor(r() * 8);
      const f = path.join(dir, `d${round}.enc`);
      writeFileSync(f, damaged);
      const released: Buffer[] = [];
      await rejectsWith((async () => { for await (const c of decryptStream(f, unwrap)) released.push(Buffer.from(c)); })(), ['CORRUPTED', 'TRUNCATED'], `stream ${pos}`);
      assert.ok(released.length <= frame, `released ${released.length} chunks, damage in ${frame}`);
      assert.deepEqual(Buffer.concat(released), s.plaintext.subarray(0, released.length * C));
      const out = path.join(dir, `d${round}.txt`);
      await rejectsWith(decryptFile(f, unwrap, out), ['CORRUPTED', 'TRUNCATED']);
      assert.equal(existsSync(out), false);
    }
  });
});
