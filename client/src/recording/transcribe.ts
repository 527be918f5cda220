// "NoteSeal: Transcribe Recording": the worker decrypts the recording in memory, pipes it to the engine the
// machine-scoped settings choose and seals the transcript into the meeting note; here only the command, the
// progress notification (share done, time left, Cancel) and the messages. No audio or text passes through.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { Method, type TranscribeResult, type TranscriptionSettings } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import type { Logger } from '../shared/logger';
import { decryptedViewOf } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';
import { formatDuration } from './recording';

/**
 * The `noteseal.transcription.*` settings. All four are `machine`-scoped (package.json): VS Code ignores a
 * workspace's values, so a cloned repository can choose neither the program nor its model.
 */
export function transcriptionSettings(): TranscriptionSettings {
  const c = vscode.workspace.getConfiguration('noteseal.transcription');
  return {
    engine: c.get<string>('engine', 'pocketsphinx') || null,
    command: c.get<string>('command', '') || null,
    model: c.get<string>('model', '') || null,
    language: c.get<string>('language', '') || null,
  };
}

/** "42 % · about 1:20 left", from the share done and the time it took so far. */
export function progressMessage(done: number, total: number, elapsedMs: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const pct = `${Math.floor(share * 100)} %`;
  if (share < 0.02 || share >= 1) return pct;
  return `${pct} · ${vscode.l10n.t('about {0} left', formatDuration((elapsedMs / share) * (1 - share) / 1000))}`;
}

/** From the palette: the workspace's recordings, newest first (the open player's first), or any file through Browse. */
async function pickRecording(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.wav.enc', '**/node_modules/**', 500);
  const dated = await Promise.all(found.map(async uri => ({ uri, mtime: (await vscode.workspace.fs.stat(uri).then(s => s.mtime, () => 0)) })));
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const open = input instanceof vscode.TabInputCustom && /\.wav\.enc$/i.test(input.uri.path) ? input.uri.toString() : undefined;
  dated.sort((a, b) => Number(b.uri.toString() === open) - Number(a.uri.toString() === open) || b.mtime - a.mtime);
  const browse = vscode.l10n.t('Browse…');
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = [
    ...dated.map(({ uri }) => ({ label: uri.path.split('/').pop()!, description: vscode.workspace.asRelativePath(uri.with({ path: uri.path.replace(/\/[^/]*$/, '') })), uri })),
    { label: browse },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Transcribe Recording'), placeHolder: vscode.l10n.t('The recording to transcribe') });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  return (await vscode.window.showOpenDialog({ filters: { [vscode.l10n.t('NoteSeal recordings')]: ['enc'] }, title: vscode.l10n.t('Transcribe Recording') }))?.[0];
}

export class TranscriptionController {
  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController, private readonly log: Logger) {}

  /** Transcribes without dialogs (the command's last step, and the test API); the note is not opened. */
  async transcribe(recording: vscode.Uri, onProgress?: (message: string, share: number) => void, cancel?: vscode.CancellationToken, notePath?: string): Promise<TranscribeResult> {
    const token = randomUUID();
    const started = Date.now();
    const sub = this.worker.onNotification(Method.progress, p => {
      if (p.token === token) onProgress?.(progressMessage(p.done, p.total, Date.now() - started), p.total ? p.done / p.total : 0);
    });
    const onCancel = cancel?.onCancellationRequested(() => { void this.worker.request(Method.transcriptionCancel, { token }).catch(() => undefined); });
    try {
      return await this.worker.request(Method.transcriptionStart, { token, path: recording.fsPath, settings: transcriptionSettings(), ...(notePath ? { notePath } : {}) });
    } finally {
      sub.dispose();
      onCancel?.dispose();
    }
  }

  /** The command: the progress notification, then the note opened. `notePath`: the meeting note (default beside the recording). */
  async transcribeCommand(uri?: vscode.Uri, notePath?: string): Promise<TranscribeResult | undefined> {
    uri ??= await pickRecording();
    if (!uri) return undefined;
    if (!(await this.vault.ensureUnlocked(vscode.l10n.t('Transcribing needs the key: the recording is decrypted in memory.')))) return undefined;
    const name = uri.path.split('/').pop()!;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('NoteSeal: transcribing {0}', name), cancellable: true },
        async (progress, cancel) => {
          let last = 0;
          return this.transcribe(uri!, (message, share) => {
            progress.report({ increment: Math.max(0, share * 100 - last), message });
            last = Math.max(last, share * 100);
          }, cancel, notePath);
        });
      this.log.info(`transcribed a recording: ${result.segments} segment(s), ${Math.round(result.durationSeconds)} s of audio, ${result.engine}`);
      await vscode.window.showTextDocument(decryptedViewOf(vscode.Uri.file(result.notePath)), { preview: false });
      return result;
    } catch (e) {
      if (isWorkerError(e, 'CANCELLED')) { void vscode.window.showInformationMessage(vscode.l10n.t('Transcription cancelled; the note was not changed.')); return undefined; }
      if (isWorkerError(e, 'ENGINE_MISSING')) {
        const openSettings = vscode.l10n.t('Open Settings');
        const pick = await vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal cannot transcribe yet: {0}', (e as Error).message), openSettings);
        if (pick === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', 'noteseal.transcription');
        return undefined;
      }
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not transcribe {0}: {1}', name, (e as Error).message));
      return undefined;
    }
  }
}

/**
 * `noteseal.transcription.afterRecording` (machine scope, like the engine settings): a recording that stopped
 * is transcribed into the meeting note it just wrote. Read when the recording stops, so a change applies to
 * the next one.
 */
export function transcribeAfterRecording(t: TranscriptionController, stopped: { path: string; durationSeconds: number; notePath?: string }): void {
  if (!vscode.workspace.getConfiguration('noteseal.transcription').get<boolean>('afterRecording', false)) return;
  if (!(stopped.durationSeconds > 0)) return;
  void t.transcribeCommand(vscode.Uri.file(stopped.path), stopped.notePath);
}

export function registerTranscription(deps: { worker: WorkerClient; vault: VaultController; log: Logger; command: (id: string, fn: (...args: never[]) => unknown) => void }): TranscriptionController {
  const t = new TranscriptionController(deps.worker, deps.vault, deps.log);
  // Only a Uri is taken from the arguments (Explorer's context menu passes the file).
  deps.command(Commands.transcribeRecording, (uri?: unknown) => t.transcribeCommand(uri instanceof vscode.Uri ? uri : undefined));
  return t;
}
