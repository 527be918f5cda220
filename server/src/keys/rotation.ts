// Rewrapping the data keys of every `.enc` file in a folder after a master-key rotation. Only the header
// stanzas change (via the format's rewrapFile); the encrypted content is left byte for byte as it was.
import { describeIoError } from '../ioErrors';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isNoteSealError, type NoteSealErrorCode } from '../crypto/errors';
import { readHeaderFromFile, rewrapFile, type Stanza, type UnwrapDataKey } from '../crypto/format';
import { wipe } from './bytes';
import type { MasterKey } from './keyfile';
import { parseStanza, wrapDataKeyStanza } from './stanzas';

export type RewrapOutcome =
  | 'rewrapped'        // the data key is now wrapped under the current master key
  | 'already-current'  // nothing to do
  | 'detached'         // the key lives in the key store, which is rewrapped separately
  | 'failed';

export interface RotationProgress {
  /** Files handled so far, including this one. */
  done: number;
  total: number;
  file: string;
  outcome: RewrapOutcome;
  /** Set when outcome is 'failed'. */
  errorCode?: NoteSealErrorCode | 'IO';
  errorMessage?: string;
}

export interface RotationReport {
  rewrapped: number;
  alreadyCurrent: number;
  detached: number;
  failed: { file: string; errorCode: NoteSealErrorCode | 'IO'; message: string }[];
}

/** Every regular `*.enc` file below `folder`; symbolic links are not followed (no loops, no escaping). */
export async function findEncryptedFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && e.name.endsWith('.enc')) found.push(full);
    }
  };
  await walk(folder);
  return found;
}

async function rewrapOne(file: string, current: MasterKey, unwrap: UnwrapDataKey): Promise<RewrapOutcome> {
  const { stanzas } = await readHeaderFromFile(file);
  const parsed = stanzas.map(parseStanza);
  if (parsed.some(s => s.kind === 'master-wrapped' && s.masterKeyId === current.id)) return 'already-current';
  if (!parsed.some(s => s.kind === 'master-wrapped')) {
    if (parsed.some(s => s.kind === 'detached')) return 'detached';
  }
  const dataKey = await unwrap(stanzas);
  try {
    // Replace the master-wrapped stanza(s) by one under the current key; keep any other stanza as it is.
    const kept: Stanza[] = stanzas.filter((_, i) => parsed[i].kind !== 'master-wrapped');
    await rewrapFile(file, unwrap, [wrapDataKeyStanza(current, dataKey), ...kept]);
  } finally {
    wipe(dataKey);
  }
  return 'rewrapped';
}

/** Called after each file; rotation waits for a returned promise (lets a UI pace or observe it). */
export type OnRotationProgress = (p: RotationProgress) => void | Promise<void>;

/** Rewraps each file in turn; a file that fails is reported and the rest still proceed. */
export async function rewrapFolder(
  folder: string, current: MasterKey, unwrap: UnwrapDataKey, onProgress?: OnRotationProgress,
): Promise<RotationReport> {
  const files = await findEncryptedFiles(folder);
  const report: RotationReport = { rewrapped: 0, alreadyCurrent: 0, detached: 0, failed: [] };
  for (const [i, file] of files.entries()) {
    let progress: RotationProgress;
    try {
      const outcome = await rewrapOne(file, current, unwrap);
      if (outcome === 'rewrapped') report.rewrapped++;
      else if (outcome === 'already-current') report.alreadyCurrent++;
      else report.detached++;
      progress = { done: i + 1, total: files.length, file, outcome };
    } catch (e) {
      const errorCode = isNoteSealError(e) ? e.code : 'IO';
      const message = describeIoError(e);
      report.failed.push({ file, errorCode, message });
      progress = { done: i + 1, total: files.length, file, outcome: 'failed', errorCode, errorMessage: message };
    }
    await onProgress?.(progress);
  }
  return report;
}
