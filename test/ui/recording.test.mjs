// UI: record a meeting from the command palette with real audio (a virtual microphone hears speech),
// see the red recording item in the status bar, stop, get the meeting note; then play it back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openMicWorkbench, vmic } from './micWorkbench.mjs';
import { answerQuickInput, explorerRow, runCommand, screenshot } from './workbench.mjs';

const PASSPHRASE = 'recording ui passphrase 42';

describe('recording a meeting in the workbench', () => {
  let wb, page, mic;
  before(async () => {
    mic = await openMicWorkbench('noteseal-recui-', PASSPHRASE);
    ({ wb, page } = mic);
  });
  after(async () => { await mic?.close(); });

  it('Start Recording (palette) asks to unlock, then shows the red recording item with time and level', async () => {
    await runCommand(page, 'NoteSeal: Start Recording');
    await answerQuickInput(page, 'Kickoff');
    await page.locator('.quick-input-title', { hasText: 'Unlock NoteSeal' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, PASSPHRASE);
    const item = page.locator('[id="noteseal.noteseal.noteseal.recording"], .statusbar-item', { hasText: /\d:\d\d/ }).first();
    await item.waitFor({ timeout: 15_000 });
    const speech = spawn('bash', [vmic, 'say', 'Welcome to the kickoff. We start recording now.'], { stdio: 'ignore' });
    const spoken = new Promise(r => speech.on('close', r));
    // While the speech plays, the meter must rise above silence.
    let loudest = '';
    for (let i = 0; i < 40 && !/[▄▅▆▇█]/.test(loudest); i++) { await page.waitForTimeout(100); loudest = await item.innerText(); }
    assert.match(loudest, /[▄▅▆▇█]/, `the level meter moves with speech: ${loudest}`);
    await screenshot(page, 'recording-status-bar');
    await spoken;
    const text = await item.innerText();
    assert.match(text, /[1-9]:\d\d|0:0[2-9]/, `elapsed time advances: ${text}`);
  });

  it('Start Recording is not offered while one runs; Stop Recording (palette) opens the meeting note', async () => {
    // The palette offers only what can be done now (issue 25): no second Start while "Kickoff" records.
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 300 } });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('>NoteSeal: Stop Recording');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'NoteSeal: Stop Recording' }).first().waitFor({ timeout: 10_000 });
    await input.fill('>NoteSeal: Start Recording');
    await page.waitForTimeout(600);
    assert.equal(await page.locator('.quick-input-list .monaco-list-row', { hasText: 'NoteSeal: Start Recording' }).count(), 0, 'no Start Recording while recording');
    await page.keyboard.press('Escape');
    await runCommand(page, 'NoteSeal: Stop Recording');
    await page.locator('.tabs-container .tab', { hasText: 'Kickoff.md' }).waitFor({ timeout: 15_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: '# Kickoff' }).waitFor({ timeout: 10_000 });
    const meetings = path.join(wb.folder, 'meetings');
    const files = fs.readdirSync(meetings).sort();
    assert.equal(files.length, 2, files.join(', '));
    assert.match(files[0], /Kickoff\.md\.enc$/);
    assert.match(files[1], /Kickoff\.wav\.enc$/);
    assert.equal(await page.locator('.statusbar-item', { hasText: /\d:\d\d [▁▂▃▄▅▆▇█]/ }).count(), 0, 'the recording item is gone');
    await screenshot(page, 'recording-meeting-note');
  });

  it('opening the recording shows the player, which decrypts and plays from memory', async () => {
    await explorerRow(page, 'meetings').click();
    await explorerRow(page, /Kickoff\.wav\.enc\s*$/).click();
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await frame.locator('#title', { hasText: 'Kickoff' }).waitFor({ timeout: 20_000 });
    const time = await frame.locator('#time').innerText();
    assert.match(time, /0:00 \/ 0:0[2-9]|0:00 \/ 0:[1-5]\d/, `the duration is shown: ${time}`);
    await frame.locator('#play').click();
    await page.waitForTimeout(1500);
    const status = await frame.locator('#status').innerText();
    await screenshot(page, 'recording-player');
    assert.match(status, /Playing \(decrypted up to/, status);
    await screenshot(page, 'recording-player');
  });
});
