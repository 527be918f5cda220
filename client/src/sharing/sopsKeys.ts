// NoteSeal: Update sops Keys from .sops.yaml (issue 27), as `sops updatekeys` / `noteseal updatekeys`: the data
// key of a sops file is rewrapped to the age recipients of the matching creation rule of the repository's
// `.sops.yaml`. The repository is not trusted: a `.sops.yaml` this machine has not accepted (or that changed)
// is shown first, in a modal naming every recipient it would add or take away, and used only once accepted
// (exactly the text shown, by its SHA-256). A save in the editor never reads `.sops.yaml`: it keeps the file's
// own recipients, as `sops edit` does.
import * as vscode from 'vscode';
import { Method, type PendingSopsConfig } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import { commandFileOf } from '../shared/uris';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';
import type { VaultController } from '../vault/vault';

/** The modal's text: which `.sops.yaml`, why it is asked, and every recipient change it would make. */
export function sopsConfigAcceptanceText(pending: PendingSopsConfig, relativeConfig: string, relativeFile: string): { message: string; detail: string } {
  const message = pending.reason === 'changed'
    ? vscode.l10n.t('{0} changed since you accepted it. Accept its rules for {1}?', relativeConfig, relativeFile)
    : vscode.l10n.t('{0} has not been accepted on this machine. Accept its rules for {1}?', relativeConfig, relativeFile);
  const lines = [
    vscode.l10n.t('Anyone who can write to the repository can change this file. Rule {0} would make the file readable by:', pending.rule),
    ...pending.add.map(r => `+ age ${r}`),
    ...(pending.remove.length ? [vscode.l10n.t('and would remove:'), ...pending.remove.map(r => `- age ${r}`)] : []),
    ...(pending.add.length || pending.remove.length ? [] : [vscode.l10n.t('(no change to this file\'s age recipients)')]),
    ...(pending.others.length ? [vscode.l10n.t('Other keys it names are not applied (NoteSeal writes age keys only): {0}', pending.others.join(', '))] : []),
  ];
  return { message, detail: lines.join('\n') };
}

/** The acceptance modal; true when accepted. */
async function askInModal(pending: PendingSopsConfig, file: string, accept: string): Promise<boolean> {
  const { message, detail } = sopsConfigAcceptanceText(pending, vscode.workspace.asRelativePath(pending.configFile), vscode.workspace.asRelativePath(file));
  return await vscode.window.showWarningMessage(message, { modal: true, detail }, accept) === accept;
}

/**
 * Runs `run` (a worker request that uses the `.sops.yaml` governing `file`); when it is refused because that
 * file is not accepted here, shows the modal (button `accept`), accepts exactly what was shown and runs it
 * again. Undefined when the user declines. Update sops Keys and Encrypt with sops both come here.
 */
export async function withSopsConfigAcceptance<T>(worker: WorkerClient, file: string, accept: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    if (!isWorkerError(e, 'UNTRUSTED_RECIPIENTS')) throw e;
    const pending = await worker.request(Method.sopsPendingConfig, { path: file });
    if (!pending) throw e;
    if (!(await askInModal(pending, file, accept))) return undefined;
    await worker.request(Method.sopsAcceptConfig, { configFile: pending.configFile, sha256: pending.sha256 });
    return run();
  }
}

export function registerSopsKeys(worker: WorkerClient, vault: VaultController, command: (id: string, run: (...args: never[]) => unknown) => void): void {
  command(Commands.updateSopsKeys, async (uri?: vscode.Uri) => {
    const file = commandFileOf(uri);
    if (!file) { void vscode.window.showErrorMessage(vscode.l10n.t('Choose a sops file.')); return undefined; }
    if (!(await vault.ensureUnlocked(vscode.l10n.t('Updating the keys of a sops file needs its data key.')))) return undefined;
    const relative = vscode.workspace.asRelativePath(file);
    const update = () => worker.request(Method.sopsUpdateKeys, { path: file });
    try {
      const result = await withSopsConfigAcceptance(worker, file, vscode.l10n.t('Accept and Update Keys'), update);
      if (!result) return undefined;
      const changes = [...result.added.map(r => `+ ${r}`), ...result.removed.map(r => `- ${r}`)];
      void vscode.window.showInformationMessage(changes.length
        ? vscode.l10n.t('NoteSeal: the age recipients of {0} now follow {1}: {2}', relative, vscode.workspace.asRelativePath(result.configFile), changes.join(', '))
        : vscode.l10n.t('NoteSeal: the age recipients of {0} are already those of {1}.', relative, vscode.workspace.asRelativePath(result.configFile)));
      return result;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not update the keys of {0}: {1}', relative, (e as Error).message));
      return undefined;
    }
  });
}
