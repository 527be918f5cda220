// Sharing in VS Code: Copy My Public Identity, Share Folder…, Who Can Read This File?, shared and writer decorations,
// Import age Identity…, Update sops Keys from .sops.yaml.
// May use shared/ and vault/; keys, stanzas, signatures and list checks stay in the worker (server/src/keys/).
import type * as vscode from 'vscode';
import type { Core } from '../shared/index';
import type { VaultController } from '../vault/vault';
import { registerAgeIdentity } from './ageIdentity';
import { registerSharing as registerSharingUi } from './sharing';
import { registerSopsKeys } from './sopsKeys';

export function registerSharing(context: vscode.ExtensionContext, deps: Core & { vault: VaultController; noteChanges: vscode.Event<vscode.FileChangeEvent[]> }): void {
  registerSharingUi(context, deps.worker, deps.vault, deps.command, deps.noteChanges);
  registerAgeIdentity(deps.worker, deps.vault, deps.command);
  registerSopsKeys(deps.worker, deps.vault, deps.command);
}
