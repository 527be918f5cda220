// The search engine shared by the worker (VS Code's search view) and the CLI (`noteseal grep`): lists the
// notes below the roots, gets each one's plaintext (from the cache, else decrypted by the caller's
// `open`), skips binary content, and matches. Decrypts run a few at a time ahead of the matcher, which
// takes the notes in order, so results come in a stable order and the result limit is exact. A note that
// cannot be opened (damaged, another keyfile, a shredded key) is listed as a failure and the search goes
// on; anything else (locked, a refused agent) ends it. Plaintext the cache does not keep is zeroed.
import fs from 'node:fs';
import path from 'node:path';
import { isNoteSealError } from '../crypto/errors';
import { SEARCH_MAX_RESULTS, type SearchFailure, type SearchFileResult, type SearchQuery, type SearchSummary } from '../protocol';
import { fileIdentity, type PlaintextCache } from './cache';
import { pathFilter } from './globs';
import { decodeNote, isBinary, matchText, reportMatches, type MatchOptions, type MatchSpans, type TextMatches } from './matcher';
import { compileQuery } from './query';
import { listNotes, type NoteFile } from './walk';

export interface SearchRun {
  query: SearchQuery;
  roots: readonly string[];
  /** Decrypts a note's sealed file (`.enc` or `.age`); the buffer returned is the engine's to zero. */
  open(encPath: string): Promise<Buffer>;
  cache?: PlaintextCache;
  /** A note with matches; `note` says which file on disk it is (`.enc` or `.age`). */
  onFile?(result: SearchFileResult, note: NoteFile): void;
  onProgress?(searched: number, total: number): void;
  isCancelled?(): boolean;
  /** Characters of a long line shown around its matches (default 250; Infinity for whole lines). */
  previewChars?: number;
  /** Neighbour lines before and after each matching line (default 1). */
  contextLines?: number;
  /** Notes decrypted ahead of the matcher (default 16). */
  concurrency?: number;
  /**
   * Runs the query elsewhere (the worker's matcher thread, threadMatcher.ts) instead of on this thread, so a
   * pattern that backtracks for ever cannot stall the caller: the spans of up to `maxMatches` matches, from
   * which the report is built here. `data` stays ours and unchanged until the answer.
   */
  scan?(data: Buffer, maxMatches: number, note: NoteFile): Promise<MatchSpans | 'binary'>;
}

type Loaded =
  | { kind: 'text'; data: Buffer; owned: boolean; scanned?: Promise<MatchSpans | 'binary'> }
  | { kind: 'empty' }
  | { kind: 'failed'; failure: SearchFailure };

/** Errors that belong to one note; anything else (LOCKED, an agent refusal, a bug) ends the search. */
function noteFailure(note: NoteFile, e: unknown): SearchFailure | undefined {
  const err = e as NodeJS.ErrnoException;
  if (isNoteSealError(e) || (typeof err?.code === 'string' && typeof err.syscall === 'string')) {
    return { path: note.path, code: String(err.code), message: err.message };
  }
  return undefined;
}

/** At most `n` calls of `fn` at a time. */
function limited<A, R>(n: number, fn: (a: A) => Promise<R>): (a: A) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async a => {
    while (running >= n) await new Promise<void>(r => waiting.push(r));
    running++;
    try { return await fn(a); } finally { running--; waiting.shift()?.(); }
  };
}

/** Plaintext a search holds outside the cache (notes loaded ahead, not kept by the cache) before it stops loading more. */
const AHEAD_BYTES = 64 * 1024 * 1024;

async function load(run: SearchRun, note: NoteFile): Promise<Loaded> {
  try {
    // Synchronous: a stat is microseconds, and thousands of them through the thread pool cost more than the
    // search itself on a repeated search (the matcher loop yields to the event loop instead, see runSearch).
    const stat = fs.lstatSync(note.encPath); // a link is refused by run.open (crypto/safe-open.ts), never followed
    if (stat.size === 0) return { kind: 'empty' }; // a new note, never sealed (encFileSystem.ts)
    const identity = fileIdentity(stat);
    const cached = run.cache?.get(note.encPath, identity);
    if (cached) return { kind: 'text', data: cached, owned: false };
    const epoch = run.cache?.epoch ?? 0;
    const data = await run.open(note.encPath);
    if (run.cache?.put(note.encPath, identity, data, epoch)) {
      data.fill(0);
      const kept = run.cache.get(note.encPath, identity);
      if (kept) return { kind: 'text', data: kept, owned: false };
    }
    return { kind: 'text', data, owned: true };
  } catch (e) {
    const failure = noteFailure(note, e);
    if (failure) return { kind: 'failed', failure };
    throw e;
  }
}

export async function runSearch(run: SearchRun): Promise<SearchSummary> {
  const started = performance.now();
  const re = compileQuery(run.query);
  const filter = pathFilter(run.query.include, run.query.exclude);
  const { notes, recordings, present } = await listNotes(run.roots, filter);
  const roots = run.roots.map(r => path.resolve(r) + path.sep);
  run.cache?.retainOnly(present, f => roots.some(r => f.startsWith(r)));
  const summary: SearchSummary = {
    totalFiles: notes.length, searchedFiles: 0, matchedFiles: 0, matches: 0, skippedBinary: 0,
    skippedRecordings: recordings, failed: [], limitHit: false, cancelled: false, elapsedMs: 0,
  };
  const maxResults = Math.max(1, run.query.maxResults ?? SEARCH_MAX_RESULTS);
  const ahead = Math.max(1, run.concurrency ?? 16);
  // Decrypts run `ahead` at a time; with a matcher elsewhere the notes queued for it go further ahead (cached
  // notes cost no memory; others are bounded by AHEAD_BYTES), so it gets large batches instead of round trips.
  const depth = run.scan ? Math.max(ahead, 512) : ahead;
  const open = limited(ahead, run.open);
  const loadRun: SearchRun = { ...run, open };
  let aheadBytes = 0;
  const options = (maxMatches: number): MatchOptions => ({ maxMatches, previewChars: run.previewChars ?? 250, contextLines: run.contextLines ?? 1 });
  // With a scanner elsewhere, each note is sent on as soon as it is loaded (with the whole limit: the report
  // below takes exactly the rest), so the scanner works while we wait.
  const scanAhead = (note: NoteFile, l: Loaded): Loaded => {
    if (l.kind === 'text' && l.owned) aheadBytes += l.data.length;
    if (l.kind !== 'text' || !run.scan) return l;
    const scanned = run.scan(l.data, maxResults, note);
    scanned.catch(() => undefined); // taken when the loop reaches this note, or never (the search ended first)
    return { ...l, scanned };
  };
  const pending: Promise<Loaded>[] = [];
  let yieldedAt = performance.now();
  let next = 0;
  const fill = () => {
    while (re && pending.length < depth && next < notes.length && aheadBytes < AHEAD_BYTES) {
      const note = notes[next++]!;
      const p = load(loadRun, note).then(l => scanAhead(note, l));
      p.catch(() => undefined); // rejections are taken when the matcher reaches them (or by drain)
      pending.push(p);
    }
  };
  // Loads already started but not taken: their plaintext is zeroed when the search ends early.
  const drain = async () => {
    for (const p of pending.splice(0)) {
      const r = await p.catch(() => undefined);
      if (r?.kind === 'text' && r.owned) { await r.scanned?.catch(() => undefined); r.data.fill(0); }
    }
  };
  try {
    fill();
    for (let i = 0; re && i < notes.length; i++) {
      // Notes served from the cache never wait on I/O: let cancel requests and other messages in now and then.
      if (performance.now() - yieldedAt > 20) { await new Promise(r => setImmediate(r)); yieldedAt = performance.now(); }
      if (run.isCancelled?.()) { summary.cancelled = true; break; }
      const loaded = await pending.shift()!;
      fill();
      summary.searchedFiles++;
      if (loaded.kind === 'failed') { summary.failed.push(loaded.failure); continue; }
      if (loaded.kind === 'empty') continue;
      try {
        const rest = maxResults - summary.matches;
        let found: TextMatches | 'binary';
        if (loaded.scanned) {
          const spans = await loaded.scanned;
          found = spans === 'binary' ? 'binary' : reportMatches(decodeNote(loaded.data), spans, options(rest));
        } else found = isBinary(loaded.data) ? 'binary' : matchText(decodeNote(loaded.data), re, options(rest));
        if (found === 'binary') { summary.skippedBinary++; continue; }
        if (found.matches > 0) {
          summary.matchedFiles++;
          summary.matches += found.matches;
          const note = notes[i]!;
          run.onFile?.({ path: note.path, relativePath: note.relativePath, lines: found.lines, context: found.context, matches: found.matches }, note);
        }
        if (found.truncated || summary.matches >= maxResults) { summary.limitHit = found.truncated || i < notes.length - 1; break; }
      } finally {
        if (loaded.owned) { loaded.data.fill(0); aheadBytes -= loaded.data.length; }
      }
      run.onProgress?.(summary.searchedFiles, summary.totalFiles);
    }
  } finally {
    await drain();
  }
  run.onProgress?.(summary.searchedFiles, summary.totalFiles);
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}
