// Git for encrypted files inside VS Code: `Set Up Git for Encrypted Files`, conflict lenses, decrypted views of
// revisions and of diffs. May use shared/ and vault/; git itself runs the CLI (server/src/cli/git-*.ts), not this side.
import type * as vscode from 'vscode';
import type { Core } from '../shared/index';
import type { VaultController } from '../vault/vault';
import { registerGitSupport } from './gitSupport';
import { RevisionContentProvider } from './revisionContent';
import { registerSopsMergeNotices } from './sopsMerges';

export function registerGit(context: vscode.ExtensionContext, deps: Core & { vault: VaultController }): void {
  context.subscriptions.push(RevisionContentProvider.register(deps.worker, deps.vault), registerSopsMergeNotices());
  registerGitSupport(context, deps.log);
}
