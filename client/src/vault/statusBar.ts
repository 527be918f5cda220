// The status-bar lock: locked or unlocked at a glance; the tooltip says which key and when it auto-locks;
// a click toggles (or starts setup on first run).
import * as vscode from 'vscode';
import type { VaultState } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';

export class LockStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('noteseal.lock', vscode.StatusBarAlignment.Left, 100);

  constructor() {
    this.item.name = 'NoteSeal Lock';
    this.item.command = Commands.toggleLock;
    this.item.text = '$(sync~spin) NoteSeal';
    this.item.tooltip = vscode.l10n.t('NoteSeal: the worker is starting');
    this.item.show();
  }

  show(state: VaultState, autoLockAt?: number): void {
    if (!state.initialized) {
      this.item.text = '$(lock) NoteSeal: Set Up';
      this.item.tooltip = vscode.l10n.t('NoteSeal is not set up yet. Click to choose a passphrase.');
      return;
    }
    if (state.locked) {
      this.item.text = '$(lock) NoteSeal: Locked';
      this.item.tooltip = new vscode.MarkdownString(`**NoteSeal is locked**: no key is in memory.\n\nClick to unlock.\n\nKeyfile: \`${state.keyfile}\``);
      return;
    }
    const when = autoLockAt ? `Auto-locks at ${new Date(autoLockAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} if idle.` : 'Auto-lock is off.';
    this.item.text = '$(unlock) NoteSeal: Unlocked';
    this.item.tooltip = new vscode.MarkdownString(vscode.l10n.t('**NoteSeal is unlocked** (key id `{0}`, not the key itself).\n\n{1}\n\nClick to lock.\n\nKeyfile: `{2}`', state.masterKeyId ?? '', when, state.keyfile));
  }

  dispose(): void { this.item.dispose(); }
}
