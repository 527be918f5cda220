// Turns a search query (pattern, regex / match case / whole word) into one global RegExp. The pattern is
// the user's; the text it runs over is untrusted (a crafted note), so the pattern is validated here and
// every result is clipped and bounded by the matcher. Pure: no I/O, no VS Code.
import type { SearchQuery } from '../protocol';

/** A query that cannot be compiled (an invalid regular expression): INVALID_ARGUMENT for the worker. */
export class QueryError extends Error {
  readonly code = 'INVALID_ARGUMENT' as const;
}

/** Longer patterns are refused: nobody types them, and they only cost time. */
export const MAX_PATTERN_LENGTH = 10_000;

/** Characters that mean something in a RegExp (with the `u` flag only these may be escaped). */
const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

export function escapeRegExp(literal: string): string {
  return literal.replace(SYNTAX, '\\$&');
}

/** Word characters in any script, so whole word works for `café`, `Straße` or `日本` as well as ASCII. */
const WORD = '[\\p{L}\\p{N}\\p{M}_]';

/** What of a query decides what matches (compileQuery's input; what the matcher thread is sent). */
export type QueryPattern = Pick<SearchQuery, 'pattern' | 'isRegex' | 'matchCase' | 'wholeWord'>;

/**
 * The RegExp for a query, or null for an empty pattern. Flags: g (all matches), m (^ and $ per line),
 * u (code points, \p{…}), i unless match case. A regex that only compiles without `u` (e.g. `\-` or a
 * lone `{`, which VS Code's search accepts too) is used without it.
 */
export function compileQuery(q: QueryPattern): RegExp | null {
  if (q.pattern.length === 0) return null;
  if (q.pattern.length > MAX_PATTERN_LENGTH) throw new QueryError(`The search pattern is longer than ${MAX_PATTERN_LENGTH} characters.`);
  const source = q.isRegex ? q.pattern : escapeRegExp(q.pattern);
  const flags = q.matchCase ? 'gmu' : 'gimu';
  try {
    return new RegExp(q.wholeWord ? `(?<!${WORD})(?:${source})(?!${WORD})` : source, flags);
  } catch (unicodeError) {
    if (!q.isRegex) throw unicodeError; // an escaped literal always compiles
    try {
      return new RegExp(q.wholeWord ? `\\b(?:${source})\\b` : source, flags.replace('u', ''));
    } catch {
      throw new QueryError(`Invalid regular expression: ${(unicodeError as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
}
