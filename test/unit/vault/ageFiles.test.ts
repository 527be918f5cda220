// age files in the worker's `noteseal:` view (issue 26), on a real disk with a real keyring and Debian's
// `age`: `x.md.age` is shown as `x.md`, opens with an imported age identity, and a save writes a real age
// file (armored if it was) to the accepted `.age-recipients` only; a passphrase (scrypt) file opens with its
// own passphrase, held in memory while unlocked, and stays a passphrase file that `age -d` opens; two files
// for one name and a tampered file are refused with no plaintext.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Decrypter, Encrypter } from 'age-encryption';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ageFileFacts } from '../../../server/src/formats/age';
import { acceptAgeListAt, pendingAgeList } from '../../../server/src/formats/age-recipients';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';
import type { Keyring } from '../../../server/src/keys/keyring';
import { describeAgeNote } from '../../../server/src/vault/ageNotes';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import { VaultService } from '../../../server/src/vault/vaultService';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { EncWatchers } from '../../../server/src/vault/watcher';
import type { FileChange } from '../../../server/src/protocol';
import { newKeyring, PASSPHRASE } from '../keys/helpers';

const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Keyring) => ({ unlocked: () => keyring }) as unknown as VaultService;

/** A keyring holding an imported age-keygen identity, a store folder whose `.age-recipients` lists it, and age. */
async function setup() {
  const { keyring, dir } = await newKeyring();
  const keys = path.join(dir, 'keys.txt');
  execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
  const held = parseAgeIdentityFile(await fs.readFile(keys, 'utf8'));
  await keyring.importAgeIdentities(held);
  const store = path.join(dir, 'store');
  await fs.mkdir(store);
  await fs.writeFile(path.join(store, '.age-recipients'), `# a passage store\n${recipient}\n`);
  const ageEncrypt = async (file: string, text: string, armor = false) => {
    const plain = path.join(dir, 'plain');
    await fs.writeFile(plain, text);
    execFileSync('age', [...(armor ? ['-a'] : []), '-r', recipient, '-o', file, plain]);
    await fs.rm(plain);
  };
  const ageDecrypt = (file: string) => execFileSync('age', ['-d', '-i', keys, file], { encoding: 'utf8' });
  const ctx = { keyfilePath: keyring.keyfilePath, ownIdentity: null };
  return { keyring, store, recipient, files: new EncFileSystem(vaultOf(keyring)), ageEncrypt, ageDecrypt, ctx };
}

test('an age file is shown without .age, opens decrypted, and saves as an age file to the accepted .age-recipients', async () => {
  const { keyring, store, recipient, files, ageEncrypt, ageDecrypt, ctx } = await setup();
  const file = path.join(store, 'work.md.age');
  const view = path.join(store, 'work.md');
  await ageEncrypt(file, '# Work\nuser: alice\n');
  assert.deepEqual(await files.readDirectory(store), [['work.md', 'file']]);
  assert.equal((await files.stat(view)).type, 'file');
  assert.equal((await files.readFile(view)).toString(), '# Work\nuser: alice\n');

  // Not accepted yet: nothing is written, and the list waits for the user (VS Code asks).
  const before = await fs.readFile(file);
  await files.stat(view);
  await assert.rejects(files.writeFile(view, Buffer.from('edited\n'), WRITE), (e: Error & { code?: string }) =>
    e.code === 'UNTRUSTED_RECIPIENTS' && /has not been accepted/.test(e.message));
  assert.deepEqual(await fs.readFile(file), before);
  const who = await describeAgeNote(keyring, file, 1 << 20);
  assert.equal(who.stanzaTypes, 'X25519');
  assert.match(who.nextSaveProblem ?? '', /has not been accepted/);
  const pending = await pendingAgeList(file, ctx);
  assert.ok(pending);
  assert.equal(pending.reason, 'new');
  assert.equal(pending.recipients.length, 1);
  await assert.rejects(acceptAgeListAt(pending.listFile, '0'.repeat(64), ctx), /changed while you reviewed it/);
  await acceptAgeListAt(pending.listFile, pending.sha256, ctx);
  assert.equal(await pendingAgeList(file, ctx), null);
  assert.deepEqual((await describeAgeNote(keyring, file, 1 << 20)).nextSave, { source: path.join(store, '.age-recipients'), recipients: [recipient] });

  await files.stat(view);
  await files.writeFile(view, Buffer.from('edited\n'), WRITE);
  assert.equal((await fs.readFile(file, 'latin1')).slice(0, 22), 'age-encryption.org/v1\n');
  assert.equal(ageDecrypt(file), 'edited\n');
  assert.equal((await files.readFile(view)).toString(), 'edited\n');
  assert.deepEqual((await fs.readdir(store)).sort(), ['.age-recipients', 'work.md.age'], 'no .enc beside it, no temp file left');

  // A changed list is refused again until accepted again.
  await fs.appendFile(path.join(store, '.age-recipients'), '# changed\n');
  await files.stat(view);
  await assert.rejects(files.writeFile(view, Buffer.from('again\n'), WRITE), (e: Error & { code?: string }) => e.code === 'UNTRUSTED_RECIPIENTS' && /changed since/.test(e.message));
  assert.equal((await pendingAgeList(file, ctx))?.reason, 'changed');
});

test('with no list, a file age wrote to your imported key is saved to that key: `age -d -i keys.txt` still opens it', async () => {
  const { keyring, store, files, ageEncrypt, ageDecrypt, recipient } = await setup();
  await keyring.ensureIdentity(); // your NoteSeal identity (post-quantum) exists too: it must not take the file over
  const loose = path.join(path.dirname(store), 'loose');
  await fs.mkdir(loose);
  const file = path.join(loose, 'secrets.env.age');
  await ageEncrypt(file, 'TOKEN=1\n');
  assert.deepEqual((await describeAgeNote(keyring, file, 1 << 20)).nextSave, { source: 'your identity', recipients: [recipient] });
  await files.writeFile(path.join(loose, 'secrets.env'), Buffer.from('TOKEN=2\n'), WRITE);
  assert.equal(ageDecrypt(file), 'TOKEN=2\n', 'the age tool that wrote it opens it after the save');
  assert.equal((await files.readFile(path.join(loose, 'secrets.env'))).toString(), 'TOKEN=2\n');
});

test('an armored age file stays armored; a rename keeps .age', async () => {
  const { store, files, ageEncrypt, ageDecrypt, ctx } = await setup();
  const file = path.join(store, 'api.env.age');
  await ageEncrypt(file, 'API_KEY=1\n', true);
  await acceptAgeListAt(path.join(store, '.age-recipients'), (await pendingAgeList(file, ctx))!.sha256, ctx);
  assert.equal((await files.readFile(path.join(store, 'api.env'))).toString(), 'API_KEY=1\n');
  await files.writeFile(path.join(store, 'api.env'), Buffer.from('API_KEY=2\n'), WRITE);
  assert.match(await fs.readFile(file, 'latin1'), /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
  assert.equal(ageDecrypt(file), 'API_KEY=2\n');
  await files.rename(path.join(store, 'api.env'), path.join(store, 'prod.env'), false);
  assert.deepEqual((await fs.readdir(store)).filter(n => !n.startsWith('.')), ['prod.env.age']);
});

/** `age -d` of a passphrase file: Debian's age reads a passphrase only from a terminal, so through `script`'s pty. */
function ageDecryptWithPassphrase(file: string, passphrase: string, out: string): string {
  execFileSync('script', ['-qec', `age -d -o '${out}' '${file}'`, '/dev/null'], { input: `${passphrase}\n`, stdio: ['pipe', 'ignore', 'ignore'], timeout: 60_000 });
  return readFileSync(out, 'utf8');
}

test('a passphrase (scrypt) age file opens with its own passphrase, held only while unlocked; a save keeps it one that age opens', async () => {
  const { keyring, store, files } = await setup();
  const file = path.join(store, 'pw.txt.age');
  const view = path.join(store, 'pw.txt');
  const e = new Encrypter();
  e.setPassphrase('file passphrase 26');
  e.setScryptWorkFactor(10);
  await fs.writeFile(file, await e.encrypt('typage wrote this\n'));
  const needed = (re: RegExp) => (err: Error & { code?: string }) => err.code === 'FILE_PASSPHRASE_NEEDED' && re.test(err.message) && !err.message.includes('typage wrote');
  // Asked for the file's own passphrase (never NoteSeal's), nothing read before it is given.
  await assert.rejects(files.readFile(view), needed(/own age passphrase.*not your NoteSeal passphrase/));
  await assert.rejects(files.writeFile(view, Buffer.from('x'), WRITE), needed(/own age passphrase/));
  // A wrong one is said so and not kept.
  keyring.filePassphrases.set(file, Buffer.from('wrong'));
  await assert.rejects(files.readFile(view), needed(/does not open/));
  assert.equal(keyring.filePassphrases.get(file), null);
  keyring.filePassphrases.set(file, Buffer.from('file passphrase 26'));
  assert.equal((await files.readFile(view)).toString(), 'typage wrote this\n');
  await files.stat(view);
  await files.writeFile(view, Buffer.from('saved by NoteSeal\n'), WRITE);
  const facts = ageFileFacts(await fs.readFile(file));
  assert.ok(facts.passphrase, 'still a passphrase (scrypt) file');
  assert.equal(ageDecryptWithPassphrase(file, 'file passphrase 26', path.join(path.dirname(store), 'out.txt')), 'saved by NoteSeal\n');
  const d = new Decrypter();
  d.addPassphrase('file passphrase 26');
  assert.equal(await d.decrypt(await fs.readFile(file), 'text'), 'saved by NoteSeal\n');
  // The lock wipes it: the next open asks again.
  const held = keyring.filePassphrases.get(file);
  assert.ok(held);
  keyring.lock();
  assert.equal(keyring.filePassphrases.get(file), null);
  assert.equal(keyring.filePassphrases.size, 0);
});

test('refused with no plaintext: a tampered age file, an unknown identity, two files for one name', async () => {
  const { store, files, ageEncrypt } = await setup();

  const tampered = path.join(store, 't.md.age');
  await ageEncrypt(tampered, 'x'.repeat(100));
  const bytes = await fs.readFile(tampered);
  bytes[bytes.length - 20] ^= 1;
  await fs.writeFile(tampered, bytes);
  await assert.rejects(files.readFile(path.join(store, 't.md')), (e: Error & { code?: string }) => e.code === 'CORRUPTED');

  const foreign = path.join(store, 'f.md.age');
  const other = execFileSync('age-keygen', { encoding: 'utf8' }).match(/public key: (age1\S+)/)![1]!;
  execFileSync('age', ['-r', other, '-o', foreign], { input: 'not for you' });
  await assert.rejects(files.readFile(path.join(store, 'f.md')), (e: Error & { code?: string }) => e.code === 'WRONG_KEY' && /X25519/i.test(e.message));

  await ageEncrypt(path.join(store, 'both.md.age'), 'age side');
  await files.writeFile(path.join(store, 'both.md.new'), Buffer.from('enc side'), WRITE);
  await fs.rename(path.join(store, 'both.md.new.enc'), path.join(store, 'both.md.enc'));
  await assert.rejects(files.readFile(path.join(store, 'both.md')), /Both .* exist/);
});

test('the watcher of an age note reports another writer under the shown name', async () => {
  const { store, ageEncrypt } = await setup();
  const file = path.join(store, 'w.md.age');
  await ageEncrypt(file, 'one');
  const events: FileChange[] = [];
  const watchers = new EncWatchers(e => events.push(...e));
  try {
    watchers.watch(1, path.join(store, 'w.md'), false);
    await ageEncrypt(file + '.new', 'two');
    await fs.rename(file + '.new', file);
    const end = Date.now() + 5000;
    while (!events.some(e => e.path === path.join(store, 'w.md')) && Date.now() < end) await new Promise(r => setTimeout(r, 50));
    assert.ok(events.some(e => e.path === path.join(store, 'w.md')), JSON.stringify(events));
  } finally { watchers.dispose(); }
});

test('an earlier revision of an age file (git, Timeline: its bytes) is decrypted in memory by the worker; a passphrase one says what it needs', async () => {
  const { keyring, store, ageEncrypt } = await setup();
  keyring.lock();
  const vault = new VaultService(keyring.keyfilePath, { get: async () => null, store: async () => {}, delete: async () => {} }, TEST_KDF_POLICY);
  await vault.unlock(PASSPHRASE, false);
  for (const armor of [false, true]) {
    await ageEncrypt(path.join(store, 'old.md.age'), `# the old revision ${armor}\n`, armor);
    assert.equal((await vault.decryptBytes(await fs.readFile(path.join(store, 'old.md.age')))).toString(), `# the old revision ${armor}\n`);
  }
  const e = new Encrypter();
  e.setPassphrase('its own');
  e.setScryptWorkFactor(10);
  await assert.rejects(vault.decryptBytes(await e.encrypt('behind a passphrase')), (err: Error & { code?: string }) => err.code === 'FILE_PASSPHRASE_NEEDED' && !err.message.includes('behind'));
  const tampered = await fs.readFile(path.join(store, 'old.md.age'));
  tampered[tampered.length - 30] ^= 1;
  await assert.rejects(vault.decryptBytes(tampered));
  vault.lock();
});
