// age files in git (docs/CLI.md, "age files"): textconv shows them decrypted and the merge driver merges
// them as text, writing a new age file to the recipients rule's recipients (as a save does), armored if
// ours was. The file key comes from the agent (git runs us without a terminal). Passphrase files are
// neither shown nor merged: nothing may prompt under git.
// age files carry no signature, so no side's writer can be checked; a merge of them is still safe to make
// because it claims no writer either (nothing is signed, unlike a .enc merge that would re-sign theirs as
// ours) and it is encrypted only to recipients this machine accepted (an accepted .age-recipients, the
// folder's accepted members, else your identity): a new or changed list refuses, exit 11. It happens only
// when every side opens with the identities NoteSeal holds; otherwise nothing is written and git's
// conflict stays.
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { ageFileFacts, openAgeWithFileKey, sealAge } from '../formats/age';
import { ageFormat } from '../formats/age-format';
import { ageRecipientsFor } from '../formats/age-recipients';
import { readPublicIdentity } from '../keys/identity';
import { keystoreDirFor } from '../keys/keystore';
import path from 'node:path';
import { keyfilePath, type CliContext } from './context';
import { AGE_NO_WRITER } from './age-commands';
import { ExitCode } from './exit-codes';
import { withFileKeys, type FileKeys } from './file-keys';
import { isMergeableText, mergeText } from './git-merge';
import { wipe } from '../keys/bytes';

export function isAgeBytes(bytes: Uint8Array): boolean {
  return ageFormat.sniff(bytes.subarray(0, 2048));
}

/** The plaintext of an age side, with the file key from `keys` (the agent); a passphrase file is refused. */
export async function openAgeForGit(bytes: Uint8Array, keys: FileKeys): Promise<Buffer> {
  if (ageFileFacts(bytes).passphrase) throw new NoteSealError('WRONG_KEY', 'a passphrase-protected age file (git cannot ask for its passphrase)');
  return (await openAgeWithFileKey(bytes, stanzas => keys.ageFileKey(stanzas))).plaintext;
}

/** Writes the merged text into %A as a new age file for `repoPath`'s recipients (armored like ours); says for whom. */
export async function writeMergedAge(ctx: CliContext, merged: Buffer, oursBytes: Uint8Array, oursPath: string, repoPath: string): Promise<{ source: string; texts: string[] }> {
  const keyfile = keyfilePath(ctx);
  const ownIdentity = await readPublicIdentity(keystoreDirFor(keyfile)).catch(() => null);
  const choice = await ageRecipientsFor(path.resolve(repoPath), { keyfilePath: keyfile, ownIdentity });
  await writeFileAtomic(oursPath, sealAge(merged, choice.recipients, { armor: ageFileFacts(oursBytes).armored }));
  return { source: choice.source, texts: choice.texts };
}

const SIDES = ['base', 'ours', 'theirs'];

/**
 * The merge driver for age sides (base may be empty: both branches added the file). Exit 0: merged; 1:
 * conflict markers inside the new age file, or ours kept (a side is not an age file, or not text); a side
 * that does not open, a recipients list not accepted, or no agent: the error goes up, nothing is written.
 */
export async function mergeAgeSides(ctx: CliContext, sides: Buffer[], oursPath: string, repoPath: string): Promise<number> {
  if (!sides.every(b => b.length === 0 || isAgeBytes(b))) {
    ctx.note(`noteseal: ${repoPath}: not merged (one side is an age file and another is not): kept ours; resolve it by hand (git checkout --ours/--theirs -- ${repoPath})`);
    return ExitCode.USAGE;
  }
  const plain: Buffer[] = [];
  try {
    return await withFileKeys(ctx, async keys => {
      for (const [i, bytes] of sides.entries()) {
        if (bytes.length === 0) { plain.push(Buffer.alloc(0)); continue; }
        try {
          plain.push(await openAgeForGit(bytes, keys));
        } catch (e) {
          if (isNoteSealError(e)) throw new NoteSealError(e.code, `${SIDES[i]}: ${e.message}`, e.detail);
          throw e;
        }
      }
      if (!plain.every(isMergeableText)) {
        ctx.note(`noteseal: ${repoPath}: not merged (its content is not text): kept ours; resolve it by hand (git checkout --ours/--theirs -- ${repoPath})`);
        return ExitCode.USAGE;
      }
      const [o, a, b] = plain.map(p => p.toString('utf8'));
      const merged = mergeText(a!, o!, b!);
      const result = Buffer.from(merged.text, 'utf8');
      let written;
      try { written = await writeMergedAge(ctx, result, sides[1]!, oursPath, repoPath); } finally { wipe(result); }
      ctx.note(`noteseal: ${repoPath}: merged into a new age file for ${written.source} (${written.texts.length} recipient${written.texts.length === 1 ? '' : 's'}). `
        + `${AGE_NO_WRITER}: review what theirs brought in before you commit.`);
      if (merged.conflicts === 0) return ExitCode.OK;
      ctx.note(`noteseal: ${repoPath}: ${merged.conflicts} conflict${merged.conflicts > 1 ? 's' : ''}, marked inside the encrypted file: open it in VS Code, resolve, save, then git add`);
      return ExitCode.USAGE;
    }, repoPath, { prompt: false });
  } finally {
    for (const p of plain) p.fill(0);
  }
}
