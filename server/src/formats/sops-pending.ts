// An unresolved git merge of a sops file, kept sealed inside it (issue 27, "Git"). A conflicting merge
// cannot write markers into a sops document (its values would no longer parse, and a plain text file of
// them would be plaintext on disk), so the merge driver writes ours' document, a valid sops file with a
// correct MAC that sops and every teammate's tool read as ours, plus one extra metadata key,
// `noteseal_merge`: the decrypted view with git's conflict markers (and the other sides' ciphertexts, so
// their values keep their bytes once chosen), encrypted under the file's data key like any sops value. sops
// ignores metadata keys it does not know (Go's decoders skip unknown fields of stores.Metadata) and drops
// it at its next write; NoteSeal shows that view instead of the values until a save without markers.
//
// The additional data binds it to the file's encrypted MAC: `sops:noteseal_merge:` + `mac` (a document
// cannot hold a top-level `sops` key, so no value shares it). A tool that rewrote the values but kept the
// key leaves a sealed view that no longer decrypts: it is ignored (the values are what the file holds).
import { decryptValue, encryptValue } from './sops-cipher';
import type { SopsMetadataObject } from './sops-metadata';
import type { SopsStash } from './sops-tree';

export const PENDING_KEY = 'noteseal_merge';

/** The merge view the user resolves, and ciphertexts of values other sides held (by sops-tree's stash key). */
export interface SopsPending { text: string; stash: [string, string][] }

const aadOf = (m: SopsMetadataObject) => `sops:${PENDING_KEY}:${String(m['mac'] ?? '')}`;

/** Seals `pending` into `metadata` (whose `mac` is already the final one). */
export function sealPending(metadata: SopsMetadataObject, dataKey: Uint8Array, pending: SopsPending): void {
  metadata[PENDING_KEY] = encryptValue({ type: 'str', text: JSON.stringify(pending) }, dataKey, aadOf(metadata));
}

/** The sealed merge view of a file, or null: none, or one that no longer belongs to these values. */
export function openPending(metadata: SopsMetadataObject, dataKey: Uint8Array): SopsPending | null {
  const enc = metadata[PENDING_KEY];
  if (typeof enc !== 'string' || enc === '') return null;
  try {
    const parsed = JSON.parse(decryptValue(enc, dataKey, aadOf(metadata), `sops.${PENDING_KEY}`).text) as Partial<SopsPending>;
    if (typeof parsed.text !== 'string' || !Array.isArray(parsed.stash)) return null;
    const stash = parsed.stash.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string');
    return { text: parsed.text, stash };
  } catch { return null; }
}

/** Stash entries of `sides` not already in `into` (what a resolved save may reuse). */
export function stashEntries(into: SopsStash, ...sides: SopsStash[]): [string, string][] {
  const out = new Map<string, string>();
  for (const s of sides) for (const [k, v] of s) if (!into.has(k)) out.set(k, v);
  return [...out];
}

/** git's conflict markers at the start of a line (7 characters, as git-merge.ts writes them). */
const MARKER = /^(?:<{7}|={7}|>{7}|\|{7})(?:[ \t]|\r?$)/m;

export function hasConflictMarkers(text: string): boolean {
  return MARKER.test(text);
}
