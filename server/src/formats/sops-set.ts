// One value of a sops file's plaintext view changed by key path (`noteseal set FILE KEY VALUE`): a dotted
// path, `[0]` for a list item, `"a.b"` for a segment holding a dot, or sops's own `["a"][0]`. YAML and JSON
// take a nested path; a dotenv file a single key; an INI file `section.key`. The new value is a string
// (type str), or with `--json` any JSON value as `sops set` takes it: the store then types it as sops does
// when it reads the file (YAML: 5 int, 2.5 float, true bool, null left as null; JSON: every number a float).
import { isMap, isSeq, parseDocument } from 'yaml';
import { NoteSealError } from '../crypto/errors';
import { wipe } from '../keys/bytes';
import { sopsFormat, type SopsStoreKind } from './sops';
import type { KeysAtHand } from './types';

export type PathSegment = string | number;

/** `db.password`, `servers[0].host`, `"a.b".c` → segments; a typed error for a malformed path. */
export function parseKeyPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  const bad = (why: string) => new NoteSealError('INVALID_ARGUMENT', `the key path ${JSON.stringify(path)} ${why}`);
  if (path === '') throw bad('is empty');
  while (i < path.length) {
    if (path.startsWith('["', i)) {
      // sops's own syntax: ["key"] (a JSON string inside brackets).
      let seg = ''; i += 2;
      while (i < path.length && path[i] !== '"') { if (path[i] === '\\' && i + 1 < path.length) i++; seg += path[i]; i++; }
      if (path[i] !== '"' || path[i + 1] !== ']') throw bad('has an unclosed ["…"] segment');
      out.push(seg); i += 2;
    } else if (path[i] === '[') {
      const end = path.indexOf(']', i);
      const n = end < 0 ? '' : path.slice(i + 1, end);
      if (!/^\d+$/.test(n)) throw bad(`has a malformed list index at ${i + 1}`);
      out.push(Number(n)); i = end + 1;
    } else if (path[i] === '"') {
      let seg = ''; i++;
      while (i < path.length && path[i] !== '"') { if (path[i] === '\\' && i + 1 < path.length) i++; seg += path[i]; i++; }
      if (i >= path.length) throw bad('has an unclosed quote');
      out.push(seg); i++;
    } else {
      let seg = '';
      while (i < path.length && path[i] !== '.' && path[i] !== '[') seg += path[i++];
      if (seg === '') throw bad(`has an empty segment at ${i + 1}`);
      out.push(seg);
    }
    if (i < path.length) {
      if (path[i] === '.') { i++; if (i >= path.length) throw bad('ends with a dot'); } else if (path[i] !== '[') throw bad(`has an unexpected character at ${i + 1}`);
    }
  }
  return out;
}

function setDotenv(text: string, key: string, value: string): string {
  const lines = text.split('\n');
  const line = `${key}=${value.replace(/\n/g, '\\n')}`;
  const at = lines.findIndex(l => !l.startsWith('#') && l.slice(0, l.indexOf('=')) === key);
  if (at >= 0) lines[at] = line;
  else { while (lines.length && lines[lines.length - 1] === '') lines.pop(); lines.push(line, ''); }
  return lines.join('\n');
}

function setIni(text: string, section: string, key: string, value: string): string {
  if (value.includes('\n')) throw new NoteSealError('INVALID_ARGUMENT', 'an INI value of more than one line cannot be set');
  const lines = text.split('\n');
  let inSection = section === 'DEFAULT'; let sectionEnd = inSection ? 0 : -1;
  for (let i = 0; i < lines.length; i++) {
    const h = /^\s*\[([^\]]*)\]\s*$/.exec(lines[i]!);
    if (h) { if (inSection) break; inSection = h[1]!.trim() === section; if (inSection) sectionEnd = i + 1; continue; }
    if (!inSection) continue;
    const m = /^(\s*([^=:;#]+?)\s*[=:]\s?)/.exec(lines[i]!);
    if (m && m[2] === key) { lines[i] = m[1] + value; return lines.join('\n'); }
    if (lines[i]!.trim() !== '') sectionEnd = i + 1;
  }
  if (sectionEnd < 0) {
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.push('', `[${section}]`, `${key} = ${value}`, '');
    return lines.join('\n');
  }
  lines.splice(sectionEnd, 0, `${key} = ${value}`);
  return lines.join('\n');
}

/** How `set` reads VALUE: a string as given, or (`--json`, as `sops set` does) a JSON value. */
export interface SetValueOptions { json?: boolean }

/** A `--json` VALUE parsed (never shown in an error: it may be a secret). */
function jsonValue(value: string): unknown {
  try { return JSON.parse(value) as unknown; } catch {
    throw new NoteSealError('INVALID_ARGUMENT', 'with --json the value must be JSON, as sops set takes it: a string in double quotes ("…"), a number, true, false, null, an object or a list');
  }
}

/** A `--json` value for a dotenv or INI file, which hold strings only: a number or bool as its JSON text. */
function lineValue(kind: SopsStoreKind, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  throw new NoteSealError('INVALID_ARGUMENT', `a sops ${kind} file holds strings only: --json takes a string, a number or a bool there`);
}

/** The plaintext view with the value at `path` set (added when missing); whether it was added. */
export function setInPlaintext(kind: SopsStoreKind, plaintext: string, path: string, given: string, opts: SetValueOptions = {}): { text: string; added: boolean } {
  const segs = parseKeyPath(path);
  const parsed = opts.json ? jsonValue(given) : given;
  const value = kind === 'dotenv' || kind === 'ini' ? lineValue(kind, parsed) : given;
  if (kind === 'dotenv') {
    if (segs.length !== 1 || typeof segs[0] !== 'string') throw new NoteSealError('INVALID_ARGUMENT', 'a dotenv file has no nesting: KEY is one name');
    const added = !plaintext.split('\n').some(l => !l.startsWith('#') && l.slice(0, l.indexOf('=')) === segs[0]);
    return { text: setDotenv(plaintext, segs[0], value), added };
  }
  if (kind === 'ini') {
    const [section, key] = segs.length === 1 ? ['DEFAULT', segs[0]] : segs;
    if (segs.length > 2 || typeof section !== 'string' || typeof key !== 'string') throw new NoteSealError('INVALID_ARGUMENT', 'an INI key path is section.key');
    return { text: setIni(plaintext, section, key, value), added: false };
  }
  const doc = parseDocument(plaintext, { intAsBigInt: true });
  if (doc.errors.length) throw new NoteSealError('INVALID_ARGUMENT', `the document is not valid ${kind === 'json' ? 'JSON' : 'YAML'}`);
  let node: unknown = doc.contents;
  for (const [i, seg] of segs.slice(0, -1).entries()) {
    const next = isMap(node) || isSeq(node) ? node.get(seg, true) : undefined;
    if (next === undefined) break;
    if (!isMap(next) && !isSeq(next)) throw new NoteSealError('INVALID_ARGUMENT', `${segs.slice(0, i + 1).join('.')} holds a value, not a mapping or list`);
    node = next;
  }
  const added = !doc.hasIn(segs);
  if (typeof segs[0] === 'number' && !isSeq(doc.contents)) throw new NoteSealError('INVALID_ARGUMENT', 'the top level is a mapping: the path starts with a key');
  const last = segs[segs.length - 1]!;
  const parent = segs.length > 1 ? doc.getIn(segs.slice(0, -1), true) : doc.contents;
  if (typeof last === 'number' && parent !== undefined && !(isSeq(parent) && last <= parent.items.length)) throw new NoteSealError('INVALID_ARGUMENT', `no list item [${last}] to set at ${path}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  // A JSON value goes in as the node YAML reads from that text (JSON is YAML): integers stay exact (BigInt).
  doc.setIn(segs, opts.json ? parseDocument(given, { intAsBigInt: true }).contents : value);
  // A JSON document comes back in YAML syntax: the JSON store reads YAML (a superset) and prints JSON.
  return { text: doc.toString({ lineWidth: 0, indent: 4 }), added };
}

/**
 * One value of a sops file's bytes set (added when missing) and the file re-encrypted exactly as a save in
 * VS Code does: same data key, options and recipients, unchanged values keep their ciphertexts, new MAC and
 * `lastmodified`. The CLI's `set` and VS Code's Set Value… both come here. The value is never in an error.
 */
export async function setSopsValue(bytes: Uint8Array, keys: KeysAtHand, file: string, path: string, given: string, opts: SetValueOptions = {}): Promise<{ bytes: Buffer; added: boolean }> {
  const opened = await sopsFormat.open(bytes, keys, file);
  try {
    const next = setInPlaintext(opened.saveState.kind, opened.plaintext.toString('utf8'), path, given, opts);
    opened.plaintext.fill(0);
    return { bytes: await sopsFormat.save(Buffer.from(next.text, 'utf8'), opened.saveState), added: next.added };
  } finally { opened.plaintext.fill(0); wipe(opened.saveState.dataKey); }
}
