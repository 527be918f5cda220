// dist/cli.js runs the CLI bundle through a V8 code cache (server/src/cli/launcher.ts). The cache is code that
// will run: it is kept only in a folder of the user's own and only read from a file of the user's own that
// nobody else can write; a file V8 refuses is replaced. Uses the built dist/ (the unit layer builds first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const posix = process.platform !== 'win32';

function withCacheHome(t: { after(fn: () => void): void }): { home: string; folder: string; version(): string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-codecache-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') };
  return {
    home,
    folder: path.join(home, 'cache', 'noteseal', 'cli-code'),
    version: () => execFileSync(process.execPath, [CLI, '--version'], { env, encoding: 'utf8' }),
  };
}

const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

describe('the CLI\'s code cache', { skip: !posix && 'POSIX only: the launcher keeps no cache on Windows' }, () => {
  it('the first run keeps one in a private folder; the next runs use that file as it is', t => {
    const c = withCacheHome(t);
    assert.match(c.version(), /^noteseal \d/);
    const [name, ...more] = files(c.folder);
    assert.ok(name?.endsWith('.bin') && more.length === 0, `one cache file: ${files(c.folder).join(', ')}`);
    assert.equal(fs.statSync(c.folder).mode & 0o777, 0o700);
    const file = path.join(c.folder, name);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const before = fs.statSync(file);
    assert.match(c.version(), /^noteseal \d/);
    const after = fs.statSync(file);
    // A cache V8 had refused (or one not read) would have been written anew: a new file renamed into place.
    assert.equal(after.ino, before.ino, 'the cache was accepted, not rewritten');
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  it('a folder others can write to is not used, and a cache file others can write to is not read', t => {
    const c = withCacheHome(t);
    fs.mkdirSync(c.folder, { recursive: true });
    fs.chmodSync(c.folder, 0o777);
    assert.match(c.version(), /^noteseal \d/);
    assert.deepEqual(files(c.folder), [], 'nothing kept in a folder others can write to');
    fs.chmodSync(c.folder, 0o700);
    c.version();
    const file = path.join(c.folder, files(c.folder)[0]!);
    fs.chmodSync(file, 0o666);
    const before = fs.statSync(file);
    assert.match(c.version(), /^noteseal \d/);
    const after = fs.statSync(file);
    assert.notEqual(after.ino, before.ino, 'not read: replaced by a file of its own');
    assert.equal(after.mode & 0o777, 0o600);
  });

  it('a damaged cache is refused and replaced; the command runs as usual', t => {
    const c = withCacheHome(t);
    c.version();
    const file = path.join(c.folder, files(c.folder)[0]!);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.alloc(good.length, 0x5a));
    assert.match(c.version(), /^noteseal \d/);
    assert.notDeepEqual(fs.readFileSync(file), Buffer.alloc(good.length, 0x5a), 'rewritten');
    assert.match(c.version(), /^noteseal \d/);
  });
});
