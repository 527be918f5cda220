// Where NoteSeal looks for the `.noteseal/recipients` that governs a file (issue 21 §1). The search walks
// up from the file's folder but never above the top of its repository (the nearest folder holding `.git`)
// or its VS Code workspace folder, whichever is nearer; outside any repository and workspace it stops at
// the user's home folder (and a file outside the home looks at its own folder only). A list found in a
// folder that another user could write or that the user does not own is refused: such a folder (the
// system's temporary folder, mode 1777) is where a stranger drops a list that would govern every clone below it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { untrusted } from './recipients-file';

export const RECIPIENTS_DIR = '.noteseal';
export const RECIPIENTS_NAME = 'recipients';

export function recipientsFileIn(dir: string): string {
  return path.join(dir, RECIPIENTS_DIR, RECIPIENTS_NAME);
}

export interface SearchBounds {
  /** The VS Code workspace folders (the worker's window); none for the CLI. */
  workspaceRoots?: readonly string[];
  /** The user's home folder (default: os.homedir()). */
  home?: string;
}

/** Whether `inner` is `outer` or inside it (lexically, both absolute). */
export function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

/** The highest folder the search for `dir`'s list may look in (see the file comment). */
export async function searchTop(dir: string, bounds: SearchBounds = {}): Promise<string> {
  let repoTop: string | null = null;
  for (let d = dir; ;) {
    if (await exists(path.join(d, '.git'))) { repoTop = d; break; }
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  const candidates = [repoTop, ...(bounds.workspaceRoots ?? []).map(r => path.resolve(r)).filter(r => isWithin(dir, r))]
    .filter((c): c is string => c !== null);
  if (candidates.length) return candidates.sort((a, b) => b.length - a.length)[0]!;   // the nearest (deepest)
  const home = path.resolve(bounds.home ?? os.homedir());
  return isWithin(dir, home) ? home : dir;
}

/** The folders the search for `target`'s list visits, nearest first, ending at `searchTop`. */
export async function searchedFolders(target: string, bounds: SearchBounds = {}): Promise<string[]> {
  const start = path.dirname(path.resolve(target));
  const top = await searchTop(start, bounds);
  const out: string[] = [];
  for (let d = start; ; d = path.dirname(d)) {
    out.push(d);
    if (d === top || path.dirname(d) === d) return out;
  }
}

/**
 * Refuses a list that someone other than the user could have put there or could change: the file, its
 * `.noteseal` folder and the folder it governs must be owned by the user and not writable by other users
 * (group-writable only for the user's own primary group, as a user-private-group umask 002 makes it).
 * POSIX only: Windows ACLs are not modes (the issue-24 lane owns them).
 */
export async function checkListPlacement(listFile: string): Promise<void> {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return;
  const uid = process.getuid();
  const gid = process.getgid!();
  const folder = path.dirname(path.dirname(listFile));
  for (const p of [listFile, path.dirname(listFile), folder]) {
    const st = await fs.lstat(p);
    if (st.uid !== uid) {
      throw untrusted(`${listFile} is refused: ${p} is not owned by you (owner uid ${st.uid}), so another user could have written this list. Nothing was encrypted to anyone.`);
    }
    if ((st.mode & 0o002) || ((st.mode & 0o020) && st.gid !== gid)) {
      throw untrusted(`${listFile} is refused: ${p} is writable by other users (mode ${(st.mode & 0o7777).toString(8)}), so anyone could have written this list. Nothing was encrypted to anyone.`);
    }
  }
}
