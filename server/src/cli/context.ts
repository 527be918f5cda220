// What every command needs: parsed arguments, the environment, output channels, and an unlocked keyring.
import fs from 'node:fs';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { refuseLinkedFoldersInRepository } from '../crypto/safe-open';
import { Keyring } from '../keys/keyring';
import { defaultKeyfilePath } from '../keys/location';
import { kdfPolicyFromEnv, TEST_KDF_POLICY, type KdfPolicy } from '../keys/kdf';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { readSecret } from './secrets';

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

/** Asks for the passphrase (terminal, or NOTESEAL_PASSPHRASE_FILE/FD) and unlocks. */
export async function unlockedKeyring(ctx: CliContext): Promise<Keyring> {
  const keyring = keyringFor(ctx);
  const passphrase = await readSecret({ name: 'PASSPHRASE', prompt: 'NoteSeal passphrase: ' }, ctx.env);
  try {
    await keyring.unlock(passphrase);
  } finally {
    passphrase.fill(0);
  }
  return keyring;
}

/** Runs `fn` with an unlocked keyring and always locks (zeroes keys) afterwards. */
export async function withKeyring<T>(ctx: CliContext, fn: (keyring: Keyring) => Promise<T>): Promise<T> {
  const keyring = await unlockedKeyring(ctx);
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
