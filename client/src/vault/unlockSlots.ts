// Unlock slots in VS Code (issue 28): the unlock prompt's slot choice and PIN box, and the commands
// "Add Unlock Method…" / "Remove Unlock Method…". The crypto, the token and the TPM stay in the worker
// (server/src/vault/vaultService.ts); here only questions and answers. A PIN is asked in a password box, sent
// once to the worker and never stored. The PKCS#11 module path is a machine setting, read from the user's own
// value only: a repository's settings can neither choose the module (a library the tool loads) nor switch
// noteseal.lockOnTokenRemoval off.
import path from 'node:path';
import * as vscode from 'vscode';
import { Method, type SlotChoice, type VaultState } from '../../../server/src/protocol';
import { isBoolean, userValue } from '../shared/settingRules';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';

const isText = (v: unknown): v is string => typeof v === 'string';

/** `noteseal.pkcs11.module`: the user's absolute path, else null. */
export function pkcs11ModuleSetting(): string | null {
  const value = userValue(vscode.workspace.getConfiguration('noteseal').inspect<string>('pkcs11.module'), '', isText).trim();
  return value && path.isAbsolute(value) ? value : null;
}

/** `noteseal.lockOnTokenRemoval` (default on), the user's own value only. */
export function lockOnTokenRemoval(): boolean {
  return userValue(vscode.workspace.getConfiguration('noteseal').inspect<boolean>('lockOnTokenRemoval'), true, isBoolean);
}

/** "token "Card A"" / "this machine's TPM": where a slot's secret lives, for labels. */
export function slotPlace(slot: SlotChoice): string {
  return slot.kind === 'pkcs11' ? vscode.l10n.t('token "{0}"', slot.token ?? '') : vscode.l10n.t('this machine\'s TPM');
}

/** The slots that can work now (token present, TPM answers); none when the worker cannot tell. */
export async function availableSlots(worker: WorkerClient): Promise<SlotChoice[]> {
  try {
    return (await worker.request(Method.vaultSlots, { pkcs11Module: pkcs11ModuleSetting() })).slots.filter(s => s.available);
  } catch {
    return [];
  }
}

/** A quick-pick label with a codicon before the text. */
export function iconLabel(icon: string, text: string): string {
  return `$(${icon}) ${text}`;
}

type SlotPick = vscode.QuickPickItem & { slot?: SlotChoice };

/**
 * The unlock prompt when slots can work: those slots, the first preselected, and the passphrase always last.
 * Resolves to the chosen slot, 'passphrase', or undefined (dismissed).
 */
export function pickUnlockWay(slots: readonly SlotChoice[], reason: string | undefined, unlockedElsewhere: vscode.Event<VaultState>): Promise<SlotChoice | 'passphrase' | undefined> {
  const pick = vscode.window.createQuickPick<SlotPick>();
  pick.title = vscode.l10n.t('Unlock NoteSeal');
  pick.placeholder = reason ? vscode.l10n.t('{0} Unlock with:', reason) : vscode.l10n.t('Unlock with:');
  pick.ignoreFocusOut = true;
  pick.items = [
    ...slots.map(slot => ({ label: iconLabel('key', slot.name), description: slotPlace(slot), slot })),
    { label: iconLabel('lock', vscode.l10n.t('Passphrase')), description: vscode.l10n.t('or the recovery key') },
  ];
  return new Promise(resolve => {
    let settled = false;
    // Unlocked another way meanwhile: nothing left to choose (as the passphrase box does).
    const elsewhere = unlockedElsewhere(s => { if (!s.locked) finish(undefined); });
    const finish = (way: SlotChoice | 'passphrase' | undefined) => { if (!settled) { settled = true; elsewhere.dispose(); resolve(way); pick.dispose(); } };
    pick.onDidAccept(() => { const chosen = pick.selectedItems[0]; if (chosen) finish(chosen.slot ?? 'passphrase'); });
    pick.onDidHide(() => finish(undefined));
    pick.show();
  });
}

/**
 * Unlocks through `slot`: its PIN in a password box (a wrong one is said in the box with the tries the token
 * reports, and can be typed again), or none for a TPM slot without a PIN. The box's button goes to the
 * passphrase instead. Resolves to 'unlocked', 'passphrase' or 'cancelled'.
 */
export function unlockWithSlot(worker: WorkerClient, slot: SlotChoice, update: (s: VaultState) => void, unlockedElsewhere: vscode.Event<VaultState>): Promise<'unlocked' | 'passphrase' | 'cancelled'> {
  const request = (pin: string) => worker.request(Method.vaultUnlockWithSlot, { name: slot.name, pin, pkcs11Module: pkcs11ModuleSetting(), watchToken: lockOnTokenRemoval() });
  if (!slot.needsPin) {
    return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('NoteSeal: unlocking with this machine\'s TPM…') }, () => request('')))
      .then(s => { update(s); return 'unlocked' as const; }, async e => {
        void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not unlock with "{0}": {1}', slot.name, (e as Error).message));
        return 'passphrase' as const;
      });
  }
  const box = vscode.window.createInputBox();
  box.title = vscode.l10n.t('Unlock NoteSeal with "{0}"', slot.name);
  const ask = slot.kind === 'pkcs11'
    ? vscode.l10n.t('Enter the PIN of the token "{0}". If your token wants a touch, touch it when it blinks.', slot.token ?? '')
    : vscode.l10n.t('Enter the PIN of the TPM unlock slot "{0}".', slot.name);
  box.prompt = ask;
  box.placeholder = vscode.l10n.t('PIN');
  box.password = true;
  box.ignoreFocusOut = true;
  const usePassphrase = { iconPath: new vscode.ThemeIcon('lock'), tooltip: vscode.l10n.t('Use the passphrase instead') } satisfies vscode.QuickInputButton;
  box.buttons = [usePassphrase];
  return new Promise(resolve => {
    let settled = false;
    const elsewhere = unlockedElsewhere(s => { if (!s.locked) finish('unlocked'); });
    const finish = (how: 'unlocked' | 'passphrase' | 'cancelled') => { if (!settled) { settled = true; elsewhere.dispose(); resolve(how); box.dispose(); } };
    box.onDidAccept(async () => {
      const pin = box.value;
      if (!pin) { box.validationMessage = vscode.l10n.t('Enter the PIN.'); return; }
      box.busy = true; box.enabled = false; box.validationMessage = undefined;
      if (slot.kind === 'pkcs11') box.prompt = vscode.l10n.t('Waiting for the token "{0}": touch it if it blinks.', slot.token ?? '');
      try {
        update(await request(pin));
        finish('unlocked');
      } catch (e) {
        box.busy = false; box.enabled = true; box.value = ''; box.prompt = ask;
        box.validationMessage = isWorkerError(e, 'WRONG_PIN') ? vscode.l10n.t('Wrong PIN. {0}', tailAfterFirstSentence((e as Error).message))
          : isWorkerError(e, 'TOKEN_ABSENT') ? vscode.l10n.t('The token is not there: plug it in and try again, or use the passphrase (the lock button).')
            : vscode.l10n.t('Could not unlock: {0}', (e as Error).message);
      }
    });
    box.onDidTriggerButton(b => { if (b === usePassphrase) finish('passphrase'); });
    box.onDidHide(() => finish('cancelled'));
    box.show();
  });
}

/** "The PIN of the token "x" is wrong. One try is left…" → "One try is left…" (the box already says "Wrong PIN"). */
function tailAfterFirstSentence(message: string): string {
  const at = message.indexOf('. ');
  return at >= 0 ? message.slice(at + 2) : message;
}
