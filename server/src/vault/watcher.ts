// Watches folders of `.enc` files for changes made by someone else (a git pull, another window, the CLI)
// and reports them as changes to logical `noteseal:` paths, so a clean editor reloads and a dirty one
// learns its file changed underneath. Events are coalesced for a short moment: one save is several events.
import fs from 'node:fs';
import path from 'node:path';
import { ENC_SUFFIX, isEncPath, isTempSibling, logicalPathOf } from '../encPaths';
import type { FileChange } from '../protocol';

const COALESCE_MS = 60;
/** How long an own write is remembered: its events arrive within milliseconds. */
const OWN_WRITE_MS = 5000;

export class EncWatchers {
  private readonly watchers = new Map<number, fs.FSWatcher>();
  private pending = new Map<string, FileChange['type']>();
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Map<string, number>();
  private readonly parked = new Set<string>();
  private readonly own = new Map<string, { ino: number; mtimeMs: number; size: number; until: number }>();

  constructor(private readonly emit: (events: FileChange[]) => void) {}

  watch(id: number, target: string, recursive: boolean): void {
    this.unwatch(id);
    let dir = target;
    let only: string | undefined;
    let isDir = false;
    try { isDir = fs.statSync(target).isDirectory(); } catch { /* a logical file path */ }
    if (!isDir) {
      // A logical file path `plan.md` is watched as its `plan.md.enc`, never as a plaintext `plan.md` beside it.
      dir = path.dirname(target); only = path.basename(target) + ENC_SUFFIX;
      if (!fs.existsSync(dir)) return;
    }
    const w = fs.watch(dir, { recursive, persistent: false }, (_event, name) => {
      if (!name) return;
      const rel = name.toString();
      if (only && rel !== only) return;
      if (isTempSibling(path.basename(rel))) return;
      this.queue(path.join(dir, rel));
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
  }

  dispose(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
    clearTimeout(this.timer);
  }

  private queue(real: string): void {
    if (this.writing.has(real)) { this.parked.add(real); return; }
    let type: FileChange['type'];
    let stat: fs.Stats | undefined;
    try { stat = fs.statSync(real); } catch { /* gone */ }
    const isEnc = isEncPath(real);
    if (isEnc && this.isOwnWrite(real, stat)) return;
    // Plaintext files are not part of the noteseal view; a name that is gone counts as a folder unless
    // it is a plaintext `plan.md` whose `plan.md.enc` is still there (that note was not deleted).
    if (!isEnc && (stat ? !stat.isDirectory() : fs.existsSync(real + ENC_SUFFIX))) return;
    const logical = isEnc ? logicalPathOf(real) : real;
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
