// age files in git (docs/CLI.md, "age files"): textconv shows them decrypted and the merge driver merges
// them as text, writing a new age file to the recipients rule's recipients (as a save does), armored if
// ours was. The file key comes from the agent (git runs us without a terminal). Passphrase files are
// neither shown nor merged: nothing may prompt under git.
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { ageFileFacts, openAgeWithFileKey, sealAge } from '../formats/age';
import { ageFormat } from '../formats/age-format';
import { ageRecipientsFor } from '../formats/age-recipients';
import { readPublicIdentity } from '../keys/identity';
import { keystoreDirFor } from '../keys/keystore';
import path from 'node:path';
import { keyfilePath, type CliContext } from './context';
import type { FileKeys } from './file-keys';

export function isAgeBytes(bytes: Uint8Array): boolean {
  return ageFormat.sniff(bytes.subarray(0, 2048));
}

/** The plaintext of an age side, with the file key from `keys` (the agent); a passphrase file is refused. */
export async function openAgeForGit(bytes: Uint8Array, keys: FileKeys): Promise<Buffer> {
  if (ageFileFacts(bytes).passphrase) throw new NoteSealError('WRONG_KEY', 'a passphrase-protected age file (git cannot ask for its passphrase)');
  return (await openAgeWithFileKey(bytes, stanzas => keys.ageFileKey(stanzas))).plaintext;
}

/** Writes the merged text into %A as a new age file for `repoPath`'s recipients (armored like ours). */
export async function writeMergedAge(ctx: CliContext, merged: Buffer, oursBytes: Uint8Array, oursPath: string, repoPath: string): Promise<void> {
  const keyfile = keyfilePath(ctx);
  const ownIdentity = await readPublicIdentity(keystoreDirFor(keyfile)).catch(() => null);
  const choice = await ageRecipientsFor(path.resolve(repoPath), { keyfilePath: keyfile, ownIdentity });
  await writeFileAtomic(oursPath, sealAge(merged, choice.recipients, { armor: ageFileFacts(oursBytes).armored }));
}
