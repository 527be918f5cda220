// dotenvx files through the built CLI, with the real dotenvx (@dotenvx/dotenvx, pinned) on the other side:
// NoteSeal reads what `dotenvx set` / `dotenvx encrypt` write, `dotenvx get` / `dotenvx run` read what
// `noteseal set` writes (one value edited: one line changed); `identity import .env.keys` seals the keys and
// leaves no private key in plaintext; DOTENV_PRIVATE_KEY… from the environment works without a keyfile unlock.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ROOT, runCli } from '../agent/cliRunner';
import { errors, makePerson, type Person } from '../sharing/people';
import { eciesEncrypt } from '../../../server/src/formats/dotenvx-ecies';

const DOTENVX = path.join(ROOT, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js');

let root: string, dir: string;
let ann: Person;
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-dotenvx-cli-'));
  ann = await makePerson(root, 'ann');
  dir = path.join(ann.home, 'app');
  await fs.mkdir(dir);
});
after(() => fs.rm(root, { recursive: true, force: true }));

/** The real dotenvx in `dir` (no NoteSeal involved); its stdout. */
async function dotenvx(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [DOTENVX, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: ann.home, ...env } });
  return stdout;
}

/** Every file under `d` whose bytes contain `needle`. */
async function filesContaining(d: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await fs.readdir(d, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile() && (await fs.readFile(p)).includes(needle)) hits.push(p);
  }
  return hits;
}

describe('CLI: dotenvx files, both ways with the real dotenvx', () => {
  let privateKey = '';

  it('decrypts what dotenvx set and dotenvx encrypt write, after importing .env.keys (sealed, plaintext file deleted)', async () => {
    await fs.writeFile(path.join(dir, '.env.production'), '# production\nNODE_ENV=production\n\nDB_URL="postgres://db/app"\n');
    await dotenvx(['encrypt', '-f', '.env.production']);
    await dotenvx(['set', 'API_TOKEN', 'tok en "quoted"', '-f', '.env.production']);
    const keysFile = await fs.readFile(path.join(dir, '.env.keys'), 'utf8');
    privateKey = /DOTENV_PRIVATE_KEY_PRODUCTION=([0-9a-f]{64})/.exec(keysFile)![1]!;
    const file = path.join(dir, '.env.production');
    assert.match(await fs.readFile(file, 'utf8'), /API_TOKEN="encrypted:/);

    const none = await ann.cli(['decrypt', file]);
    assert.equal(none.code, 2, none.stderr); // WRONG_KEY
    assert.match(none.stderr, /no private key for its DOTENV_PUBLIC_KEY_PRODUCTION .*noteseal identity import \.env\.keys/);

    const imp = await ann.cli(['identity', 'import', path.join(dir, '.env.keys'), '--yes']);
    assert.equal(imp.code, 0, imp.stderr);
    await assert.rejects(fs.access(path.join(dir, '.env.keys')), 'the plaintext .env.keys is deleted');
    assert.deepEqual(await filesContaining(ann.home, privateKey), [], 'no private key in plaintext under HOME');
    const list = await ann.cli(['identity', 'list'], { noPass: true });
    assert.match(list.stdout, /^0[23][0-9a-f]{64}\timported dotenvx key/m);

    const d = await ann.cli(['decrypt', file]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^# production\nNODE_ENV="production"\n\nDB_URL="postgres:\/\/db\/app"\n/m);
    assert.match(d.stdout, /^API_TOKEN='tok en "quoted"'$/m);
    assert.match(d.stdout, /^DOTENV_PUBLIC_KEY_PRODUCTION="0[23][0-9a-f]{64}"$/m);
    assert.match(errors(d), /dotenvx files have no writer/);
  });

  it('set: one value changes one line; dotenvx get and dotenvx run read it; a value from stdin', async () => {
    const file = path.join(dir, '.env.production');
    const before = (await fs.readFile(file, 'utf8')).split('\n');
    const s = await ann.cli(['set', file, 'DB_URL', 'postgres://db/other'], { noPass: true });
    assert.equal(s.code, 0, s.stderr);
    const after = (await fs.readFile(file, 'utf8')).split('\n');
    assert.equal(after.length, before.length);
    assert.deepEqual(after.map((l, i) => l === before[i] ? null : l.split('=')[0]).filter(Boolean), ['DB_URL']);
    const keyEnv = { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey };
    assert.equal((await dotenvx(['get', 'DB_URL', '-f', '.env.production'], keyEnv)).trim(), 'postgres://db/other');

    const fromStdin = await runCli(['set', file, 'NEW_SECRET', '-'], ann.env, { cwd: dir, stdin: 'from stdin\n' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const run = await dotenvx(['run', '-f', '.env.production', '--', process.execPath, '-e', 'console.log(process.env.NEW_SECRET + "|" + process.env.API_TOKEN)'], keyEnv);
    assert.match(run, /^from stdin\|tok en "quoted"$/m);
    const refused = await ann.cli(['set', path.join(dir, 'nothing.env'), 'A', 'b'], { noPass: true });
    assert.notEqual(refused.code, 0);
  });

  it('exec: refused as an unverified writer unless allowed; DOTENV_PRIVATE_KEY… from the environment needs no unlock', async () => {
    const file = path.join(dir, '.env.production');
    const show = ['--', process.execPath, '-e', 'console.log(process.env.DB_URL + "|" + process.env.NEW_SECRET)'];
    const refused = await ann.cli(['exec', file, ...show]);
    assert.equal(refused.code, 12, refused.stderr);
    assert.equal(refused.stdout, '');
    const ran = await ann.cli(['exec', '--allow-unverified-writer', file, ...show]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'postgres://db/other|from stdin\n');
    // Another person, no imported key, no passphrase: the environment's key, as dotenvx reads it.
    const bob = await makePerson(root, 'bob');
    const env = await bob.cli(['exec', '--allow-unverified-writer', file, ...show], { noPass: true, env: { DOTENV_PRIVATE_KEY_PRODUCTION: `ffff${'0'.repeat(60)},${privateKey}` } });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(env.stdout, 'postgres://db/other|from stdin\n');
    const noKey = await bob.cli(['exec', '--allow-unverified-writer', file, ...show], { noPass: true });
    assert.equal(noKey.code, 2, noKey.stderr);
    assert.match(noKey.stderr, /line \d+: \w+ is encrypted and no private key for DOTENV_PUBLIC_KEY_PRODUCTION/);
  });

  it('through the agent (no passphrase): exec and decrypt; the agent opens the values and keeps the key; locked refuses', async () => {
    const file = path.join(dir, '.env.production');
    const show = ['--', process.execPath, '-e', 'console.log(process.env.DB_URL + "|" + process.env.NEW_SECRET + "|" + process.env.MANY_199 + "|" + process.env.BIG.length)'];
    // 200 more values and one of 60 KiB: the agent's answers come in batches (a frame holds 128 KiB).
    const publicKey = Buffer.from(/DOTENV_PUBLIC_KEY_PRODUCTION="?([0-9a-f]{66})/.exec(await fs.readFile(file, 'utf8'))![1]!, 'hex');
    const sealed = (v: string) => `"encrypted:${eciesEncrypt(publicKey, Buffer.from(v)).toString('base64')}"`;
    await fs.appendFile(file, Array.from({ length: 200 }, (_, i) => `MANY_${i}=${sealed(`many-${i}-${'m'.repeat(400)}`)}\n`).join('') + `BIG=${sealed('b'.repeat(60_000))}\n`);
    const start = await ann.cli(['agent', 'start']);
    assert.equal(start.code, 0, start.stderr);
    try {
      const ran = await ann.cli(['exec', '--allow-unverified-writer', file, ...show], { noPass: true });
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, `postgres://db/other|from stdin|many-199-${'m'.repeat(400)}|60000\n`);
      const d = await ann.cli(['decrypt', file], { noPass: true });
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /^DB_URL="postgres:\/\/db\/other"$/m);
      const locked = await ann.cli(['agent', 'lock'], { noPass: true });
      assert.equal(locked.code, 0, locked.stderr);
      const refused = await ann.cli(['exec', '--allow-unverified-writer', file, ...show], { noPass: true });
      assert.equal(refused.code, 9, refused.stderr);
      assert.equal(refused.stdout, '');
    } finally {
      await ann.cli(['agent', 'stop'], { noPass: true });
    }
  });

  it('identity forget <DOTENV_PUBLIC_KEY> removes an imported dotenvx key (the file then opens for no one here)', async () => {
    const file = path.join(dir, '.env.production');
    const publicHex = /DOTENV_PUBLIC_KEY_PRODUCTION="?([0-9a-f]{66})/.exec(await fs.readFile(file, 'utf8'))![1]!;
    const unknown = await ann.cli(['identity', 'forget', `02${'ab'.repeat(32)}`, '--yes'], { noPass: true });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /No imported dotenvx key has the public key/);
    const refused = await ann.cli(['identity', 'forget', publicHex], { noPass: true });
    assert.notEqual(refused.code, 0, 'not confirmed: nothing forgotten');
    assert.match((await ann.cli(['identity', 'list'], { noPass: true })).stdout, new RegExp(`^${publicHex}\\t`, 'm'));
    const forgot = await ann.cli(['identity', 'forget', publicHex.toUpperCase(), '--yes'], { noPass: true });
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.doesNotMatch((await ann.cli(['identity', 'list'], { noPass: true })).stdout, new RegExp(publicHex));
    const d = await ann.cli(['decrypt', file]);
    assert.equal(d.code, 2, d.stderr);
  });
});
