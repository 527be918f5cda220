// Real small and read-only file systems for the fault tests (root only): a tmpfs of a given size mounted by
// the test, remounted read-only on demand, always unmounted afterwards; and a file that fills it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function canMount(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root to mount a tmpfs';
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-mount-probe-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status !== 0) return 'mount -t tmpfs is not allowed here';
    spawnSync('umount', [probe]);
    return null;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

export interface SmallDisk {
  dir: string;
  readOnly(): void;
  writable(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (mount's syntax: 1m) at a fresh folder; `t.after` unmounts it whatever happens. */
export function mountTmpfs(t: { after(fn: () => void): void }, size = '1m'): SmallDisk {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  let mounted = true;
  const disk: SmallDisk = {
    dir,
    readOnly: () => execFileSync('mount', ['-o', 'remount,ro', dir]),
    writable: () => execFileSync('mount', ['-o', 'remount,rw', dir]),
    unmount() {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => disk.unmount());
  return disk;
}

/** Fills the file system holding `dir` to the last byte with a filler file, leaving `spareBytes` free (approximately). */
export function fillDisk(dir: string, spareBytes = 0): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) { try { fs.writeSync(fd, block); } catch { break; } }
  } finally {
    fs.closeSync(fd);
  }
  if (spareBytes > 0) fs.truncateSync(filler, Math.max(0, fs.statSync(filler).size - spareBytes));
  return filler;
}

/** Names of leftover temp siblings (`.<name>.tmp-…`) below `dir`. */
export function tempSiblings(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter(n => /\.tmp-[0-9a-f]{12}$/.test(path.basename(n)));
}

/** A Unix user without privileges, for "permission denied" (root passes every mode bit). */
export function unprivilegedUser(): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const g = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}
