// `.enc` files reached through VS Code's own `file:` editors and Explorer, which know nothing of NoteSeal and
// write whatever text they hold. What this module makes hold:
//  - Saving a `file:` `*.enc` text document (Untitled → Save As `x.md.enc`, Open With → Text Editor) never
//    writes its text: no API can stop or redirect that write, but `onWillSaveTextDocument` runs, inside the
//    save, before the bytes are written, and may edit the document (ExtHostDocumentSaveParticipant in
//    src/vs/workbench/api/common/extHostDocumentSaveParticipant.ts, microsoft/vscode). The edit empties it, so
//    VS Code writes 0 bytes (and Local History copies 0 bytes); after the save the text is sealed through the
//    `noteseal:` view and the editor becomes the decrypted one. A save that skips participants ("Save without
//    Formatting", a listener that used up the shared 1.5 s budget) does write plaintext: it is sealed at once,
//    its Local History copies destroyed, and the user told (docs/ARCHITECTURE.md, "Leak defence"). No API can
//    prevent that save: the command passes skipSaveParticipants (src/vs/workbench/contrib/files/browser/
//    fileCommands.ts, SAVE_FILE_WITHOUT_FORMATTING_COMMAND_ID) and TextFileEditorModel then runs no participant
//    at all (src/vs/workbench/services/textfile/common/textFileEditorModel.ts, doSave); VS Code's own shutdown
//    save-all skips them too. An `.age` name is sealed the same way, as an age file (sealSlippedAge).
//  - A text editor on the raw bytes of a `.enc` is replaced by the decrypted view (or the player).
//  - A `.enc` holding plaintext is never shown decrypted or as garbage: NoteSeal asks, then seals it in place.
//  - Explorer renames follow open notes; a Save As to `x.md.enc` from a decrypted note lands in `x.md.enc`;
//    an Explorer copy keeps its inner extension (client/src/encNames.ts).
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { AGE_SNIFF_BYTES, hasDotenvName, isAgePath, isEncPath, isNoteSealError, isSealedPath, logicalPathOf, looksLikeAgeFile, MAGIC, openRegularFile, readRegularFile } from '../../../server/src/shared';
import { fixedCopyName, originalOfCopy, parseCopyName } from './encNames';
import { historyDirOf, purgeHistoryOf } from './localHistory';
import type { Logger } from '../shared/logger';
import { decryptedViewOf, NOTESEAL_SCHEME } from '../shared/uris';
import { tabUri } from '../vault/vault';

/** 'not-regular': a symbolic link (to anything), a pipe or a device, never read through (crypto/safe-open.ts). */
export type EncContent = 'sealed' | 'empty' | 'plaintext' | 'missing' | 'directory' | 'not-regular';
const REDIRECT_VIEW_TYPE = 'noteseal.encRedirect';
/** A save whose `onDidSave` never comes (it failed after the document was emptied) gets its text back. */
const SAVE_WATCHDOG_MS = 15_000;

/** What a `.enc` file on disk holds, from its first bytes: a (possibly truncated) NoteSeal file, nothing, or other bytes. */
export async function encContentOf(fsPath: string): Promise<EncContent> {
  let h: fs.FileHandle;
  try { h = await openRegularFile(fsPath); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'EISDIR') return 'directory';
    if (isNoteSealError(e, 'NOT_A_REGULAR_FILE')) return (await fs.lstat(fsPath)).isDirectory() ? 'directory' : 'not-regular';
    throw e;
  }
  try {
    const st = await h.stat();
    if (st.size === 0) return 'empty';
    const head = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await h.read(head, 0, MAGIC.length, 0);
    return head.subarray(0, bytesRead).equals(MAGIC.subarray(0, bytesRead)) ? 'sealed' : 'plaintext';
  } finally { await h.close(); }
}

const isFileEnc = (uri: vscode.Uri) => uri.scheme === 'file' && isEncPath(uri.path);
/** A `file:` `.enc` or `.age`: a raw text save of either must never write its text (issue 26: Untitled → Save As `x.age`). */
const isFileSealed = (uri: vscode.Uri) => uri.scheme === 'file' && isSealedPath(uri.path);

/** Whether a file on disk starts as an age file does (binary or armored): its raw bytes are ciphertext. */
async function isAgeOnDisk(fsPath: string): Promise<boolean> {
  let h: fs.FileHandle;
  try { h = await openRegularFile(fsPath); } catch { return false; }
  try {
    const head = Buffer.alloc(AGE_SNIFF_BYTES);
    return looksLikeAgeFile(head.subarray(0, (await h.read(head, 0, head.length, 0)).bytesRead));
  } finally { await h.close(); }
}
const isRecordingFile = (uri: vscode.Uri) => /\.wav\.enc$/i.test(uri.path);
const rel = (uri: vscode.Uri) => vscode.workspace.asRelativePath(uri);
const textTabsOf = (uri: vscode.Uri) => vscode.window.tabGroups.all.flatMap(g => g.tabs)
  .filter(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri.toString());
const message = (e: unknown) => (e as Error).message ?? String(e);

interface PendingSave { text: string; previous?: Uint8Array; done: Promise<void>; finish(): void }

export class EncGuard implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly pending = new Map<string, PendingSave>();
  private readonly refusing = new Set<string>();
  private readonly saveAsTargets = new Set<string>();
  private readonly historyDir: string | undefined;

  constructor(context: vscode.ExtensionContext, private readonly log: Logger) {
    this.historyDir = context.globalStorageUri.scheme === 'file' ? historyDirOf(context.globalStorageUri.fsPath) : undefined;
    this.subscriptions.push(
      vscode.workspace.onWillSaveTextDocument(e => this.beforeRawSave(e)),
      vscode.workspace.onDidSaveTextDocument(doc => {
        if (isFileSealed(doc.uri)) void this.afterRawSave(doc);
        else if (doc.uri.scheme === NOTESEAL_SCHEME && this.saveAsTargets.delete(doc.uri.toString())) void this.fixSaveAsTarget(doc.uri);
      }),
      vscode.window.tabGroups.onDidChangeTabs(e => { for (const t of [...e.opened, ...e.changed]) this.refuseRawTab(t); }),
      vscode.workspace.onWillCreateFiles(e => { for (const f of e.files) this.noteSaveAsTarget(f); }),
      vscode.workspace.onDidCreateFiles(e => { for (const f of e.files) if (isFileEnc(f)) void this.afterCreate(f); }),
      vscode.workspace.onWillRenameFiles(e => this.beforeRename(e)),
      vscode.workspace.onDidRenameFiles(e => void this.afterRename(e)),
    );
    for (const g of vscode.window.tabGroups.all) for (const t of g.tabs) this.refuseRawTab(t);
  }

  /** Resolves once NoteSeal has finished with a save of `file` it is handling (at once when none). */
  settled(file: vscode.Uri): Promise<void> {
    return this.pending.get(file.toString())?.done ?? Promise.resolve();
  }

  /**
   * Opens the decrypted view of a `file:` `.enc`. Plaintext in it is never shown: NoteSeal asks (a modal
   * naming the file; `sealPlaintext` answers yes) and seals it in place first.
   */
  async openDecrypted(file: vscode.Uri, opts: { viewColumn?: vscode.ViewColumn; sealPlaintext?: boolean; preview?: boolean } = {}): Promise<vscode.TextEditor | undefined> {
    await this.settled(file);
    const content = await encContentOf(file.fsPath);
    if (content === 'not-regular') {
      void vscode.window.showErrorMessage(`NoteSeal did not open ${rel(file)}: it is a symbolic link (or a pipe or device), and NoteSeal never follows one — a repository could point it at any file, such as an SSH key. Nothing was read or changed.`);
      return undefined;
    }
    // An age file (issue 26) or a dotenvx `.env…` (issue 27) is not NoteSeal's format: the worker reads it as
    // such, and refuses anything else.
    if (content === 'plaintext' && !isAgePath(file.path) && !hasDotenvName(file.path)) {
      if (!opts.sealPlaintext && !(await this.askToSeal(file))) {
        void vscode.window.showWarningMessage(`NoteSeal did not open ${rel(file)}: it is not encrypted. Nothing was changed.`);
        return undefined;
      }
      await this.sealInPlace(file);
      void vscode.window.showInformationMessage(`NoteSeal encrypted ${rel(file)}: it held plaintext.`);
    }
    return vscode.window.showTextDocument(decryptedViewOf(file), { viewColumn: opts.viewColumn, preview: opts.preview ?? false });
  }

  private async askToSeal(file: vscode.Uri): Promise<boolean> {
    const size = (await fs.lstat(file.fsPath)).size;
    const choice = await vscode.window.showWarningMessage(`${rel(file)} is not encrypted`, {
      modal: true,
      detail: `It holds ${size} bytes that are not a NoteSeal file: plaintext written under an encrypted name (by a text editor or another program), or another program's format. NoteSeal will not show it. Encrypt it now, in place? Copies written before may remain on the disk, in backups or in git history.`,
    }, 'Encrypt Now');
    return choice === 'Encrypt Now';
  }

  /** Seals the bytes of a `.enc` that holds plaintext, in place (the worker replaces it crash-safely). */
  private async sealInPlace(file: vscode.Uri): Promise<void> {
    const bytes = await readRegularFile(file.fsPath); // never through a link: it would seal the link's target into the repository
    await vscode.workspace.fs.writeFile(decryptedViewOf(file), bytes);
    const purged = await this.purgeHistory(file, bytes);
    this.log.info(`sealed a .enc file that held plaintext (${purged} Local History copies destroyed)`);
  }

  private async purgeHistory(file: vscode.Uri, plaintext?: Uint8Array): Promise<number> {
    return this.historyDir ? purgeHistoryOf(this.historyDir, file.path, plaintext).catch(() => 0) : 0;
  }

  // ── saves of `file:` `.enc` text documents ────────────────────────────────────────────────────────

  private beforeRawSave(e: vscode.TextDocumentWillSaveEvent): void {
    const doc = e.document;
    if (!isFileSealed(doc.uri)) return;
    const text = doc.getText();
    if (!text) return; // an empty note: 0 bytes is what the worker reads as one
    const key = doc.uri.toString();
    let finish!: () => void;
    const done = new Promise<void>(r => { finish = r; });
    const save: PendingSave = { text, done, finish };
    this.pending.set(key, save);
    const watchdog = setTimeout(() => void this.recoverFailedSave(doc, save), SAVE_WATCHDOG_MS);
    void done.then(() => clearTimeout(watchdog));
    const all = new vscode.Range(doc.positionAt(0), doc.positionAt(text.length));
    // Synchronously registered, so the emptying edit is applied before VS Code writes the document.
    e.waitUntil((async () => {
      // A raw view of a NoteSeal file ("Open Anyway" on its binary bytes): keep the real file to restore.
      try {
        const sealedNow = isAgePath(doc.uri.path) ? await isAgeOnDisk(doc.uri.fsPath) : await encContentOf(doc.uri.fsPath) === 'sealed';
        if (sealedNow) save.previous = await readRegularFile(doc.uri.fsPath);
      } catch { /* none */ }
      return [vscode.TextEdit.delete(all)];
    })());
  }

  private async afterRawSave(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const save = this.pending.get(key);
    this.pending.delete(key);
    try {
      if (save?.previous) {
        await vscode.workspace.fs.writeFile(doc.uri, save.previous);
        await this.swapToView(doc.uri, true);
        void vscode.window.showWarningMessage(`NoteSeal kept ${rel(doc.uri)} encrypted: saving a text editor on its raw bytes would have destroyed it. Edit it in the decrypted view.`);
      } else if (save) {
        await this.sealText(doc, save.text);
      } else if (isAgePath(doc.uri.path)) {
        if (await encContentOf(doc.uri.fsPath) === 'plaintext' && !(await isAgeOnDisk(doc.uri.fsPath))) await this.sealSlippedAge(doc);
      } else if (await encContentOf(doc.uri.fsPath) === 'plaintext') {
        await this.sealSlipped(doc.uri);
      }
    } catch (e) {
      this.log.error(`handling a save of a .enc file failed: ${message(e)}`);
      void vscode.window.showErrorMessage(`NoteSeal: ${message(e)}`);
    } finally { save?.finish(); }
  }

  /** The text never reached the disk (the file is empty): seal it; on failure the user decides, nothing is lost silently. */
  private async sealText(doc: vscode.TextDocument, text: string): Promise<void> {
    for (;;) {
      try {
        await vscode.workspace.fs.writeFile(decryptedViewOf(doc.uri), new TextEncoder().encode(text));
        await this.purgeHistory(doc.uri);
        await this.swapToView(doc.uri, false);
        void vscode.window.showInformationMessage(`NoteSeal saved ${rel(doc.uri)} encrypted.`);
        return;
      } catch (e) {
        const choice = await vscode.window.showErrorMessage(`NoteSeal could not encrypt ${rel(doc.uri)}: ${message(e)}`, {
          modal: true, detail: 'No plaintext was written: the file is empty. Your text is held in memory only.',
        }, 'Try Again', 'Put Back in the Editor', 'Discard the Text');
        if (choice === 'Try Again') continue;
        if (choice !== 'Discard the Text') await this.putBack(doc.uri, text);
        return;
      }
    }
  }

  /** A save that skipped the participant wrote plaintext: seal it at once and say what may remain. */
  private async sealSlipped(file: vscode.Uri): Promise<void> {
    const plaintext = await readRegularFile(file.fsPath).catch(() => undefined);
    try {
      await this.sealInPlace(file);
      // VS Code copies a saved file into Local History on its own schedule: destroy late copies too.
      for (const ms of [1000, 5000]) setTimeout(() => void this.purgeHistory(file, plaintext), ms);
    } catch (e) {
      const choice = await vscode.window.showErrorMessage(`${rel(file)} holds PLAINTEXT on disk and NoteSeal could not encrypt it: ${message(e)}`, 'Encrypt Now');
      if (choice === 'Encrypt Now') await this.sealInPlace(file);
      else return;
    }
    await this.swapToView(file, false);
    void vscode.window.showWarningMessage(`NoteSeal encrypted ${rel(file)} right after VS Code saved it as plaintext (a save that bypassed NoteSeal, such as Save without Formatting). Its Local History copies were destroyed; blocks on the disk may still hold the plaintext.`);
  }

  /**
   * A save that skipped the participant (Save without Formatting) wrote plaintext into an age name. No API
   * stops that write (see the top of this file); the text is sealed as an age file at once: the file is
   * emptied (0 bytes is a new age note to the worker), the text written through the decrypted view (the
   * recipients rule, with the list acceptance as any age save), Local History copies destroyed.
   */
  private async sealSlippedAge(doc: vscode.TextDocument): Promise<void> {
    const file = doc.uri;
    const plaintext = await readRegularFile(file.fsPath); // never through a link
    await fs.truncate(file.fsPath, 0);
    for (const ms of [0, 1000, 5000]) setTimeout(() => void this.purgeHistory(file, plaintext), ms);
    await this.sealText(doc, new TextDecoder().decode(plaintext));
    plaintext.fill(0);
    void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal encrypted {0} as an age file right after VS Code saved it as plaintext (a save that bypassed NoteSeal, such as Save without Formatting). Its Local History copies were destroyed; blocks on the disk may still hold the plaintext.', rel(file)));
  }

  private async putBack(file: vscode.Uri, text: string): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(file);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(file, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text);
    await vscode.workspace.applyEdit(edit);
    await vscode.window.showTextDocument(doc, { preview: false });
    void vscode.window.showWarningMessage(`${rel(file)} is not saved. Save it again once NoteSeal can encrypt it (unlocked); until then it is an unsaved editor like any other.`);
  }

  private async recoverFailedSave(doc: vscode.TextDocument, save: PendingSave): Promise<void> {
    if (this.pending.get(doc.uri.toString()) !== save) return;
    this.pending.delete(doc.uri.toString());
    save.finish();
    if (!doc.isClosed && doc.getText() === '') await this.putBack(doc.uri, save.text).catch(() => undefined);
  }

  /** Replaces raw text tabs of `file` by its decrypted view (in the first one's column); `always` opens it anyway. */
  private async swapToView(file: vscode.Uri, always: boolean): Promise<void> {
    const tabs = textTabsOf(file);
    const column = tabs[0]?.group.viewColumn;
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
    if (tabs.length || always) await vscode.window.showTextDocument(decryptedViewOf(file), { viewColumn: column, preview: false });
  }

  // ── raw editors, created files, Save As targets ─────────────────────────────────────────────────

  /** A text editor on the raw bytes of a `.enc` is closed, and the decrypted view (or the player) opened instead. */
  private refuseRawTab(tab: vscode.Tab): void {
    if (!(tab.input instanceof vscode.TabInputText) || !isFileEnc(tab.input.uri)) return;
    const file = tab.input.uri;
    const key = file.toString();
    if (this.refusing.has(key)) return;
    this.refusing.add(key);
    void (async () => {
      await this.settled(file);
      const tabs = textTabsOf(file);
      const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === key);
      if (!tabs.length || doc?.isDirty) return; // gone, or unsaved text that the next save seals
      const column = tabs[0].group.viewColumn;
      await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
      if (isRecordingFile(file)) { await vscode.commands.executeCommand('vscode.openWith', file, REDIRECT_VIEW_TYPE, column); return; }
      void vscode.window.showInformationMessage(`NoteSeal opened ${rel(file)} decrypted: a text editor on the raw file would save plaintext into it.`);
      await this.openDecrypted(file, { viewColumn: column });
    })().catch(e => void vscode.window.showErrorMessage(`NoteSeal could not open ${rel(file)}: ${message(e)}`))
      .finally(() => this.refusing.delete(key));
  }

  private async afterCreate(file: vscode.Uri): Promise<void> {
    try {
      if (await this.fixCopyName(file)) return;
      if (this.pending.has(file.toString()) || await encContentOf(file.fsPath) !== 'plaintext') return;
      if (await this.askToSeal(file)) await this.sealInPlace(file);
    } catch (e) { this.log.warn(`checking a new .enc file failed: ${message(e)}`); }
  }

  /** `x.yaml copy.enc` made by an Explorer copy of `x.yaml.enc` → `x copy.yaml.enc`. */
  private async fixCopyName(file: vscode.Uri): Promise<boolean> {
    const dir = path.dirname(file.fsPath);
    const copy = parseCopyName(path.basename(file.fsPath));
    if (!copy || !existsSync(path.join(dir, originalOfCopy(copy)))) return false;
    const fixed = fixedCopyName(path.basename(file.fsPath), name => existsSync(path.join(dir, name)));
    if (!fixed) return false;
    await vscode.workspace.fs.rename(file, vscode.Uri.file(path.join(dir, fixed)), { overwrite: false });
    this.log.info('renamed an Explorer copy of an encrypted file to keep its inner extension');
    return true;
  }

  /** VS Code creates a Save As target before it saves into it: `noteseal:/…/x.md.enc` would be the file `x.md.enc.enc`. */
  private noteSaveAsTarget(uri: vscode.Uri): void {
    if (uri.scheme !== NOTESEAL_SCHEME || !isSealedPath(uri.path)) return;
    const key = uri.toString();
    this.saveAsTargets.add(key);
    setTimeout(() => this.saveAsTargets.delete(key), 60_000);
  }

  /** After the Save As: `x.md.enc.enc` → `x.md.enc` (asking before replacing one), and the editor follows. */
  private async fixSaveAsTarget(wrong: vscode.Uri): Promise<void> {
    if (isAgePath(wrong.path)) return this.fixAgeSaveAsTarget(wrong);
    const right = wrong.with({ path: logicalPathOf(wrong.path) });
    const rightFile = vscode.Uri.file(wrong.with({ scheme: 'file' }).fsPath);
    try {
      // VS Code opens the target's editor after the save; renaming before that would leave it on a missing file.
      const end = Date.now() + 3000;
      while (!textTabsOf(wrong).length && Date.now() < end) await new Promise(r => setTimeout(r, 50));
      const exists = await encContentOf(rightFile.fsPath) !== 'missing';
      if (exists) {
        const choice = await vscode.window.showWarningMessage(`${rel(rightFile)} already exists. Replace it with the note you saved?`, {
          modal: true, detail: `You saved as "${path.basename(wrong.path)}" in the decrypted view, which NoteSeal would store as ${path.basename(wrong.path)}.enc.`,
        }, 'Replace');
        if (choice !== 'Replace') { void vscode.window.showInformationMessage(`NoteSeal kept the note as ${rel(rightFile)}.enc.`); return; }
      }
      await vscode.workspace.fs.rename(wrong, right, { overwrite: exists });
      await this.retarget(wrong, right);
    } catch (e) { void vscode.window.showErrorMessage(`NoteSeal could not store the note as ${rel(rightFile)}: ${message(e)}`); }
  }

  /**
   * Saved as `y.md.age` in the decrypted view: NoteSeal stored it as `y.md.age.enc`, but the user asked for an
   * age file. It is written again as the age file `y.md.age` (by the worker: the recipients rule, asking to
   * accept a new `.age-recipients` as any age save does), the `.enc` copy is removed, and the editor follows to
   * `y.md`. The plaintext goes from the worker to the worker through this process's memory only.
   */
  private async fixAgeSaveAsTarget(wrong: vscode.Uri): Promise<void> {
    const ageFile = wrong.with({ scheme: 'file' }).fsPath;              // y.md.age
    const right = wrong.with({ path: wrong.path.slice(0, -'.age'.length) }); // noteseal:/…/y.md
    try {
      const end = Date.now() + 3000;
      while (!textTabsOf(wrong).length && Date.now() < end) await new Promise(r => setTimeout(r, 50));
      if (await encContentOf(ageFile.slice(0, -'.age'.length) + '.enc') !== 'missing') {
        void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal kept the note as {0}.enc: {1}.enc exists, and an age file beside it could not be opened by its name.', rel(vscode.Uri.file(ageFile)), rel(right.with({ scheme: 'file' }))));
        return;
      }
      const exists = await encContentOf(ageFile) !== 'missing';
      if (exists) {
        const replace = vscode.l10n.t('Replace');
        const choice = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already exists. Replace it with the note you saved?', rel(vscode.Uri.file(ageFile))), {
          modal: true, detail: vscode.l10n.t('It will be written as an age file to its recipients.'),
        }, replace);
        if (choice !== replace) { void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal kept the note as {0}.enc.', rel(vscode.Uri.file(ageFile)))); return; }
      } else await fs.writeFile(ageFile, '', { flag: 'wx' });          // an empty age file: its first save seals it
      const text = await vscode.workspace.fs.readFile(wrong);
      try { await vscode.workspace.fs.writeFile(right, text); } finally { text.fill(0); }
      await vscode.workspace.fs.delete(wrong);
      await this.retarget(wrong, right);
    } catch (e) { void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not store the note as the age file {0}: {1}', rel(vscode.Uri.file(ageFile)), message(e))); }
  }

  // ── renames in the Explorer ────────────────────────────────────────────────────────────────────

  /** Dirty notes under a renamed `.enc` (or folder) are saved first, so they move clean. */
  private beforeRename(e: vscode.FileWillRenameEvent): void {
    const dirty = vscode.workspace.textDocuments.filter(d => d.uri.scheme === NOTESEAL_SCHEME && d.isDirty && e.files.some(f => viewAfterRename(d.uri, f.oldUri, f.newUri) !== null));
    if (dirty.length) e.waitUntil(Promise.all(dirty.map(d => d.save().then(undefined, () => false))));
  }

  private async afterRename(e: vscode.FileRenameEvent): Promise<void> {
    const views = new Set([...vscode.workspace.textDocuments.map(d => d.uri), ...vscode.window.tabGroups.all.flatMap(g => g.tabs).map(tabUri)]
      .filter((u): u is vscode.Uri => u?.scheme === NOTESEAL_SCHEME).map(u => u.toString()));
    for (const key of views) {
      const view = vscode.Uri.parse(key);
      for (const f of e.files) {
        const next = viewAfterRename(view, f.oldUri, f.newUri);
        if (next === null) continue;
        try {
          if (next) await this.retarget(view, next);
          else void vscode.window.showWarningMessage(`${rel(f.newUri)} is no longer named .enc: NoteSeal no longer opens it. Rename it back to end in .enc.`);
        } catch (err) { void vscode.window.showErrorMessage(`NoteSeal could not follow the rename of ${rel(f.oldUri)}: ${message(err)}`); }
        break;
      }
    }
  }

  /** Opens `to` where `from` was shown, carries unsaved text over, and closes `from` without saving it. */
  private async retarget(from: vscode.Uri, to: vscode.Uri): Promise<void> {
    const tabs = textTabsOf(from);
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === from.toString());
    const unsaved = doc?.isDirty ? doc.getText() : undefined;
    const columns = [...new Set(tabs.map(t => t.group.viewColumn))];
    for (const viewColumn of columns) await vscode.window.showTextDocument(to, { viewColumn, preview: false });
    if (unsaved !== undefined) {
      const target = await vscode.workspace.openTextDocument(to);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(to, new vscode.Range(target.positionAt(0), target.positionAt(target.getText().length)), unsaved);
      await vscode.workspace.applyEdit(edit);
      // The old file is gone, so reverting just marks the old editor clean (VS Code ignores FileNotFound on revert).
      await vscode.window.showTextDocument(doc!, { viewColumn: columns[0], preview: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    const stale = textTabsOf(from);
    if (stale.length) await vscode.window.tabGroups.close(stale, true);
    if (columns.length) await vscode.window.showTextDocument(to, { viewColumn: columns[0], preview: false });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

/**
 * Where the decrypted view `view` lives after the Explorer renamed `oldFile` to `newFile`: the new view,
 * undefined when the note is no longer named `.enc`, or null when the rename does not concern it.
 */
export function viewAfterRename(view: vscode.Uri, oldFile: vscode.Uri, newFile: vscode.Uri): vscode.Uri | undefined | null {
  if (oldFile.scheme !== 'file' || view.scheme !== NOTESEAL_SCHEME) return null;
  if (isEncPath(oldFile.path) && view.path === logicalPathOf(oldFile.path)) {
    return isEncPath(newFile.path) ? view.with({ path: logicalPathOf(newFile.path) }) : undefined;
  }
  if (view.path.startsWith(oldFile.path + '/')) return view.with({ path: newFile.path + view.path.slice(oldFile.path.length) });
  return null;
}
