// The `sops` metadata of a file (sops's stores/stores.go Metadata): the options that choose which values
// are encrypted, the MAC and its `lastmodified`, and the data key wrapped per master key. dotenv and INI
// files hold it flattened (`sops_pgp__list_0__map_enc`), read back here as the same object.
import { NoteSealError } from '../crypto/errors';

export interface SopsOptions {
  unencryptedSuffix?: string; encryptedSuffix?: string;
  unencryptedRegex?: RegExp; encryptedRegex?: RegExp;
  unencryptedCommentRegex?: RegExp; encryptedCommentRegex?: RegExp;
  macOnlyEncrypted: boolean;
}

export type SopsMetadataObject = Record<string, unknown>;

export class SopsMetadataError extends NoteSealError {
  constructor(why: string) { super('CORRUPTED', `sops metadata: ${why}`); }
}

const str = (m: SopsMetadataObject, k: string): string | undefined => {
  const v = m[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new SopsMetadataError(`${k} is not a string`);
  return v;
};

/** A Go (RE2) regular expression as a JS one; a leading (?i) becomes the i flag. */
export function goRegex(source: string, name: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(source);
  try { return new RegExp(m ? source.slice(m[0].length) : source, m ? m[1] : ''); } catch {
    throw new SopsMetadataError(`${name} is not a regular expression NoteSeal can read`);
  }
}

export function optionsOf(m: SopsMetadataObject): SopsOptions {
  const re = (k: string) => { const s = str(m, k); return s === undefined ? undefined : goRegex(s, k); };
  const set = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'].filter(k => str(m, k) !== undefined);
  if (set.length > 1) throw new SopsMetadataError(`${set.join(' and ')} are both set (sops allows one)`);
  const mac = m['mac_only_encrypted'];
  return {
    unencryptedSuffix: str(m, 'unencrypted_suffix'), encryptedSuffix: str(m, 'encrypted_suffix'),
    unencryptedRegex: re('unencrypted_regex'), encryptedRegex: re('encrypted_regex'),
    unencryptedCommentRegex: re('unencrypted_comment_regex'), encryptedCommentRegex: re('encrypted_comment_regex'),
    macOnlyEncrypted: mac === true || mac === 'true',
  };
}

/** The MAC's additional data: `lastmodified` as Go's time.RFC3339 prints it (no fractional seconds). */
export function lastModifiedAad(m: SopsMetadataObject): string {
  const v = str(m, 'lastmodified');
  if (!v) throw new SopsMetadataError('lastmodified is missing');
  return v.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '');
}

/** `lastmodified` of a write now, as sops writes it. */
export function nowRfc3339(now = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

const MAP = '__map_'; const LIST = '__list_';

/** sops's Unflatten: `pgp__list_0__map_enc` → { pgp: [{ enc }] }; values with `\n` written as `\\n` decoded. */
export function unflattenMetadata(flat: ReadonlyMap<string, string>): SopsMetadataObject {
  const root: SopsMetadataObject = {};
  for (const [flatKey, raw] of flat) {
    const value: unknown = flatKey === 'mac_only_encrypted' ? raw === 'true' : raw.replace(/\\n/g, '\n');
    const tokens: (string | number)[] = [];
    const re = /(__map_|__list_)/g;
    let last = 0; let kind = ''; let m: RegExpExecArray | null;
    const push = (end: number) => {
      const t = flatKey.slice(last + kind.length, end);
      tokens.push(kind === LIST ? Number(t) : t);
    };
    while ((m = re.exec(flatKey))) { push(m.index); last = m.index; kind = m[1]!; }
    push(flatKey.length);
    if (tokens.some(t => t === '__proto__' || t === 'constructor' || t === 'prototype')) throw new SopsMetadataError(`a metadata key named ${JSON.stringify(flatKey.slice(0, 64))}`);
    let node: Record<string | number, unknown> = root;
    tokens.forEach((t, i) => {
      if (i === tokens.length - 1) { node[t] = value; return; }
      const next = tokens[i + 1];
      if (node[t] === undefined || typeof node[t] !== 'object') node[t] = typeof next === 'number' ? [] : {};
      node = node[t] as Record<string | number, unknown>;
    });
  }
  return root;
}

/** sops's Flatten: the inverse, in a stable order (the object's own order). */
export function flattenMetadata(m: SopsMetadataObject): [string, string][] {
  const out: [string, string][] = [];
  const visit = (prefix: string, v: unknown) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) { v.forEach((x, i) => visit(`${prefix}${LIST}${i}`, x)); return; }
    if (typeof v === 'object') { for (const [k, x] of Object.entries(v)) visit(prefix === '' ? k : `${prefix}${MAP}${k}`, x); return; }
    out.push([prefix, String(v).replace(/\n/g, '\\n')]);
  };
  visit('', m);
  return out;
}
