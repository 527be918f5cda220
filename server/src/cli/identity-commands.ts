// `noteseal identity` (print, creating it if needed, this keyfile's public identity) and the `--identity
// FILE` key source for decrypt (an age identity file, like `age -i`: no keyfile, no passphrase).
import fs from 'node:fs/promises';
import { NoteSealError } from '../crypto/errors';
import type { UnwrapDataKey } from '../crypto/format';
import { readPublicIdentity } from '../keys/identity';
import { parseAgeIdentityFile, parsePublicIdentity } from '../keys/identity-strings';
import { keystoreDirFor } from '../keys/keystore';
import { unwrapWithReceivingKeys } from '../keys/recipients';
import { wipe } from '../keys/bytes';
import { allowOnly, expectOperands } from './args';
import { keyfilePath, keyringFor, withKeyring, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { writeToStdout } from './stdout';
import { dotenvxImportCommand, isDotenvxKeysImport } from './dotenvx-commands';
import { ageIdentitySubcommand, isAgeIdentitySubcommand, printAgeRecipient } from './age-commands';

export async function identityCommand(ctx: CliContext): Promise<number> {
  if (await isDotenvxKeysImport(ctx)) return dotenvxImportCommand(ctx);
  if (isAgeIdentitySubcommand(ctx)) return ageIdentitySubcommand(ctx);
  allowOnly(ctx.args, 'json', 'age');
  expectOperands(ctx.args, 0);
  keyringFor(ctx); // a clear error when there is no keyfile
  // The public half is readable without the passphrase; creating one needs the master key.
  let text = (await readPublicIdentity(keystoreDirFor(keyfilePath(ctx))))?.text;
  let created = false;
  if (!text) {
    ctx.note('This keyfile has no identity yet: unlocking to create one.');
    ({ text, created } = await withKeyring(ctx, async keyring => {
      const r = await keyring.ensureIdentity();
      return { text: r.identity.public.text, created: r.created };
    }));
  }
  // The same kind names `recipients list --json` and `inspect --json` use (a noteseal1… identity is X-Wing).
  const kind = parsePublicIdentity(text).kind;
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ identity: text, kind, created, keyfile: keyfilePath(ctx) }) + '\n'));
    return ExitCode.OK;
  }
  if (ctx.args.options.has('age')) return printAgeRecipient(ctx, text, created);
  ctx.note(created ? 'Created the identity of this keyfile.' : `The identity of ${keyfilePath(ctx)}:`);
  ctx.note('It is public: give it to whoever shares a folder with you (noteseal recipients add <identity>).');
  await writeToStdout(ctx.stdout, Buffer.from(text + '\n'));
  return ExitCode.OK;
}

/** The unwrap function of an identity file (AGE-SECRET-KEY-1…, AGE-SECRET-KEY-PQ-1…, NOTESEAL-SECRET-KEY-1… lines); its keys are wiped after `fn`. */
export async function withIdentityFile<T>(file: string, fn: (unwrap: UnwrapDataKey) => Promise<T>): Promise<T> {
  const keys = parseAgeIdentityFile(await fs.readFile(file, 'utf8'), { identitySecrets: true });
  try {
    return await fn(async stanzas => {
      const dataKey = unwrapWithReceivingKeys(stanzas, keys);
      if (!dataKey) throw new NoteSealError('WRONG_KEY', `No key in the identity file ${file} opens this file (it was not shared to it).`);
      return dataKey;
    });
  } finally {
    for (const k of keys) wipe(k.secretKey);
  }
}
