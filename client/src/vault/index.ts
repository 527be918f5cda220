// The vault as the user sees it: setup, unlock, lock and auto-lock, the status-bar lock, and a worker restart.
// May use shared/ only; what a lock does to open notes is handed in by the editor (VaultController.closeDecrypted).
import { showVaultContext } from '../shared/contextKeys';
import * as vscode from 'vscode';
import { Commands } from '../shared/commands';
import type { Core } from '../shared/index';
import { AutoLock } from './autoLock';
import { LockStatusItem } from './statusBar';
import { VaultController } from './vault';
import { addUnlockMethod, removeUnlockMethod } from './unlockMethods';
import { lockOnTokenRemoval } from './unlockSlots';
import { Method } from '../../../server/src/protocol';

/** How long Restart Worker waits for saves still being written before it stops the worker. */
const RESTART_WAIT_MS = 5000;

export interface VaultFeature {
  vault: VaultController;
  autoLock: AutoLock;
  /** After the worker started: the state it holds, shown. */
  ready(): Promise<void>;
}

export function registerVault(context: vscode.ExtensionContext, deps: Core): VaultFeature {
  const { worker, log, command } = deps;
  const status = new LockStatusItem();
  const vault = new VaultController(worker, context.secrets, log);
  const autoLock = new AutoLock(reason => vault.lock(reason).then(() => vault.state.locked));
  const showState = () => { status.show(vault.state, autoLock.deadline()); showVaultContext(vault.state); };
  // A restarted worker holds no key: nothing decrypted may stay on screen (unsaved text is sealed first).
  const closeAfterRestart = async () => {
    const { sealed, keptOpen } = await vault.closeDecrypted(false);
    if (sealed.length || keptOpen.length) {
      void vscode.window.showWarningMessage(`NoteSeal's worker restarted and is locked. ${sealed.length} unsaved note(s) were sealed into recovery copies, offered back when you unlock.${keptOpen.length ? ` ${keptOpen.length} could not be sealed and stay open.` : ''}`);
    }
  };
  context.subscriptions.push(status, vault, autoLock,
    vault.onDidChange(s => { autoLock.setActive(!s.locked); showState(); }),
    worker.onDidRestart(() => void closeAfterRestart()),
    autoLock.onDidChangeDeadline(showState),
    // noteseal.lockOnTokenRemoval: the worker watched the token NoteSeal was unlocked with, and it is gone.
    worker.onNotification(Method.vaultTokenRemoved, ({ slot }) => {
      log.info(`the token of unlock slot ${slot} was removed`);
      if (lockOnTokenRemoval() && !vault.state.locked) void vault.lock('token');
    }),
  );
  command(Commands.setup, () => vault.setup());
  command(Commands.unlock, () => vault.ensureUnlocked());
  command(Commands.lock, () => vault.lock());
  command(Commands.toggleLock, () => (!vault.state.initialized ? vault.setup() : vault.state.locked ? vault.ensureUnlocked() : vault.lock()));
  command(Commands.changePassphrase, () => vault.changePassphrase());
  command(Commands.forgetRememberedKey, () => vault.forgetRemembered());
  command(Commands.addUnlockMethod, () => addUnlockMethod(worker, vault));
  command(Commands.removeUnlockMethod, () => removeUnlockMethod(worker, vault));
  command(Commands.restartWorker, async () => {
    // Saves VS Code was told had ended go to this worker first (issue 22 §2). A worker that hangs must still be
    // restartable: past the bound, the stop lets the worker finish or seal what it has (writeJoin.ts), and a save
    // that then fails is sealed through the new worker (noteRecovery.ts, lateSaveFailed).
    if (!(await vault.whenWritten(RESTART_WAIT_MS))) log.warn('restarting the worker while a save is still being written');
    await worker.restart();
    await vault.refresh();
    await closeAfterRestart();
    void vscode.window.showInformationMessage('NoteSeal worker restarted.');
  });
  return { vault, autoLock, ready: async () => { await vault.refresh(); showState(); } };
}
