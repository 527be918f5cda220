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

/** Where a query matches: [start, end) pairs in `text`, clipped at line ends, empty ones dropped; at most `maxMatches`. */
export interface MatchSpans { spans: number[]; truncated: boolean }

/**
 * Runs the query over `text`: the only part of a search that can take for ever (a pattern that backtracks), so
 * the worker runs it in a thread of its own (matchThread.ts) and builds the report from the spans here.
 */
export function scanMatches(text: string, re: RegExp, maxMatches: number): MatchSpans {
  const spans: number[] = [];
  let truncated = false;
  // The line the scan is in: its start offset; advanced with indexOf('\n'), so linear overall.
  let lineStart = 0, nextBreak = text.indexOf('\n');
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index;
    let end = at + m[0].length;
    if (end === at) re.lastIndex = at + (text.codePointAt(at)! > 0xffff ? 2 : 1); // an empty match: move on
    while (nextBreak !== -1 && nextBreak < at) { lineStart = nextBreak + 1; nextBreak = text.indexOf('\n', lineStart); }
    const eol = lineEnd(text, lineStart);
    if (end > eol) end = eol;
    if (end <= at) continue;
    spans.push(at, end);
    // A match that ran past its line end was clipped there: the scan resumes at the next line's start.
    if (at + m[0].length > eol && nextBreak !== -1) re.lastIndex = nextBreak + 1;
    if (spans.length / 2 >= maxMatches) { truncated = re.exec(text) !== null; break; }
  }
  return { spans, truncated };
}

/** The report of `found` (from scanMatches on this same text): matching lines with their ranges, and neighbours. */
export function reportMatches(text: string, found: MatchSpans, opts: MatchOptions): TextMatches {
  const lines: SearchLine[] = [];
  const starts: number[] = []; // the start offset of each reported line
  const count = Math.min(found.spans.length / 2, opts.maxMatches);
  let lineNo = 0, lineStart = 0, nextBreak = text.indexOf('\n');
  let current: { line: SearchLine; start: number; end: number } | undefined;
  const flush = () => {
    if (!current) return;
    const { line, start, end } = current;
    const [a, b] = window(start, end, start + line.ranges[0]![0], opts.previewChars);
    line.text = text.slice(a, b);
    line.textStart = a - start;
    lines.push(line);
    starts.push(start);
    current = undefined;
  };
  for (let k = 0; k < count; k++) {
    const at = found.spans[2 * k]!, end = found.spans[2 * k + 1]!;
    while (nextBreak !== -1 && nextBreak < at) { lineNo++; lineStart = nextBreak + 1; nextBreak = text.indexOf('\n', lineStart); }
    if (current && current.line.line !== lineNo) flush();
    current ??= { line: { line: lineNo, text: '', textStart: 0, ranges: [] }, start: lineStart, end: lineEnd(text, lineStart) };
    current.line.ranges.push([at - lineStart, end - lineStart]);
  }
  flush();
  const truncated = found.truncated || found.spans.length / 2 > opts.maxMatches;
  return { lines, context: opts.contextLines > 0 ? contextLinesOf(text, lines, starts, opts.contextLines, opts.previewChars) : [], matches: count, truncated };
}

export function matchText(text: string, re: RegExp, opts: MatchOptions): TextMatches {
  return reportMatches(text, scanMatches(text, re, opts.maxMatches), opts);
}

/**
 * The neighbours (up to `n` before and after) of the matching lines that are not matching lines themselves,
 * in line order, each once: walked out from each matching line's start, never past the previous one's.
 */
function contextLinesOf(text: string, lines: SearchLine[], starts: number[], n: number, width: number): SearchContextLine[] {
  const out: SearchContextLine[] = [];
  const line = (no: number, start: number) => out.push({ line: no, text: clip(text, start, lineEnd(text, start), width) });
  let shownUpTo = -1; // the last line number reported (as a match or as context)
  for (let i = 0; i < lines.length; i++) {
    const no = lines[i]!.line;
    const start = starts[i]!;
    const before: number[] = [];
    for (let k = no - 1, s = start; k >= Math.max(shownUpTo + 1, no - n) && s > 0; k--) {
      s = s >= 2 ? text.lastIndexOf('\n', s - 2) + 1 : 0;
      before.push(s);
    }
    before.reverse().forEach((s, j) => line(no - before.length + j, s));
    const until = Math.min(no + n, (lines[i + 1]?.line ?? Infinity) - 1);
    let k = no;
    for (let e = text.indexOf('\n', start); k < until && e !== -1; e = text.indexOf('\n', e + 1)) line(++k, e + 1);
    shownUpTo = k;
  }
  return out;
}
