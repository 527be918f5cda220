// Meeting recording, as the user sees it: Start / Stop / Pause / Resume from the palette, a red status-bar
// item with the elapsed time and a live level meter (click to stop), a meeting note beside each recording,
// microphone choice, export and shred, and recovery of recordings a crash left unfinished. Capture and
// encryption happen in the worker; nothing here touches audio bytes except the player's reads.
import fs from 'node:fs';
import * as vscode from 'vscode';
import { Method, type RecordingInfo, type RecordingSummary } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import type { Logger } from '../shared/logger';
import { type FolderChoice, isInside, recordingFolder } from '../shared/settingRules';
import { logicalFsPath, NOTESEAL_SCHEME } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import { showRecordingContext } from '../shared/contextKeys';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';

const METER = '▁▂▃▄▅▆▇█';

function settings() {
  const c = vscode.workspace.getConfiguration('noteseal.recording');
  return { device: c.get<string>('device', '') || null, captureCommand: c.get<string>('captureCommand', '') || null };
}

/**
 * Where recordings go (settingRules.ts: a workspace's own value stays inside the workspace). The folder
 * is also resolved through symlinks when it exists, so a link planted in the repository cannot lead out.
 */
export function recordingFolderChoice(): FolderChoice {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  const localRoot = root?.scheme === 'file' ? root.fsPath : undefined;
  const inspected = vscode.workspace.getConfiguration('noteseal.recording', root).inspect('folder');
  const choice = recordingFolder(inspected, localRoot);
  if (!('folder' in choice) || !localRoot || !(inspected?.workspaceFolderValue ?? inspected?.workspaceValue)) return choice;
  const real = (p: string) => { try { return fs.realpathSync(p); } catch { return undefined; } };
  const realFolder = real(choice.folder), realRoot = real(localRoot);
  if (realFolder && realRoot && !isInside(realRoot, realFolder)) {
    return { problem: `This workspace's noteseal.recording.folder leads outside the workspace through a link (${realFolder}). NoteSeal ignores it: set the folder in your user settings.` };
  }
  return choice;
}

/** A capture error without the tool's raw output ("parec said: pa_context_connect() failed …"), which the log keeps. */
export function withoutToolOutput(message: string): string {
  return message.replace(/\s(?:[\w.+-]+|It) said: [\s\S]*$/, '').trim();
}

export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return `${hh ? hh + ':' : ''}${String(mm).padStart(hh ? 2 : 1, '0')}:${String(ss).padStart(2, '0')}`;
}

/** RMS (0..1) → one meter glyph over a -60..0 dBFS scale. */
export function meterGlyph(rms: number): string {
  const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
  const level = Math.max(0, Math.min(1, (db + 60) / 60));
  return METER[Math.min(METER.length - 1, Math.floor(level * METER.length))];
}

/** `base`, or `base (n)` for the first n from 2 up, such that no `<that>.md.enc` exists yet. */
async function freeNoteBase(base: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? base : `${base} (${n})`;
    const taken = await vscode.workspace.fs.stat(vscode.Uri.file(`${candidate}.md.enc`)).then(() => true, () => false);
    if (!taken) return candidate;
  }
  throw new Error('every meeting note name for this recording is taken');
}

export class RecordingController implements vscode.Disposable {
  private active: (RecordingInfo & { title: string; paused: boolean; seconds: number; meter: string }) | null = null;
  private readonly item = vscode.window.createStatusBarItem('noteseal.recording', vscode.StatusBarAlignment.Left, 99);
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly stoppedEmitter = new vscode.EventEmitter<RecordingSummary & { notePath?: string }>();
  /** Fires when a recording ended (stopped, or ended by itself), after its meeting note exists (`notePath`, the sealed file). */
  readonly onDidStop = this.stoppedEmitter.event;
  private lastPaint = 0;
  private stopping: Promise<RecordingSummary | undefined> | undefined;

  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController, private readonly log: Logger) {
    this.item.name = 'NoteSeal Recording';
    this.item.command = Commands.stopRecording;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    this.subscriptions.push(
      worker.onNotification(Method.recordingLevel, e => {
        if (!this.active || e.id !== this.active.id) return;
        this.active.seconds = e.seconds; this.active.paused = e.paused;
        this.active.meter = (this.active.meter + meterGlyph(e.rms)).slice(-5);
        if (Date.now() - this.lastPaint > 200) this.paint();
      }),
      worker.onNotification(Method.recordingWarning, e => { void vscode.window.showWarningMessage(`NoteSeal recording: ${e.message}`); }),
      worker.onNotification(Method.recordingStopped, e => { if (this.active?.id === e.id && !this.stopping) void this.finish(e.summary); }),
      worker.onDidRestart(() => { if (this.active) void this.lostWorker(); }),
      vault.onDidChange(s => { if (!s.locked) void this.offerRecovery(); }),
    );
    showRecordingContext(false, false);
  }

  get isRecording(): boolean { return this.active !== null; }

  private folderUri(): vscode.Uri | undefined {
    const choice = recordingFolderChoice();
    return 'folder' in choice ? vscode.Uri.file(choice.folder) : undefined;
  }

  private paint(): void {
    this.lastPaint = Date.now();
    showRecordingContext(this.active !== null, this.active?.paused ?? false);
    if (!this.active) { this.item.hide(); return; }
    const a = this.active;
    this.item.text = `${a.paused ? '$(debug-pause)' : '$(record)'} ${formatDuration(a.seconds)} ${a.meter.padEnd(5, METER[0])}`;
    this.item.tooltip = `NoteSeal is recording "${a.title}"${a.paused ? ' (paused)' : ''}, encrypted as it is captured, from ${a.device ?? 'the default microphone'} (${a.tool}). Click to stop.`;
    this.item.show();
  }

  /** `offerFixes`: a capture failure is shown with its fixes (the command); otherwise it is thrown (the test API). */
  async start(args?: { title?: string }, { offerFixes = false }: { offerFixes?: boolean } = {}): Promise<RecordingInfo | undefined> {
    if (this.active) { void vscode.window.showInformationMessage(`A recording is already running ("${this.active.title}"). Stop it first.`); return undefined; }
    const choice = recordingFolderChoice();
    if (!('folder' in choice)) { void vscode.window.showErrorMessage(`NoteSeal: ${choice.problem}`); return undefined; }
    const folder = vscode.Uri.file(choice.folder);
    const title = args?.title ?? await vscode.window.showInputBox({ title: 'Start Recording', prompt: 'Meeting title (optional)', placeHolder: 'Weekly sync' });
    if (title === undefined) return undefined;
    if (!(await this.vault.ensureUnlocked('Recording needs the key: audio is encrypted as it is captured.'))) return undefined;
    const s = settings();
    let info: RecordingInfo;
    try {
      info = await this.worker.request(Method.recordingStart, { folder: folder.fsPath, title: title.trim() || 'Meeting', device: s.device, captureCommand: s.captureCommand });
    } catch (e) {
      if (!offerFixes || !isWorkerError(e, 'CAPTURE_FAILED')) throw e;
      void this.offerFixes(e.message);
      return undefined;
    }
    this.active = { ...info, title: title.trim() || 'Meeting', paused: false, seconds: 0, meter: '' };
    this.log.info(`recording started with ${info.tool}`);
    this.paint();
    return info;
  }

  /** Stops, then writes the meeting note and opens it. Returns the summary (undefined if nothing was recording). */
  async stop(): Promise<RecordingSummary | undefined> {
    if (!this.active) { void vscode.window.showInformationMessage('No recording is running.'); return undefined; }
    const { id } = this.active;
    this.stopping ??= (async () => {
      try { return await this.finish(await this.worker.request(Method.recordingStop, { id })); } finally { this.stopping = undefined; }
    })();
    return this.stopping;
  }

  /**
   * A recording that did not start: the reason in plain words (the capture tool's own output goes to the
   * log), and the three things that fix it: another microphone, the settings, the log.
   */
  private async offerFixes(message: string): Promise<void> {
    this.log.warn(`the recording did not start: ${message}`);
    const selectMicrophone = vscode.l10n.t('Select Microphone'), openSettings = vscode.l10n.t('Open Settings'), showLog = vscode.l10n.t('Show Log');
    const pick = await vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not start recording: {0}', withoutToolOutput(message)), selectMicrophone, openSettings, showLog);
    if (pick === selectMicrophone) await vscode.commands.executeCommand(Commands.selectMicrophone);
    else if (pick === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', 'noteseal.recording');
    else if (pick === showLog) await vscode.commands.executeCommand(Commands.showLog);
  }

  async pause(): Promise<void> {
    if (!this.active || this.active.paused) return;
    await this.worker.request(Method.recordingPause, { id: this.active.id });
    this.active.paused = true; this.paint();
  }

  async resume(): Promise<void> {
    if (!this.active || !this.active.paused) return;
    await this.worker.request(Method.recordingResume, { id: this.active.id });
    this.active.paused = false; this.paint();
  }

  private async finish(summary: RecordingSummary): Promise<RecordingSummary> {
    const title = this.active?.title ?? 'Meeting';
    this.active = null;
    this.paint();
    if (summary.endedBy === 'failed') {
      void vscode.window.showWarningMessage(`The recording stopped by itself: ${summary.error ?? 'the capture tool ended'}. The audio until then is saved.`);
    }
    let notePath: string | undefined;
    try {
      const note = await this.writeMeetingNote(summary, title);
      notePath = `${logicalFsPath(note)}.enc`;
      await vscode.window.showTextDocument(note, { preview: false });
    } catch (e) {
      void vscode.window.showErrorMessage(`The recording is saved, but its meeting note could not be created: ${(e as Error).message}`);
    }
    this.stoppedEmitter.fire({ ...summary, ...(notePath ? { notePath } : {}) });
    return summary;
  }

  /**
   * An encrypted Markdown note beside the recording: title, times, duration, device, a link. Never over an
   * existing note: "<name>.md.enc", else "<name> (2).md.enc", and so on.
   */
  private async writeMeetingNote(s: RecordingSummary, title: string): Promise<vscode.Uri> {
    const recording = vscode.Uri.file(s.path);
    const base = await freeNoteBase(s.path.replace(/\.wav\.enc$/, ''));
    const note = vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: vscode.Uri.file(`${base}.md`).path });
    const name = recording.path.split('/').pop()!;
    const when = (iso: string) => new Date(iso).toLocaleString();
    const text = [
      `# ${title}`, '',
      `- **Start:** ${when(s.startedAt)}`,
      `- **End:** ${when(s.endedAt)}`,
      `- **Duration:** ${formatDuration(s.durationSeconds)}`,
      `- **Device:** ${s.device ?? 'default microphone'}, via ${s.tool}`,
      `- **Recording:** [${name}](./${encodeURIComponent(name)}) (encrypted; open it in VS Code to play)`,
      '', '## Notes', '', '',
    ].join('\n');
    await vscode.workspace.fs.writeFile(note, Buffer.from(text));
    return note;
  }

  /** The worker died mid-recording: its file is unfinished; recovery runs once the key is back. */
  private async lostWorker(): Promise<void> {
    this.active = null;
    this.paint();
    void vscode.window.showWarningMessage('The NoteSeal worker stopped during a recording. Unlock NoteSeal to recover what was captured.');
  }

  private recovering: Promise<{ path: string; durationSeconds: number }[]> | undefined;
  private offering = false;

  /**
   * After unlock: asks before sealing recordings a crash left unfinished. The worker lists only files no
   * window is recording (their lock is free); recovery itself takes the lock, so a live file is never touched.
   */
  private async offerRecovery(): Promise<void> {
    const folder = this.folderUri();
    if (!folder || this.offering) return;
    this.offering = true;
    try {
      const found = await this.worker.request(Method.recordingFindUnfinished, { folder: folder.fsPath }).catch(() => []);
      if (found.length === 0) return;
      const list = found.map(f => `${vscode.workspace.asRelativePath(f.path)} (${formatDuration(f.recoverableSeconds)})`).join(', ');
      const pick = await vscode.window.showWarningMessage(
        `NoteSeal found ${found.length === 1 ? 'an unfinished recording' : `${found.length} unfinished recordings`} (a crash, or a window closed while recording): ${list}. Recover now?`,
        'Recover', 'Not Now');
      if (pick === 'Recover') await this.recoverUnfinished();
    } finally {
      this.offering = false;
    }
  }

  /** Seals recordings a crash left unfinished (every complete chunk stays authentic), once asked. One run at a time. */
  recoverUnfinished(): Promise<{ path: string; durationSeconds: number }[]> {
    this.recovering ??= this.recoverNow().finally(() => { this.recovering = undefined; });
    return this.recovering;
  }

  private async recoverNow(): Promise<{ path: string; durationSeconds: number }[]> {
    const folder = this.folderUri();
    if (!folder) return [];
    const found = await this.worker.request(Method.recordingFindUnfinished, { folder: folder.fsPath }).catch(() => []);
    const recovered: { path: string; durationSeconds: number }[] = [];
    for (const f of found) {
      try {
        const r = await this.worker.request(Method.recordingRecover, { path: f.path });
        recovered.push({ path: f.path, durationSeconds: r.durationSeconds });
        void vscode.window.showInformationMessage(`NoteSeal recovered an unfinished recording: ${vscode.workspace.asRelativePath(f.path)} (${formatDuration(r.durationSeconds)}).`);
      } catch (e) {
        void vscode.window.showErrorMessage(`NoteSeal could not recover ${vscode.workspace.asRelativePath(f.path)}: ${(e as Error).message}`);
      }
    }
    return recovered;
  }

  async selectMicrophone(): Promise<void> {
    const s = settings();
    const r = await this.worker.request(Method.recordingDevices, { device: s.device, captureCommand: s.captureCommand });
    if (r.error) { void vscode.window.showErrorMessage(r.error); return; }
    if (!r.devices.length) { void vscode.window.showInformationMessage(`${r.tool ?? 'The capture tool'} cannot list devices here; set noteseal.recording.device by hand.`); return; }
    const pick = await vscode.window.showQuickPick([
      { label: 'System default', id: '' },
      ...r.devices.map(d => ({ label: d.label, description: d.id + (d.isDefault ? ' (default)' : ''), id: d.id, picked: d.id === s.device })),
    ], { title: `Select Microphone (${r.tool})` });
    if (!pick) return;
    await vscode.workspace.getConfiguration('noteseal.recording').update('device', pick.id, vscode.ConfigurationTarget.Global);
  }

  /** Export without dialogs (the command's last step). */
  exportTo(encPath: string, outPath: string): Promise<{ durationSeconds: number }> {
    return this.worker.request(Method.recordingExport, { encPath, outPath });
  }

  async exportRecording(uri?: vscode.Uri): Promise<void> {
    uri ??= (await vscode.window.showOpenDialog({ filters: { 'NoteSeal recordings': ['enc'] }, title: 'Export Recording…' }))?.[0];
    if (!uri) return;
    const ok = await vscode.window.showWarningMessage('Export a plaintext WAV?', { modal: true, detail: 'The audio is written to disk unprotected, where you choose. The encrypted recording stays as it is.' }, 'Choose Where…');
    if (ok !== 'Choose Where…') return;
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.enc$/, '')), filters: { WAV: ['wav'] } });
    if (!target) return;
    if (!(await this.vault.ensureUnlocked('Exporting needs the key.'))) return;
    const r = await this.exportTo(uri.fsPath, target.fsPath);
    void vscode.window.showInformationMessage(`Exported ${formatDuration(r.durationSeconds)} of audio to ${vscode.workspace.asRelativePath(target)}.`);
  }

  /**
   * The Shred Recording command. It always asks: no argument can skip the question, because any extension
   * can run a command with any arguments. (The integration tests replace `confirmShred`, as they cannot
   * click a modal.)
   */
  async shredRecording(uri?: vscode.Uri): Promise<boolean> {
    uri ??= (await vscode.window.showOpenDialog({ filters: { 'NoteSeal recordings': ['enc'] }, title: 'Shred Recording' }))?.[0];
    if (!uri) return false;
    if (!(await this.confirmShred(uri))) return false;
    return this.shred(uri);
  }

  confirmShred = async (uri: vscode.Uri): Promise<boolean> => {
    const ok = await vscode.window.showWarningMessage(`Shred ${vscode.workspace.asRelativePath(uri)}?`, {
      modal: true, detail: 'Its key is destroyed, then the file is deleted. Every copy of the recording (backups, synced copies) becomes unreadable for good. This cannot be undone.',
    }, 'Shred');
    return ok === 'Shred';
  };

  /** Shreds without asking (after the confirmation, or from the test API). */
  async shred(uri: vscode.Uri): Promise<boolean> {
    if (!(await this.vault.ensureUnlocked('Shredding needs the key store.'))) return false;
    const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(t => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === uri.toString());
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
    await this.worker.request(Method.recordingShred, { path: uri.fsPath });
    void vscode.window.showInformationMessage(`Shredded ${vscode.workspace.asRelativePath(uri)}: its key is gone.`);
    return true;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
    this.stoppedEmitter.dispose();
  }
}
