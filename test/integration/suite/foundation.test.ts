// The foundation, inside a real extension host: activation, the typed worker request over IPC,
// restart after the worker is killed, and the commands.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WorkerStatus } from '../../../server/src/protocol';
import { api, EXTENSION_ID, waitFor } from './helpers';

describe('foundation', () => {
  it('activates and reports its version', async () => {
    const noteseal = await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.isActive, true);
    const status = await noteseal.workerStatus();
    assert.equal(status.version, ext.packageJSON.version);
  });

  it('answers a typed request from the worker, a separate process over IPC', async () => {
    const status = await (await api()).workerStatus();
    assert.equal(typeof status.pid, 'number');
    assert.notEqual(status.pid, process.pid, 'the worker is not the extension host');
    assert.equal(typeof status.locked, 'boolean');
    assert.ok(status.uptimeSeconds >= 0 && status.uptimeSeconds < 3600);
    assert.match(status.node, /^v\d+\./);
  });

  it('restarts the worker after it is killed', async () => {
    const noteseal = await api();
    const before = await noteseal.workerStatus();
    const restarted = waitFor(noteseal.onDidRestartWorker, 20_000, 'the worker to restart');
    process.kill(before.pid, 'SIGKILL');
    await restarted;
    const after: WorkerStatus = await noteseal.workerStatus();
    assert.notEqual(after.pid, before.pid, 'a new worker process answers');
    assert.throws(() => process.kill(before.pid, 0), /ESRCH/, 'the old worker is gone');
  });

  it('runs its commands: Show Worker Status returns the status, Restart Worker starts a new process', async () => {
    const noteseal = await api();
    const shown = await vscode.commands.executeCommand<WorkerStatus>('noteseal.showWorkerStatus');
    assert.equal(shown.pid, (await noteseal.workerStatus()).pid);
    await vscode.commands.executeCommand('noteseal.restartWorker');
    const after = await noteseal.workerStatus();
    assert.notEqual(after.pid, shown.pid);
  });

  it('contributes every command it registers, under the NoteSeal category', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    // VS Code itself registers <viewId>.focus, .open, … for each contributed view (once it has seen the view).
    const viewIds = Object.values(pkg.contributes.views ?? {}).flat().map(v => (v as { id: string }).id);
    const ownedByVsCode = (c: string) => viewIds.some(id => c.startsWith(`${id}.`));
    const registered = (await vscode.commands.getCommands(true)).filter(c => c.startsWith('noteseal.') && !ownedByVsCode(c));
    const contributed = (pkg.contributes.commands as { command: string; category: string }[]);
    assert.deepEqual([...registered].sort(), contributed.map(c => c.command).sort());
    for (const c of contributed) assert.equal(c.category, 'NoteSeal');
  });
});
