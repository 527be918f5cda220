// UI: the README's launch command really opens NoteSeal on the demo workspace (scripts/demo.mjs, the
// offline-host path: extension installed into the server, no test driver).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, launchBrowser, projectRoot } from '../host/codeServer.mjs';
import { answerQuickInput, explorerRow, screenshot } from './workbench.mjs';

describe('npm start (demo launcher)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-demo-'));
  let demo, window;
  after(async () => {
    await window?.close().catch(() => undefined);
    if (demo && demo.exitCode === null) { demo.kill('SIGTERM'); await new Promise(r => { demo.once('close', r); setTimeout(r, 5000); }); }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves the workbench on 127.0.0.1, prints its address, and NoteSeal runs in it', async () => {
    const port = await freePort();
    demo = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NOTESEAL_PORT: String(port), NOTESEAL_DEMO_DIR: path.join(tmp, 'workspace'), NOTESEAL_DEMO_STATE: path.join(tmp, 'state'), PATH: '/usr/bin:/bin' } });
    let out = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed:\n${out}`)), 60_000);
      demo.stdout.on('data', d => { out += d; const m = /(http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)/.exec(out); if (m) { clearTimeout(timer); resolve(m[1]); } });
      demo.on('close', code => reject(new Error(`demo exited with ${code}:\n${out}`)));
    });
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/`));
    assert.ok(fs.existsSync(path.join(tmp, 'workspace', 'README.md')), 'the demo workspace was seeded');
    window = await launchBrowser();
    await window.page.goto(url);
    await window.page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 60_000 });
    assert.ok(fs.existsSync(path.join(tmp, 'workspace', 'notes', 'plan.md.enc')), 'sample notes are encrypted');
    assert.ok(!fs.existsSync(path.join(tmp, 'workspace', 'notes', 'plan.md')), 'no plaintext copy of the sample notes');
    await explorerRow(window.page, 'notes').waitFor({ timeout: 30_000 });
    // The new user's first steps: open a sample note from the Explorer, give the demo passphrase, read it.
    const page = window.page;
    await explorerRow(page, 'notes').click();
    await explorerRow(page, 'plan.md.enc').click();
    await answerQuickInput(page, 'noteseal demo passphrase', 20_000);
    await page.locator('.monaco-editor .view-lines', { hasText: 'Launch plan' }).waitFor({ timeout: 30_000 });
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Unlocked' }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'demo');
  });
});
