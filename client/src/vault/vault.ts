// The vault as the user sees it: setup, unlock (passphrase box, or the key remembered in SecretStorage),
// lock (save and close every decrypted editor first), and the state the status bar shows. Keys never
// pass through here except the remembered master key on its way between SecretStorage and the worker.
import * as vscode from 'vscode';
import { Method, type VaultState } from '../../../server/src/protocol';
import type { Logger } from '../shared/logger';
import { passphraseProblem } from './passphraseStrength';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';
import { availableSlots, pickUnlockWay, unlockWithSlot } from './unlockSlots';

const SECRET_PREFIX = 'noteseal.';

/** Why a lock happens: the user, auto-lock (idle, sleep), or the unlock token removed (noteseal.lockOnTokenRemoval). */
export type LockReason = 'user' | 'idle' | 'sleep' | 'token';

export class VaultController implements vscode.Disposable {
  private current: VaultState = { initialized: false, locked: true, keyfile: '', masterKeyId: null };
  private readonly changed = new vscode.EventEmitter<VaultState>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private unlocking: Promise<boolean> | undefined;
  /** Runs first when locking (a running recording is stopped and its note written); false cancels. */
  beforeLock: (reason: LockReason) => Promise<boolean> = async () => true;
  /** Closes every view of decrypted content (noteRecovery.ts); `trySave` while the key is still there. */
  closeDecrypted: (trySave: boolean) => Promise<{ sealed: string[]; keptOpen: string[] }> = async () => ({ sealed: [], keptOpen: [] });
  /** Saves VS Code was told had ended, still being written (the editor feature): true once all have, false after `ms`. */
  whenWritten: (ms: number) => Promise<boolean> = async () => true;

  constructor(private readonly worker: WorkerClient, private readonly secrets: vscode.SecretStorage, private readonly log: Logger) {
    this.subscriptions.push(
      worker.onNotification(Method.vaultDidChange, s => this.update(s)),
      worker.onRequest(Method.secretsGet, async ({ name }) => ({ value: (await secrets.get(SECRET_PREFIX + name)) ?? null })),
      worker.onRequest(Method.secretsStore, async ({ name, value }) => { await secrets.store(SECRET_PREFIX + name, value); }),
      worker.onRequest(Method.secretsDelete, async ({ name }) => { await secrets.delete(SECRET_PREFIX + name); }),
      worker.onDidRestart(() => void this.refresh()),
    );
  }

  get state(): VaultState { return this.current; }

  private readonly userOpens = new Map<string, number>();

  /** The user is opening `uri` (the Explorer, Quick Open): its first read soon after may use the remembered key. */
  userIsOpening(uri: vscode.Uri): void {
    this.userOpens.set(uri.toString(), Date.now());
  }

  /** Whether a read of `uri` is the user's own open (userIsOpening in the last 30 s); consumed once. */
  takeUserOpen(uri: vscode.Uri): boolean {
    const at = this.userOpens.get(uri.toString());
    this.userOpens.delete(uri.toString());
    return at !== undefined && Date.now() - at < 30_000;
  }

  private update(s: VaultState): VaultState {
    const was = this.current;
    this.current = s;
    if (was.locked !== s.locked || was.initialized !== s.initialized || was.masterKeyId !== s.masterKeyId) this.changed.fire(s);
    return s;
  }

  async refresh(): Promise<VaultState> {
    return this.update(await this.worker.request(Method.vaultState));
  }

  /**
   * Makes sure a key is in the worker. Returns false when the user cancelled. Concurrent callers share one
   * prompt. `useRemembered: false` skips the key remembered in SecretStorage and asks for the passphrase:
   * for reads and saves nobody explicitly asked for (see EncFileSystemProvider.withKey).
   */
  ensureUnlocked(reason?: string, { useRemembered = true }: { useRemembered?: boolean } = {}): Promise<boolean> {
    if (!this.current.locked) return Promise.resolve(true);
    this.unlocking ??= this.unlockInteractively(reason, useRemembered).finally(() => { this.unlocking = undefined; });
    return this.unlocking;
  }

  private async unlockInteractively(reason: string | undefined, useRemembered: boolean): Promise<boolean> {
    const s = await this.refresh();
    if (!s.locked) return true;
    if (!s.initialized) {
      const choice = await vscode.window.showInformationMessage('NoteSeal is not set up yet. Set a passphrase now?', 'Set Up Encryption');
      return choice ? this.setup() : false;
    }
    if (useRemembered && await this.tryRemembered()) return true;
    // Unlock slots (issue 28): the ones that can work now are offered first, the passphrase always with them.
    const slots = await availableSlots(this.worker);
    if (slots.length === 0) return this.promptUnlock(reason);
    for (;;) {
      const way = await pickUnlockWay(slots, reason, this.changed.event);
      if (way === undefined) return !this.current.locked;
      if (way === 'passphrase') return this.promptUnlock(reason);
      const how = await unlockWithSlot(this.worker, way, s => this.update(s), this.changed.event);
      if (how === 'unlocked') { this.log.info('unlocked with an unlock slot'); return true; }
      if (how === 'passphrase') return this.promptUnlock(reason);
      if (!this.current.locked) return true;
      // Dismissed the PIN box: back to the choice.
    }
  }

  private async tryRemembered(): Promise<boolean> {
    if (!(await this.secrets.get(SECRET_PREFIX + 'masterKey'))) return false;
    try {
      this.update(await this.worker.request(Method.vaultUnlockRemembered));
      this.log.info('unlocked with the key remembered on this device');
      return true;
    } catch (e) {
      this.log.warn(`the remembered key did not unlock NoteSeal (${isWorkerError(e) ? e.code : 'error'}); asking for the passphrase`);
      return false;
    }
  }

  /** The passphrase box; wrong passphrases are reported in the box itself, so the user can retry. */
  async promptUnlock(reason?: string): Promise<boolean> {
    const box = vscode.window.createInputBox();
    box.title = 'Unlock NoteSeal';
    box.prompt = reason ? `${reason} Enter your NoteSeal passphrase.` : 'Enter your NoteSeal passphrase.';
    box.placeholder = 'Passphrase';
    box.password = true;
    box.ignoreFocusOut = true;
    const remember = { iconPath: new vscode.ThemeIcon('key'), tooltip: vscode.l10n.t('Unlock and remember the key on this device ({0})', secretStorageName()) } satisfies vscode.QuickInputButton;
    box.buttons = [remember];
    return new Promise<boolean>(resolve => {
      let settled = false;
      // Unlocked another way meanwhile (the status bar, the API, another caller): the box has nothing left to
      // ask, and what waits on it (a read, a save) goes on instead of waiting for the user to close it.
      const unlockedElsewhere = this.changed.event(s => { if (!s.locked) finish(true); });
      const finish = (ok: boolean) => { if (!settled) { settled = true; unlockedElsewhere.dispose(); resolve(ok); box.dispose(); } };
      const submit = async (rememberKey: boolean) => {
        const passphrase = box.value;
        if (!passphrase) { box.validationMessage = 'Enter the passphrase.'; return; }
        box.busy = true; box.enabled = false; box.validationMessage = undefined;
        try {
          this.update(await this.worker.request(Method.vaultUnlock, { passphrase, remember: rememberKey }));
          if (rememberKey) warnAboutWeakSecretStorage();
          finish(true);
        } catch (e) {
          box.busy = false; box.enabled = true; box.value = '';
          box.validationMessage = isWorkerError(e, 'WRONG_PASSPHRASE') ? 'Wrong passphrase. Try again.' : `Could not unlock: ${(e as Error).message}`;
        }
      };
      box.onDidAccept(() => void submit(false));
      box.onDidTriggerButton(b => { if (b === remember) void submit(true); });
      box.onDidHide(() => finish(false));
      box.show();
    });
  }

  /** First run: a passphrase (twice, with a minimum strength), then the recovery key, shown once. */
  async setup(): Promise<boolean> {
    const s = await this.refresh();
    if (s.initialized) {
      void vscode.window.showInformationMessage(`NoteSeal is already set up (keyfile ${s.keyfile}).`);
      return !s.locked || this.ensureUnlocked();
    }
    const passphrase = await vscode.window.showInputBox({
      title: 'Set Up NoteSeal (1/3): choose a passphrase', password: true, ignoreFocusOut: true,
      prompt: 'It protects every encrypted note on this machine. There is no way to recover it without the recovery key.',
      validateInput: v => passphraseProblem(v),
    });
    if (passphrase === undefined) return false;
    const again = await vscode.window.showInputBox({
      title: 'Set Up NoteSeal (2/3): repeat the passphrase', password: true, ignoreFocusOut: true,
      validateInput: v => (v === passphrase ? undefined : 'The passphrases do not match.'),
    });
    if (again === undefined) return false;
    const rememberPick = await vscode.window.showQuickPick([
      { label: 'Ask for the passphrase when NoteSeal unlocks', remember: false },
      { label: vscode.l10n.t('Remember the key on this device'), description: vscode.l10n.t('stored in {0}', secretStorageName()), remember: true },
    ], { title: 'Set Up NoteSeal (3/3): unlocking', ignoreFocusOut: true });
    if (!rememberPick) return false;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoteSeal: deriving the key (about a second)…' },
      () => this.worker.request(Method.vaultInit, { passphrase, remember: rememberPick.remember }));
    this.update(result.state);
    if (rememberPick.remember) warnAboutWeakSecretStorage();
    await showRecoveryKey(result.recoveryKey);
    this.log.info('NoteSeal set up: keyfile created');
    return true;
  }

  /**
   * Locks: saves dirty decrypted notes, seals the ones that cannot be saved into recovery copies, closes every
   * view of decrypted content (closeDecrypted), then wipes the keys in the worker. Only a note that could not
   * even be sealed stays open, so that its text is not lost, and the user is told.
   */
  async lock(reason: LockReason = 'user'): Promise<void> {
    if (!(await this.beforeLock(reason))) return;
    const { sealed, keptOpen } = await this.closeDecrypted(true);
    this.update(await this.worker.request(Method.vaultLock));
    this.log.info(`locked (${reason})`);
    if (keptOpen.length) void vscode.window.showWarningMessage(`NoteSeal locked, but ${keptOpen.length} note(s) could neither be saved nor sealed and stay open: unlock and save them.`);
    else if (sealed.length) void vscode.window.showWarningMessage(`NoteSeal locked. ${sealed.length} note(s) could not be saved: their text is kept in a sealed recovery copy, offered back when you unlock.`);
    else if (reason === 'token') void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal locked: the token it was unlocked with was removed.'));
    else if (reason !== 'user') void vscode.window.showInformationMessage(reason === 'idle' ? 'NoteSeal locked after being idle.' : 'NoteSeal locked after the computer slept.');
  }

  /**
   * Asks for the current passphrase (the worker verifies it: an unlocked window left alone must not be
   * enough to change it), then the new one twice. A key remembered on this device is re-stored or
   * forgotten as the user chooses, never left behind unasked.
   */
  async changePassphrase(): Promise<void> {
    if (!(await this.ensureUnlocked('Changing the passphrase needs the current key.'))) return;
    const currentPassphrase = await vscode.window.showInputBox({ title: 'Current NoteSeal passphrase', password: true, ignoreFocusOut: true, validateInput: v => (v ? undefined : 'Enter the current passphrase.') });
    if (currentPassphrase === undefined) return;
    const passphrase = await vscode.window.showInputBox({ title: 'New NoteSeal passphrase', password: true, ignoreFocusOut: true, validateInput: v => passphraseProblem(v) });
    if (passphrase === undefined) return;
    const again = await vscode.window.showInputBox({ title: 'Repeat the new passphrase', password: true, ignoreFocusOut: true, validateInput: v => (v === passphrase ? undefined : 'The passphrases do not match.') });
    if (again === undefined) return;
    let remember = false;
    if (await this.secrets.get(SECRET_PREFIX + 'masterKey')) {
      const keep = await vscode.window.showWarningMessage('This device remembers the NoteSeal key.', {
        modal: true, detail: 'The remembered key unlocks without any passphrase. Keep remembering it, or forget it so that unlocking asks for the new passphrase?',
      }, 'Keep Remembering', 'Forget It');
      if (keep === undefined) return;
      remember = keep === 'Keep Remembering';
    }
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoteSeal: rewrapping the master key…' },
        () => this.worker.request(Method.vaultChangePassphrase, { currentPassphrase, newPassphrase: passphrase, remember }));
    } catch (e) {
      if (isWorkerError(e, 'WRONG_PASSPHRASE')) { void vscode.window.showErrorMessage('NoteSeal: the current passphrase is wrong. Nothing was changed.'); return; }
      throw e;
    }
    void vscode.window.showInformationMessage(`NoteSeal passphrase changed${remember ? '' : ', and no key is remembered on this device'}. Your files were not touched: only the master key was rewrapped.`);
  }

  async forgetRemembered(): Promise<void> {
    await this.worker.request(Method.vaultForgetRemembered);
    void vscode.window.showInformationMessage('NoteSeal forgot the key remembered on this device.');
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

export function tabUri(tab: vscode.Tab): vscode.Uri | undefined {
  const input = tab.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri;
  if (input instanceof vscode.TabInputTextDiff) return input.modified;
  return undefined;
}

export async function showRecoveryKey(recoveryKey: string, title = 'Your NoteSeal recovery key'): Promise<void> {
  for (;;) {
    const choice = await vscode.window.showWarningMessage(title, {
      modal: true,
      detail: `${recoveryKey}\n\nIt opens every note if you forget the passphrase. Write it down or keep it in a password manager. It is shown only this once and is not stored anywhere by NoteSeal.`,
    }, 'Copy to Clipboard', 'I Have Saved It');
    if (choice === 'Copy to Clipboard') {
      await vscode.env.clipboard.writeText(recoveryKey);
      void vscode.window.showInformationMessage('Recovery key copied. Paste it into your password manager, then clear your clipboard.');
      continue;
    }
    if (choice === 'I Have Saved It') return;
    const sure = await vscode.window.showWarningMessage('Close without saving the recovery key?', { modal: true, detail: 'Without it, a forgotten passphrase means the notes are lost for good.' }, 'Show It Again', 'Close');
    if (sure !== 'Show It Again') return;
  }
}

/**
 * Where this window's VS Code keeps a remembered key (SecretStorage): a browser workbench keeps it in the
 * browser's storage, desktop VS Code in the OS keychain, or, on Linux without a keyring service, in its own
 * weakly encrypted store (see warnAboutWeakSecretStorage).
 */
export function secretStorageName(): string {
  if (vscode.env.uiKind === vscode.UIKind.Web) return vscode.l10n.t('this browser\'s storage');
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) return vscode.l10n.t('VS Code\'s weakly encrypted storage: no keyring was found');
  return vscode.l10n.t('the OS keychain');
}

/**
 * VS Code keeps secrets in the OS keychain; on Linux without a keyring it silently falls back to a weak
 * "basic" encryption (VS Code #187338), and in the browser they live in the browser's storage.
 */
function warnAboutWeakSecretStorage(): void {
  if (vscode.env.uiKind === vscode.UIKind.Web) {
    void vscode.window.showWarningMessage('NoteSeal remembers the key in this browser\'s storage. Anyone with this browser profile can unlock your notes; use "NoteSeal: Forget Remembered Key" to undo.');
  } else if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
    void vscode.window.showWarningMessage('No keyring service was found: VS Code may store the remembered key with weak "basic" encryption. Install and unlock a keyring (GNOME Keyring or KWallet), or do not remember the key.');
  }
}
