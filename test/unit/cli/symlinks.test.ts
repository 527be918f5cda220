// The command line never follows a symbolic link a repository placed (issue 21 §3), in a real git repository
// with its own HOME and agent: `notes/todo.md.enc -> ../../.ssh/id_ed25519` is not sealed by `encrypt`,
// and a link to another repository's NoteSeal file is not decrypted, run, searched, inspected, verified,
// rewrapped or diffed. Each refusal names the link (exit 7, NOT_A_REGULAR_FILE); every target stays as it was.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeGitRepo, type GitRepo } from './gitRepo';

let r: GitRepo;
let key: string;
let outside: string;
const snapshot = async () => [await fs.readFile(key), await fs.readFile(outside)];

before(async () => {
  r = await makeGitRepo('links');
  await r.startAgent();
  await fs.mkdir(path.join(r.root, '.ssh'));
  key = path.join(r.root, '.ssh', 'id_ed25519');
  await fs.writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY----- canary 7d1e\n', { mode: 0o600 });
  // A NoteSeal file of the user's, outside this repository: a config another project runs with.
  await fs.mkdir(path.join(r.root, 'other-repo'));
  outside = path.join(r.root, 'other-repo', '.env.enc');
  const s = await r.noteseal(['encrypt', '-', '-o', outside], { stdin: 'API_TOKEN=from-the-other-repo\n' });
  assert.equal(s.code, 0, s.stderr);
  await fs.mkdir(path.join(r.repo, 'notes'));
  await fs.symlink('../../.ssh/id_ed25519', path.join(r.repo, 'notes', 'todo.md'));
  await fs.symlink('../../.ssh/id_ed25519', path.join(r.repo, 'notes', 'todo.md.enc'));
  await fs.symlink('../../other-repo/.env.enc', path.join(r.repo, 'notes', '.env.enc'));
  await fs.symlink('/proc/self/environ', path.join(r.repo, 'notes', 'environ'));
});
after(() => r.dispose());

const refusedLink = (run: { code: number | null; stderr: string; stdout: string }, what: string) => {
  assert.equal(run.code, 7, `${what}: ${run.stderr}`);
  assert.match(run.stderr, /is a symbolic link: NoteSeal does not follow symbolic links/, what);
  assert.doesNotMatch(run.stdout + run.stderr, /canary 7d1e|from-the-other-repo|PATH=/, `${what}: nothing of a target is shown`);
};

describe('the CLI and symbolic links a repository placed', () => {
  it('encrypt seals neither a linked SSH key nor /proc/self/environ into the repository', async () => {
    const before = await snapshot();
    refusedLink(await r.noteseal(['encrypt', 'notes/todo.md', '-o', 'notes/sealed.md.enc']), 'encrypt of a link');
    refusedLink(await r.noteseal(['encrypt', 'notes/environ']), 'encrypt of /proc/self/environ');
    await assert.rejects(fs.lstat(path.join(r.repo, 'notes', 'sealed.md.enc')), { code: 'ENOENT' });
    await assert.rejects(fs.lstat(path.join(r.repo, 'notes', 'environ.enc')), { code: 'ENOENT' });
    assert.deepEqual(await snapshot(), before);
  });

  it('decrypt, exec, inspect, verify, grep and updatekeys refuse a link to another repository\'s file', async () => {
    const before = await snapshot();
    refusedLink(await r.noteseal(['decrypt', 'notes/.env.enc']), 'decrypt');
    refusedLink(await r.noteseal(['exec', 'notes/.env.enc', '--', 'env']), 'exec');
    refusedLink(await r.noteseal(['inspect', 'notes/.env.enc']), 'inspect');
    refusedLink(await r.noteseal(['verify', 'notes/.env.enc']), 'verify');
    const withPass = { env: { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass') } }; // updatekeys needs the keyfile itself
    refusedLink(await r.noteseal(['updatekeys', 'notes/.env.enc'], withPass), 'updatekeys of the link');
    const grep = await r.noteseal(['grep', 'API_TOKEN', 'notes/.env.enc']);
    assert.notEqual(grep.code, 0, grep.stderr);
    assert.doesNotMatch(grep.stdout, /from-the-other-repo/);
    // A folder walk skips links: nothing outside is rewrapped.
    const walk = await r.noteseal(['updatekeys', 'notes'], withPass);
    assert.equal(walk.code, 0, walk.stderr);
    assert.doesNotMatch(walk.stderr, /\.env\.enc|todo/, walk.stderr);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await r.open(outside), 'API_TOKEN=from-the-other-repo\n', 'the real file still opens');
  });

  it('a linked folder inside the repository leads nowhere: neither read from nor written into', async () => {
    const before = await snapshot();
    await fs.symlink('../other-repo', path.join(r.repo, 'shared'));
    refusedLink(await r.noteseal(['decrypt', 'shared/.env.enc']), 'decrypt through a linked folder');
    refusedLink(await r.noteseal(['exec', 'shared/.env.enc', '--', 'env']), 'exec through a linked folder');
    refusedLink(await r.noteseal(['encrypt', '-', '-o', 'shared/planted.md.enc'], { stdin: 'planted' }), 'encrypt into a linked folder');
    await assert.rejects(fs.lstat(path.join(r.root, 'other-repo', 'planted.md.enc')), { code: 'ENOENT' });
    assert.deepEqual(await snapshot(), before);
  });

  it('git textconv shows a placeholder for a link, never its target', async () => {
    const t = await r.noteseal(['git', 'textconv', 'notes/.env.enc']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^\[NoteSeal: a symbolic link or special file: not followed; /);
    assert.doesNotMatch(t.stdout, /from-the-other-repo/);
  });
});
