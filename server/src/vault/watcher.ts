// Watches folders of `.enc` files for changes made by someone else (a git pull, another window, the CLI)
// and reports them as changes to logical `noteseal:` paths, so a clean editor reloads and a dirty one
// learns its file changed underneath. Events are coalesced for a short moment: one save is several events.
import fs from 'node:fs';
import path from 'node:path';
import { AGE_SUFFIX, ENC_SUFFIX, hasDotenvName, isSealedPath, isTempSibling, viewPathOf } from '../encPaths';
import type { FileChange } from '../protocol';

const COALESCE_MS = 60;
/** How long an own write is remembered: its events arrive within milliseconds. */
const OWN_WRITE_MS = 5000;

/** Folders a tree watcher does not descend into (they hold no notes, and can hold very many folders). */
const UNWATCHED_FOLDERS = new Set(['.git', 'node_modules']);

/**
 * A recursive watch built from one plain watcher per folder. Node's own `recursive: true` on Linux (its JS
 * implementation, lib/internal/fs/recursive_watch.js, watching each file) reports a file replaced by a rename
 * (every crash-safe write: NoteSeal's, the CLI's, git's) only the first time, then goes deaf to it; a
 * folder's inotify watch sees every rename. New subfolders get their watcher (and their files are reported).
 */
class FolderTreeWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();

  constructor(root: string, private readonly onPath: (full: string) => void) { this.add(root, false); }

  private add(dir: string, reportEntries: boolean): void {
    if (this.watchers.has(dir)) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (!name) return;
        const full = path.join(dir, name.toString());
        this.onPath(full);
        let isDir = false;
        try { isDir = fs.lstatSync(full).isDirectory(); } catch { this.remove(full); }
        if (isDir && !UNWATCHED_FOLDERS.has(path.basename(full))) this.add(full, true);
      });
    } catch { return; }
    w.on('error', () => this.remove(dir));
    this.watchers.set(dir, w);
    let entries: fs.Dirent[] = [];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { /* gone meanwhile */ }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (reportEntries) this.onPath(full); // created before its folder's watcher existed
      if (e.isDirectory() && !UNWATCHED_FOLDERS.has(e.name)) this.add(full, reportEntries);
    }
  }

  private remove(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + path.sep)) { w.close(); this.watchers.delete(d); }
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/** A logical path that names a regular file with no `.enc`/`.age` of its name: a file shown as itself. */
function isOwnViewFile(target: string): boolean {
  try {
    return fs.lstatSync(target).isFile() && !fs.existsSync(target + ENC_SUFFIX) && !fs.existsSync(target + AGE_SUFFIX);
  } catch { return false; }
}

export class EncWatchers {
  private readonly watchers = new Map<number, { close(): void }>();
  private pending = new Map<string, FileChange['type']>();
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Map<string, number>();
  private readonly parked = new Set<string>();
  private readonly own = new Map<string, { ino: number; mtimeMs: number; size: number; until: number }>();
  /** Watched files that are their own view (sops files), by watch id. */
  private readonly ownViews = new Map<number, string>();

  constructor(private readonly emit: (events: FileChange[]) => void) {}

  watch(id: number, target: string, recursive: boolean): void {
    this.unwatch(id);
    let dir = target;
    let only: string[] | undefined;
    let isDir = false;
    try { isDir = fs.statSync(target).isDirectory(); } catch { /* a logical file path */ }
    if (!isDir) {
      // A logical file path `plan.md` is watched as its `plan.md.enc` (or `plan.md.age`), never as a plaintext `plan.md` beside it.
      dir = path.dirname(target); only = [path.basename(target) + ENC_SUFFIX, path.basename(target) + AGE_SUFFIX];
      // A dotenvx `.env…` file is its own view (issue 27): it holds only ciphertext values.
      if (hasDotenvName(target)) only.push(path.basename(target));
      // So is a sops file (issue 27): a regular file with no `.enc`/`.age` of its name (a plain file reported
      // here is never shown: the worker resolves only a file carrying sops metadata as a view).
      else if (isOwnViewFile(target)) { only.push(path.basename(target)); this.ownViews.set(id, target); }
      if (!fs.existsSync(dir)) return;
    }
    const onPath = (full: string) => { if (!isTempSibling(path.basename(full))) this.queue(full); };
    if (recursive && isDir && process.platform === 'linux') {
      this.watchers.set(id, new FolderTreeWatcher(dir, onPath));
      return;
    }
    const w = fs.watch(dir, { recursive, persistent: false }, (_event, name) => {
      if (!name) return;
      const rel = name.toString();
      if (only && !only.includes(rel)) return;
      onPath(path.join(dir, rel));
    });
    w.on('error', () => this.unwatch(id));
    this.watchers.set(id, w);
  }

  /**
   * The worker is about to replace `real`: its events wait until ownWriteEnded says what we wrote, so
   * they can be told apart from anyone else's however late they arrive.
   */
  ownWriteStarted(real: string): void {
    this.writing.set(real, (this.writing.get(real) ?? 0) + 1);
  }

  /**
   * Our own write of `real` ended (`stat`: the file we renamed into place, or undefined if it failed).
   * Its events are not reported, since VS Code already knows (reporting them makes it stat and maybe
   * re-read the note). Anyone else's write gives another inode or mtime and is reported.
   */
  ownWriteEnded(real: string, stat: fs.Stats | undefined): void {
    if (stat) this.own.set(real, { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, until: Date.now() + OWN_WRITE_MS });
    const n = (this.writing.get(real) ?? 1) - 1;
    if (n > 0) { this.writing.set(real, n); return; }
    this.writing.delete(real);
    if (this.parked.delete(real)) this.queue(real);
  }

  private isOwnWrite(real: string, stat: fs.Stats | undefined): boolean {
    const o = this.own.get(real);
    if (!o) return false;
    if (Date.now() > o.until) { this.own.delete(real); return false; }
    return !!stat && stat.ino === o.ino && stat.mtimeMs === o.mtimeMs && stat.size === o.size;
  }

  unwatch(id: number): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
    this.ownViews.delete(id);
  }

  dispose(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
    clearTimeout(this.timer);
  }

  private queue(real: string): void {
    if (this.writing.has(real)) { this.parked.add(real); return; }
    let stat: fs.Stats | undefined;
    try { stat = fs.statSync(real); } catch { /* gone */ }
    const isEnc = isSealedPath(real);
    const ownView = [...this.ownViews.values()].includes(real);
    if ((isEnc || hasDotenvName(real) || ownView) && this.isOwnWrite(real, stat)) return;
    if (ownView && (!stat || stat.isFile())) return this.report(real, stat);
    // A `.env…` file may be a dotenvx file, shown under its own name (a plain one is simply never opened there).
    if (hasDotenvName(real) && (stat ? stat.isFile() : !fs.existsSync(real + ENC_SUFFIX) && !fs.existsSync(real + AGE_SUFFIX))) return this.report(real, stat);
    // Plaintext files are not part of the noteseal view; a name that is gone counts as a folder unless
    // it is a plaintext `plan.md` whose `plan.md.enc` is still there (that note was not deleted).
    if (!isEnc && (stat ? !stat.isDirectory() : fs.existsSync(real + ENC_SUFFIX) || fs.existsSync(real + AGE_SUFFIX))) return;
    this.report(isEnc ? viewPathOf(real) : real, stat);
  }

  private report(logical: string, stat: fs.Stats | undefined): void {
    let type: FileChange['type'];
    if (!stat) type = 'deleted';
    else type = this.pending.get(logical) === 'deleted' ? 'changed' : (stat.birthtimeMs > Date.now() - 2000 && stat.birthtimeMs === stat.mtimeMs ? 'created' : 'changed');
    this.pending.set(logical, type);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const events = [...this.pending].map(([p, type]) => ({ type, path: p }));
    this.pending = new Map();
    if (events.length) this.emit(events);
  }
}
