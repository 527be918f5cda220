// dotenvx files in a real git repository with a real agent (issue 27): `git setup` covers `.env` / `.env.*`,
// diffs show decrypted values, a merge keeps each side's changed values (re-encrypting none that a side
// holds), a conflict keeps ours with nothing decrypted written; a plain `.env.example` diffs and merges as
// text. grep and inspect read the file through the agent. dotenvx's own primitives check every value.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { gitOk, makeGitRepo, type GitRepo } from '../cli/gitRepo';

interface Primitives { encrypt(publicKey: string, value: string): string; decrypt(privateKey: string, value: string): string }
const dotenvx = createRequire(__filename)('@dotenvx/primitives') as Primitives;
const secret = secp256k1.utils.randomSecretKey();
const secretHex = Buffer.from(secret).toString('hex');
const publicHex = Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex');
const FILE = '.env.production';

/** name → decrypted value of every entry, with dotenvx's own primitives. */
function valuesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)="?([^"]*)"?$/.exec(line);
    if (m) out[m[1]!] = m[2]!.startsWith('encrypted:') ? dotenvx.decrypt(secretHex, m[2]!) : m[2]!;
  }
  return out;
}

describe('git: dotenvx files', () => {
  let r: GitRepo;
  const at = (f: string) => path.join(r.repo, f);
  const set = async (key: string, value: string) => {
    const s = await r.noteseal(['set', FILE, key, value]);
    assert.equal(s.code, 0, s.stderr);
  };
  before(async () => {
    r = await makeGitRepo('dotenvx');
    const keys = path.join(r.root, '.env.keys');
    await fs.writeFile(keys, `DOTENV_PRIVATE_KEY_PRODUCTION=${secretHex}\n`);
    const imp = await r.noteseal(['identity', 'import', keys, '--yes'], { env: { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass') } });
    assert.equal(imp.code, 0, imp.stderr);
    await r.startAgent();
    await fs.writeFile(at(FILE), [
      `DOTENV_PUBLIC_KEY_PRODUCTION="${publicHex}"`, '', '# services',
      ...['ALPHA', 'BRAVO', 'CHARLIE', 'DELTA'].map(k => `${k}="${dotenvx.encrypt(publicHex, `${k.toLowerCase()}-1`)}"`), '',
    ].join('\n'));
    await fs.writeFile(at('.env.example'), 'ALPHA=\nBRAVO=\n');
  });
  after(() => r.dispose());

  it('setup covers .env and .env.*; the diff shows decrypted values; a plain .env.example diffs as it is', async () => {
    const setup = await r.noteseal(['git', 'setup']);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout + setup.stderr, /added "\.env\.\* diff=noteseal merge=noteseal"/);
    const check = await r.noteseal(['git', 'check']);
    assert.match(check.stdout + check.stderr, /\.env and \.env\.\* \(dotenvx\) files diff and merge through NoteSeal \(diff=noteseal\)/);
    await gitOk(r, 'add', '.gitattributes', FILE, '.env.example');
    await gitOk(r, 'commit', '-qm', 'env');
    await set('BRAVO', 'bravo-ours');
    await fs.writeFile(at('.env.example'), 'ALPHA=\nBRAVO=\nCHARLIE=\n');
    const diff = await gitOk(r, 'diff', '-U20'); // the banner is the first line of each side
    assert.match(diff, /^-BRAVO="bravo-1"$/m);
    assert.match(diff, /^\+BRAVO="bravo-ours"$/m);
    assert.equal(diff.split('\n').filter(l => /^[-+][A-Z]/.test(l)).length, 3, 'one value changed: one line each way (and CHARLIE in .env.example)');
    assert.match(diff, /NoteSeal: WARNING: not from a trusted writer: dotenvx files have no writer/);
    assert.match(diff, /^\+CHARLIE=$/m, 'the plain .env.example diffs as it is');
  });

  it('grep and inspect read it through the agent (no passphrase)', async () => {
    const g = await r.noteseal(['grep', 'bravo-', FILE]);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(g.stdout, `${FILE}:5:BRAVO="bravo-ours"\n`);
    const i = await r.noteseal(['inspect', FILE]);
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /format {10}dotenvx/);
    assert.match(i.stdout, /values {10}4 encrypted, 0 plain/);
    assert.match(i.stdout, /private key {5}in the key store/);
    assert.match(i.stdout, /written by {6}none: dotenvx files have no writer/);
  });

  it('a merge keeps each side\'s changed values; lines neither changed keep their bytes', async () => {
    await gitOk(r, 'commit', '-qam', 'bravo');
    await gitOk(r, 'checkout', '-qb', 'side', 'HEAD~1');
    await set('CHARLIE', 'charlie-theirs'); // the line next to ours' change: a text merge would conflict
    await set('ECHO', 'echo-new');
    await gitOk(r, 'commit', '-qam', 'charlie');
    const theirs = await fs.readFile(at(FILE), 'utf8');
    await gitOk(r, 'checkout', '-q', 'main');
    const ours = await fs.readFile(at(FILE), 'utf8');
    const merge = await r.git(['merge', '-q', '--no-edit', 'side']);
    assert.equal(merge.code, 0, merge.stderr + merge.stdout);
    const merged = await fs.readFile(at(FILE), 'utf8');
    assert.deepEqual(valuesOf(merged), { DOTENV_PUBLIC_KEY_PRODUCTION: publicHex, ALPHA: 'alpha-1', BRAVO: 'bravo-ours', CHARLIE: 'charlie-theirs', DELTA: 'delta-1', ECHO: 'echo-new' });
    const line = (t: string, k: string) => t.split('\n').find(l => l.startsWith(`${k}=`));
    for (const k of ['ALPHA', 'BRAVO', 'DELTA']) assert.equal(line(merged, k), line(ours, k), `${k} keeps ours' bytes`);
    for (const k of ['CHARLIE', 'ECHO']) assert.equal(line(merged, k), line(theirs, k), `${k} keeps theirs' bytes`);
    assert.doesNotMatch(merged, /charlie-theirs|bravo-ours|echo-new/);
  });

  it('both sides changing one value differently: a conflict, ours kept, nothing decrypted written', async () => {
    await gitOk(r, 'checkout', '-qb', 'other');
    await set('DELTA', 'delta-theirs');
    await gitOk(r, 'commit', '-qam', 'delta theirs');
    await gitOk(r, 'checkout', '-q', 'main');
    await set('DELTA', 'delta-ours');
    await gitOk(r, 'commit', '-qam', 'delta ours');
    const ours = await fs.readFile(at(FILE));
    const merge = await r.git(['merge', '-q', '--no-edit', 'other']);
    assert.notEqual(merge.code, 0);
    assert.match(merge.stderr + merge.stdout, /both sides changed DELTA differently: kept ours/);
    assert.doesNotMatch(merge.stderr + merge.stdout, /delta-(ours|theirs)/);
    assert.deepEqual(await fs.readFile(at(FILE)), ours);
    await gitOk(r, 'merge', '--abort');
  });
});
