// Auto-lock: after `noteseal.autoLock.idleMinutes` without activity in decrypted notes, and after the
// machine slept (the clock jumped between ticks). The decision logic is IdleClock (pure, unit-tested).
import * as vscode from 'vscode';
import { IdleClock, type IdleClockOptions, type LockReason } from './idleClock';
import { isBoolean, isMinutes, userValue } from '../shared/settingRules';
import { NOTESEAL_SCHEME } from '../shared/uris';

const TICK_MS = 1000;
const SLEEP_JUMP_MS = 30_000;
/** After a lock attempt that did not lock (it failed, or a recording refused), try again this soon. */
export const LOCK_RETRY_MS = 30_000;

/** The auto-lock settings as they count: the user's own values only (settingRules.ts). */
export function autoLockSettings(): { idleMinutes: number; onSleep: boolean } {
  const c = vscode.workspace.getConfiguration('noteseal.autoLock');
  return { idleMinutes: userValue(c.inspect('idleMinutes'), 15, isMinutes), onSleep: userValue(c.inspect('onSleep'), true, isBoolean) };
}

function optionsFromSettings(): IdleClockOptions {
  const s = autoLockSettings();
  return { idleMs: s.idleMinutes * 60_000, lockOnSleep: s.onSleep, tickMs: TICK_MS, sleepJumpMs: SLEEP_JUMP_MS };
}

export class AutoLock implements vscode.Disposable {
  private readonly clock = new IdleClock(optionsFromSettings());
  private readonly timer: NodeJS.Timeout;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly deadlineChanged = new vscode.EventEmitter<number | undefined>();
  readonly onDidChangeDeadline = this.deadlineChanged.event;
  private active = false;

  /** While this says so (a recording is running), idle time does not count: the vault stays unlocked. */
  busy: () => boolean = () => false;

  /** `lock` resolves true when the vault is locked afterwards. */
  constructor(private readonly lock: (reason: LockReason) => Promise<boolean>) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    const isNote = (uri: vscode.Uri) => uri.scheme === NOTESEAL_SCHEME;
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration('noteseal.autoLock')) { this.clock.configure(optionsFromSettings()); this.deadlineChanged.fire(this.deadline()); } }),
      vscode.workspace.onDidChangeTextDocument(e => { if (isNote(e.document.uri) && e.contentChanges.length) this.activity(); }),
      vscode.window.onDidChangeTextEditorSelection(e => { if (isNote(e.textEditor.document.uri)) this.activity(); }),
      vscode.window.onDidChangeActiveTextEditor(e => { if (e && isNote(e.document.uri)) this.activity(); }),
    );
  }

  /** Unlocked: start counting. Locked: stop. */
  setActive(active: boolean): void {
    this.active = active;
    this.clock.reset();
    this.deadlineChanged.fire(this.deadline());
  }

  activity(): void {
    if (!this.active) return;
    const before = this.clock.deadline();
    this.clock.activity();
    // Tooltip precision of a minute is plenty; do not spam listeners on every keystroke.
    const after = this.clock.deadline();
    if (before === undefined || after === undefined || after - before > 30_000) this.deadlineChanged.fire(after);
  }

  deadline(): number | undefined { return this.active ? this.clock.deadline() : undefined; }

  private tick(): void {
    if (this.active && this.busy()) this.clock.activity();
    const reason = this.clock.tick();
    if (this.active && reason) {
      this.active = false;
      const retry = () => { this.active = true; this.clock.lockFailed(reason, LOCK_RETRY_MS); };
      void this.lock(reason).then(locked => { if (!locked) retry(); }, retry);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.deadlineChanged.dispose();
  }
}
