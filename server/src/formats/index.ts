// One small interface per file format (docs/FORMAT.md, "Formats"): open (bytes and the keys at hand ->
// plaintext and what is needed to save it again) and save (plaintext -> bytes), one file per format, as each
// recipient kind has its own file. NoteSeal's own .enc is the first; age the second. Callers pick a format
// by name or by the file's first bytes and work through this interface alone.
import { isNoteSealError } from '../crypto/errors';
import { openRegularFile } from '../crypto/safe-open';
import { ageFormat } from './age-format';
import { dotenvxFormat } from './dotenvx';
import { encFormat } from './enc';
import { looksLikeSops, sopsFormat } from './sops';
import type { FileFormat, FormatName } from './types';

export type { FileFormat, FormatName, KeysAtHand, OpenedFile } from './types';

export const HEAD_BYTES = 2048;
// sops before age: a sops file's metadata holds armored age files, which age's sniff would take for one.
export const FORMATS: readonly FileFormat<never>[] = [encFormat as FileFormat<never>, sopsFormat as FileFormat<never>, ageFormat as FileFormat<never>, dotenvxFormat as FileFormat<never>];

export function formatNamed(name: FormatName): FileFormat<never> {
  return FORMATS.find(f => f.name === name)!;
}

/** The format of bytes, or undefined when none recognises them. */
export function formatOfBytes(head: Uint8Array): FileFormat<never> | undefined {
  return FORMATS.find(f => f.sniff(head));
}

/** The format of a file, from its first bytes (a name proves nothing: `notes.age` may be anything). */
export async function formatOfFile(file: string): Promise<FileFormat<never> | undefined> {
  // Never a link's target, never waiting on a planted pipe (safe-open): a repository's file is hostile.
  const handle = await openRegularFile(file);
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return formatOfBytes(head.subarray(0, bytesRead));
  } finally { await handle.close(); }
}

/** Whether a file is an age file (binary or armored), by its first bytes; false for a file that cannot be read. */
export async function isAgeFile(file: string): Promise<boolean> {
  if (file === '-') return false;
  return (await formatOfFile(file).catch(e => {
    // A link or a pipe named like an age file goes to the age path, whose safe-open read refuses it.
    if (isNoteSealError(e, 'NOT_A_REGULAR_FILE') && hasAgeName(file)) return { name: 'age' };
    return undefined;
  }))?.name === 'age';
}

/** Whether a file is a dotenvx .env file (a DOTENV_PUBLIC_KEY… line in its first bytes); false when unreadable. */
export async function isDotenvxFile(file: string): Promise<boolean> {
  if (file === '-') return false;
  return (await formatOfFile(file).catch(() => undefined))?.name === 'dotenvx';
}

/** Whether a path is an age file by its name (the Explorer's and the CLI's first guess). */
export function hasAgeName(file: string): boolean {
  return /\.age$/i.test(file);
}

/** The most of a file read to tell whether it is a sops file (its metadata block comes last). */
const SOPS_SNIFF_LIMIT = 16 * 1024 * 1024;

/** Whether a file carries sops metadata anywhere (sops writes it at the end); false when unreadable. */
export async function isSopsFile(file: string): Promise<boolean> {
  if (file === '-') return false;
  try {
    const handle = await openRegularFile(file);
    try {
      const { size } = await handle.stat();
      if (size > SOPS_SNIFF_LIMIT) return false;
      const bytes = Buffer.alloc(size);
      const { bytesRead } = await handle.read(bytes, 0, size, 0);
      return looksLikeSops(bytes.subarray(0, bytesRead).toString('utf8'));
    } finally { await handle.close(); }
  } catch { return false; }
}
