// sops YAML and JSON files over the `yaml` library's document (it keeps comments, key order and styles, so
// printing it back changes only the values set). JSON is read as YAML (a superset) and printed as sops
// prints JSON: tab-indented, every number a float, as Go's encoding/json decodes it.
import { Document, isMap, isPair, isScalar, isSeq, parseAllDocuments, Scalar, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import { NoteSealError } from '../crypto/errors';
import { formatFloat, type SopsPlain } from './sops-cipher';
import type { SopsMetadataObject } from './sops-metadata';
import type { SopsComment, SopsLeaf, SopsMap, SopsNode } from './sops-tree';

export const METADATA_KEY = 'sops';

export class SopsParseError extends NoteSealError {
  constructor(readonly line: number, why: string) { super('CORRUPTED', `line ${line}: ${why}`); }
}

/** A store's view of one file: the tree to walk, the metadata it holds, and the printer of what it holds now. */
export interface SopsDocument {
  branches: SopsNode[];
  metadata: SopsMetadataObject | null;
  /** The file's text now: with this metadata (an encrypted file), or without any (the plaintext view). */
  print(metadata: SopsMetadataObject | null): string;
}

function plainOfScalar(s: Scalar, json: boolean, where: string): SopsPlain | null {
  const v = s.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return { type: 'str', text: v };
  if (typeof v === 'boolean') return { type: 'bool', text: v ? 'True' : 'False' };
  if (typeof v === 'bigint') return json ? { type: 'float', text: formatFloat(Number(v)) } : { type: 'int', text: v.toString() };
  if (typeof v === 'number') return { type: 'float', text: formatFloat(v) };
  throw new NoteSealError('INVALID_ARGUMENT', `${where || '(top level)'}: a value of a kind sops cannot hold`);
}

function setScalar(s: Scalar, p: SopsPlain): void {
  s.type = undefined; s.format = undefined; s.minFractionDigits = undefined;
  switch (p.type) {
    case 'int': s.value = BigInt(p.text); break;
    case 'float': { const n = Number(p.text); s.value = n; if (Number.isInteger(n)) s.minFractionDigits = 1; break; }
    case 'bool': s.value = p.text === 'True'; break;
    default: s.value = p.text;
  }
}

/** The comment lines of a `commentBefore`/`comment` string, each with a setter that rewrites that line. */
function commentsOf(owner: { commentBefore?: string | null; comment?: string | null }, field: 'commentBefore' | 'comment'): SopsComment[] {
  const text = owner[field];
  if (!text) return [];
  const lines = text.split('\n');
  return lines.flatMap((line, i) => line.trim() === '' ? [] : [{
    kind: 'comment' as const, text: line,
    set(t: string) { this.text = t; const now = owner[field]!.split('\n'); now[i] = t; owner[field] = now.join('\n'); },
  }]);
}

function leafOf(s: Scalar, json: boolean, where: string): SopsLeaf {
  return { kind: 'leaf', value: plainOfScalar(s, json, where), set(p) { setScalar(s, p); this.value = p; } };
}

function nodeOf(n: unknown, json: boolean, where: string): SopsNode {
  if (n === null || n === undefined) return { kind: 'leaf', value: null, set() { /* a null stays */ } };
  if (isMap(n)) return mapOf(n, json, where);
  if (isSeq(n)) {
    const items: SopsNode[] = [];
    for (const item of n.items) {
      const node = item as YamlNode;
      items.push(...commentsOf(node, 'commentBefore'), withTrailingComments(node, nodeOf(node, json, where)));
    }
    return { kind: 'list', items };
  }
  if (isScalar(n)) return leafOf(n, json, where);
  throw new SopsParseError(lineOf(n), `${where || '(top level)'}: an alias or tag sops cannot hold`);
}

/**
 * The comment lines after a nested map or list, at its indentation, belong inside it as sops reads them (yaml.v3
 * gives them to its last entry): sops encrypts each under the key path of that map or list (its additional data),
 * so a path one level up would neither decrypt sops's ciphertext nor write one sops can read.
 */
function withTrailingComments(n: unknown, node: SopsNode): SopsNode {
  if ((isMap(n) || isSeq(n)) && (node.kind === 'map' || node.kind === 'list')) (node.items as SopsNode[]).push(...commentsOf(n, 'comment'));
  return node;
}

function lineOf(n: unknown): number {
  return (n as { linePos?: [{ line: number }] }).linePos?.[0]?.line ?? 0;
}

function mapOf(n: YAMLMap, json: boolean, where: string, skipMetadata = false): SopsMap {
  const items: SopsMap['items'] = [];
  for (const pair of n.items) {
    if (!isPair(pair) || !isScalar(pair.key)) throw new SopsParseError(0, `${where || '(top level)'}: a key that is not a plain value`);
    const key = String(pair.key.value);
    if (skipMetadata && key === METADATA_KEY) continue;
    const path = where ? `${where}.${key}` : key;
    items.push(...commentsOf(pair.key, 'commentBefore'));
    const value = pair.value as YamlNode | null;
    if (value && isScalar(value) && value.commentBefore) items.push(...commentsOf(value, 'commentBefore'));
    items.push({ kind: 'item', key, value: withTrailingComments(value, nodeOf(value, json, path)) });
    if (value && isScalar(value)) items.push(...commentsOf(value, 'comment'));
  }
  return { kind: 'map', items };
}

function metadataNode(doc: Document): YAMLMap | undefined {
  const contents = doc.contents;
  if (!isMap(contents)) return undefined;
  const m = contents.get(METADATA_KEY, true);
  return isMap(m) ? m : undefined;
}

export function parseYamlDocuments(text: string, json: boolean): Document[] {
  const docs = parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    const e = doc.errors[0];
    if (e) throw new SopsParseError(e.linePos?.[0]?.line ?? 0, `not valid ${json ? 'JSON' : 'YAML'} (${e.code})`);
  }
  return docs;
}

/** A YAML (or JSON) document, encrypted (with its `sops` key) or plain. */
export function yamlDocument(text: string, json: boolean): SopsDocument {
  const docs = parseYamlDocuments(text, json);
  if (docs.length === 0) throw new SopsParseError(1, 'an empty document');
  if (json && docs.length > 1) throw new SopsParseError(1, 'more than one JSON value');
  let metadata: SopsMetadataObject | null = null;
  const branches: SopsNode[] = [];
  for (const doc of docs) {
    const contents = doc.contents;
    if (contents === null) { branches.push({ kind: 'map', items: [] }); continue; }
    if (!isMap(contents)) throw new SopsParseError(lineOf(contents), 'the top level is not a mapping (sops files are)');
    const meta = metadataNode(doc);
    if (meta) {
      try { metadata = meta.toJS(doc, { mapAsMap: false, maxAliasCount: 0 }) as SopsMetadataObject; } catch {
        throw new SopsParseError(lineOf(meta), 'the sops metadata holds an alias or a value sops cannot read');
      }
    }
    const branch = mapOf(contents, json, '', true);
    branch.items.unshift(...commentsOf(doc, 'commentBefore'));
    branches.push(branch);
  }
  return {
    branches, metadata,
    print(meta) {
      for (const doc of docs) if (metadataNode(doc)) (doc.contents as YAMLMap).delete(METADATA_KEY);
      const last = docs[docs.length - 1]!;
      if (meta) {
        if (!isMap(last.contents)) last.contents = new YAMLMap();
        (last.contents as YAMLMap).set(METADATA_KEY, last.createNode(meta));
      }
      if (json) return jsonText(last.contents as YamlNode, '') + '\n';
      return docs.map(d => d.toString({ lineWidth: 0, indent: 4 })).join('');
    },
  };
}

/** sops's JSON printer: tab indent, keys in order, comments dropped. */
function jsonText(n: YamlNode | null, indent: string): string {
  const inner = indent + '\t';
  if (n === null || n === undefined) return 'null';
  if (isMap(n)) {
    if (n.items.length === 0) return '{}';
    return '{\n' + n.items.map(p => `${inner}${JSON.stringify(String(isScalar(p.key) ? p.key.value : p.key))}: ${jsonText(p.value as YamlNode, inner)}`).join(',\n') + `\n${indent}}`;
  }
  if (isSeq(n)) {
    if (n.items.length === 0) return '[]';
    return '[\n' + (n as YAMLSeq).items.map(i => inner + jsonText(i as YamlNode, inner)).join(',\n') + `\n${indent}]`;
  }
  if (isScalar(n)) {
    const v = n.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? formatFloat(v) : 'null';
    return JSON.stringify(v);
  }
  return 'null';
}
