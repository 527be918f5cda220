// dotenvx `.env` files in the worker's `noteseal:` view (issue 27), on a real disk with a real keyring and
// dotenvx's own primitives on the other side: `.env.production` is its own view, opens decrypted with an
// imported key (write-only without one), and a save keeps unchanged lines byte for byte and encrypts changed
// and new values to the file's public key; a plain `.env` is no view; a `.env` beside `.env.enc` is refused.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Keyring } from '../../../server/src/keys/keyring';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { EncWatchers } from '../../../server/src/vault/watcher';
import type { FileChange } from '../../../server/src/protocol';
import { newKeyring } from '../keys/helpers';

interface Primitives { encrypt(publicKey: string, value: string): string; decrypt(privateKey: string, value: string): string }
const dotenvx = createRequire(__filename)('@dotenvx/primitives') as Primitives;
const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Keyring) => ({ unlocked: () => keyring }) as unknown as VaultService;

async function setup() {
  const { keyring, dir } = await newKeyring();
  const secret = secp256k1.utils.randomSecretKey();
  const secretHex = Buffer.from(secret).toString('hex');
  const publicHex = Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex');
  const file = path.join(dir, '.env.production');
  const text = [
    '#/---[DOTENV_PUBLIC_KEY]---/',
    `DOTENV_PUBLIC_KEY_PRODUCTION="${publicHex}"`,
    '',
    '# database',
    `DB_URL=${JSON.stringify(dotenvx.encrypt(publicHex, 'postgres://db/prod'))}`,
    `API_TOKEN="${dotenvx.encrypt(publicHex, 'tok-123')}"   # rotated yearly`,
    'PLAIN=kept',
    '',
  ].join('\n');
  await fs.writeFile(file, text, { mode: 0o640 });
  return { keyring, dir, file, text, secret, secretHex, publicHex, files: new EncFileSystem(vaultOf(keyring)) };
}

/** The value of `name` in a dotenvx file, decrypted by dotenvx's own primitives. */
function valueIn(text: string, name: string, secretHex: string): string {
  const raw = text.split('\n').find(l => l.startsWith(`${name}=`))!.slice(name.length + 1).replace(/^"([^"]*)".*$/, '$1');
  return raw.startsWith('encrypted:') ? dotenvx.decrypt(secretHex, raw) : raw;
}

test('a dotenvx .env file is its own view: decrypted with an imported key, saved as dotenvx writes it', async () => {
  const { keyring, file, text, secret, secretHex, files } = await setup();
  await keyring.importDotenvxKeys([secret]);
  const s = await files.stat(file);
  assert.equal(s.type, 'file');
  const view = (await files.readFile(file)).toString();
  assert.match(view, /^DB_URL="postgres:\/\/db\/prod"$/m);
  assert.match(view, /^API_TOKEN="tok-123" {3}# rotated yearly$/m);
  assert.doesNotMatch(view, /encrypted:/);

  // Unchanged: the same bytes. One value edited and one added: only those lines change.
  await files.writeFile(file, Buffer.from(view), WRITE);
  assert.equal(await fs.readFile(file, 'utf8'), text);
  await files.stat(file);
  await files.writeFile(file, Buffer.from(view.replace('tok-123', 'tok-456') + 'NEW_ONE=fresh value\n'), WRITE);
  const after = await fs.readFile(file, 'utf8');
  const [a, b] = [text.split('\n'), after.split('\n')];
  assert.deepEqual(a.slice(0, -1).flatMap((l, i) => l === b[i] ? [] : [i]), [5], 'only API_TOKEN\'s line changed');
  assert.match(b[7]!, /^NEW_ONE="encrypted:/);
  assert.equal(b.length, a.length + 1);
  assert.equal(valueIn(after, 'API_TOKEN', secretHex), 'tok-456');
  assert.equal(valueIn(after, 'NEW_ONE', secretHex), 'fresh value');
  assert.equal(valueIn(after, 'DB_URL', secretHex), 'postgres://db/prod');
  assert.doesNotMatch(after, /tok-456|fresh value/);
  assert.equal((await fs.stat(file)).mode & 0o777, 0o640, 'the mode is kept');
  assert.deepEqual((await fs.readdir(path.dirname(file))).filter(n => n.startsWith('.env')), ['.env.production'], 'no .enc beside it, no temp file');
});

test('without the private key a dotenvx file opens write-only: values shown encrypted, new ones encrypted to its key', async () => {
  const { file, text, secretHex, files } = await setup();
  const view = (await files.readFile(file)).toString();
  assert.equal(view, text, 'shown as it is: still encrypted');
  await files.stat(file);
  await files.writeFile(file, Buffer.from(view.replace(/^PLAIN=kept$/m, 'PLAIN=replaced') + 'ADDED=by someone without the key\n'), WRITE);
  const after = await fs.readFile(file, 'utf8');
  assert.equal(valueIn(after, 'PLAIN', secretHex), 'replaced');
  assert.equal(valueIn(after, 'ADDED', secretHex), 'by someone without the key');
  assert.equal(valueIn(after, 'API_TOKEN', secretHex), 'tok-123');
  assert.doesNotMatch(after, /replaced|by someone/);
});

test('the environment\'s DOTENV_PRIVATE_KEY opens it too; a plain .env is no view; a .env beside .env.enc is refused', async () => {
  const { dir, file, secretHex, files } = await setup();
  process.env.DOTENV_PRIVATE_KEY_PRODUCTION = secretHex;
  try {
    assert.match((await files.readFile(file)).toString(), /^DB_URL="postgres:\/\/db\/prod"$/m);
  } finally { delete process.env.DOTENV_PRIVATE_KEY_PRODUCTION; }

  const plain = path.join(dir, '.env');
  await fs.writeFile(plain, 'SECRET=plain\n');
  await assert.rejects(files.readFile(plain), (e: Error & { code?: string }) => e.code === 'FileNotFound');
  await assert.rejects(files.stat(plain), (e: Error & { code?: string }) => e.code === 'FileNotFound');

  await fs.writeFile(file + '.enc', '');
  await assert.rejects(files.readFile(file), (e: Error & { code?: string }) => e.code === 'NoPermissions' && /Both .*dotenvx/.test(e.message));
  await fs.rm(file + '.enc');

  // Through a link: refused, never followed.
  const link = path.join(dir, 'sub', '.env');
  await fs.mkdir(path.dirname(link));
  await fs.symlink(file, link);
  await assert.rejects(files.readFile(link));
});

test('a tampered value is a typed error naming the line and key, never a value; the file is untouched by a failed save', async () => {
  const { keyring, file, secret, files } = await setup();
  await keyring.importDotenvxKeys([secret]);
  const text = await fs.readFile(file, 'utf8');
  const tampered = text.replace(/(DB_URL="encrypted:)(.)/, (_m, p: string, c: string) => p + (c === 'A' ? 'B' : 'A'));
  await fs.writeFile(file, tampered);
  await assert.rejects(files.readFile(file), (e: Error & { code?: string }) => e.code === 'CORRUPTED' && /line 5: the value of DB_URL/.test(e.message) && !/postgres/.test(e.message));
  await files.stat(file);
  await assert.rejects(files.writeFile(file, Buffer.from('DB_URL=x\n'), WRITE));
  assert.equal(await fs.readFile(file, 'utf8'), tampered);
});

test('the watcher reports a foreign write of a dotenvx file under its own name', async () => {
  const { file } = await setup();
  const seen: FileChange[] = [];
  const watchers = new EncWatchers(events => seen.push(...events));
  try {
    watchers.watch(1, file, false);
    await new Promise(r => setTimeout(r, 50));
    await fs.appendFile(file, 'MORE=1\n');
    const until = Date.now() + 5000;
    while (!seen.some(e => e.path === file) && Date.now() < until) await new Promise(r => setTimeout(r, 20));
    assert.ok(seen.some(e => e.path === file && e.type === 'changed'), JSON.stringify(seen));
  } finally { watchers.dispose(); }
});

test('a save does not decrypt the file again: it uses what the open (or the last save) left, unless another writer changed the file; a lock drops it', async () => {
  const { keyring, file, text, secret, secretHex, files } = await setup();
  await keyring.importDotenvxKeys([secret]);
  let keyUses = 0; // every decrypt of the file's values asks the key store for its key first
  const own = keyring.dotenvxSecretKey.bind(keyring);
  keyring.dotenvxSecretKey = publicHex => { keyUses++; return own(publicHex); };
  const save = async (view: string) => { await files.stat(file); await files.writeFile(file, Buffer.from(view), WRITE); };

  const view = (await files.readFile(file)).toString();
  assert.equal(keyUses, 1);
  await save(view.replace('tok-123', 'tok-456'));
  await save(view.replace('tok-123', 'tok-789') + 'NEW_ONE=fresh\n');
  assert.equal(keyUses, 1, 'two saves, no decrypt: the open\'s values, then the first save\'s');
  const after = await fs.readFile(file, 'utf8');
  const [a, b] = [text.split('\n'), after.split('\n')];
  assert.deepEqual(a.slice(0, -1).flatMap((l, i) => l === b[i] ? [] : [i]), [5], 'only API_TOKEN\'s line differs from the original');
  assert.equal(valueIn(after, 'API_TOKEN', secretHex), 'tok-789');
  assert.equal(valueIn(after, 'NEW_ONE', secretHex), 'fresh');

  // Another writer (dotenvx, git): the file's bytes are not the ones saved, so it is opened again.
  await fs.writeFile(file, after.replace(/^NEW_ONE=.*$/m, `NEW_ONE="${dotenvx.encrypt(Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex'), 'theirs')}"`));
  const mine = (await files.readFile(file)).toString();
  assert.equal(keyUses, 2);
  await save(mine.replace('PLAIN=kept', 'PLAIN=changed'));
  assert.equal(keyUses, 2);
  await fs.appendFile(file, 'FOREIGN=1\n');
  await save(mine.replace('PLAIN=kept', 'PLAIN=again'));
  assert.equal(keyUses, 3, 'changed on disk since: opened afresh');
  assert.equal(valueIn(await fs.readFile(file, 'utf8'), 'NEW_ONE', secretHex), 'theirs', 'a value unchanged in the view keeps its bytes');

  assert.equal(files.heldStates, 1);
  files.forgetDecrypted();
  assert.equal(files.heldStates, 0, 'dropped at lock');
  await save(mine);
  assert.equal(keyUses, 4, 'after a lock a save opens the file again');
});
