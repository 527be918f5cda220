// NoteSeal: Import age Identity… (issue 26): an age identity file (`age-keygen` output, a passage identities
// file) is sealed in the key store by the worker, which reads the file itself; then NoteSeal offers to
// delete the plaintext file, saying plainly that deleting does not scrub the disk.
import * as vscode from 'vscode';
import { Method } from '../../server/src/protocol';
import { Commands } from './commands';
import type { VaultController } from './vault';
import type { WorkerClient } from './workerClient';

const SCRUB_NOTE = 'Deleting removes the file\'s name; it does not scrub the disk (SSDs, journals, backups and snapshots may keep the old bytes).';

/** `options.deleteFile` answers the delete question without asking (scripts and tests); absent: ask. */
export function registerAgeIdentity(worker: WorkerClient, vault: VaultController, command: (id: string, run: (...args: never[]) => unknown) => void): void {
  command(Commands.importAgeIdentity, async (uri?: vscode.Uri, options?: { deleteFile?: boolean }) => {
    const file = uri?.scheme === 'file' ? uri : (await vscode.window.showOpenDialog({
      title: 'Import age Identity', openLabel: 'Import', canSelectMany: false,
      filters: { 'age identity files': ['txt', 'key', 'age-identity'], 'All files': ['*'] },
    }))?.[0];
    if (!file) return undefined;
    if (!(await vault.ensureUnlocked('Imported identities are sealed under your key.'))) return undefined;
    let result: { added: string[]; already: string[] };
    try {
      result = await worker.request(Method.ageImportIdentities, { file: file.fsPath });
    } catch (e) {
      void vscode.window.showErrorMessage(`NoteSeal could not import ${vscode.workspace.asRelativePath(file)}: ${(e as Error).message}`);
      return undefined;
    }
    const what = `${result.added.length} age identit${result.added.length === 1 ? 'y' : 'ies'} sealed in your key store${result.already.length ? ` (${result.already.length} already held)` : ''}`;
    const del = options?.deleteFile ?? (await vscode.window.showWarningMessage(
      `${what}. Delete the plaintext file ${vscode.workspace.asRelativePath(file)} now?`,
      { modal: true, detail: SCRUB_NOTE }, 'Delete File')) === 'Delete File';
    if (del) {
      await vscode.workspace.fs.delete(file, { useTrash: false });
      void vscode.window.showInformationMessage(`NoteSeal: ${what}; the plaintext file was deleted. ${SCRUB_NOTE}`);
    } else {
      void vscode.window.showInformationMessage(`NoteSeal: ${what}. The plaintext file is still there: delete it when you no longer need it.`);
    }
    return result;
  });
}
