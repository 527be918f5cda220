// A sops merge conflict resolved in the `noteseal:` view (issue 27, "Git"): the merge driver's conflicting
// result is ours' file (valid: sops-decoder checks its MAC) with the merge view sealed in it; the worker's view
// (what VS Code opens) shows that view with git's markers; a save that still holds markers keeps the file
// valid with ours' values and the new text sealed; the resolved save is a valid sops file (MAC checked by
// sops-decoder) with ours' data key and recipients, every value keeping a ciphertext one side had.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { mergeSops } from '../../../server/src/cli/git-sops';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { decryptSopsText, encryptSopsText, newSopsState } from '../../../server/src/formats/sops';
import { setInPlaintext } from '../../../server/src/formats/sops-set';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';
import type { Keyring } from '../../../server/src/keys/keyring';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring } from '../keys/helpers';

const require_ = createRequire(__filename);
const sopsDecoder = require_('sops-decoder') as { decrypt(tree: unknown): Promise<unknown> };
const kms = require_('@aws-sdk/client-kms') as { KMSClient: { prototype: { send: (c: unknown) => Promise<unknown> } } };
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };
const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Keyring) => ({ unlocked: () => keyring }) as unknown as VaultService;

/** sops-decoder's own decryption and MAC check (its KMS call answered with the data key). */
async function decoded(text: string, key: Uint8Array): Promise<Record<string, unknown>> {
  const original = kms.KMSClient.prototype.send;
  kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: key });
  try {
    const tree = await sopsDecoder.decrypt(JSON.parse(text)) as Record<string, unknown>;
    delete tree['sops'];
    return tree;
  } finally { kms.KMSClient.prototype.send = original; }
}

const BASE = JSON.stringify({ db: { user: 'app', password: 'p1' }, port: 5432, token: 't1' }, null, '\t') + '\n';

test('a sops merge conflict: ours valid for sops-decoder, the view with markers in the editor, saves with and without markers', async () => {
  const { keyring, dir } = await newKeyring();
  const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  await keyring.importAgeIdentities(parseAgeIdentityFile(identity));
  const recipient = parseAgeRecipients(/# public key: (age1[0-9a-z]+)/.exec(identity)![1]!, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
  const state = newSopsState('json', recipient, {});
  Object.assign(state.metadata, { kms: [FAKE_KMS] });
  const key = new Uint8Array(state.dataKey);
  const base = encryptSopsText(BASE, state).text;
  const edit = (sets: [string, string][], later: number) => {
    const s = decryptSopsText('json', base, key);
    let plain = s.plaintext;
    for (const [k, v] of sets) plain = setInPlaintext('json', plain, k, v).text;
    return encryptSopsText(plain, s.state, new Date(Date.now() + later)).text;
  };
  const ours = edit([['db.password', 'canary-ours-41'], ['db.user', 'ours-user']], 1000);
  const theirs = edit([['db.password', 'canary-theirs-42'], ['token', 't2']], 2000);
  const side = (t: string) => decryptSopsText('json', t, key);
  const merged = mergeSops(side(base), side(ours), side(theirs));
  assert.equal(merged.text, null);
  assert.deepEqual(merged.conflicts, ['db.password']);
  const file = path.join(dir, 'app.sops.json');
  await fs.writeFile(file, merged.sealed!);
  assert.doesNotMatch(merged.sealed!, /canary/);
  const oursValues = { db: { user: 'ours-user', password: 'canary-ours-41' }, port: 5432, token: 't1' };
  assert.deepEqual(await decoded(merged.sealed!, key), oursValues, 'sops-decoder: MAC checked, ours\' values');

  // The editor's view: the merge with git's markers (ours' and theirs' values, theirs' token already merged).
  const files = new EncFileSystem(vaultOf(keyring));
  const view = (await files.readFile(file)).toString();
  assert.match(view, /<<<<<<< ours\n[^=]*"password": "canary-ours-41"\n=======\n[^>]*"password": "canary-theirs-42"\n>>>>>>> theirs\n/);
  assert.match(view, /"token": "t2"/);

  // A save (save-soon, Ctrl+S) while markers remain: the file stays a valid sops file of ours' values, the text sealed.
  const partly = view.replace('"user": "ours-user"', '"user": "both-user"');
  await files.writeFile(file, Buffer.from(partly), WRITE);
  const afterPartly = await fs.readFile(file, 'utf8');
  assert.deepEqual(await decoded(afterPartly, key), oursValues);
  assert.equal((await files.readFile(file)).toString(), partly, 'the edited view is what opens again');
  assert.doesNotMatch(afterPartly, /canary|both-user/);

  // The resolved save: ours' new user, theirs' password; a valid sops file, no pending merge, ours' key and recipients.
  const resolved = partly.replace(/<<<<<<< ours\n[\s\S]*?>>>>>>> theirs\n/, '\t\t"user": "both-user",\n\t\t"password": "canary-theirs-42"\n');
  await files.writeFile(file, Buffer.from(resolved), WRITE);
  const done = await fs.readFile(file, 'utf8');
  assert.deepEqual(await decoded(done, key), { db: { user: 'both-user', password: 'canary-theirs-42' }, port: 5432, token: 't2' });
  assert.equal((await files.readFile(file)).toString(), resolved);
  const meta = (JSON.parse(done) as { sops: Record<string, unknown> }).sops;
  assert.equal(meta['noteseal_merge'], undefined);
  assert.deepEqual(meta['age'], (JSON.parse(ours) as { sops: Record<string, unknown> }).sops['age']);
  const valueOf = (t: string, ...p: string[]) => p.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], JSON.parse(t));
  assert.equal(valueOf(done, 'db', 'password'), valueOf(theirs, 'db', 'password'), 'theirs\' value keeps theirs\' ciphertext');
  assert.equal(valueOf(done, 'token'), valueOf(theirs, 'token'));
  assert.equal(valueOf(done, 'port'), valueOf(base, 'port'), 'an unchanged value keeps its ciphertext');
  assert.doesNotMatch(done, /canary/);
});
