// UI: a conflicting `git merge` of an encrypted note (NoteSeal's merge driver, real git), resolved in the
// workbench: the note opens from Source Control decrypted, with VS Code's merge decorations and the
// Accept Current / Incoming CodeLenses; Accept Incoming, the save, then `git add` and `git commit` succeed
// and the committed file decrypts to the resolution.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { randomBytes } from 'node:crypto';
import { searchForCanary } from './leakSearch.mjs';
import { openWorkbench, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'git ui test passphrase 3';
const CLI = path.join(projectRoot, 'dist/cli.js');

describe('a git conflict in an encrypted note, resolved in the workbench', () => {
  let wb, page, dir, keyfile, env, repo;

  const cli = (args, opts = {}) => execFileSync(process.execPath, [CLI, ...args], { cwd: repo, env, input: opts.input ?? '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const seal = (file, text) => cli(['encrypt', '-', '-o', file, '--force'], { input: text });
  const canary = `gitui-${randomBytes(8).toString('hex')}`;
  const started = Date.now();
  const note = ['# plan', `alpha ${canary}`, 'bravo', 'charlie', 'delta', ''].join('\n');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-gitui-'));
    keyfile = path.join(dir, 'keyfile.json');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'noteseal'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'pass'), PASSPHRASE, { mode: 0o600 });
    // git runs the driver with the passphrase given on purpose (no agent before the window opens).
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NOTESEAL_KEYFILE: keyfile, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass'),
      NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_AGENT_SOCK: path.join(dir, 'no-agent.sock'), GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid' };
    repo = dir;
    cli(['init']);
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        repo = folder;
        git('init', '-q', '-b', 'main');
        cli(['git', 'setup']);
        seal('plan.md.enc', note);
        git('add', '.');
        git('commit', '-qm', 'plan');
        git('checkout', '-qb', 'theirs');
        seal('plan.md.enc', note.replace('charlie', 'charlie from theirs'));
        git('commit', '-qam', 'theirs');
        git('checkout', '-q', 'main');
        seal('plan.md.enc', note.replace('charlie', 'charlie from ours'));
        git('commit', '-qam', 'ours');
        assert.throws(() => git('merge', '--no-edit', 'theirs'), /1 conflict, marked inside the encrypted file/);
        assert.match(git('status', '--porcelain'), /^UU plan\.md\.enc$/m);
        assert.match(cli(['decrypt', 'plan.md.enc']), /<<<<<<< ours\ncharlie from ours\n=======\ncharlie from theirs\n>>>>>>> theirs\n/);
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens from Source Control with the decrypted markers, Accept Incoming resolves it, git add and commit succeed', async () => {
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 300 } });
    await page.keyboard.press('Control+Shift+G');
    const row = page.locator('.scm-view .monaco-list-row', { hasText: 'plan.md.enc' }).first();
    await row.waitFor({ timeout: 60_000 });
    await screenshot(page, 'git-conflict-scm');
    await row.click();
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await page.locator('.tab', { hasText: 'plan.md' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.view-lines', { hasText: 'charlie from theirs' }).first().waitFor({ timeout: 30_000 });
    const accept = page.locator('.codelens-decoration a', { hasText: 'Accept Incoming Change' });
    await accept.first().waitFor({ timeout: 30_000 });
    assert.ok(await page.locator('.codelens-decoration a', { hasText: 'Accept Current Change' }).count() > 0);
    await screenshot(page, 'git-conflict-decorations');
    await accept.first().click();
    await page.locator('.view-lines', { hasText: '<<<<<<<' }).waitFor({ state: 'detached', timeout: 15_000 });
    await editor.click();
    await page.keyboard.press('Control+S');
    // Saved (encrypted) once the file on disk decrypts to the resolution.
    const resolution = note.replace('charlie', 'charlie from theirs');
    for (let i = 0; i < 60 && cli(['decrypt', 'plan.md.enc']) !== resolution; i++) await page.waitForTimeout(250);
    assert.equal(cli(['decrypt', 'plan.md.enc']), resolution);
    await screenshot(page, 'git-conflict-resolved');
    assert.ok(!fs.readFileSync(path.join(repo, 'plan.md.enc')).includes('charlie'), 'ciphertext on disk');
    git('add', 'plan.md.enc');
    git('commit', '-q', '--no-edit');
    assert.equal(git('status', '--porcelain').trim(), '');
    assert.equal(cli(['decrypt', 'plan.md.enc']), resolution, 'the committed file decrypts to the resolution');
    // No plaintext anywhere: the workbench's state (user data, Chromium profile, its temp dir), the
    // repository's files and every git object, /tmp since the test began; a planted control proves the search.
    const control = `control-${randomBytes(8).toString('hex')}`;
    fs.writeFileSync(path.join(wb.stateDir, 'tmp', 'control'), control);
    const roots = [{ dir: wb.stateDir }, { dir: repo }, { dir: os.tmpdir(), since: started }];
    assert.ok(searchForCanary(control, roots).hits.length > 0, 'the planted control is found');
    assert.deepEqual(searchForCanary(canary, roots).hits, [], 'the canary is nowhere on disk');
    assert.ok(!execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: repo, env }).includes(canary), 'nor in any git object');
    assert.match(git('diff', 'HEAD~1', 'HEAD'), /^-charlie from ours\n\+charlie from theirs$/m, 'and git diff shows it decrypted');
  });
});
