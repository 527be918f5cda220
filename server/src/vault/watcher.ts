// Watches folders of `.enc` files for changes made by someone else (a git pull, another window, the CLI)
// and reports them as changes to logical `noteseal:` paths, so a clean editor reloads and a dirty one
// learns its file changed underneath. Events are coalesced for a short moment: one save is several events.
import fs from 'node:fs';
import path from 'node:path';
import { isEncPath, isTempSibling, logicalPathOf } from '../encPaths';
import type { FileChange } from '../protocol';

const COALESCE_MS = 60;

export class EncWatchers {
  private readonly watchers = new Map<number, fs.FSWatcher>();
  private pending = new Map<string, FileChange['type']>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly emit: (events: FileChange[]) => void) {}

  watch(id: number, target: string, recursive: boolean): void {
    this.unwatch(id);
    let dir = target;
    let only: string | undefined;
    try {
      if (!fs.statSync(target).isDirectory()) { dir = path.dirname(target); only = path.basename(target); }
    } catch {
      // A logical file path: watch its folder for its `.enc` file.
      dir = path.dirname(target); only = path.basename(target) + '.enc';
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

  unwatch(id: number): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  dispose(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
    clearTimeout(this.timer);
  }

  private queue(real: string): void {
    let type: FileChange['type'];
    let stat: fs.Stats | undefined;
    try { stat = fs.statSync(real); } catch { /* gone */ }
    const isEnc = isEncPath(real);
    if (!isEnc && !(stat?.isDirectory() ?? true)) return; // plaintext files are not part of the noteseal view
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
