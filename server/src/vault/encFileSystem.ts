// The file operations behind the `noteseal:` FileSystemProvider. A logical path `/notes/plan.md` is the
// decrypted view of `/notes/plan.md.enc`; folders are the same folders. Plaintext exists only in memory:
// reads decrypt into a buffer returned over IPC, writes encrypt in memory and replace the `.enc` file
// crash-safely (temp sibling, fsync, rename). Every write gets a fresh data key and salt.
import type { BigIntStats, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decryptFileToBuffer, encryptBufferToFile, isNoteSealError, readHeaderFromFile } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { newStanzasFor } from '../keys/sharing';
import { AGE_SUFFIX, ENC_SUFFIX, encPathOf, hasDotenvName, isSealedPath, isTempSibling, viewPathOf } from '../encPaths';
import { readAgeNote, writeAgeNote } from './ageNotes';
import { DotenvxOpenStates, isDotenvxNote, readDotenvxNote, writeDotenvxNote } from './dotenvxNotes';
import { isSopsNote, readSopsNote, writeSopsNote } from './sopsNotes';
import type { DirectoryEntry, FileStatInfo } from '../protocol';
import { withWipedDataKeys } from './dataKeys';
import type { VaultService } from './vaultService';
import { WorkerError } from './workerErrors';
import { errnoOf } from '../ioErrors';
import { refuseLinkedFolderInRepository, refuseLinkedFoldersInRepository, regularFileStat } from '../crypto/safe-open';
import { LogViews } from './logViews';
import { NoteSealError } from '../crypto/errors';

/**
 * The largest `.enc` file the editor path decrypts into memory (the worker holds it twice, VS Code's
 * editor more). Larger files are refused before their payload is read; Decrypt File… and the CLI stream.
 */
export const MAX_NOTE_BYTES = 256 * 1024 * 1024;

/** Told before and after each file the worker replaces (EncWatchers). */
export interface OwnWrites {
  ownWriteStarted(real: string): void;
  ownWriteEnded(real: string, stat: Stats | undefined): void;
}

type Target = { kind: 'file'; real: string; format: 'enc' | 'age' | 'dotenvx' | 'sops' } | { kind: 'directory'; real: string } | { kind: 'missing'; real: string };

/** Which version of a file is on disk: inode, size and nanosecond mtime (null: none). */
async function versionOf(p: string): Promise<string | null> {
  try {
    return versionIn(await fs.lstat(p, { bigint: true }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function versionIn(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** How long the version a stat reported stands for "what VS Code checked" when a write of that file follows. */
const STAT_SEEN_MS = 5000;

/** How many of its own recent saves per file the worker remembers (EncFileSystem.ownSaves). */
const OWN_WRITES_KEPT = 8;

/** lstat: a link is reported as one, never followed. */
async function statOrNull(p: string) {
  try { return await fs.lstat(p); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; throw e; }
}

export class EncFileSystem {
  /** The version of each file as the last stat reported it (VS Code stats a file right before it writes it). */
  private readonly statSeen = new Map<string, { version: string; at: number }>();
  /**
   * Per file, the versions this worker's own saves turned it from → to (the last few). VS Code may stat a note
   * for its next save while NoteSeal is still writing the previous one (a save still running after 150 ms is
   * reported done: writeJoin.ts); that next save then saw the version before our own rename, which is no one
   * else's change. Only a chain of our own writes from the version seen to the one on disk is accepted.
   */
  private readonly ownSaves = new Map<string, Map<string | null, string | null>>();
  /** Each dotenvx file's values as last opened or saved here, so that a save need not decrypt the file again (dropped at lock). */
  private readonly dotenvxStates = new DotenvxOpenStates();

  /** `ownWrites` hears of every file this worker replaces (the watchers use it to skip their own events). */
  constructor(private readonly vault: VaultService, private readonly ownWrites?: OwnWrites) {}

  /** The unlocked keyring (LOCKED / NOT_INITIALIZED otherwise). */
  vaultKeyring() { return this.vault.unlocked(); }

  /** At lock: drops every decrypted value held for saves (dotenvx files' open states) and the logs' views. */
  forgetDecrypted(): void { this.dotenvxStates.clear(); this.logViews.clear(); }

  /** What the editor's views of logs keep between reads (LogViews). */
  private readonly logViews = new LogViews();
  /** The last log read: how many plaintext bytes it had to authenticate (tests, the bench). */
  lastLogRead: { real: string; readBytes: number } | undefined;
  /** Told when a log opens that its writer left unfinished (a crash): shown is what was sealed. */
  onUnfinishedLog: ((real: string, sealedBytes: number) => void) | undefined;

  /** How many files' decrypted values are held for saves (tests). */
  get heldStates(): number { return this.dotenvxStates.size; }

  /** How many logs' shown text is kept between reads (tests: none after a lock). */
  get heldLogViews(): number { return this.logViews.size; }

  /**
   * What a logical path names on disk: its `.enc` file, a folder, or nothing yet (a new file). Links are never
   * followed (crypto/safe-open.ts): an `.enc` that is a symbolic link (or a pipe or device), or a linked folder
   * inside the repository on the way to it, is NOT_A_REGULAR_FILE, so nothing is read through it nor written
   * over it; a folder that is a link is no folder here (readDirectory refuses it). The logical path of an age
   * file is its name without `.age` (issue 26); when both `x.enc` and `x.age` exist, neither is guessed at.
   */
  private async resolve(logical: string): Promise<Target> {
    const enc = encPathOf(logical);
    const age = logical + AGE_SUFFIX;
    await refuseLinkedFoldersInRepository(enc);
    const encStat = await statOrNull(enc);
    const ageStat = await statOrNull(age);
    if (encStat && ageStat && !encStat.isDirectory() && !ageStat.isDirectory()) {
      throw new WorkerError('NoPermissions', `Both ${enc} and ${age} exist: NoteSeal shows one file per name and will not guess which you meant. Rename one of them.`);
    }
    // A dotenvx `.env…` file is its own view (issue 27); beside an `x.enc`/`x.age` of the same name: refused.
    const dotenvx = await this.isDotenvxAt(logical);
    if (dotenvx && ((encStat && !encStat.isDirectory()) || (ageStat && !ageStat.isDirectory()))) {
      throw new WorkerError('NoPermissions', `Both ${logical} (a dotenvx file) and ${encStat ? enc : age} exist: NoteSeal shows one file per name and will not guess which you meant. Rename one of them.`);
    }
    if (dotenvx) return { kind: 'file', real: logical, format: 'dotenvx' };
    // A sops file (issue 27) is its own view too: a regular file carrying sops metadata, shown under its own name.
    if (await this.isSopsAt(logical)) {
      if ((encStat && !encStat.isDirectory()) || (ageStat && !ageStat.isDirectory())) {
        throw new WorkerError('NoPermissions', `Both ${logical} (a sops file) and ${encStat ? enc : age} exist: NoteSeal shows one file per name and will not guess which you meant. Rename one of them.`);
      }
      return { kind: 'file', real: logical, format: 'sops' };
    }
    if (encStat?.isFile()) return { kind: 'file', real: enc, format: 'enc' };
    if (encStat && !encStat.isDirectory()) await regularFileStat(enc); // throws, naming what it is
    if (ageStat?.isFile()) return { kind: 'file', real: age, format: 'age' };
    if (ageStat && !ageStat.isDirectory()) await regularFileStat(age);
    const dirStat = await statOrNull(logical);
    if (dirStat?.isDirectory()) return { kind: 'directory', real: logical };
    return { kind: 'missing', real: enc };
  }

  /** Whether `logical` is itself a dotenvx file (a `.env…` name, a regular file, a DOTENV_PUBLIC_KEY line). */
  private async isDotenvxAt(logical: string): Promise<boolean> {
    if (!hasDotenvName(logical) || !(await statOrNull(logical))?.isFile()) return false;
    return isDotenvxNote(logical);
  }

  /** Whether `logical` is itself a sops file (a regular file, never a link, carrying sops metadata). */
  private async isSopsAt(logical: string): Promise<boolean> {
    if (!(await statOrNull(logical))?.isFile()) return false;
    return isSopsNote(logical);
  }

  async stat(logical: string): Promise<FileStatInfo> {
    const t = await this.resolve(logical);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    const s = await fs.lstat(t.real, { bigint: true });
    let readonly = false;
    try { await fs.access(t.real, fs.constants.W_OK); } catch { readonly = true; }
    // A log (`noteseal append`) is shown read-only: VS Code makes a text editor read-only when the stat of
    // its file says so (FilePermission.Readonly → IFileStat.readonly: filesConfigurationService.ts isReadonly,
    // "check if file is marked readonly from the file system provider"; TextFileEditorModel.isReadonly).
    if (t.kind === 'file' && t.format === 'enc' && await isLogFile(t.real)) readonly = true;
    if (t.kind === 'file') {
      if (this.statSeen.size > 1000) for (const [k, v] of this.statSeen) if (Date.now() - v.at > STAT_SEEN_MS) this.statSeen.delete(k);
      this.statSeen.set(t.real, { version: versionIn(s), at: Date.now() });
    }
    return { type: t.kind, ctime: Number(s.ctimeNs) / 1e6, mtime: Number(s.mtimeNs) / 1e6, size: Number(s.size), readonly };
  }

  async readDirectory(logical: string): Promise<DirectoryEntry[]> {
    await refuseLinkedFolderInRepository(logical);
    if ((await fs.lstat(logical)).isSymbolicLink()) await regularFileStat(logical); // throws: a linked folder
    const entries = await fs.readdir(logical, { withFileTypes: true });
    const out = new Map<string, DirectoryEntry>();
    for (const e of entries) {
      if (isTempSibling(e.name)) continue;
      if (e.isDirectory()) out.set(e.name, [e.name, 'directory']);
      else if (e.isFile() && isSealedPath(e.name) && !out.has(viewPathOf(e.name))) out.set(viewPathOf(e.name), [viewPathOf(e.name), 'file']);
    }
    return [...out.values()];
  }

  async readFile(logical: string): Promise<Buffer> {
    const t = await this.resolve(logical);
    if (t.kind === 'directory') throw new WorkerError('FileIsADirectory', `${t.real} is a folder`);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    if (isNewEmptyNote((await fs.lstat(t.real)).size)) return Buffer.alloc(0);
    if (t.format === 'age') return readAgeNote(this.vault.unlocked(), t.real, MAX_NOTE_BYTES);
    if (t.format === 'dotenvx') return readDotenvxNote(this.vault.unlocked(), t.real, MAX_NOTE_BYTES, this.dotenvxStates);
    if (t.format === 'sops') return readSopsNote(this.vault.unlocked(), t.real, MAX_NOTE_BYTES);
    if (await isLogFile(t.real)) return this.readLogView(t.real);
    try {
      // The header is authenticated (and the size checked) before the payload is read.
      return await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => decryptFileToBuffer(t.real, unwrap, { maxBytes: MAX_NOTE_BYTES }));
    } catch (e) {
      if (!isNoteSealError(e, 'LIMIT_EXCEEDED')) throw e;
      throw new WorkerError('LIMIT_EXCEEDED', `${t.real} is too large to open in the editor (${e.message}). Use "NoteSeal: Decrypt File…" or the noteseal CLI for it.`);
    }
  }

  /**
   * What a log shows in the editor: its sealed chunks so far, each authenticated (logs/reader.ts), so a log
   * that `noteseal append` is still writing opens too, without the chunk being sealed right now (or one a
   * crash tore). The watcher reports each new chunk as a change and VS Code reads the log again: only the
   * chunks sealed since the last read are read and authenticated (LogViews). A log whose writer crashed
   * opens with what was sealed and `onUnfinishedLog` says so; one cut short with no crash behind it
   * (no writer's lock left) is TRUNCATED and shows nothing.
   */
  private async readLogView(real: string): Promise<Buffer> {
    const tooLarge = () => new WorkerError('LIMIT_EXCEEDED', `${real} is too large to open in the editor (more than ${MAX_NOTE_BYTES} bytes). Use noteseal cat for it.`);
    const r = await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => this.logViews.read(real, unwrap, MAX_NOTE_BYTES, tooLarge));
    this.lastLogRead = { real, readBytes: r.readBytes };
    if (r.end === 'truncated') {
      this.logViews.forget(real); // wipes r.text too (it is the kept text)
      throw new NoteSealError('TRUNCATED', `${real} is a log without its final chunk, and no writer left its lock behind as a crash does: it was closed and then cut short (or copied without its lock). Nothing is shown; noteseal recover seals what it holds if you trust that.`);
    }
    if (r.end === 'unfinished') this.onUnfinishedLog?.(real, r.text.length);
    return r.text;
  }

  async writeFile(logical: string, plaintext: Uint8Array, flags: { create: boolean; overwrite: boolean }): Promise<void> {
    const t = await this.resolve(logical);
    if (t.kind === 'directory') throw new WorkerError('FileIsADirectory', `${t.real} is a folder`);
    // A log is written only by its appender: a save would turn it into an ordinary sealed file under it.
    if (t.kind === 'file' && t.format === 'enc' && await isLogFile(t.real)) {
      throw new WorkerError('NoPermissions', `${t.real} is a log (written by noteseal append): NoteSeal shows it read-only and never writes it.`);
    }
    if (t.kind === 'missing' && !flags.create) throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    if (t.kind === 'file' && !flags.overwrite) throw new WorkerError('FileExists', `${t.real} already exists`);
    const parent = await statOrNull(path.dirname(t.real));
    if (!parent?.isDirectory()) throw new WorkerError('FileNotFound', `The folder ${path.dirname(t.real)} does not exist`);
    // VS Code checked the file's mtime and size just before this call (its own save-conflict check, on the
    // stat it asked for first); a writer that lands after that stat, while the bytes travel to us or while we
    // encrypt and sync (another window, git, a sync tool), must not be overwritten.
    const stated = this.statSeen.get(t.real);
    this.statSeen.delete(t.real);
    const seen = stated && Date.now() - stated.at < STAT_SEEN_MS ? stated.version : await versionOf(t.real);
    let replaced: string | null | undefined; // the version our rename replaces, once checked
    const unchanged = async () => {
      const now = await versionOf(t.real);
      if (now === seen || this.reachedByOwnWrites(t.real, seen ?? null, now)) { replaced = now; return; }
      throw new WorkerError('CHANGED_ON_DISK', `${t.real} changed on disk while NoteSeal was saving it (another window, git or a sync tool wrote it). The version on disk is kept; your text is still unsaved in the editor: save again to compare or overwrite.`);
    };
    if (t.kind === 'file' && t.format === 'age') await this.ageTo(t.real, plaintext, unchanged);
    else if (t.kind === 'file' && t.format === 'dotenvx') await this.dotenvxTo(t.real, plaintext, unchanged);
    else if (t.kind === 'file' && t.format === 'sops') await this.ownViewTo(t.real, () => writeSopsNote(this.vault.unlocked(), t.real, plaintext, MAX_NOTE_BYTES, unchanged));
    else await this.encryptTo(t.real, plaintext, unchanged);
    if (replaced !== undefined) this.noteOwnWrite(t.real, replaced, await versionOf(t.real));
  }

  private reachedByOwnWrites(real: string, from: string | null, to: string | null): boolean {
    const steps = this.ownSaves.get(real);
    let v: string | null | undefined = from;
    for (let i = 0; steps && i < OWN_WRITES_KEPT && v !== to; i++) v = steps.get(v ?? null);
    return v === to;
  }

  private noteOwnWrite(real: string, from: string | null, to: string | null): void {
    let steps = this.ownSaves.get(real);
    if (!steps) {
      if (this.ownSaves.size > 1000) this.ownSaves.clear();
      this.ownSaves.set(real, steps = new Map());
    }
    steps.set(from, to);
    if (steps.size > OWN_WRITES_KEPT) steps.delete(steps.keys().next().value as string | null);
  }

  /** Seals `plaintext` as the age file `agePath` (its recipients rule, its armor) and replaces it crash-safely. */
  private async ageTo(agePath: string, plaintext: Uint8Array, beforeRename: () => Promise<void>): Promise<void> {
    let written: Stats | undefined;
    this.ownWrites?.ownWriteStarted(agePath);
    try {
      written = await writeAgeNote(this.vault.unlocked(), agePath, plaintext, MAX_NOTE_BYTES, beforeRename);
    } finally {
      this.ownWrites?.ownWriteEnded(agePath, written);
    }
  }

  /** Saves the edited view `plaintext` of the dotenvx file `file` (changed values encrypted) crash-safely. */
  private dotenvxTo(file: string, plaintext: Uint8Array, beforeRename: () => Promise<void>): Promise<void> {
    return this.ownViewTo(file, () => writeDotenvxNote(this.vault.unlocked(), file, plaintext, MAX_NOTE_BYTES, beforeRename, this.dotenvxStates));
  }

  /** Runs `write`, which replaces `file` (a file that is its own view: dotenvx, sops), told to the watchers as our own. */
  private async ownViewTo(file: string, write: () => Promise<Stats>): Promise<void> {
    let written: Stats | undefined;
    this.ownWrites?.ownWriteStarted(file);
    try {
      written = await write();
    } finally {
      this.ownWrites?.ownWriteEnded(file, written);
    }
  }

  /** Encrypts `plaintext` under a fresh data key and replaces `encPath` crash-safely (its mode is kept). */
  async encryptTo(encPath: string, plaintext: Uint8Array, beforeRename?: () => Promise<void>): Promise<void> {
    const keyring = this.vault.unlocked();
    // Shared with the folder's members, if any, and signed by this keyfile's identity.
    const { dataKey, stanzas, payloadBound } = await newStanzasFor(keyring, encPath);
    let written: Stats | undefined;
    this.ownWrites?.ownWriteStarted(encPath);
    try {
      written = await encryptBufferToFile(plaintext, encPath, dataKey, stanzas, { beforeRename, payloadBound });
    } catch (e) {
      // The failing call named the temp sibling (or nothing); the user knows the note.
      if (errnoOf(e)) (e as NodeJS.ErrnoException).path = encPath;
      throw e;
    } finally {
      wipe(dataKey);
      this.ownWrites?.ownWriteEnded(encPath, written);
    }
  }

  /**
   * Deletes what the view shows: a note's `.enc` file, or a folder. A folder goes only if everything in it
   * is shown too (`.enc` files and folders of them); anything the view hides (plaintext, `.git`, links,
   * temp files) makes the delete refuse before anything is removed.
   */
  async delete(logical: string, recursive: boolean): Promise<void> {
    const t = await this.resolve(logical);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    if (t.kind === 'file') { await fs.unlink(t.real); return; }
    const plan = await deletionPlan(t.real);
    if (plan.hidden.length) {
      const shown = plan.hidden.slice(0, 3).map(p => path.relative(t.real, p)).join(', ');
      throw new WorkerError('NoPermissions', `Not deleted: the folder ${t.real} also holds files NoteSeal does not show (${shown}${plan.hidden.length > 3 ? ', …' : ''}). Delete them outside NoteSeal first.`);
    }
    if (!recursive && (plan.files.length || plan.folders.length > 1)) throw new WorkerError('NoPermissions', `The folder ${t.real} is not empty.`);
    for (const f of plan.files) await fs.unlink(f);
    for (const d of plan.folders) await fs.rmdir(d); // deepest first; fails if something appeared meanwhile
  }

  async rename(from: string, to: string, overwrite: boolean): Promise<void> {
    const src = await this.resolve(from);
    if (src.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${src.real}`);
    const dst = src.kind === 'file' ? (src.format === 'age' ? to + AGE_SUFFIX : src.format === 'dotenvx' || src.format === 'sops' ? to : encPathOf(to)) : to;
    const existing = await statOrNull(dst);
    if (existing && !overwrite) throw new WorkerError('FileExists', `${dst} already exists`);
    await fs.rename(src.real, dst);
  }

  async createDirectory(logical: string): Promise<void> {
    await fs.mkdir(logical);
  }
}

/**
 * Whether the `.enc` file `real` is a log (its header's log flag, set by `noteseal append`). The flag is not
 * authenticated here: it only decides that the view is read-only and read chunk by chunk, and that read
 * authenticates everything. Anything unreadable as a header is no log (the read reports why).
 */
async function isLogFile(real: string): Promise<boolean> {
  try { return (await readHeaderFromFile(real)).logMode; } catch { return false; }
}

/**
 * A 0-byte `.enc` (Explorer → New File `secret.md.enc`, or a Save As that NoteSeal emptied before VS Code
 * wrote it, client/src/encGuard.ts) is an empty note that was never sealed: it opens empty and its first save
 * seals it. It holds nothing to leak or to authenticate; any other non-NoteSeal content stays NOT_NOTESEAL.
 */
function isNewEmptyNote(size: number): boolean {
  return size === 0;
}

/** What deleting a folder through the view removes (`.enc` files, folders, deepest first) and what it would not. */
async function deletionPlan(root: string): Promise<{ files: string[]; folders: string[]; hidden: string[] }> {
  const files: string[] = []; const folders: string[] = []; const hidden: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p); // Dirent types do not follow links: a link is hidden
      else if (e.isFile() && (isSealedPath(e.name) || isOurTempSibling(e.name))) files.push(p);
      else hidden.push(p);
    }
    folders.push(dir);
  };
  await walk(root);
  return { files, folders, hidden };
}

/** A crash-safe write's leftover beside an `.enc` file: ciphertext only, ours to remove. */
function isOurTempSibling(name: string): boolean {
  return isTempSibling(name) && (name.includes(ENC_SUFFIX + '.tmp-') || name.includes(AGE_SUFFIX + '.tmp-'));
}
