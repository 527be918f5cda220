// The search matcher's own thread (bundled as dist/searchThread.js): the worker's main thread decrypts, this
// thread decodes and runs the query, and sends back where it matched (the report is built from that). A
// regular expression can backtrack for ever on some text ((a+)+$ on a long line of a's), and V8 cannot
// interrupt a running match; here it can only stall this thread, which the worker then
// terminates (threadMatcher.ts), while saves, locking and the agent go on. A batch's notes arrive copied into
// one transferred buffer, zeroed once the batch is matched; nothing is kept between batches but the queries.
import { parentPort } from 'node:worker_threads';
import { decodeNote, isBinary, scanMatches, type MatchSpans } from './matcher';
import { compileQuery, QueryError, type QueryPattern } from './query';

/** One note of a batch: its bytes are `length` bytes at `offset` of the batch's buffer. */
export interface MatchItem { search: number; seq: number; offset: number; length: number; maxMatches: number }

export type ToMatchThread =
  | { kind: 'query'; search: number; query: QueryPattern }
  /** Notes in the order the engine takes them; `progress[0]` is set to each one's seq as its match starts. */
  | { kind: 'match'; items: MatchItem[]; data: ArrayBuffer }
  | { kind: 'end'; search: number }
  | { kind: 'progress'; progress: Int32Array };

/** `result` null: no match (most notes; kept small). Only spans come back: the report is built by the caller. */
export type MatchAnswer = { seq: number; result: MatchSpans | 'binary' | null } | { seq: number; error: string };
export interface FromMatchThread { answers: MatchAnswer[] }

/** Answers go back at least this often while a batch is long (a few large notes), so results stream. */
const ANSWER_EVERY_MS = 20;

if (parentPort) {
  const port = parentPort;
  const queries = new Map<number, RegExp | null>();
  let progress: Int32Array | undefined;
  const matchOne = (m: MatchItem, batch: ArrayBuffer): MatchAnswer => {
    const data = Buffer.from(batch, m.offset, m.length);
    try {
      const re = queries.get(m.search);
      if (!re) return { seq: m.seq, error: 'no query for this search' };
      if (progress) Atomics.store(progress, 0, m.seq);
      if (isBinary(data)) return { seq: m.seq, result: 'binary' };
      const found = scanMatches(decodeNote(data), re, m.maxMatches);
      return { seq: m.seq, result: found.spans.length ? found : null };
    } catch (e) {
      return { seq: m.seq, error: (e as Error).message };
    }
  };
  port.on('message', (m: ToMatchThread) => {
    if (m.kind === 'progress') { progress = m.progress; return; }
    if (m.kind === 'query') {
      try { queries.set(m.search, compileQuery(m.query)); } catch (e) { if (!(e instanceof QueryError)) throw e; queries.set(m.search, null); }
      return;
    }
    if (m.kind === 'end') { queries.delete(m.search); return; }
    let answers: MatchAnswer[] = [];
    let sentAt = performance.now();
    try {
      for (const item of m.items) {
        answers.push(matchOne(item, m.data));
        if (performance.now() - sentAt > ANSWER_EVERY_MS) { port.postMessage({ answers } satisfies FromMatchThread); answers = []; sentAt = performance.now(); }
      }
    } finally {
      new Uint8Array(m.data).fill(0);
    }
    if (answers.length) port.postMessage({ answers } satisfies FromMatchThread);
  });
}
