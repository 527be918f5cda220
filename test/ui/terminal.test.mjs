// UI: the integrated terminal finds `noteseal` and this window's agent. A command typed into the real
// terminal runs with the variables of a .env.enc while NoteSeal is unlocked, and is refused after Lock.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'terminal test passphrase 5';

describe('NoteSeal in the integrated terminal', () => {
  let wb, page, keyfile;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-term-'));
    keyfile = path.join(dir, 'keyfile.json');
    noteseal(keyfile, PASSPHRASE, 'init');
    wb = await openWorkbench({
      keyfile,
      // The DOM renderer keeps the terminal's text in the page, where the test can read it.
      settings: { 'terminal.integrated.gpuAcceleration': 'off' },
      prepare: folder => {
        fs.writeFileSync(path.join(folder, '.env'), 'UI_TOKEN=ui-secret-42\n');
        noteseal(keyfile, PASSPHRASE, 'encrypt', path.join(folder, '.env'));
        fs.rmSync(path.join(folder, '.env'));
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(path.dirname(keyfile), { recursive: true, force: true });
  });

  const terminalText = () => page.locator('.terminal-wrapper.active .xterm-rows').innerText();
  async function type(line) {
    await page.locator('.terminal-wrapper.active .xterm').click();
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
  }
  async function waitForText(re, timeout = 30_000) {
    const until = Date.now() + timeout;
    for (;;) {
      const text = await terminalText().catch(() => '');
      if (re.test(text)) return text;
      if (Date.now() > until) throw new Error(`terminal never showed ${re}; it shows:\n${text}`);
      await page.waitForTimeout(250);
    }
  }

  it('runs `noteseal exec` with no prompt while unlocked, and refuses after Lock', async () => {
    await runCommand(page, 'Terminal: Create New Terminal');
    await page.locator('.terminal-wrapper.active .xterm').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1000); // the shell's first prompt
    await type(`noteseal exec .env.enc -- sh -c 'echo "got-$UI_TOKEN-done"'`);
    await waitForText(/got-ui-secret-42-done/);
    await screenshot(page, 'terminal-exec-unlocked');
    await runCommand(page, 'NoteSeal: Lock');
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor();
    await runCommand(page, 'Terminal: Focus Terminal');
    await type(`clear; noteseal exec .env.enc -- sh -c 'echo "got-$UI_TOKEN-again"'; echo "exit=$?"`);
    const text = await waitForText(/exit=\d+/);
    assert.match(text, /locked/);
    assert.match(text, /exit=9/);
    assert.doesNotMatch(text, /got-ui-secret-42-again/);
    await screenshot(page, 'terminal-exec-locked');
  });
});
