// Extension entry point: wires the output channel, the worker client, the vault, the `noteseal:` file
// system, the status bar and the commands. Everything heavy happens in the worker; this side is VS Code
// UI and forwarding.
import * as vscode from 'vscode';
import { Method, type AgentConsentAnswer, type AgentConsentQuestion, type RecoveryCopy, type RecordingInfo, type RecordingSummary, type SearchFileResult, type SearchQuery, type SearchSummary, type VaultState, type WorkerStatus } from '../../server/src/protocol';
import { absoluteKeyfilePath } from '../../server/src/keys/location';
import { AgentConsent, askBeforeServing } from './agentConsent';
import { AutoLock, autoLockSettings } from './autoLock';
import { Commands } from './commands';
import { EncryptedDecorations } from './decorations';
import { EncFileSystemProvider } from './encFsProvider';
import { EncGuard } from './encGuard';
import { FileCommands } from './fileCommands';
import { registerGitSupport } from './gitSupport';
import { LeakGuard } from './leakGuard';
import { registerLargeNotes } from './largeNotes';
import { Logger } from './logger';
import { NoteRecovery } from './noteRecovery';
import { EncOpenRedirect, REDIRECT_VIEW_TYPE } from './openRedirect';
import { RecordingController, recordingFolderChoice } from './recording';
import { RevisionContentProvider } from './revisionContent';
import { openSearchResult, registerSearch } from './searchView';
import { registerSharing } from './sharing';
import { registerAgeIdentity } from './ageIdentity';
import { LockStatusItem } from './statusBar';
import { TerminalIntegration } from './terminal';
import { NOTESEAL_SCHEME } from './uris';
import { VaultController } from './vault';
import { WorkerClient } from './workerClient';

/**
 * What activate() returns, in ExtensionMode.Test only (the integration tests): it unlocks, exports plaintext
 * and shreds without any dialog, so no other extension may ever get hold of it.
 */
export interface NoteSealApi {
  workerStatus(): Promise<WorkerStatus>;
  onDidRestartWorker: vscode.Event<void>;
  vault: {
    state(): Promise<VaultState>;
    init(passphrase: string): Promise<{ recoveryKey: string }>;
    unlock(passphrase: string, remember?: boolean): Promise<VaultState>;
    lock(): Promise<void>;
    onDidChange: vscode.Event<VaultState>;
    autoLockDeadline(): number | undefined;
  };
  /** The `noteseal` launcher that this window's terminals find first on their PATH. */
  cliLauncher(): string;
  /** Hot-exit backups of encrypted notes destroyed so far (should stay 0 when saves succeed). */
  sweptBackups(): number;
  /** Where VS Code may write hot-exit backups here (the sweeper watches each), the confirmed one first. */
  backupHomes(): string[];
  /** The result of the backup probe run at activation: the home VS Code was seen writing to, if any. */
  calibrateBackups(): Promise<string | undefined>;
  /** Destroys every backup of a note that exists now. */
  sweepNow(): Promise<void>;
  /** Sealed recovery copies of notes that could not be saved. */
  recovery: { pending(): Promise<RecoveryCopy[]>; restore(notePath: string): Promise<number> };
  /** The recording commands without their dialogs; errors are thrown, not shown. */
  recording: {
    start(title: string): Promise<RecordingInfo | undefined>;
    stop(): Promise<RecordingSummary | undefined>;
    shred(encPath: string): Promise<boolean>;
    exportTo(encPath: string, outPath: string): Promise<{ durationSeconds: number }>;
    recoverUnfinished(): Promise<{ path: string; durationSeconds: number }[]>;
    isRecording(): boolean;
    /** Replaces the Shred Recording command's modal question (tests cannot click it). */
    setShredConfirmation(confirm: (uri: vscode.Uri) => Promise<boolean>): void;
  };
  /** Replaces the agent's "Allow ... to decrypt ...?" modal (noteseal.agent.askBeforeServing). */
  setAgentConsent(ask: (question: AgentConsentQuestion) => Promise<AgentConsentAnswer>): void;
  /** The settings as NoteSeal applies them (user values for auto-lock, a confined recording folder). */
  effectiveSettings(): { idleMinutes: number; onSleep: boolean; recordingFolder: string | { problem: string } };
  /** This extension's log folder (the tests search the host's logs for secrets). */
  logUri: vscode.Uri;
  /** `<user data>/User/globalStorage/<id>`: the tests find the user settings file from it. */
  globalStorageUri: vscode.Uri;
  /** Search (issue 16): the view's search over the workspace folders, and opening a result as a click does. */
  search: {
    run(query: SearchQuery): Promise<{ summary: SearchSummary; files: SearchFileResult[] }>;
    open(path: string, line: number, start: number, end: number): Promise<vscode.TextEditor>;
  };
}

let worker: WorkerClient | undefined;
/** Runs first in deactivate(), while the worker is still alive. */
let beforeWorkerStops: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<NoteSealApi | undefined> {
  const log = new Logger();
  context.subscriptions.push(log);
  log.info(`activating NoteSeal ${context.extension.packageJSON.version} (VS Code ${vscode.version}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);

  const status = new LockStatusItem();
  context.subscriptions.push(status);

  const keyfile = keyfileSetting();
  // Weak test KDF only in a test or development host, never for an installed extension (issue 10).
  const testFastKdf = context.extensionMode !== vscode.ExtensionMode.Production && process.env.NOTESEAL_TEST_FAST_KDF === '1';
  const agent = vscode.workspace.getConfiguration('noteseal').get<boolean>('agent.enabled', true);
  worker = new WorkerClient(context, log, { keyfile, testFastKdf, agent, agentAskBeforeServing: askBeforeServing() });
  const agentConsent = new AgentConsent(worker);
  context.subscriptions.push(agentConsent);
  const terminal = new TerminalIntegration(context, log);
  terminal.activate(keyfile);
  const vault = new VaultController(worker, context.secrets, log);
  const autoLock = new AutoLock(reason => vault.lock(reason).then(() => vault.state.locked));
  const fsProvider = new EncFileSystemProvider(worker, vault);
  fsProvider.onActivity = () => autoLock.activity();
  const guard = new EncGuard(context, log);
  const files = new FileCommands(worker, vault, guard);
  const leakGuard = new LeakGuard(context, log);
  const recovery = new NoteRecovery(worker, fsProvider, log);
  leakGuard.onSaveFailed = async doc => { await recovery.seal(doc); };
  fsProvider.onChangedWhileSaving = uri => leakGuard.savedOverByAnotherWriter(uri);
  vault.closeDecrypted = trySave => recovery.closeDecrypted(trySave);
  // A restarted worker holds no key: nothing decrypted may stay on screen (unsaved text is sealed first).
  const closeAfterRestart = async () => {
    const { sealed, keptOpen } = await recovery.closeDecrypted(false);
    if (sealed.length || keptOpen.length) {
      void vscode.window.showWarningMessage(`NoteSeal's worker restarted and is locked. ${sealed.length} unsaved note(s) were sealed into recovery copies, offered back when you unlock.${keptOpen.length ? ` ${keptOpen.length} could not be sealed and stay open.` : ''}`);
    }
  };
  // VS Code restores hot-exit backups into editors before NoteSeal activates (a backup the last window could
  // not destroy). Locked, such a note is plaintext on screen that cannot be saved: seal it and close it now.
  const sealRestoredBackups = async (docs: readonly vscode.TextDocument[] = vscode.workspace.textDocuments) => {
    const restored = docs.filter(d => d.uri.scheme === NOTESEAL_SCHEME && d.isDirty);
    if (!restored.length) return;
    await leakGuard.sweepNow();
    if (!vault.state.locked) return; // unlocked (a remembered key): save-soon saves them encrypted
    const { sealed, keptOpen } = await recovery.closeDecrypted(false);
    void vscode.window.showWarningMessage(`NoteSeal found ${restored.length} note(s) with unsaved text restored by VS Code while locked. ${sealed.length} were sealed into encrypted recovery copies, offered back when you unlock.${keptOpen.length ? ` ${keptOpen.length} could not be sealed and stay open.` : ''}`);
  };
  const recording = new RecordingController(worker, vault, log);
  autoLock.busy = () => recording.isRecording;
  vault.beforeLock = async reason => {
    if (!recording.isRecording) return true;
    if (reason === 'user') {
      const ok = await vscode.window.showWarningMessage('A recording is running. Stop it and lock?', { modal: true, detail: 'Locking wipes the keys, so the recording has to end. What was captured is kept.' }, 'Stop Recording and Lock');
      if (ok !== 'Stop Recording and Lock') return false;
    }
    await recording.stop();
    return true;
  };
  const search = registerSearch(context, worker, vault, log);
  const showState = () => status.show(vault.state, autoLock.deadline());
  let started = false;
  beforeWorkerStops = async () => {
    // Reload Window / quit with a note that could not be saved: seal its text (the new window offers it back on
    // unlock), then destroy the plaintext backup VS Code has just written for the next window to restore.
    for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === NOTESEAL_SCHEME && doc.isDirty) await recovery.seal(doc);
    const n = leakGuard.sweepSync();
    log.info(`window shutting down: dirty notes sealed, ${n} hot-exit backup(s) destroyed`);
  };
  context.subscriptions.push(vault, autoLock, fsProvider, leakGuard, recording, guard, registerLargeNotes(log),
    vault.onDidChange(s => {
      autoLock.setActive(!s.locked); showState();
      if (!s.locked) { leakGuard.saveDirtyNotesSoon(); void recovery.offerRestore().catch(e => log.warn(`recovery copies not offered: ${(e as Error).message}`)); }
    }),
    vscode.workspace.onDidSaveTextDocument(doc => { if (doc.uri.scheme === NOTESEAL_SCHEME) recovery.saved(doc); }),
    worker.onDidRestart(() => void closeAfterRestart()),
    // A note cannot be opened while locked, so a dirty one opening then is a backup VS Code restored late.
    vscode.workspace.onDidOpenTextDocument(doc => { if (started && vault.state.locked) void sealRestoredBackups([doc]); }),
    autoLock.onDidChangeDeadline(showState),
    vscode.workspace.registerFileSystemProvider(NOTESEAL_SCHEME, fsProvider, { isCaseSensitive: process.platform === 'linux' }),
    vscode.window.registerFileDecorationProvider(new EncryptedDecorations()),
    vscode.window.registerCustomEditorProvider(REDIRECT_VIEW_TYPE, new EncOpenRedirect(context.extensionUri, worker, vault, guard), { supportsMultipleEditorsPerDocument: false }),
    RevisionContentProvider.register(worker, vault),
  );

  const command = (id: string, run: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
      try { return await run(...args); } catch (e) {
        log.error(`${id} failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`NoteSeal: ${(e as Error).message}`);
      }
    }));
  command(Commands.showWorkerStatus, async () => {
    const s = await worker!.request(Method.workerStatus);
    void vscode.window.showInformationMessage(
      `NoteSeal worker ${s.version}: ${s.locked ? 'locked' : 'unlocked'}, pid ${s.pid}, up ${formatUptime(s.uptimeSeconds)}, Node ${s.node}`);
    return s;
  });
  command(Commands.restartWorker, async () => {
    await worker!.restart();
    await vault.refresh();
    await closeAfterRestart();
    void vscode.window.showInformationMessage('NoteSeal worker restarted.');
  });
  command(Commands.showLog, () => log.channel.show(true));
  command(Commands.setup, () => vault.setup());
  command(Commands.unlock, () => vault.ensureUnlocked());
  command(Commands.lock, () => vault.lock());
  command(Commands.toggleLock, () => (!vault.state.initialized ? vault.setup() : vault.state.locked ? vault.ensureUnlocked() : vault.lock()));
  command(Commands.changePassphrase, () => vault.changePassphrase());
  command(Commands.forgetRememberedKey, () => vault.forgetRemembered());
  command(Commands.newNote, (folder?: vscode.Uri) => files.newNote(folder));
  command(Commands.encryptFile, (uri?: vscode.Uri) => files.encryptFile(uri));
  command(Commands.decryptFile, (uri?: vscode.Uri) => files.decryptFile(uri));
  command(Commands.encryptFolder, (uri?: vscode.Uri) => files.encryptFolder(uri));
  command(Commands.openEncrypted, (uri?: vscode.Uri, opts?: { sealPlaintext?: boolean }) => files.openEncrypted(uri, opts));
  command(Commands.startRecording, (args?: { title?: string }) => recording.start(args));
  command(Commands.stopRecording, () => recording.stop());
  command(Commands.pauseRecording, () => recording.pause());
  command(Commands.resumeRecording, () => recording.resume());
  command(Commands.selectMicrophone, () => recording.selectMicrophone());
  command(Commands.exportRecording, (uri?: vscode.Uri) => recording.exportRecording(uri));
  command(Commands.installCommandLineTool, (args?: { folder?: string; overwrite?: boolean }) => terminal.install(args));
  // Only a Uri is taken from the arguments: nothing another extension passes can skip the question.
  command(Commands.shredRecording, (uri?: unknown) => recording.shredRecording(uri instanceof vscode.Uri ? uri : undefined));
  registerGitSupport(context, log);
  registerSharing(context, worker, vault, command, fsProvider.onDidChangeFile);
  registerAgeIdentity(worker, vault, command);

  try {
    await worker.start();
  } catch (e) {
    // e.g. a relative $NOTESEAL_KEYFILE, which the worker refuses (keys/location.ts): say so, do not fail silently.
    log.error(`the worker did not start: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`NoteSeal could not start its worker: ${(e as Error).message}`);
    throw e;
  }
  const showAgent = async () => terminal.setAgentSocket((await worker!.request(Method.workerStatus)).agentSocket);
  context.subscriptions.push(worker.onDidRestart(() => void showAgent()));
  await showAgent();
  await vault.refresh();
  showState();
  await sealRestoredBackups();
  started = true;
  leakGuard.saveDirtyNotesSoon();
  // No backup probe at activation: it needs a visible, dirty editor in the user's window (VS Code backed up
  // nothing else in our host), which takes the focus from a note being opened and was not reliably backed
  // up anyway. Every candidate home is swept instead; the first backup swept confirms the real one.
  log.info('NoteSeal is ready');

  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  const testApi: NoteSealApi = {
    workerStatus: () => worker!.request(Method.workerStatus),
    onDidRestartWorker: worker.onDidRestart,
    vault: {
      state: () => vault.refresh(),
      init: async passphrase => {
        const r = await worker!.request(Method.vaultInit, { passphrase, remember: false });
        await vault.refresh();
        return { recoveryKey: r.recoveryKey };
      },
      unlock: async (passphrase, remember = false) => { await worker!.request(Method.vaultUnlock, { passphrase, remember }); return vault.refresh(); },
      lock: () => vault.lock(),
      onDidChange: vault.onDidChange,
      autoLockDeadline: () => autoLock.deadline(),
    },
    cliLauncher: () => terminal.launcher,
    sweptBackups: () => leakGuard.swept,
    backupHomes: () => leakGuard.homes,
    calibrateBackups: () => leakGuard.calibrate(fsProvider),
    sweepNow: () => leakGuard.sweepNow(),
    recovery: {
      pending: () => worker!.request(Method.recoveryList),
      restore: async notePath => recovery.restore((await worker!.request(Method.recoveryList)).filter(c => c.path === notePath).map(c => c.id)),
    },
    recording: {
      start: title => recording.start({ title }),
      stop: () => recording.stop(),
      shred: encPath => recording.shred(vscode.Uri.file(encPath)),
      exportTo: (encPath, outPath) => recording.exportTo(encPath, outPath),
      recoverUnfinished: () => recording.recoverUnfinished(),
      isRecording: () => recording.isRecording,
      setShredConfirmation: confirm => { recording.confirmShred = confirm; },
    },
    setAgentConsent: ask => { agentConsent.ask = ask; },
    effectiveSettings: () => {
      const folder = recordingFolderChoice();
      return { ...autoLockSettings(), recordingFolder: 'folder' in folder ? folder.folder : folder };
    },
    logUri: context.logUri,
    globalStorageUri: context.globalStorageUri,
    search: {
      run: async query => {
        const files: SearchFileResult[] = [];
        const summary = await search.run(query, () => undefined, found => { files.push(...found); });
        return { summary, files };
      },
      open: (path, line, start, end) => openSearchResult(vault, path, line, start, end),
    },
  };
  return testApi;
}

/** The keyfile setting, `~`-expanded; a relative path is refused (location.ts) with a clear error. */
function keyfileSetting(): string | undefined {
  const value = vscode.workspace.getConfiguration('noteseal').get<string>('keyfile')?.trim();
  if (!value) return undefined;
  try {
    return absoluteKeyfilePath(value, 'The noteseal.keyfile setting');
  } catch (e) {
    void vscode.window.showErrorMessage(`NoteSeal: ${(e as Error).message} NoteSeal did not start; fix the setting and reload the window.`);
    throw e;
  }
}

export async function deactivate(): Promise<void> {
  await beforeWorkerStops?.().catch(() => undefined);
  beforeWorkerStops = undefined;
  await worker?.dispose();
  worker = undefined;
}

function formatUptime(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
