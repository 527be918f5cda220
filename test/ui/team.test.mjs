// UI, issue 13 "Done means": two people edit the same encrypted config in one repository, each in VS Code,
// and each sees who wrote the current version. Alice and Bob have their own HOME, keyfile and git identity;
// they share a bare origin repository through their own clones (real git, the real CLI). Alice shares
// `config/` from the Explorer (Share Folder…, picking Bob from the members of `notes/`) and saves the config
// again, so it is encrypted to Bob; Bob opens it in his workbench, sees Alice as its writer, edits and
// pushes (his first save there asks him to accept config/'s list, in a modal he clicks); Alice pulls into her still-open workbench and sees Bob's line and Bob as the writer. Nothing
// either typed is anywhere on disk in plaintext.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { searchForCanary } from './leakSearch.mjs';
import { explorerRow, notification, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const CLI = path.join(projectRoot, 'dist/cli.js');
const startedAt = Date.now() - 1000;

/** Waits until `check()` (sync or async) returns a truthy value, polling; fails with `what` after `timeout`. */
async function until(what, check, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 300));
  }
}

/** A person: a HOME of their own (keyfile, pins, agent dir), a passphrase, a git name, the CLI and git as them. */
function makePerson(root, name) {
  const home = path.join(root, name);
  fs.mkdirSync(path.join(home, 'run'), { recursive: true, mode: 0o700 });
  const keyfile = path.join(home, '.config', 'noteseal', 'keyfile.json');
  const passphrase = `${name}'s passphrase for the team test`;
  const passFile = path.join(home, 'pass');
  fs.writeFileSync(passFile, passphrase, { mode: 0o600 });
  // What reaches this person's workbench (and so their NoteSeal worker) too.
  const env = {
    HOME: home, USER: name, XDG_RUNTIME_DIR: path.join(home, 'run'), NOTESEAL_KEYFILE: keyfile, GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: `${name}@example.invalid`, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: `${name}@example.invalid`,
  };
  // The CLI never reaches a workbench's agent here: the passphrase comes from the file.
  const cliEnv = { ...process.env, ...env, XDG_CONFIG_HOME: path.join(home, '.config'), NOTESEAL_TEST_FAST_KDF: '1',
    NOTESEAL_PASSPHRASE_FILE: passFile, NOTESEAL_AGENT_SOCK: path.join(home, 'run', 'no-agent.sock') };
  const person = {
    name, home, keyfile, passphrase, env,
    /** The CLI as this person: { code, stdout, stderr }. */
    run: (args, { cwd = home, input = '' } = {}) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: cliEnv, input, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    cli(args, opts) {
      const r = person.run(args, opts);
      assert.equal(r.code, 0, `${name}: noteseal ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    git: (cwd, ...args) => execFileSync('git', args, { cwd, env: cliEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  };
  person.cli(['init']);
  person.identity = person.cli(['identity']).trim().split('\n').pop();
  assert.match(person.identity, /^noteseal1/);
  return person;
}

describe('a team edits one encrypted config, each in VS Code, and each sees who wrote it', () => {
  let root, origin, alice, bob, aliceRepo, bobRepo, aliceWb, bobWb;
  const canaryAlice = `ALICE${randomBytes(8).toString('hex')}`;
  const canaryBob = `BOB${randomBytes(8).toString('hex')}`;
  const config = repo => path.join(repo, 'config', 'app.env.enc');
  /** The workbench's own shutdown, keeping its state dir for the leak search (removed in after()). */
  const stop = async wb => { if (wb && !wb.stopped) { wb.stopped = true; await wb.closeWindow(); await wb.host.stop(); } };

  const editor = page => page.locator('.editor-instance .monaco-editor .view-lines').first();
  /** Opens `config/app.env.enc` from the Explorer and waits for its decrypted text to show `expect`. */
  async function openConfig(page, expect) {
    const file = explorerRow(page, 'app.env.enc');
    if (!await file.isVisible()) await explorerRow(page, 'config').click({ timeout: 60_000 });
    await file.click({ timeout: 30_000 });
    await page.locator('.tabs-container .tab', { hasText: 'app.env' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.editor-instance .view-lines', { hasText: expect }).first().waitFor({ timeout: 30_000 });
  }
  /** Types a line at the end of the open note (which ends with a newline), as a user: click, Ctrl+End, the keys, Enter. */
  async function typeLine(page, text) {
    await editor(page).click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(text, { delay: 15 });
    await page.keyboard.press('Enter');
  }
  /**
   * The note's tab title as its hover shows it: the path, then the decorations' tooltips; the lock badge's
   * names the last writer. Read from the label's aria-label (the same text), waiting until it matches `re`.
   */
  async function tabTooltip(page, re) {
    const label = page.locator('.tabs-container .tab.active .monaco-icon-label');
    let text = '';
    try { await until(`the tab's tooltip to match ${re}`, async () => re.test(text = await label.getAttribute('aria-label') ?? ''), 20_000); }
    catch (e) { e.message += `; it says: ${text}`; throw e; }
    return text;
  }
  /** Runs "Who Can Read This File?" on the active note and returns the modal's text (then closes it). */
  async function whoCanRead(page, shot) {
    await runCommand(page, 'NoteSeal: Who Can Read This File?');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    const text = (await dialog.innerText()).replace(/[ \t]+/g, ' ');
    await screenshot(page, shot);
    await dialog.locator('.monaco-button', { hasText: 'OK' }).first().click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    return text;
  }

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-teamui-'));
    alice = makePerson(root, 'alice');
    bob = makePerson(root, 'bob');
    origin = path.join(root, 'origin.git');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', origin], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    aliceRepo = path.join(root, 'alice-clone');
    bobRepo = path.join(root, 'bob-clone');
  });
  after(async () => {
    await stop(bobWb);
    await stop(aliceWb);
    for (const wb of [aliceWb, bobWb]) if (wb) fs.rmSync(wb.stateDir, { recursive: true, force: true, maxRetries: 5 });
    if (root) fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
  });

  it('1. alice (CLI): shares notes/ with bob, commits an encrypted note and a config only she can read, pushes', () => {
    alice.git(root, 'clone', '-q', origin, aliceRepo);
    alice.git(aliceRepo, 'checkout', '-q', '-B', 'main');
    fs.mkdirSync(path.join(aliceRepo, 'notes'));
    fs.mkdirSync(path.join(aliceRepo, 'config'));
    const added = alice.run(['recipients', 'add', bob.identity, '--name', 'bob', '--dir', 'notes'], { cwd: aliceRepo });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /Created .*notes\/\.noteseal\/recipients with you \("alice"\)/);
    // Sealed from standard input: no plaintext file ever exists.
    alice.cli(['encrypt', '-', '-o', 'notes/welcome.md.enc'], { cwd: aliceRepo, input: '# Team notes\n\nconfig/ holds the app settings.\n' });
    alice.cli(['encrypt', '-', '-o', 'config/app.env.enc'], { cwd: aliceRepo, input: 'API_URL=https://api.example.invalid\nLOG_LEVEL=info\n' });
    assert.equal(bob.run(['decrypt', 'notes/welcome.md.enc'], { cwd: aliceRepo }).stdout, '# Team notes\n\nconfig/ holds the app settings.\n', 'bob reads notes/');
    assert.equal(bob.run(['decrypt', 'config/app.env.enc'], { cwd: aliceRepo }).code, 2, 'config/ is not shared yet: bob reads nothing');
    alice.git(aliceRepo, 'add', '-A');
    alice.git(aliceRepo, 'commit', '-qm', 'notes shared with bob; app config');
    alice.git(aliceRepo, 'push', '-q', '-u', 'origin', 'main');
  });

  it('2. alice (her workbench): Share Folder… on config/ offers bob from notes/; her next save is encrypted to bob', async () => {
    aliceWb = await openWorkbench({ folder: aliceRepo, keyfile: alice.keyfile, env: alice.env });
    const page = aliceWb.page;
    await unlockFromStatusBar(page, alice.passphrase);
    // Right-click config in the Explorer → NoteSeal: Share Folder… (the web workbench's menu wants hover + Enter).
    await explorerRow(page, 'config').click({ button: 'right', timeout: 60_000 });
    await page.locator('.monaco-menu .action-label', { hasText: 'Share Folder' }).first().hover();
    await page.keyboard.press('Enter');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'Paste a public identity' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'team-1-alice-share-pick');
    const bobRow = rows.filter({ has: page.locator('.label-name', { hasText: /^bob$/ }) });
    await bobRow.waitFor({ timeout: 10_000 });
    assert.match(await bobRow.innerText(), /notes\/\.noteseal\/recipients/, 'bob is offered as a member of notes/');
    await screenshot(page, 'team-1-alice-share-pick');
    await bobRow.click();
    // The name is prefilled with bob's name in notes/: accept it.
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Member name' }).waitFor({ timeout: 10_000 });
    assert.equal(await input.inputValue(), 'bob');
    await screenshot(page, 'team-2-alice-share-name');
    await page.keyboard.press('Enter');
    // A new list: she is asked how it names her, prefilled with her login name; she keeps it.
    await page.locator('.quick-input-widget', { hasText: 'Your name in the new list' }).waitFor({ timeout: 10_000 });
    assert.equal(await input.inputValue(), 'alice');
    await page.keyboard.press('Enter');
    assert.match(await notification(page, /Created config\/\.noteseal\/recipients/, 30_000), /2 members/);
    const list = JSON.parse(alice.cli(['recipients', 'list', '--json', '--dir', 'config'], { cwd: aliceRepo }));
    assert.deepEqual(list.members.map(m => m.name), ['alice', 'bob'], 'alice is the first member, by her name');

    // Saved again (save-soon, 250 ms after typing): now encrypted to bob as well.
    await openConfig(page, 'LOG_LEVEL=info');
    await typeLine(page, `ALICE_TOKEN=${canaryAlice}`);
    await until('alice\'s save, readable by bob', () => bob.run(['decrypt', config(aliceRepo)]).stdout?.includes(canaryAlice));
    await page.locator('.tabs-container .tab.dirty').waitFor({ state: 'detached', timeout: 15_000 });
    await screenshot(page, 'team-3-alice-saved');
    assert.ok(!fs.readFileSync(config(aliceRepo)).includes(canaryAlice), 'ciphertext on disk');
    alice.git(aliceRepo, 'add', '-A');
    alice.git(aliceRepo, 'commit', '-qm', 'share config/ with bob');
    alice.git(aliceRepo, 'push', '-q');
  });

  it('3. bob (his workbench, his key): opens the config, sees its readers and a writer unvouched until he accepts the list, edits, accepts, pushes', async () => {
    bob.git(root, 'clone', '-q', origin, bobRepo);
    bobWb = await openWorkbench({ folder: bobRepo, keyfile: bob.keyfile, env: bob.env });
    const page = bobWb.page;
    await unlockFromStatusBar(page, bob.passphrase);
    await openConfig(page, canaryAlice);
    await screenshot(page, 'team-4-bob-open');
    const who = await whoCanRead(page, 'team-5-bob-who-can-read');
    assert.match(who, /Who can read this file: you, alice \(noteseal1/, 'the file\'s own readers: bob (you) and alice');
    assert.match(who, /Every member of .*config\/\.noteseal\/recipients can read it/);
    assert.match(who, /The list is refused: .*not trusted: this machine has not accepted it yet/, 'bob has not accepted config/\'s list yet');
    // Until he accepts it, the list vouches for nobody: alice's signature is shown by its key, with a warning (issue 21 §2).
    assert.match(who, /Last written by a key outside the list \([0-9a-f]{16}…\) on 20\d\d-/, who);
    assert.match(who, /Warning: .*who is not you, and the recipients list that governs it is not trusted here/, who);
    assert.match(await tabTooltip(page, /Last written by/), /Last written by .* on 20.*; readable by 2 of 2 members/);
    await typeLine(page, `BOB_TOKEN=${canaryBob}`);
    // His first save below config/ is refused until he accepts its list: a modal names every member, the
    // fingerprint of their key and who signed them in; he accepts, and the save goes through.
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Encrypt to the 2 members' });
    await dialog.waitFor({ timeout: 30_000 });
    const offered = (await dialog.innerText()).replace(/[ \t]+/g, ' ');
    await screenshot(page, 'team-5b-bob-accept-list');
    assert.match(offered, /recipients list of config/);
    assert.match(offered, /• alice — NoteSeal identity, fingerprint [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}, signed in by alice/, offered);
    assert.match(offered, /• bob — NoteSeal identity, fingerprint [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}, signed in by alice/, offered);
    assert.doesNotMatch(offered, /xwing|x25519/, 'no algorithm names (issue 25)');
    assert.ok(!fs.readFileSync(config(bobRepo)).length || !bob.run(['decrypt', config(bobRepo)]).stdout.includes(canaryBob), 'nothing saved before he accepts');
    await dialog.locator('.monaco-button', { hasText: 'Accept and Encrypt to These Members' }).first().click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    await until('bob\'s save, readable by alice', () => alice.run(['decrypt', config(bobRepo)]).stdout?.includes(canaryBob));
    await page.locator('.tabs-container .tab.dirty').waitFor({ state: 'detached', timeout: 15_000 });
    assert.ok(!fs.readFileSync(config(bobRepo)).includes(canaryBob), 'ciphertext on disk');
    bob.git(bobRepo, 'commit', '-qam', 'bob adds his token');
    bob.git(bobRepo, 'push', '-q');
    await stop(bobWb);
  });

  it('4. alice pulls: her open editor shows bob\'s line, and bob is named as the writer', async () => {
    const page = aliceWb.page;
    alice.git(aliceRepo, 'pull', '-q', '--ff-only');
    // The editor was not dirty: VS Code reloads it when the worker reports the change.
    await page.locator('.editor-instance .view-lines', { hasText: canaryBob }).first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'team-6-alice-after-pull');
    const who = await whoCanRead(page, 'team-7-alice-who-can-read');
    assert.match(who, /Last written by bob on 20\d\d-/, who);
    assert.doesNotMatch(who, /Warning/);
    assert.match(await tabTooltip(page, /Last written by bob/), /Last written by bob on 20.*; readable by 2 of 2 members/, 'the lock badge\'s tooltip too');
    const inspect = alice.cli(['inspect', 'config/app.env.enc'], { cwd: aliceRepo });
    assert.match(inspect, /written by +bob /);
  });

  it('5. nothing either typed is anywhere on disk: HOMEs, repositories with .git, origin, workbench state', async () => {
    await stop(aliceWb);
    const control = `control-${randomBytes(8).toString('hex')}`;
    for (const dir of [path.join(aliceWb.stateDir, 'tmp'), path.join(bob.home, '.config')]) fs.writeFileSync(path.join(dir, 'control'), control);
    const roots = [alice.home, bob.home, aliceRepo, bobRepo, origin, aliceWb.stateDir, bobWb.stateDir].map(dir => ({ dir }))
      .concat([{ dir: os.tmpdir(), since: startedAt }, { dir: '/dev/shm', since: startedAt }]);
    assert.equal(searchForCanary(control, roots).hits.length, 2, 'both planted controls are found');
    for (const canary of [canaryAlice, canaryBob]) {
      const { scanned, hits } = searchForCanary(canary, roots);
      assert.ok(scanned > 100, `searched ${scanned} files`);
      assert.deepEqual(hits, [], 'the canary is nowhere on disk');
      // git stores objects compressed: look into every object of every repository too.
      for (const repo of [aliceRepo, bobRepo, origin]) {
        const objects = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: repo, maxBuffer: 64 << 20 });
        assert.ok(objects.includes('share config/ with bob'), 'the objects are read decompressed (a commit message is found)');
        assert.ok(!objects.includes(canary), `no git object of ${path.basename(repo)} holds it`);
      }
    }
  });
});
