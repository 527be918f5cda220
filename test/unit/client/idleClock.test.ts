import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdleClock, type IdleClockOptions } from '../../../client/src/vault/idleClock';

const opts = (o: Partial<IdleClockOptions> = {}): IdleClockOptions => ({ idleMs: 60_000, lockOnSleep: true, tickMs: 1000, sleepJumpMs: 30_000, ...o });

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

/** Ticks every second for `ms`, returning the first lock reason. */
function run(clock: IdleClock, time: ReturnType<typeof fakeClock>, ms: number) {
  for (let i = 0; i < ms / 1000; i++) { time.advance(1000); const r = clock.tick(); if (r) return r; }
  return undefined;
}

describe('IdleClock (auto-lock decisions)', () => {
  it('locks after the idle time, not before', () => {
    const time = fakeClock(); const c = new IdleClock(opts(), time.now);
    assert.equal(run(c, time, 59_000), undefined);
    assert.equal(run(c, time, 2000), 'idle');
  });

  it('activity pushes the deadline back', () => {
    const time = fakeClock(); const c = new IdleClock(opts(), time.now);
    assert.equal(run(c, time, 50_000), undefined);
    c.activity();
    assert.equal(c.deadline(), time.now() + 60_000);
    assert.equal(run(c, time, 50_000), undefined);
    assert.equal(run(c, time, 11_000), 'idle');
  });

  it('detects a sleep as a jump of the wall clock between ticks, even with idle lock off', () => {
    const time = fakeClock(); const c = new IdleClock(opts({ idleMs: 0 }), time.now);
    assert.equal(run(c, time, 10_000), undefined);
    time.advance(45 * 60_000);           // the laptop lid was closed
    assert.equal(c.tick(), 'sleep');
  });

  it('ignores small scheduling delays, and sleep when lockOnSleep is off', () => {
    const time = fakeClock(); const c = new IdleClock(opts({ idleMs: 0 }), time.now);
    time.advance(5000);                  // a busy event loop, not a sleep
    assert.equal(c.tick(), undefined);
    c.configure(opts({ idleMs: 0, lockOnSleep: false }));
    time.advance(3_600_000);
    assert.equal(c.tick(), undefined);
    assert.equal(c.deadline(), undefined, 'no deadline when idle lock is off');
  });

  it('reset restarts both clocks (after an unlock)', () => {
    const time = fakeClock(); const c = new IdleClock(opts(), time.now);
    time.advance(3_600_000);
    c.reset();
    assert.equal(c.tick(), undefined);
    assert.equal(c.deadline(), time.now() + 60_000);
  });
});

describe('IdleClock retries a lock that did not happen', () => {
  it('tries again after the retry delay, for idle and sleep alike', () => {
    for (const reason of ['idle', 'sleep'] as const) {
      const time = fakeClock(); const c = new IdleClock(opts(), time.now);
      c.lockFailed(reason, 30_000);
      assert.equal(run(c, time, 29_000), undefined);
      assert.equal(run(c, time, 2000), reason);
      assert.equal(run(c, time, 5000), undefined, 'one retry per failure');
    }
  });
  it('activity cancels an idle retry (the idle time counts anew) but not a sleep retry; reset cancels both', () => {
    const time = fakeClock(); const c = new IdleClock(opts(), time.now);
    c.lockFailed('idle', 10_000); c.activity();
    assert.equal(run(c, time, 20_000), undefined);
    c.lockFailed('sleep', 10_000); c.activity();
    assert.equal(run(c, time, 11_000), 'sleep');
    c.lockFailed('sleep', 10_000); c.reset();
    assert.equal(run(c, time, 11_000), undefined);
  });
});
