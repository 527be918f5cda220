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

  constructor(private options: IdleClockOptions, private readonly now: () => number = Date.now) {
    this.lastActivity = this.lastTick = now();
  }

  configure(options: IdleClockOptions): void { this.options = options; }

  activity(): void { this.lastActivity = this.now(); }

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
    const deadline = this.deadline();
    if (deadline !== undefined && now >= deadline) return 'idle';
    return undefined;
  }

  /** Restart both clocks (after unlock). */
  reset(): void { this.lastActivity = this.lastTick = this.now(); }
}
