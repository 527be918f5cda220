// The text of a dotenvx `.env` file, parsed so that it can be written back byte for byte: every line is kept
// (comments, blank lines, order, line endings), and each KEY=VALUE entry is split into the text before its
// value, the value as written (quotes included) and the text after it. The file comes from a repository and
// is untrusted: a malformed one gives a DotenvxParseError naming the line, never any of its text.
import { NoteSealError } from '../crypto/errors';

export class DotenvxParseError extends NoteSealError {
  constructor(readonly line: number, why: string) {
    super('CORRUPTED', `line ${line}: ${why}`);
  }
}

export type Quote = '"' | "'" | '`' | '';

export interface DotenvxEntry {
  kind: 'entry';
  /** 1-based line the entry starts on. */
  line: number;
  name: string;
  /** Indentation, `export `, the name, `=` and the spaces around it. */
  before: string;
  /** The value as written, quotes included. */
  raw: string;
  quote: Quote;
  /** The value as a program sees it (quotes removed, escapes of a double-quoted value applied). */
  value: string;
  /** Spaces and a `# comment` after the value, and the line ending. */
  after: string;
}

/** Blank and comment lines (and a byte-order mark), kept as written. */
export interface DotenvxText { kind: 'text'; text: string }

export type DotenvxItem = DotenvxEntry | DotenvxText;

export const ENCRYPTED_PREFIX = 'encrypted:';
export const PUBLIC_KEY_NAME = /^DOTENV_PUBLIC_KEY(?:_[A-Za-z0-9_]+)?$/;
const ENTRY_START = /^([ \t]*(?:export[ \t]+)?)([A-Za-z_][A-Za-z0-9_.-]*)([ \t]*=[ \t]*)/;

/** The text of the items, exactly as parsed (or as changed). */
export function serializeDotenvx(items: readonly DotenvxItem[]): string {
  return items.map(i => i.kind === 'text' ? i.text : i.before + i.raw + i.after).join('');
}

/** Splits into lines, each with its own ending ('' for a last line without one). */
function linesOf(text: string): { body: string; eol: string }[] {
  const out: { body: string; eol: string }[] = [];
  const re = /\r\n|\n|\r/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ body: text.slice(at, m.index), eol: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ body: text.slice(at), eol: '' });
  return out;
}

/** The end of a quoted value that starts at `rest[0]`, or -1 when it is not closed in `rest`. */
function closingQuote(rest: string, quote: Quote): number {
  for (let i = 1; i < rest.length; i++) {
    if (quote === '"' && rest[i] === '\\') { i++; continue; }
    if (rest[i] === quote) return i;
  }
  return -1;
}

const UNESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function unescapeDouble(body: string): string {
  return body.replace(/\\(.)/gs, (all, c: string) => UNESCAPES[c] ?? all);
}

export function parseDotenvx(text: string): DotenvxItem[] {
  const items: DotenvxItem[] = [];
  if (text.startsWith('\uFEFF')) { items.push({ kind: 'text', text: '\uFEFF' }); text = text.slice(1); }
  const lines = linesOf(text);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const { body, eol } = lines[i]!;
    if (/^[ \t]*(#.*)?$/s.test(body)) { items.push({ kind: 'text', text: body + eol }); continue; }
    const m = ENTRY_START.exec(body);
    if (!m) throw new DotenvxParseError(lineNo, 'expected KEY=VALUE, a # comment or a blank line');
    const [head, , name] = m as unknown as [string, string, string];
    let rest = body.slice(head.length);
    const first = rest[0];
    if (first === '"' || first === "'" || first === '`') {
      // A quoted value may span lines: join the next ones until the quote closes.
      let end = closingQuote(rest, first);
      let lastEol = eol;
      while (end < 0) {
        if (++i >= lines.length) throw new DotenvxParseError(lineNo, `the value of ${name} opens a ${first} quote that is never closed`);
        rest += lastEol + lines[i]!.body;
        lastEol = lines[i]!.eol;
        end = closingQuote(rest, first);
      }
      const tail = rest.slice(end + 1);
      if (!/^[ \t]*(#.*)?$/s.test(tail)) throw new DotenvxParseError(i + 1, `unexpected text after the closing quote of ${name}`);
      const inner = rest.slice(1, end);
      items.push({ kind: 'entry', line: lineNo, name, before: head, raw: rest.slice(0, end + 1), quote: first, value: first === '"' ? unescapeDouble(inner) : inner, after: tail + lastEol });
      continue;
    }
    // Unquoted: up to a # (as dotenv reads it), surrounding spaces not part of the value.
    const hash = rest.indexOf('#');
    const valuePart = hash < 0 ? rest : rest.slice(0, hash);
    const value = valuePart.trimEnd();
    items.push({ kind: 'entry', line: lineNo, name, before: head, raw: value, quote: '', value, after: rest.slice(value.length) + eol });
  }
  return items;
}

/** A value written so that parseDotenvx reads back exactly `value` (the plain view and new entries). */
export function quoteValue(value: string): string {
  if (!/["\\\r\n]/.test(value)) return `"${value}"`;
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  return `"${value.replace(/[\\"\n\r]/g, c => c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`)}"`;
}

export function entriesOf(items: readonly DotenvxItem[]): DotenvxEntry[] {
  return items.filter((i): i is DotenvxEntry => i.kind === 'entry');
}
