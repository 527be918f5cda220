// UI (issue 31): record real human speech (Debian's pocketsphinx-testdata clips played into the PulseAudio
// virtual microphone), stop, "NoteSeal: Transcribe Recording" from the palette (progress notification with
// the share done and Cancel), the meeting note shows the transcript; in the player, a transcript time plays
// from there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { openMicWorkbench, vmic } from './micWorkbench.mjs';
import { answerQuickInput, explorerRow, runCommand, screenshot } from './workbench.mjs';

const PASSPHRASE = 'transcribe ui passphrase 31';
const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0880', '0890', '0930'].map(n => path.join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`));

const play = file => new Promise((resolve, reject) => {
  const p = spawn('bash', [vmic, 'play', file], { stdio: 'ignore' });
  p.on('error', reject);
  p.on('close', code => (code === 0 ? resolve() : reject(new Error(`paplay ${file}: exit ${code}`))));
});
const seconds = mss => { const [m, s] = mss.split(':').map(Number); return m * 60 + s; };

describe('transcribing a recording in the workbench', () => {
  let page, mic;
  before(async () => {
    mic = await openMicWorkbench('noteseal-transcribeui-', PASSPHRASE);
    ({ page } = mic);
  });
  after(async () => { await mic?.close(); });

  it('records speech from the virtual microphone, stops, transcribes from the palette (progress, Cancel) and shows the transcript in the note', async () => {
    await runCommand(page, 'NoteSeal: Start Recording');
    await answerQuickInput(page, 'Austen');
    await page.locator('.quick-input-title', { hasText: 'Unlock NoteSeal' }).waitFor({ timeout: 30_000 });
    await answerQuickInput(page, PASSPHRASE);
    await page.locator('.statusbar-item', { hasText: /\d:\d\d/ }).first().waitFor({ timeout: 60_000 });
    for (const clip of CLIPS) await play(clip);
    await runCommand(page, 'NoteSeal: Stop Recording');
    await page.locator('.tabs-container .tab', { hasText: 'Austen.md' }).waitFor({ timeout: 60_000 });

    await runCommand(page, 'NoteSeal: Transcribe Recording');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: /Austen\.wav\.enc/ }).first().waitFor({ timeout: 30_000 });
    await answerQuickInput(page, 'Austen.wav.enc');
    // The progress notification: the share done (and the time left), with Cancel, until the engine is done. The
    // workbench in automation mode sends notifications to the notification center (no toasts): look there.
    await runCommand(page, 'Notifications: Show Notifications');
    const toast = page.locator('.notifications-center .notification-list-item', { hasText: /transcribing/ });
    await toast.waitFor({ timeout: 30_000 });
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Cancel' }).count(), 1, 'the notification can cancel');
    let shown = '';
    for (let i = 0; i < 600 && !/\d+ %/.test(shown); i++) {
      shown = await toast.innerText({ timeout: 1000 }).catch(() => shown);
      if (/\d+ %/.test(shown)) await screenshot(page, 'transcribe-progress');
      else await page.waitForTimeout(100);
    }
    assert.match(shown, /\d+ %/, `the notification shows the share done: ${shown}`);
    await runCommand(page, 'Notifications: Hide Notifications');

    const editor = page.locator('.monaco-editor .view-lines');
    await editor.filter({ hasText: 'Transcript' }).waitFor({ timeout: 180_000 });
    await editor.filter({ hasText: 'selfish' }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'transcribe-note');
    const text = (await editor.first().innerText()).replace(/\u00a0/g, ' '); // Monaco renders spaces as no-break spaces
    assert.match(text, /# Austen/);
    assert.match(text, /Transcribed on this machine by PocketSphinx/);
    // Each segment with its time; the words are PocketSphinx's (the unit tests hold its word error rate).
    assert.match(text, /- \*\*0:0\d\*\* \S/, text);
    assert.match(text, /cold hearted|young man|amiable/, text);
  });

  it('the player lists the transcript; a click on a time plays from there', async () => {
    await explorerRow(page, 'meetings').click();
    await explorerRow(page, /Austen\.wav\.enc\s*$/).click();
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await frame.locator('#title', { hasText: 'Austen' }).waitFor({ timeout: 20_000 });
    const times = frame.locator('#transcript li .at');
    await times.first().waitFor({ timeout: 20_000 });
    const n = await times.count();
    assert.ok(n >= 2, `${n} transcript lines`);
    const last = times.nth(n - 1);
    const at = seconds(await last.innerText());
    assert.ok(at > 0, 'the last line starts after 0:00');
    assert.equal(await frame.locator('body').getAttribute('data-last-read'), null, 'nothing played yet');
    await last.click();
    await frame.locator('#status', { hasText: 'Playing' }).waitFor({ timeout: 15_000 });
    const firstRead = Number(await frame.locator('body').getAttribute('data-last-read'));
    assert.ok(firstRead >= at * 32000, `played from ${firstRead / 32000} s, the line starts at ${at} s`);
    // The time shown follows playback a moment later (seen once at 0:02 for a line at 3 s right after "Playing").
    let time = '';
    for (const end = Date.now() + 1_500; Date.now() < end; await page.waitForTimeout(100)) { // played from 0, it would need `at` s
      time = await frame.locator('#time').innerText();
      if (seconds(time.split(' / ')[0]) >= at) break;
    }
    assert.ok(seconds(time.split(' / ')[0]) >= at, `the player is at ${time}, the line at ${at} s`);
    await screenshot(page, 'transcribe-player');
  });
});
