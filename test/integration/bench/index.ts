// Benchmark, run inside a real extension host (not a test: it prints figures). Reads and writes of 1 MiB
// and 20 MiB notes through the noteseal: provider (IPC to the worker, crypto, crash-safe write), and
// open + save through VS Code's text editor end to end, against plain file reads and writes through the
// same host's file service. Writes JSON to NOTESEAL_BENCH_RESULT.
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

/** Open in the text editor, edit, save: what a user waits for. */
async function editorRound(uri: vscode.Uri): Promise<{ open: number; save: number }> {
  let doc!: vscode.TextDocument;
  const open = await timed(async () => { doc = await vscode.workspace.openTextDocument(uri); await vscode.window.showTextDocument(doc, { preview: false }); });
  await vscode.window.activeTextEditor!.edit(e => e.insert(new vscode.Position(0, 0), 'x'));
  const save = await timed(async () => {
    // save() is false when the leak guard's save-soon got there first: wait until the model is clean.
    if (!(await doc.save())) while (doc.isDirty) await new Promise(r => setTimeout(r, 5));
  });
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  return { open, save };
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
  for (const size of [1 << 20, 20 << 20]) {
    const body = text(size);
    const m: Record<string, number[]> = { plainWrite: [], plainWriteFsync: [], plainRead: [], encWrite: [], encRead: [], plainEditorOpen: [], editorOpen: [], editorSave: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, each on a fresh file, so neither side gets a warmer cache.
      const p = vscode.Uri.file(path.join(dir, `plain-${size}-${i}.md`));
      m.plainWrite.push(await timed(() => vscode.workspace.fs.writeFile(p, body)));
      m.plainRead.push(await timed(() => vscode.workspace.fs.readFile(p)));
      // What a crash-safe plain write costs (temp file, fsync, rename), as NoteSeal's writes do.
      m.plainWriteFsync.push(await timed(async () => {
        const tmp = p.fsPath + '.tmp';
        const h = await fs.promises.open(tmp, 'w');
        try { await h.writeFile(body); await h.sync(); } finally { await h.close(); }
        await fs.promises.rename(tmp, p.fsPath);
      }));
      m.plainEditorOpen.push(await timed(async () => { await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(p), { preview: false }); }));
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      const e = vscode.Uri.from({ scheme: 'noteseal', path: vscode.Uri.file(path.join(dir, `enc-${size}-${i}.md`)).path });
      m.encWrite.push(await timed(() => vscode.workspace.fs.writeFile(e, body)));
      m.encRead.push(await timed(() => vscode.workspace.fs.readFile(e)));
      const r = await editorRound(e);
      m.editorOpen.push(r.open); m.editorSave.push(r.save);
    }
    results.push({ sizeMiB: size / (1 << 20), ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)])) });
  }
  fs.writeFileSync(process.env.NOTESEAL_BENCH_RESULT!, JSON.stringify(results, null, 1));
  await noteseal.vault.lock();
}
