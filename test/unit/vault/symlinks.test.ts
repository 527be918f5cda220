// The `noteseal:` view and Encrypt File/Folder never follow a symbolic link a repository placed (issue 21 §3):
// `notes/todo.md.enc -> ~/.ssh/id_ed25519` is neither read nor sealed, a link to another repository's
// NoteSeal file is neither decrypted nor re-encrypted here on save, and a linked folder inside the
// repository leads nowhere. The targets stay byte for byte as they were.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Keyring } from '../../../server/src/keys/keyring';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import { encryptFolder, encryptPlaintextFile } from '../../../server/src/vault/fileCommands';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring } from '../keys/helpers';

const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Keyring) => ({ unlocked: () => keyring }) as unknown as VaultService;
const isLinkRefusal = (e: unknown) => (e as { code?: string }).code === 'NOT_A_REGULAR_FILE' && /symbolic link/.test((e as Error).message);

async function setup() {
  const { keyring, dir } = await newKeyring();
  const home = path.join(dir, 'home');
  const repo = path.join(home, 'repo');
  await fs.mkdir(path.join(repo, '.git'), { recursive: true });
  await fs.mkdir(path.join(repo, 'notes'), { recursive: true });
  await fs.mkdir(path.join(home, '.ssh'), { recursive: true });
  const key = path.join(home, '.ssh', 'id_ed25519');
  await fs.writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY----- canary 51c2\n');
  const files = new EncFileSystem(vaultOf(keyring));
  // Another repository's note, sealed by this same user (the link's target).
  const elsewhere = path.join(home, 'other-repo', 'secrets');
  await fs.mkdir(elsewhere, { recursive: true });
  await files.writeFile(path.join(elsewhere, 'plan.md'), Buffer.from('the other repository\'s plan'), WRITE);
  return { keyring, home, repo, key, elsewhere, files };
}

test('an .enc that links to an SSH key: the view neither reads it nor seals it, and Encrypt File refuses it', async () => {
  const { repo, key, files } = await setup();
  const before = await fs.readFile(key);
  await fs.symlink('../../.ssh/id_ed25519', path.join(repo, 'notes', 'todo.md.enc'));
  const logical = path.join(repo, 'notes', 'todo.md');
  await assert.rejects(files.stat(logical), isLinkRefusal);
  await assert.rejects(files.readFile(logical), isLinkRefusal);
  // "Encrypt Now" hands the bytes to the view's writeFile: it must not replace the link with a sealed copy.
  await assert.rejects(files.writeFile(logical, before, WRITE), isLinkRefusal);
  assert.ok((await fs.lstat(path.join(repo, 'notes', 'todo.md.enc'))).isSymbolicLink(), 'the link is left as it is');
  // Encrypt File on a plaintext name that is a link: refused, no .enc made.
  await fs.symlink('../../.ssh/id_ed25519', path.join(repo, 'notes', 'id.txt'));
  await assert.rejects(encryptPlaintextFile(files, path.join(repo, 'notes', 'id.txt'), true), isLinkRefusal);
  await assert.rejects(fs.lstat(path.join(repo, 'notes', 'id.txt.enc')), { code: 'ENOENT' });
  // Encrypt Folder skips links (and keeps the key where it is).
  const r = await encryptFolder(files, path.join(repo, 'notes'), true, () => undefined);
  assert.equal(r.encrypted, 0);
  assert.deepEqual(await fs.readFile(key), before, 'the key is untouched');
  assert.deepEqual((await fs.readdir(path.join(repo, 'notes'))).sort(), ['id.txt', 'todo.md.enc']);
});

test('a link to another repository\'s NoteSeal file is not decrypted, nor re-encrypted to this folder on save', async () => {
  const { repo, elsewhere, files } = await setup();
  const target = path.join(elsewhere, 'plan.md.enc');
  const before = await fs.readFile(target);
  await fs.symlink(target, path.join(repo, 'notes', 'plan.md.enc'));
  const logical = path.join(repo, 'notes', 'plan.md');
  await assert.rejects(files.readFile(logical), isLinkRefusal);
  await assert.rejects(files.writeFile(logical, Buffer.from('overwritten'), WRITE), isLinkRefusal);
  assert.deepEqual(await fs.readFile(target), before);
  assert.ok((await fs.lstat(path.join(repo, 'notes', 'plan.md.enc'))).isSymbolicLink());
});

test('a linked folder inside the repository is refused on the way to a note, for reads, saves and listings', async () => {
  const { repo, elsewhere, files } = await setup();
  const before = await fs.readFile(path.join(elsewhere, 'plan.md.enc'));
  await fs.symlink(elsewhere, path.join(repo, 'shared'));
  const logical = path.join(repo, 'shared', 'plan.md');
  await assert.rejects(files.readFile(logical), isLinkRefusal);
  await assert.rejects(files.writeFile(logical, Buffer.from('overwritten'), WRITE), isLinkRefusal);
  await assert.rejects(files.writeFile(path.join(repo, 'shared', 'new.md'), Buffer.from('planted'), WRITE), isLinkRefusal);
  await assert.rejects(files.readDirectory(path.join(repo, 'shared')), isLinkRefusal);
  await assert.rejects(encryptFolder(files, path.join(repo, 'shared'), false, () => undefined), isLinkRefusal);
  assert.deepEqual(await fs.readFile(path.join(elsewhere, 'plan.md.enc')), before);
  assert.deepEqual(await fs.readdir(elsewhere), ['plan.md.enc']);
  // The real notes folder still works.
  await files.writeFile(path.join(repo, 'notes', 'ok.md'), Buffer.from('fine'), WRITE);
  assert.equal((await files.readFile(path.join(repo, 'notes', 'ok.md'))).toString(), 'fine');
});
