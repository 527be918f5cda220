// The recipients lists this machine accepted (issue 21 §1), beside the keyfile, never in a repository:
// `~/.config/noteseal/keyfile.pins.json`. A list is remembered by what it is (the id of its first entry and
// the head of its history as accepted), not by where it lies: a clone of an accepted list at a new path
// is the same list; a different list at a known path is not. Each record also names the folders where
// the list was met, so a list that disappears from one of them refuses the save instead of going private.
//
// Version 1 of this file held "pins" keyed by path, trusted silently on first use: they are kept only to
// offer those lists for acceptance once (with their members shown), then dropped.
//
// A file that does not parse is an error (never "nothing accepted"), and every change is made under the
// keyfile's lock, so a worker and the CLI cannot drop each other's records.
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { keyfileLockPath } from './keyfile';
import { withLock } from './lockfile';
import type { VerifiedChain } from './recipients-file';

const FORMAT = 'noteseal-recipient-pins';
const LOCK_WAIT_MS = 10_000;

/** A version-1 pin (path-keyed, trusted on first use). */
export interface LegacyPin { genesis: string; head: string; length: number; at: string }

export interface Acceptance {
  /** Id of the list's first entry: what the list is. */
  genesis: string;
  /** Id of the last entry accepted, and how many entries that was: later member-signed entries extend it. */
  head: string;
  length: number;
  /** When it was accepted or last moved forward (ISO 8601). */
  at: string;
  /** Real paths of the folders the list governed here (the folder holding `.noteseal`). */
  folders: string[];
}

export interface AcceptedLists { accepted: Acceptance[]; legacy: Record<string, LegacyPin> }

/** `~/.config/noteseal/keyfile.json` -> `~/.config/noteseal/keyfile.pins.json`. */
export function pinsPathFor(keyfilePath: string): string {
  return path.join(path.dirname(keyfilePath), `${path.basename(keyfilePath).replace(/\.json$/i, '')}.pins.json`);
}

function damaged(file: string, why: string): NoteSealError {
  return new NoteSealError('DAMAGED_KEYFILE', `${file} (the recipients lists this machine accepted) does not parse (${why}): nothing was encrypted. `
    + 'Restore it from a backup, or move it aside and accept each shared folder\'s list again (noteseal recipients list --trust).');
}

const isHex64 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isPinLike = (v: unknown): v is LegacyPin => typeof v === 'object' && v !== null
  && isHex64((v as LegacyPin).genesis) && isHex64((v as LegacyPin).head) && Number.isSafeInteger((v as LegacyPin).length);

export async function readAcceptedLists(keyfilePath: string): Promise<AcceptedLists> {
  const file = pinsPathFor(keyfilePath);
  let text: string;
  try { text = await fs.readFile(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { accepted: [], legacy: {} };
    throw e;
  }
  let json: { format?: unknown; version?: unknown; pins?: unknown; accepted?: unknown };
  try { json = JSON.parse(text) as typeof json; } catch { throw damaged(file, 'not JSON'); }
  if (typeof json !== 'object' || json === null || json.format !== FORMAT) throw damaged(file, 'not a NoteSeal pins file');
  const legacy: Record<string, LegacyPin> = {};
  if (json.pins !== undefined) {
    if (typeof json.pins !== 'object' || json.pins === null) throw damaged(file, 'pins is not an object');
    for (const [k, v] of Object.entries(json.pins)) { if (!isPinLike(v)) throw damaged(file, `the pin for ${k} is malformed`); legacy[k] = v; }
  }
  if (json.version === 1) return { accepted: [], legacy };
  if (json.version !== 2 || !Array.isArray(json.accepted)) throw damaged(file, `version ${String(json.version)}`);
  for (const a of json.accepted as unknown[]) {
    if (!isPinLike(a) || !Array.isArray((a as Acceptance).folders) || !(a as Acceptance).folders.every(f => typeof f === 'string')) throw damaged(file, 'an accepted list is malformed');
  }
  return { accepted: json.accepted as Acceptance[], legacy };
}

/** Reads, changes and writes the records under the keyfile's lock. */
export async function updateAcceptedLists<T>(keyfilePath: string, change: (lists: AcceptedLists) => T | Promise<T>): Promise<T> {
  const file = pinsPathFor(keyfilePath);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  return withLock(keyfileLockPath(keyfilePath), { waitMs: LOCK_WAIT_MS, what: 'The keyfile' }, async () => {
    const lists = await readAcceptedLists(keyfilePath);
    const result = await change(lists);
    await writeFileAtomic(file, Buffer.from(JSON.stringify({ format: FORMAT, version: 2, accepted: lists.accepted, pins: lists.legacy }, null, 2) + '\n'), 0o600);
    return result;
  });
}

/** Whether `chain` starts where `record` does and still holds the accepted head where it was. */
export function extendsRecord(chain: VerifiedChain, record: { genesis: string; head: string; length: number }): boolean {
  return chain.ids[0] === record.genesis && chain.ids.length >= record.length && chain.ids[record.length - 1] === record.head;
}

/** The record for this list (by its first entry), or undefined. */
export function recordOf(lists: AcceptedLists, chain: VerifiedChain): Acceptance | undefined {
  return lists.accepted.find(a => a.genesis === chain.ids[0]);
}

/**
 * Accepts `chain` as the list of `folder` (a real path): records it (or moves its record forward), makes it
 * the only list remembered for `folder`, and drops a version-1 pin of that folder's list.
 */
export function acceptInto(lists: AcceptedLists, folder: string, listFile: string, chain: VerifiedChain, now = new Date()): void {
  for (const a of lists.accepted) a.folders = a.folders.filter(f => f !== folder);
  let record = recordOf(lists, chain);
  if (!record) { record = { genesis: chain.ids[0]!, head: '', length: 0, at: '', folders: [] }; lists.accepted.push(record); }
  Object.assign(record, { head: chain.ids.at(-1)!, length: chain.ids.length, at: now.toISOString() });
  record.folders.push(folder);
  lists.accepted = lists.accepted.filter(a => a.folders.length > 0 || a === record);
  delete lists.legacy[listFile];
}

export async function acceptList(keyfilePath: string, listFile: string, chain: VerifiedChain): Promise<void> {
  const real = await fs.realpath(listFile);
  const folder = path.dirname(path.dirname(real));
  await updateAcceptedLists(keyfilePath, lists => acceptInto(lists, folder, real, chain));
}

/**
 * `noteseal recipients forget --dir D`: this machine no longer remembers a list for D (so a list deleted
 * there on purpose no longer blocks saves). A list still at D has to be accepted again before it is used.
 * Returns how many records were dropped.
 */
export async function forgetFolder(keyfilePath: string, folder: string): Promise<number> {
  const real = await fs.realpath(folder).catch(() => path.resolve(folder));
  const listFile = path.join(real, '.noteseal', 'recipients');
  return updateAcceptedLists(keyfilePath, lists => {
    let dropped = 0;
    for (const a of lists.accepted) {
      const before = a.folders.length;
      a.folders = a.folders.filter(f => f !== real);
      dropped += before - a.folders.length;
    }
    lists.accepted = lists.accepted.filter(a => a.folders.length > 0);
    if (lists.legacy[listFile]) { delete lists.legacy[listFile]; dropped++; }
    return dropped;
  });
}

/** Every folder this machine remembers a list for (accepted, or pinned by version 1). */
export function rememberedFolders(lists: AcceptedLists): string[] {
  return [...lists.accepted.flatMap(a => a.folders), ...Object.keys(lists.legacy).map(f => path.dirname(path.dirname(f)))];
}
