// Using an unlock slot (slots.ts) with its device, the same way in the CLI and in the worker: what a slot needs
// (a PKCS#11 slot needs the machine's module path, never stored in the keyfile), whether it can work now (its
// token is present, the TPM answers), and unlocking a keyring through it with a PIN.
import { NoteSealError } from '../crypto/errors';
import type { Keyring } from './keyring';
import { deriveOnToken, tokenPresent, type Pkcs11Target } from './pkcs11';
import type { Pkcs11Slot, Slot, TpmSlot } from './slots';
import { decryptOnTpm, tpmPresent } from './tpm';

export type ChosenSlot = { slot: Pkcs11Slot; target: Pkcs11Target } | { slot: TpmSlot };

/** The slot with what it needs to be used, or null: a PKCS#11 slot when no module is configured. */
export function slotWithModule(slot: Slot, module: string | null): ChosenSlot | null {
  if (slot.kind === 'tpm') return { slot };
  return module ? { slot, target: { module, token: slot.token } } : null;
}

/** Whether the slot's device answers now. Never throws. */
export function canWorkNow(chosen: ChosenSlot, env: NodeJS.ProcessEnv): Promise<boolean> {
  return 'target' in chosen ? tokenPresent(chosen.target, env) : tpmPresent(env);
}

/** Whether unlocking through the slot asks for a PIN (a TPM slot made without one does not). */
export function slotNeedsPin(slot: Slot): boolean {
  return slot.kind === 'pkcs11' || slot.pin;
}

/** Unlocks `keyring` through the slot with `pin` (not wiped here). */
export async function unlockThroughSlot(keyring: Keyring, chosen: ChosenSlot, pin: Uint8Array, env: NodeJS.ProcessEnv): Promise<void> {
  await keyring.unlockWithSlot(chosen.slot.name, s => {
    if (s.kind === 'tpm') return decryptOnTpm(s, s.pin ? pin : null, env);
    if (!('target' in chosen)) throw new NoteSealError('DAMAGED_KEYFILE', `The unlock slot "${s.name}" changed kind while it was being used.`);
    return deriveOnToken(chosen.target, s.keyId, s.ephemeralKey, pin, env);
  });
}
