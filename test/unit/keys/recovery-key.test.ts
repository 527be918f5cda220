import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeRecoveryKey, encodeRecoveryKey } from '../../../server/src/keys/recovery-key';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const FIXED_KEY = new Uint8Array(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));

function code(fn: () => unknown): string | undefined {
  try { fn(); return undefined; } catch (e) { return (e as { code?: string }).code; }
}

describe('recovery key', () => {
  it('round-trips random master keys and prints 14 groups of 4', () => {
    for (let i = 0; i < 50; i++) {
      const key = new Uint8Array(randomBytes(32));
      const text = encodeRecoveryKey(key);
      assert.match(text, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
      assert.deepEqual(decodeRecoveryKey(text), key);
    }
  });

  it('forgives case, spaces, missing dashes and O/0, I/L/1 confusion', () => {
    const text = encodeRecoveryKey(FIXED_KEY);
    const sloppy = text.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    assert.deepEqual(decodeRecoveryKey(`  ${sloppy}\n`), FIXED_KEY);
    assert.deepEqual(decodeRecoveryKey(text.replace(/-/g, '').replace(/1/g, 'I')), FIXED_KEY);
  });

  it('catches every single-character typo', () => {
    const chars = encodeRecoveryKey(FIXED_KEY).replace(/-/g, '');
    for (let i = 0; i < chars.length; i++) {
      const replacement = ALPHABET[(ALPHABET.indexOf(chars[i]) + 1 + (i % 7)) % 32];
      const typo = chars.slice(0, i) + replacement + chars.slice(i + 1);
      assert.equal(code(() => decodeRecoveryKey(typo)), 'INVALID_ARGUMENT', `typo at ${i} not caught`);
    }
  });

  it('catches swapped neighbours', () => {
    const chars = encodeRecoveryKey(FIXED_KEY).replace(/-/g, '');
    for (let i = 0; i + 1 < chars.length; i++) {
      if (chars[i] === chars[i + 1]) continue;
      const swapped = chars.slice(0, i) + chars[i + 1] + chars[i] + chars.slice(i + 2);
      assert.equal(code(() => decodeRecoveryKey(swapped)), 'INVALID_ARGUMENT', `swap at ${i} not caught`);
    }
  });

  it('rejects a wrong length or a character outside the alphabet, without echoing the key', () => {
    const text = encodeRecoveryKey(FIXED_KEY);
    assert.throws(() => decodeRecoveryKey(text.slice(0, -1)), /expected 56 characters, got 55/);
    assert.throws(() => decodeRecoveryKey('U' + text.slice(1)), /character 1 is not/);
    try { decodeRecoveryKey(text.slice(0, -2) + 'ZZ'); } catch (e) {
      assert.ok(!(e as Error).message.includes(text.slice(0, 8)));
    }
  });
});
