// Shared fixtures for the key tests: a temp directory and a keyring with the fast test KDF.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';

export const PASSPHRASE = 'correct horse battery staple';

export async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-keys-'));
  after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function newKeyring(dir?: string): Promise<{ keyring: Keyring; recoveryKey: string; keyfile: string; dir: string }> {
  const where = dir ?? await tempDir();
  const keyfile = path.join(where, 'keyfile.json');
  const { keyring, recoveryKey } = await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY });
  return { keyring, recoveryKey, keyfile, dir: where };
}

export function openKeyring(keyfile: string): Keyring {
  return new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
}

/** Asserts that `promise` rejects with a NoteSealError of `code`. */
export async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const { rejects } = await import('node:assert/strict');
  await rejects(async () => (typeof promise === 'function' ? promise() : promise), (e: unknown) => {
    const got = (e as { code?: string }).code;
    if (got !== code) throw new Error(`expected ${code}, got ${got}: ${(e as Error).message}`);
    return true;
  });
}
