// The shape check of Share Folder…'s "paste an identity" box: NoteSeal identities and both kinds of age
// recipients pass (the worker then parses them fully); anything else, and a pasted secret key, is named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { identityInputProblem } from '../../../client/src/sharing/sharingText';

const V = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../test/vectors/age-hybrid-v1.json'), 'utf8')) as {
  published: { identity: string; recipient: string }[];
};

test('noteseal1, age1 and age1pq1 pass, with surrounding white space', () => {
  for (const ok of [V.published[0]!.recipient, ` ${V.published[1]!.recipient}\n`, 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj', 'noteseal1qqqqzz']) {
    assert.equal(identityInputProblem(ok), undefined, ok.slice(0, 12));
  }
});

test('a secret key is named as one; other text gets the expected prefixes', () => {
  assert.match(identityInputProblem(V.published[0]!.identity)!, /That is a secret key/);
  assert.match(identityInputProblem('AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX')!, /secret key/);
  for (const bad of ['', 'hello', 'age2abc', 'age1pq1 abc', 'AGE1PQ1QQQQ', 'age1qqqqb', 'ssh-ed25519 AAAA']) {
    assert.match(identityInputProblem(bad)!, /starts with noteseal1, age1 or age1pq1/, bad);
  }
});
