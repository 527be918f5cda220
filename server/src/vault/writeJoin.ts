// The worker's shutdown join (issue 22 §2). VS Code may have been told a note's save had ended while the worker
// still writes it (client/src/editor/encFsProvider.ts, SAVE_DEADLINE_MS), so the worker must never stop in the
// middle of a write: a shutdown (the client's stop or Restart Worker), an exit because VS Code's process is gone
// (vscode-languageserver's parent watchdog calls process.exit) and a lock all wait for the notes being written.
// A write that fails then, or is still running when the bound is reached, has its text sealed into a recovery
// copy (keyless, recoveryStore.ts) before the worker goes on: offered back at the next unlock, never lost silently.
import { WorkerError } from './workerErrors';

/** How long a stop waits for the notes being written before it seals what is left into recovery copies. */
export const WRITE_JOIN_MS = 3000;
/** How long sealing what is left may take before the worker stops anyway (a disk that hangs). */
const SEAL_MS = 2000;

interface Running { path: string; data: Uint8Array; done: Promise<unknown>; handOver: () => void }

export class WriteJoin {
  private readonly running = new Set<Running>();
  /** Recovery copies being sealed (the client's): a stop waits for them too, within the same bound. */
  private readonly sealing = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly seal: (notePath: string, data: Uint8Array) => Promise<string>,
    private readonly discard: (id: string) => Promise<void>,
    private readonly log: (message: string) => void,
  ) {}

  get busy(): boolean { return this.running.size > 0 || this.sealing.size > 0; }

  /** A recovery copy being sealed: a stop waits for it. */
  track<T>(sealing: Promise<T>): Promise<T> {
    const settled = sealing.then(() => undefined, () => undefined);
    this.sealing.add(settled);
    void settled.then(() => this.sealing.delete(settled));
    return sealing;
  }

  /**
   * Runs the write of a note's text. While the worker stops, a write that fails, or that is still running at the
   * bound, is sealed into a recovery copy and fails SAVE_SEALED (the client, if still there, says so and does not
   * seal it a second time); a write that ends after its text was sealed discards that copy again.
   */
  async run(notePath: string, data: Uint8Array, write: () => Promise<void>): Promise<void> {
    let handOver!: () => void;
    const handedOver = new Promise<'handedOver'>(resolve => { handOver = () => resolve('handedOver'); });
    let finish!: () => void;
    const entry: Running = { path: notePath, data, done: new Promise<void>(resolve => { finish = resolve; }), handOver };
    this.running.add(entry);
    try {
      const written = write();
      let first: 'written' | 'handedOver';
      try {
        first = await Promise.race([written.then(() => 'written' as const), handedOver]);
      } catch (e) {
        if (!this.stopping) throw e;
        throw await this.sealed(notePath, data, (e as Error).message);
      }
      if (first === 'written') return;
      // Still writing at the bound: the text is sealed now; the write may yet end before the process does.
      const error = await this.sealed(notePath, data, 'the worker stopped before the note was written.');
      void written.then(() => (error.copyId ? this.discard(error.copyId) : undefined), () => undefined).catch(() => undefined);
      throw error;
    } finally {
      this.running.delete(entry);
      finish();
    }
  }

  private async sealed(notePath: string, data: Uint8Array, why: string): Promise<WorkerError & { copyId?: string }> {
    try {
      const copyId = await withTimeout(this.seal(notePath, data), SEAL_MS);
      this.log(`a note being saved while the worker stopped was not written (${why}): its text is kept in a sealed recovery copy`);
      return Object.assign(new WorkerError('SAVE_SEALED', `Not saved: ${why} Your text is kept in a sealed recovery copy, offered back when you unlock.`), { copyId });
    } catch (e) {
      this.log(`a note being saved while the worker stopped was not written (${why}) and could not be sealed (${(e as Error).message})`);
      return new WorkerError('Unavailable', `Not saved: ${why}`);
    }
  }

  /**
   * The worker stops (or locks): waits up to `boundMs` for the writes running now; what is still running then is
   * sealed. Resolves once every write has ended or been sealed (or its sealing has given up).
   */
  async settle(boundMs = WRITE_JOIN_MS, stopping = true): Promise<void> {
    if (stopping) this.stopping = true;
    const deadline = Date.now() + boundMs;
    while (this.busy && Date.now() < deadline) {
      await Promise.race([Promise.all([...[...this.running].map(r => r.done), ...this.sealing]), delay(deadline - Date.now())]);
    }
    if (!this.running.size) return;
    if (!stopping) return;
    const left = [...this.running];
    for (const r of left) r.handOver();
    await Promise.race([Promise.all(left.map(r => r.done)), delay(SEAL_MS + 500)]);
  }
}

const delay = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, Math.max(0, ms)));

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, delay(ms).then(() => { throw new Error(`no answer in ${ms} ms`); })]);
}
