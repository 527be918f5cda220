// The worker's EncFileSystem and watchers on a real disk with a real keyring (issue 10, item 10; issue 11):
// reads check the header and the size before loading a file, folder deletes remove only what the view
// shows, data keys are wiped after reads, a note's watcher ignores a plaintext file of the same name, and
// the watchers skip the worker's own writes but report everyone else's.
import assert from 'node:assert/strict';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Keyring } from '../../../server/src/keys/keyring';
import { EncFileSystem, MAX_NOTE_BYTES } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { EncWatchers } from '../../../server/src/vault/watcher';
import { LogAppender } from '../../../server/src/logs/appender';
import type { FileChange } from '../../../server/src/protocol';
import { newKeyring } from '../keys/helpers';

const WRITE = { create: true, overwrite: true };
const vaultOf = (keyring: Pick<Keyring, 'unwrap' | 'newFileStanzas'>) => ({ unlocked: () => keyring }) as unknown as VaultService;

async function setup() {
  const { keyring, dir } = await newKeyring();
  const ws = path.join(dir, 'ws');
  await fs.mkdir(ws);
  return { keyring, ws, files: new EncFileSystem(vaultOf(keyring)) };
}

test('a note too large for the editor is refused with a clear error, before its payload is read', async () => {
  const { ws, files } = await setup();
  const note = path.join(ws, 'huge.md');
  await files.writeFile(note, Buffer.from('small'), WRITE);
  await fs.truncate(note + '.enc', MAX_NOTE_BYTES + 1); // sparse: the header is real, the size is huge
  const realReadFile = fs.readFile;
  (fs as { readFile: unknown }).readFile = () => { throw new Error('the whole file was read'); };
  try {
    await assert.rejects(files.readFile(note), (e: Error & { code?: string }) =>
      e.code === 'LIMIT_EXCEEDED' && /too large to open in the editor/.test(e.message) && /Decrypt File/.test(e.message));
  } finally {
    (fs as { readFile: unknown }).readFile = realReadFile;
  }
});

test('a note for another key fails on its header without the file being loaded', async () => {
  const { ws, files } = await setup();
  const other = await setup();
  const note = path.join(ws, 'foreign.md');
  await other.files.writeFile(note, Buffer.alloc(1 << 20, 0x61), WRITE);
  const realReadFile = fs.readFile;
  (fs as { readFile: unknown }).readFile = () => { throw new Error('the whole file was read'); };
  try {
    await assert.rejects(files.readFile(note), (e: Error & { code?: string }) => e.code === 'WRONG_KEY');
  } finally {
    (fs as { readFile: unknown }).readFile = realReadFile;
  }
});

test('reads wipe the data keys unwrap handed out', async () => {
  const { keyring, ws, files } = await setup();
  await files.writeFile(path.join(ws, 'a.md'), Buffer.from('secret body'), WRITE);
  const handedOut: Uint8Array[] = [];
  const spy: Keyring['unwrap'] = async stanzas => { const k = await keyring.unwrap(stanzas); handedOut.push(k); return k; };
  const reader = new EncFileSystem(vaultOf({ unwrap: spy, newFileStanzas: keyring.newFileStanzas.bind(keyring) }));
  assert.equal((await reader.readFile(path.join(ws, 'a.md'))).toString(), 'secret body');
  assert.equal(handedOut.length, 1);
  assert.ok(handedOut[0]!.every(b => b === 0), 'the data key is zeroed after the read');
});

test('deleting a folder removes its notes and empty folders, and refuses when it holds anything the view hides', async () => {
  const { ws, files } = await setup();
  const clean = path.join(ws, 'clean');
  await fs.mkdir(path.join(clean, 'sub'), { recursive: true });
  await files.writeFile(path.join(clean, 'a.md'), Buffer.from('a'), WRITE);
  await files.writeFile(path.join(clean, 'sub', 'b.md'), Buffer.from('b'), WRITE);
  await files.delete(clean, true);
  assert.equal(fsSync.existsSync(clean), false);

  for (const hidden of ['plain.txt', '.git/config']) {
    const dir = path.join(ws, 'mixed');
    await fs.mkdir(path.join(dir, path.dirname(hidden)), { recursive: true });
    await files.writeFile(path.join(dir, 'note.md'), Buffer.from('n'), WRITE);
    await fs.writeFile(path.join(dir, hidden), 'not shown in the view');
    await assert.rejects(files.delete(dir, true), (e: Error & { code?: string }) =>
      e.code === 'NoPermissions' && e.message.includes('does not show') && e.message.includes(hidden.split('/')[0]!));
    assert.ok(fsSync.existsSync(path.join(dir, hidden)), `${hidden} survives`);
    assert.ok(fsSync.existsSync(path.join(dir, 'note.md.enc')), 'nothing was removed');
    await fs.rm(dir, { recursive: true });
  }
});

/** Collects watcher events until `ms` of quiet. */
function collector() {
  const events: FileChange[] = [];
  const watchers = new EncWatchers(e => events.push(...e));
  const settle = (ms = 400) => new Promise(r => setTimeout(r, ms));
  return { events, watchers, settle };
}

test("a note's watcher reports its .enc file, never a plaintext file of the same name", async () => {
  const { ws, files } = await setup();
  const note = path.join(ws, 'plan.md');
  await files.writeFile(note, Buffer.from('v1'), WRITE);
  await fs.writeFile(note, 'a plaintext plan.md beside plan.md.enc');
  const { events, watchers, settle } = collector();
  try {
    watchers.watch(1, note, false);
    await fs.appendFile(note, ' changed');
    await settle();
    assert.equal(events.length, 0, 'the plaintext file is not watched');
    await fs.appendFile(note + '.enc', 'x'); // someone else changes the encrypted file
    await settle();
    assert.deepEqual(events.map(e => e.path), [note]);
  } finally {
    watchers.dispose();
  }
});

test("the watchers skip the worker's own writes and report another writer's", async () => {
  const { keyring, ws } = await setup();
  const { events, watchers, settle } = collector();
  const files = new EncFileSystem(vaultOf(keyring), watchers);
  const note = path.join(ws, 'n.md');
  await files.writeFile(note, Buffer.from('v1'), WRITE);
  try {
    watchers.watch(1, ws, false);
    await files.writeFile(note, Buffer.from('v2'), WRITE);
    await settle();
    assert.deepEqual(events.map(e => [e.type, e.path]), [], 'our own save is not reported back');
    const other = new EncFileSystem(vaultOf(keyring)); // another window or the CLI
    await other.writeFile(note, Buffer.from('v3'), WRITE);
    await settle();
    assert.deepEqual(events.map(e => e.path), [note], "the other writer's save is reported");
  } finally {
    watchers.dispose();
  }
});

/** The keyring, except that handing out a new file's keys first runs `before` (a writer racing in). */
function keyringThatFirst(keyring: Keyring, before: () => Promise<void>): Keyring {
  return new Proxy(keyring, {
    get(target, prop) {
      if (prop === 'newFileStanzas') return async (...a: Parameters<Keyring['newFileStanzas']>) => { await before(); return target.newFileStanzas(...a); };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

test('a save does not overwrite a writer that lands while it encrypts: the version on disk is kept, no temp file is left', async () => {
  const { keyring, ws, files } = await setup();
  const note = path.join(ws, 'race.md');
  await files.writeFile(note, Buffer.from('base'), WRITE);
  const theirs = await fs.readFile(note + '.enc'); // any authentic version of the note stands in for "theirs"
  await files.writeFile(note, Buffer.from('base, seen by the editor'), WRITE);
  // Another window (or git) writes the file after this save looked at it and before it renames.
  const racing = new EncFileSystem(vaultOf(keyringThatFirst(keyring, () => fs.writeFile(note + '.enc', theirs))));
  await assert.rejects(racing.writeFile(note, Buffer.from('mine'), WRITE), (e: Error & { code?: string }) =>
    e.code === 'CHANGED_ON_DISK' && /changed on disk while NoteSeal was saving it/.test(e.message) && /still unsaved/.test(e.message));
  assert.equal((await files.readFile(note)).toString(), 'base', 'their version is intact');
  assert.deepEqual((await fs.readdir(ws)).filter(n => n !== 'race.md.enc'), [], 'no temp sibling is left');
  // A new note that someone else creates meanwhile is not replaced either.
  const fresh = path.join(ws, 'fresh.md');
  const creating = new EncFileSystem(vaultOf(keyringThatFirst(keyring, () => fs.writeFile(fresh + '.enc', theirs))));
  await assert.rejects(creating.writeFile(fresh, Buffer.from('mine'), WRITE), (e: Error & { code?: string }) => e.code === 'CHANGED_ON_DISK');
  // VS Code stats the file, then sends the write: a writer landing in between is caught too.
  await files.writeFile(note, Buffer.from('base again'), WRITE);
  await files.stat(note);
  await fs.writeFile(note + '.enc', theirs);                 // lands after the stat, before the write starts
  await assert.rejects(files.writeFile(note, Buffer.from('mine'), WRITE), (e: Error & { code?: string }) => e.code === 'CHANGED_ON_DISK');
  assert.equal((await files.readFile(note)).toString(), 'base', 'their version is intact');
  // Without a racing writer the same save goes through.
  await files.writeFile(note, Buffer.from('mine'), WRITE);
  assert.equal((await files.readFile(note)).toString(), 'mine');
});

test('a save VS Code stat\'ed while NoteSeal was still writing its previous save goes through; a change by someone else after it is still caught', async () => {
  const { keyring, ws } = await setup();
  const note = path.join(ws, 'twice.md');
  let gate: Promise<void> | undefined;
  let entered: (() => void) | undefined;
  const files = new EncFileSystem(vaultOf(keyringThatFirst(keyring, async () => { entered?.(); await gate; })));
  await files.writeFile(note, Buffer.from('v1'), WRITE);
  const theirs = await fs.readFile(note + '.enc');
  /** Save `text` slowly: VS Code stats for the next save while it is being written. Returns what that stat saw, and the save. */
  const slowSaveThenStat = async (text: string) => {
    let open!: () => void;
    gate = new Promise(r => { open = r; });
    const inside = new Promise<void>(r => { entered = r; });
    await files.stat(note);
    const saving = files.writeFile(note, Buffer.from(text), WRITE);
    await inside;
    await files.stat(note);                                   // the version before this save's rename
    entered = undefined; open(); gate = undefined;
    await saving;
  };
  await slowSaveThenStat('A');
  await files.writeFile(note, Buffer.from('B'), WRITE);      // its stat came before our own rename of A
  assert.equal((await files.readFile(note)).toString(), 'B');
  // The same, with another writer landing after our save A: B must not replace theirs.
  await slowSaveThenStat('A2');
  await fs.writeFile(note + '.enc', theirs);
  await assert.rejects(files.writeFile(note, Buffer.from('B2'), WRITE), (e: Error & { code?: string }) => e.code === 'CHANGED_ON_DISK');
  assert.equal((await files.readFile(note)).toString(), 'v1', 'their version is intact');
});

test('a recursive watcher keeps reporting a note replaced again and again, and notes in new subfolders (issue 15)', async () => {
  // Node's recursive fs.watch on Linux reports a file replaced by rename only the first time.
  const { ws } = await setup();
  const other = await setup(); // another writer (the CLI, another window): its writes are not ours
  const note = path.join(ws, 'sub', 'plan.md');
  await fs.mkdir(path.dirname(note));
  await other.files.writeFile(note, Buffer.from('v0'), WRITE);
  const { events, watchers, settle } = collector();
  try {
    watchers.watch(1, ws, true);
    await settle(100);
    for (let v = 1; v <= 4; v++) {
      events.length = 0;
      await other.files.writeFile(note, Buffer.from(`v${v}`), WRITE);
      await settle(250);
      assert.deepEqual(events.map(e => e.path), [note], `replacement ${v} is reported`);
    }
    events.length = 0;
    const deeper = path.join(ws, 'new', 'deeper', 'idea.md');
    await fs.mkdir(path.dirname(deeper), { recursive: true });
    await settle(150);
    await other.files.writeFile(deeper, Buffer.from('x'), WRITE);
    await settle(250);
    assert.ok(events.some(e => e.path === deeper), `a note in a new subfolder is reported: ${JSON.stringify(events)}`);
  } finally {
    watchers.dispose();
  }
});

test('a log (noteseal append) reads as its sealed chunks while it is written, is read-only in the view and is never written', async () => {
  const { keyring, ws, files } = await setup();
  const real = path.join(ws, 'server.log.enc');
  const log = await LogAppender.open(real, { unwrap: keyring.unwrap.bind(keyring), newKeys: () => keyring.newFileStanzas(), flushMs: 60_000 });
  try {
    await log.write(Buffer.from('first line\n'));
    await log.flush();
    await log.write(Buffer.from('buffered, not sealed yet\n'));
    const logical = path.join(ws, 'server.log');
    assert.equal((await files.readFile(logical)).toString(), 'first line\n', 'the sealed chunks only; a log being written opens');
    assert.equal((await files.stat(logical)).readonly, true);
    const before = await fs.readFile(real);
    await assert.rejects(files.writeFile(logical, Buffer.from('overwritten\n'), WRITE), (e: Error & { code?: string }) =>
      e.code === 'NoPermissions' && /is a log/.test(e.message));
    assert.ok((await fs.readFile(real)).equals(before), 'the log is untouched');
  } finally {
    await log.close();
  }
  assert.equal((await files.readFile(path.join(ws, 'server.log'))).toString(), 'first line\nbuffered, not sealed yet\n');
  assert.equal((await files.stat(path.join(ws, 'server.log'))).readonly, true, 'a closed log stays read-only');
  await files.writeFile(path.join(ws, 'note.md'), Buffer.from('a note'), WRITE);
  assert.equal((await files.stat(path.join(ws, 'note.md'))).readonly, false, 'an ordinary note is not');
});
