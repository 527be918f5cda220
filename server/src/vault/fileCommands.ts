// The explicit conversions a user asks for: encrypt a plaintext file (or a folder of them) into `.enc`
// files, and export an `.enc` file's plaintext. These are the only paths where NoteSeal reads or writes
// plaintext files, and only the ones the user named.
import fs from 'node:fs/promises';
import path from 'node:path';
import { decryptFile, encryptFile } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { newStanzasFor } from '../keys/sharing';
import { encPathOf, isEncPath, isTempSibling } from '../encPaths';
import { withWipedDataKeys } from './dataKeys';
import type { EncFileSystem } from './encFileSystem';
import type { FolderEncryptResult } from '../protocol';
import type { VaultService } from './vaultService';
import { WorkerError } from './workerErrors';
import { describeIoError, isDiskWideError } from '../ioErrors';
import { refuseLinkedFolderInRepository, refuseLinkedFoldersInRepository, regularFileStat } from '../crypto/safe-open';

/** Folders never walked by Encrypt Folder: version control and dependency trees are not notes. */
const SKIPPED_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules']);

export async function encryptPlaintextFile(files: EncFileSystem, plainPath: string, deletePlaintext: boolean): Promise<{ encPath: string }> {
  if (isEncPath(plainPath)) throw new WorkerError('INVALID_ARGUMENT', `${path.basename(plainPath)} is already encrypted.`);
  await refuseLinkedFoldersInRepository(plainPath);
  const s = await fs.lstat(plainPath);
  if (s.isDirectory()) throw new WorkerError('FileIsADirectory', `${plainPath} is not a file.`);
  await regularFileStat(plainPath); // a link (the file it names may lie outside the repository) or a device: refused
  const encPath = encPathOf(plainPath);
  if (await fs.lstat(encPath).then(() => true, () => false)) throw new WorkerError('FileExists', `${path.basename(encPath)} already exists; nothing was changed.`);
  const keyring = files.vaultKeyring();
  const { dataKey, stanzas, payloadBound } = await newStanzasFor(keyring, encPath); // shared with the folder's members, if any; signed
  try {
    await encryptFile(plainPath, encPath, dataKey, stanzas, { payloadBound });
  } finally {
    wipe(dataKey);
  }
  // Only delete once the encrypted copy provably opens again.
  if (deletePlaintext) {
    await files.readFile(plainPath);
    await fs.unlink(plainPath);
  }
  return { encPath };
}

export async function decryptToFile(vault: VaultService, encPath: string, outPath: string): Promise<void> {
  if (path.resolve(encPath) === path.resolve(outPath)) throw new WorkerError('INVALID_ARGUMENT', 'The export must go to another file.');
  await withWipedDataKeys(vault.unlocked().unwrap, unwrap => decryptFile(encPath, unwrap, outPath));
}

/** Encrypt Folder runs in progress, by token: a cancel request flips the flag, checked before each file. */
const cancelledRuns = new Map<string, { cancelled: boolean }>();

export function cancelFolderEncryption(token: string): void {
  const run = cancelledRuns.get(token);
  if (run) run.cancelled = true;
}

export async function encryptFolder(files: EncFileSystem, folder: string, deletePlaintext: boolean,
  progress: (done: number, total: number, message?: string) => void, token?: string): Promise<FolderEncryptResult> {
  files.vaultKeyring(); // fail fast when locked
  await refuseLinkedFolderInRepository(folder);
  if ((await fs.lstat(folder)).isSymbolicLink()) await regularFileStat(folder); // throws: a linked folder
  const todo: string[] = [];
  let skipped = 0;
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (!SKIPPED_FOLDERS.has(e.name)) await walk(p); }
      else if (e.isFile() && !isEncPath(e.name) && !isTempSibling(e.name)) todo.push(p);
      else skipped++;
    }
  };
  await walk(folder);
  const run = { cancelled: false };
  if (token) cancelledRuns.set(token, run);
  const result: FolderEncryptResult = { encrypted: 0, skipped, failed: [] };
  try {
    progress(0, todo.length);
    for (const [i, p] of todo.entries()) {
      if (run.cancelled) {
        result.stopped = { reason: 'cancelled', message: 'Cancelled.', notAttempted: todo.length - i };
        break;
      }
      try {
        await encryptPlaintextFile(files, p, deletePlaintext);
        result.encrypted++;
      } catch (e) {
        if (e instanceof WorkerError && e.code === 'FileExists') { result.skipped++; continue; }
        result.failed.push({ path: p, message: describeIoError(e) });
        if (isDiskWideError(e)) {
          // Every further file would fail the same way (and a full disk gets no fuller by trying).
          result.stopped = { reason: 'disk', message: describeIoError(e), notAttempted: todo.length - i - 1 };
          break;
        }
      }
      progress(i + 1, todo.length, path.relative(folder, p));
    }
  } finally {
    if (token) cancelledRuns.delete(token);
  }
  return result;
}
