// Encrypted files in a real git repository (Debian's git) with a real `noteseal agent`: setup, diffs,
// clean and conflicting merges, recordings, a merge while locked, and the hostile-repository cases.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mergeText, splitLines } from '../../../server/src/cli/git-merge';
import { gitOk, makeGitRepo, type GitRepo } from './gitRepo';

const NOTE = ['# plan', 'alpha', 'bravo', 'charlie', 'delta', 'echo', ''].join('\n');

describe('the three-way text merge', () => {
  it('keeps line endings and a missing final newline; the same change on both sides is no conflict', () => {
    assert.deepEqual(splitLines('a\r\nb\nc'), ['a\r\n', 'b\n', 'c']);
    assert.deepEqual(mergeText('x\nb\nc', 'a\nb\nc', 'a\nb\nz'), { text: 'x\nb\nz', conflicts: 0 });
    assert.deepEqual(mergeText('a\nB\n', 'a\nb\n', 'a\nB\n'), { text: 'a\nB\n', conflicts: 0 });
    assert.deepEqual(mergeText('a\r\nX\r\n', 'a\r\nb\r\n', 'a\r\nY\r\n'), { text: 'a\r\n<<<<<<< ours\r\nX\r\n=======\r\nY\r\n>>>>>>> theirs\r\n', conflicts: 1 });
    assert.equal(mergeText('a\nX', 'a\nb', 'a\nY').text, 'a\n<<<<<<< ours\nX\n=======\nY\n>>>>>>> theirs\n');
    assert.equal(mergeText('new\n', '', 'other\n').conflicts, 1, 'both added the file');
  });
});

describe('noteseal git', () => {
  let r: GitRepo;
  before(async () => {
    r = await makeGitRepo('cli');
    await r.startAgent();
  });
  after(() => r.dispose());

  it('setup writes the attributes and the local config once, says what it changed; check says what is missing', async () => {
    await fs.writeFile(path.join(r.repo, '.gitattributes'), '*.png binary');
    const before = await r.noteseal(['git', 'check']);
    assert.equal(before.code, 1);
    assert.match(before.stdout, /MISSING +\*\.enc files diff through NoteSeal/);
    assert.match(before.stdout, /MISSING +merge\.noteseal\.driver is not set/);
    const first = await r.noteseal(['git', 'setup']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /added "\*\.enc -text diff=noteseal merge=noteseal"/);
    assert.match(first.stdout, /set diff\.noteseal\.textconv = noteseal git textconv/);
    assert.match(first.stdout, /set merge\.noteseal\.driver = noteseal git merge-driver %O %A %B %P/);
    assert.match(first.stdout, /set diff\.noteseal\.cachetextconv = false/);
    const attrs = await fs.readFile(path.join(r.repo, '.gitattributes'), 'utf8');
    assert.ok(attrs.startsWith('*.png binary\n'), 'the repository\'s own lines stay');
    assert.match(attrs, /^\*\.wav\.enc binary$/m);
    const again = await r.noteseal(['git', 'setup']);
    assert.match(again.stdout, /nothing to change/);
    assert.equal(await fs.readFile(path.join(r.repo, '.gitattributes'), 'utf8'), attrs, 'idempotent');
    await gitOk(r, 'config', '--local', 'merge.noteseal.driver', 'sh -c "echo pwned"');
    assert.match((await r.noteseal(['git', 'check'])).stdout, /expected "noteseal git merge-driver/);
    assert.match((await r.noteseal(['git', 'setup'])).stdout, /changed merge\.noteseal\.driver from "sh -c/);
    const ok = await r.noteseal(['git', 'check']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /noteseal on the PATH: .*\/bin\/noteseal/);
    assert.match(ok.stdout, /^note +the agent at .* is unlocked$/m);
    // A committed `.gitattributes` that is a link (here to the keyfile) is never read or written through.
    const evil = await makeGitRepo('evil');
    try {
      await fs.symlink(evil.env.NOTESEAL_KEYFILE, path.join(evil.repo, '.gitattributes'));
      const refused = await evil.noteseal(['git', 'setup']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /not a regular file/);
      assert.ok((await fs.lstat(path.join(evil.repo, '.gitattributes'))).isSymbolicLink());
      await fs.writeFile(path.join(evil.repo, 'noteseal'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
      const planted = await evil.noteseal(['git', 'check'], { env: { PATH: `.:${evil.env.PATH}` } });
      assert.match(planted.stdout, /inside this repository: refused/);
      assert.match(planted.stdout, /PATH has a relative or empty entry/);
    } finally { await evil.dispose(); }
    await gitOk(r, 'add', '.gitattributes');
    await gitOk(r, 'commit', '-qm', 'attributes');
  });

  it('git diff, log -p and show print the decrypted change; locked or without an agent, one placeholder line per version, exit 0', async () => {
    await r.seal('plan.md.enc', NOTE);
    await gitOk(r, 'add', 'plan.md.enc');
    await gitOk(r, 'commit', '-qm', 'plan');
    await r.seal('plan.md.enc', NOTE.replace('bravo', 'BRAVO changed'));
    const diff = await gitOk(r, 'diff');
    assert.match(diff, /^-bravo$/m);
    assert.match(diff, /^\+BRAVO changed$/m);
    await gitOk(r, 'commit', '-qam', 'bravo');
    assert.match(await gitOk(r, 'log', '-p', '-1'), /^\+BRAVO changed$/m);
    assert.match(await gitOk(r, 'show', 'HEAD~1:plan.md.enc'), /NOTESEAL|NSEAL/, 'git show of a blob stays the raw bytes');
    assert.match(await gitOk(r, 'show', 'HEAD'), /^\+BRAVO changed$/m);
    assert.deepEqual(await fs.readdir(path.join(r.repo, '.git', 'refs')).then(x => x.includes('notes')), false, 'no textconv cache');

    await r.lockAgent();
    const locked = await r.git(['log', '-p', '-1']);
    assert.equal(locked.code, 0);
    assert.doesNotMatch(locked.stdout, /^[-+].*bravo/im);
    const lines = locked.stdout.split('\n').filter(l => /^[-+]\[NoteSeal: encrypted, NoteSeal is locked/.test(l));
    assert.equal(lines.length, 2, locked.stdout);
    assert.notEqual(lines[0].slice(1), lines[1].slice(1), 'the two versions stay apart');
    assert.equal(locked.stderr, '', 'no error storm');
    await r.noteseal(['agent', 'stop']);
    const none = await r.git(['show', 'HEAD']);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /\[NoteSeal: encrypted, NoteSeal is locked/);
    assert.equal(none.stderr, '');
    await r.startAgent();
  });

  it('two branches editing different lines merge cleanly: the result is encrypted and holds both changes', async () => {
    await gitOk(r, 'checkout', '-qb', 'clean-a');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('alpha', 'alpha from a'));
    await gitOk(r, 'commit', '-qam', 'a');
    await gitOk(r, 'checkout', '-qb', 'clean-b', 'main');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('echo', 'echo from b'));
    await gitOk(r, 'commit', '-qam', 'b');
    const merge = await r.git(['merge', '--no-edit', 'clean-a']);
    assert.equal(merge.code, 0, merge.stderr + merge.stdout);
    const merged = await r.open('plan.md.enc');
    assert.match(merged, /alpha from a/);
    assert.match(merged, /echo from b/);
    const raw = await fs.readFile(path.join(r.repo, 'plan.md.enc'));
    assert.ok(!raw.includes('alpha'), 'the working file is ciphertext');
    assert.equal((await gitOk(r, 'status', '--porcelain')).trim(), '');
    assert.equal((await r.noteseal(['verify', 'plan.md.enc'])).code, 0);
  });

  it('the same line changed on both sides: markers inside the encrypted file; resolved, added and committed', async () => {
    await gitOk(r, 'checkout', '-qb', 'same-a', 'main');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('charlie', 'charlie by a'));
    await gitOk(r, 'commit', '-qam', 'a');
    await gitOk(r, 'checkout', '-qb', 'same-b', 'main');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('charlie', 'charlie by b'));
    await gitOk(r, 'commit', '-qam', 'b');
    const merge = await r.git(['merge', '--no-edit', 'same-a']);
    assert.notEqual(merge.code, 0);
    assert.match(merge.stdout, /CONFLICT \(content\): Merge conflict in plan\.md\.enc/);
    assert.match(merge.stderr, /1 conflict, marked inside the encrypted file/);
    const marked = await r.open('plan.md.enc');
    assert.match(marked, /<<<<<<< ours\ncharlie by b\n=======\ncharlie by a\n>>>>>>> theirs\n/);
    assert.match(marked, /BRAVO changed/);
    assert.ok(!(await fs.readFile(path.join(r.repo, 'plan.md.enc'))).includes('<<<<<<<'));
    assert.match(await gitOk(r, 'diff'), /charlie by a/, 'the combined diff of the conflict is decrypted too');
    await r.seal('plan.md.enc', marked.replace(/<<<<<<< ours\n.*\n=======\n.*\n>>>>>>> theirs\n/, 'charlie by both\n'));
    await gitOk(r, 'add', 'plan.md.enc');
    await gitOk(r, 'commit', '-qm', 'merged');
    assert.match(await r.open('plan.md.enc'), /^charlie by both$/m);
  });

  it('a recording in conflict keeps ours (git, and the driver called on one)', async () => {
    const ours = path.join(r.root, 'ours.wav.enc');
    await gitOk(r, 'checkout', '-qb', 'rec-a', 'main');
    await r.seal('meeting.wav.enc', 'RIFF audio one');
    await gitOk(r, 'add', 'meeting.wav.enc');
    await gitOk(r, 'commit', '-qm', 'a');
    await gitOk(r, 'checkout', '-qb', 'rec-b', 'main');
    await r.seal('meeting.wav.enc', 'RIFF audio two');
    await gitOk(r, 'add', 'meeting.wav.enc');
    await gitOk(r, 'commit', '-qm', 'b');
    const mine = await fs.readFile(path.join(r.repo, 'meeting.wav.enc'));
    const merge = await r.git(['merge', '--no-edit', 'rec-a']);
    assert.notEqual(merge.code, 0);
    assert.match(merge.stdout, /CONFLICT/);
    assert.deepEqual(await fs.readFile(path.join(r.repo, 'meeting.wav.enc')), mine, 'ours, byte for byte');
    await gitOk(r, 'merge', '--abort');
    // The driver itself, as a repository without the binary line would call it.
    await fs.copyFile(path.join(r.repo, 'meeting.wav.enc'), ours);
    const base = path.join(r.root, 'empty');
    await fs.writeFile(base, '');
    const driver = await r.noteseal(['git', 'merge-driver', base, ours, path.join(r.repo, 'meeting.wav.enc'), 'meeting.wav.enc']);
    assert.equal(driver.code, 1);
    assert.match(driver.stderr, /recordings are never merged\): kept ours/);
    assert.deepEqual(await fs.readFile(ours), mine);
  });

  it('a merge while locked fails clearly, writes nothing, and git merge --abort restores everything', async () => {
    await gitOk(r, 'checkout', '-qb', 'lock-a', 'main');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('delta', 'delta by a'));
    await gitOk(r, 'commit', '-qam', 'a');
    await gitOk(r, 'checkout', '-qb', 'lock-b', 'main');
    await r.seal('plan.md.enc', (await r.open('plan.md.enc')).replace('alpha', 'alpha by b'));
    await gitOk(r, 'commit', '-qam', 'b');
    const head = (await gitOk(r, 'rev-parse', 'HEAD')).trim();
    const mine = await fs.readFile(path.join(r.repo, 'plan.md.enc'));
    await r.lockAgent();
    const merge = await r.git(['merge', '--no-edit', 'lock-a']);
    assert.notEqual(merge.code, 0);
    assert.match(merge.stderr, /cannot merge plan\.md\.enc: the NoteSeal agent at .* is locked.*Nothing was written/);
    assert.match(await gitOk(r, 'status', '--porcelain'), /^UU plan\.md\.enc$/m, 'git\'s own conflict state');
    assert.deepEqual(await fs.readFile(path.join(r.repo, 'plan.md.enc')), mine, 'ours, untouched');
    // What the message offers: unlocked, `git checkout -m` runs the driver again on git's three stages.
    await r.noteseal(['agent', 'stop']);
    await r.startAgent();
    await gitOk(r, 'checkout', '-m', '--', 'plan.md.enc');
    assert.match(await r.open('plan.md.enc'), /alpha by b[\s\S]*delta by a/);
    await gitOk(r, 'merge', '--abort');
    assert.equal((await gitOk(r, 'rev-parse', 'HEAD')).trim(), head);
    assert.equal((await gitOk(r, 'status', '--porcelain')).trim(), '');
    assert.deepEqual(await fs.readFile(path.join(r.repo, 'plan.md.enc')), mine);
    // Unlocked, the same merge goes through.
    assert.equal((await r.git(['merge', '--no-edit', 'lock-a'])).code, 0);
    assert.match(await r.open('plan.md.enc'), /alpha by b[\s\S]*delta by a/);
  });

  it('a file that is not NoteSeal\'s, named for the driver by a crafted .gitattributes, is kept as ours, never run or decrypted', async () => {
    await gitOk(r, 'checkout', '-qb', 'foreign-a', 'main');
    await fs.writeFile(path.join(r.repo, '.gitattributes'), (await fs.readFile(path.join(r.repo, '.gitattributes'), 'utf8')) + '*.txt merge=noteseal diff=noteseal\n');
    await fs.writeFile(path.join(r.repo, 'x.txt'), 'one\n');
    await gitOk(r, 'add', '.');
    await gitOk(r, 'commit', '-qm', 'x');
    await gitOk(r, 'checkout', '-qb', 'foreign-b');
    await fs.writeFile(path.join(r.repo, 'x.txt'), 'two\n');
    await gitOk(r, 'commit', '-qam', 'b');
    await gitOk(r, 'checkout', '-q', 'foreign-a');
    await fs.writeFile(path.join(r.repo, 'x.txt'), 'three\n');
    await gitOk(r, 'commit', '-qam', 'a');
    assert.match(await gitOk(r, 'show', 'HEAD'), /\[NoteSeal: not a NoteSeal file/);
    const merge = await r.git(['merge', '--no-edit', 'foreign-b']);
    assert.notEqual(merge.code, 0);
    assert.match(merge.stderr, /x\.txt: not merged \(not a NoteSeal file\): kept ours/);
    assert.equal(await fs.readFile(path.join(r.repo, 'x.txt'), 'utf8'), 'three\n');
    await gitOk(r, 'merge', '--abort');
  });
});
