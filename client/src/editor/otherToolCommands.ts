// The Explorer's commands for files other tools write (issue 27): Open with NoteSeal (any file: .enc, age, sops
// by its metadata whatever its name, dotenvx), Encrypt with sops (`noteseal encrypt --sops`: an ACCEPTED
// `.sops.yaml` rule only, else the same acceptance modal as Update sops Keys) and Set Value… (`noteseal set` on a
// sops or dotenvx file: the value typed in a password box, never shown or logged). The worker does the work
// with the CLI's own functions (server/src/vault/otherToolFiles.ts).
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import type { EncGuard } from '../leak/encGuard';
import { withSopsConfigAcceptance } from '../sharing/sopsKeys';
import { commandFileOf, NOTESEAL_SCHEME, ownViewOf, sealedFileOf } from '../shared/uris';
import type { WorkerClient } from '../shared/workerClient';
import type { VaultController } from '../vault/vault';

const rel = (file: string | vscode.Uri): string => vscode.workspace.asRelativePath(file);

/** Closes the plain (ciphertext) text tabs of `file` that hold no unsaved change: its NoteSeal view replaces them. */
async function closeCleanTextTabs(file: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs)
    .filter(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === file.toString() && !t.isDirty);
  if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
}

/** The open `noteseal:` document of `file` holding unsaved text, if any (a command that writes the file waits for it). */
function dirtyViewOf(file: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find(d => d.uri.scheme === NOTESEAL_SCHEME && d.isDirty && sealedFileOf(d.uri) === file.fsPath);
}

export class OtherToolCommands {
  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController, private readonly guard: EncGuard) {}

  /** Opens `uri` through NoteSeal's view when it is a file NoteSeal reads; says what it is not otherwise (nothing opened or written). */
  async openWithNoteSeal(uri?: vscode.Uri): Promise<vscode.TextEditor | undefined> {
    uri ??= vscode.window.activeTextEditor?.document.uri;
    if (uri?.scheme === NOTESEAL_SCHEME) return vscode.window.showTextDocument(uri, { preview: false });
    if (!uri || uri.scheme !== 'file') { void vscode.window.showErrorMessage(vscode.l10n.t('Choose a local file in the Explorer to open with NoteSeal.')); return undefined; }
    const file = uri;
    const { kind, reason } = await this.worker.request(Method.fileOpenWithKind, { path: file.fsPath });
    if (kind === 'none') {
      void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal did not open {0}: {1}. Nothing was opened through NoteSeal or changed.', rel(file), reason ?? ''));
      return undefined;
    }
    if (!(await this.vault.ensureUnlocked(vscode.l10n.t('Opening an encrypted file needs the key.')))) return undefined;
    if (kind === 'enc' || kind === 'age') return this.guard.openDecrypted(file);
    try {
      const editor = await vscode.window.showTextDocument(ownViewOf(file), { preview: false });
      await closeCleanTextTabs(file);
      return editor;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not open {0}: {1}', rel(file), (e as Error).message));
      return undefined;
    }
  }

  /**
   * `noteseal set` for a sops or dotenvx file: the key (a sops key path as the CLI takes it: `db.password`,
   * `servers[0]`, `"a.b".c`; a dotenvx name) and the value (a password box) are asked unless given (tests).
   */
  async setValue(uri?: vscode.Uri, given?: { keyPath: string; value: string }): Promise<{ format: string; added: boolean } | undefined> {
    const path = commandFileOf(uri);
    const file = path === undefined ? undefined : vscode.Uri.file(path);
    if (!file) { void vscode.window.showErrorMessage(vscode.l10n.t('Choose a sops or dotenvx file.')); return undefined; }
    const { kind } = await this.worker.request(Method.fileOpenWithKind, { path: file.fsPath });
    if (kind !== 'sops' && kind !== 'dotenvx') {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is neither a sops file nor a dotenvx file: Set Value changes a value of one of those.', rel(file)));
      return undefined;
    }
    if (dirtyViewOf(file)) { void vscode.window.showErrorMessage(vscode.l10n.t('Save {0} first: Set Value writes the file on disk.', rel(file))); return undefined; }
    const title = vscode.l10n.t('Set a value of {0}', rel(file));
    const keyPath = given?.keyPath ?? await vscode.window.showInputBox({
      title, ignoreFocusOut: true,
      prompt: kind === 'sops'
        ? vscode.l10n.t('Key path, as noteseal set takes it: db.password, servers[0], "a.b".c')
        : vscode.l10n.t('Variable name, such as API_KEY'),
      validateInput: v => (v.trim() ? undefined : vscode.l10n.t('Type a key.')),
    });
    if (!keyPath) return undefined;
    const value = given?.value ?? await vscode.window.showInputBox({
      title, ignoreFocusOut: true, password: true,
      prompt: vscode.l10n.t('The value of {0} (hidden as you type; encrypted as a save does)', keyPath.trim()),
    });
    if (value === undefined) return undefined;
    if (!(await this.vault.ensureUnlocked(vscode.l10n.t('Setting a value needs the file\'s key.')))) return undefined;
    try {
      const r = await this.worker.request(Method.fileSetValue, { path: file.fsPath, keyPath: keyPath.trim(), value });
      void vscode.window.showInformationMessage(r.added
        ? vscode.l10n.t('NoteSeal: added {0} to {1}, encrypted as a save does.', keyPath.trim(), rel(file))
        : vscode.l10n.t('NoteSeal: set {0} in {1}, encrypted as a save does.', keyPath.trim(), rel(file)));
      return r;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal did not set {0} in {1}: {2}', keyPath.trim(), rel(file), (e as Error).message));
      return undefined;
    }
  }

  /** `noteseal encrypt --sops` in place: the accepted `.sops.yaml` rule's recipients and options; the modal asks first otherwise. */
  async encryptWithSops(uri?: vscode.Uri): Promise<{ store: string; configFile: string } | undefined> {
    const file = uri?.scheme === 'file' ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!file || file.scheme !== 'file') { void vscode.window.showErrorMessage(vscode.l10n.t('Choose a plaintext YAML, JSON, dotenv or INI file in the Explorer.')); return undefined; }
    const { kind } = await this.worker.request(Method.fileOpenWithKind, { path: file.fsPath });
    if (kind !== 'none') { void vscode.window.showInformationMessage(vscode.l10n.t('{0} is already encrypted ({1}).', rel(file), kind)); return undefined; }
    const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === file.toString());
    if (open?.isDirty && !(await open.save())) { void vscode.window.showErrorMessage(vscode.l10n.t('Save the file first.')); return undefined; }
    if (!(await this.vault.ensureUnlocked(vscode.l10n.t('Encrypting needs the key.')))) return undefined;
    const encrypt = () => this.worker.request(Method.sopsEncrypt, { path: file.fsPath });
    try {
      const result = await withSopsConfigAcceptance(this.worker, file.fsPath, vscode.l10n.t('Accept and Encrypt'), encrypt);
      if (!result) return undefined;
      void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal: {0} is now a sops {1} file for {2} age recipient(s) by {3} (rule {4}). The plaintext was replaced in place (atomic rename), but its old blocks on the disk are not scrubbed: copies may remain on the disk, in backups, in git history or in editor history.',
        rel(file), result.store, result.ageRecipients, rel(result.configFile), result.rule));
      await closeCleanTextTabs(file);
      await vscode.window.showTextDocument(ownViewOf(file), { preview: false }).then(undefined, (e: Error) =>
        void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not open {0}: {1}', rel(file), e.message)));
      return result;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal did not encrypt {0}: {1}', rel(file), (e as Error).message));
      return undefined;
    }
  }
}
