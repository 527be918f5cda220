// Shared by the crypto tests: keys, temp dirs, a seeded PRNG and an assertion for typed errors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NoteSealError, type NoteSealErrorCode } from '../../../server/src/crypto/errors';
import type { Stanza, UnwrapDataKey } from '../../../server/src/crypto/format';

export const STANZAS: Stanza[] = [{ type: 1, body: Buffer.from('wrapped key placeholder') }];

export function newDataKey(): Buffer { return randomBytes(32); }

/** An unwrap callback that ignores the stanzas and hands out a fixed key. */
export function fixedKey(key: Uint8Array): UnwrapDataKey { return () => key; }

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'noteseal-crypto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: small, seeded, good enough to pick test cases reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(length);
  const r = prng(seed);
  for (let i = 0; i < length; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** Awaits `p` and checks that it fails with a NoteSealError of one of `codes`; returns the error. */
export async function rejectsWith(p: Promise<unknown> | (() => unknown), codes: NoteSealErrorCode | NoteSealErrorCode[], context = ''): Promise<NoteSealError> {
  const allowed = Array.isArray(codes) ? codes : [codes];
  let result: unknown;
  try {
    result = await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!(e instanceof NoteSealError)) throw new assert.AssertionError({ message: `${context}: expected a NoteSealError, got ${String(e)}` });
    assert.ok(allowed.includes(e.code), `${context}: expected ${allowed.join('|')}, got ${e.code} (${e.message})`);
    return e;
  }
  throw new assert.AssertionError({ message: `${context}: expected ${allowed.join('|')}, but it succeeded and returned ${result === undefined ? 'nothing' : 'a value'}` });
}
