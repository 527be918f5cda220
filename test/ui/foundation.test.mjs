// UI: NoteSeal in a real workbench, driven with real keystrokes through the command palette.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openWorkbench, runCommand, screenshot, notification } from './workbench.mjs';

describe('NoteSeal in the workbench', () => {
  let wb;
  before(async () => { wb = await openWorkbench(); });
  after(async () => {
    if (wb) await screenshot(wb.page, 'foundation-final').catch(() => undefined);
    await wb?.close();
  });

  it('shows the lock in the status bar once the worker is up (not set up yet on a fresh machine)', async () => {
    const item = wb.page.locator('.statusbar-item', { hasText: 'NoteSeal: Set Up' });
    await item.waitFor({ timeout: 60_000 });
    assert.match(await item.innerText(), /NoteSeal: Set Up/);
    const label = await item.locator('a, .statusbar-item-label').first().getAttribute('aria-label');
    assert.match(label ?? '', /NoteSeal/);
  });

  let workerPid;
  it('runs "NoteSeal: Show Worker Status" from the command palette', async () => {
    await runCommand(wb.page, 'NoteSeal: Show Worker Status');
    const text = await notification(wb.page, /NoteSeal worker .*pid \d+/);
    assert.match(text, /NoteSeal worker \d+\.\d+\.\d+: locked, pid \d+, up .*, Node v\d+/);
    workerPid = Number(/pid (\d+)/.exec(text)[1]);
    await screenshot(wb.page, 'foundation-status');
  });

  it('tells the user when the worker died and was restarted', async () => {
    assert.ok(workerPid > 0);
    process.kill(workerPid, 'SIGKILL');
    const text = await notification(wb.page, /stopped unexpectedly and was restarted/);
    assert.match(text, /NoteSeal worker/);
    await wb.page.locator('.statusbar-item', { hasText: 'NoteSeal: Set Up' }).waitFor({ timeout: 20_000 });
    await runCommand(wb.page, 'NoteSeal: Show Worker Status');
    const again = await notification(wb.page, new RegExp(`pid (?!${workerPid}\\b)\\d+`));
    assert.doesNotMatch(again, new RegExp(`pid ${workerPid}\\b`));
  });
});
