// Finds the matches of a compiled query in one note's text and reports them per line, with neighbour lines
// for context. Lines end at `\n`; a `\r` before it is not part of the line (CRLF notes). A match never spans
// lines: it is clipped at its line's end, and a match that is empty (after clipping) is not reported, so
// `^`, `$` or `a*` alone find nothing to highlight. Very long lines are reported as a window around their
// matches, so a single-line 100 MiB note costs a bounded result. Pure.
import type { SearchContextLine, SearchLine } from '../protocol';

export interface MatchOptions {
  /** Stop after this many matches in this text. */
  maxMatches: number;
  /** Characters of a line shown around its matches (Infinity: the whole line, as grep prints it). */
  previewChars: number;
  /** Neighbour lines reported before and after each matching line. */
  contextLines: number;
}

export interface TextMatches {
  lines: SearchLine[];
  context: SearchContextLine[];
  matches: number;
  /** maxMatches was reached: there may be more. */
  truncated: boolean;
}

/** Plaintext with a NUL byte is binary (git and ripgrep use the same rule): not searched. */
export function isBinary(plaintext: Uint8Array): boolean {
  return plaintext.indexOf(0) !== -1;
}

/** The text VS Code's editor shows for these bytes: UTF-8, without a byte order mark. */
export function decodeNote(plaintext: Buffer): string {
  const text = plaintext.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** End of the line starting at `start`, without its `\r\n` or `\n`. */
function lineEnd(text: string, start: number): number {
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  return end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/** A window of at most `width` characters of [start, end) that shows `from` with some text before it. */
function window(start: number, end: number, from: number, width: number): [number, number] {
  if (end - start <= width) return [start, end];
  let a = Math.max(start, from - Math.min(40, Math.floor(width / 4)));
  const b = Math.min(end, a + width);
  a = Math.max(start, b - width);
  return [a, b];
}

function clip(text: string, start: number, end: number, width: number): string {
  const [a, b] = window(start, end, start, width);
  return text.slice(a, b);
}

export function matchText(text: string, re: RegExp, opts: MatchOptions): TextMatches {
  const lines: SearchLine[] = [];
  const contextWanted = new Set<number>();
  const lineStarts = new Map<number, number>(); // line → start offset, for the lines we report or show
  let matches = 0;
  let truncated = false;
  // The line the scan is in: its number and start offset; advanced with indexOf('\n'), so linear overall.
  let lineNo = 0, lineStart = 0, nextBreak = text.indexOf('\n');
  let current: { line: SearchLine; start: number; end: number } | undefined;
  const flush = () => {
    if (!current) return;
    const { line, start, end } = current;
    const [a, b] = window(start, end, start + line.ranges[0]![0], opts.previewChars);
    line.text = text.slice(a, b);
    line.textStart = a - start;
    lines.push(line);
    current = undefined;
  };
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index;
    let end = at + m[0].length;
    if (end === at) re.lastIndex = at + (text.codePointAt(at)! > 0xffff ? 2 : 1); // an empty match: move on
    while (nextBreak !== -1 && nextBreak < at) { lineNo++; lineStart = nextBreak + 1; nextBreak = text.indexOf('\n', lineStart); }
    const eol = lineEnd(text, lineStart);
    if (end > eol) end = eol;
    if (end <= at) continue;
    if (current && current.line.line !== lineNo) flush();
    if (!current) {
      current = { line: { line: lineNo, text: '', textStart: 0, ranges: [] }, start: lineStart, end: eol };
      lineStarts.set(lineNo, lineStart);
    }
    current.line.ranges.push([at - lineStart, end - lineStart]);
    // A match that ran past its line end was clipped there: the scan resumes at the next line's start.
    if (at + m[0].length > eol && nextBreak !== -1) re.lastIndex = nextBreak + 1;
    if (++matches >= opts.maxMatches) { truncated = re.exec(text) !== null; break; }
  }
  flush();
  if (opts.contextLines > 0) {
    for (const l of lines) for (let d = 1; d <= opts.contextLines; d++) { contextWanted.add(l.line - d); contextWanted.add(l.line + d); }
    for (const l of lines) contextWanted.delete(l.line);
  }
  return { lines, context: contextLinesOf(text, lines, contextWanted, lineStarts, opts.previewChars), matches, truncated };
}

/** The text of the wanted neighbour lines, found by walking out from the matching lines' known starts. */
function contextLinesOf(text: string, lines: SearchLine[], wanted: Set<number>, starts: Map<number, number>, width: number): SearchContextLine[] {
  const out: SearchContextLine[] = [];
  const done = new Set<number>();
  for (const l of lines) {
    const base = starts.get(l.line)!;
    // Lines before: step back over line breaks.
    let s = base;
    for (let n = l.line - 1; n >= 0 && wanted.has(n) && s > 0; n--) {
      const prevStart = s >= 2 ? text.lastIndexOf('\n', s - 2) + 1 : 0;
      if (!done.has(n)) { done.add(n); out.push({ line: n, text: clip(text, prevStart, lineEnd(text, prevStart), width) }); }
      s = prevStart;
    }
    // Lines after.
    let e = text.indexOf('\n', base);
    for (let n = l.line + 1; wanted.has(n) && e !== -1; n++) {
      const nextStart = e + 1;
      if (!done.has(n)) { done.add(n); out.push({ line: n, text: clip(text, nextStart, lineEnd(text, nextStart), width) }); }
      e = text.indexOf('\n', nextStart);
    }
  }
  return out.sort((a, b) => a.line - b.line);
}
