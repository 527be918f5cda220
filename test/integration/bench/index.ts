// Benchmark, run inside a real extension host (not a test: it prints figures). Reads and writes of 1 KiB,
// 1, 8 and 20 MiB notes (NOTESEAL_BENCH_SIZES: bytes, comma-separated) through the noteseal: provider (IPC to the worker, crypto, crash-safe write), and
// open + edit + save through VS Code's text editor end to end, and keystroke latency at 8 MiB, each against
// the same on a plain file through the same host. Writes JSON to NOTESEAL_BENCH_RESULT.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { NoteSealApi } from '../../../client/src/extension';

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function text(bytes: number): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJ.\n';
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
}

async function timed(op: () => Thenable<unknown>): Promise<number> {
  const t0 = performance.now();
  await op();
  return performance.now() - t0;
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

export async function run(): Promise<void> {
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
      plainWrite: [], plainWriteFsync: [], plainRead: [], encWrite: [], encRead: [],
      plainEditorOpen: [], editorOpen: [], plainEditorSave: [], editorSave: [], plainWillSave: [], willSave: [],
    };
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, each on a fresh file, so neither side gets a warmer cache.
      const p = vscode.Uri.file(path.join(dir, `plain-${size}-${i}.${suffix}`));
      m.plainWrite.push(await timed(() => vscode.workspace.fs.writeFile(p, body)));
      m.plainRead.push(await timed(() => vscode.workspace.fs.readFile(p)));
      // What a crash-safe plain write costs (temp file, fsync, rename, fsync of the folder), as NoteSeal's writes do.
      m.plainWriteFsync.push(await timed(async () => {
        const tmp = p.fsPath + '.tmp';
        const h = await fs.promises.open(tmp, 'w');
        try { await h.writeFile(body); await h.sync(); } finally { await h.close(); }
        await fs.promises.rename(tmp, p.fsPath);
        const d = await fs.promises.open(dir, 'r');
        try { await d.sync(); } finally { await d.close(); }
      }));
      const pr = await editorRound(p);
      m.plainEditorOpen.push(pr.open); m.plainEditorSave.push(pr.save); m.plainWillSave.push(pr.willSave);
      const e = vscode.Uri.from({ scheme: 'noteseal', path: vscode.Uri.file(path.join(dir, `enc-${size}-${i}.${suffix}`)).path });
      m.encWrite.push(await timed(() => vscode.workspace.fs.writeFile(e, body)));
      m.encRead.push(await timed(() => vscode.workspace.fs.readFile(e)));
      const r = await editorRound(e);
      m.editorOpen.push(r.open); m.editorSave.push(r.save); m.willSave.push(r.willSave);
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
  await noteseal.vault.lock();
}
