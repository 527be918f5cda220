// A three-way merge of sops files (issue 27, "Git"): the decrypted views of base, ours and theirs are merged
// in memory and encrypted again as one valid sops file, with ours' data key, recipients and options, a new
// `lastmodified` and a MAC computed over the merged values (what a plain text merge of two sops branches
// breaks, an open sops bug since 2016). Every value a side holds keeps that side's ciphertext byte for
// byte (ours first); only a value none of them holds gets a fresh IV. A conflict returns the key paths
// (never a value) and ours' file with the merged view, git's markers in it, sealed as its pending merge
// (formats/sops-pending.ts): still a valid sops file of ours' values for sops and teammates, opened by
// NoteSeal as that view to resolve in VS Code. Nothing decrypted reaches the disk.
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { encryptSopsText, looksLikeSops, sopsDocument, sopsFormat, type SopsSaveState, type SopsStoreKind } from '../formats/sops';
import { masterKeysOf } from '../formats/sops-keys';
import { stashEntries } from '../formats/sops-pending';
import { SopsParseError } from '../formats/sops-yaml';
import type { SopsLeaf, SopsNode } from '../formats/sops-tree';
import { cliKeysAtHand } from './age-commands';
import type { CliContext } from './context';
import { withFileKeys, type FileKeys } from './file-keys';
import { mergeText } from './git-merge';

export interface SopsSide { plaintext: string; state: SopsSaveState }

/** `text` the merged file; on a conflict `text` null and `view` the merged view with markers (with `sealed`: ours' file holding it). */
export type SopsMergeResult = { text: string; conflicts: [] } | { text: null; conflicts: string[]; view?: string; sealed?: string };

const OPTION_KEYS = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex', 'mac_only_encrypted'];

/** Who can open a side and how its values are chosen: the master keys (sorted) and the options. */
function keysAndOptions(state: SopsSaveState): string {
  const m = state.metadata;
  return JSON.stringify([[...masterKeysOf(m)].sort(), OPTION_KEYS.map(k => m[k] ?? null)]);
}

/**
 * The merged file takes ours' recipients and options. Theirs may differ only where ours changed them (theirs
 * = base): a recipient or option theirs alone added is never applied by a merge, because ours' values would
 * then be readable by someone nobody here accepted (`noteseal updatekeys` with an accepted `.sops.yaml` does
 * that on purpose).
 */
function checkSameKeys(base: SopsSide | null, ours: SopsSide, theirs: SopsSide): void {
  const t = keysAndOptions(theirs.state);
  if (t === keysAndOptions(ours.state) || (base && t === keysAndOptions(base.state))) return;
  throw new NoteSealError('INVALID_ARGUMENT', 'theirs changed the master keys or the options of this sops file (a recipient added or removed, a key rotated, encrypted_regex…): '
    + 'a merge never applies that; merge it by hand, then run noteseal updatekeys on it (it follows the accepted .sops.yaml)');
}

type Leaves = Map<string, { path: string; leaf: SopsLeaf }>;

/** Every leaf by its key path (list items by index; several YAML documents by number), and the comments in order. */
function leavesOf(branches: readonly SopsNode[]): { leaves: Leaves; comments: string[] } {
  const leaves: Leaves = new Map();
  const comments: string[] = [];
  const visit = (node: SopsNode, path: (string | number)[]) => {
    if (node.kind === 'comment') { comments.push(node.text); return; }
    if (node.kind === 'leaf') {
      const shown = path.slice(branches.length > 1 ? 0 : 1).map(p => (typeof p === 'number' ? `[${p}]` : /[.[\]"]/.test(p) ? JSON.stringify(p) : p)).join('.').replace(/\.\[/g, '[');
      leaves.set(JSON.stringify(path), { path: shown, leaf: node });
      return;
    }
    let i = 0;
    for (const item of node.items) {
      if (item.kind === 'comment') comments.push(item.text);
      else if (item.kind === 'item') visit(item.value, [...path, item.key]);
      else visit(item, [...path, i++]);
    }
  };
  branches.forEach((b, i) => visit(b, [i]));
  return { leaves, comments };
}

const same = (a: SopsLeaf | undefined, b: SopsLeaf | undefined) =>
  a === b || (!!a && !!b && (a.value === null ? b.value === null : b.value !== null && a.value.type === b.value.type && a.value.text === b.value.text));

/**
 * Where a line merge conflicts (two values on neighbouring lines, say), value by value: ours' document, each
 * value only theirs changed set to theirs'. Anything else theirs changed that ours did not change alike (a
 * key added or removed, a comment) is a conflict: ours' layout cannot take it without guessing.
 */
function mergeValues(kind: SopsStoreKind, base: string, ours: string, theirs: string): SopsMergeResult {
  const oDoc = sopsDocument(kind, ours);
  const [b, o, t] = [sopsDocument(kind, base), oDoc, sopsDocument(kind, theirs)].map(d => leavesOf(d.branches));
  const conflicts = new Set<string>();
  for (const [k, ol] of o!.leaves) {
    const bl = b!.leaves.get(k)?.leaf; const tl = t!.leaves.get(k)?.leaf;
    if (same(tl, bl) || same(tl, ol.leaf)) continue;
    if (tl && bl && same(ol.leaf, bl) && tl.value !== null) { ol.leaf.set(tl.value); continue; }
    conflicts.add(ol.path);
  }
  for (const [k, tl] of t!.leaves) if (!o!.leaves.has(k) && !same(tl.leaf, b!.leaves.get(k)?.leaf)) conflicts.add(tl.path);
  for (const [k, bl] of b!.leaves) if (o!.leaves.has(k) && !t!.leaves.has(k)) conflicts.add(bl.path); // theirs removed it
  const commentsOf = (x: { comments: string[] }) => JSON.stringify(x.comments);
  if (commentsOf(t!) !== commentsOf(b!) && commentsOf(t!) !== commentsOf(o!)) conflicts.add('(comments)');
  if (conflicts.size) return { text: null, conflicts: [...conflicts] };
  return { text: oDoc.print(null), conflicts: [] };
}

/** The merged plaintext view: as text first (git's way), else value by value. */
export function mergeSopsViews(kind: SopsStoreKind, base: string, ours: string, theirs: string): SopsMergeResult {
  const asText = mergeText(ours, base, theirs);
  if (asText.conflicts === 0) {
    try { sopsDocument(kind, asText.text); return { text: asText.text, conflicts: [] }; } catch (e) {
      if (!(e instanceof SopsParseError)) throw e; // e.g. both sides added one key in two places
    }
  }
  let merged: SopsMergeResult;
  try { merged = mergeValues(kind, base, ours, theirs); } catch (e) {
    if (!(e instanceof SopsParseError)) throw e;
    merged = { text: null, conflicts: ['(the document)'] };
  }
  return merged.text === null ? { ...merged, view: asText.text } : merged;
}

const sameKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/**
 * Merges three opened sops sides (base null when the file is new on both). The result is ours' file kind,
 * data key, recipients and options; the values merged; unchanged ciphertexts kept from the side that holds
 * them (only sides under ours' data key: another key's ciphertexts cannot be reused).
 */
export function mergeSops(base: SopsSide | null, ours: SopsSide, theirs: SopsSide, now = new Date()): SopsMergeResult {
  checkSameKeys(base, ours, theirs);
  const merged = mergeSopsViews(ours.state.kind, base?.plaintext ?? '', ours.plaintext, theirs.plaintext);
  const stash = new Map<string, string>();
  for (const side of [base, theirs, ours]) {
    if (side && sameKey(side.state.dataKey, ours.state.dataKey)) for (const [k, v] of side.state.stash) stash.set(k, v);
  }
  if (merged.text === null) {
    // ours' values as they are (ours' own ciphertexts), the view sealed with the others' ciphertexts for its save.
    const pending = { text: merged.view ?? ours.plaintext, stash: stashEntries(ours.state.stash, stash) };
    return { ...merged, sealed: encryptSopsText(ours.plaintext, ours.state, now, pending).text };
  }
  return { text: encryptSopsText(merged.text, { ...ours.state, stash }, now).text, conflicts: [] };
}

// --- the git drivers' side (git-commands.ts): open each side with the age identities at hand, merge, write.

/** Whether bytes are a sops file (its metadata is at the end, so the whole text is looked at). */
export function isSopsBytes(bytes: Uint8Array): boolean {
  return looksLikeSops(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** The names `git setup` sends to the drivers as sops files (ATTRIBUTE_LINES); a plain file of such a name passes through. */
export function hasSopsName(file: string): boolean {
  return /(?:\.sops|\.enc)\.(?:ya?ml|json|env|ini)$|(?:^|[/\\_])secrets[^/\\]*\.(?:ya?ml|json)$/i.test(file);
}

/**
 * One side opened: its values (a merge in progress sealed in it is left aside: the file holds those values)
 * and what a save needs; the caller wipes `state.dataKey`.
 */
export async function openSopsForGit(ctx: CliContext, bytes: Uint8Array, file: string, keys: FileKeys): Promise<SopsSide> {
  const opened = await sopsFormat.open(bytes, cliKeysAtHand(ctx, keys), file);
  try { return { plaintext: opened.saveState.values ?? opened.plaintext.toString('utf8'), state: opened.saveState }; } finally { opened.plaintext.fill(0); }
}

/**
 * `noteseal git merge-driver` for sops sides: base (may be empty), ours and theirs must all be sops files.
 * Returns the key paths in conflict; %A then holds ours' values with the merged view sealed in it.
 */
export async function mergeSopsInto(ctx: CliContext, sides: readonly Buffer[], oursPath: string, repoPath: string): Promise<string[]> {
  const [base, ours, theirs] = sides as [Buffer, Buffer, Buffer];
  if (![ours, theirs].every(isSopsBytes) || (base.length > 0 && !isSopsBytes(base))) {
    throw new NoteSealError('INVALID_ARGUMENT', 'one side is a sops file and another is not');
  }
  return withFileKeys(ctx, async keys => {
    const opened: (SopsSide | null)[] = [];
    try {
      for (const bytes of [base, ours, theirs]) opened.push(bytes.length === 0 ? null : await openSopsForGit(ctx, bytes, repoPath, keys));
      const [b, o, t] = opened as [SopsSide | null, SopsSide, SopsSide];
      const merged = mergeSops(b, o, t);
      await writeFileAtomic(oursPath, Buffer.from(merged.text ?? merged.sealed!, 'utf8'));
      return merged.conflicts;
    } finally {
      for (const side of opened) if (side) wipe(side.state.dataKey);
    }
  }, repoPath, { prompt: false });
}
