// The three-way text merge behind `noteseal git merge-driver`: pure, in memory, no I/O.
// node-diff3 (bhousel/node-diff3, MIT, maintained, no dependencies; the Khanna–Kunal–Pierce diff3 that GNU
// diff3 and git's xdiff also follow) does the region analysis; this module splits lines, keeps their
// endings, and writes git's standard conflict markers, so VS Code's merge-conflict support recognizes them.
import { diff3Merge } from 'node-diff3';

export const MARKER_SIZE = 7;

export interface TextMerge {
  text: string;
  /** Conflicting regions written with markers; 0 means a clean merge. */
  conflicts: number;
}

/** Lines with their terminators (`\n` or `\r\n`), so the merge keeps endings and a missing final newline. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** True when `bytes` look like text we can merge: valid UTF-8 with no NUL byte. */
export function isMergeableText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); return true; } catch { return false; }
}

function eolOf(lines: readonly string[]): string {
  return lines.some(l => l.endsWith('\r\n')) ? '\r\n' : '\n';
}

/** A conflict side, ended by a newline so the marker after it starts its own line. */
function block(lines: readonly string[], eol: string): string {
  const text = lines.join('');
  return text === '' || text.endsWith('\n') ? text : text + eol;
}

/**
 * Merges `ours` and `theirs`, both derived from `base`. Changes on different lines merge; the same change on
 * both sides is taken once; different changes to the same lines become
 * `<<<<<<< ours` … `=======` … `>>>>>>> theirs`, as git writes them.
 */
export function mergeText(ours: string, base: string, theirs: string, labels = { ours: 'ours', theirs: 'theirs' }): TextMerge {
  const a = splitLines(ours);
  const o = splitLines(base);
  const b = splitLines(theirs);
  const eol = eolOf(a);
  const lt = '<'.repeat(MARKER_SIZE);
  const eq = '='.repeat(MARKER_SIZE);
  const gt = '>'.repeat(MARKER_SIZE);
  let text = '';
  let conflicts = 0;
  for (const region of diff3Merge(a, o, b, { excludeFalseConflicts: true })) {
    if (region.ok) { text += region.ok.join(''); continue; }
    const c = region.conflict!;
    conflicts++;
    if (text !== '' && !text.endsWith('\n')) text += eol;
    text += `${lt} ${labels.ours}${eol}${block(c.a, eol)}${eq}${eol}${block(c.b, eol)}${gt} ${labels.theirs}${eol}`;
  }
  return { text, conflicts };
}
