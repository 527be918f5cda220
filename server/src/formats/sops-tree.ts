// The document of a sops file as sops sees it (sops.go): branches of ordered items, lists, leaves and
// comments, walked in file order. Each store (sops-yaml.ts, sops-json.ts, sops-dotenv.ts, sops-ini.ts) builds
// this tree over its own parsed document, each leaf and comment with a `set` that writes back into it, so
// decrypting and encrypting are one walk here for every store and the store then prints what it holds.
import { createHash } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { additionalData, decryptValue, encryptValue, isEncValue, SopsValueError, type SopsPlain } from './sops-cipher';
import type { SopsOptions } from './sops-metadata';

/** A value; `value` null for a null (sops leaves it alone and does not hash it). */
export interface SopsLeaf { kind: 'leaf'; value: SopsPlain | null; set(v: SopsPlain): void }
/** One comment line (without its '#'). */
export interface SopsComment { kind: 'comment'; text: string; set(text: string): void }
export interface SopsMap { kind: 'map'; items: (SopsComment | { kind: 'item'; key: string; value: SopsNode })[] }
export interface SopsList { kind: 'list'; items: SopsNode[] }
export type SopsNode = SopsLeaf | SopsComment | SopsMap | SopsList;

/** sops's MACOnlyEncryptedInitialization: SHA-256("sops"), hashed first when mac_only_encrypted is set. */
const MAC_ONLY_ENCRYPTED_INIT = createHash('sha256').update('sops').digest();

export class SopsMacError extends NoteSealError {
  constructor(message: string) { super('CORRUPTED', message); }
}

/** sops's shouldBeEncrypted: the suffix and regex options over the key path, the comment options over the comments above. */
export function shouldBeEncrypted(o: SopsOptions, path: readonly string[], comments: readonly (readonly string[])[], isComment: boolean): boolean {
  let encrypted = true;
  if (o.unencryptedSuffix && path.some(p => p.endsWith(o.unencryptedSuffix!))) encrypted = false;
  if (o.encryptedSuffix) encrypted = path.some(p => p.endsWith(o.encryptedSuffix!));
  if (o.unencryptedRegex && path.some(p => o.unencryptedRegex!.test(p))) encrypted = false;
  if (o.encryptedRegex) encrypted = path.some(p => o.encryptedRegex!.test(p));
  if (o.unencryptedCommentRegex && comments.some(cs => cs.some(c => o.unencryptedCommentRegex!.test(c)))) encrypted = false;
  if (o.encryptedCommentRegex) {
    const last = comments.length - 1;
    // The comment line that matches is not encrypted itself: only comments above it count for it.
    encrypted = comments.some((cs, i) => cs.some((c, j) => !(isComment && i === last && j === cs.length - 1) && o.encryptedCommentRegex!.test(c)));
  }
  return encrypted;
}

type Visit = (node: SopsLeaf | SopsComment, path: string[], comments: string[][]) => void;

/** sops's walkBranch/walkSlice: comments gather on a stack per level and clear at the next value. */
function walk(node: SopsNode, path: string[], comments: string[][], visit: Visit): void {
  if (node.kind === 'leaf') { visit(node, path, comments); return; }
  if (node.kind === 'comment') { visit(node, path, comments); return; }
  const stack = [...comments, []];
  const top = stack[stack.length - 1]!;
  const items = node.kind === 'map' ? node.items : node.items;
  for (const item of items) {
    if (item.kind === 'comment') { top.push(item.text); visit(item, path, stack); continue; }
    if (item.kind === 'item') walk(item.value, [...path, item.key], stack, visit);
    else walk(item, path, stack, visit);
    top.length = 0;
  }
}

/** Ciphertexts of the values read, by key path, type and plaintext: an unchanged value keeps its bytes (sops's IV stash). */
export type SopsStash = Map<string, string>;
const stashKey = (path: readonly string[], v: SopsPlain) => JSON.stringify([path, v.type, v.text]);

/** Walks every branch, telling each leaf and comment whether sops encrypts it, and returns the MAC. */
function walkWithMac(branches: readonly SopsNode[], o: SopsOptions, visit: (node: SopsLeaf | SopsComment, path: string[], encrypted: boolean, hash: (text: string) => void) => void): string {
  const hash = createHash('sha512');
  if (o.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  for (const branch of branches) {
    walk(branch, [], [], (node, path, comments) => {
      const encrypted = shouldBeEncrypted(o, path, comments, node.kind === 'comment');
      visit(node, path, encrypted, text => { if (!o.macOnlyEncrypted || encrypted) hash.update(text, 'utf8'); });
    });
  }
  return hash.digest('hex').toUpperCase();
}

/**
 * Decrypts every value sops encrypted, in place, and returns the MAC of the plaintext (upper-case hex of
 * SHA-512 over the values in order). A comment that does not decrypt stays as it is (older sops did not
 * encrypt comments); a value that does not decrypt is an error naming its key path.
 */
export function decryptTree(branches: readonly SopsNode[], dataKey: Uint8Array, o: SopsOptions, stash?: SopsStash): string {
  return walkWithMac(branches, o, (node, path, encrypted, hash) => {
    if (node.kind === 'comment') {
      if (encrypted && isEncValue(node.text)) {
        const enc = node.text;
        // Under its own key path as sops writes it; else under a shorter one, as NoteSeal wrote the
        // comments after a nested map or list until issue 27's fix (sops-yaml.ts withTrailingComments): shown,
        // and written anew under its own path at the next save (not stashed).
        for (let n = path.length; n >= 0; n--) {
          try {
            const v = decryptValue(enc, dataKey, additionalData(path.slice(0, n)), path.join('.'));
            if (v.type === 'comment') { if (n === path.length) stash?.set(stashKey(path, v), enc); node.set(v.text); }
            break;
          } catch { /* kept as written when no path opens it */ }
        }
      }
      return;
    }
    if (node.value === null) return;
    let v = node.value;
    if (encrypted) {
      if (v.type !== 'str') throw new SopsValueError(path.join('.'), 'a value sops encrypts is not encrypted');
      if (v.text !== '') {
        const enc = v.text;
        v = decryptValue(enc, dataKey, additionalData(path), path.join('.'));
        if (v.type === 'comment') throw new SopsValueError(path.join('.'), 'a comment where a value belongs');
        stash?.set(stashKey(path, v), enc);
        node.set(v);
      }
    }
    hash(v.text);
  });
}

/**
 * Encrypts every value sops would, in place, and returns the MAC of the plaintext. A value whose key path,
 * type and plaintext match one read from the file keeps its ciphertext byte for byte.
 */
export function encryptTree(branches: readonly SopsNode[], dataKey: Uint8Array, o: SopsOptions, stash?: SopsStash): string {
  return walkWithMac(branches, o, (node, path, encrypted, hash) => {
    if (node.kind === 'comment') {
      const v: SopsPlain = { type: 'comment', text: node.text };
      if (encrypted && v.text !== '') node.set(stash?.get(stashKey(path, v)) ?? encryptValue(v, dataKey, additionalData(path)));
      return;
    }
    const v = node.value;
    if (v === null) return;
    hash(v.text);
    if (!encrypted || v.text === '') return;
    node.set({ type: 'str', text: stash?.get(stashKey(path, v)) ?? encryptValue(v, dataKey, additionalData(path)) });
  });
}
