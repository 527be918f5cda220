// sops files in the CLI (issue 27): `noteseal decrypt` shows a sops file as `sops decrypt` does, its data key
// unwrapped from an age entry by the age identities at hand (--identity FILE, else the agent or the keyring).
import { readRegularFile } from '../crypto/safe-open';
import { wipe } from '../keys/bytes';
import { sopsFormat } from '../formats/sops';
import { writeFileAtomic } from '../crypto/format';
import { isSopsFile } from '../formats';
import { cliKeysAtHand } from './age-commands';
import { allowOnly, expectOperands } from './args';
import { setCommand } from './dotenvx-commands';
import fs from 'node:fs/promises';
import { NoteSealError } from '../crypto/errors';
import { setInPlaintext } from '../formats/sops-set';
import { aboutFile, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { withFileKeys, type FileKeys } from './file-keys';
import { writeToStdout } from './stdout';

/** The most of a sops file read: its values are decrypted in memory. */
const MAX_BYTES = 16 * 1024 * 1024;

/** Said by decrypt (stderr): sops values carry a MAC under the data key, no signature. */
export const SOPS_NO_WRITER = 'sops files have no writer: their MAC is made with the data key, so anyone who can open the file can have written it';

/** The plaintext view of a sops file (values decrypted, MAC checked, metadata left out). */
export async function openSopsFileCli(ctx: CliContext, file: string, identityFile?: string): Promise<Buffer> {
  const bytes = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const open = (keys: FileKeys | null) => aboutFile(file, async () => {
    const opened = await sopsFormat.open(bytes, cliKeysAtHand(ctx, keys, identityFile), file);
    wipe(opened.saveState.dataKey);
    return opened.plaintext;
  });
  return identityFile ? open(null) : withFileKeys(ctx, keys => open(keys), file);
}

export async function sopsDecrypt(ctx: CliContext, file: string, output: string | null, identityFile?: string): Promise<number> {
  const plaintext = await openSopsFileCli(ctx, file, identityFile);
  ctx.note(`noteseal: ${SOPS_NO_WRITER}`);
  try {
    if (output) await writeFileAtomic(output, plaintext, 0o600);
    else await writeToStdout(ctx.stdout, plaintext);
  } finally { plaintext.fill(0); }
  return ExitCode.OK;
}

/** `noteseal set <sops file> KEY VALUE|-`: one value changed, the file re-encrypted as a save in VS Code would. */
export async function sopsSetCommand(ctx: CliContext, file: string, keyPath: string, value: string): Promise<number> {
  const before = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const run = (keys: FileKeys | null) => aboutFile(file, async () => {
    const opened = await sopsFormat.open(before, cliKeysAtHand(ctx, keys), file);
    try {
      const next = setInPlaintext(opened.saveState.kind, opened.plaintext.toString('utf8'), keyPath, value);
      opened.plaintext.fill(0);
      return { bytes: await sopsFormat.save(Buffer.from(next.text, 'utf8'), opened.saveState), added: next.added };
    } finally { wipe(opened.saveState.dataKey); }
  });
  const { bytes, added } = await withFileKeys(ctx, keys => run(keys), file);
  // Written whole or not at all (atomic rename), with the file's own mode; refused if it changed meanwhile.
  const { mode } = await fs.stat(file);
  const now = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  if (!now.equals(before)) throw new NoteSealError('INVALID_ARGUMENT', `${file} changed while it was being set: nothing written, try again`);
  await writeFileAtomic(file, bytes, mode & 0o777);
  ctx.note(`${added ? 'Added' : 'Set'} ${keyPath} in ${file} (sops: same data key, MAC and lastmodified renewed)`);
  return ExitCode.OK;
}

async function readStdinText(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(Buffer.from(c as Uint8Array));
  const all = Buffer.concat(parts);
  try { return all.toString('utf8').replace(/\r?\n$/, ''); } finally { all.fill(0); for (const p of parts) p.fill(0); }
}

/** `noteseal set`: a sops file here, any other file to dotenvx's set. */
export async function setAnyCommand(ctx: CliContext): Promise<number> {
  const [file] = ctx.args.operands;
  if (file === undefined || !(await isSopsFile(file))) return setCommand(ctx);
  allowOnly(ctx.args);
  const [, keyPath, given] = expectOperands(ctx.args, 3, 3, 'file, KEY and VALUE (- reads the value from stdin)') as [string, string, string];
  return sopsSetCommand(ctx, file, keyPath, given === '-' ? await readStdinText() : given);
}
