// UI: the first five minutes of a new user, as they would go (issue 25). A fresh machine without a keyfile:
// the first-run notification opens the Get Started walkthrough, whose button sets NoteSeal up; the palette
// offers only what can be done now; a note is created by path and typed into; the lock key locks; a tab
// restored while locked offers Unlock and Open; search finds the note; Share Folder… and Who Can Read This
// File? tell the truth (a member added after the save cannot read it yet) and Share It Now shares it; a
// recording without a sound server says what to do and leaves no folder behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerQuickInput, editorStateStored, explorerRow, noteseal, openWorkbench, runCommand, screenshot } from './workbench.mjs';

const PASSPHRASE = 'first five minutes passphrase 7';
const BOB_PASSPHRASE = 'bob has his own passphrase 8';
const TEXT = 'ONBOARDINGWORD first thoughts';

describe('the first five minutes of a new user', () => {
  let wb, page, root, bobKeyfile;
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const dialog = () => page.locator('.monaco-dialog-box');
  const editorText = text => page.locator('.editor-instance .view-lines', { hasText: text }).first();

  /** The notification whose text matches `re`, from the notification center (automation mode has no toasts). */
  async function notificationItem(re, timeout = 30_000) {
    await runCommand(page, 'Notifications: Show Notifications');
    const item = page.locator('.notifications-center .notification-list-item', { hasText: re }).first();
    await item.waitFor({ timeout });
    return item;
  }
  /** The palette's NoteSeal commands matching `query`, by their exact labels. */
  async function offered(query) {
    // (No Escape first: in the walkthrough it would go back to the Welcome page.)
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>NoteSeal: ${query}`);
    await page.waitForTimeout(600);
    const labels = (await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts()).map(s => s.replace(/\s+/g, ' ').trim());
    await page.keyboard.press('Escape');
    return labels;
  }

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-onboarding-'));
    bobKeyfile = path.join(root, 'bob', 'keyfile.json');
    fs.mkdirSync(path.dirname(bobKeyfile), { recursive: true });
    noteseal(bobKeyfile, BOB_PASSPHRASE, 'init');
    const failingTool = path.join(root, 'parec');
    fs.writeFileSync(failingTool, '#!/bin/sh\necho "pa_context_connect() failed: Connection refused" >&2\nexit 1\n', { mode: 0o755 });
    wb = await openWorkbench({ settings: { 'noteseal.recording.captureCommand': `${failingTool} --raw` } });
    page = wb.page;
  });
  after(async () => {
    await wb?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('1. a first-run notification opens the Get Started walkthrough; the palette offers only Set Up', async () => {
    await statusItem('NoteSeal: Set Up').waitFor({ timeout: 60_000 });
    const item = await notificationItem(/no key on this machine yet/);
    await screenshot(page, 'onboarding-1-first-run');
    await item.locator('.monaco-button', { hasText: 'Get Started' }).click();
    await page.locator('.gettingStartedContainer', { hasText: 'Get Started with NoteSeal' }).first().waitFor({ timeout: 20_000 });
    await page.locator('.gettingStartedContainer', { hasText: 'Set up or unlock' }).first().waitFor();
    await screenshot(page, 'onboarding-2-walkthrough');
    const now = await offered('');
    assert.ok(now.includes('NoteSeal: Set Up Encryption'), now.join(', '));
    for (const hidden of ['NoteSeal: Unlock', 'NoteSeal: Lock', 'NoteSeal: Lock or Unlock', 'NoteSeal: Stop Recording', 'NoteSeal: Pause Recording', 'NoteSeal: Resume Recording']) {
      assert.ok(!(await offered(hidden.slice('NoteSeal: '.length))).includes(hidden), `${hidden} is not offered before setup`);
    }
  });

  it('2. the walkthrough\'s button sets NoteSeal up; then the palette offers Lock, not Set Up or Unlock', async () => {
    await page.locator('.gettingStartedContainer').getByText('Set Up Encryption', { exact: true }).first().click({ timeout: 20_000 });
    await answerQuickInput(page, PASSPHRASE, 20_000);
    await page.locator('.quick-input-widget', { hasText: 'repeat the passphrase' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, PASSPHRASE);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Ask for the passphrase' }).click({ timeout: 10_000 });
    await dialog().waitFor({ timeout: 30_000 });
    assert.match(await dialog().innerText(), /recovery key/i);
    await screenshot(page, 'onboarding-3-recovery-key');
    await dialog().locator('.monaco-button', { hasText: 'I Have Saved It' }).click();
    await statusItem('NoteSeal: Unlocked').waitFor({ timeout: 30_000 });
    assert.ok((await offered('Lock')).includes('NoteSeal: Lock'));
    assert.ok(!(await offered('Set Up Encryption')).includes('NoteSeal: Set Up Encryption'));
    assert.ok(!(await offered('Unlock')).includes('NoteSeal: Unlock'));
    // Close the walkthrough with the keyboard (a click into it moves its focus and closes the palette).
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>View: Close All Editors');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'View: Close All Editors' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.gettingStartedContainer').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  });

  it('3. New Encrypted Note takes a path; what I type is saved encrypted', async () => {
    await runCommand(page, 'NoteSeal: New Encrypted Note');
    await answerQuickInput(page, 'notes/first.md');
    await page.locator('.tabs-container .tab', { hasText: 'first.md' }).waitFor({ timeout: 20_000 });
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.type(TEXT, { delay: 10 });
    const file = path.join(wb.folder, 'notes', 'first.md.enc');
    for (let i = 0; i < 100 && noteseal(wb.keyfile, PASSPHRASE, 'decrypt', file) !== TEXT; i++) await page.waitForTimeout(200);
    assert.equal(noteseal(wb.keyfile, PASSPHRASE, 'decrypt', file), TEXT);
    assert.ok(!fs.readFileSync(file).includes('ONBOARDINGWORD'), 'ciphertext on disk');
    await page.locator('.tabs-container .tab.dirty').waitFor({ state: 'detached', timeout: 15_000 });
    await screenshot(page, 'onboarding-4-first-note');
  });

  it('4. Ctrl+K Alt+L locks (the note closes); the palette then offers Unlock, not Lock', async () => {
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Alt+L');
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 20_000 });
    await page.locator('.tabs-container .tab', { hasText: 'first.md' }).waitFor({ state: 'detached', timeout: 20_000 });
    assert.ok((await offered('Unlock')).includes('NoteSeal: Unlock'));
    assert.ok(!(await offered('Lock')).includes('NoteSeal: Lock'));

    // Opened again while locked, from Quick Open: the tab stays for the reload below. (Whether a passphrase box
    // appears here is not asserted: in this host it did not; the restored tab below is where the box shows.)
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('first.md.enc');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'first.md.enc' }).first().waitFor({ timeout: 20_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab', { hasText: 'first.md' }).first().waitFor({ timeout: 20_000 });
    // A passphrase box may come for the reopened note (locked means unseen, issue 22): declined here. It can come
    // late on a loaded machine, and the next command must not be typed into it: wait a while for it.
    const box = page.locator('.quick-input-widget', { hasText: 'passphrase' });
    if (await box.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
      await page.keyboard.press('Escape');
      await box.waitFor({ state: 'hidden', timeout: 10_000 });
    }
    await runCommand(page, 'Notifications: Clear All Notifications');
    // The reload below restores the editors the workbench last stored (every few seconds, not at the reload).
    await editorStateStored(page, ['noteseal', 'notes/first.md']);
  });

  it('5. a tab restored after a reload while locked: the box dismissed, Unlock and Open replaces the error', async () => {
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.quick-input-widget', { hasText: 'passphrase' }).waitFor({ timeout: 60_000 });
    await page.keyboard.press('Escape');
    const item = await notificationItem(/NoteSeal is locked, so notes\/first\.md\.enc was not opened/, 60_000);
    await screenshot(page, 'onboarding-6-restored-tab');
    await item.locator('.monaco-button', { hasText: 'Unlock and Open' }).click();
    await answerQuickInput(page, PASSPHRASE, 20_000);
    await editorText('ONBOARDINGWORD').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.tabs-container .tab', { hasText: 'first.md' }).count(), 1, 'one tab, the note');
  });

  it('6. search finds the note', async () => {
    await runCommand(page, 'NoteSeal: Search Encrypted Notes');
    const view = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await view.locator('#pattern').waitFor({ timeout: 30_000 });
    await view.locator('#pattern').click();
    await page.keyboard.type('ONBOARDINGWORD');
    await view.locator('#message', { hasText: /1 result in 1 file/ }).waitFor({ timeout: 20_000 });
    await screenshot(page, 'onboarding-7-search');
  });

  it('7. Share Folder…, then Who Can Read This File? says the new member cannot read it yet, and Share It Now shares it', async () => {
    const bobIdentity = noteseal(bobKeyfile, BOB_PASSPHRASE, 'identity').trim().split('\n').pop();
    const notes = path.join(wb.folder, 'notes');
    await runCommand(page, 'View: Show Explorer');
    await explorerRow(page, 'notes').click({ button: 'right' });
    await page.locator('.monaco-menu .action-label', { hasText: 'Share Folder…' }).first().hover();
    await page.keyboard.press('Enter');
    await answerQuickInput(page, bobIdentity, 20_000);
    await page.locator('.quick-input-widget', { hasText: 'Member name' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, 'bob');
    // A new list also asks how it names you (issue 21 §5), prefilled: keep it.
    await page.locator('.quick-input-widget', { hasText: 'Your name in the new list' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const shared = await notificationItem(/Created notes\/\.noteseal\/recipients: 2 members/);
    assert.match(await shared.innerText(), /Share It Now/);
    await runCommand(page, 'Notifications: Clear All Notifications');
    const file = path.join(notes, 'first.md.enc');
    assert.throws(() => noteseal(bobKeyfile, BOB_PASSPHRASE, 'decrypt', file), 'bob cannot read the note yet');

    await editorText('ONBOARDINGWORD').click();
    await runCommand(page, 'NoteSeal: Who Can Read This File?');
    await dialog().waitFor({ timeout: 30_000 });
    const text = (await dialog().innerText()).replace(/[ \t]+/g, ' ');
    assert.match(text, /Who can read this file: you\./);
    assert.match(text, /Not shared yet with bob \(noteseal1/);
    assert.doesNotMatch(text, /xwing|x25519|\d{2}:\d{2}:\d{2}\.\d{3}Z/, 'no algorithm names, no raw timestamps');
    await screenshot(page, 'onboarding-8-who-can-read');
    await dialog().locator('.monaco-button', { hasText: 'Share It Now' }).click();
    await notificationItem(/notes\/first\.md\.enc is now encrypted to bob too/);
    assert.equal(noteseal(bobKeyfile, BOB_PASSPHRASE, 'decrypt', file), TEXT, 'bob reads it now');
    await runCommand(page, 'Notifications: Clear All Notifications');
  });

  it('8. a recording without a sound server: plain words, three ways forward, no meetings/ folder', async () => {
    assert.ok(!(await offered('Stop Recording')).includes('NoteSeal: Stop Recording'));
    await runCommand(page, 'NoteSeal: Start Recording');
    await answerQuickInput(page, 'Kickoff', 10_000);
    const item = await notificationItem(/NoteSeal could not start recording/);
    const text = (await item.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /could not connect to the sound server/);
    assert.doesNotMatch(text, /pa_context_connect|said:/, 'the tool\'s own words are in the log, not the message');
    for (const button of ['Select Microphone', 'Open Settings', 'Show Log']) assert.equal(await item.locator('.monaco-button', { hasText: button }).count(), 1, button);
    await screenshot(page, 'onboarding-9-recording-failed');
    assert.equal(fs.existsSync(path.join(wb.folder, 'meetings')), false, 'no empty meetings/ folder');
    await item.locator('.monaco-button', { hasText: 'Open Settings' }).click();
    await page.locator('.settings-editor').waitFor({ timeout: 20_000 });
    await screenshot(page, 'onboarding-10-settings');
  });
});
