// "NoteSeal: Add Unlock Method…" and "NoteSeal: Remove Unlock Method…" (issue 28). Both need the passphrase
// itself (the worker verifies it: an unlocked window left alone is not enough to add a way in). Adding a
// PKCS#11 slot makes a key pair on the token with its PIN; where this machine's TPM answers, a TPM slot (a
// key made in the TPM, with an optional PIN, as `noteseal unlock add tpm [--pin]` makes it) is offered too. Removing never touches the passphrase or the
// recovery key, and offers what `noteseal unlock remove --rotate` does: a new master key, so that an older copy
// of the keyfile no longer opens with the removed slot.
import * as vscode from 'vscode';
import { Method, type SlotChoice } from '../../../server/src/protocol';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';
import { iconLabel, pkcs11ModuleSetting, slotPlace } from './unlockSlots';
import { showRecoveryKey, type VaultController } from './vault';

const SLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A slot name from a token label (the CLI's default the same way). */
function defaultName(token: string, taken: readonly string[]): string {
  const base = token.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 60) || 'token';
  const safe = ['passphrase', 'recovery'].includes(base.toLowerCase()) ? 'token' : base;
  let name = safe;
  for (let i = 2; taken.includes(name); i++) name = `${safe}-${i}`;
  return name;
}

function askSlotName(value: string, taken: readonly string[], prompt: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Add Unlock Method: a name for it'), value, ignoreFocusOut: true, prompt,
    validateInput: v => (!SLOT_NAME.test(v) ? vscode.l10n.t('1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.')
      : ['passphrase', 'recovery'].includes(v.toLowerCase()) || taken.includes(v) ? vscode.l10n.t('This name is taken.') : undefined),
  });
}

/** A TPM slot: a key made in this machine's TPM; an optional PIN (asked twice), limited by the TPM's lockout. */
async function addTpmMethod(worker: WorkerClient): Promise<void> {
  const taken = (await worker.request(Method.vaultSlots, { pkcs11Module: null })).slots.map(s => s.name);
  const name = await askSlotName(defaultName('tpm', taken), taken, vscode.l10n.t('How the unlock prompt and `noteseal --unlock NAME` call this machine\'s TPM.'));
  if (name === undefined) return;
  const passphrase = await askPassphrase(vscode.l10n.t('Add Unlock Method: your NoteSeal passphrase'));
  if (passphrase === undefined) return;
  const pin = await vscode.window.showInputBox({
    title: vscode.l10n.t('Add Unlock Method: a PIN for the TPM slot (optional)'), password: true, ignoreFocusOut: true,
    prompt: vscode.l10n.t('Leave it empty for no PIN: then anyone who can use this TPM as you unlocks NoteSeal. With a PIN, the TPM\'s own lockout limits guessing. The PIN is not stored.'),
  });
  if (pin === undefined) return;
  if (pin) {
    const again = await vscode.window.showInputBox({
      title: vscode.l10n.t('Add Unlock Method: the same PIN again'), password: true, ignoreFocusOut: true,
      validateInput: v => (v === pin ? undefined : vscode.l10n.t('The PINs differ.')),
    });
    if (again === undefined) return;
  }
  let slot: SlotChoice;
  try {
    slot = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('NoteSeal: making a key in this machine\'s TPM…') },
      () => worker.request(Method.vaultAddTpmSlot, { passphrase, name, pin: pin || null }));
  } catch (e) { failed(vscode.l10n.t('Adding the unlock method'), e); return; }
  void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: added the unlock method "{0}" ({1}). A copy of the keyfile on another machine cannot use it; the passphrase and the recovery key still work.', slot.name, slotPlace(slot)));
}

async function askPassphrase(title: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title, password: true, ignoreFocusOut: true, prompt: vscode.l10n.t('Changing how NoteSeal unlocks needs your passphrase (not the recovery key or a PIN).'),
    validateInput: v => (v ? undefined : vscode.l10n.t('Enter the passphrase.')),
  });
}

function failed(what: string, e: unknown): void {
  const why = isWorkerError(e, 'WRONG_PASSPHRASE') ? vscode.l10n.t('the passphrase is wrong') : (e as Error).message;
  void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal: {0} failed: {1}. Nothing was changed.', what, why));
}

export async function addUnlockMethod(worker: WorkerClient, vault: VaultController): Promise<void> {
  if (!(await vault.refresh()).initialized) { await vault.setup(); return; }
  if ((await worker.request(Method.vaultTpmPresent)).present) {
    const kind = await vscode.window.showQuickPick([
      { label: iconLabel('key', vscode.l10n.t('Hardware token (PKCS#11)')), description: vscode.l10n.t('smart card, YubiKey PIV, HSM'), tpm: false },
      { label: iconLabel('device-desktop', vscode.l10n.t('This machine\'s TPM')), description: vscode.l10n.t('no passphrase on this machine; an optional PIN'), tpm: true },
    ], { title: vscode.l10n.t('Add Unlock Method'), ignoreFocusOut: true });
    if (!kind) return;
    if (kind.tpm) { await addTpmMethod(worker); return; }
  }
  const module = pkcs11ModuleSetting();
  if (!module) {
    const open = vscode.l10n.t('Open Settings');
    const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Set noteseal.pkcs11.module first: the PKCS#11 module of your token (an absolute path, e.g. OpenSC\'s opensc-pkcs11.so or Yubico\'s libykcs11.so). It is a machine setting: a workspace cannot set it.'), open);
    if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', 'noteseal.pkcs11.module');
    return;
  }
  let labels: string[];
  try {
    labels = (await worker.request(Method.vaultTokens, { pkcs11Module: module })).labels;
  } catch (e) { failed(vscode.l10n.t('Reading the tokens'), e); return; }
  if (labels.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The PKCS#11 module {0} shows no token: plug your token in and try again.', module));
    return;
  }
  const token = labels.length === 1 ? labels[0] : (await vscode.window.showQuickPick(labels, { title: vscode.l10n.t('Add Unlock Method: which token?'), ignoreFocusOut: true }));
  if (token === undefined) return;
  const taken = (await worker.request(Method.vaultSlots, { pkcs11Module: null })).slots.map(s => s.name);
  const name = await askSlotName(defaultName(token, taken), taken, vscode.l10n.t('How the unlock prompt and `noteseal --unlock NAME` call this token.'));
  if (name === undefined) return;
  const passphrase = await askPassphrase(vscode.l10n.t('Add Unlock Method: your NoteSeal passphrase'));
  if (passphrase === undefined) return;
  const pin = await vscode.window.showInputBox({
    title: vscode.l10n.t('Add Unlock Method: PIN of the token "{0}"', token), password: true, ignoreFocusOut: true,
    prompt: vscode.l10n.t('The token makes a key that never leaves it. The PIN is not stored; touch the token if it blinks.'),
    validateInput: v => (v ? undefined : vscode.l10n.t('Enter the PIN.')),
  });
  if (pin === undefined) return;
  let slot: SlotChoice;
  try {
    slot = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('NoteSeal: making a key on the token "{0}"… (touch it if it blinks)', token) },
      () => worker.request(Method.vaultAddTokenSlot, { passphrase, pkcs11Module: module, token, name, pin }));
  } catch (e) { failed(vscode.l10n.t('Adding the unlock method'), e); return; }
  void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: added the unlock method "{0}" ({1}). The unlock prompt offers it while the token is plugged in; the passphrase and the recovery key still work.', slot.name, slotPlace(slot)));
}

export async function removeUnlockMethod(worker: WorkerClient, vault: VaultController): Promise<void> {
  if (!(await vault.refresh()).initialized) return;
  const slots = (await worker.request(Method.vaultSlots, { pkcs11Module: pkcs11ModuleSetting() })).slots;
  if (slots.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal unlocks only with the passphrase (and the recovery key): there is no unlock method to remove. The passphrase itself cannot be removed; change it with "NoteSeal: Change Passphrase".'));
    return;
  }
  const pick = await vscode.window.showQuickPick([
    ...slots.map(slot => ({ label: iconLabel('key', slot.name), description: slotPlace(slot), detail: vscode.l10n.t('added {0}', slot.created.slice(0, 10)), slot })),
    { label: iconLabel('lock', vscode.l10n.t('Passphrase')), description: vscode.l10n.t('always kept'), slot: undefined },
  ], { title: vscode.l10n.t('Remove Unlock Method'), ignoreFocusOut: true });
  if (!pick) return;
  if (!pick.slot) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The passphrase cannot be removed: with the recovery key it is what always opens NoteSeal. Change it with "NoteSeal: Change Passphrase".'));
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.scheme === 'file')?.uri.fsPath ?? null;
  const remove = vscode.l10n.t('Remove');
  const rotate = vscode.l10n.t('Remove and Rotate the Master Key');
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Remove the unlock method "{0}"?', pick.slot.name), {
    modal: true,
    detail: vscode.l10n.t('An older copy of the keyfile (a backup) still opens with this token. "Remove and Rotate" also makes a new master key and rewraps the files in {0}, so such a copy no longer opens them; you get a new recovery key.', folder ?? vscode.l10n.t('no folder (none is open)')),
  }, remove, rotate);
  if (choice === undefined) return;
  const passphrase = await askPassphrase(vscode.l10n.t('Remove Unlock Method: your NoteSeal passphrase'));
  if (passphrase === undefined) return;
  const name = pick.slot.name;
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: choice === rotate ? vscode.l10n.t('NoteSeal: removing "{0}" and rotating the master key…', name) : vscode.l10n.t('NoteSeal: removing "{0}"…', name) },
      () => worker.request(Method.vaultRemoveSlot, { passphrase, name, rotate: choice === rotate, folder: choice === rotate ? folder : null }));
    if (result.recoveryKey) {
      void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: removed "{0}" and rotated the master key: {1} file(s) rewrapped, {2} failed.', name, result.rewrapped, result.failed.length));
      await showRecoveryKey(result.recoveryKey, vscode.l10n.t('Your NEW NoteSeal recovery key (the old one no longer works)'));
    } else {
      void vscode.window.showInformationMessage(vscode.l10n.t('NoteSeal: removed the unlock method "{0}". Your files were not touched.', name));
    }
  } catch (e) { failed(vscode.l10n.t('Removing the unlock method'), e); }
}
