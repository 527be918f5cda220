// A git merge in a shared folder (issues 13 and 14): the merge driver encrypts the merged file to the
// folder's verified members, as every other write below `.noteseal/recipients`; a member with another
// keyfile (another HOME) reads the merged result; a list with an unsigned addition refuses the merge and
// leaves git's conflict state as it was.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeGitRepo, type GitRepo } from '../cli/gitRepo';
import { makePerson, type Person } from './people';

let r: GitRepo;
let bob: Person;

before(async () => {
  r = await makeGitRepo('shared');
  bob = await makePerson(r.root, 'bob');
  const pass = { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass'), USER: 'owner' };
  const add = await r.noteseal(['recipients', 'add', bob.identity, '--name', 'bob'], { env: pass });
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await r.noteseal(['git', 'setup'])).code, 0);
  await r.startAgent();
});
after(() => r?.dispose());

describe('the merge driver in a shared folder', () => {
  it('encrypts the merged file to every member: another person reads both changes', async () => {
    await r.seal('.env.enc', 'A=1\nB=2\nC=3\n');
    await r.git(['add', '-A']);
    await r.git(['commit', '-qm', 'base']);
    await r.git(['checkout', '-qb', 'feature']);
    await r.seal('.env.enc', 'A=one\nB=2\nC=3\n');
    await r.git(['commit', '-qam', 'feature changes A']);
    await r.git(['checkout', '-q', '-']);
    await r.seal('.env.enc', 'A=1\nB=2\nC=three\n');
    await r.git(['commit', '-qam', 'main changes C']);
    const merge = await r.git(['merge', '--no-edit', 'feature']);
    assert.equal(merge.code, 0, merge.stdout + merge.stderr);
    const read = await bob.cli(['decrypt', path.join(r.repo, '.env.enc')]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, 'A=one\nB=2\nC=three\n', 'Bob, a member with his own keyfile, reads the merge');
  });

  it('refuses to merge into a list with an unsigned addition: nothing is written, git keeps the conflict', async () => {
    await r.git(['checkout', '-qb', 'other']);
    await r.seal('.env.enc', 'A=other\nB=2\nC=three\n');
    await r.git(['commit', '-qam', 'other changes A']);
    await r.git(['checkout', '-q', '-']);
    await r.seal('.env.enc', 'A=one\nB=2\nC=3 again\n');
    await r.git(['commit', '-qam', 'main changes C again']);
    // A stranger appends an entry nobody signed (the signature is garbage).
    const list = path.join(r.repo, '.noteseal', 'recipients');
    const text = await fs.readFile(list, 'utf8');
    const lines = text.trimEnd().split('\n');
    await fs.writeFile(list, `${text}${lines[lines.length - 1]!.replace(/"name":"[^"]*"/, '"name":"mallory"')}\n`);
    const before = await fs.readFile(path.join(r.repo, '.env.enc'));
    const merge = await r.git(['merge', '--no-edit', 'other']);
    assert.notEqual(merge.code, 0, 'the merge does not succeed');
    assert.match(merge.stderr + merge.stdout, /recipients|mallory|not signed/i);
    assert.deepEqual(await fs.readFile(path.join(r.repo, '.env.enc')), before, 'ours is left as it was');
    const status = await r.git(['status', '--porcelain']);
    assert.match(status.stdout, /^UU \.env\.enc$/m, 'git marks the file conflicted');
    await r.git(['merge', '--abort']);
  });
});
