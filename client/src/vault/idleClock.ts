// Decides when to auto-lock: after N idle minutes, and after the machine slept (a jump of the wall clock
// between two ticks). Pure and clock-injected so it can be unit-tested without VS Code or real time.

export interface IdleClockOptions {
  /** Lock after this many idle milliseconds; 0 = never. */
  idleMs: number;
  /** Lock when the machine seems to have slept. */
  lockOnSleep: boolean;
  /** How often tick() is called (ms). */
  tickMs: number;
  /** A tick this much later than expected means the process (the machine) was suspended. */
  sleepJumpMs: number;
}

export type LockReason = 'idle' | 'sleep';

export class IdleClock {
  private lastActivity: number;
  private lastTick: number;
  /** A lock that was attempted but did not happen, to try again at `at`. */
  private retry: { reason: LockReason; at: number } | undefined;

  constructor(private options: IdleClockOptions, private readonly now: () => number = Date.now) {
    this.lastActivity = this.lastTick = now();
  }

  configure(options: IdleClockOptions): void { this.options = options; }

  activity(): void {
    this.lastActivity = this.now();
    if (this.retry?.reason === 'idle') this.retry = undefined; // the user is back: the idle time counts anew
  }

  /** The lock for `reason` did not happen (a save, the worker, a recording failed): try again in `retryMs`. */
  lockFailed(reason: LockReason, retryMs: number): void { this.retry = { reason, at: this.now() + retryMs }; }

  /** When the vault will auto-lock if nothing happens (ms since epoch), or undefined when never. */
  deadline(): number | undefined {
    return this.options.idleMs > 0 ? this.lastActivity + this.options.idleMs : undefined;
  }

  /** Call every tickMs; returns why to lock now, if so. */
  tick(): LockReason | undefined {
    const now = this.now();
    const gap = now - this.lastTick;
    this.lastTick = now;
    if (this.options.lockOnSleep && gap > this.options.tickMs + this.options.sleepJumpMs) return 'sleep';
    if (this.retry && now >= this.retry.at) { const { reason } = this.retry; this.retry = undefined; return reason; }
    const deadline = this.deadline();
    if (deadline !== undefined && now >= deadline) return 'idle';
    return undefined;
  }

  /** Restart both clocks (after unlock). */
  reset(): void { this.lastActivity = this.lastTick = this.now(); this.retry = undefined; }
}
