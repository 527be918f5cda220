// `noteseal unlock list|add|remove`: the keyfile's unlock slots (keys/slots.ts, docs/KEYS.md "Unlock slots").
import fs from 'node:fs/promises';
import { Keyring } from '../keys/keyring';
import { generateSlotKey, listTokenLabels, type Pkcs11Target } from '../keys/pkcs11';
import { checkSlotName, slotInfo } from '../keys/slots';
import { createTpmKey } from '../keys/tpm';
import { allowOnly, expectOperands, UsageError } from './args';
import { kdfPolicy, keyringFor, pkcs11Module, withKeyring, type CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { showRecoveryKey } from './key-commands';
import { readSecret } from './secrets';
import { writeToStdout } from './stdout';

export async function unlockCommand(ctx: CliContext): Promise<number> {
  const [verb] = ctx.args.operands;
  if (verb === 'list') return listSlots(ctx);
  if (verb === 'add') return addSlot(ctx);
  if (verb === 'remove') return removeSlot(ctx);
  throw new UsageError(verb === undefined ? 'unlock: missing list, add or remove' : `unlock: unknown action '${verb}' (list, add or remove)`);
}

async function listSlots(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'json');
  expectOperands(ctx.args, 1, 1);
  const keyring = keyringFor(ctx);
  const slots = (await Keyring.readSlots(keyring.keyfilePath, { kdf: kdfPolicy(ctx) })).map(slotInfo);
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ passphrase: true, recoveryKey: true, slots }, null, 2) + '\n'));
    return ExitCode.OK;
  }
  const lines = ['passphrase   (always; the recovery key opens the keyfile too)',
    ...slots.map(s => `${s.name}   ${s.kind === 'pkcs11' ? `pkcs11, token "${s.token ?? ''}", key ${s.keyId ?? ''}` : `tpm, ${s.pin ? 'with' : 'no'} PIN`}, added ${s.created}`)];
  await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  return ExitCode.OK;
}

/** The token label: --token, else the only token the module shows. */
async function chooseToken(ctx: CliContext, module: string): Promise<string> {
  const given = ctx.args.options.get('token');
  if (typeof given === 'string') return given;
  const labels = await listTokenLabels(module, ctx.env);
  if (labels.length === 1) return labels[0]!;
  throw new UsageError(labels.length === 0
    ? `unlock add pkcs11: the module ${module} shows no token (plug it in)`
    : `unlock add pkcs11: the module shows ${labels.length} tokens (${labels.map(l => `"${l}"`).join(', ')}): choose one with --token LABEL`);
}

function defaultSlotName(token: string): string {
  const cleaned = token.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned && !['passphrase', 'recovery'].includes(cleaned.toLowerCase()) ? cleaned : 'token';
}

async function addSlot(ctx: CliContext): Promise<number> {
  const [, kind] = expectOperands(ctx.args, 2, 2, 'slot kind (pkcs11 or tpm)');
  if (kind === 'tpm') return addTpmSlot(ctx);
  allowOnly(ctx.args, 'token', 'name');
  if (kind !== 'pkcs11') throw new UsageError(`unlock add: unknown slot kind '${kind}' (pkcs11 or tpm)`);
  const module = pkcs11Module(ctx);
  if (!module) throw new UsageError('unlock add pkcs11: pass --module PATH (the PKCS#11 module, e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so)');
  await fs.access(module);
  const token = await chooseToken(ctx, module);
  const givenName = ctx.args.options.get('name');
  const name = typeof givenName === 'string' ? givenName : defaultSlotName(token);
  const target: Pkcs11Target = { module, token };
  const slot = await withKeyring(ctx, async keyring => {
    const pin = await readSecret({ name: 'PIN', prompt: `PIN of the token "${token}": ` }, ctx.env);
    try {
      const { keyId, publicKey } = await generateSlotKey(target, `noteseal ${name}`, pin, ctx.env);
      return await keyring.addPkcs11Slot({ name, token, keyId, publicKey });
    } finally {
      pin.fill(0);
    }
  }, { passphraseOnly: true });
  ctx.note(`Added unlock slot "${slot.name}": token "${token}", key ${slot.keyId} (P-256, made on the token; it never leaves it).`);
  ctx.note(`Unlock with it: --unlock ${slot.name} --module ${module} (or set NOTESEAL_PKCS11_MODULE). The PIN is never stored.`);
  return ExitCode.OK;
}

/** `unlock add tpm [--pin] [--name NAME]`: a key made by this machine's TPM; with --pin, a new PIN (asked twice). */
async function addTpmSlot(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'pin', 'name');
  const givenName = ctx.args.options.get('name');
  const name = typeof givenName === 'string' ? givenName : 'tpm';
  const withPin = ctx.args.options.has('pin');
  const slot = await withKeyring(ctx, async keyring => {
    checkSlotName(name, await Keyring.readSlots(keyring.keyfilePath, { kdf: kdfPolicy(ctx) })); // before the TPM works
    const pin = withPin ? await readSecret({ name: 'PIN', prompt: 'New PIN for the TPM slot: ', confirm: true }, ctx.env) : null;
    try {
      if (pin && pin.length === 0) throw new UsageError('unlock add tpm --pin: the PIN is empty');
      const key = await createTpmKey(pin, ctx.env);
      return await keyring.addTpmSlot({ name, pin: withPin, ...key });
    } finally {
      pin?.fill(0);
    }
  }, { passphraseOnly: true });
  ctx.note(`Added unlock slot "${slot.name}": a key in this machine's TPM${slot.pin ? ', with a PIN' : ' (no PIN: anyone who can use this TPM as you unlocks)'}.`);
  ctx.note(`Unlock with it: --unlock ${slot.name}. A copy of the keyfile on another machine cannot use this slot.`);
  return ExitCode.OK;
}

async function removeSlot(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'rotate');
  const [, name, folder] = expectOperands(ctx.args, 2, 3, 'slot name');
  const rotate = ctx.args.options.has('rotate');
  if (folder !== undefined && !rotate) throw new UsageError(`unlock remove: unexpected argument ${folder} (a folder goes with --rotate)`);
  if (folder !== undefined && !(await fs.stat(folder)).isDirectory()) throw new UsageError(`unlock remove: ${folder} is not a folder`);
  if (['passphrase', 'recovery'].includes(name!.toLowerCase())) {
    throw new UsageError('unlock remove: the passphrase and the recovery key are not slots and cannot be removed (change the passphrase with passwd)');
  }
  return withKeyring(ctx, async keyring => {
    await keyring.removeSlot(name!);
    ctx.note(`Removed unlock slot "${name!}". Files are untouched: only the keyfile was rewritten.`);
    if (!rotate) {
      ctx.note('An older copy of the keyfile still opens with that slot\'s token: rotate the master key to cut it off (unlock remove --rotate).');
      return ExitCode.OK;
    }
    const result = await keyring.rotate(folder, p => ctx.note(`[${p.done}/${p.total}] ${p.outcome} ${p.file}${p.outcome === 'failed' ? `: ${p.errorMessage}` : ''}`));
    ctx.note(`New master key ${result.masterKeyId}: ${result.files.rewrapped} file(s) rewrapped, ${result.files.failed.length} failed; every remaining slot was rewrapped.`);
    await showRecoveryKey(ctx, result.recoveryKey, 'Below is your NEW recovery key; the old one no longer works.');
    const firstFailure = result.files.failed[0];
    if (!firstFailure) return ExitCode.OK;
    return firstFailure.errorCode === 'IO' ? ExitCode.IO : exitCodeFor(firstFailure.errorCode);
  }, { passphraseOnly: true });
}
