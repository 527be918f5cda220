// The synchronous sweep run in deactivate(), on real files laid out as desktop and web VS Code lay out backups.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shredBackupsSync, shredFileSync } from '../../../client/src/leak/backupShredder';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-shred-'));
const put = (p: string, text: string) => { fs.mkdirSync(path.dirname(p), { recursive: true }); fs.writeFileSync(p, text); };

describe('synchronous backup shredder', () => {
  it('destroys noteseal backups in every home (desktop <userData>/Backups and web <userData>/User/Backups), nothing else', () => {
    const root = tmp();
    const desktop = path.join(root, 'Backups'); const web = path.join(root, 'User', 'Backups');
    put(path.join(desktop, 'ws1', 'noteseal', 'a1'), 'secret one');
    put(path.join(desktop, 'ws2', 'noteseal', 'b2'), 'secret two');
    put(path.join(web, 'ws3', 'noteseal', 'c3'), 'secret three');
    put(path.join(desktop, 'ws1', 'file', 'plain'), 'a plain file backup');
    put(path.join(desktop, 'workspaces.json'), '{}');
    assert.equal(shredBackupsSync([desktop, web, path.join(root, 'missing')], 'noteseal'), 3);
    for (const d of [path.join(desktop, 'ws1', 'noteseal'), path.join(desktop, 'ws2', 'noteseal'), path.join(web, 'ws3', 'noteseal')]) assert.deepEqual(fs.readdirSync(d), []);
    assert.equal(fs.readFileSync(path.join(desktop, 'ws1', 'file', 'plain'), 'utf8'), 'a plain file backup');
    assert.equal(fs.readFileSync(path.join(desktop, 'workspaces.json'), 'utf8'), '{}');
    fs.rmSync(root, { recursive: true });
  });

  it('never follows a symlink (a planted file or folder link) and never overwrites a hard-linked file', () => {
    const root = tmp();
    const home = path.join(root, 'Backups'); const outside = path.join(root, 'outside');
    put(path.join(outside, 'victim'), 'keep me');
    put(path.join(outside, 'dir', 'x'), 'keep me too');
    fs.mkdirSync(path.join(home, 'ws', 'noteseal'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'victim'), path.join(home, 'ws', 'noteseal', 'link'));
    fs.linkSync(path.join(outside, 'victim'), path.join(home, 'ws', 'noteseal', 'hard'));
    fs.mkdirSync(path.join(home, 'ws2'));
    fs.symlinkSync(path.join(outside, 'dir'), path.join(home, 'ws2', 'noteseal'));
    shredBackupsSync([home], 'noteseal');
    assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'keep me');
    assert.equal(fs.readFileSync(path.join(outside, 'dir', 'x'), 'utf8'), 'keep me too');
    assert.ok(fs.lstatSync(path.join(home, 'ws', 'noteseal', 'link')).isSymbolicLink());
    assert.ok(!fs.existsSync(path.join(home, 'ws', 'noteseal', 'hard')), 'the hard link itself is removed');
    fs.rmSync(root, { recursive: true });
  });

  it('overwrites before unlinking (an open reader sees zeros), and `keep` can spare a file', () => {
    const root = tmp();
    const p = path.join(root, 'b');
    put(p, 'secret bytes');
    const fd = fs.openSync(p, 'r');
    assert.equal(shredFileSync(p, head => head.includes(Buffer.from('marker'))), 'destroyed');
    const seen = Buffer.alloc(12); fs.readSync(fd, seen, 0, 12, 0); fs.closeSync(fd);
    assert.deepEqual(seen, Buffer.alloc(12));
    put(p, 'the marker');
    assert.equal(shredFileSync(p, head => head.includes(Buffer.from('marker'))), 'kept');
    assert.equal(fs.readFileSync(p, 'utf8'), 'the marker');
    assert.equal(shredFileSync(path.join(root, 'none')), 'gone');
    fs.rmSync(root, { recursive: true });
  });
});
