// UI (issue 28): a real PKCS#11 token (SoftHSM2, the fixture the slot unit tests use) added as an unlock slot
// from the palette ("NoteSeal: Add Unlock Method…"), then the unlock prompt offers it first with the
// passphrase beside it, a wrong PIN is said in the box, the right PIN unlocks and a note opens; removing the
// token (its SoftHSM2 token folder deleted) locks NoteSeal (noteseal.lockOnTokenRemoval, on by default).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot } from '../host/codeServer.mjs';
import { answerQuickInput, explorerRow, notification, noteseal, openWorkbench, runCommand, screenshot } from './workbench.mjs';

const { SOFTHSM_MODULE, SOFTHSM_PIN, softHsm } = createRequire(import.meta.url)(path.join(projectRoot, 'out/test/unit/keys/softhsm.js'));

const PASSPHRASE = 'token slot ui passphrase 5';
const CANARY = 'TOKENSLOTNOTE 81c4';

describe('unlock slots in the workbench (SoftHSM2 token)', () => {
  let wb, page, dir, keyfile, hsm;
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const quickInput = () => page.locator('.quick-input-widget');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-ui-slots-'));
    keyfile = path.join(dir, 'keyfile.json');
    hsm = path.join(dir, 'hsm');
    const conf = await softHsm(hsm, ['NoteSeal Token']);
    noteseal(keyfile, PASSPHRASE, 'init');
    wb = await openWorkbench({
      keyfile,
      settings: { 'noteseal.pkcs11.module': SOFTHSM_MODULE },
      env: { SOFTHSM2_CONF: conf },
      prepare: folder => {
        const plain = path.join(dir, 'input');
        fs.writeFileSync(plain, `# Plan\n\n${CANARY}\n`);
        try { noteseal(keyfile, PASSPHRASE, 'encrypt', plain, '-o', path.join(folder, 'plan.md.enc')); } finally { fs.rmSync(plain); }
      },
    });
    page = wb.page;
  });
  after(async () => {
    await wb?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Add Unlock Method… from the palette makes a key on the token (name, passphrase, PIN)', async () => {
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 60_000 });
    await runCommand(page, 'NoteSeal: Add Unlock Method…');
    // The only token is chosen by itself; the name box proposes one from its label.
    await quickInput().filter({ hasText: 'a name for it' }).waitFor({ timeout: 30_000 });
    assert.equal(await quickInput().locator('input').inputValue(), 'NoteSeal-Token');
    await page.keyboard.press('Enter');
    await quickInput().filter({ hasText: 'your NoteSeal passphrase' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, PASSPHRASE);
    await quickInput().filter({ hasText: 'PIN of the token "NoteSeal Token"' }).waitFor({ timeout: 10_000 });
    assert.equal(await quickInput().locator('input').getAttribute('type'), 'password', 'the PIN is not shown');
    await answerQuickInput(page, SOFTHSM_PIN);
    const added = await notification(page, /added the unlock method "NoteSeal-Token"/, 60_000);
    assert.match(added, /token "NoteSeal Token"/);
    const slots = JSON.parse(noteseal(keyfile, PASSPHRASE, 'unlock', 'list', '--json')).slots;
    assert.deepEqual(slots.map(s => [s.name, s.kind, s.token]), [['NoteSeal-Token', 'pkcs11', 'NoteSeal Token']]);
    assert.doesNotMatch(fs.readFileSync(keyfile, 'utf8'), new RegExp(SOFTHSM_PIN));
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 10_000 }); // adding a slot does not unlock
  });

  it('the unlock prompt offers the token first and the passphrase; a wrong PIN is said in the box; the PIN unlocks', async () => {
    await statusItem('NoteSeal: Locked').click();
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'NoteSeal-Token' }).waitFor({ timeout: 30_000 });
    const labels = (await rows.locator('.label-name').allInnerTexts()).map(s => s.replace(/\s+/g, ' ').trim());
    assert.deepEqual(labels, ['NoteSeal-Token', 'Passphrase']);
    assert.match(await rows.first().getAttribute('class'), /focused/, 'the token is preselected');
    await screenshot(page, 'unlock-slots-1-choice');
    await page.keyboard.press('Enter');
    await quickInput().filter({ hasText: 'Enter the PIN of the token "NoteSeal Token"' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, '000000');
    await quickInput().filter({ hasText: 'Wrong PIN.' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'unlock-slots-2-wrong-pin');
    await statusItem('NoteSeal: Locked').waitFor();
    await answerQuickInput(page, SOFTHSM_PIN);
    await statusItem('NoteSeal: Unlocked').waitFor({ timeout: 30_000 });
    await runCommand(page, 'View: Show Explorer');
    await explorerRow(page, 'plan.md.enc').click({ timeout: 30_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: CANARY }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'unlock-slots-3-unlocked');
  });

  it('removing the token locks NoteSeal (noteseal.lockOnTokenRemoval) and closes the note', async () => {
    fs.rmSync(path.join(hsm, 'tokens'), { recursive: true }); // SoftHSM2's token, "unplugged"
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 30_000 });
    await notification(page, /the token it was unlocked with was removed/);
    await page.locator('.monaco-editor .view-lines', { hasText: CANARY }).first().waitFor({ state: 'detached', timeout: 20_000 });
    await screenshot(page, 'unlock-slots-4-token-removed');
  });
});
