// No plaintext on disk through git: a canary in encrypted notes goes through branches, a clean merge, a
// conflicting merge and its resolution, a rebase, git stash, git cherry-pick and every diff, with rerere
// on. Then it is found nowhere: not in any git object (decompressed, through git cat-file), not in any
// file below .git (ORIG_HEAD, MERGE_MSG, rr-cache, the index, logs), not in the temp folders (the test's
// TMPDIR and files changed in /tmp since the test began), not in the working tree. A planted control,
// committed in plaintext and written into both temp folders, proves the search finds what is there.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { gitOk, makeGitRepo, type GitRepo } from './gitRepo';

const canary = `canary-${randomBytes(8).toString('hex')}`;
const control = `control-${randomBytes(8).toString('hex')}`;
const started = Date.now();
let r: GitRepo;

before(async () => {
  r = await makeGitRepo('canary');
  await r.startAgent();
  assert.equal((await r.noteseal(['git', 'setup'])).code, 0);
  await gitOk(r, 'config', 'rerere.enabled', 'true');
});
after(() => r.dispose());

const lines = (tag: string) => ['# secrets', `one ${canary} ${tag}`, 'two', 'three', 'four', `five ${canary}`, ''].join('\n');

async function edit(file: string, from: string, to: string): Promise<void> {
  await r.seal(file, (await r.open(file)).replace(from, to));
}

/** Every file below `dir` (not following links), with its bytes; unreadable ones are skipped. */
async function* filesBelow(dir: string, since?: number): AsyncGenerator<{ file: string; bytes: Buffer }> {
  let entries;
  try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) { yield* filesBelow(file, since); continue; }
    if (!e.isFile()) continue;
    try {
      const st = await fs.stat(file);
      if ((since !== undefined && st.mtimeMs < since) || st.size > 64 * 1024 * 1024) continue;
      yield { file, bytes: await fs.readFile(file) };
    } catch { /* gone or not ours */ }
  }
}

/** Where `needle` appears on disk (UTF-8 or UTF-16LE), in the places the issue names. */
async function findOnDisk(needle: string): Promise<string[]> {
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
  const hits: string[] = [];
  const objects = await r.git(['cat-file', '--batch-all-objects', '--batch']);
  if (objects.stdout.includes(needle)) hits.push('a git object');
  for (const [where, since] of [[path.join(r.repo), undefined], [r.tmp, undefined], [os.tmpdir(), started]] as const) {
    for await (const { file, bytes } of filesBelow(where, since)) {
      if (forms.some(f => bytes.includes(f))) hits.push(file);
    }
  }
  return hits;
}

it('a canary in encrypted notes is nowhere on disk after branches, merges, a conflict, rebase, stash and cherry-pick', async () => {
  await r.seal('notes.md.enc', lines('base'));
  await r.seal('other.md.enc', lines('other'));
  await gitOk(r, 'add', '.');
  await gitOk(r, 'commit', '-qm', 'base');

  // A clean merge of two branches.
  await gitOk(r, 'checkout', '-qb', 'a');
  await edit('notes.md.enc', 'two', `two ${canary} by a`);
  await gitOk(r, 'commit', '-qam', 'a');
  await gitOk(r, 'checkout', '-qb', 'b', 'main');
  await edit('notes.md.enc', 'four', `four ${canary} by b`);
  await gitOk(r, 'commit', '-qam', 'b');
  await gitOk(r, 'merge', '--no-edit', 'a');
  assert.match(await r.open('notes.md.enc'), /by a[\s\S]*by b/);

  // A conflicting merge, resolved; diffs of every kind on the way.
  await gitOk(r, 'checkout', '-qb', 'c', 'main');
  await edit('notes.md.enc', 'three', `three ${canary} by c`);
  await gitOk(r, 'commit', '-qam', 'c');
  const conflicted = await r.git(['merge', '--no-edit', 'b']);
  assert.notEqual(conflicted.code, 0);
  assert.match(await r.open('notes.md.enc'), /<<<<<<< ours/);
  assert.match(await gitOk(r, 'diff'), new RegExp(canary));
  await r.seal('notes.md.enc', (await r.open('notes.md.enc')).replace(/<<<<<<< ours\n([^\n]*\n)=======\n[\s\S]*?>>>>>>> theirs\n/, '$1'));
  await gitOk(r, 'add', 'notes.md.enc');
  await gitOk(r, 'commit', '-qm', 'resolved');
  assert.match(await gitOk(r, 'log', '-p'), new RegExp(canary));

  // A rebase that replays an encrypted change onto another one (the merge driver runs inside it).
  await gitOk(r, 'checkout', '-qb', 'r', 'main');
  await edit('other.md.enc', 'two', `two ${canary} rebased`);
  await gitOk(r, 'commit', '-qam', 'r');
  await gitOk(r, 'checkout', '-q', 'main');
  await edit('other.md.enc', 'four', `four ${canary} on main`);
  await gitOk(r, 'commit', '-qam', 'main moves');
  await gitOk(r, 'rebase', 'main', 'r');
  assert.match(await r.open('other.md.enc'), /rebased[\s\S]*on main/);

  // git stash, then a pop that must merge with a commit made meanwhile.
  await edit('other.md.enc', 'three', `three ${canary} stashed`);
  await gitOk(r, 'stash');
  await edit('other.md.enc', '# secrets', `# secrets ${canary}`);
  await gitOk(r, 'commit', '-qam', 'meanwhile');
  await gitOk(r, 'stash', 'pop');
  assert.match(await r.open('other.md.enc'), /# secrets canary[\s\S]*stashed/);
  await gitOk(r, 'commit', '-qam', 'popped');

  // git cherry-pick of a change to a file that moved on.
  await gitOk(r, 'checkout', '-qb', 'pick', 'main');
  await edit('other.md.enc', 'five', `five picked ${canary}`);
  await gitOk(r, 'commit', '-qam', 'to pick');
  await gitOk(r, 'checkout', '-q', 'r');
  await gitOk(r, 'cherry-pick', 'pick');
  assert.match(await r.open('other.md.enc'), /five picked/);
  await gitOk(r, 'show', '--stat', 'HEAD');

  // The planted control: committed in plaintext, and written into both temp folders.
  await fs.writeFile(path.join(r.repo, 'control.txt'), `${control}\n`);
  await gitOk(r, 'add', 'control.txt');
  await gitOk(r, 'commit', '-qm', 'control');
  await fs.rm(path.join(r.repo, 'control.txt'));
  await gitOk(r, 'commit', '-qam', 'control gone from the tree');
  await fs.writeFile(path.join(r.tmp, 'control'), control);
  const tmpControl = path.join(os.tmpdir(), `noteseal-git-control-${process.pid}`);
  await fs.writeFile(tmpControl, Buffer.from(control, 'utf16le'));
  try {
    const found = await findOnDisk(control);
    assert.ok(found.includes('a git object'), 'the control is found in a compressed git object');
    assert.ok(found.includes(path.join(r.tmp, 'control')) && found.includes(tmpControl), `the control is found in both temp folders: ${found.join(', ')}`);
  } finally { await fs.rm(tmpControl, { force: true }); }

  assert.deepEqual(await findOnDisk(canary), [], 'the canary is nowhere on disk');
  await fs.access(path.join(r.repo, '.git', 'ORIG_HEAD'));
});
