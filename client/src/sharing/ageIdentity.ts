// NoteSeal: Import age Identity… (issue 26): an age identity file (`age-keygen` output, a passage identities
// file) is sealed in the key store by the worker, which reads the file itself; then NoteSeal offers to
// delete the plaintext file, saying plainly that deleting does not scrub the disk.
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import type { WorkerClient } from '../shared/workerClient';
import type { VaultController } from '../vault/vault';

const scrubNote = () => vscode.l10n.t('Deleting removes the file\'s name; it does not scrub the disk (SSDs, journals, backups and snapshots may keep the old bytes).');

/** `options.deleteFile` answers the delete question without asking (scripts and tests); absent: ask. */
export function registerAgeIdentity(worker: WorkerClient, vault: VaultController, command: (id: string, run: (...args: never[]) => unknown) => void): void {
  command(Commands.importAgeIdentity, async (uri?: vscode.Uri, options?: { deleteFile?: boolean }) => {
    const file = uri?.scheme === 'file' ? uri : (await vscode.window.showOpenDialog({
      title: vscode.l10n.t('Import age Identity'), openLabel: vscode.l10n.t('Import'), canSelectMany: false,
      filters: { [vscode.l10n.t('age identity files')]: ['txt', 'key', 'age-identity'], [vscode.l10n.t('All files')]: ['*'] },
    }))?.[0];
    if (!file) return undefined;
    if (!(await vault.ensureUnlocked(vscode.l10n.t('Imported identities are sealed under your key.')))) return undefined;
    let result: { added: string[]; already: string[] };
    try {
      result = await worker.request(Method.ageImportIdentities, { file: file.fsPath });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not import {0}: {1}', vscode.workspace.asRelativePath(file), (e as Error).message));
      return undefined;
    }
    const held = result.already.length ? vscode.l10n.t(' ({0} already held)', result.already.length) : '';
    const what = result.added.length === 1
      ? vscode.l10n.t('1 age identity sealed in your key store{0}', held)
      : vscode.l10n.t('{0} age identities sealed in your key store{1}', result.added.length, held);
    const deleteFile = vscode.l10n.t('Delete File');
    const del = options?.deleteFile ?? (await vscode.window.showWarningMessage(
      vscode.l10n.t('{0}. Delete the plaintext file {1} now?', what, vscode.workspace.asRelativePath(file)),
      { modal: true, detail: scrubNote() }, deleteFile)) === deleteFile;
    if (del) {
      await vscode.workspace.fs.delete(file, { useTrash: false });
      void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: {0}; the plaintext file was deleted. {1}', what, scrubNote()));
    } else {
      void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: {0}. The plaintext file is still there: delete it when you no longer need it.', what));
    }
    return result;
  });
}
