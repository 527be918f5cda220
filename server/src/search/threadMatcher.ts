// Runs the search's matching in its own thread (matchThread.ts) so that a pattern that backtracks for ever
// stalls that thread only: the worker's main thread keeps saving, locking and serving the agent. Notes are
// sent ahead, gathered into one message per turn of the event loop (a message per note cost as much as the
// search itself), and answered in batches; when the thread makes no progress for `stuckMs` it is terminated
// and the search fails naming the note it was matching (a shared slot says which) and the reason.
import type { Worker } from 'node:worker_threads';
import type { FromMatchThread, MatchItem, ToMatchThread } from './matchThread';
import type { MatchSpans } from './matcher';
import type { QueryPattern } from './query';

/** The pattern made no progress on one note for too long (catastrophic backtracking). */
export class SlowPattern extends Error {
  override readonly name = 'SlowPattern';
  constructor(readonly note: string, readonly ms: number) {
    super(`The search was stopped: the pattern ran for more than ${Math.round(ms / 1000)} s on ${note} without finishing. `
      + 'A regular expression with nested repetition, such as (a+)+, can take for ever on some text: simplify the pattern.');
  }
}

interface Pending { resolve(r: MatchSpans | 'binary'): void; reject(e: Error): void; note: string }

const NO_MATCH: MatchSpans = Object.freeze({ spans: [], truncated: false }) as MatchSpans;

export interface MatcherSearch {
  /** Runs the query over a copy of `data` (which must stay as it is until the answer; the caller zeroes its own). `note` names it in a SlowPattern error. */
  scan(data: Uint8Array, maxMatches: number, note: string): Promise<MatchSpans | 'binary'>;
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
  /** Notes waiting for the next message to the thread (their bytes are copied into it then). */
  private queued: { item: Omit<MatchItem, 'offset' | 'length'>; data: Uint8Array }[] = [];
  private flushing = false;
  /** The seq of the note the thread is matching now (written by the thread; seqs never repeat across threads). */
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));

  /** `script`: the bundled matchThread (dist/searchThread.js). */
  constructor(private readonly script: string, private readonly stuckMs = 10_000) {}

  begin(query: QueryPattern): MatcherSearch {
    const search = ++this.searches;
    const generation = this.generation;
    let sent = false; // the query goes with the first note: a search that matches nothing here starts no thread
    return {
      scan: (data, maxMatches, note) => new Promise((resolve, reject) => {
        if (generation !== this.generation) { reject(this.ended ?? new Error('the search matcher was stopped')); return; }
        if (!sent) { this.post({ kind: 'query', search, query }); sent = true; }
        const seq = ++this.seq;
        if (this.pending.size === 0) this.lastProgress = Date.now();
        this.pending.set(seq, { resolve, reject, note });
        this.queued.push({ item: { search, seq, maxMatches }, data });
        this.start().ref(); // busy: the process waits for the answers
        if (!this.flushing) { this.flushing = true; setImmediate(() => this.flush()); }
      }),
      end: () => { if (sent && this.worker && generation === this.generation) this.post({ kind: 'end', search }); },
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
    this.queued = []; // the caller's bytes, not copied yet: the caller zeroes them
    void w?.terminate();
  }

  private post(m: ToMatchThread, transfer: ArrayBuffer[] = []): void {
    this.start().postMessage(m, transfer);
  }

  /** Sends the queued notes as one message: their bytes copied into one buffer, transferred (the thread zeroes it). */
  private flush(): void {
    this.flushing = false;
    const queued = this.queued;
    this.queued = [];
    if (!queued.length || !this.worker) return; // terminated meanwhile: their promises were rejected
    const data = new ArrayBuffer(queued.reduce((n, q) => n + q.data.length, 0));
    const bytes = new Uint8Array(data);
    let offset = 0;
    const items = queued.map(q => {
      bytes.set(q.data, offset);
      const item: MatchItem = { ...q.item, offset, length: q.data.length };
      offset += q.data.length;
      return item;
    });
    this.post({ kind: 'match', items, data }, [data]);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Loaded here, not at the top: the CLI never starts the thread and need not load worker_threads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, as crypto/pool.ts does
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    const w = new Worker(this.script);
    w.on('message', (m: FromMatchThread) => {
      for (const r of m.answers) {
        const p = this.pending.get(r.seq);
        if (!p) continue;
        this.pending.delete(r.seq);
        if ('error' in r) p.reject(new Error(`the search matcher failed: ${r.error}`));
        else p.resolve(r.result ?? NO_MATCH);
      }
      this.lastProgress = Date.now();
      if (!this.pending.size) w.unref(); // idle: it must not keep the process alive
    });
    const lost = (why: string) => { if (this.worker === w) this.terminate(new Error(`the search matcher ${why}`)); };
    w.on('error', e => lost(`failed: ${e.message}`));
    w.on('exit', () => lost('stopped'));
    w.unref(); // after the listeners (adding one refs it again); match() refs it while answers are due
    this.watchdog = setInterval(() => {
      if (!this.pending.size || Date.now() - this.lastProgress < this.stuckMs) return;
      const stuck = this.pending.get(Atomics.load(this.progress, 0)) ?? this.pending.values().next().value!;
      this.terminate(new SlowPattern(stuck.note, this.stuckMs));
    }, Math.min(1000, Math.max(50, this.stuckMs / 4)));
    this.watchdog.unref();
    this.worker = w;
    w.postMessage({ kind: 'progress', progress: this.progress } satisfies ToMatchThread);
    return w;
  }
}
