// UI: sops files (issue 27) in the workbench. An age identity made by Debian's age-keygen is imported into
// NoteSeal (keys.txt stays outside the workspace); `noteseal encrypt --sops` makes a YAML and a JSON sops file by
// an accepted `.sops.yaml`. Opened from the Explorer, a sops file shows as `sops edit` shows it (values
// decrypted, comments kept, no `sops` metadata); one value edited and saved changes that value's line and the
// MAC/lastmodified only, and the pinned independent readers read it: `sops-age` (YAML, JSON) and `sops-decoder`
// (JSON, checking the MAC). A file an accepted `.sops.yaml` rule matches opens the same way; a plain
// `secrets.yaml` opens as usual; a PGP-only file made by sops itself is refused naming its PGP key. Typing, a
// file changed on disk under the editor (sealed and reverted, no backup) and a lock after it leave nothing typed on disk (canary search,
// planted control); the sealed text comes back into the sops file on unlock. Update sops Keys asks, in a modal
// naming the recipient it adds, before it applies a changed `.sops.yaml`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { conflictSealedAndReverted, restoreSealedCopy, sealedCopies } from './leakScenarios.mjs';
import { searchForCanary } from './leakSearch.mjs';
import { explorerRow, notification, noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const require = createRequire(path.join(projectRoot, 'package.json'));
const sopsAge = require('sops-age');
const sopsDecoder = require('sops-decoder');
const kms = require('@aws-sdk/client-kms');

const PASSPHRASE = 'sops files test passphrase 27';
const startedAt = Date.now() - 1000;
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };

/** ../shared/testdata/sops beside the repository (sops 3.13's own files; CI lays shared/ beside its clone). */
function sharedSops() {
  for (let dir = projectRoot, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', 'testdata', 'sops');
    if (fs.existsSync(path.join(candidate, 'format.enc.yaml'))) return candidate;
  }
  throw new Error('../shared/testdata/sops is missing');
}

const YAML_PLAIN = `# database settings
db:
    user: app
    # the password rotates monthly
    password: hunter2
    port: 5432
api_token: before
`;
const JSON_PLAIN = `{
\t"service": "billing",
\t"token": "json-before"
}
`;

describe('sops files in the workbench', () => {
  let wb, page, dir, keyfile, secretKey, keysTxt, yamlOriginal, recipient, secretKey2, recipient2;
  const canary = `CANARY${randomBytes(10).toString('hex')}`;
  const canaryJson = `CANARYJ${randomBytes(10).toString('hex')}`;
  const canaryDirty = `CANARYD${randomBytes(10).toString('hex')}`;
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const inWorkspace = name => path.join(wb.folder, name);
  async function waitFor(what, cond, ms = 20_000) {
    const end = Date.now() + ms;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  }
  const tabTitles = async () => (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
  const editorText = async () => (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  const readAge = async (file, fileType, key = secretKey) => { try { return await sopsAge.decryptSops(fs.readFileSync(file, 'utf8'), { secretKey: key, fileType }); } catch { return undefined; } };
  async function closeAllTabs() {
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 300 } });
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+W');
    await waitFor('no tab', async () => (await tabTitles()).length === 0);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-sopsui-'));
    keyfile = path.join(dir, 'keyfile.json');
    cli('init');
    keysTxt = path.join(dir, 'keys.txt');
    execFileSync('age-keygen', ['-o', keysTxt], { stdio: 'ignore' });
    const keys = fs.readFileSync(keysTxt, 'utf8');
    secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keys)[0];
    recipient = /# public key: (age1[0-9a-z]+)/.exec(keys)[1];
    const keys2 = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });   // a teammate's key
    secretKey2 = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keys2)[0];
    recipient2 = /# public key: (age1[0-9a-z]+)/.exec(keys2)[1];
    cli('identity', 'import', keysTxt);
    const sopsConfig = `creation_rules:\n  - path_regex: config/.*\\.yaml$\n    age: ${recipient}\n  - age: ${recipient}\n`;
    const app = path.join(dir, 'app');                        // where the files are made before they are copied in
    fs.mkdirSync(path.join(app, 'config'), { recursive: true });
    fs.mkdirSync(path.join(app, '.git'));                      // a repository: its .sops.yaml governs config/ too
    fs.writeFileSync(path.join(app, '.sops.yaml'), sopsConfig);
    fs.writeFileSync(path.join(app, 'secrets.sops.yaml'), YAML_PLAIN);
    fs.writeFileSync(path.join(app, 'api.sops.json'), JSON_PLAIN);
    fs.writeFileSync(path.join(app, 'config', 'prod.yaml'), 'region: eu-west\nmatched_by_rule: rule-value\n');
    cli('recipients', 'list', '--trust', '--dir', app);
    for (const f of ['secrets.sops.yaml', 'api.sops.json', 'config/prod.yaml']) cli('encrypt', '--sops', path.join(app, f));
    // sops-decoder takes its data key from AWS KMS only: the JSON file also names a (fake) KMS key, whose call
    // the test answers with the data key (sopsPeers.test.ts). NoteSeal's save keeps every master key entry.
    const json = JSON.parse(fs.readFileSync(path.join(app, 'api.sops.json'), 'utf8'));
    json.sops.kms = [FAKE_KMS];
    fs.writeFileSync(path.join(app, 'api.sops.json'), JSON.stringify(json, null, '\t') + '\n');
    yamlOriginal = fs.readFileSync(path.join(app, 'secrets.sops.yaml'), 'utf8');
    assert.match(yamlOriginal, /password: ENC\[AES256_GCM/);
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        for (const f of ['secrets.sops.yaml', 'api.sops.json', '.sops.yaml']) fs.copyFileSync(path.join(app, f), path.join(folder, f));
        fs.mkdirSync(path.join(folder, 'config'));
        fs.copyFileSync(path.join(app, 'config', 'prod.yaml'), path.join(folder, 'config', 'prod.yaml'));
        // A plain YAML with a sops-like name (and a `sops` key that is no metadata) opens as usual.
        fs.writeFileSync(path.join(folder, 'secrets.yaml'), 'sops: a plain key\nplain_only: visible as usual\n');
        // A file sops 3.13 wrote for its PGP test key only (no age entry).
        fs.copyFileSync(path.join(sharedSops(), 'format.enc.yaml'), path.join(folder, 'pgp.enc.yaml'));
        cli('recipients', 'list', '--trust', '--dir', folder);
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a plain secrets.yaml opens as usual (not through NoteSeal)', async () => {
    await explorerRow(page, 'secrets.yaml').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'plain_only: visible as usual' }).waitFor({ timeout: 20_000 });
    const tab = page.locator('.tabs-container .tab', { hasText: /^\s*secrets\.yaml\s*$/ });
    await tab.waitFor({ timeout: 10_000 });
    // Given time to be swapped, it is not: still the file itself.
    await page.waitForTimeout(1500);
    assert.doesNotMatch(await tab.getAttribute('title') ?? '', /noteseal/i);
    await closeAllTabs();
  });

  it('a sops YAML opens from the Explorer as sops edit shows it, in one tab', async () => {
    await explorerRow(page, 'secrets.sops.yaml').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'password: hunter2' }).waitFor({ timeout: 30_000 });
    await waitFor('one tab', async () => (await tabTitles()).length === 1);
    assert.match((await tabTitles())[0], /^secrets\.sops\.yaml/);
    const shown = await editorText();
    assert.match(shown, /# the password rotates monthly/, 'comments kept');
    assert.match(shown, /port: 5432/);
    assert.doesNotMatch(shown, /ENC\[|^sops:|lastmodified/m, 'values decrypted, the metadata hidden');
    assert.ok(shown.indexOf('user: app') < shown.indexOf('password: hunter2') && shown.indexOf('password') < shown.indexOf('api_token'), 'key order kept');
    await screenshot(page, 'sops-open');
  });

  it('editing one value saves it as sops writes it: sops-age reads it, only that value, lastmodified and the MAC change', async () => {
    // The cursor at the end of `api_token: before` (the last line), the value typed as one input event.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('End');
    await page.keyboard.insertText(canary);
    await page.keyboard.press('Control+S');
    const file = inWorkspace('secrets.sops.yaml');
    await waitFor('sops-age to read the edited value', async () => (await readAge(file, 'yaml'))?.api_token === `before${canary}`, 30_000);
    const decrypted = await readAge(file, 'yaml');
    assert.deepEqual(decrypted, { db: { user: 'app', password: 'hunter2', port: 5432 }, api_token: `before${canary}` });
    const after = fs.readFileSync(file, 'utf8');
    assert.ok(!after.includes(canary), 'the new value is encrypted in the file');
    const [a, b] = [yamlOriginal.split('\n'), after.split('\n')];
    assert.equal(b.length, a.length, 'no line added or removed');
    const changed = a.flatMap((line, i) => line === b[i] ? [] : [i]).map(i => a[i].trim().split(':')[0]);
    assert.deepEqual(changed, ['api_token', 'lastmodified', 'mac'], 'unchanged values keep their ciphertexts');
    await waitFor('the editor to be clean', async () => (await page.locator('.tabs-container .tab.dirty').count()) === 0);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no "written by" question for a sops file');
    assert.deepEqual(fs.readdirSync(wb.folder).filter(n => n.includes('secrets')).sort(), ['secrets.sops.yaml', 'secrets.yaml'], 'no .enc, no temp file beside it');
  });

  it('a sops JSON saved from the editor passes sops-decoder\'s own MAC check', async () => {
    await closeAllTabs();
    await explorerRow(page, 'api.sops.json').click();
    await page.locator('.monaco-editor .view-lines', { hasText: '"token": "json-before"' }).waitFor({ timeout: 30_000 });
    await waitFor('one tab', async () => (await tabTitles()).length === 1);
    // Inside the token's closing quote: line 3.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.insertText(canaryJson);
    await page.keyboard.press('Control+S');
    const file = inWorkspace('api.sops.json');
    await waitFor('sops-age to read the edited JSON', async () => (await readAge(file, 'json'))?.token === `json-before${canaryJson}`, 30_000);
    const tree = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(tree.sops.kms.map(k => k.arn), [FAKE_KMS.arn], 'every master key entry kept');
    // The data key, from the file's age entry, opened by Debian's age with keys.txt.
    const dataKey = execFileSync('age', ['-d', '-i', keysTxt], { input: tree.sops.age[0].enc });
    const original = kms.KMSClient.prototype.send;
    kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: new Uint8Array(dataKey) });
    try {
      const decoded = await sopsDecoder.decrypt(structuredClone(tree));
      assert.equal(decoded.token, `json-before${canaryJson}`);
      assert.equal(decoded.service, 'billing');
      tree.service = tree.token;                                // a value moved: sops-decoder's MAC check fails
      await assert.rejects(sopsDecoder.decrypt(tree));
    } finally { kms.KMSClient.prototype.send = original; }
  });

  it('a file an accepted .sops.yaml rule matches opens decrypted; a PGP-only file names the key that would open it', async () => {
    await closeAllTabs();
    await explorerRow(page, 'config').click();
    await explorerRow(page, 'prod.yaml').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'matched_by_rule: rule-value' }).waitFor({ timeout: 30_000 });
    await waitFor('one tab', async () => (await tabTitles()).length === 1);
    await closeAllTabs();
    await explorerRow(page, 'pgp.enc.yaml').click();
    const message = await notification(page, /NoteSeal could not open pgp\.enc\.yaml/, 30_000);
    assert.match(message, /PGP FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4/, message);
    assert.match(message, /NoteSeal opens only age keys/);
    // Nothing pretends: the tab is the file as it is on disk (ciphertexts).
    await page.locator('.monaco-editor .view-lines', { hasText: 'ENC[AES256_GCM' }).first().waitFor({ timeout: 10_000 });
    await screenshot(page, 'sops-pgp-only');
    await closeAllTabs();
  });

  it('a sops file changed on disk under the editor: theirs is kept and shown, mine is sealed before any backup; a lock hides it, unlock brings it back', async () => {
    const file = inWorkspace('secrets.sops.yaml');
    // "Theirs": the file as it is now, with one value changed by the CLI (as a teammate's push would bring).
    const theirs = path.join(dir, 'theirs.sops.yaml');
    fs.copyFileSync(file, theirs);
    cli('set', theirs, 'db.user', 'changed-by-theirs');
    await explorerRow(page, 'secrets.sops.yaml').click();
    await page.locator('.monaco-editor .view-lines', { hasText: `api_token: before${canary}` }).waitFor({ timeout: 30_000 });
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: /^\s*secrets\.sops\.yaml/ });
    const theirsOnDisk = async () => (await readAge(file, 'yaml'))?.db?.user === 'changed-by-theirs';
    // Theirs lands right after the edit, before save-soon (250 ms): VS Code refuses the save; NoteSeal seals the
    // text and shows theirs before VS Code's backup delay (tried again if the save wins the race).
    let attempt = 0;
    const copiesBefore = sealedCopies(keyfile).length;
    await conflictSealedAndReverted({
      page, stateDir: wb.stateDir, dirtyTab, theirsOnDisk, shot: 'sops-conflict',
      type: async () => {
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+End');
        await page.keyboard.insertText(`conflict_${++attempt}: ${canaryDirty}\n`);   // a value: sops encrypts it (comments it does not)
      },
      landTheirs: () => fs.copyFileSync(theirs, file),
    });
    assert.equal(sealedCopies(keyfile).length, copiesBefore + 1, 'one sealed recovery copy more');
    assert.ok(await theirsOnDisk(), 'their version is intact on disk');
    assert.ok(!fs.readFileSync(file, 'utf8').includes(canaryDirty));
    await page.locator('.monaco-editor .view-lines', { hasText: 'changed-by-theirs' }).waitFor({ timeout: 20_000 });
    // A lock after it: the tab closes, nothing decrypted stays on screen.
    // A lock while it is dirty: the tab closes, nothing decrypted stays on screen.
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Unlocked' }).click();
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 20_000 });
    await waitFor('no decrypted text on screen', async () => {
      const shown = await page.locator('.monaco-workbench').innerText();
      return ![canary, canaryDirty, 'hunter2', 'changed-by-theirs'].some(t => shown.includes(t));
    });
    await screenshot(page, 'sops-locked-after-conflict');
    assert.ok(await theirsOnDisk(), 'the lock did not overwrite theirs');
    // Unlock: the sealed text is offered back; restored, it is saved into the sops file (sops-age reads it).
    await unlockFromStatusBar(page, PASSPHRASE);
    const holdsMine = async () => Object.values((await readAge(file, 'yaml')) ?? {}).includes(canaryDirty);
    await restoreSealedCopy(page, holdsMine, 'sops-lock-offer');
    assert.ok(!fs.readFileSync(file, 'utf8').includes(canaryDirty), 'the recovered value is encrypted in the file');
  });

  it('Update sops Keys: a changed .sops.yaml is shown in a modal naming the recipient it adds, and applied only once accepted', async () => {
    const file = inWorkspace('secrets.sops.yaml');
    // A pushed change to the repository's .sops.yaml adds a second recipient to the rule for secrets.sops.yaml.
    fs.writeFileSync(inWorkspace('.sops.yaml'), `creation_rules:\n  - path_regex: config/.*\\.yaml$\n    age: ${recipient}\n  - age: ${recipient},${recipient2}\n`);
    await page.locator('.monaco-editor .view-lines', { hasText: 'password: hunter2' }).waitFor({ timeout: 30_000 });
    await waitFor('the editor to be clean', async () => (await page.locator('.tabs-container .tab.dirty').count()) === 0, 30_000);
    const before = fs.readFileSync(file);
    await runCommand(page, 'NoteSeal: Update sops Keys from .sops.yaml');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 20_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /\.sops\.yaml changed since you accepted it/);
    assert.ok(text.includes(`+ age ${recipient2}`), 'the recipient it would add is named');
    await screenshot(page, 'sops-config-modal');
    assert.ok(fs.readFileSync(file).equals(before), 'nothing applied before the answer');
    assert.equal(await readAge(file, 'yaml', secretKey2), undefined, 'the teammate cannot read it yet');
    await dialog.locator('.monaco-button', { hasText: 'Accept and Update Keys' }).click();
    await waitFor('the added key to open the file', async () => (await readAge(file, 'yaml', secretKey2))?.db?.password === 'hunter2', 30_000);
    assert.equal((await readAge(file, 'yaml'))?.db?.password, 'hunter2', 'the first key still opens it');
  });

  it('leaves no trace of the typed text on disk (workspace, user data, logs, temp)', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = [
      { dir: wb.stateDir },                                  // user data (Backups, logs, storage), chromium profile, server temp
      { dir: wb.folder },                                    // the workspace
      { dir: path.dirname(keyfile) },                        // the keyfile's folder (key store, recovery copies)
      { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt },
    ];
    for (const c of [canary, canaryJson, canaryDirty]) {
      const { scanned, hits } = searchForCanary(c, roots);
      assert.ok(scanned > 50, `searched ${scanned} files`);
      assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    }
    // The planted control: the same search finds it where it is.
    fs.writeFileSync(path.join(dir, 'planted'), Buffer.from(`x${canaryDirty}y`, 'utf16le'));
    assert.equal(searchForCanary(canaryDirty, [{ dir }]).hits.length, 1);
    const store = fs.readdirSync(path.join(dir, 'keyfile.keys'), { withFileTypes: true, recursive: true }).filter(e => e.isFile())
      .map(e => fs.readFileSync(path.join(e.parentPath, e.name), 'latin1')).join('\n');
    assert.ok(!store.includes(secretKey), 'the imported age identity is sealed');
  });
});
