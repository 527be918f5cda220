// The notes a search looks at: every regular `*.enc` and `*.age` file below the roots, by logical path (the
// name without its suffix, as the `noteseal:` view shows it; where both `x.enc` and `x.age` exist, the view
// refuses `x` and the search takes the `.enc`, as the CLI's `x` operand does), and every dotenvx `.env`/`.env.*`
// file (its first bytes hold a DOTENV_PUBLIC_KEY line; its own path is its view, as in encFileSystem.ts;
// where `x.enc` or `x.age` exists too, the view refuses `x` and the search takes the sealed one). Symbolic links
// are not followed (a crafted repository could point one anywhere), version-control and dependency
// folders are not walked, the worker's own temp siblings are skipped, and recordings are counted apart.
import { constants as fsConstants, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AGE_SUFFIX, DOTENVX_HEAD_BYTES, ENC_SUFFIX, hasDotenvName, isEncPath, isSealedPath, isTempSibling, looksLikeDotenvxText, viewPathOf } from '../encPaths';
import type { PathFilter } from './globs';

const SKIPPED_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules']);
const RECORDING_SUFFIX = '.wav' + ENC_SUFFIX;

export interface NoteFile {
  /** The sealed file on disk: `.enc`, `.age` (an age file), or a dotenvx `.env…` file (then the same as `path`). */
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

/** Whether a `.env…` file is a dotenvx file by its first bytes; opened without following a link, never blocking on a FIFO. */
async function isDotenvxFile(file: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0));
    const head = Buffer.alloc(DOTENVX_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return looksLikeDotenvxText(head.subarray(0, bytesRead).toString('latin1'));
  } catch { return false; } finally { await handle?.close().catch(() => undefined); }
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
    const names = new Set(entries.filter(e => e.isFile()).map(e => e.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) { if (!SKIPPED_FOLDERS.has(e.name)) folders.push(full); continue; }
      if (!e.isFile() || isTempSibling(e.name)) continue;
      const dotenvx = hasDotenvName(e.name) && !names.has(e.name + ENC_SUFFIX) && !names.has(e.name + AGE_SUFFIX) && await isDotenvxFile(full);
      if (!dotenvx && !isSealedPath(e.name)) continue;
      if (!dotenvx && !isEncPath(e.name) && encNames.has(e.name.slice(0, -AGE_SUFFIX.length) + ENC_SUFFIX)) continue; // x.enc wins over x.age
      present.add(full);
      const logical = dotenvx ? full : viewPathOf(full);
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
