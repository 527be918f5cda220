// The status-bar lock: shows at a glance whether NoteSeal holds a key.
import * as vscode from 'vscode';
import { Commands } from './commands';

export class LockStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('noteseal.lock', vscode.StatusBarAlignment.Left, 100);

  constructor() {
    this.item.name = 'NoteSeal Lock';
    this.item.command = Commands.showWorkerStatus;
    this.show({ locked: true, workerRunning: false });
    this.item.show();
  }

  show(state: { locked: boolean; workerRunning: boolean }): void {
    if (!state.workerRunning) {
      this.item.text = '$(sync~spin) NoteSeal';
      this.item.tooltip = 'NoteSeal: the worker is starting';
      return;
    }
    this.item.text = state.locked ? '$(lock) NoteSeal: Locked' : '$(unlock) NoteSeal: Unlocked';
    this.item.tooltip = state.locked ? 'NoteSeal is locked: no key is in memory' : 'NoteSeal is unlocked';
  }

  dispose(): void { this.item.dispose(); }
}
