// Synchronous destruction of hot-exit backups of `noteseal:` documents. Synchronous on purpose: it also runs
// in deactivate(), while the window shuts down, where nothing asynchronous is sure to finish. On desktop the
// shutdown backups are written before extensions are deactivated: NativeWorkingCopyBackupTracker backs up
// every dirty working copy in onBeforeShutdown (microsoft/vscode
// src/vs/workbench/services/workingCopy/electron-sandbox/workingCopyBackupTracker.ts, ShutdownReason.RELOAD:
// "backup because after window reload, backups restore"), and the extension hosts are stopped later, in
// onWillShutdown (src/vs/workbench/services/extensions/common/abstractExtensionService.ts). Pure Node, no
// `vscode` import, so it is unit-tested on real files.
import { closeSync, constants as fsc, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { schemeFolders } from './backupLayouts';

export type ShredResult = 'destroyed' | 'kept' | 'gone';

/**
 * Overwrites, then unlinks, one backup file. Refuses symlinks (lstat + O_NOFOLLOW) and anything but a plain
 * file; a hard-linked file is unlinked without overwriting (its bytes belong to another name too).
 * `keep(head, mtimeMs)` may look at the first bytes (up to 1 MiB) and keep the file ('kept').
 */
export function shredFileSync(p: string, keep?: (head: Buffer, mtimeMs: number) => boolean): ShredResult {
  let st;
  try { st = lstatSync(p); } catch { return 'gone'; }
  if (!st.isFile()) return 'kept';
  let fd: number;
  try { fd = openSync(p, fsc.O_RDWR | fsc.O_NOFOLLOW | fsc.O_NONBLOCK); } catch { return 'gone'; }
  try {
    const now = fstatSync(fd);
    if (now.ino !== st.ino) return 'kept';   // replaced between lstat and open
    if (keep) {
      const head = Buffer.alloc(Math.min(now.size, 1 << 20));
      const n = readSync(fd, head, 0, head.length, 0);
      if (keep(head.subarray(0, n), st.mtimeMs)) return 'kept';
    }
    if (now.nlink === 1 && now.size > 0) { writeSync(fd, Buffer.alloc(now.size), 0, now.size, 0); fsyncSync(fd); }
  } finally { closeSync(fd); }
  try { unlinkSync(p); return 'destroyed'; } catch { return 'gone'; }
}

/** Every backup file of `scheme` documents under one backup home (`<home>/<workspace>/<scheme>/*`). */
export function backupFilesSync(home: string, scheme: string): string[] {
  let entries: string[];
  try { entries = readdirSync(home); } catch { return []; }
  return schemeFolders(home, entries, scheme).flatMap(dir => {
    try {
      if (!lstatSync(dir).isDirectory()) return []; // a symlink planted here is never followed
      return readdirSync(dir).map(name => path.join(dir, name));
    } catch { return []; }
  });
}

/** Destroys every backup of `scheme` documents under each backup home; returns how many were destroyed. */
export function shredBackupsSync(homes: readonly string[], scheme: string): number {
  return homes.flatMap(home => backupFilesSync(home, scheme)).filter(p => shredFileSync(p) === 'destroyed').length;
}
