// Runs the search's matching in its own thread (matchThread.ts) so that a pattern that backtracks for ever
// stalls that thread only: the worker's main thread keeps saving, locking and serving the agent. Notes are
// sent ahead (the thread works through them in order, so a round trip per note costs nothing); when the
// thread makes no progress for `stuckMs` it is terminated and the search fails naming the note and the reason.
import type { Worker } from 'node:worker_threads';
import type { SearchQuery } from '../protocol';
import type { FromMatchThread, ToMatchThread } from './matchThread';
import type { MatchOptions, TextMatches } from './matcher';

/** The pattern made no progress on one note for too long (catastrophic backtracking). */
export class SlowPattern extends Error {
  override readonly name = 'SlowPattern';
  constructor(readonly note: string, readonly ms: number) {
    super(`The search was stopped: the pattern ran for more than ${Math.round(ms / 1000)} s on ${note} without finishing. `
      + 'A regular expression with nested repetition, such as (a+)+, can take for ever on some text: simplify the pattern.');
  }
}

interface Pending { resolve(r: TextMatches | 'binary'): void; reject(e: Error): void; note: string }

export interface MatcherSearch {
  /** Matches a copy of `data` (the caller keeps and zeroes its own); `note` names it in a SlowPattern error. */
  match(data: Uint8Array, opts: MatchOptions, note: string): Promise<TextMatches | 'binary'>;
  end(): void;
}

export class ThreadMatcher {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>(); // in the order sent, which is the order answered
  private seq = 0;
  private searches = 0;
  private lastProgress = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** Counts terminations: a search begun before one is over (its query died with the thread). */
  private generation = 0;
  private ended: Error | undefined;

  /** `script`: the bundled matchThread (dist/searchThread.js). */
  constructor(private readonly script: string, private readonly stuckMs = 10_000) {}

  begin(query: Pick<SearchQuery, 'pattern' | 'isRegex' | 'matchCase' | 'wholeWord'>): MatcherSearch {
    const search = ++this.searches;
    const generation = this.generation;
    this.post({ kind: 'query', search, query });
    return {
      match: (data, opts, note) => new Promise((resolve, reject) => {
        if (generation !== this.generation) { reject(this.ended ?? new Error('the search matcher was stopped')); return; }
        const seq = ++this.seq;
        const copy = new Uint8Array(data); // its own ArrayBuffer, transferred: the thread zeroes it
        if (this.pending.size === 0) this.lastProgress = Date.now();
        this.pending.set(seq, { resolve, reject, note });
        this.post({ kind: 'match', search, seq, data: copy, opts }, [copy.buffer]);
        this.worker!.ref(); // busy: the process waits for the answers
      }),
      end: () => { if (this.worker && generation === this.generation) this.post({ kind: 'end', search }); },
    };
  }

  /** Ends the thread (lock, shutdown): what it held goes with it; pending matches fail. */
  terminate(reason: Error = new Error('the search matcher was stopped')): void {
    const w = this.worker;
    this.worker = null;
    this.generation++;
    this.ended = reason;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    void w?.terminate();
  }

  private post(m: ToMatchThread, transfer: ArrayBuffer[] = []): void {
    this.start().postMessage(m, transfer);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Loaded here, not at the top: the CLI never starts the thread and need not load worker_threads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, as crypto/pool.ts does
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    const w = new Worker(this.script);
    w.on('message', (r: FromMatchThread) => {
      const p = this.pending.get(r.seq);
      if (!p) return;
      this.pending.delete(r.seq);
      this.lastProgress = Date.now();
      if (!this.pending.size) w.unref(); // idle: it must not keep the process alive
      if ('error' in r) p.reject(new Error(`the search matcher failed: ${r.error}`));
      else p.resolve(r.result);
    });
    const lost = (why: string) => { if (this.worker === w) this.terminate(new Error(`the search matcher ${why}`)); };
    w.on('error', e => lost(`failed: ${e.message}`));
    w.on('exit', () => lost('stopped'));
    w.unref(); // after the listeners (adding one refs it again); match() refs it while answers are due
    this.watchdog = setInterval(() => {
      if (!this.pending.size || Date.now() - this.lastProgress < this.stuckMs) return;
      const oldest = this.pending.values().next().value!;
      this.terminate(new SlowPattern(oldest.note, this.stuckMs));
    }, Math.min(1000, Math.max(50, this.stuckMs / 4)));
    this.watchdog.unref();
    this.worker = w;
    return w;
  }
}
