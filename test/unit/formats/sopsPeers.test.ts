// sops files written by NoteSeal, read by the two independent sops decoders of the npm registry (issue 27,
// proof 1): `sops-age` (YAML, JSON, dotenv; the data key from an age identity) and `sops-decoder` (JSON; it
// checks the MAC, `mac_only_encrypted` included). sops-decoder takes its data key only from AWS KMS: the
// test answers its KMS call with the data key (no network); the decryption and the MAC check are its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ageFileKeyFrom } from '../../../server/src/formats/age-format';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { decryptSopsText, encryptSopsText, newSopsState, sopsFormat, type SopsStoreKind } from '../../../server/src/formats/sops';
import type { KeysAtHand } from '../../../server/src/formats/types';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';

const require_ = createRequire(__filename);
interface SopsAge { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' | 'json' | 'env' }): Promise<unknown> }
const sopsAge = require_('sops-age') as SopsAge;
const sopsDecoder = require_('sops-decoder') as { decrypt(tree: unknown): Promise<unknown> };
const kms = require_('@aws-sdk/client-kms') as { KMSClient: { prototype: { send: (c: unknown) => Promise<unknown> } } };

const keygen = execFileSync('age-keygen', { encoding: 'utf8' });
const secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen)![0];
const publicKey = /# public key: (age1[0-9a-z]+)/.exec(keygen)![1]!;
const recipients = parseAgeRecipients(publicKey, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
const keys = { ageFileKey: stanzas => Promise.resolve(ageFileKeyFrom(parseAgeIdentityFile(secretKey), stanzas)) } as KeysAtHand;
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };

const YAML_PLAIN = `# a comment above
name: Alice
count: 42
ratio: 2.5
whole: 3.0
enabled: true
off: false
empty: ""
nothing: null
multi: |
    line one
    line two
nested:
    password: s3cret
    public_unencrypted: shown
    list:
        - first
        - 7
        - inner: deep
`;

/** A new NoteSeal sops file of `plain` with these options, its data key, and NoteSeal's own reopening of it. */
async function write(kind: SopsStoreKind, plain: string, options: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const state = newSopsState(kind, recipients, options);
  Object.assign(state.metadata, extra);
  const { text } = encryptSopsText(plain, state);
  const reopened = await sopsFormat.open(Buffer.from(text), keys, `x.${kind}`);
  assert.equal(reopened.plaintext.toString(), decryptSopsText(kind, text, state.dataKey).plaintext);
  return { text, dataKey: state.dataKey };
}

async function withKms<T>(dataKey: Uint8Array, f: () => Promise<T>): Promise<T> {
  const original = kms.KMSClient.prototype.send;
  kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: dataKey });
  try { return await f(); } finally { kms.KMSClient.prototype.send = original; }
}

const OPTIONS: [string, Record<string, unknown>][] = [
  ['unencrypted_suffix', { unencrypted_suffix: '_unencrypted' }],
  ['encrypted_suffix', { encrypted_suffix: 'word' }],
  ['encrypted_regex', { encrypted_regex: '^(password|name|list)$' }],
  ['unencrypted_regex', { unencrypted_regex: '^(count|ratio)$' }],
  ['encrypted_comment_regex', { encrypted_comment_regex: 'sops:enc' }],
  ['mac_only_encrypted + encrypted_regex', { encrypted_regex: '^password$', mac_only_encrypted: true }],
];

describe('NoteSeal-written sops files read by sops-age and sops-decoder', () => {
  for (const [name, options] of OPTIONS) {
    it(`YAML, ${name}: sops-age reads every value type`, async () => {
      const { text } = await write('yaml', YAML_PLAIN, options);
      assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'yaml' }), parse(YAML_PLAIN));
    });
    it(`JSON, ${name}: sops-age reads it and sops-decoder checks its MAC`, async () => {
      const plain = JSON.stringify(parse(YAML_PLAIN), null, '\t');
      const { text, dataKey } = await write('json', plain, options, { kms: [FAKE_KMS] });
      const expected = JSON.parse(plain) as Record<string, unknown>;
      assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'json' }), expected);
      const decoded = await withKms(dataKey, () => sopsDecoder.decrypt(JSON.parse(text))) as Record<string, unknown>;
      delete decoded['sops'];
      assert.deepEqual(decoded, expected);
      // A value altered (moved from one key to another) fails sops-decoder's own MAC check.
      const tree = JSON.parse(text) as { nested: { password: unknown }; name: unknown };
      [tree.nested.password, tree.name] = [tree.name, tree.nested.password];
      await assert.rejects(withKms(dataKey, () => sopsDecoder.decrypt(tree)));
    });
  }

  it('dotenv: sops-age reads it', async () => {
    const plain = '# the database\nDB_PASSWORD=hunter2\nAPI_URL_unencrypted=https://example.org\nEMPTY=\n';
    const { text } = await write('dotenv', plain, { unencrypted_suffix: '_unencrypted' });
    assert.match(text, /^API_URL_unencrypted=https:\/\/example.org$/m);
    assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'env' }), { DB_PASSWORD: 'hunter2', API_URL_unencrypted: 'https://example.org', EMPTY: '' });
  });

  it('a save changes only the edited value: the others keep their ciphertext, the MAC is new', async () => {
    const { text, dataKey } = await write('yaml', YAML_PLAIN, { unencrypted_suffix: '_unencrypted' });
    const opened = decryptSopsText('yaml', text, dataKey);
    const saved = encryptSopsText(opened.plaintext.replace('s3cret', 'n3w'), opened.state, new Date('2030-01-01T00:00:00Z')).text;
    const diff = (a: string, b: string) => a.split('\n').filter((l, i) => l !== b.split('\n')[i]);
    assert.deepEqual(diff(saved, text).map(l => l.trim().split(':')[0]), ['password', 'lastmodified', 'mac']);
    assert.equal((await sopsAge.decryptSops(saved, { secretKey, fileType: 'yaml' }) as { nested: { password: string } }).nested.password, 'n3w');
  });

  it('a file wrapped only for PGP and KMS: a typed error naming exactly those keys', async () => {
    const { text } = await write('yaml', 'a: b\n', {});
    const pgpOnly = text.replace(/ {4}age:[\s\S]*?(?=^ {4}lastmodified)/m, '    pgp:\n        - fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n          enc: x\n    kms:\n        - arn: arn:aws:kms:eu-west-1:1:key/k\n          enc: y\n');
    await assert.rejects(sopsFormat.open(Buffer.from(pgpOnly), keys, 's.yaml'), (e: Error & { code?: string }) =>
      e.code === 'WRONG_KEY' && e.message.includes('PGP FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4') && e.message.includes('AWS KMS arn:aws:kms:eu-west-1:1:key/k') && e.message.includes('no age recipient'));
  });
});
