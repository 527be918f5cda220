// sops's own files (issue 27): a save keeps the ciphertext of everything the user did not change, byte for byte —
// every value type sops writes (str, int, float, bool, bytes) and its encrypted comments — so that a git diff of a
// save shows only the changed keys and the MAC and lastmodified. Read from ../shared/testdata/sops (never copied);
// each file's data key from Debian's gpg and sops's published test key (sopsTestdata.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { additionalData, decryptValue, encryptValue } from '../../../server/src/formats/sops-cipher';
import { decryptSopsText, encryptSopsText, newSopsState, sopsDocument, sopsStoreOf } from '../../../server/src/formats/sops';
import { sharedSops, sopsGpg, type SopsGpg } from './sopsTestdata';

/** The files sops 3.13 wrote with a MAC (no_mac.yaml is refused as sops refuses it). */
const FILES = [
  'format.enc.yaml', 'format.enc.json', 'format.enc.env', 'format.enc.ini', 'format-2.enc.ini', 'comments.enc.yaml',
  'comments_unencrypted_comments.yaml', 'multiple_keys.yaml', 'example.yaml', 'example.json', 'example.ini', 'example.txt',
];

/** The document's lines without its sops metadata (which sops itself prints anew at each save). */
function dataLines(text: string): string[] {
  const lines = text.split('\n');
  const end = lines.findIndex(l => /^(sops:|\[sops\]|\s*"sops"\s*:)/.test(l));
  return (end < 0 ? lines : lines.slice(0, end)).filter(l => !l.startsWith('sops_'));
}

/** The data lines of `b` that differ from `a` (same line count asserted), as [line index, line]. */
function changedLines(a: string, b: string): [number, string][] {
  const x = dataLines(a); const y = dataLines(b);
  assert.equal(y.length, x.length, 'the same number of lines');
  return y.flatMap((line, i) => line === x[i] ? [] : [[i, line] as [number, string]]);
}

describe('sops saves keep unchanged ciphertexts byte for byte (sops 3.13\'s files)', () => {
  const dir = sharedSops();
  let gpg: SopsGpg;
  before(() => { gpg = sopsGpg(dir); });
  after(() => gpg.dispose());

  for (const f of FILES) {
    it(`${f}: an unchanged save keeps every value and comment byte for byte`, () => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const opened = decryptSopsText(sopsStoreOf(f, text), text, gpg.dataKeyOf(f, text));
      const again = encryptSopsText(opened.plaintext, opened.state).text;
      const original = dataLines(text);
      // A comment an older sops left in clear text is encrypted by this save, as sops's own save does
      // (comments_unencrypted_comments.yaml); every other line stays.
      const changed = changedLines(text, again).filter(([i, line]) => !(/^\s*#(?!ENC\[)/.test(original[i]!) && /^\s*#ENC\[AES256_GCM,.*type:comment\]$/.test(line)));
      assert.deepEqual(changed, [], `data lines changed in ${f}`);
    });
  }

  it('example.yaml: one value edited changes that value\'s line only (with lastmodified and the MAC); every comment and value type kept', () => {
    const f = 'example.yaml';
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.match(text, /type:comment\]/);
    for (const type of ['str', 'float', 'bool']) assert.match(text, new RegExp(`type:${type}\\]`), type);
    const opened = decryptSopsText('yaml', text, gpg.dataKeyOf(f, text));
    const edited = opened.plaintext.replace(/^(myapp1: ).*$/m, '$1edited-value');
    assert.notEqual(edited, opened.plaintext);
    const again = encryptSopsText(edited, opened.state).text;
    const changed = changedLines(text, again);
    assert.equal(changed.length, 1, `one line changed: ${JSON.stringify(changed)}`);
    assert.match(changed[0]![1], /^myapp1: ENC\[AES256_GCM,.*type:str\]$/);
    assert.match(decryptSopsText('yaml', again, opened.state.dataKey).plaintext, /myapp1: edited-value/);
  });
});

describe('sops saves keep unchanged ciphertexts byte for byte (NoteSeal\'s own files: every type sops writes in YAML)', () => {
  it('str, int, float, bool, comments at every level: an unchanged save keeps all; an edit changes its line only', () => {
    const keys = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const recipients = parseAgeRecipients(/age1[0-9a-z]+/.exec(keys)![0], 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    const plain = '# top\nname: app # inline\ncount: 42\nratio: 0.5\non: true\nnested:\n    # inside\n    list:\n        - one\n        - 2\n        # after the list\n    deep:\n        x: y\n        # after deep\n';
    const made = encryptSopsText(plain, newSopsState('yaml', recipients, {})).text;
    for (const type of ['str', 'int', 'float', 'bool', 'comment']) assert.match(made, new RegExp(`type:${type}\\]`), type);
    const opened = decryptSopsText('yaml', made, newStateKey(made, keys));
    assert.equal(opened.plaintext, plain, 'every comment decrypts where it was written');
    assert.deepEqual(changedLines(made, encryptSopsText(opened.plaintext, opened.state).text), []);
    const edited = encryptSopsText(opened.plaintext.replace('count: 42', 'count: 43'), opened.state).text;
    const changed = changedLines(made, edited);
    assert.equal(changed.length, 1);
    assert.match(changed[0]![1], /^count: ENC\[AES256_GCM,.*type:int\]$/);
  });

  it('a comment after a nested map that NoteSeal encrypted under the parent\'s path (before this fix) still opens; the next save writes it under its own', () => {
    const keys = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const recipients = parseAgeRecipients(/age1[0-9a-z]+/.exec(keys)![0], 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    const made = encryptSopsText('top:\n    deep:\n        x: y\n        # after deep\n', newSopsState('yaml', recipients, {})).text;
    const key = newStateKey(made, keys);
    const own = /#(ENC\[AES256_GCM,[^\]]*type:comment\])/.exec(made)![1]!;
    assert.equal(decryptValue(own, key, additionalData(['top', 'deep']), 'c').text, ' after deep', 'written under the nested map\'s own path, as sops does');
    const old = made.replace(own, encryptValue({ type: 'comment', text: ' after deep' }, key, additionalData(['top'])));
    const opened = decryptSopsText('yaml', old, key);
    assert.match(opened.plaintext, /^ {8}# after deep$/m);
    const saved = encryptSopsText(opened.plaintext, opened.state).text;
    const now = /#(ENC\[AES256_GCM,[^\]]*type:comment\])/.exec(saved)![1]!;
    assert.equal(decryptValue(now, key, additionalData(['top', 'deep']), 'c').text, ' after deep');
  });
});

/** The data key of a file NoteSeal made, unwrapped by Debian's age from its age entry. */
function newStateKey(text: string, keys: string): Uint8Array {
  const doc = sopsDocument('yaml', text);
  const enc = (doc.metadata!['age'] as { enc: string }[])[0]!.enc;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-sopsunchanged-'));
  try {
    fs.writeFileSync(path.join(dir, 'keys.txt'), keys, { mode: 0o600 });
    return new Uint8Array(execFileSync('age', ['-d', '-i', path.join(dir, 'keys.txt')], { input: enc }));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}
