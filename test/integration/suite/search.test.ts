// Search inside encrypted notes in the real extension host (issue 16): the view's search through the worker
// finds matches in decrypted notes, lists notes that do not open, skips recordings, opens a result at its
// match with the match selected, is refused while locked, and leaves nothing on disk (canary, with a
// planted positive control).
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { SearchQuery } from '../../../server/src/protocol';
import { closeAllEditors, freshDir, PASSPHRASE, unlocked, workspaceDir, writeEncExternally } from './helpers';

const query = (pattern: string, more: Partial<SearchQuery> = {}): SearchQuery =>
  ({ pattern, isRegex: false, matchCase: false, wholeWord: false, include: './search-it/**', ...more });

function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(p => path.join(dir, String(p))).filter(p => { try { return fs.lstatSync(p).isFile(); } catch { return false; } });
}

/** Files below `dirs` (changed since `since`) that hold `secret` as UTF-8 or UTF-16LE. */
function holders(secret: string, dirs: string[], since: number): string[] {
  const needles = [Buffer.from(secret), Buffer.from(secret, 'utf16le')];
  return dirs.flatMap(filesBelow).filter(f => {
    try {
      const s = fs.statSync(f);
      if (s.mtimeMs < since || s.size > 64 * 1024 * 1024) return false;
      const b = fs.readFileSync(f);
      return needles.some(n => b.indexOf(n) >= 0);
    } catch { return false; }
  });
}

describe('search inside encrypted notes', () => {
  afterEach(async () => { await closeAllEditors(); });

  it('finds matches in decrypted notes, lists a damaged note, skips recordings, and opens a result at the match', async () => {
    const noteseal = await unlocked();
    const dir = freshDir('search-it');
    await writeEncExternally(path.join(dir, 'plan.md.enc'), '# Plan\r\nThe budget is final.\r\nNothing else.\r\n');
    fs.mkdirSync(path.join(dir, 'sub'));
    await writeEncExternally(path.join(dir, 'sub', 'todo.txt.enc'), 'check the Budget twice\n');
    await writeEncExternally(path.join(dir, 'talk.wav.enc'), 'RIFF budget');
    fs.writeFileSync(path.join(dir, 'broken.md.enc'), Buffer.concat([fs.readFileSync(path.join(dir, 'plan.md.enc')).subarray(0, 200)]));
    const { summary, files } = await noteseal.search.run(query('budget'));
    assert.deepEqual(files.map(f => f.relativePath), ['search-it/plan.md', 'search-it/sub/todo.txt']);
    assert.equal(summary.matches, 2);
    assert.equal(summary.skippedRecordings, 1);
    assert.deepEqual(summary.failed.map(f => [path.basename(f.path), f.code]), [['broken.md', 'TRUNCATED']]);
    assert.deepEqual(files[0]!.lines, [{ line: 1, text: 'The budget is final.', textStart: 0, ranges: [[4, 10]] }]);

    const [s, e] = files[0]!.lines[0]!.ranges[0]!;
    const editor = await noteseal.search.open(files[0]!.path, 1, s, e);
    assert.equal(editor.document.uri.scheme, 'noteseal');
    assert.equal(editor.document.uri.fsPath, path.join(dir, 'plan.md'));
    assert.equal(editor.document.getText(editor.selection), 'budget', 'the match is selected in the decrypted note');

    const matchCase = await noteseal.search.run(query('Budget', { matchCase: true }));
    assert.deepEqual(matchCase.files.map(f => f.relativePath), ['search-it/sub/todo.txt']);
    const regex = await noteseal.search.run(query('^the \\w+', { isRegex: true }));
    assert.deepEqual(regex.files.map(f => f.lines[0]!.ranges[0]), [[0, 10]]);
    await assert.rejects(noteseal.search.run(query('(', { isRegex: true })), /Invalid regular expression/);
  });

  it('sees a note changed on disk at the next search, and is refused while locked', async () => {
    const noteseal = await unlocked();
    const dir = freshDir('search-it');
    const file = path.join(dir, 'changing.md.enc');
    await writeEncExternally(file, 'first version: apples\n');
    assert.equal((await noteseal.search.run(query('apples'))).summary.matches, 1);
    await writeEncExternally(file, 'second version: pears\n');
    assert.equal((await noteseal.search.run(query('apples'))).summary.matches, 0);
    assert.equal((await noteseal.search.run(query('pears'))).summary.matches, 1);
    await noteseal.vault.lock();
    await assert.rejects(noteseal.search.run(query('pears')), (err: Error & { code?: string }) => err.code === 'LOCKED');
    await noteseal.vault.unlock(PASSPHRASE);
  });

  it('a search leaves nothing on disk: no canary in the user data, logs, workspace or temp dirs (planted control found)', async () => {
    const noteseal = await unlocked();
    const since = Date.now() - 1000;
    const dir = freshDir('search-it');
    const secret = `SEARCHCANARY${randomBytes(8).toString('hex')}`;
    await writeEncExternally(path.join(dir, 'secret.md.enc'), `top line\nthe canary: ${secret}\nlast line\n`);
    const { files } = await noteseal.search.run(query('the canary'));
    assert.equal(files.length, 1);
    assert.ok(files[0]!.lines[0]!.text.includes(secret), 'the result carries the decrypted line');
    await noteseal.search.run(query(secret.slice(0, 12)));
    await vscode.commands.executeCommand('noteseal.searchEncryptedNotes'); // the view itself, opened
    await new Promise(r => setTimeout(r, 1500));
    const userData = path.resolve(noteseal.globalStorageUri.fsPath, '..', '..', '..');
    const dirs = [userData, noteseal.logUri.fsPath, workspaceDir(), os.tmpdir()];
    const control = path.join(noteseal.globalStorageUri.fsPath, `control-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(path.dirname(control), { recursive: true });
    fs.writeFileSync(control, `planted ${secret}`);
    try {
      const found = holders(secret, dirs, since);
      assert.deepEqual(found, [control], 'only the planted control holds the canary');
    } finally { fs.rmSync(control, { force: true }); }
  });
});
