// The search matcher's own thread (bundled as dist/searchThread.js): the worker's main thread decrypts, this
// thread decodes and matches. A regular expression can backtrack for ever on some text ((a+)+$ on a long line
// of a's), and V8 cannot interrupt a running match; here it can only stall this thread, which the worker then
// terminates (threadMatcher.ts), while saves, locking and the agent go on. Each note's bytes are a copy made
// for this thread, zeroed after the match; nothing is kept between notes but the compiled queries.
import { parentPort } from 'node:worker_threads';
import type { SearchQuery } from '../protocol';
import { decodeNote, isBinary, matchText, type MatchOptions, type TextMatches } from './matcher';
import { compileQuery, QueryError } from './query';

export type ToMatchThread =
  | { kind: 'query'; search: number; query: Pick<SearchQuery, 'pattern' | 'isRegex' | 'matchCase' | 'wholeWord'> }
  | { kind: 'match'; search: number; seq: number; data: Uint8Array; opts: MatchOptions }
  | { kind: 'end'; search: number };

export type FromMatchThread =
  | { seq: number; result: TextMatches | 'binary' }
  | { seq: number; error: string };

if (parentPort) {
  const port = parentPort;
  const queries = new Map<number, RegExp | null>();
  port.on('message', (m: ToMatchThread) => {
    if (m.kind === 'query') {
      try { queries.set(m.search, compileQuery(m.query)); } catch (e) { if (!(e instanceof QueryError)) throw e; queries.set(m.search, null); }
      return;
    }
    if (m.kind === 'end') { queries.delete(m.search); return; }
    const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    try {
      const re = queries.get(m.search);
      if (!re) { port.postMessage({ seq: m.seq, error: 'no query for this search' } satisfies FromMatchThread); return; }
      const result = isBinary(data) ? 'binary' : matchText(decodeNote(data), re, m.opts);
      port.postMessage({ seq: m.seq, result } satisfies FromMatchThread);
    } catch (e) {
      port.postMessage({ seq: m.seq, error: (e as Error).message } satisfies FromMatchThread);
    } finally {
      data.fill(0);
    }
  });
}
