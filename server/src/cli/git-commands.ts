// `noteseal git setup|check|textconv|merge-driver`: encrypted files in git (docs/ARCHITECTURE.md, "Git").
// git runs textconv and the merge driver once per file, without a terminal of its own: both get their keys
// from the agent only (or a passphrase given on purpose), never from a prompt. Plaintext lives in this
// process's memory only: git hands us ciphertext temp files, textconv writes to git's pipe, and the merge
// result is encrypted before it is written into git's %A file.
import { isAgeBytes, mergeAgeSides, openAgeForGit } from './git-age';
import { hasDotenvBaseName, isDotenvxBytes, mergeDotenvxInto, openDotenvxForGit } from './git-dotenvx';
import { DOTENVX_NO_WRITER } from './dotenvx-commands';
import { hasSopsName, isSopsBytes, mergeSopsInto, openSopsForGit } from './git-sops';
import { SOPS_NO_WRITER } from './sops-commands';
import { AGE_NO_WRITER } from './age-commands';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { AgentRefused } from '../agent/client';
import { decryptBuffer, encryptBufferToFile, isNoteSealError, parseHeader, writeFileAtomic } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { MAGIC } from '../crypto/constants';
import { readRegularFile } from '../crypto/safe-open';
import { expectOperands, allowOnly, UsageError } from './args';
import type { CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { NoAgent, withFileKeys, type FileKeys } from './file-keys';
import { membersFor, newFileKeysFor } from './new-file-keys';
import { isMergeableText, mergeText } from './git-merge';
import { checkGit, openGit, setUpGit } from './git-setup';
import { writeToStdout } from './stdout';
import { keepingDataKey, UnverifiedWriter, writerVerdict } from './writer-check';

/** Larger files are not diffed or merged as text (a placeholder / "kept ours" instead). */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

const isRecordingPath = (p: string) => /\.wav\.enc$/i.test(p);

/** A context whose notes go nowhere: textconv must not print a warning per file into git's output. */
function quiet(ctx: CliContext): CliContext {
  return { ...ctx, note: () => undefined };
}

/** Never through a link: git hands the drivers paths inside the work tree, which a repository can make links. */
async function readBounded(file: string): Promise<Buffer | null> {
  return readRegularFile(file, { maxBytes: MAX_TEXT_BYTES }).catch(e => {
    if (isNoteSealError(e, 'LIMIT_EXCEEDED')) return null;
    throw e;
  });
}

async function setupCommand(ctx: CliContext): Promise<number> {
  const git = await openGit(process.cwd(), ctx.env);
  const changes = await setUpGit(git);
  const lines = changes.length > 0 ? changes : ['nothing to change: git is already set up for NoteSeal files'];
  lines.push(`repository: ${git.top}`, "git runs 'noteseal' from the PATH: check with 'noteseal git check'");
  await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  return ExitCode.OK;
}

async function checkCommand(ctx: CliContext): Promise<number> {
  const git = await openGit(process.cwd(), ctx.env);
  const items = await checkGit(git, ctx.env);
  const lines = items.map(i => `${i.info ? 'note   ' : i.ok ? 'ok     ' : 'MISSING'}  ${i.what}`);
  const missing = items.filter(i => !i.ok).length;
  lines.push(missing === 0 ? 'git is set up for NoteSeal files' : `${missing} missing: run 'noteseal git setup'`);
  await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  return missing === 0 ? ExitCode.OK : ExitCode.USAGE;
}

/** One line in place of a file we cannot show; the ciphertext's hash keeps two versions apart in a diff. */
function placeholder(bytes: Uint8Array, why: string): string {
  return `[NoteSeal: ${why}; ciphertext sha256:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}]\n`;
}

function whyNot(e: unknown): string {
  if (e instanceof AgentRefused || e instanceof NoAgent) return 'encrypted, NoteSeal is locked: unlock it in VS Code or run \'noteseal agent start\' to see the change';
  if (isNoteSealError(e, 'NOT_NOTESEAL') || isNoteSealError(e, 'UNSUPPORTED_VERSION')) return 'not a NoteSeal file this version can read';
  if (isNoteSealError(e, 'WRONG_KEY') || isNoteSealError(e, 'KEY_NOT_FOUND')) return 'encrypted with a key you do not hold';
  if (isNoteSealError(e)) return `damaged encrypted file (${e.code})`;
  return 'encrypted file that could not be decrypted';
}

/**
 * `noteseal git textconv <file>`: the decrypted text on stdout (git's pipe; git caches nothing since setup
 * sets cachetextconv=false). Anything it cannot show becomes one placeholder line, with exit 0: git calls
 * this for every version of every file, and an error or a prompt per file would drown the diff.
 */
async function textconvCommand(ctx: CliContext, file: string): Promise<number> {
  const bytes = await readBounded(file).catch(e => {
    if (isNoteSealError(e, 'NOT_A_REGULAR_FILE')) return 'not-regular' as const;
    throw e;
  });
  if (bytes === 'not-regular') return write(ctx, placeholder(Buffer.from(file), 'a symbolic link or special file: not followed'));
  if (bytes === null) return write(ctx, placeholder(Buffer.from(file), 'encrypted file too large to diff as text'));
  if (bytes.length === 0) return ExitCode.OK; // an empty .enc is an empty note
  // A `.env…` file (.gitattributes sends them all to us): a dotenvx one decrypted, a plain one as it is.
  if (isDotenvxBytes(bytes)) return dotenvxTextconv(ctx, bytes, file);
  // A sops file (any name: its metadata says so); a plain file of a sops-like name or `.env…` as it is.
  if (isSopsBytes(bytes)) return sopsTextconv(ctx, bytes, file);
  if ((hasDotenvBaseName(file) || hasSopsName(file)) && !isAgeBytes(bytes) && !isNoteSealBytes(bytes)) { await writeToStdout(ctx.stdout, bytes); return ExitCode.OK; }
  let plaintext: Buffer | null = null;
  try {
    const age = isAgeBytes(bytes);
    if (!age && (parseHeader(bytes).appendMode || isRecordingPath(file))) return write(ctx, placeholder(bytes, 'encrypted recording'));
    let banner: string;
    if (age) {
      plaintext = await withFileKeys(quiet(ctx), keys => openAgeForGit(bytes, keys), file, { prompt: false });
      // age files carry no signature: never from a trusted writer.
      banner = `[NoteSeal: WARNING: not from a trusted writer: ${AGE_NO_WRITER}]\n`;
    } else {
      let dataKey: Uint8Array | undefined;
      plaintext = await withFileKeys(quiet(ctx), async keys => {
        const kept = keepingDataKey(keys.unwrap);
        try { return await decryptBuffer(bytes, kept.unwrap); } finally { dataKey = kept.dataKey()?.slice(); kept.wipe(); }
      }, file, { prompt: false });
      // For an older version git hands us a temporary copy named after the file's base name only; it runs us at
      // the top of the work tree, whose list then judges the writer (a nested list is not seen for old versions).
      const inTree = !path.relative(process.cwd(), path.resolve(file)).startsWith('..');
      const where = inTree ? path.resolve(file) : path.join(process.cwd(), path.basename(file));
      const verdict = await writerVerdict(quiet(ctx), where, parseHeader(bytes).stanzas, { bytes, pathKnown: inTree, ...(dataKey ? { dataKey } : {}) }).finally(() => dataKey?.fill(0));
      // Shown inside the diff itself, where the reader looks: git shows nothing of a driver's stderr here.
      banner = verdict.authentic ? '' : `[NoteSeal: WARNING: not from a trusted writer: ${verdict.warning}]\n`;
    }
    if (!isMergeableText(plaintext)) return write(ctx, banner + placeholder(bytes, `encrypted binary content, ${plaintext.length} bytes`));
    if (banner) await writeToStdout(ctx.stdout, Buffer.from(banner));
    await writeToStdout(ctx.stdout, plaintext);
    return ExitCode.OK;
  } catch (e) {
    return write(ctx, placeholder(bytes, whyNot(e)));
  } finally {
    plaintext?.fill(0);
  }
}

/** textconv of a file with no writer (dotenvx, sops): its decrypted view under a banner saying so, or a placeholder. */
async function viewTextconv(ctx: CliContext, bytes: Buffer, noWriter: string, openView: () => Promise<string>): Promise<number> {
  let view: Buffer | null = null;
  try {
    view = Buffer.from(await openView(), 'utf8');
    await writeToStdout(ctx.stdout, Buffer.from(`[NoteSeal: WARNING: not from a trusted writer: ${noWriter}]\n`));
    await writeToStdout(ctx.stdout, view);
    return ExitCode.OK;
  } catch (e) {
    return write(ctx, placeholder(bytes, whyNot(e)));
  } finally { view?.fill(0); }
}

/** textconv of a dotenvx file: its plain dotenv view (its values carry no signature). */
function dotenvxTextconv(ctx: CliContext, bytes: Buffer, file: string): Promise<number> {
  return viewTextconv(ctx, bytes, DOTENVX_NO_WRITER, async () => (await openDotenvxForGit(quiet(ctx), bytes, file)).view);
}

/** textconv of a sops file: its decrypted view (metadata left out, MAC checked; a MAC names no writer). */
function sopsTextconv(ctx: CliContext, bytes: Buffer, file: string): Promise<number> {
  return viewTextconv(ctx, bytes, SOPS_NO_WRITER, () => withFileKeys(quiet(ctx), async keys => {
    const opened = await openSopsForGit(quiet(ctx), bytes, file, keys);
    wipe(opened.state.dataKey);
    return opened.state.pending?.text ?? opened.plaintext; // a merge in progress: the view with its markers, as NoteSeal shows it
  }, file, { prompt: false }));
}

async function write(ctx: CliContext, line: string): Promise<number> {
  await writeToStdout(ctx.stdout, Buffer.from(line));
  return ExitCode.OK;
}

/**
 * The keys of the merged file: as every write below a `.noteseal/recipients`, it is encrypted to the folder's
 * verified members (a list that fails its checks refuses the merge, writing nothing) and signed where the
 * signing key is at hand; outside a shared folder, to the writer's own key. `repoPath` is %P, relative to
 * the repository's top, where git runs the driver.
 */
export async function keysForMergedFile(ctx: CliContext, keys: FileKeys, repoPath: string) {
  const target = path.resolve(repoPath);
  return newFileKeysFor(ctx, keys, target, await membersFor(ctx, target));
}

/** Why a side cannot be merged as text, or null. Checked on the ciphertext, before any key is asked for. */
function unmergeable(bytes: Buffer, repoPath: string): string | null {
  if (isRecordingPath(repoPath)) return 'recordings are never merged';
  if (bytes.length === 0 || isAgeBytes(bytes) || isDotenvxBytes(bytes) || isSopsBytes(bytes)) return null;
  try {
    if (parseHeader(bytes).appendMode) return 'recordings are never merged';
  } catch (e) {
    if (isNoteSealError(e)) return 'not a NoteSeal file';
    throw e;
  }
  return null;
}

class KeptOurs extends Error {}

async function refuseUnverified(ctx: CliContext, repoPath: string, bytes: Buffer, dataKey: Uint8Array | undefined, side: string): Promise<void> {
  const verdict = await writerVerdict(ctx, path.resolve(repoPath), parseHeader(bytes).stanzas, { bytes, ...(dataKey ? { dataKey } : {}) });
  if (!verdict.authentic) throw new UnverifiedWriter(`${side}: ${verdict.warning}`);
}

/**
 * `noteseal git merge-driver %O %A %B %P`: decrypts base, ours and theirs in memory, merges them as text
 * and writes the result, encrypted under a fresh data key and salt, crash-safely into %A. Exit 0: merged
 * cleanly. Exit 1: conflict markers are inside the encrypted result, or %A (ours) was left as it was
 * (recordings, binary or foreign files). Locked or no agent: %A is untouched and the exit status is
 * non-zero, so git keeps its own conflict state and `git merge --abort` restores everything.
 */
async function mergeDriverCommand(ctx: CliContext, basePath: string, oursPath: string, theirsPath: string, repoPath: string): Promise<number> {
  const sides = await Promise.all([basePath, oursPath, theirsPath].map(readBounded));
  const [base, ours, theirs] = sides;
  const plain: Buffer[] = [];
  try {
    if (!base || !ours || !theirs) throw new KeptOurs(`larger than ${MAX_TEXT_BYTES} bytes`);
    if ((hasDotenvBaseName(repoPath) || hasSopsName(repoPath)) && sides.every(b => !isNoteSealBytes(b!) && !isAgeBytes(b!) && !isDotenvxBytes(b!) && !isSopsBytes(b!))) return await mergePlainDotenv(ctx, [base, ours, theirs], oursPath, repoPath);
    const reason = [base, ours, theirs].map(b => unmergeable(b, repoPath)).find(r => r !== null);
    if (reason) throw new KeptOurs(reason);
    if ([ours, theirs].some(isDotenvxBytes)) return await mergeDotenvxSides(ctx, [base, ours, theirs], oursPath, repoPath);
    // sops before age: a sops file's metadata holds its age stanzas as armored age text, which age's sniff accepts.
    if ([ours, theirs].some(isSopsBytes)) return await mergeSopsSides(ctx, [base, ours, theirs], oursPath, repoPath);
    if ([base, ours, theirs].some(isAgeBytes)) return await mergeAgeSides(ctx, [base, ours, theirs], oursPath, repoPath);
    return await withFileKeys(ctx, async keys => {
      for (const [i, bytes] of [base, ours, theirs].entries()) {
        if (bytes.length === 0) { plain.push(Buffer.alloc(0)); continue; }
        const kept = keepingDataKey(keys.unwrap);
        try {
          plain.push(await decryptBuffer(bytes, kept.unwrap));
          // A side nobody trusted wrote is never merged: the result would be re-signed as ours (laundering).
          if (i > 0) await refuseUnverified(ctx, repoPath, bytes, kept.dataKey(), i === 1 ? 'ours' : 'theirs');
        } finally { kept.wipe(); }
      }
      if (!plain.every(isMergeableText)) throw new KeptOurs('its content is not text');
      const [o, a, b] = plain.map(p => p.toString('utf8'));
      const merged = mergeText(a, o, b);
      const result = Buffer.from(merged.text, 'utf8');
      const { dataKey, stanzas, options } = await keysForMergedFile(ctx, keys, repoPath);
      try {
        await encryptBufferToFile(result, oursPath, dataKey, stanzas, options);
      } finally {
        wipe(dataKey, result);
      }
      if (merged.conflicts === 0) return ExitCode.OK;
      ctx.note(`noteseal: ${repoPath}: ${merged.conflicts} conflict${merged.conflicts > 1 ? 's' : ''}, marked inside the encrypted file: open it in VS Code, resolve, save, then git add`);
      return ExitCode.USAGE;
    }, repoPath, { prompt: false });
  } catch (e) {
    if (e instanceof KeptOurs) {
      ctx.note(`noteseal: ${repoPath}: not merged (${e.message}): kept ours; resolve it by hand (git checkout --ours/--theirs -- ${repoPath})`);
      return ExitCode.USAGE;
    }
    if (e instanceof UnverifiedWriter) {
      ctx.note(`noteseal: ${repoPath}: not merged, and nothing re-signed: ${e.message} Ours is kept as the conflicted file; `
        + `check where that version came from, then resolve it by hand (git checkout --ours/--theirs -- ${repoPath}).`);
      return ExitCode.UNVERIFIED_WRITER;
    }
    const why = e instanceof AgentRefused || e instanceof NoAgent || isNoteSealError(e) ? e.message : null;
    if (why === null) throw e;
    ctx.note(`noteseal: cannot merge ${repoPath}: ${why}. Nothing was written; ours is kept as the conflicted file. `
      + `Unlock, then 'git checkout -m -- ${repoPath}' merges it again (or 'git merge --abort').`);
    return e instanceof NoAgent ? ExitCode.NO_AGENT : e instanceof AgentRefused ? ExitCode.AGENT_REFUSED : exitCodeFor((e as { code: Parameters<typeof exitCodeFor>[0] }).code);
  } finally {
    for (const p of plain) p.fill(0);
  }
}

/** Whether bytes begin as every NoteSeal file does. */
function isNoteSealBytes(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && Buffer.from(bytes.subarray(0, MAGIC.length)).equals(Buffer.from(MAGIC));
}

/**
 * The merge driver for sops sides (git-sops.ts): a valid sops file with a new MAC, or, on a conflict, ours'
 * values with the merged view (markers) sealed in it; nothing decrypted written. sops values carry no signature, so no writer is checked or claimed.
 */
async function mergeSopsSides(ctx: CliContext, sides: Buffer[], oursPath: string, repoPath: string): Promise<number> {
  if (![sides[1]!, sides[2]!].every(isSopsBytes) || (sides[0]!.length > 0 && !isSopsBytes(sides[0]!))) throw new KeptOurs('one side is a sops file and another is not');
  const conflicts = await mergeSopsInto(ctx, sides, oursPath, repoPath);
  if (conflicts.length === 0) return ExitCode.OK;
  ctx.note(`noteseal: ${repoPath}: both sides changed ${conflicts.join(', ')} differently: the file keeps ours' values (what sops and teammates read) `
    + `and the merge with conflict markers, sealed in it (nothing decrypted is written). Open it in VS Code, resolve, save, then git add ${repoPath}`);
  return ExitCode.USAGE;
}

/** A plain `.env…` file (not encrypted at all) merged as git would: text, conflict markers in the file. */
async function mergePlainDotenv(ctx: CliContext, sides: Buffer[], oursPath: string, repoPath: string): Promise<number> {
  if (!sides.every(isMergeableText)) throw new KeptOurs('its content is not text');
  const [o, a, b] = sides.map(p => p.toString('utf8'));
  const merged = mergeText(a!, o!, b!);
  await writeFileAtomic(oursPath, Buffer.from(merged.text, 'utf8'));
  if (merged.conflicts === 0) return ExitCode.OK;
  ctx.note(`noteseal: ${repoPath}: ${merged.conflicts} conflict${merged.conflicts > 1 ? 's' : ''} (a plain file: marked in it)`);
  return ExitCode.USAGE;
}

/** The merge driver for dotenvx sides (git-dotenvx.ts): both must be dotenvx files; conflicts keep ours, unwritten. */
async function mergeDotenvxSides(ctx: CliContext, sides: Buffer[], oursPath: string, repoPath: string): Promise<number> {
  if (![sides[1]!, sides[2]!].every(isDotenvxBytes) || (sides[0]!.length > 0 && !isDotenvxBytes(sides[0]!))) throw new KeptOurs('one side is a dotenvx file and another is not');
  const conflicts = await mergeDotenvxInto(ctx, sides, oursPath, repoPath);
  if (conflicts.length === 0) return ExitCode.OK;
  ctx.note(`noteseal: ${repoPath}: both sides changed ${conflicts.join(', ')} differently: kept ours (nothing decrypted is written). `
    + `Set the value you want (noteseal set ${repoPath} KEY VALUE, or in VS Code), then git add ${repoPath}`);
  return ExitCode.USAGE;
}

export async function gitCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [verb] = ctx.args.operands;
  switch (verb) {
    case 'setup': expectOperands(ctx.args, 1, 1); return setupCommand(ctx);
    case 'check': expectOperands(ctx.args, 1, 1); return checkCommand(ctx);
    case 'textconv': {
      const [, file] = expectOperands(ctx.args, 2, 2, 'file (git passes it)');
      return textconvCommand(ctx, file);
    }
    case 'merge-driver': {
      const [, o, a, b, p] = expectOperands(ctx.args, 5, 5, 'argument: git passes %O %A %B %P');
      return mergeDriverCommand(ctx, o, a, b, path.normalize(p));
    }
    default: throw new UsageError(`unknown git command '${verb ?? ''}' (setup, check, textconv or merge-driver)`);
  }
}
