// Destroys VS Code's Local History copies of one `file:` resource. Used after plaintext reached a `.enc`
// file (a save NoteSeal could not intercept), so no copy of that plaintext outlives the file itself.
//
// Layout (microsoft/vscode src/vs/workbench/services/workingCopy/common/workingCopyHistoryService.ts):
// `<localHistoryHome>/<hash(resource)>/` holds one file per entry, named 4 random letters + the resource's
// extension (`AbC1.enc`), cloned from the saved file at save time; `entries.json` ({ resource, entries }) is
// written later (on shutdown, or at once when remotely stored). localHistoryHome is `<userData>/User/History`
// on desktop and on the server of a web or remote window (environmentService: join(userRoamingDataHome,
// 'History')), which is where this extension's globalStorage also lives, so the folder is found at run time
// from `globalStorageUri` and never guessed. Pure Node (no vscode import): unit-tested per layout.
import fs from 'node:fs/promises';
import path from 'node:path';

const ENTRIES_FILE = 'entries.json';

/** `<userData>/User/globalStorage/<extension id>` → `<userData>/User/History`. */
export function historyDirOf(globalStorageFsPath: string): string {
  return path.join(path.dirname(path.dirname(globalStorageFsPath)), 'History');
}

/** The path of a history resource URI (`file:///a/b`, `vscode-remote://host/a/b`), decoded; undefined if unparsable. */
export function resourcePathOf(resource: string): string | undefined {
  try { return decodeURIComponent(new URL(resource).pathname); } catch { return undefined; }
}

/**
 * Overwrites and unlinks every history entry of the file whose URI path is `uriPath` (named by an
 * `entries.json`), and, in folders whose `entries.json` is not written yet, every entry file with the same
 * extension whose bytes equal `plaintext`. Returns the number of entry files destroyed.
 */
export async function purgeHistoryOf(historyDir: string, uriPath: string, plaintext?: Uint8Array): Promise<number> {
  let folders: string[];
  try { folders = await fs.readdir(historyDir); } catch { return 0; }
  const ext = path.posix.extname(uriPath);
  let destroyed = 0;
  for (const folder of folders) {
    const dir = path.join(historyDir, folder);
    let names: string[];
    try { names = await fs.readdir(dir); } catch { continue; }
    const listing = await readListing(path.join(dir, ENTRIES_FILE));
    const ours = listing !== undefined && listing === uriPath;
    for (const name of names) {
      if (name === ENTRIES_FILE || !name.endsWith(ext)) continue;
      const file = path.join(dir, name);
      if (!ours && (listing !== undefined || !plaintext || !(await sameBytes(file, plaintext)))) continue;
      if (await destroy(file)) destroyed++;
    }
    if (ours) await fs.rm(path.join(dir, ENTRIES_FILE), { force: true });
  }
  return destroyed;
}

async function readListing(file: string): Promise<string | undefined> {
  try {
    const { resource } = JSON.parse(await fs.readFile(file, 'utf8')) as { resource?: unknown };
    return typeof resource === 'string' ? resourcePathOf(resource) : undefined;
  } catch { return undefined; }
}

async function sameBytes(file: string, bytes: Uint8Array): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    return st.size === bytes.length && Buffer.from(bytes).equals(await fs.readFile(file));
  } catch { return false; }
}

/** Overwrite with zeros (best effort on SSDs and copy-on-write file systems), then unlink. */
async function destroy(file: string): Promise<boolean> {
  try {
    const h = await fs.open(file, 'r+');
    try { await h.write(Buffer.alloc((await h.stat()).size)); await h.sync(); } finally { await h.close(); }
    await fs.unlink(file);
    return true;
  } catch { return false; }
}
