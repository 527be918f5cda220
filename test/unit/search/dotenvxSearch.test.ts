// Search over dotenvx `.env` files (issue 27) across several workspace folders: the real worker bundle's
// search (VS Code's "Search Encrypted Notes") and `noteseal grep` over folders find values in dotenvx files,
// decrypted in memory with the imported key (or the environment's), and write nothing. A dotenvx file whose
// key is not at hand is listed as not searched (naming the key, never a value); a plain `.env`, a link and a
// `.env` beside its `.env.enc` are not taken as dotenvx files; a match says dotenvx files have no writer.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Method, type SearchFileResult, type SearchSummary } from '../../../server/src/protocol';
import { WorkerProcess } from '../../faults/workerProcess';
import { makePerson, PASSPHRASE, type Person } from '../sharing/people';

interface Primitives { encrypt(publicKey: string, value: string): string }
const dotenvx = createRequire(__filename)('@dotenvx/primitives') as Primitives;

function keyPair() {
  const secret = secp256k1.utils.randomSecretKey();
  return { secret, secretHex: Buffer.from(secret).toString('hex'), publicHex: Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex') };
}

/** A dotenvx file as dotenvx writes one: the public key line, then `values` encrypted to it. */
function dotenvxText(suffix: string, publicHex: string, values: Record<string, string>): string {
  return [`DOTENV_PUBLIC_KEY${suffix}="${publicHex}"`, '', '# app',
    ...Object.entries(values).map(([k, v]) => `${k}="${dotenvx.encrypt(publicHex, v)}"`), ''].join('\n');
}

/** Every file below `dir` with its size and mtime: what a search must leave as it is. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).map(e => {
    const p = path.join(e.parentPath, e.name);
    const s = fs.lstatSync(p);
    return `${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`;
  }).sort();
}

/** Every file below `dir` whose bytes hold `canary`. */
function filesHolding(dir: string, canary: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile())
    .map(e => path.join(e.parentPath, e.name)).filter(p => fs.readFileSync(p).includes(canary));
}

describe('search over dotenvx files in workspace folders', () => {
  const canary = `CANARY${randomBytes(8).toString('hex')}`;
  const held = keyPair();     // imported into NoteSeal's key store
  const other = keyPair();    // nobody imported it
  let root: string, ws1: string, ws2: string;
  let ann: Person;
  let worker: WorkerProcess | undefined;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-dotenvx-search-'));
    ann = await makePerson(root, 'ann');
    const k = new Keyring(ann.keyfile, { kdf: TEST_KDF_POLICY });
    try { await k.unlock(PASSPHRASE); await k.importDotenvxKeys([held.secret]); } finally { k.lock(); }
    ws1 = path.join(root, 'ws1');
    ws2 = path.join(root, 'ws2');
    fs.mkdirSync(path.join(ws1, 'app'), { recursive: true });
    fs.mkdirSync(ws2);
    fs.writeFileSync(path.join(ws1, '.env.production'), dotenvxText('_PRODUCTION', held.publicHex, { DB_URL: 'postgres://db/prod', API_TOKEN: `tok-${canary}` }));
    fs.writeFileSync(path.join(ws1, 'app', '.env'), dotenvxText('', held.publicHex, { SECRET: `also ${canary} here` }));
    fs.writeFileSync(path.join(ws2, '.env.staging'), dotenvxText('_STAGING', other.publicHex, { TOKEN: `staging-${canary}` }));
    fs.writeFileSync(path.join(ws2, '.env'), `PLAIN=${canary}\n`);                       // a plain .env: not a sealed file, not searched
    fs.symlinkSync(path.join(ws1, '.env.production'), path.join(ws2, '.env.linked'));    // a link: never followed
  });
  after(async () => { await worker?.stop(); fs.rmSync(root, { recursive: true, force: true }); });

  it('the worker\'s search finds the values, decrypted in memory, across folders; a file without its key is listed as not searched; nothing is written', async () => {
    worker = await WorkerProcess.start({ keyfile: ann.keyfile });
    await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
    const before = [snapshot(ws1), snapshot(ws2)];
    for (const id of [1, 2]) { // the second search is served from the plaintext cache
      const summary = await worker.request(Method.searchStart, { id, query: { pattern: canary, isRegex: false, matchCase: true, wholeWord: false }, roots: [ws1, ws2] }) as SearchSummary;
      const files: SearchFileResult[] = worker.notificationsOf(Method.searchDidFind).filter(n => (n as { id: number }).id === id).flatMap(n => (n as { files: SearchFileResult[] }).files);
      const byPath = new Map<string, SearchFileResult>(files.map(f => [f.path, f]));
      assert.deepEqual([...byPath.keys()], [path.join(ws1, '.env.production'), path.join(ws1, 'app', '.env')], 'the dotenvx files, by their own path (their view)');
      assert.deepEqual(files.map(f => f.relativePath), ['.env.production', 'app/.env']);
      assert.deepEqual(byPath.get(path.join(ws1, '.env.production'))!.lines.map(l => [l.line, l.text]), [[4, `API_TOKEN="tok-${canary}"`]]);
      assert.deepEqual(byPath.get(path.join(ws1, 'app', '.env'))!.lines.map(l => l.text), [`SECRET="also ${canary} here"`]);
      for (const f of files) assert.match(f.writerWarning ?? '', /a dotenvx file: its values carry no signature/);
      assert.equal(summary.totalFiles, 3, 'the plain .env and the link are not searched');
      assert.equal(summary.failed.length, 1);
      assert.equal(summary.failed[0]!.path, path.join(ws2, '.env.staging'));
      assert.match(summary.failed[0]!.message, /no private key for its DOTENV_PUBLIC_KEY_STAGING/);
      assert.ok(!summary.failed[0]!.message.includes(canary));
    }
    assert.deepEqual([snapshot(ws1), snapshot(ws2)], before, 'the search wrote nothing in the folders');
    assert.deepEqual(filesHolding(root, canary), [path.join(ws2, '.env')], 'the canary is on disk only where it was in plaintext');
  });

  it('noteseal grep over folders finds the values too, with the key from the key store or the environment', async () => {
    const run = await ann.cli(['grep', canary, 'ws1', 'ws2'], { cwd: root });
    assert.equal(run.code, 2, 'a file not searched is an error, as rg says (the others are still searched)');
    assert.equal(run.stdout, `ws1/.env.production:5:API_TOKEN="tok-${canary}"\nws1/app/.env:4:SECRET="also ${canary} here"\n`);
    assert.match(run.stderr, /ws1\/\.env\.production: dotenvx files have no writer/);
    assert.match(run.stderr, /noteseal: grep: ws2\/\.env\.staging: no private key for its DOTENV_PUBLIC_KEY_STAGING/);
    assert.ok(!run.stderr.includes(canary), 'no value in a message');
    const withEnv = await ann.cli(['grep', '-l', canary, 'ws2'], { cwd: root, env: { DOTENV_PRIVATE_KEY_STAGING: other.secretHex } });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    assert.equal(withEnv.stdout, 'ws2/.env.staging\n');
    assert.deepEqual(filesHolding(root, canary), [path.join(ws2, '.env')], 'grep wrote nothing');
  });
});
