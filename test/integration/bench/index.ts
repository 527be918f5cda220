// Benchmark, run inside a real extension host (not a test: it prints figures). Reads and writes of 1 KiB,
// 1, 8 and 20 MiB notes (NOTESEAL_BENCH_SIZES: bytes, comma-separated) through the noteseal: provider (IPC to the worker, crypto, crash-safe write), and
// open + edit + save through VS Code's text editor end to end, and keystroke latency at 8 MiB, each against
// the same on a plain file through the same host. Writes JSON to NOTESEAL_BENCH_RESULT.
// VS Code's own share of workspace.fs is measured too: `plain-provider:` is a file system provider in this
// extension host that makes exactly the plain crash-safe write (and a plain read), so the same call on it
// pays everything VS Code adds for an extension's scheme (the $ensureActivation round trip to the
// workbench, mkdirp's stat, the write queue) and nothing NoteSeal does.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { NoteSealApi } from '../../../client/src/extension';
import { median, timed } from '../../bench/stats';

const ROUNDS = 5;

function text(bytes: number): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJ.\n';
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
}

/** Open in the text editor, edit, save: what a user waits for. Also how long the save participants took to start. */
async function editorRound(uri: vscode.Uri): Promise<{ open: number; save: number; willSave: number }> {
  let doc!: vscode.TextDocument;
  const open = await timed(async () => { doc = await vscode.workspace.openTextDocument(uri); await vscode.window.showTextDocument(doc, { preview: false }); });
  await vscode.window.activeTextEditor!.edit(e => e.insert(new vscode.Position(0, 0), 'x'));
  let t0 = 0;
  let willSave = NaN;
  const sub = vscode.workspace.onWillSaveTextDocument(e => { if (e.document === doc && Number.isNaN(willSave)) willSave = performance.now() - t0; });
  t0 = performance.now();
  const save = await timed(async () => {
    // save() is false when the leak guard's save-soon got there first: wait until the model is clean.
    if (!(await doc.save())) while (doc.isDirty) await new Promise(r => setTimeout(r, 5));
  });
  sub.dispose();
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  return { open, save, willSave };
}

/**
 * Keystroke latency: the time from an edit applied in the open editor to the document's change event,
 * for edits typed 120 ms apart (so NoteSeal's save-soon runs in between). Median and maximum.
 */
async function typingRound(uri: vscode.Uri, keys = 12): Promise<{ median: number; max: number }> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const lags: number[] = [];
  for (let i = 0; i < keys; i++) {
    const changed = new Promise<number>(resolve => {
      const sub = vscode.workspace.onDidChangeTextDocument(e => { if (e.document === doc && e.contentChanges.length) { sub.dispose(); resolve(performance.now()); } });
    });
    const t0 = performance.now();
    await editor.edit(e => e.insert(new vscode.Position(0, 0), 'k'));
    lags.push((await changed) - t0);
    await new Promise(r => setTimeout(r, 120));
  }
  if (doc.isDirty) await doc.save();
  while (doc.isDirty) await new Promise(r => setTimeout(r, 5));
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  return { median: median(lags), max: Math.max(...lags) };
}

/** A plain crash-safe write: temp file, fsync, rename, fsync of the folder (the steps NoteSeal's writes take). */
async function crashSafeWrite(file: string, body: Uint8Array): Promise<void> {
  const tmp = file + '.tmp';
  const h = await fs.promises.open(tmp, 'w');
  try { await h.writeFile(body); await h.sync(); } finally { await h.close(); }
  await fs.promises.rename(tmp, file);
  const d = await fs.promises.open(path.dirname(file), 'r');
  try { await d.sync(); } finally { await d.close(); }
}

const PLAIN_PROVIDER = 'plain-provider';

/** `plain-provider:/path` is the file at /path, written crash-safely and read plainly: no IPC, no crypto. */
function registerPlainProvider(): vscode.Disposable {
  const changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  const provider: vscode.FileSystemProvider = {
    onDidChangeFile: changes.event,
    watch: () => new vscode.Disposable(() => undefined),
    stat: async uri => {
      const s = await fs.promises.stat(uri.path).catch(() => { throw vscode.FileSystemError.FileNotFound(uri); });
      return { type: s.isDirectory() ? vscode.FileType.Directory : vscode.FileType.File, ctime: s.ctimeMs, mtime: s.mtimeMs, size: s.size };
    },
    readDirectory: async () => [],
    createDirectory: async uri => { await fs.promises.mkdir(uri.path); },
    readFile: uri => fs.promises.readFile(uri.path),
    writeFile: (uri, content) => crashSafeWrite(uri.path, content),
    delete: async uri => { await fs.promises.rm(uri.path); },
    rename: async (from, to) => { await fs.promises.rename(from.path, to.path); },
  };
  return vscode.Disposable.from(changes, vscode.workspace.registerFileSystemProvider(PLAIN_PROVIDER, provider, { isCaseSensitive: true }));
}

export async function run(): Promise<void> {
  const plainProvider = registerPlainProvider();
  const ext = vscode.extensions.getExtension<NoteSealApi>('noteseal.noteseal')!;
  const noteseal = ext.isActive ? ext.exports : await ext.activate();
  const s = await noteseal.vault.state();
  if (!s.initialized) await noteseal.vault.init('benchmark passphrase 12345');
  else if (s.locked) await noteseal.vault.unlock('benchmark passphrase 12345');
  const dir = path.join(process.env.NOTESEAL_TEST_WORKSPACE!, 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const results: Record<string, number>[] = [];
  // Plain text by default: a large Markdown document keeps VS Code's own Markdown language features busy for
  // seconds on every edit, plain file or not (NOTESEAL_BENCH_EXT=md shows it).
  const suffix = process.env.NOTESEAL_BENCH_EXT ?? 'txt';
  const sizes = (process.env.NOTESEAL_BENCH_SIZES ?? '1024,1048576,8388608,20971520').split(',').map(Number);
  for (const size of sizes) {
    const body = text(size);
    const m: Record<string, number[]> = {
      plainWrite: [], plainWriteFsync: [], plainRead: [], encWrite: [], encRead: [], providerWrite: [], providerRead: [],
      plainEditorOpen: [], editorOpen: [], plainEditorSave: [], editorSave: [], plainWillSave: [], willSave: [],
    };
    for (let i = 0; i < ROUNDS; i++) {
      // Each on a fresh file, so none gets a warmer cache. The file system calls run together, before the
      // editor rounds and in a different order each round: right after an editor round VS Code is still
      // busy for tens of ms, and whichever call came next paid for it (it made NoteSeal's 1 KiB write 36 ms
      // instead of 9).
      const p = vscode.Uri.file(path.join(dir, `plain-${size}-${i}.${suffix}`));
      const q = vscode.Uri.from({ scheme: PLAIN_PROVIDER, path: vscode.Uri.file(path.join(dir, `provider-${size}-${i}.${suffix}`)).path });
      const e = vscode.Uri.from({ scheme: 'noteseal', path: vscode.Uri.file(path.join(dir, `enc-${size}-${i}.${suffix}`)).path });
      const fileCalls: (() => Promise<void>)[] = [
        async () => {
          m.plainWrite.push(await timed(() => vscode.workspace.fs.writeFile(p, body)));
          m.plainRead.push(await timed(() => vscode.workspace.fs.readFile(p)));
          // What a crash-safe plain write costs (temp file, fsync, rename, fsync of the folder), as NoteSeal's writes do.
          m.plainWriteFsync.push(await timed(() => crashSafeWrite(p.fsPath, body)));
        },
        async () => {
          // The same write and a read through workspace.fs on an extension's provider: VS Code's share included.
          m.providerWrite.push(await timed(() => vscode.workspace.fs.writeFile(q, body)));
          m.providerRead.push(await timed(() => vscode.workspace.fs.readFile(q)));
        },
        async () => {
          m.encWrite.push(await timed(() => vscode.workspace.fs.writeFile(e, body)));
          m.encRead.push(await timed(() => vscode.workspace.fs.readFile(e)));
        },
      ];
      for (let k = 0; k < fileCalls.length; k++) await fileCalls[(i + k) % fileCalls.length]!();
      const pr = await editorRound(p);
      m.plainEditorOpen.push(pr.open); m.plainEditorSave.push(pr.save); m.plainWillSave.push(pr.willSave);
      const r = await editorRound(e);
      m.editorOpen.push(r.open); m.editorSave.push(r.save); m.willSave.push(r.willSave);
      await new Promise(resolve => setTimeout(resolve, 300)); // let the closed editors settle before the next round
    }
    const row: Record<string, number> = { sizeMiB: size / (1 << 20), ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)])) };
    if (size === 8 << 20) {
      const plainTyping = await typingRound(vscode.Uri.file(path.join(dir, `plain-${size}-0.${suffix}`)));
      const encTyping = await typingRound(vscode.Uri.from({ scheme: 'noteseal', path: vscode.Uri.file(path.join(dir, `enc-${size}-0.${suffix}`)).path }));
      Object.assign(row, { plainTypingMedian: plainTyping.median, plainTypingMax: plainTyping.max, typingMedian: encTyping.median, typingMax: encTyping.max });
    }
    results.push(row);
  }
  fs.writeFileSync(process.env.NOTESEAL_BENCH_RESULT!, JSON.stringify(results, null, 1));
  plainProvider.dispose();
  await noteseal.vault.lock();
}
