// Commands that manage the keyfile: init, passwd, rotate, shred.
import fs from 'node:fs/promises';
import { readHeaderFromFile } from '../crypto/format';
import { detachedKeyIdsOf, Keyring } from '../keys/keyring';
import { readKeyfile } from '../keys/keyfile';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, kdfPolicy, keyfilePath, keyringFor, withKeyring, type CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { readSecret } from './secrets';
import { writeToStdout } from './stdout';

/** The recovery key goes to stdout (so it can be captured); the warning about it to stderr. */
export async function showRecoveryKey(ctx: CliContext, recoveryKey: string, intro: string): Promise<void> {
  ctx.note(`${intro} Write it down and keep it offline: it is shown only this once, and it opens every file.`);
  ctx.note('It unlocks the keyfile through `noteseal passwd --recovery` if the passphrase is forgotten.');
  await writeToStdout(ctx.stdout, Buffer.from(recoveryKey + '\n'));
}

export async function initCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  expectOperands(ctx.args, 0);
  const file = keyfilePath(ctx);
  const policy = kdfPolicy(ctx);
  const passphrase = await readSecret({ name: 'PASSPHRASE', prompt: 'New NoteSeal passphrase: ', confirm: true }, ctx.env);
  ctx.note('Calibrating the key derivation to about one second on this machine...');
  let recoveryKey: string;
  try {
    const created = await Keyring.init(file, passphrase, { kdf: policy });
    created.keyring.lock();
    recoveryKey = created.recoveryKey;
  } finally {
    passphrase.fill(0);
  }
  const { kdf } = await readKeyfile(file, policy.floor);
  ctx.note(`Created ${file} (Argon2id m=${kdf.m / 1024} MiB, t=${kdf.t}, p=${kdf.p}).`);
  await showRecoveryKey(ctx, recoveryKey, 'Below is your recovery key.');
  return ExitCode.OK;
}

export async function passwdCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'recovery');
  expectOperands(ctx.args, 0);
  if (ctx.args.options.has('recovery')) {
    const keyring = keyringFor(ctx);
    const recovery = await readSecret({ name: 'RECOVERY_KEY', prompt: 'Recovery key: ' }, ctx.env);
    const newPassphrase = await readSecret({ name: 'NEW_PASSPHRASE', prompt: 'New passphrase: ', confirm: true }, ctx.env);
    try {
      await keyring.unlockWithRecoveryKey(recovery.toString('utf8'), newPassphrase);
    } finally {
      recovery.fill(0);
      newPassphrase.fill(0);
      keyring.lock();
    }
  } else {
    await withKeyring(ctx, async keyring => {
      const newPassphrase = await readSecret({ name: 'NEW_PASSPHRASE', prompt: 'New passphrase: ', confirm: true }, ctx.env);
      try { await keyring.changePassphrase(newPassphrase); } finally { newPassphrase.fill(0); }
    });
  }
  ctx.note('Passphrase changed. Files are untouched: only the keyfile was rewritten.');
  return ExitCode.OK;
}

export async function rotateCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [folder] = expectOperands(ctx.args, 1, 1, 'folder to rewrap');
  if (!(await fs.stat(folder)).isDirectory()) throw new UsageError(`rotate: ${folder} is not a folder`);
  const result = await withKeyring(ctx, keyring => keyring.rotate(folder, p => {
    const why = p.outcome === 'failed' ? `: ${p.errorMessage}` : '';
    ctx.note(`[${p.done}/${p.total}] ${p.outcome} ${p.file}${why}`);
  }), { passphraseOnly: true }); // the new master key is wrapped under the passphrase's KEK: a slot cannot rotate
  const { files } = result;
  ctx.note(`New master key ${result.masterKeyId}: ${files.rewrapped} file(s) rewrapped, ${files.alreadyCurrent} already current, `
    + `${files.detached} with detached keys (${result.detachedKeysRewrapped} key store entries rewrapped), ${files.failed.length} failed.`);
  ctx.note('The old master key is retired: files elsewhere stay readable and are rewrapped by a later rotate.');
  await showRecoveryKey(ctx, result.recoveryKey, 'Below is your NEW recovery key; the old one no longer works.');
  const firstFailure = files.failed[0];
  if (!firstFailure) return ExitCode.OK;
  return firstFailure.errorCode === 'IO' ? ExitCode.IO : exitCodeFor(firstFailure.errorCode);
}

/**
 * Destroys the detached key of a file. Unlocks first: only the key that verifies the file's header MAC is
 * shredded, so a crafted header naming other files' key ids destroys nothing else.
 */
export async function shredCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'yes');
  const [file] = expectOperands(ctx.args, 1, 1, 'file whose key to shred');
  const { stanzas } = await aboutFile(file, () => readHeaderFromFile(file));
  if (detachedKeyIdsOf(stanzas).length === 0) throw new UsageError(`shred: ${file} has no detached key (it was not encrypted with --detached)`);
  if (!ctx.args.options.has('yes')) {
    throw new UsageError(`shred makes ${file} unreadable for good; repeat with --yes to confirm`);
  }
  const keyId = await withKeyring(ctx, keyring => aboutFile(file, () => keyring.shredFileKey(file)));
  ctx.note(`Shredded key ${keyId}: ${file} can no longer be decrypted by anyone.`);
  return ExitCode.OK;
}
