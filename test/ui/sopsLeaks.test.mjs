// UI: the leak scenarios of a sops file (issue 27, "What must hold") that sopsFiles.test.mjs does not run, in a
// workspace that is a git repository set up with `noteseal git setup` (the driver: the built CLI on PATH as
// `noteseal`, the passphrase given on purpose). A git merge of two branches' sops JSON whose password both
// changed: git stops, the file stays a valid sops file of ours' values with the merge sealed in it; opened from
// the Explorer it shows the merge with git's markers (and NoteSeal says the merge is unresolved), Accept
// Incoming and a save make it a valid sops file again (sops-decoder checks its MAC), `git add` and `commit`
// succeed and the teammate reads it. Restart Worker while typing in a sops YAML: the tab closes, nothing
// decrypted stays on screen, the text comes back from its sealed copy on unlock. Then every canary is searched
// for on disk and in every git object of both repositories, each search with a planted control.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { assertNoTrace, driverGitEnv, initDriverRepo, leakRoots, restoreSealedCopy } from './leakScenarios.mjs';
import { explorerRow, notification, noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const require = createRequire(path.join(projectRoot, 'package.json'));
const sopsAge = require('sops-age');
const sopsDecoder = require('sops-decoder');
const kms = require('@aws-sdk/client-kms');

const PASSPHRASE = 'sops leaks test passphrase 27';
const startedAt = Date.now() - 1000;
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };
const JSON_PLAIN = '{\n\t"service": "billing",\n\t"region": "eu",\n\t"password": "p1",\n\t"port": 5432,\n\t"owner": "ops",\n\t"token": "t1"\n}\n';
const YAML_PLAIN = '# settings\ndb:\n    user: app\n    password: hunter2\napi_token: before\n';

describe('sops leak scenarios in the workbench (git merge resolved in VS Code, Restart Worker)', () => {
  let wb, page, dir, keyfile, keysTxt, secretKey, gitEnv, clone;
  const inOurs = `CANARYO${randomBytes(10).toString('hex')}`;     // ours' password
  const inTheirs = `CANARYT${randomBytes(10).toString('hex')}`;   // theirs' password (chosen in the editor)
  const atRestart = `CANARYR${randomBytes(10).toString('hex')}`;
  const canaries = [inOurs, inTheirs, atRestart];
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const jsonFile = () => path.join(wb.folder, 'api.sops.json');
  const yamlFile = () => path.join(wb.folder, 'secrets.sops.yaml');
  const view = f => { try { return cli('decrypt', f); } catch { return ''; } };
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const editorShows = text => page.locator('.monaco-editor .view-lines', { hasText: text });
  const tabOf = name => page.locator('.tabs-container .tab', { hasText: new RegExp(`^\\s*${name.replace(/\./g, '\\.')}`) });
  const tabTitles = async () => (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
  async function waitFor(what, cond, ms = 20_000) {
    const end = Date.now() + ms;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  }
  async function closeAllTabs() {
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 300 } });
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+W');
    await waitFor('no tab', async () => (await tabTitles()).length === 0);
  }
  /** sops-decoder's own decryption and MAC check of the JSON file (its KMS call answered with the data key, opened by Debian's age). */
  async function decoded(text) {
    const tree = JSON.parse(text);
    const dataKey = execFileSync('age', ['-d', '-i', keysTxt], { input: tree.sops.age[0].enc });
    const original = kms.KMSClient.prototype.send;
    kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: new Uint8Array(dataKey) });
    try { const t = await sopsDecoder.decrypt(tree); delete t.sops; return t; } finally { kms.KMSClient.prototype.send = original; }
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-sopsleaks-'));
    keyfile = path.join(dir, 'keyfile.json');
    cli('init');
    keysTxt = path.join(dir, 'keys.txt');
    execFileSync('age-keygen', ['-o', keysTxt], { stdio: 'ignore' });
    const keys = fs.readFileSync(keysTxt, 'utf8');
    secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keys)[0];
    const recipient = /# public key: (age1[0-9a-z]+)/.exec(keys)[1];
    cli('identity', 'import', keysTxt);
    const app = path.join(dir, 'app');
    fs.mkdirSync(path.join(app, '.git'), { recursive: true });
    fs.writeFileSync(path.join(app, '.sops.yaml'), `creation_rules:\n  - age: ${recipient}\n`);
    fs.writeFileSync(path.join(app, 'api.sops.json'), JSON_PLAIN);
    fs.writeFileSync(path.join(app, 'secrets.sops.yaml'), YAML_PLAIN);
    cli('recipients', 'list', '--trust', '--dir', app);
    for (const f of ['api.sops.json', 'secrets.sops.yaml']) cli('encrypt', '--sops', path.join(app, f));
    // sops-decoder takes its data key from AWS KMS only: the JSON file also names a (fake) KMS key (sopsFiles.test.mjs).
    const json = JSON.parse(fs.readFileSync(path.join(app, 'api.sops.json'), 'utf8'));
    json.sops.kms = [FAKE_KMS];
    fs.writeFileSync(path.join(app, 'api.sops.json'), JSON.stringify(json, null, '\t') + '\n');
    gitEnv = driverGitEnv(dir, keyfile, PASSPHRASE);
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        for (const f of ['api.sops.json', 'secrets.sops.yaml', '.sops.yaml']) fs.copyFileSync(path.join(app, f), path.join(folder, f));
        initDriverRepo(folder, gitEnv);
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a conflicting git merge of a sops JSON: a valid file of ours\' values; resolved in the editor (markers, Accept Incoming, save), git add and commit', async () => {
    // Their branch: a teammate's clone sets the password and the token; ours sets the password and the service
    // (lines apart from theirs' token: one conflict, the password).
    clone = path.join(dir, 'theirs');
    git(dir, 'clone', '-q', wb.folder, clone);
    cli('set', path.join(clone, 'api.sops.json'), 'password', inTheirs);
    cli('set', path.join(clone, 'api.sops.json'), 'token', 't2');
    git(clone, 'commit', '-qam', 'theirs: password, token');
    cli('set', jsonFile(), 'password', inOurs);
    cli('set', jsonFile(), 'service', 'billing2');
    git(wb.folder, 'commit', '-qam', 'ours: password, service');
    const failed = (() => { try { git(wb.folder, 'pull', '-q', '--no-rebase', '--no-edit', clone, 'main'); return null; } catch (e) { return `${e.stdout}${e.stderr}`; } })();
    assert.ok(failed !== null, 'the conflicting merge stops');
    assert.match(failed, /both sides changed password differently: the file keeps ours' values/);
    assert.ok(!canaries.some(c => failed.includes(c)), 'no value in the message');
    assert.match(git(wb.folder, 'status', '--porcelain'), /^UU api\.sops\.json$/m);
    // What sops and teammates read meanwhile: a valid sops file of ours' values (sops-decoder checks the MAC).
    const ours = { service: 'billing2', region: 'eu', password: inOurs, port: 5432, owner: 'ops', token: 't1' };
    assert.deepEqual(await decoded(fs.readFileSync(jsonFile(), 'utf8')), ours);
    // Opened from the Explorer: the merge with git's markers (theirs' token already merged), NoteSeal says it is unresolved.
    await explorerRow(page, 'api.sops.json').click();
    await editorShows('<<<<<<< ours').waitFor({ timeout: 30_000 });
    await waitFor('one tab', async () => (await tabTitles()).length === 1);
    const shown = (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
    assert.ok(shown.includes(inOurs) && shown.includes(inTheirs) && shown.includes('"token": "t2"') && shown.includes('"service": "billing2"'), shown);
    assert.doesNotMatch(shown, /ENC\[|lastmodified|noteseal_merge/);
    const said = await notification(page, /api\.sops\.json has an unresolved git merge/, 30_000);
    assert.match(said, /keeps ours' values/);
    const accept = page.locator('.codelens-decoration a', { hasText: 'Accept Incoming Change' });
    await accept.first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'sops-merge-markers');
    await accept.first().click();
    await editorShows('<<<<<<<').waitFor({ state: 'detached', timeout: 15_000 });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+S');
    const resolved = { ...ours, password: inTheirs, token: 't2' };
    await waitFor('the resolved file to pass sops-decoder\'s MAC check', async () => {
      const text = fs.readFileSync(jsonFile(), 'utf8');
      return !text.includes('noteseal_merge') && JSON.stringify(await decoded(text).catch(() => null)) === JSON.stringify(resolved);
    }, 30_000);
    await waitFor('the editor to be clean', async () => (await page.locator('.tabs-container .tab.dirty').count()) === 0);
    const text = fs.readFileSync(jsonFile(), 'utf8');
    assert.ok(!canaries.some(c => text.includes(c)), 'every value is encrypted in the file');
    assert.equal(JSON.parse(text).password, JSON.parse(fs.readFileSync(path.join(clone, 'api.sops.json'), 'utf8')).password, 'theirs\' value keeps theirs\' ciphertext');
    git(wb.folder, 'add', 'api.sops.json');
    git(wb.folder, 'commit', '-q', '--no-edit');
    assert.equal(git(wb.folder, 'status', '--porcelain', '--untracked-files=no').trim(), '');
    git(clone, 'pull', '-q', '--no-rebase', '--no-edit', wb.folder, 'main');
    assert.deepEqual(await sopsAge.decryptSops(fs.readFileSync(path.join(clone, 'api.sops.json'), 'utf8'), { secretKey, fileType: 'json' }), resolved, 'the teammate reads the merge');
    await screenshot(page, 'sops-merge-resolved');
    await closeAllTabs();
  });

  it('Restart Worker while typing in a sops YAML: it closes, nothing decrypted stays on screen, the text is not lost', async () => {
    await explorerRow(page, 'secrets.sops.yaml').click();
    await editorShows('password: hunter2').waitFor({ timeout: 30_000 });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(`restart_value: ${atRestart}`, { delay: 15 });   // real keystrokes, then at once:
    await runCommand(page, 'NoteSeal: Restart Worker');
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 30_000 });
    await waitFor('the sops tab to close', async () => await tabOf('secrets.sops.yaml').count() === 0);
    assert.deepEqual(fs.readdirSync(wb.folder).filter(n => /\.tmp-[0-9a-f]{12}$/.test(n)), [], 'no temp sibling is left');
    await waitFor('no decrypted text on screen', async () => {
      const onScreen = await page.locator('.monaco-workbench').innerText();
      return ![atRestart, 'hunter2'].some(t => onScreen.includes(t));
    });
    await screenshot(page, 'sops-restart-locked');
    await unlockFromStatusBar(page, PASSPHRASE);
    await restoreSealedCopy(page, () => view(yamlFile()).includes(`restart_value: ${atRestart}`), 'sops-restart-offer');
    assert.ok(!fs.readFileSync(yamlFile(), 'utf8').includes(atRestart), 'restored into the file encrypted');
    assert.equal((await sopsAge.decryptSops(fs.readFileSync(yamlFile(), 'utf8'), { secretKey, fileType: 'yaml' })).restart_value, atRestart, 'sops-age reads it');
  });

  it('leaves no trace of any merged or typed value on disk (user data, Backups, Local History, workspace, temp, git objects)', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = leakRoots(wb, { since: startedAt, also: [path.dirname(keyfile)] }); // the keyfile's folder: key store, recovery copies, the clone
    assertNoTrace(wb, roots, [wb.folder, clone], canaries);
  });
});
