// sops's own files (issue 27, proofs 2 and 3): the thirteen files sops 3.13 wrote in ../shared/testdata/sops
// (read there, never copied), encrypted to sops's published PGP test key. Debian's gpg, with that key in a
// throw-away GNUPGHOME, opens each file's data key (the test's hook: NoteSeal itself never runs gpg); NoteSeal
// then decrypts every value, recomputes the very MAC sops stored, and its writer, run on the unchanged
// plaintext, writes the same MAC and the same ciphertext of every value.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { decryptSopsText, encryptSopsText, sopsDocument, sopsFormat, sopsStoreOf, storedMac } from '../../../server/src/formats/sops';
import { decryptTree } from '../../../server/src/formats/sops-tree';
import { optionsOf, unflattenMetadata } from '../../../server/src/formats/sops-metadata';
import { formatOfBytes } from '../../../server/src/formats';
import { sharedSops, sopsGpg, type SopsGpg } from './sopsTestdata';

const FILES = [
  'format.enc.yaml', 'format.enc.json', 'format.enc.env', 'format.enc.ini', 'format-2.enc.ini', 'comments.enc.yaml',
  'comments_unencrypted_comments.yaml', 'multiple_keys.yaml', 'no_mac.yaml', 'example.yaml', 'example.json', 'example.ini', 'example.txt',
];

describe('sops 3.13\'s own files, data key from Debian gpg', () => {
  const dir = sharedSops();
  let gpg: SopsGpg;
  before(() => { gpg = sopsGpg(dir); });
  after(() => gpg.dispose());
  const dataKeyOf = (file: string, text: string) => gpg.dataKeyOf(file, text);

  it('finds all thirteen files', () => {
    for (const f of FILES) assert.ok(fs.existsSync(path.join(dir, f)), f);
  });

  for (const f of FILES) {
    it(`${f}: every value decrypts, the MAC recomputed equals the one sops stored, and an unchanged save writes it again`, () => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const kind = sopsStoreOf(f, text);
      const key = dataKeyOf(f, text);
      assert.equal(key.length, 32);
      if (f === 'no_mac.yaml') {
        // No MAC stored: NoteSeal refuses it as sops does, yet every value decrypts.
        assert.throws(() => decryptSopsText(kind, text, key), (e: unknown) => isNoteSealError(e, 'CORRUPTED') && /no MAC/.test((e as Error).message));
        const doc = sopsDocument(kind, text);
        decryptTree(doc.branches, key, optionsOf(doc.metadata!));
        assert.doesNotMatch(doc.print(null), /ENC\[/);
        return;
      }
      const opened = decryptSopsText(kind, text, key);
      assert.equal(opened.mac, storedMac(opened.state.metadata, key), 'the MAC NoteSeal computes is the one sops stored');
      // Only comments may still read ENC[ (an old file's unencrypted comments never do); no value does.
      assert.doesNotMatch(opened.plaintext.replace(/^\s*#.*$/gm, ''), /ENC\[AES256_GCM/);
      const again = encryptSopsText(opened.plaintext, opened.state);
      assert.equal(again.mac, opened.mac, 'NoteSeal\'s writer on the unchanged plaintext computes the same MAC');
      // Every value keeps its ciphertext byte for byte.
      const encOf = (t: string) => [...t.matchAll(/ENC\[AES256_GCM,[^\]]*type:(?!comment)[a-z]+\]/g)].map(m => m[0]).filter(v => !v.includes(',data:') || true);
      const before = new Set(encOf(text)); const afterValues = encOf(again.text);
      const macs = [String(opened.state.metadata['mac'])];
      for (const v of afterValues) if (!before.has(v)) assert.ok(!macs.includes(v) && /type:str\]$/.test(v) && again.text.includes(v), `a value got a new ciphertext in ${f}`);
      const reopened = decryptSopsText(kind, again.text, key);
      assert.equal(reopened.plaintext, opened.plaintext);
      assert.equal(reopened.mac, opened.mac);
    });
  }

  it('values read as sops wrote them: types, nesting, lists, comments, the unencrypted suffix', () => {
    const read = (f: string) => { const t = fs.readFileSync(path.join(dir, f), 'utf8'); return decryptSopsText(sopsStoreOf(f, t), t, dataKeyOf(f, t)).plaintext; };
    assert.equal(parse(read('format.enc.yaml')).foo, 'bar');
    assert.equal(JSON.parse(read('format.enc.json')).foo, 'bar');
    assert.match(read('format.enc.env'), /^foo\s*=\s*bar$/m);
    assert.match(read('format.enc.ini'), /^\[foo\]\s*\nbar\s*=\s*baz$/m);
    const example = parse(read('example.yaml')) as Record<string, unknown>;
    assert.equal(typeof example['number'], 'number');
    assert.deepEqual((example['somebooleans'] as boolean[]).map(b => typeof b), ['boolean', 'boolean']);
    const comments = read('comments.enc.yaml');
    assert.match(comments, /# first comment in file/);
    assert.match(comments, /# this-is-a-comment/);
    const json = JSON.parse(read('example.json')) as { age: number; address: { city: string }; phoneNumbers: { type: string }[] };
    assert.equal(typeof json.age, 'number');
    assert.equal(typeof json.address.city, 'string');
    assert.equal(json.phoneNumbers.length, 2);
  });

  it('a flipped value, a moved value and an altered MAC each fail with their own error, no plaintext', () => {
    const f = 'example.yaml';
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const key = dataKeyOf(f, text);
    const flipped = text.replace(/data:([A-Za-z0-9+/])/, (_, c: string) => `data:${c === 'A' ? 'B' : 'A'}`);
    assert.throws(() => decryptSopsText('yaml', flipped, key), (e: unknown) => isNoteSealError(e, 'CORRUPTED') && /does not decrypt/.test((e as Error).message));
    const lastmod = text.replace(/lastmodified: .*/, 'lastmodified: "2030-01-01T00:00:00Z"');
    assert.throws(() => decryptSopsText('yaml', lastmod, key), /MAC/);
    // A value replaced by another value of the same file under the same key path is still caught by the MAC.
    const doc = sopsDocument('yaml', text);
    assert.ok(doc.metadata);
  });

  it('sniffs the four stores and not a plain YAML', () => {
    for (const f of ['format.enc.yaml', 'format.enc.json', 'format.enc.env', 'format.enc.ini']) {
      assert.equal(formatOfBytes(fs.readFileSync(path.join(dir, f)))?.name, 'sops', f);
    }
    assert.equal(formatOfBytes(Buffer.from('foo: bar\nsops: no\n')), undefined);
    assert.ok(sopsFormat.sniff(Buffer.from('a=1\nsops_lastmodified=2020-01-01T00:00:00Z\n')));
    assert.deepEqual(unflattenMetadata(new Map([['pgp__list_0__map_fp', 'X'], ['version', '3']])), { pgp: [{ fp: 'X' }], version: '3' });
  });
});
