// What every command needs: parsed arguments, the environment, output channels, and an unlocked keyring.
import fs from 'node:fs';
import path from 'node:path';
import { refuseLinkedFoldersInRepository } from '../crypto/safe-open';
import { Keyring } from '../keys/keyring';
import { defaultKeyfilePath } from '../keys/location';
import { kdfPolicyFromEnv, TEST_KDF_POLICY, type KdfPolicy } from '../keys/kdf';
import { NoteSealError } from '../crypto/errors';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { readSecret } from './secrets';
import type { Slot } from '../keys/slots';
import { canWorkNow, slotWithModule, unlockThroughSlot, type ChosenSlot } from '../keys/slot-use';

export interface CliContext {
  args: ParsedArgs;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  /** One line to stderr (status, progress, warnings). Never secrets, except the recovery key goes to stdout. */
  note: (line: string) => void;
}

/** --keyfile, else $NOTESEAL_KEYFILE, else $XDG_CONFIG_HOME/noteseal/keyfile.json (~/.config by default; %APPDATA% on Windows). */
export function keyfilePath(ctx: CliContext): string {
  const given = ctx.args.options.get('keyfile');
  if (typeof given === 'string') return path.resolve(given);
  return defaultKeyfilePath(ctx.env);
}

export function kdfPolicy(ctx: CliContext): Readonly<KdfPolicy> {
  const policy = kdfPolicyFromEnv(ctx.env);
  if (policy === TEST_KDF_POLICY) ctx.note('noteseal: warning: NOTESEAL_TEST_FAST_KDF=1 makes key derivation weak; for test suites only');
  return policy;
}

export function keyringFor(ctx: CliContext): Keyring {
  const file = keyfilePath(ctx);
  if (!fs.existsSync(file)) {
    throw new UsageError(`no keyfile at ${file}: run 'noteseal init' first, or pass --keyfile / set NOTESEAL_KEYFILE`);
  }
  return new Keyring(file, { kdf: kdfPolicy(ctx) });
}

/** The PKCS#11 module: --module, else $NOTESEAL_PKCS11_MODULE (machine configuration, never from a repository). */
export function pkcs11Module(ctx: CliContext): string | null {
  const given = ctx.args.options.get('module');
  if (typeof given === 'string') return path.resolve(given);
  const fromEnv = ctx.env.NOTESEAL_PKCS11_MODULE;
  return fromEnv ? path.resolve(fromEnv) : null;
}

/** The slot with what it needs to be used, or a reason it cannot be (a PKCS#11 slot without a module). */
function usable(ctx: CliContext, slot: Slot): ChosenSlot | string {
  return slotWithModule(slot, pkcs11Module(ctx))
    ?? `unlock slot "${slot.name}" is a PKCS#11 token: pass --module PATH or set NOTESEAL_PKCS11_MODULE`;
}

/**
 * How to unlock: `--unlock NAME` chooses that slot (an error if it cannot be used); without it, the first slot
 * that can work now (its token is present, the TPM answers) unless NOTESEAL_PASSPHRASE_FILE/_FD is set; null
 * means the passphrase (also `--unlock passphrase`).
 */
export async function chooseSlot(ctx: CliContext, keyring: Keyring, opts: { passphraseOnly?: boolean } = {}): Promise<ChosenSlot | null> {
  const chosen = ctx.args.options.get('unlock');
  if (typeof chosen === 'string' && chosen !== 'passphrase') {
    if (opts.passphraseOnly) throw new UsageError(`${ctx.args.command}: this command needs the passphrase, not an unlock slot`);
    const slot = (await Keyring.readSlots(keyring.keyfilePath, { kdf: kdfPolicyFromEnv(ctx.env) })).find(s => s.name === chosen);
    if (!slot) throw new UsageError(`the keyfile has no unlock slot named "${chosen}" (see 'noteseal unlock list')`);
    const use = usable(ctx, slot);
    if (typeof use === 'string') throw new UsageError(use);
    return use;
  }
  // A passphrase source a script set on purpose wins over trying the slots: adding a slot never changes what a script does.
  const passphraseGiven = ctx.env.NOTESEAL_PASSPHRASE_FILE !== undefined || ctx.env.NOTESEAL_PASSPHRASE_FD !== undefined;
  if (chosen === undefined && !opts.passphraseOnly && !passphraseGiven) {
    for (const slot of await Keyring.readSlots(keyring.keyfilePath, { kdf: kdfPolicyFromEnv(ctx.env) })) {
      const use = usable(ctx, slot);
      if (typeof use !== 'string' && await canWorkNow(use, ctx.env)) return use;
    }
  }
  return null;
}

/**
 * Asks for the slot's PIN: the terminal (no echo), or NOTESEAL_PIN_FILE / NOTESEAL_PIN_FD. Caller wipes it.
 * A TPM slot made without a PIN asks nothing (an empty buffer).
 */
export async function readPin(ctx: CliContext, chosen: ChosenSlot): Promise<Buffer> {
  if (chosen.slot.kind === 'tpm' && !chosen.slot.pin) return Buffer.alloc(0);
  const whose = chosen.slot.kind === 'pkcs11' ? `of the token "${chosen.slot.token}"` : 'of the TPM';
  return readSecret({ name: 'PIN', prompt: `PIN ${whose} (unlock slot "${chosen.slot.name}"): ` }, ctx.env);
}

/**
 * Unlocks through the chosen slot (chooseSlot), else with the passphrase. `passphraseOnly`: commands that
 * rewrite the passphrase's wrap or the slots (rotate, unlock add/remove) need the passphrase itself.
 */
export async function unlockedKeyring(ctx: CliContext, opts: { passphraseOnly?: boolean } = {}): Promise<Keyring> {
  const keyring = keyringFor(ctx);
  const chosen = await chooseSlot(ctx, keyring, opts);
  if (chosen) {
    const pin = await readPin(ctx, chosen);
    try { await unlockThroughSlot(keyring, chosen, pin, ctx.env); } finally { pin.fill(0); }
    return keyring;
  }
  const passphrase = await readSecret({ name: 'PASSPHRASE', prompt: 'NoteSeal passphrase: ' }, ctx.env);
  try {
    await keyring.unlock(passphrase);
  } finally {
    passphrase.fill(0);
  }
  return keyring;
}

/** Runs `fn` with an unlocked keyring and always locks (zeroes keys) afterwards. */
export async function withKeyring<T>(ctx: CliContext, fn: (keyring: Keyring) => Promise<T>, opts: { passphraseOnly?: boolean } = {}): Promise<T> {
  const keyring = await unlockedKeyring(ctx, opts);
  try { return await fn(keyring); } finally { keyring.lock(); }
}

/** Prefixes errors about one file with its name, so a batch run says which file failed. */
/**
 * Runs `fn` on `file`, naming the file in a NoteSeal error. A linked folder inside a repository on the way to
 * it is refused first (crypto/safe-open.ts): `shared -> ~/other-repo/secrets` leads out of the repository.
 */
export async function aboutFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    await refuseLinkedFoldersInRepository(file);
    return await fn();
  } catch (e) {
    if (e instanceof NoteSealError) throw new NoteSealError(e.code, `${file}: ${e.message}`, e.detail);
    throw e;
  }
}

export function refuseToOverwrite(ctx: CliContext, file: string): void {
  if (!ctx.args.options.has('force') && fs.existsSync(file)) {
    throw new UsageError(`${file} already exists (use --force to overwrite)`);
  }
}
