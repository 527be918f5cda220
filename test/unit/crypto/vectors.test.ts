// Every test vector, checked by both decryptors: the fast path (node:crypto) and the independent
// reference (@noble/ciphers). Positive vectors are also re-encrypted byte for byte.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptBuffer, encryptBufferDeterministic } from '../../../server/src/crypto/format';
import { referenceDecrypt } from '../../../server/src/crypto/reference-noble';
import { fixedKey, rejectsWith } from './helpers';
import type { NoteSealErrorCode } from '../../../server/src/crypto/errors';

interface Vector {
  name: string; chunkSize: number; flags: number; saltHex: string; stanzas: { type: number; bodyHex: string }[];
  plaintextHex?: string; plaintextPattern?: { length: number }; plaintextSha256?: string; fileHex: string; expect: string;
}
const root = path.resolve(__dirname, '../../../..');
const doc = JSON.parse(readFileSync(path.join(root, 'test/vectors/v1.json'), 'utf8')) as { dataKeyHex: string; vectors: Vector[] };
const dataKey = Buffer.from(doc.dataKeyHex, 'hex');

function expectedPlaintext(v: Vector): Buffer {
  if (v.plaintextHex !== undefined) return Buffer.from(v.plaintextHex, 'hex');
  return Buffer.from(Array.from({ length: v.plaintextPattern!.length }, (_, i) => (31 * i + 7) & 255));
}

describe('test vectors (test/vectors/v1.json)', () => {
  it('has positive and negative vectors', () => {
    assert.ok(doc.vectors.filter(v => v.expect === 'ok').length >= 6);
    assert.ok(doc.vectors.filter(v => v.expect !== 'ok').length >= 10);
  });
  for (const v of doc.vectors) {
    const file = Buffer.from(v.fileHex, 'hex');
    if (v.expect === 'ok') {
      it(`decrypts with both implementations: ${v.name}`, async () => {
        const plaintext = expectedPlaintext(v);
        if (v.plaintextSha256) assert.equal(createHash('sha256').update(plaintext).digest('hex'), v.plaintextSha256);
        assert.deepEqual(await decryptBuffer(file, fixedKey(dataKey)), plaintext);
        assert.deepEqual(Buffer.from(referenceDecrypt(file, dataKey)), plaintext);
      });
      it(`re-encrypts to the same bytes: ${v.name}`, () => {
        const stanzas = v.stanzas.map(s => ({ type: s.type, body: Buffer.from(s.bodyHex, 'hex') }));
        const again = encryptBufferDeterministic(expectedPlaintext(v), dataKey, stanzas, { chunkSize: v.chunkSize, salt: Buffer.from(v.saltHex, 'hex'), flags: v.flags });
        assert.equal(again.toString('hex'), v.fileHex);
      });
    } else {
      it(`both implementations reject with ${v.expect}: ${v.name}`, async () => {
        await rejectsWith(decryptBuffer(file, fixedKey(dataKey)), v.expect as NoteSealErrorCode, v.name);
        const referenceCode = v.expect === 'UNFINISHED' ? 'TRUNCATED' : v.expect; // the reference has no append mode
        assert.throws(() => referenceDecrypt(file, dataKey), (e: { code?: string }) => e.code === referenceCode, v.name);
      });
    }
  }
});
