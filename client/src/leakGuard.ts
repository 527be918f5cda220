// Keeps decrypted notes out of VS Code's hot-exit backups.
//
// VS Code backs up every dirty editor about 1 s after the last edit, for any scheme and whatever
// `files.hotExit` says (#90667, #197811); in VS Code 1.139 the only thing that stops it is the document
// being clean when that timer fires (docs/ARCHITECTURE.md, "Leak defence"). So:
//  1. save-soon: a `noteseal:` document is saved (encrypted by the worker) 250 ms after its last edit,
//     well inside the 1 s window;
//  2. sweeper: where a save cannot happen (locked, disk full, a conflict), VS Code will write a backup;
//     backups of our scheme are found in `<user-data>/User/Backups/*/noteseal/` and destroyed within
//     a fraction of a second. The sweeper is the second line, not the first.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from './logger';
import { NOTESEAL_SCHEME } from './uris';

export const SAVE_SOON_MS = 250;
const SWEEP_EVERY_MS = 200;

export class LeakGuard implements vscode.Disposable {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly sweeper: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** Number of backups destroyed since start (for the log and tests). */
  swept = 0;
  /** Where VS Code writes hot-exit backups on this host (undefined in a browser-only workbench). */
  readonly backupsDir: string | undefined;

  constructor(context: vscode.ExtensionContext, private readonly log: Logger) {
    this.subscriptions.push(vscode.workspace.onDidChangeTextDocument(e => {
      if (e.document.uri.scheme !== NOTESEAL_SCHEME || !e.document.isDirty) return;
      const key = e.document.uri.toString();
      clearTimeout(this.timers.get(key));
      this.timers.set(key, setTimeout(() => { this.timers.delete(key); void this.saveSoon(e.document); }, SAVE_SOON_MS));
    }));
    const backups = this.backupsDir = backupsDirOf(context);
    if (backups) this.sweeper = setInterval(() => void this.sweep(backups), SWEEP_EVERY_MS);
  }

  private async saveSoon(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed || !doc.isDirty) return;
    // A failed save keeps the editor dirty and VS Code shows why; the sweeper handles the backup.
    await doc.save().then(undefined, () => undefined);
  }

  /** Destroys VS Code's backups of `noteseal:` documents: overwrite, then unlink. */
  private async sweep(backupsDir: string): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      let workspaces: string[];
      try { workspaces = await fs.readdir(backupsDir); } catch { return; }
      for (const ws of workspaces) {
        const dir = path.join(backupsDir, ws, NOTESEAL_SCHEME);
        let files: string[];
        try { files = await fs.readdir(dir); } catch { continue; }
        for (const f of files) {
          const p = path.join(dir, f);
          try {
            const handle = await fs.open(p, 'r+');
            try { const { size } = await handle.stat(); await handle.write(Buffer.alloc(size), 0, size, 0); await handle.sync(); } finally { await handle.close(); }
            await fs.unlink(p);
            this.swept++;
            this.log.warn('destroyed a hot-exit backup of an encrypted note (a save had not happened in time)');
          } catch { /* raced with VS Code deleting it: fine */ }
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    clearInterval(this.sweeper);
    for (const s of this.subscriptions) s.dispose();
  }
}

/** `<user-data>/User/Backups`, from the extension's global storage `<user-data>/User/globalStorage/<id>`. */
function backupsDirOf(context: vscode.ExtensionContext): string | undefined {
  if (context.globalStorageUri.scheme !== 'file') return undefined; // the browser keeps backups in IndexedDB
  return path.join(path.dirname(path.dirname(context.globalStorageUri.fsPath)), 'Backups');
}
