import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_PASSPHRASE_LENGTH, passphraseProblem } from '../../../client/src/vault/passphraseStrength';

describe('new passphrase minimum strength', () => {
  it('accepts long passphrases of several words or mixed characters', () => {
    for (const p of ['correct horse battery staple', 'Tr0ub4dor&3-extended!', 'ui test passphrase, long enough', 'mañana será otro día 2026']) {
      assert.equal(passphraseProblem(p), undefined, p);
    }
  });

  it('refuses short ones, saying how long', () => {
    assert.match(passphraseProblem('Sh0rt!pass')!, new RegExp(`at least ${MIN_PASSPHRASE_LENGTH}`));
  });

  it('refuses repetitive ones and ones that are mostly a common word', () => {
    assert.match(passphraseProblem('aaaaaaaaaaaaaaaa')!, /repeats|different/);
    assert.match(passphraseProblem('abababababababab')!, /repeats|different/);
    assert.match(passphraseProblem('password12345678')!, /common/);
  });
});
