// A note that could not be opened because NoteSeal stayed locked (the passphrase box dismissed, or a tab
// VS Code restored after a reload): instead of VS Code's bare "could not be opened" or an internal
// `noteseal:` address, one notification names the notes and offers Unlock and Open.
import * as vscode from 'vscode';
import { sealedFileOf } from '../shared/uris';
import { tabUri, type VaultController } from '../vault/vault';

export class LockedOpens implements vscode.Disposable {
  private readonly pending = new Map<string, vscode.Uri>();
  private timer: NodeJS.Timeout | undefined;

  /** `open` opens an `.enc` file decrypted (the plaintext check included): EncGuard.openDecrypted. */
  constructor(private readonly vault: VaultController, private readonly open: (file: vscode.Uri) => Promise<unknown>) {}

  /** A read of the decrypted view `view` was refused because NoteSeal is locked. */
  report(view: vscode.Uri): void {
    this.pending.set(view.toString(), view);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.offer(), 400);
  }

  private async offer(): Promise<void> {
    const views = [...this.pending.values()];
    this.pending.clear();
    if (!views.length || !this.vault.state.locked) return;
    const names = views.map(v => vscode.workspace.asRelativePath(vscode.Uri.file(sealedFileOf(v))));
    const unlockAndOpen = vscode.l10n.t('Unlock and Open');
    const message = views.length === 1
      ? vscode.l10n.t('NoteSeal is locked, so {0} was not opened.', names[0]!)
      : vscode.l10n.t('NoteSeal is locked, so {0} notes were not opened: {1}.', views.length, names.join(', '));
    if (await vscode.window.showWarningMessage(message, unlockAndOpen) !== unlockAndOpen) return;
    if (!(await this.vault.ensureUnlocked())) return;
    for (const view of views) {
      // A tab VS Code restored shows its error placeholder: replace it with the note.
      const stale = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(t => tabUri(t)?.toString() === view.toString() && !t.isDirty);
      if (stale.length) await vscode.window.tabGroups.close(stale, true);
      await this.open(vscode.Uri.file(sealedFileOf(view)));
    }
  }

  dispose(): void { clearTimeout(this.timer); }
}
