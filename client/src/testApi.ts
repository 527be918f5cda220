// The NoteSealApi: what activate() returns to the integration tests (test/integration/suite/helpers.ts), so they
// can unlock, record, search and sweep without clicking dialogs. It exists only for those tests. What guards it:
// testApiFor() returns it only when VS Code runs the extension in ExtensionMode.Test (a test host started with
// --extensionTestsPath); an installed or development extension returns undefined, so no other extension can reach it.
import * as vscode from 'vscode';
import { Method, type AgentConsentAnswer, type AgentConsentQuestion, type PendingAgeList, type PendingList, type RecoveryCopy, type RecordingInfo, type RecordingSummary, type SearchFileResult, type SearchQuery, type SearchSummary, type VaultState, type WorkerStatus } from '../../server/src/protocol';
import type { AgentFeature } from './agent/index';
import type { EditorFeature } from './editor/index';
import type { LeakDefence } from './leak/index';
import { recordingFolderChoice, type RecordingController } from './recording/recording';
import { openSearchResult, type SearchRunner } from './search/searchView';
import type { Core } from './shared/index';
import { autoLockSettings } from './vault/autoLock';
import { listAcceptance } from './sharing/listAcceptance';
import { openWarningsSoFar } from './sharing/sharing';
import { unfinishedLogWarningsSoFar } from './editor/unfinishedLogs';
import type { VaultFeature } from './vault/index';

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
  /**
   * Serves `text` for the note at `uri` from memory and fails every save of it (NoPermissions), until disposed:
   * a note that cannot be saved, for the leak tests (a file changed on disk no longer leaves one: issue 22 §2).
   */
  refuseSavesOf(uri: vscode.Uri, text: string): vscode.Disposable;
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
  /** Replaces the modal that offers a recipients list for acceptance when a save below it is refused. */
  setListAcceptance(ask: (pending: PendingList) => Promise<boolean>): void;
  /** Answers the `.age-recipients` acceptance question instead of the modal (issue 26). */
  setAgeListAcceptance(ask: (pending: PendingAgeList) => Promise<boolean>): void;
  /** Replaces the modal asked on the first save of a note from a writer you do not trust (issue 21 §2). */
  setTakeOver(ask: (uri: vscode.Uri, who: string, warning: string) => Promise<boolean>): void;
  /** Replaces the agent's "Allow ... to decrypt ...?" modal (noteseal.agent.askBeforeServing). */
  setAgentConsent(ask: (question: AgentConsentQuestion) => Promise<AgentConsentAnswer>): void;
  /** The settings as NoteSeal applies them (user values for auto-lock, a confined recording folder). */
  effectiveSettings(): { idleMinutes: number; onSleep: boolean; recordingFolder: string | { problem: string } };
  /** This extension's log folder (the tests search the host's logs for secrets). */
  logUri: vscode.Uri;
  /** `<user data>/User/globalStorage/<id>`: the tests find the user settings file from it. */
  globalStorageUri: vscode.Uri;
  /**
   * Issue 22 §2: runs what deactivate() runs when the window closes (saves waited for or sealed, the worker stopped),
   * then starts a fresh worker (locked), as the next window would.
   */
  windowClosing(): Promise<void>;
  /** A fresh worker (locked) whose every note write first waits `ms` (a slow disk; 0: back to normal). */
  setSlowSaves(ms: number): Promise<void>;
  /**
   * Resolves once every note write VS Code was told had ended is really on disk (a write that outlasts
   * SAVE_DEADLINE_MS is reported done and finished in the background, encFsProvider.ts): before reading a file back.
   */
  whenWritten(): Promise<void>;
  /** Search (issue 16): the view's search over the workspace folders, and opening a result as a click does. */
  /** The warnings notes opened with so far (an untrusted writer, a refused list), newest last. */
  openWarnings(): readonly string[];
  /** The warnings logs left unfinished by a crash opened with so far, newest last (kept apart: a test reading the newest open warning must not get a log's). */
  unfinishedLogWarnings(): readonly string[];
  search: {
    run(query: SearchQuery): Promise<{ summary: SearchSummary; files: SearchFileResult[] }>;
    open(path: string, line: number, start: number, end: number): Promise<vscode.TextEditor>;
  };
}

/** The features activate() registered, as the test API reaches into them. */
export interface TestApiParts {
  core: Core;
  vault: VaultFeature;
  agent: AgentFeature;
  leak: LeakDefence;
  editor: EditorFeature;
  recording: RecordingController;
  search: SearchRunner;
  /** What deactivate() runs before the extension host exits (extension.ts). */
  shutDown: () => Promise<void>;
}

/** The test API in ExtensionMode.Test; undefined in every other mode. */
export function testApiFor(context: vscode.ExtensionContext, parts: TestApiParts): NoteSealApi | undefined {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  const { core: { worker }, vault: { vault, autoLock }, agent, leak: { leakGuard }, editor: { fsProvider, recovery }, recording, search, shutDown } = parts;
  return {
    workerStatus: () => worker.request(Method.workerStatus),
    onDidRestartWorker: worker.onDidRestart,
    vault: {
      state: () => vault.refresh(),
      init: async passphrase => {
        const r = await worker.request(Method.vaultInit, { passphrase, remember: false });
        await vault.refresh();
        return { recoveryKey: r.recoveryKey };
      },
      unlock: async (passphrase, remember = false) => { await worker.request(Method.vaultUnlock, { passphrase, remember }); return vault.refresh(); },
      lock: () => vault.lock(),
      onDidChange: vault.onDidChange,
      autoLockDeadline: () => autoLock.deadline(),
    },
    cliLauncher: () => agent.terminal.launcher,
    sweptBackups: () => leakGuard.swept,
    backupHomes: () => leakGuard.homes,
    calibrateBackups: () => leakGuard.calibrate(fsProvider),
    sweepNow: () => leakGuard.sweepNow(),
    refuseSavesOf: (uri, text) => fsProvider.serveFromMemory(uri, new TextEncoder().encode(text)),
    recovery: {
      pending: () => worker.request(Method.recoveryList),
      restore: async notePath => recovery.restore((await worker.request(Method.recoveryList)).filter(c => c.path === notePath).map(c => c.id)),
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
    setAgentConsent: ask => { agent.consent.ask = ask; },
    setListAcceptance: ask => { listAcceptance.ask = ask; },
    setAgeListAcceptance: ask => { listAcceptance.askAge = ask; },
    setTakeOver: ask => { fsProvider.askTakeOver = ask; },
    openWarnings: () => [...openWarningsSoFar()],
    unfinishedLogWarnings: () => [...unfinishedLogWarningsSoFar()],
    effectiveSettings: () => {
      const folder = recordingFolderChoice();
      return { ...autoLockSettings(), recordingFolder: 'folder' in folder ? folder.folder : folder };
    },
    logUri: context.logUri,
    globalStorageUri: context.globalStorageUri,
    windowClosing: async () => {
      await shutDown();
      await worker.restartWith({});
      await vault.refresh();
    },
    whenWritten: () => fsProvider.whenWritten(),
    setSlowSaves: async ms => {
      await worker.restartWith({ testSlowSaveMs: ms });
      await vault.refresh();
    },
    search: {
      run: async query => {
        const files: SearchFileResult[] = [];
        const summary = await search.run(query, () => undefined, found => { files.push(...found); });
        return { summary, files };
      },
      open: (path, line, start, end) => openSearchResult(vault, path, line, start, end),
    },
  };
}
