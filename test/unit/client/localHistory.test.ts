import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyDirOf, purgeHistoryOf, resourcePathOf } from '../../../client/src/leak/localHistory';

describe('Local History purge', () => {
  it('finds History beside globalStorage (desktop, web server and remote server layouts alike)', () => {
    assert.equal(historyDirOf('/home/u/.config/Code/User/globalStorage/noteseal.noteseal'), '/home/u/.config/Code/User/History');
    assert.equal(historyDirOf('/home/u/.vscode-server/data/User/globalStorage/noteseal.noteseal'), '/home/u/.vscode-server/data/User/History');
    assert.equal(resourcePathOf('vscode-remote://localhost%3A8080/w/notes/x%20y.md.enc'), '/w/notes/x y.md.enc');
    assert.equal(resourcePathOf('file:///w/notes/x.md.enc'), '/w/notes/x.md.enc');
  });

  it('destroys the entries named by entries.json, and unlisted entries holding the plaintext; leaves the rest', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-history-'));
    try {
      const plain = Buffer.from('CANARY plaintext that slipped');
      const mk = (folder: string, files: Record<string, string | Buffer>) => {
        fs.mkdirSync(path.join(home, folder));
        for (const [n, v] of Object.entries(files)) fs.writeFileSync(path.join(home, folder, n), v);
      };
      mk('listed', { 'entries.json': JSON.stringify({ version: 1, resource: 'vscode-remote://h/w/x.md.enc', entries: [] }), 'Ab12.enc': plain, 'Cd34.enc': 'older' });
      mk('unlisted', { 'Ef56.enc': plain, 'Gh78.enc': 'something else' });
      mk('other', { 'entries.json': JSON.stringify({ version: 1, resource: 'file:///w/y.md.enc', entries: [] }), 'Ij90.enc': plain });
      assert.equal(await purgeHistoryOf(home, '/w/x.md.enc', plain), 3);
      assert.deepEqual(fs.readdirSync(path.join(home, 'listed')), []);
      assert.deepEqual(fs.readdirSync(path.join(home, 'unlisted')), ['Gh78.enc']);
      assert.deepEqual(fs.readdirSync(path.join(home, 'other')).sort(), ['Ij90.enc', 'entries.json'], 'another file\'s history is not touched');
      assert.equal(await purgeHistoryOf(path.join(home, 'missing'), '/w/x.md.enc'), 0);
    } finally { fs.rmSync(home, { recursive: true, force: true }); }
  });
});
