// Extension entry point: only wiring. Each feature folder registers itself (its register…(context, deps) in
// its index.ts) and hands back what later ones need; everything heavy happens in the worker (server/src/).
// Read it as a table of contents: shared/ → agent/ → vault/ → leak/ → editor/ → recording/ → search/ → git/ → sharing/.
import * as vscode from 'vscode';
import { askBeforeServing, registerAgent } from './agent/index';
import { registerEditor } from './editor/index';
import { registerGit } from './git/index';
import { registerLeakDefence } from './leak/index';
import { registerRecording } from './recording/index';
import { registerSearch } from './search/index';
import { registerShared } from './shared/index';
import { setTranslator } from './shared/l10n';
import type { WorkerClient } from './shared/workerClient';
import { registerSharing } from './sharing/index';
import { testApiFor, type NoteSealApi } from './testApi';
import { offerFirstRun } from './vault/firstRun';
import { registerVault } from './vault/index';

export type { NoteSealApi } from './testApi';

let worker: WorkerClient | undefined;
/** Runs first in deactivate(), while the worker is still alive. */
let beforeWorkerStops: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<NoteSealApi | undefined> {
  setTranslator((message, ...args) => vscode.l10n.t(message, ...args));
  const core = registerShared(context, { agentAskBeforeServing: askBeforeServing() });
  worker = core.worker;
  const agent = registerAgent(context, core);
  const vault = registerVault(context, core);
  const leak = registerLeakDefence(context, core);
  const editor = registerEditor(context, { ...core, ...leak, vault: vault.vault, autoLock: vault.autoLock });
  beforeWorkerStops = editor.beforeWorkerStops;
  const recording = registerRecording(context, { ...core, vault: vault.vault, autoLock: vault.autoLock });
  const search = registerSearch(context, { ...core, vault: vault.vault });
  registerGit(context, { ...core, vault: vault.vault });
  registerSharing(context, { ...core, vault: vault.vault, noteChanges: editor.fsProvider.onDidChangeFile });

  await core.start();
  await agent.ready();
  await vault.ready();
  await editor.ready();
  // No backup probe at activation: it needs a visible, dirty editor in the user's window (VS Code backed up
  // nothing else in our host), which takes the focus from a note being opened and was not reliably backed
  // up anyway. Every candidate home is swept instead; the first backup swept confirms the real one.
  core.log.info('NoteSeal is ready');
  void offerFirstRun(context, vault.vault.state);
  return testApiFor(context, { core, vault, agent, leak, editor, recording, search, shutDown });
}

/**
 * What the window's end does to NoteSeal, in order: unsaved notes sealed and saves still being written waited for
 * or handed over (beforeWorkerStops), then the worker stopped, which answers once the notes it is writing are
 * written or sealed (issue 22 §2). The integration test of that join runs it too (testApi.ts).
 */
async function shutDown(): Promise<void> {
  await beforeWorkerStops?.().catch(() => undefined);
  await worker?.stop();
}

export async function deactivate(): Promise<void> {
  await shutDown();
  beforeWorkerStops = undefined;
  await worker?.dispose();
  worker = undefined;
}
