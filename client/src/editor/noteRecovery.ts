// Unsaved text that cannot be saved is never thrown away and never left in plaintext: it is sealed by the
// worker into an encrypted recovery copy (server/src/vault/recoveryStore.ts; sealing needs no key, so it
// works after a worker restart too), the hot-exit backup is swept, and the next unlock offers the copy back.
// Locking and a worker restart use the same path to leave no decrypted content on screen: every decrypted
// editor, diff, Markdown preview and recording player is closed; a note that cannot be saved is sealed first.
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import type { EncFileSystemProvider } from './encFsProvider';
import { hideCachedNotes, hidingDone, isLockedText, LOCKED_TEXT, restoringNotes } from './lockedUnseen';
import type { Logger } from '../shared/logger';
import { REDIRECT_VIEW_TYPE } from './openRedirect';
import { isDecryptedScheme, logicalFsPath, NOTESEAL_SCHEME } from '../shared/uris';
import { WorkerCallError, type WorkerClient } from '../shared/workerClient';

const PLACEHOLDER_TEXT = 'NoteSeal is locked. Unsaved text was sealed into an encrypted recovery copy; unlock to restore it.\n';
const PLACEHOLDER = new TextEncoder().encode(PLACEHOLDER_TEXT);

/** How often a late save's seal is sent before its text is put back into the editor (sealRetryingRestart). */
const SEAL_ATTEMPTS = 4;

/**
 * How long closing the decrypted views waits for saves VS Code was told had ended. Bounded: after Restart Worker
 * such a save can be waiting on the new, locked worker's unlock prompt, and the views must close regardless; a
 * save that then fails is sealed into a recovery copy (lateSaveFailed), so nothing is lost by not waiting.
 */
const CLOSE_WAIT_MS = 5000;
const isNote = (uri: vscode.Uri | undefined) => uri?.scheme === NOTESEAL_SCHEME;
/** A tab shows decrypted text: a note, or a read-only revision view (`noteseal-rev:`). */
const showsPlaintext = (uri: vscode.Uri | undefined) => uri !== undefined && isDecryptedScheme(uri.scheme);
const nameOf = (p: string) => p.split(/[\\/]/).pop() ?? p;

export class NoteRecovery {
  /** The live recovery copy of each dirty note of this window (uri → copy id). */
  private readonly copies = new Map<string, string>();

  constructor(private readonly worker: WorkerClient, private readonly files: EncFileSystemProvider, private readonly log: Logger) {}

  /** Seals of one note run one after another (a failed save and a lock or restart can ask at once). */
  private readonly sealing = new Map<string, Promise<boolean>>();

  /**
   * Seals the current text of `doc`, replacing its previous copy. False if it could not be sealed. A note
   * that is clean or closed by its turn (a lock or restart sealed and closed it meanwhile) is left alone,
   * so a late request cannot leave a second copy of the same text behind.
   */
  seal(doc: vscode.TextDocument): Promise<boolean> {
    const key = doc.uri.toString();
    const turn = (this.sealing.get(key) ?? Promise.resolve(true)).then(() => (doc.isDirty && !doc.isClosed ? this.sealNow(doc) : true));
    this.sealing.set(key, turn);
    void turn.finally(() => { if (this.sealing.get(key) === turn) this.sealing.delete(key); });
    return turn;
  }

  private async sealNow(doc: vscode.TextDocument): Promise<boolean> {
    const key = doc.uri.toString();
    try {
      const { id } = await this.worker.request(Method.recoverySeal, { path: logicalFsPath(doc.uri), data: new TextEncoder().encode(doc.getText()) });
      const old = this.copies.get(key);
      this.copies.set(key, id);
      if (old) await this.worker.request(Method.recoveryDiscard, { id: old }).catch(() => undefined);
      if (!old) this.log.info('a note could not be saved: its text is kept in a sealed recovery copy');
      return true;
    } catch (e) {
      this.log.warn(`could not seal a recovery copy (${(e as Error).message})`);
      return false;
    }
  }

  /**
   * A save the user refused (a note from a writer they do not trust, issue 21 §2): its text is sealed, then the
   * editor goes back to the file, so no dirty model is left for VS Code's hot-exit backup. The copy is offered
   * back at the next unlock. A note that cannot be sealed stays dirty (its text would be lost).
   */
  async sealAndRevert(uri: vscode.Uri): Promise<void> {
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri.toString());
    if (!doc || doc.isClosed || !doc.isDirty || !(await this.seal(doc))) return;
    for (let i = 0; i < 4 && doc.isDirty && !doc.isClosed; i++) {
      await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    if (!doc.isDirty) this.copies.delete(uri.toString());
  }

  /**
   * VS Code refused a save of `doc` because its file changed on disk (fileService.ts validateWriteFile:
   * FILE_MODIFIED_SINCE, before NoteSeal's provider is called; encFsProvider.ts refusedAsChanged). Left dirty, the
   * note would be backed up by VS Code in plaintext 1 s after the last edit (workingCopyBackupTracker.ts
   * scheduleBackup), which VS Code's own Compare / Overwrite flow needs it to be. Instead the editor's text is
   * sealed into a recovery copy and the editor goes back to the file's new text (its revert also closes VS Code's
   * own "Failed to save" notification: textFileSaveErrorHandler.ts onFileSavedOrReverted), well inside that
   * second; the user chooses afterwards, from the copy: Compare, Keep Mine, Keep Theirs. Unanswered, the copy is
   * offered at the next unlock as any other. True once the text was sealed and the editor reverted (false: not sealed).
   */
  async changedOnDisk(doc: vscode.TextDocument): Promise<boolean> {
    const key = doc.uri.toString();
    // What is sealed is what the editor holds when it is reverted: keys typed while sealing are sealed again.
    for (let i = 0; i < 5; i++) {
      const version = doc.version;
      if (!(await this.seal(doc))) return false;
      if (doc.version === version || !doc.isDirty || doc.isClosed) break;
    }
    if (!this.copies.get(key) || doc.isClosed) return false;
    for (let round = 0; ; round++) {
      await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
      // Dirty again: typed after the revert, onto the file's text (saved as any edit), or not reverted (the next
      // save is refused again and comes back here, sealing again). Either way this copy is no longer the
      // editor's: a save of the editor must not discard it (saved()).
      if (doc.isDirty || doc.isClosed) break;
      // A revert marks the note clean first and then reads the file, and keeps the editor's text if it changed
      // during the read (textFileEditorModel.ts revert, resolveFromFile "model content changed"): clean, but not
      // the file. What was typed meanwhile is sealed over the copy (the same edit, later) and it is reverted again.
      const onDisk = await this.files.readFile(doc.uri).then(d => new TextDecoder().decode(d), () => undefined);
      if (onDisk === undefined || doc.getText() === onDisk) break;
      if (round >= 3 || !(await this.sealNow(doc))) break;
    }
    const id = this.copies.get(key)!;
    this.copies.delete(key);
    this.log.warn('a note changed on disk while it was being edited: the editor shows the file again, the text typed is kept in a sealed recovery copy');
    this.offerConflictChoice(doc.uri, id);
    return true;
  }

  /** The notification after changedOnDisk. Not awaited: nothing waits for the user's answer. */
  private offerConflictChoice(uri: vscode.Uri, id: string): void {
    const compare = vscode.l10n.t('Compare'); const mine = vscode.l10n.t('Keep Mine'); const theirs = vscode.l10n.t('Keep Theirs');
    void vscode.window.showWarningMessage(vscode.l10n.t('{0} changed on disk while you were editing. Your version is sealed in a recovery copy.', nameOf(uri.path)), compare, mine, theirs)
      .then(async pick => {
        if (pick === compare) { await this.compareWithFile(uri, id); this.offerConflictChoice(uri, id); }
        else if (pick === mine) await this.keepMine(uri, id);
        else if (pick === theirs) { await this.worker.request(Method.recoveryDiscard, { id }); this.log.info('a sealed recovery copy was discarded (Keep Theirs)'); }
      })
      .then(undefined, e => this.log.warn(`a note changed on disk: ${(e as Error).message}`));
  }

  /**
   * Your sealed version (left, read-only, served from memory under a `noteseal:` URI with a query, which no
   * path of the worker's can have: uriRules.ts) against the note as it is now (right). The memory copy goes
   * when the diff's tab closes, and at a lock (closeDecrypted closes every tab with a `noteseal:` side).
   */
  private async compareWithFile(uri: vscode.Uri, id: string): Promise<void> {
    const { data } = await this.worker.request(Method.recoveryRead, { id });
    const left = uri.with({ query: `sealed-copy=${id}` });
    const served = this.files.serveFromMemory(left, data, { stat: { mtime: Date.now(), ctime: Date.now(), size: data.length, readonly: true } });
    const isThisDiff = (t: vscode.Tab) => t.input instanceof vscode.TabInputTextDiff && t.input.original.toString() === left.toString();
    const closed = vscode.window.tabGroups.onDidChangeTabs(() => {
      if (vscode.window.tabGroups.all.some(g => g.tabs.some(isThisDiff))) return;
      closed.dispose(); served.dispose();
    });
    await vscode.commands.executeCommand('vscode.diff', left, uri, vscode.l10n.t('{0} (your sealed version) ↔ on disk', nameOf(uri.path)), { preview: false });
  }

  /**
   * Writes your sealed version over the file: put into the editor (which holds the file's new text, so the
   * version VS Code checks is the one on disk now) and saved as any edit is, signed as a save is. If the file
   * changed again meanwhile, VS Code refuses that save and the same flow seals and asks again.
   */
  private async keepMine(uri: vscode.Uri, id: string): Promise<void> {
    const { data } = await this.worker.request(Method.recoveryRead, { id });
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    if (!(await replaceText(editor, new TextDecoder().decode(data)))) throw new Error('your version could not be put back into the editor');
    if (!doc.isDirty || await doc.save().then(ok => ok, () => false)) {
      await this.worker.request(Method.recoveryDiscard, { id });
      this.log.info('a note changed on disk: your version was written over it (Keep Mine)');
    }
  }

  /**
   * A save VS Code was told had ended (encFsProvider.ts, SAVE_DEADLINE_MS) failed afterwards: nothing was
   * written. Its text is sealed, then the editor shows the file again (the note on disk, or the locked text),
   * so that nothing dirty is left for VS Code to back up, and the user is told, with the way back. Where the
   * text cannot be sealed it is put back into the editor, unsaved: never lost, never shown as saved.
   */
  async lateSaveFailed(uri: vscode.Uri, content: Uint8Array, error: unknown, sealedByWorker: boolean, locked: () => boolean, unlock: () => Promise<boolean>): Promise<void> {
    const why = (error as Error)?.message ?? String(error);
    // Typing into the locked text (undone at once, lockedUnseen.ts) is nothing to keep.
    const typed = new TextDecoder().decode(content);
    if (typed.startsWith(LOCKED_TEXT) || typed.startsWith(PLACEHOLDER_TEXT)) {
      if (locked()) await hideCachedNotes(this.files, this.log); else this.files.announceChanged([uri]);
      return;
    }
    let id: string | undefined;
    // The worker stopped (a restart) before it could write the note and sealed the text itself (SAVE_SEALED).
    if (sealedByWorker) id = undefined;
    else try { ({ id } = await this.sealRetryingRestart(uri, content)); } catch (e) {
      this.log.warn(`a late save failed (${why}) and its text could not be sealed (${(e as Error).message}): put back into the editor`);
      const doc = await vscode.workspace.openTextDocument(uri).then(d => d, () => undefined);
      const text = typed;
      if (doc && doc.getText() !== text) {
        const edit = new vscode.WorkspaceEdit();
        edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text);
        await vscode.workspace.applyEdit(edit);
      }
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} was not saved: {1}', nameOf(uri.path), why));
      return;
    }
    this.log.warn(`a save failed after VS Code was told it had ended (${why}): its text is kept in a sealed recovery copy`);
    if (locked()) await hideCachedNotes(this.files, this.log);
    else this.files.announceChanged([uri]);
    const restore = vscode.l10n.t('Restore');
    // Not awaited: a lock waits for this (whenWritten), not for the user's answer.
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} was not saved: {1} Your text is kept in a sealed recovery copy.', nameOf(uri.path), why), restore)
      .then(async pick => { if (pick === restore && (!locked() || await unlock())) await this.restore(id ? [id] : await this.newestCopyOf(uri)); })
      .then(undefined, e => this.log.warn(`a recovery copy was not restored: ${(e as Error).message}`));
  }

  /**
   * Seals a late save's text. A save that failed because Restart Worker stopped its worker is reported while
   * the old worker's connection is going away: a seal sent then is refused by the transport, not by a worker.
   * It is sent again (the client waits for the new worker) a few times before the text is put back into the
   * editor: put back, it is a dirty decrypted model while locked, with no copy to offer at the unlock (seen in
   * a fresh-clone run: the restored note then showed read-only, from the locked text's stat).
   */
  private async sealRetryingRestart(uri: vscode.Uri, content: Uint8Array): Promise<{ id: string }> {
    for (let attempt = 1; ; attempt++) {
      try { return await this.worker.request(Method.recoverySeal, { path: logicalFsPath(uri), data: content }); } catch (e) {
        if (e instanceof WorkerCallError || attempt >= SEAL_ATTEMPTS) throw e; // the worker itself refused: final
        this.log.info(`sealing a late save's text failed in transport (${(e as Error).message}); trying again`);
        await new Promise(r => setTimeout(r, 250 * attempt));
      }
    }
  }

  /** The newest recovery copy of the note at `uri` (the one the worker sealed when it stopped), if any. */
  private async newestCopyOf(uri: vscode.Uri): Promise<string[]> {
    const copies = (await this.worker.request(Method.recoveryList)).filter(c => c.path === logicalFsPath(uri));
    return copies.length ? [copies[copies.length - 1].id] : [];
  }

  /**
   * Seals the text of a save VS Code was told had ended, when the window closes before it reached the worker
   * (encFsProvider.ts, handOver). Offered back at the next unlock. False if it could not be sealed.
   */
  async sealText(uri: vscode.Uri, content: Uint8Array): Promise<boolean> {
    const typed = new TextDecoder().decode(content);
    if (typed.startsWith(LOCKED_TEXT) || typed.startsWith(PLACEHOLDER_TEXT)) return true;
    try {
      await this.worker.request(Method.recoverySeal, { path: logicalFsPath(uri), data: content });
      this.log.warn('the window closed before a save had reached the worker: its text is kept in a sealed recovery copy');
      return true;
    } catch (e) {
      this.log.error(`the window closed before a save had reached the worker, and its text could not be sealed (${(e as Error).message})`);
      return false;
    }
  }

  /** The note was saved: its recovery copy is no longer needed. */
  saved(doc: vscode.TextDocument): void {
    const id = this.copies.get(doc.uri.toString());
    if (!id) return;
    this.copies.delete(doc.uri.toString());
    void this.worker.request(Method.recoveryDiscard, { id }).catch(() => undefined);
  }

  /**
   * Closes every view of decrypted content. `trySave`: save dirty notes first (the key is still there).
   * A dirty note that is not saved is sealed, then closed; one that cannot even be sealed stays open (its
   * text would be lost) and is returned.
   */
  async closeDecrypted(trySave: boolean): Promise<{ sealed: string[]; keptOpen: string[] }> {
    const sealed: string[] = []; const keptOpen: string[] = [];
    const names = new Set<string>();
    // A save VS Code was told had ended may still be writing: the key must stay until it has (within a bound).
    if (!(await this.files.writtenWithin(CLOSE_WAIT_MS))) this.log.warn('closing the decrypted views while a save is still being written (its text is sealed if it fails)');
    for (const doc of vscode.workspace.textDocuments) {
      if (!isNote(doc.uri)) continue;
      names.add(nameOf(doc.uri.path));
      if (!doc.isDirty) continue;
      if (trySave && await doc.save().then(ok => ok, () => false)) { this.saved(doc); continue; }
      if (await this.seal(doc)) { sealed.push(doc.uri.path); await this.discardChanges(doc); } else keptOpen.push(doc.uri.path);
    }
    await this.files.writtenWithin(CLOSE_WAIT_MS);
    // Sealed copies of closed notes wait for the next unlock, not for this window's save: at once, so that a
    // seal of the same note meanwhile (a save that fails after the unlock) adds a copy instead of replacing it.
    for (const p of sealed) this.copies.delete(vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: p }).toString());
    // Closed is not unseen: VS Code keeps the models and reopens them without a read (lockedUnseen.ts). So the
    // models are emptied first, while their tabs are still open: closed first, a tab reopened in the moment
    // before VS Code had reloaded its model showed the note (seen once after Restart Worker, lockUnseen.test).
    await hideCachedNotes(this.files, this.log);
    const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(t => showsDecrypted(t, names) && !keptOpen.includes(noteOf(t)?.path ?? ''));
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
    return { sealed, keptOpen };
  }

  /**
   * Makes a dirty note clean without saving and without the worker: the provider serves a placeholder from
   * memory while VS Code's "Revert and Close" re-reads it (a locked worker would otherwise ask to unlock).
   */
  private async discardChanges(doc: vscode.TextDocument): Promise<void> {
    // The placeholder carries the real file's times (stat needs no key), so that the model VS Code keeps does
    // not look older than the file and a later save of the restored text is no false conflict.
    const real = await this.files.stat(doc.uri).then(s => ({ mtime: s.mtime, ctime: s.ctime, size: s.size }), () => undefined);
    const served = this.files.serveFromMemory(doc.uri, PLACEHOLDER, { stat: real });
    try {
      for (let i = 0; i < 8 && doc.isDirty && !doc.isClosed; i++) {
        await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: false });
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      }
    } finally { served.dispose(); }
  }

  /** After an unlock: offers the sealed copies back (the note opens with the recovered text, unsaved). */
  async offerRestore(): Promise<number> {
    let copies = await this.worker.request(Method.recoveryList);
    const live = new Set(this.copies.values());
    copies = copies.filter(c => !live.has(c.id));
    if (!copies.length) return 0;
    // Oldest first, so that where one note has several copies the newest is restored last and stays.
    copies.sort((a, b) => a.savedAt.localeCompare(b.savedAt));
    const perNote = new Map<string, number>();
    for (const c of copies) perNote.set(c.path, (perNote.get(c.path) ?? 0) + 1);
    const list = [...perNote].map(([p, n]) => (n > 1 ? vscode.l10n.t('{0} ({1} copies: the newest is restored)', nameOf(p), n) : nameOf(p))).join(', ');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('NoteSeal kept {0} unsaved note(s) in sealed recovery copies when they could not be saved: {1}. Restore them?', perNote.size, list),
      'Restore', 'Later', 'Discard');
    if (choice === 'Discard') {
      const sure = await vscode.window.showWarningMessage(vscode.l10n.t('Discard the unsaved text of {0} for good?', list), { modal: true }, 'Discard');
      if (sure === 'Discard') for (const c of copies) await this.worker.request(Method.recoveryDiscard, { id: c.id });
      return 0;
    }
    if (choice !== 'Restore') return 0;
    return this.restore(copies.map(c => c.id));
  }

  async restore(ids: string[]): Promise<number> {
    // A lock or restart may still be hiding cached notes (serving the locked text for each until VS Code has
    // reloaded it, up to 5 s with many notes): a note put back meanwhile would be reverted to that text.
    await hidingDone();
    let restored = 0;
    for (const id of ids) {
      const { path, data } = await this.worker.request(Method.recoveryRead, { id });
      const uri = vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: vscode.Uri.file(path).path });
      const text = new TextDecoder().decode(data);
      // LockedNotes must not revert this note's editor too (its revert could land after the text is put back).
      restoringNotes.add(uri.toString());
      try {
        let doc: vscode.TextDocument;
        try { doc = await vscode.workspace.openTextDocument(uri); } catch {
          await vscode.workspace.fs.writeFile(uri, data);  // the note was deleted meanwhile: bring it back
          doc = await vscode.workspace.openTextDocument(uri);
        }
        const editor = await vscode.window.showTextDocument(doc, { preview: false });
        // VS Code may still hold the placeholder it was closed with: load the real note (and its version on disk).
        if (doc.getText() === PLACEHOLDER_TEXT || isLockedText(doc.getText())) await vscode.commands.executeCommand('workbench.action.files.revert');
        if (!(await replaceText(editor, text))) { this.log.warn('a recovered note could not be put back into its editor'); continue; }
        await this.worker.request(Method.recoveryDiscard, { id });
        restored++;
      } finally { restoringNotes.delete(uri.toString()); }
    }
    if (restored) this.log.info(`restored ${restored} note(s) from sealed recovery copies`);
    return restored;
  }
}

/** Makes `text` the editor's whole text (one edit, undoable), unless it already is; false if VS Code refused the edit. */
async function replaceText(editor: vscode.TextEditor, text: string): Promise<boolean> {
  const doc = editor.document;
  if (doc.getText() === text) return true;
  return editor.edit(b => b.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text));
}

function noteOf(tab: vscode.Tab): vscode.Uri | undefined {
  const i = tab.input;
  if (i instanceof vscode.TabInputText) return i.uri;
  if (i instanceof vscode.TabInputTextDiff) return isNote(i.modified) ? i.modified : i.original;
  return undefined;
}

/** A tab showing decrypted content: a note, a diff with a note on either side, a preview of a note, the player. */
function showsDecrypted(tab: vscode.Tab, noteNames: Set<string>): boolean {
  const i = tab.input;
  if (i instanceof vscode.TabInputText) return showsPlaintext(i.uri);
  if (i instanceof vscode.TabInputTextDiff) return showsPlaintext(i.original) || showsPlaintext(i.modified);
  if (i instanceof vscode.TabInputCustom) return i.viewType === REDIRECT_VIEW_TYPE || isNote(i.uri);
  if (i instanceof vscode.TabInputNotebook) return isNote(i.uri);
  // Markdown previews are webviews that do not expose their source: match "Preview plan.md" by the note's name.
  if (i instanceof vscode.TabInputWebview) return /markdown\.preview/i.test(i.viewType) && [...noteNames].some(n => tab.label.includes(n));
  return false;
}
