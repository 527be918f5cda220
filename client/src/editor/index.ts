// The editor and its `noteseal:` file system: decrypted notes open, save and close in VS Code's own editor; the
// file commands; recovery copies of unsaved text. May use shared/, vault/, leak/, git/ (diffs) and recording/ (the player).
import * as vscode from 'vscode';
import { Commands } from '../shared/commands';
import type { Core } from '../shared/index';
import { Method } from '../../../server/src/protocol';
import { hasDotenvName, isSealedPath } from '../../../server/src/shared';
import { NOTESEAL_SCHEME, ownViewOf } from '../shared/uris';
import type { LeakDefence } from '../leak/index';
import type { AutoLock } from '../vault/autoLock';
import type { VaultController } from '../vault/vault';
import { EncryptedDecorations } from './decorations';
import { DotenvxOpens } from './dotenvxOpen';
import { EncFileSystemProvider } from './encFsProvider';
import { FileCommands } from './fileCommands';
import { OtherToolCommands } from './otherToolCommands';
import { LockedNotes } from './lockedUnseen';
import { LockedOpens } from './lockedOpens';
import { registerLargeNotes } from './largeNotes';
import { NoteRecovery } from './noteRecovery';
import { registerUnfinishedLogs } from './unfinishedLogs';
import { EncOpenRedirect, REDIRECT_VIEW_TYPE } from './openRedirect';

/**
 * How long deactivate() waits for saves VS Code was told had ended (issue 22 §2). VS Code gives the extension host
 * 5 s to deactivate before it exits (extHostExtensionService.ts, terminate: `Promise.race([timeout(5000),
 * this._deactivateAll()])`); this leaves time to seal what is left and to stop the worker, which itself waits up
 * to 3 s for the writes it has (server/src/vault/writeJoin.ts) whether or not this process is still there.
 */
const SHUTDOWN_WAIT_MS = 2500;

/** The names sops reads as YAML, JSON, dotenv or INI (a sops file of another kind is binary: not opened here). */
const SOPS_STORE_NAME = /(\.(ya?ml|json|env|ini)|(^|\/)\.env(\.[^/]*)?)$/i;

export interface EditorFeature {
  fsProvider: EncFileSystemProvider;
  recovery: NoteRecovery;
  /** After the worker started: restored backups sealed, dirty notes saved soon. */
  ready(): Promise<void>;
  /** In deactivate(), while the worker still runs: unsaved notes sealed, hot-exit backups destroyed. */
  beforeWorkerStops(): Promise<void>;
}

export function registerEditor(context: vscode.ExtensionContext, deps: Core & LeakDefence & { vault: VaultController; autoLock: AutoLock }): EditorFeature {
  const { worker, vault, autoLock, leakGuard, guard, log, command } = deps;
  const fsProvider = new EncFileSystemProvider(worker, vault);
  fsProvider.onActivity = () => autoLock.activity();
  const files = new FileCommands(worker, vault, guard);
  const otherTools = new OtherToolCommands(worker, vault, guard);
  const recovery = new NoteRecovery(worker, fsProvider, log);
  // A save VS Code refused because the file changed on disk is sealed and reverted before its backup delay
  // (issue 22 §2, noteRecovery.ts changedOnDisk); any other failure keeps the editor dirty, its text sealed.
  leakGuard.onSaveFailed = async (doc, since) => {
    const { changed, why } = await fsProvider.refusedAsChanged(doc.uri, since);
    log.info(`a save of a note failed (${changed ? 'VS Code refused it: ' : 'not a change on disk: '}${why})`);
    if (changed && await recovery.changedOnDisk(doc)) return;
    await recovery.seal(doc);
  };
  fsProvider.onLateWriteFailed = (uri, content, error, sealed) => recovery.lateSaveFailed(uri, content, error, sealed, () => vault.state.locked, () => vault.ensureUnlocked());
  fsProvider.sealLate = (uri, content) => recovery.sealText(uri, content);
  vault.whenWritten = ms => fsProvider.writtenWithin(ms);
  const reverting = new Set<string>();
  fsProvider.onTakeOverDeclined = uri => {
    if (reverting.has(uri.toString())) return;
    reverting.add(uri.toString());
    // Once the refused save has failed (save-soon and the user's own save may both be refused).
    setTimeout(() => void recovery.sealAndRevert(uri).catch(e => log.warn(`a refused note was not reverted: ${(e as Error).message}`))
      .finally(() => reverting.delete(uri.toString())), 100);
  };
  fsProvider.onChangedWhileSaving = uri => leakGuard.savedOverByAnotherWriter(uri);
  // A sops file (issue 27) is its own view: not an `.enc` for openDecrypted (which would take it for plaintext).
  const lockedOpens = new LockedOpens(vault, file => isSealedPath(file.path) || hasDotenvName(file.path)
    ? guard.openDecrypted(file) : Promise.resolve(vscode.window.showTextDocument(ownViewOf(file), { preview: false })));
  fsProvider.onReadRefused = uri => lockedOpens.report(uri);
  vault.closeDecrypted = trySave => recovery.closeDecrypted(trySave);
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
  let started = false;
  const ownViewOpens = new DotenvxOpens(vault, log, async file => (SOPS_STORE_NAME.test(file.path)
    && (await worker.request(Method.sopsOpensInEditor, { path: file.fsPath }).catch(() => ({ sops: false }))).sops ? ownViewOf(file) : undefined));
  context.subscriptions.push(fsProvider, registerLargeNotes(log), registerUnfinishedLogs(worker), new LockedNotes(vault, fsProvider, log), lockedOpens,
    vault.onDidChange(s => {
      if (!s.locked) { leakGuard.saveDirtyNotesSoon(); void recovery.offerRestore().catch(e => log.warn(`recovery copies not offered: ${(e as Error).message}`)); }
    }),
    vscode.workspace.onDidSaveTextDocument(doc => { if (doc.uri.scheme === NOTESEAL_SCHEME) recovery.saved(doc); }),
    // A note cannot be opened while locked, so a dirty one opening then is a backup VS Code restored late.
    vscode.workspace.onDidOpenTextDocument(doc => { if (started && vault.state.locked) void sealRestoredBackups([doc]); }),
    vscode.workspace.registerFileSystemProvider(NOTESEAL_SCHEME, fsProvider, { isCaseSensitive: process.platform === 'linux' }),
    vscode.window.registerFileDecorationProvider(new EncryptedDecorations()),
    vscode.window.registerCustomEditorProvider(REDIRECT_VIEW_TYPE, new EncOpenRedirect(context.extensionUri, worker, vault, guard), { supportsMultipleEditorsPerDocument: false }),
    ownViewOpens,
  );
  command(Commands.newNote, (folder?: vscode.Uri) => files.newNote(folder));
  command(Commands.encryptFile, (uri?: vscode.Uri) => files.encryptFile(uri));
  command(Commands.decryptFile, (uri?: vscode.Uri) => files.decryptFile(uri));
  command(Commands.encryptFolder, (uri?: vscode.Uri) => files.encryptFolder(uri));
  command(Commands.openEncrypted, (uri?: vscode.Uri, opts?: { sealPlaintext?: boolean }) => files.openEncrypted(uri, opts));
  command(Commands.openWithNoteSeal, (uri?: vscode.Uri) => otherTools.openWithNoteSeal(uri));
  command(Commands.setValue, (uri?: vscode.Uri, given?: { keyPath: string; value: string }) => otherTools.setValue(uri, given));
  command(Commands.encryptWithSops, (uri?: vscode.Uri) => otherTools.encryptWithSops(uri));
  return {
    fsProvider, recovery,
    ready: async () => {
      await sealRestoredBackups();
      started = true;
      leakGuard.saveDirtyNotesSoon();
      void ownViewOpens.considerOpenTabs(); // sops and dotenvx tabs VS Code restored (the worker answers now)
    },
    beforeWorkerStops: async () => {
      // Reload Window / quit with a note that could not be saved: seal its text (the new window offers it back on
      // unlock), then destroy the plaintext backup VS Code has just written for the next window to restore.
      // Saves VS Code was told had ended are waited for (SHUTDOWN_WAIT_MS); what has not reached the worker by then is
      // sealed here, what has is the worker's to finish or seal before it exits (server/src/vault/writeJoin.ts).
      const handed = await fsProvider.handOver(SHUTDOWN_WAIT_MS);
      if (handed.sealed || handed.notSealed) log.warn(`window shutting down: ${handed.sealed} save(s) still waiting sealed into recovery copies${handed.notSealed ? `, ${handed.notSealed} could not be sealed` : ''}`);
      for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === NOTESEAL_SCHEME && doc.isDirty) await recovery.seal(doc);
      const n = leakGuard.sweepSync();
      log.info(`window shutting down: dirty notes sealed, ${n} hot-exit backup(s) destroyed`);
    },
  };
}
