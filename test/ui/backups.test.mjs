// UI: typing into a large encrypted note never produces a hot-exit backup of it, at any moment (issue 11). VS Code backs up a dirty editor about a second after the last keystroke; NoteSeal's save
// must land first. The backup folder is watched with fs.watch while typing, so even a backup that the
// leak guard's sweeper destroys within milliseconds is seen. Controls: a plain file's real backup, and a
// backup planted in NoteSeal's backup folder, are both detected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { explorerRow, noteseal, noteSealLogs, openWorkbench, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'ui test passphrase, long enough';
const MiB = 1024 * 1024;

/** Every name that ever appears in `dir` (fs.watch: inotify reports a file even if it is gone at once). */
function watchFolder(dir) {
  const seen = new Set();
  const add = name => { if (name) seen.add(String(name)); };
  const watcher = fs.watch(dir, { persistent: false }, (_event, name) => add(name));
  for (const name of fs.readdirSync(dir)) add(name); // anything there before the watch began
  return { seen, close: () => watcher.close() };
}

async function waitFor(check, timeout, what) {
  const end = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

describe('no hot-exit backup of a large encrypted note while typing', () => {
  let wb, page, keyfile, ours;
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const row = name => explorerRow(page, name);

  before(async () => {
    keyfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bak-')), 'keyfile.json');
    cli('init');
    // Auto-save off (the desktop default; the web workbench auto-saves after 1 s): only NoteSeal's own save can win.
    wb = await openWorkbench({ keyfile, settings: { 'files.autoSave': 'off' }, prepare: folder => {
      const line = 'A line of a long encrypted note, to make it as large as the test needs.\n';
      const plain = path.join(path.dirname(keyfile), 'big-input');
      for (const mib of [1, 8]) {
        fs.writeFileSync(plain, line.repeat(Math.ceil(mib * MiB / line.length)).slice(0, mib * MiB));
        try { cli('encrypt', plain, '-o', path.join(folder, `big-${mib}.md.enc`)); } finally { fs.rmSync(plain); }
      }
      fs.writeFileSync(path.join(folder, 'control.txt'), 'a plain file\n');
    } });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    if (keyfile) fs.rmSync(path.dirname(keyfile), { recursive: true, force: true });
  });

  it('controls: a dirty plain file is backed up where VS Code backs up notes; a planted backup is seen though the sweeper destroys it', async () => {
    const backups = path.join(wb.stateDir, 'user-data', 'User', 'Backups');
    fs.mkdirSync(backups, { recursive: true });
    await row('control.txt').click({ timeout: 30_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: 'a plain file' }).waitFor({ timeout: 20_000 });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.type('dirty');
    let workspaceDir;
    await waitFor(() => {
      // <workspace hash>/<scheme>/<hash>: the plain file is a `vscode-remote:` resource in the web workbench.
      const hasBackup = d => fs.statSync(d).isDirectory() && fs.readdirSync(d).some(s => s !== 'noteseal' && fs.statSync(path.join(d, s)).isDirectory());
      workspaceDir = fs.readdirSync(backups).map(d => path.join(backups, d)).find(hasBackup);
      return workspaceDir;
    }, 20_000, "VS Code's backup of the dirty plain file").catch(async e => {
      await screenshot(page, 'backups-control-missing');
      throw new Error(`${e.message}; Backups holds: ${fs.readdirSync(backups, { recursive: true }).join(', ') || 'nothing'}`);
    });
    ours = path.join(workspaceDir, 'noteseal');
    fs.mkdirSync(ours, { recursive: true });
    const watch = watchFolder(ours);
    try {
      fs.writeFileSync(path.join(ours, 'planted-control'), 'planted');
      await waitFor(() => watch.seen.has('planted-control'), 5000, 'the planted backup');
      await waitFor(() => !fs.existsSync(path.join(ours, 'planted-control')), 5000, 'the sweeper to destroy the planted backup');
    } finally {
      watch.close();
    }
  });

  /**
   * Types four bursts into the note, each followed by a pause past VS Code's backup delay, while watching the
   * backup folder. Reports how long after each burst's last key the encrypted file was replaced: the margin
   * to VS Code's backup delay (1 s, or 2 s with a short auto-save delay).
   */
  async function typeWatching(note, t) {
    assert.ok(ours, 'the controls ran');
    const watch = watchFolder(ours);
    const encName = `${note}.enc`;
    let replacedAt = 0;
    const noteWatch = fs.watch(wb.folder, { persistent: false }, (_event, name) => { if (String(name) === encName) replacedAt = performance.now(); });
    const savedAfter = [];
    const sweptBefore = sweptAges().length;
    try {
      await row(`${note}.enc`).click();
      await page.locator(`.tabs-container .tab[data-resource-name="${note}"]`).waitFor({ timeout: 60_000 });
      await page.locator('.monaco-editor .view-lines', { hasText: 'as large as' }).first().waitFor({ timeout: 60_000 });
      await page.locator('.monaco-editor .view-lines').first().click();
      for (let burst = 0; burst < 4; burst++) {
        await page.keyboard.type(`typed burst ${burst} `, { delay: 40 });
        const typedAt = performance.now();
        await page.waitForTimeout(1600);
        savedAfter.push(replacedAt > typedAt ? Math.round(replacedAt - typedAt) : NaN);
      }
      t?.diagnostic(`${note}: encrypted file replaced ${savedAfter.map(ms => (Number.isNaN(ms) ? 'not within 1.6 s' : `${ms} ms`)).join(', ')} after each burst's last key`);
      const swept = sweptAges().slice(sweptBefore);
      if (swept.length) t?.diagnostic(`${note}: backups destroyed by the sweeper, on disk for ${swept.join(', ')} ms`);
      await screenshot(page, `backups-typing-${note}`);
      assert.deepEqual([...watch.seen].filter(n => n !== 'planted-control'), [], 'no hot-exit backup of the encrypted note appeared at any moment');
    } finally {
      watch.close();
      noteWatch.close();
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(2000);
    }
    const out = path.join(path.dirname(keyfile), 'big-output');
    cli('decrypt', path.join(wb.folder, `${note}.enc`), '-o', out);
    const saved = fs.readFileSync(out, 'utf8');
    fs.rmSync(out);
    assert.match(saved.slice(0, 64 * 1024), /typed burst 3/, 'what was typed is saved, encrypted');
  }

  /** How long each backup of a note the sweeper destroyed so far was on disk, as its log says (ms). */
  const sweptAges = () => (noteSealLogs(wb.stateDir).match(/destroyed a hot-exit backup of an encrypted note[^\n]*/g) ?? [])
    .map(l => /on disk for (\d+) ms/.exec(l)?.[1] ?? '?');

  it('1 MiB note: no backup ever appears while typing', t => typeWatching('big-1.md', t));

  // Not closable by an extension (issue 22 §2): VS Code's own part of the save is what outlasts the delay.
  // Before the provider is called, TextFileEditorModel.doSave runs the save participants (a round trip to the
  // extension host), then fileService.writeFile stats the file through the provider (validateWriteFile, its
  // modified-since check), builds the 8 MiB buffer from the text model and sends it to the extension host
  // (src/vs/workbench/services/textfile/common/textFileEditorModel.ts, src/vs/platform/files/common/
  // fileService.ts). Measured with temporary logging (locked5 notes, load ~15): from save-soon's doc.save() to
  // the provider's writeFile 430–1,680 ms at 8 MiB (the stat to writeFile step alone 410–1,670 ms), so even a
  // save-soon of 0 ms would miss the 1 s; NoteSeal's own part after that is at most 150 ms (SAVE_DEADLINE_MS).
  // The backups were destroyed by the sweeper 4–804 ms after VS Code created them (the larger ones while VS
  // Code was still writing 8 MiB). No setting of NoteSeal's scheme alone lengthens the delay (below).
  it('8 MiB note: no backup ever appears while typing', { todo: 'VS Code\'s own part of an 8 MiB save (0.4–1.7 s before the provider is called) outlasts the 1 s backup delay' }, t => typeWatching('big-8.md', t));

  // The lever a user has (README, "Very large notes"): with auto-save after a short delay (`afterDelay`,
  // at most 1 s) VS Code waits 2 s instead of 1 s before it backs up a dirty editor (workingCopyBackupTracker:
  // DEFAULT_BACKUP_SCHEDULE_DELAYS {default: 1000, delayed: 2000}, chosen by hasShortAutoSaveDelay), which
  // save-soon plus an 8 MiB save usually meet: it passed in 3 of 4 runs at load 3-4 on this 2-core machine,
  // hence a todo (a failure does not fail the run). Set here in the user's settings file, as a user would. An
  // extension cannot set it for its own scheme: `files` is read per resource through the language-overridable
  // configuration (filesConfigurationService.ts getAutoSaveConfiguration), a `noteseal:` resource belongs to no
  // workspace folder, and a language default would change every file of that language; `files.hotExit` only
  // decides the shutdown backups (the browser and native trackers' onFinalBeforeShutdown), not these.
  it('8 MiB note with files.autoSave "afterDelay": no backup ever appears while typing', { todo: 'usually within the 2 s backup delay; not always on a loaded machine' }, async t => {
    const settingsFile = path.join(wb.stateDir, 'user-data', 'User', 'settings.json');
    const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
    fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, 'files.autoSave': 'afterDelay', 'files.autoSaveDelay': 1000 }, null, 1));
    await page.waitForTimeout(3000); // VS Code watches the settings file
    await typeWatching('big-8.md', t);
  });
});
