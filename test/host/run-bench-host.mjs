// Runs test/integration/bench inside the extension host (same host as the integration tests) and prints
// its table. Used by scripts/bench.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot, runSuiteInHost } from './codeServer.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-'));
const workspace = path.join(tmp, 'workspace');
fs.mkdirSync(workspace);
const resultFile = path.join(tmp, 'result.json');
try {
  await runSuiteInHost({
    testsPath: path.join(projectRoot, 'out/test/integration/bench/index.js'),
    workspace,
    keyfile: path.join(tmp, 'keyfile.json'),
    env: { NOTESEAL_BENCH_RESULT: resultFile },
  });
  const rows = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  const f = n => n.toFixed(1).padStart(8);
  const x = (a, b) => `${(a / b).toFixed(2)}x`.padStart(7);
  console.log('\nNotes through the noteseal: provider vs plain files, in the same VS Code host (median of 5, ms)');
  console.log('size    | write: plain  +fsync  NoteSeal  vs+fsync | read: plain  NoteSeal   ratio | open in editor: plain  NoteSeal   ratio | save');
  for (const r of rows) {
    console.log(`${String(r.sizeMiB).padStart(3)} MiB | ${f(r.plainWrite)} ${f(r.plainWriteFsync)} ${f(r.encWrite)} ${x(r.encWrite, r.plainWriteFsync)} | ${f(r.plainRead)} ${f(r.encRead)} ${x(r.encRead, r.plainRead)} | ${f(r.plainEditorOpen)}       ${f(r.editorOpen)} ${x(r.editorOpen, r.plainEditorOpen)} | ${f(r.editorSave)}`);
  }
  console.log('write/read: workspace.fs on file: vs noteseal: URIs (NoteSeal = IPC to the worker, AES-256-GCM, temp file + fsync + rename);');
  console.log('"+fsync" is a plain crash-safe write. open in editor: openTextDocument + showTextDocument; save: an edited noteseal: note saved.');
} catch (e) {
  console.error('provider benchmark failed:', e.message);
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
