// sops files in the worker's `noteseal:` view (issue 27), on a real disk with a real keyring holding an
// imported age-keygen identity: a sops file is its own view (shown under its own name), reads as `sops edit`
// shows it and saves with the same data key, options and recipients (unchanged values keep their ciphertexts);
// which files VS Code opens through NoteSeal (sops metadata + a sops name or an ACCEPTED `.sops.yaml` rule);
// a PGP-only file names its key; `.sops.yaml` acceptance and updatekeys from VS Code.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ageFileKeyFrom } from '../../../server/src/formats/age-format';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { encryptSopsText, newSopsState, sopsFormat } from '../../../server/src/formats/sops';
import type { KeysAtHand } from '../../../server/src/formats/types';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';
import type { Keyring } from '../../../server/src/keys/keyring';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import { acceptSopsConfigAt, opensAsSops, pendingSopsConfig, updateSopsKeys } from '../../../server/src/vault/sopsNotes';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring } from '../keys/helpers';

const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Keyring) => ({ unlocked: () => keyring }) as unknown as VaultService;
const PLAIN = '# database\ndb:\n    user: app\n    password: hunter2\napi_token: before\n';

function ageKey() {
  const text = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const publicKey = /# public key: (age1[0-9a-z]+)/.exec(text)![1]!;
  const keys = { ageFileKey: stanzas => Promise.resolve(ageFileKeyFrom(parseAgeIdentityFile(text), stanzas)) } as KeysAtHand;
  return { text, publicKey, keys, recipients: parseAgeRecipients(publicKey, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) })) };
}

/** A keyring holding an imported identity, a repository folder (`.git`) and a sops file writer for that identity. */
async function setup() {
  const { keyring, dir } = await newKeyring();
  const mine = ageKey();
  await keyring.importAgeIdentities(parseAgeIdentityFile(mine.text));
  const repo = path.join(dir, 'repo');
  await fs.mkdir(path.join(repo, '.git'), { recursive: true });
  const writeSops = async (file: string, plain: string, extra: Record<string, unknown> = {}) => {
    const state = newSopsState('yaml', mine.recipients, {});
    Object.assign(state.metadata, extra);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, encryptSopsText(plain, state).text);
  };
  return { keyring, repo, mine, writeSops, files: new EncFileSystem(vaultOf(keyring)) };
}

test('a sops file is its own view: read as sops edit shows it, saved with its ciphertexts, options and recipients kept', async () => {
  const { keyring, repo, mine, writeSops, files } = await setup();
  const file = path.join(repo, 'secrets.sops.yaml');
  await writeSops(file, PLAIN, { unencrypted_suffix: '_unencrypted' });
  assert.equal((await files.stat(file)).type, 'file');
  assert.equal((await files.readFile(file)).toString(), PLAIN);
  const before = await fs.readFile(file, 'utf8');
  await files.writeFile(file, Buffer.from(PLAIN.replace('before', 'after')), WRITE);
  const after = await fs.readFile(file, 'utf8');
  const [a, b] = [before.split('\n'), after.split('\n')];
  assert.equal(a.length, b.length);
  // lastmodified (whole seconds) changes unless the save is in the second the file was written.
  assert.deepEqual(a.flatMap((l, i) => l === b[i] ? [] : [l.trim().split(':')[0]]).filter(k => k !== 'lastmodified'), ['api_token', 'mac']);
  const reopened = await sopsFormat.open(Buffer.from(after), mine.keys, file);
  assert.equal(reopened.plaintext.toString(), PLAIN.replace('before', 'after'));
  assert.equal(reopened.saveState.metadata['unencrypted_suffix'], '_unencrypted');
  assert.deepEqual((reopened.saveState.metadata['age'] as { recipient: string }[]).map(e => e.recipient), [mine.publicKey]);
  assert.deepEqual((await fs.readdir(repo)).sort(), ['.git', 'secrets.sops.yaml'], 'no .enc, no temp file');
  // A plain YAML is no view; a sops file beside an .enc of the same name is refused, never guessed.
  await fs.writeFile(path.join(repo, 'secrets.yaml'), 'sops: a plain key\n');
  await assert.rejects(files.stat(path.join(repo, 'secrets.yaml')), (e: Error & { code?: string }) => e.code === 'FileNotFound');
  await fs.writeFile(`${file}.enc`, 'x');
  await assert.rejects(files.readFile(file), /Both .*a sops file/);
  void keyring;
});

test('a sops file only PGP or KMS opens is refused, naming the keys that would open it; a tampered value fails its MAC', async () => {
  const { repo, writeSops, files } = await setup();
  const file = path.join(repo, 'pgp.enc.yaml');
  await writeSops(file, PLAIN);
  const text = await fs.readFile(file, 'utf8');
  // The age entry replaced by a PGP and a KMS one (as a file made for other teams' keys).
  const pgpOnly = text.replace(/ {4}age:\n(?: {8}.*\n)+/, '    pgp:\n        - fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n          enc: x\n    kms:\n        - arn: arn:aws:kms:us-east-1:1:key/k\n          enc: x\n');
  assert.notEqual(pgpOnly, text);
  await fs.writeFile(file, pgpOnly);
  await assert.rejects(files.readFile(file), (e: Error & { code?: string }) => e.code === 'WRONG_KEY'
    && /PGP FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4/.test(e.message) && /AWS KMS arn:aws:kms/.test(e.message) && !e.message.includes('hunter2'));
  await writeSops(file, PLAIN);
  const swapped = (await fs.readFile(file, 'utf8')).replace(/(password: )(ENC\[[^\]]+\])([\s\S]*api_token: )(ENC\[[^\]]+\])/, '$1$4$3$2');
  await fs.writeFile(file, swapped);
  await assert.rejects(files.readFile(file), (e: Error) => /MAC|authentic|decrypt/i.test(e.message) && !e.message.includes('hunter2'));
});

test('VS Code opens a file through NoteSeal for sops metadata plus a sops name or an ACCEPTED .sops.yaml rule', async () => {
  const { keyring, repo, mine, writeSops } = await setup();
  const kf = keyring.keyfilePath;
  await writeSops(path.join(repo, 'secrets.sops.yaml'), PLAIN);
  await writeSops(path.join(repo, 'app.enc.yaml'), PLAIN);
  await writeSops(path.join(repo, 'config', 'prod.yaml'), PLAIN);
  await fs.writeFile(path.join(repo, 'secrets.yaml'), 'sops: a plain key\nlastmodified: not metadata\n');
  assert.equal(await opensAsSops(path.join(repo, 'secrets.sops.yaml'), kf), true);
  assert.equal(await opensAsSops(path.join(repo, 'app.enc.yaml'), kf), true);
  assert.equal(await opensAsSops(path.join(repo, 'secrets.yaml'), kf), false, 'a plain YAML that looks like one');
  assert.equal(await opensAsSops(path.join(repo, 'config', 'prod.yaml'), kf), false, 'no rule matches it yet');
  const config = path.join(repo, '.sops.yaml');
  await fs.writeFile(config, `creation_rules:\n  - path_regex: config/.*\\.yaml$\n    age: ${mine.publicKey}\n`);
  assert.equal(await opensAsSops(path.join(repo, 'config', 'prod.yaml'), kf), false, 'a rule of an unaccepted .sops.yaml chooses nothing');
  const pending = await pendingSopsConfig(kf, path.join(repo, 'config', 'prod.yaml'));
  await acceptSopsConfigAt(kf, config, pending!.sha256);
  assert.equal(await opensAsSops(path.join(repo, 'config', 'prod.yaml'), kf), true);
  assert.equal(await opensAsSops(path.join(repo, 'config', 'missing.yaml'), kf), false);
});

test('updatekeys from VS Code: an unaccepted .sops.yaml is refused and shown (the recipients it adds), applied only once accepted', async () => {
  const { keyring, repo, mine, writeSops } = await setup();
  const kf = keyring.keyfilePath;
  const other = ageKey();
  const file = path.join(repo, 'secrets.sops.yaml');
  await writeSops(file, PLAIN);
  const config = path.join(repo, '.sops.yaml');
  await fs.writeFile(config, `creation_rules:\n  - age: ${mine.publicKey},${other.publicKey}\n    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n`);
  const before = await fs.readFile(file);
  await assert.rejects(updateSopsKeys(keyring, file), (e: Error & { code?: string }) => e.code === 'UNTRUSTED_RECIPIENTS');
  assert.ok((await fs.readFile(file)).equals(before), 'nothing written');
  const pending = await pendingSopsConfig(kf, file);
  assert.deepEqual({ ...pending, sha256: undefined }, { configFile: config, reason: 'new', sha256: undefined, rule: 1, add: [other.publicKey], remove: [], others: ['pgp FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'] });
  await assert.rejects(acceptSopsConfigAt(kf, config, '0'.repeat(64)), (e: Error & { code?: string }) => e.code === 'UNTRUSTED_RECIPIENTS');
  await acceptSopsConfigAt(kf, config, pending!.sha256);
  assert.equal(await pendingSopsConfig(kf, file), null);
  assert.deepEqual(await updateSopsKeys(keyring, file), { added: [other.publicKey], removed: [], configFile: config });
  assert.equal((await sopsFormat.open(await fs.readFile(file), other.keys, file)).plaintext.toString(), PLAIN, 'the added key opens it');
  assert.equal((await sopsFormat.open(await fs.readFile(file), mine.keys, file)).plaintext.toString(), PLAIN);
  // Changed afterwards: refused again (a pushed rule cannot add a recipient silently).
  await fs.writeFile(config, `creation_rules:\n  - age: ${other.publicKey}\n`);
  await assert.rejects(updateSopsKeys(keyring, file), (e: Error & { code?: string }) => e.code === 'UNTRUSTED_RECIPIENTS');
  assert.equal((await pendingSopsConfig(kf, file))!.reason, 'changed');
  assert.deepEqual((await pendingSopsConfig(kf, file))!.remove, [mine.publicKey]);
});
