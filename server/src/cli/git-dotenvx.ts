// dotenvx files in git (docs/CLI.md, "dotenvx files"): textconv shows their plain dotenv view (values
// decrypted) and the merge driver merges the decrypted views, then writes a dotenvx file again in which every
// value one of the sides holds keeps that side's bytes and only a value none of them holds is encrypted anew
// (to the file's DOTENV_PUBLIC_KEY). A dotenvx value carries no signature, so a merge re-signs nothing (no
// writer is claimed) and is not refused as an unverified writer's. Values come from the environment's
// DOTENV_PRIVATE_KEY…, or the agent (git runs us without a terminal); conflicting values never reach the disk.
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import {
  dotenvxPublicKey, dotenvxTextOf, looksLikeDotenvx, openDotenvxText, saveDotenvxText, sealedValuesOf, type DotenvxSaveState,
} from '../formats/dotenvx';
import { entriesOf, parseDotenvx, serializeDotenvx, type DotenvxItem } from '../formats/dotenvx-parse';
import { HEAD_BYTES } from '../formats';
import type { CliContext } from './context';
import { noKey, withDotenvxSecret } from './dotenvx-commands';
import { mergeText } from './git-merge';

export function isDotenvxBytes(bytes: Uint8Array): boolean {
  return looksLikeDotenvx(bytes.subarray(0, HEAD_BYTES));
}

/** A plain `.env…` file (no NoteSeal or dotenvx content) that `.gitattributes` sends to our drivers: passed through. */
export function hasDotenvBaseName(file: string): boolean {
  return /(?:^|[/\\_])\.env(?:\.[^/\\]*)?$/.test(file);
}

/** The plain view of a dotenvx side and what a save needs; WRONG_KEY when a value is encrypted and no key is at hand. */
export async function openDotenvxForGit(ctx: CliContext, bytes: Uint8Array, about: string): Promise<{ view: string; state: DotenvxSaveState; publicKey: string }> {
  const text = dotenvxTextOf(bytes);
  const publicKey = dotenvxPublicKey(parseDotenvx(text)).hex;
  return withDotenvxSecret(ctx, text, secret => {
    if (!secret && sealedValuesOf(text).length) throw noKey(text);
    return { ...openDotenvxText(text, secret), publicKey };
  }, about, { prompt: false });
}

export interface DotenvxMerge { text: string; conflicts: string[] }

type Entry = Extract<DotenvxItem, { kind: 'entry' }>;
const keyOf = (e: Entry, nth: number) => `${e.name}\u0000${nth}`;

function entryMap(items: readonly DotenvxItem[]): Map<string, Entry> {
  const seen = new Map<string, number>();
  const out = new Map<string, Entry>();
  for (const e of entriesOf(items)) {
    const nth = seen.get(e.name) ?? 0;
    seen.set(e.name, nth + 1);
    out.set(keyOf(e, nth), e);
  }
  return out;
}

/**
 * Three-way merge of three plain dotenv views. First as text (git's way: comments, order and blank lines of
 * both sides); where that conflicts, per value: ours' lines, each value the other side alone changed taken
 * from it, values it alone added appended, values it alone removed removed. `conflicts`: the names both
 * sides changed differently (values are never named).
 */
export function mergeDotenvxViews(base: string, ours: string, theirs: string): DotenvxMerge {
  const asText = mergeText(ours, base, theirs);
  if (asText.conflicts === 0) return { text: asText.text, conflicts: [] };
  const [b, o, t] = [base, ours, theirs].map(v => entryMap(parseDotenvx(v)));
  const conflicts = new Set<string>();
  const oursItems = parseDotenvx(ours);
  const seen = new Map<string, number>();
  const merged: DotenvxItem[] = [];
  for (const item of oursItems) {
    if (item.kind === 'text') { merged.push(item); continue; }
    const nth = seen.get(item.name) ?? 0;
    seen.set(item.name, nth + 1);
    const k = keyOf(item, nth);
    const [vb, vt] = [b!.get(k), t!.get(k)];
    if (vt?.value === vb?.value || vt?.value === item.value) { merged.push(item); continue; }
    if (vb && vb.value === item.value) {
      // Only theirs changed it: theirs' value (or theirs removed it).
      if (vt) merged.push({ ...item, raw: vt.raw, value: vt.value, quote: vt.quote });
      continue;
    }
    conflicts.add(item.name);
    merged.push(item);
  }
  const eol = ours.includes('\r\n') ? '\r\n' : '\n';
  let text = serializeDotenvx(merged);
  for (const [k, vt] of t!) {
    if (o!.has(k)) continue;
    const vb = b!.get(k);
    if (!vb) { text += `${text === '' || text.endsWith('\n') ? '' : eol}${vt.name}=${vt.raw}${eol}`; continue; } // added by theirs
    if (vb.value !== vt.value) conflicts.add(vt.name); // ours removed what theirs changed
  }
  for (const [k, vb] of b!) if (!o!.has(k) && t!.has(k) && t!.get(k)!.value !== vb.value) conflicts.add(vb.name);
  return { text, conflicts: [...conflicts] };
}

/**
 * Merges three dotenvx sides into `oursPath`. Returns the names in conflict (then nothing is written: ours
 * stays, and no decrypted value reaches the disk). A side with another public key (a rotation) is refused.
 */
export async function mergeDotenvxInto(ctx: CliContext, sides: readonly Uint8Array[], oursPath: string, repoPath: string): Promise<string[]> {
  const opened = [];
  for (const bytes of sides) opened.push(bytes.length === 0 ? null : await openDotenvxForGit(ctx, bytes, repoPath));
  const [base, ours, theirs] = opened;
  if (!ours || !theirs) throw new NoteSealError('INVALID_ARGUMENT', 'one side is empty');
  if (new Set(opened.filter(o => o).map(o => o!.publicKey)).size > 1) {
    throw new NoteSealError('INVALID_ARGUMENT', 'the sides have different DOTENV_PUBLIC_KEYs (a key rotation): merge it by hand');
  }
  const merged = mergeDotenvxViews(base?.view ?? '', ours.view, theirs.view);
  if (merged.conflicts.length) return merged.conflicts;
  const text = saveDotenvxText(merged.text, ours.state, theirs.state, ...(base ? [base.state] : []));
  await writeFileAtomic(oursPath, Buffer.from(text, 'utf8'));
  return [];
}
