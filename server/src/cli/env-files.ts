// The variables of a decrypted config file, for `noteseal exec`: dotenv, a flat JSON object, or a flat
// YAML mapping (a small strict parser for that subset, so no YAML dependency), or the INI view of a sops
// INI file (read as sops reads INI). Error messages name the line and the key, never a value: the text is
// a secret.
import { iniDocument } from '../formats/sops-lines';
import { SopsParseError } from '../formats/sops-yaml';

export type EnvFormat = 'dotenv' | 'json' | 'yaml' | 'ini';

export class EnvFileError extends Error {
  override readonly name = 'EnvFileError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** By the name inside the .enc: *.json -> json, *.yaml / *.yml -> yaml, anything else (.env, x.env) -> dotenv. */
export function envFormatOf(file: string): EnvFormat {
  const inner = file.replace(/\.(enc|age)$/i, '').toLowerCase();
  if (inner.endsWith('.json')) return 'json';
  if (inner.endsWith('.yaml') || inner.endsWith('.yml')) return 'yaml';
  return 'dotenv';
}

function checkName(name: string, where: string): void {
  if (!NAME.test(name)) throw new EnvFileError(`${where}: ${JSON.stringify(name.slice(0, 64))} is not a variable name (letters, digits, _)`);
}

function checkValue(name: string, value: string): string {
  if (value.includes('\0')) throw new EnvFileError(`${name}: a value cannot hold a NUL byte`);
  return value;
}

export function parseEnvText(text: string, format: EnvFormat): Map<string, string> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  switch (format) {
    case 'dotenv': return parseDotenv(text);
    case 'json': return parseFlatJson(text);
    case 'yaml': return parseFlatYaml(text);
    case 'ini': return parseIni(text);
  }
}

/**
 * INI (only for sops INI files, whose store NoteSeal shares): every `key = value` of every section by its key
 * (`[default] aws_access_key_id = …` gives aws_access_key_id), the section headers only grouping them, as the
 * AWS-style credentials files that sops INI files usually are. A key in two sections is refused (which one
 * would be meant?), as is a key that is not a variable name. sops's own exec-env refuses INI files outright
 * (their values are nested in sections).
 */
function parseIni(text: string): Map<string, string> {
  let doc;
  try { doc = iniDocument(text); } catch (e) {
    if (e instanceof SopsParseError) throw new EnvFileError(e.message);
    throw e;
  }
  const vars = new Map<string, string>();
  const seen = new Map<string, string>();
  const root = doc.branches[0]!;
  for (const section of root.kind === 'map' ? root.items : []) {
    if (section.kind !== 'item' || section.value.kind !== 'map') continue;
    for (const item of section.value.items) {
      if (item.kind !== 'item' || item.value.kind !== 'leaf' || !item.value.value) continue;
      const where = `[${section.key}]`;
      checkName(item.key, where);
      const before = seen.get(item.key);
      if (before !== undefined) throw new EnvFileError(`${item.key} is in ${before === where ? `${where} twice` : `both ${before} and ${where}`}: exec takes each name once`);
      seen.set(item.key, where);
      vars.set(item.key, checkValue(item.key, item.value.value.text));
    }
  }
  return vars;
}

const DOUBLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/** Lines KEY=value; `export ` allowed; # comments; '…' literal, "…" with \n \t \r \" \\ \$; quoted values may span lines. Later keys win. */
function parseDotenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new EnvFileError(`line ${lineNo}: expected NAME=value`);
    const name = m[1]!;
    checkName(name, `line ${lineNo}`);
    let rest = m[2]!;
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // Find the closing quote, reading further lines for a multi-line value.
      let body = rest.slice(1);
      let out = '';
      for (;;) {
        let j = 0;
        let closed = false;
        while (j < body.length) {
          const c = body[j]!;
          if (c === quote) { closed = true; break; }
          if (quote === '"' && c === '\\' && j + 1 < body.length) {
            const e = body[j + 1]!;
            out += DOUBLE_ESCAPES[e] ?? '\\' + e;
            j += 2;
            continue;
          }
          out += c;
          j++;
        }
        if (closed) { rest = body.slice(j + 1).trim(); break; }
        if (++i >= lines.length) throw new EnvFileError(`line ${lineNo}: ${name}: the quoted value never ends`);
        out += body.slice(j) + '\n';
        body = lines[i]!;
      }
      if (rest !== '' && !rest.startsWith('#')) throw new EnvFileError(`line ${lineNo}: ${name}: unexpected text after the quoted value`);
      value = out;
    } else {
      const comment = rest.search(/\s#/);
      value = (comment >= 0 ? rest.slice(0, comment) : rest).trim();
    }
    vars.set(name, checkValue(name, value));
  }
  return vars;
}

/** A flat object of strings, numbers and booleans; nested objects, arrays and null are refused (not flattened). */
function parseFlatJson(text: string): Map<string, string> {
  let doc: unknown;
  // JSON.parse's message quotes the text: replace it, the text is secret.
  try { doc = JSON.parse(text); } catch { throw new EnvFileError('not valid JSON'); }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new EnvFileError('the JSON must be an object of NAME: value');
  const vars = new Map<string, string>();
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    checkName(name, 'JSON key');
    if (typeof value === 'string') vars.set(name, checkValue(name, value));
    else if (typeof value === 'number' || typeof value === 'boolean') vars.set(name, String(value));
    else throw new EnvFileError(`${name}: ${value === null ? 'null' : 'nested values'} are not supported (exec takes a flat object of strings, numbers and booleans)`);
  }
  return vars;
}

const YAML_DOUBLE_ESCAPES: Record<string, string> = { ...DOUBLE_ESCAPES, '0': '\0', '/': '/', ' ': ' ' };

/**
 * The flat subset of YAML: `NAME: value` lines at column 0, # comments, an optional leading `---`.
 * Values are plain (taken as written: `true` stays the text true), 'single' ('' for ') or "double"
 * quoted (\n \t \r \" \\ \uXXXX). Refused: indentation (nesting), sequences, flow collections, block
 * scalars, anchors, aliases, tags, empty or null values, duplicate keys, several documents.
 */
function parseFlatYaml(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  let seenContent = false;
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed === '---' || trimmed.startsWith('--- ')) {
      if (seenContent) throw new EnvFileError(`${where}: several YAML documents are not supported`);
      seenContent = true;
      if (trimmed !== '---') throw new EnvFileError(`${where}: expected NAME: value on its own line`);
      continue;
    }
    if (trimmed === '...') { if (lines.slice(i + 1).some(l => l.trim() !== '' && !l.trim().startsWith('#'))) throw new EnvFileError(`${where}: several YAML documents are not supported`); break; }
    seenContent = true;
    if (/^\s/.test(raw)) throw new EnvFileError(`${where}: indented lines (nested or continued values) are not supported`);
    if (raw.startsWith('- ') || raw === '-') throw new EnvFileError(`${where}: sequences are not supported (exec takes a flat mapping)`);
    const m = /^([^\s:#][^:]*?):(?:\s+(.*))?$/.exec(raw);
    if (!m) throw new EnvFileError(`${where}: expected NAME: value`);
    const name = m[1]!;
    checkName(name, where);
    if (vars.has(name)) throw new EnvFileError(`${where}: ${name} appears twice`);
    const value = yamlScalar((m[2] ?? '').trim(), `${where}: ${name}`);
    vars.set(name, checkValue(name, value));
  }
  return vars;
}

function yamlScalar(text: string, where: string): string {
  if (text === '' || text.startsWith('#')) throw new EnvFileError(`${where}: no value (nested mappings and null are not supported)`);
  if (text[0] === "'") {
    let out = '';
    let j = 1;
    for (;;) {
      if (j >= text.length) throw new EnvFileError(`${where}: the quoted value never ends (multi-line values are not supported)`);
      if (text[j] === "'") { if (text[j + 1] === "'") { out += "'"; j += 2; continue; } break; }
      out += text[j++];
    }
    afterQuoted(text.slice(j + 1), where);
    return out;
  }
  if (text[0] === '"') {
    let out = '';
    let j = 1;
    for (;;) {
      if (j >= text.length) throw new EnvFileError(`${where}: the quoted value never ends (multi-line values are not supported)`);
      const c = text[j]!;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(j + 2, j + 6))) { out += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16)); j += 6; continue; }
        if (e === undefined || !(e in YAML_DOUBLE_ESCAPES)) throw new EnvFileError(`${where}: an escape sequence this parser does not know`);
        out += YAML_DOUBLE_ESCAPES[e];
        j += 2;
        continue;
      }
      out += c;
      j++;
    }
    afterQuoted(text.slice(j + 1), where);
    return out;
  }
  if (/^[[\]{}&*!|>%@`]/.test(text) || text.startsWith('- ')) {
    throw new EnvFileError(`${where}: flow collections, block scalars, anchors, aliases and tags are not supported (quote the value)`);
  }
  const comment = text.search(/\s#/);
  const plain = (comment >= 0 ? text.slice(0, comment) : text).trim();
  if (/:\s/.test(plain) || plain.endsWith(':')) throw new EnvFileError(`${where}: a plain value cannot hold ": " (quote the value)`);
  if (plain === '~' || /^(null|Null|NULL)$/.test(plain)) throw new EnvFileError(`${where}: null is not supported (quote it for the text)`);
  return plain;
}

function afterQuoted(rest: string, where: string): void {
  const r = rest.trim();
  if (r !== '' && !r.startsWith('#')) throw new EnvFileError(`${where}: unexpected text after the quoted value`);
}
