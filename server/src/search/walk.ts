// The notes a search looks at: every regular `*.enc` and `*.age` file below the roots, by logical path (the
// name without its suffix, as the `noteseal:` view shows it; where both `x.enc` and `x.age` exist, the view
// refuses `x` and the search takes the `.enc`, as the CLI's `x` operand does). Symbolic links
// are not followed (a crafted repository could point one anywhere), version-control and dependency
// folders are not walked, the worker's own temp siblings are skipped, and recordings are counted apart.
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AGE_SUFFIX, ENC_SUFFIX, isEncPath, isSealedPath, isTempSibling, viewPathOf } from '../encPaths';
import type { PathFilter } from './globs';

const SKIPPED_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules']);
const RECORDING_SUFFIX = '.wav' + ENC_SUFFIX;

export interface NoteFile {
  /** The sealed file on disk: `.enc`, or `.age` (an age file). */
  encPath: string;
  /** Its logical path (without `.enc` / `.age`). */
  path: string;
  /** Relative to its root, `/`-separated. */
  relativePath: string;
}

export interface NoteList {
  notes: NoteFile[];
  recordings: number;
  /** Every sealed file found, before the globs: cache entries of files not in it are gone from disk. */
  present: Set<string>;
}

export function isRecordingPath(p: string): boolean {
  return p.endsWith(RECORDING_SUFFIX);
}

/** Every note below `roots` that the filter admits, in a stable order (by root, then path); each file once. */
export async function listNotes(roots: readonly string[], filter: PathFilter): Promise<NoteList> {
  const seen = new Set<string>();
  const present = new Set<string>();
  const notes: NoteFile[] = [];
  let recordings = 0;
  const walk = async (root: string, dir: string): Promise<void> => {
    let entries: Dirent[];
    try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; } // gone or unreadable: nothing to search
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const folders: string[] = [];
    const encNames = new Set(entries.filter(e => e.isFile() && isEncPath(e.name)).map(e => e.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) { if (!SKIPPED_FOLDERS.has(e.name)) folders.push(full); continue; }
      if (!e.isFile() || !isSealedPath(e.name) || isTempSibling(e.name)) continue;
      if (!isEncPath(e.name) && encNames.has(e.name.slice(0, -AGE_SUFFIX.length) + ENC_SUFFIX)) continue; // x.enc wins over x.age
      present.add(full);
      const logical = viewPathOf(full);
      const relativePath = path.relative(root, logical).split(path.sep).join('/');
      if (!filter(relativePath) || seen.has(full)) continue;
      seen.add(full);
      if (isRecordingPath(e.name)) { recordings++; continue; }
      notes.push({ encPath: full, path: logical, relativePath });
    }
    for (const f of folders) await walk(root, f);
  };
  for (const root of roots) await walk(path.resolve(root), path.resolve(root));
  return { notes, recordings, present };
}
