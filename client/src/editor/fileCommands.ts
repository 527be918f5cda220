// Explorer and palette commands that create or convert encrypted files. Each one names exactly which
// plaintext is read or written, and warns where plaintext stays on disk.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import * as vscode from 'vscode';
import { ENC_SUFFIX, isEncPath } from '../../../server/src/shared';
import { Method } from '../../../server/src/protocol';
import type { EncGuard } from '../leak/encGuard';
import { acceptListBeforeBulkWrite, withListAcceptance } from '../sharing/listAcceptance';
import { decryptedViewOf, NOTESEAL_SCHEME } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';
import { notePathProblem } from '../leak/encNames';

const SCRUB_WARNING = 'Deleting a file does not scrub its blocks on disk: copies may remain on the disk, in backups, in git history or in editor history.';

export class FileCommands {
  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController, private readonly guard: EncGuard) {}

  /** Opens the decrypted view of an `.enc` file in the text editor (`sealPlaintext`: seal plaintext in it without asking). */
  async openEncrypted(uri?: vscode.Uri, opts?: { sealPlaintext?: boolean }): Promise<vscode.TextEditor | undefined> {
    uri ??= (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'NoteSeal and age files': ['enc', 'age'] }, title: 'Open Encrypted File' }))?.[0];
    if (!uri) return undefined;
    // An explicit open: the remembered key may unlock (the provider's own reads would only ask).
    if (!(await this.vault.ensureUnlocked('Opening an encrypted note needs the key.'))) return undefined;
    return this.guard.openDecrypted(uri, { sealPlaintext: opts?.sealPlaintext });
  }

  /**
   * A new note: a name or a path below the workspace folder (`notes/ideas.md` creates `notes/`), starting in
   * the folder the Explorer's menu was opened on, else the active note's folder. (From the palette VS Code
   * does not tell extensions which folder is selected in the Explorer: the README says so.)
   */
  async newNote(folder?: vscode.Uri): Promise<vscode.TextEditor | undefined> {
    const active = vscode.window.activeTextEditor?.document.uri;
    const start = folder?.scheme === 'file' ? folder
      : active && (active.scheme === 'file' || active.scheme === NOTESEAL_SCHEME) ? vscode.Uri.file(path.dirname(active.fsPath)) : undefined;
    const root = (start && vscode.workspace.getWorkspaceFolder(start)?.uri) ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!root || root.scheme !== 'file') { void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder first: NoteSeal saves the note there.')); return undefined; }
    const dir = start ? path.relative(root.fsPath, start.fsPath).split(path.sep).join('/') : '';
    const initial = dir && !dir.startsWith('..') ? `${dir}/note.md` : 'note.md';
    const name = await vscode.window.showInputBox({
      title: vscode.l10n.t('New Encrypted Note'),
      prompt: vscode.l10n.t('Name or path in {0}, such as notes/ideas.md (saved as NAME.enc; missing folders are created)', path.basename(root.fsPath)),
      value: initial, valueSelection: [initial.length - 'note.md'.length, initial.length - '.md'.length],
      validateInput: v => notePathProblem(v),
    });
    if (!name) return undefined;
    if (!(await this.vault.ensureUnlocked(vscode.l10n.t('A new encrypted note needs the key.')))) return undefined;
    const file = vscode.Uri.joinPath(root, ...name.trim().split('/').filter(Boolean));
    const view = vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: file.path });
    try {
      await vscode.workspace.fs.stat(view);
      void vscode.window.showErrorMessage(vscode.l10n.t('{0}.enc already exists.', vscode.workspace.asRelativePath(file)));
      return undefined;
    } catch { /* does not exist: good */ }
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(file.fsPath)));
    await vscode.workspace.fs.writeFile(view, new Uint8Array());
    return vscode.window.showTextDocument(view, { preview: false });
  }

  async encryptFile(uri?: vscode.Uri): Promise<void> {
    uri ??= vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file') { void vscode.window.showErrorMessage('Choose a file in the Explorer to encrypt.'); return; }
    if (isEncPath(uri.path)) { void vscode.window.showInformationMessage('This file is already encrypted.'); return; }
    const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri!.toString());
    if (open?.isDirty && !(await open.save())) { void vscode.window.showErrorMessage('Save the file first.'); return; }
    if (!(await this.vault.ensureUnlocked('Encrypting needs the key.'))) return;
    const { encPath } = await withListAcceptance(this.worker, uri.fsPath + ENC_SUFFIX, () => this.worker.request(Method.fileEncrypt, { path: uri!.fsPath, deletePlaintext: false }));
    const encUri = vscode.Uri.file(encPath);
    const choice = await vscode.window.showWarningMessage(`Encrypted to ${vscode.workspace.asRelativePath(encUri)}. Delete the plaintext original?`,
      { modal: true, detail: `${vscode.l10n.t('The encrypted copy is already written: Cancel keeps both files, as Keep Both does.')}\n\n${SCRUB_WARNING}` }, 'Delete Plaintext', 'Keep Both');
    if (choice === 'Delete Plaintext') {
      const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri!.toString());
      if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
      await vscode.workspace.fs.delete(uri, { useTrash: false });
    }
    await vscode.window.showTextDocument(decryptedViewOf(encUri), { preview: false });
  }

  async decryptFile(uri?: vscode.Uri): Promise<void> {
    uri ??= (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'NoteSeal files': ['enc'] }, title: 'Decrypt File…' }))?.[0];
    if (!uri || !isEncPath(uri.path)) return;
    const proceed = await vscode.window.showWarningMessage('Decrypt to a plaintext file?', {
      modal: true, detail: 'This writes the decrypted content to disk, unprotected. NoteSeal never does this on its own: the note stays encrypted, and you choose where the plaintext copy goes.',
    }, 'Choose Where…');
    if (proceed !== 'Choose Where…') return;
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(uri.fsPath.slice(0, -'.enc'.length)), title: 'Save the plaintext as' });
    if (!target) return;
    if (!(await this.vault.ensureUnlocked('Decrypting needs the key.'))) return;
    await this.worker.request(Method.fileDecryptTo, { encPath: uri.fsPath, outPath: target.fsPath });
    void vscode.window.showInformationMessage(`Plaintext written to ${vscode.workspace.asRelativePath(target)}.`);
  }

  async encryptFolder(uri?: vscode.Uri): Promise<void> {
    uri ??= (await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, title: 'Encrypt Folder' }))?.[0];
    if (!uri) return;
    const choice = await vscode.window.showWarningMessage(`Encrypt every file in ${vscode.workspace.asRelativePath(uri)}?`, {
      modal: true, detail: `Each file becomes NAME.enc (files already encrypted, .git and node_modules are skipped). ${SCRUB_WARNING}`,
    }, 'Encrypt, Keep Originals', 'Encrypt, Delete Originals');
    if (!choice) return;
    if (!(await this.vault.ensureUnlocked('Encrypting needs the key.'))) return;
    // Below a recipients list not accepted yet, every file would be refused: ask once, first.
    if (!(await acceptListBeforeBulkWrite(this.worker, uri.fsPath))) return;
    const token = randomUUID();
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoteSeal: encrypting folder', cancellable: true }, async (progress, cancel) => {
      // Cancel stops before the next file; the files already encrypted stay encrypted (and are reported).
      const onCancel = cancel.onCancellationRequested(() => { void this.worker.request(Method.folderCancel, { token }).catch(() => undefined); });
      let last = 0;
      const sub = this.worker.onNotification(Method.progress, p => {
        if (p.token !== token || p.total === 0) return;
        const pct = (p.done / p.total) * 100;
        progress.report({ increment: pct - last, message: `${p.done}/${p.total}${p.message ? ' ' + p.message : ''}` });
        last = pct;
      });
      try {
        return await this.worker.request(Method.folderEncrypt, { path: uri!.fsPath, token, deletePlaintext: choice === 'Encrypt, Delete Originals' });
      } finally { sub.dispose(); onCancel.dispose(); }
    });
    const failed = result.failed.length ? ` ${result.failed.length} failed: ${result.failed.slice(0, 3).map(f => `${vscode.workspace.asRelativePath(f.path)} (${f.message})`).join('; ')}` : '';
    const stopped = result.stopped
      ? ` Stopped: ${result.stopped.reason === 'cancelled' ? 'cancelled' : result.stopped.message}; ${result.stopped.notAttempted} file(s) were not encrypted (their originals are untouched).`
      : '';
    (result.failed.length || result.stopped ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(`NoteSeal encrypted ${result.encrypted} file(s), skipped ${result.skipped}.${failed}${stopped}`);
  }
}
