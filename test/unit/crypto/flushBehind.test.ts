// flushBehind (atomic.ts): flushes a long write in the background, one flush at a time, and never loses a
// flush's error (Linux reports a writeback error to one fsync only).
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { flushBehind } from '../../../server/src/crypto/atomic';

/** A handle whose datasync the test completes by hand. */
function fakeHandle() {
  const calls: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const handle = { datasync: () => new Promise<void>((resolve, reject) => { calls.push({ resolve, reject }); }) } as unknown as FileHandle;
  return { handle, calls };
}

const tick = () => new Promise(r => setImmediate(r));

describe('flushBehind', () => {
  it('starts a flush once enough bytes are dirty, and never two at once', async () => {
    const { handle, calls } = fakeHandle();
    const f = flushBehind(handle, 100);
    f.wrote(60);
    assert.equal(calls.length, 0);
    f.wrote(60);
    assert.equal(calls.length, 1);
    f.wrote(500); // still running: waits
    assert.equal(calls.length, 1);
    calls[0]!.resolve();
    await tick();
    f.wrote(100);
    assert.equal(calls.length, 2);
    calls[1]!.resolve();
    await f.settle();
  });

  it('keeps the first error and rethrows it from settle()', async () => {
    const { handle, calls } = fakeHandle();
    const f = flushBehind(handle, 10);
    f.wrote(10);
    calls[0]!.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await tick();
    f.wrote(10); // no new flush after a failure
    assert.equal(calls.length, 1);
    await assert.rejects(f.settle(), /EIO/);
  });

  it('settle() waits for the running flush', async () => {
    const { handle, calls } = fakeHandle();
    const f = flushBehind(handle, 1);
    f.wrote(1);
    let settled = false;
    const s = f.settle().then(() => { settled = true; });
    await tick();
    assert.equal(settled, false);
    calls[0]!.resolve();
    await s;
    assert.equal(settled, true);
  });
});
