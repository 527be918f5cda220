// `noteseal set --json` on sops files (issue 27): VALUE as `sops set` takes it, a JSON value, typed by the
// store as sops types what it reads (YAML: int, float, bool, null; JSON: every number a float), and sops's
// own key path syntax `["a"][1]`. Read back by the independent sops-age (YAML) and sops-decoder (JSON, with
// its MAC check). Without --json the value stays a string, as before.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { decryptSopsText, encryptSopsText, newSopsState, type SopsStoreKind } from '../../../server/src/formats/sops';
import { parseKeyPath, setInPlaintext } from '../../../server/src/formats/sops-set';

const require_ = createRequire(__filename);
const sopsAge = require_('sops-age') as { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' | 'json' | 'env' }): Promise<unknown> };
const sopsDecoder = require_('sops-decoder') as { decrypt(tree: unknown): Promise<unknown> };
const kms = require_('@aws-sdk/client-kms') as { KMSClient: { prototype: { send: (c: unknown) => Promise<unknown> } } };
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };
const keygen = execFileSync('age-keygen', { encoding: 'utf8' });
const secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen)![0];
const recipients = parseAgeRecipients(/# public key: (age1[0-9a-z]+)/.exec(keygen)![1]!, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));

/** A sops file of `plain`, then each [path, value, json?] set as `noteseal set` does it. */
function setAll(kind: SopsStoreKind, plain: string, sets: [string, string, boolean][], extra: Record<string, unknown> = {}): { text: string; dataKey: Uint8Array } {
  const state = newSopsState(kind, recipients, {});
  Object.assign(state.metadata, extra);
  let text = encryptSopsText(plain, state).text;
  for (const [p, v, json] of sets) {
    const opened = decryptSopsText(kind, text, state.dataKey);
    text = encryptSopsText(setInPlaintext(kind, opened.plaintext, p, v, { json }).text, opened.state).text;
  }
  return { text, dataKey: state.dataKey };
}

describe('set --json: values typed as sops types them', () => {
  it('YAML: int, float, bool, null, a JSON string, an object and a list; without --json a string', async () => {
    const { text } = setAll('yaml', 'db:\n    port: 1\nname: x\n', [
      ['db.port', '5433', true], ['["db"]["ratio"]', '2.5', true], ['db.tls', 'true', true], ['db.note', 'null', true],
      ['name', '"5433"', true], ['db.extra', '{"uid1":null,"uid2":1000,"uid3":["bob"]}', true], ['list', '[1,"two",false]', true],
      ['["list"][1]', '"deux"', true], ['raw', '5433', false], ['big', '12345678901234567890', true],
    ]);
    assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'yaml' }), {
      db: { port: 5433, ratio: 2.5, tls: true, note: null, extra: { uid1: null, uid2: 1000, uid3: ['bob'] } },
      name: '5433', list: [1, 'deux', false], raw: '5433', big: Number('12345678901234567890'),
    });
    assert.match(text, /port: ENC\[AES256_GCM,[^\]]*type:int\]/);
    assert.match(text, /ratio: ENC\[AES256_GCM,[^\]]*type:float\]/);
    assert.match(text, /tls: ENC\[AES256_GCM,[^\]]*type:bool\]/);
    assert.match(text, /note: null/, 'a null is left as it is (sops does not encrypt it)');
    assert.match(text, /big: ENC\[AES256_GCM,[^\]]*type:int\]/);
    assert.match(text, /raw: ENC\[AES256_GCM,[^\]]*type:str\]/);
  });

  it('JSON: every number a float as Go decodes JSON; sops-decoder checks the MAC and reads the types', async () => {
    const { text, dataKey } = setAll('json', '{\n\t"port": 1\n}\n', [['port', '5433', true], ['on', 'false', true], ['name', '"n"', true], ['nothing', 'null', true]], { kms: [FAKE_KMS] });
    assert.match(text, /"port": "ENC\[AES256_GCM,[^\]]*type:float\]"/);
    const original = kms.KMSClient.prototype.send;
    kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: dataKey });
    try {
      const decoded = await sopsDecoder.decrypt(JSON.parse(text)) as Record<string, unknown>;
      delete decoded['sops'];
      assert.deepEqual(decoded, { port: 5433, on: false, name: 'n', nothing: null });
    } finally { kms.KMSClient.prototype.send = original; }
  });

  it('dotenv and INI hold strings: a number or bool goes in as its text, null/objects are refused; bad JSON never echoes the value', async () => {
    const { text } = setAll('dotenv', 'A=1\n', [['A', '42', true], ['B', '"b"', true], ['C', 'true', true]]);
    assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'env' }), { A: '42', B: 'b', C: 'true' });
    assert.equal(setInPlaintext('ini', '[s]\nk = v\n', 's.k', '7', { json: true }).text, '[s]\nk = 7\n');
    assert.throws(() => setInPlaintext('dotenv', 'A=1\n', 'A', 'null', { json: true }), /holds strings only/);
    assert.throws(() => setInPlaintext('ini', '[s]\nk = v\n', 's.k', '{"a":1}', { json: true }), /holds strings only/);
    assert.throws(() => setInPlaintext('yaml', 'a: 1\n', 'a', 'hunter2-secret', { json: true }), (e: Error) => /must be JSON/.test(e.message) && !e.message.includes('hunter2'));
  });

  it('key paths: sops\'s ["a"][1] and NoteSeal\'s a[1] / "a.b" name the same segments', () => {
    assert.deepEqual(parseKeyPath('["an_array"][1]'), ['an_array', 1]);
    assert.deepEqual(parseKeyPath('["a.b"]["c"]'), parseKeyPath('"a.b".c'));
    assert.deepEqual(parseKeyPath('app2.db["x\\"y"]'), ['app2', 'db', 'x"y']);
    assert.throws(() => parseKeyPath('["open'), /unclosed/);
  });
});
