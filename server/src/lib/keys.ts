// The keys a program uses, found as the CLI finds them (cli/file-keys.ts) but never by asking: the agent, then
// an identity given by the environment (NOTESEAL_IDENTITY, NOTESEAL_IDENTITY_FILE), then a passphrase given by
// the environment (NOTESEAL_PASSPHRASE_FILE / _FD) with the keyfile. Without any of them: NoKeyError.
import type { Stanza, UnwrapDataKey } from '../crypto/format';
import type { CliContext } from '../cli/context';
import { withFileKeys, type FileKeys } from '../cli/file-keys';
import { libraryError } from './errors';

/** Options every call takes. */
export interface KeyOptions {
  /** The keyfile (default: $NOTESEAL_KEYFILE, else ~/.config/noteseal/keyfile.json, as the CLI). */
  keyfile?: string;
  /** Where the NOTESEAL_* variables are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Receives warnings (an agent for another keyfile, an unsigned write); default: one line on stderr. */
  onWarning?: (message: string) => void;
}

/** The CLI's context for a library call: no operands, the keyfile option, the environment, warnings. */
export function contextFor(options: KeyOptions): CliContext {
  const opts = new Map<string, string | true>();
  if (options.keyfile !== undefined) opts.set('keyfile', options.keyfile);
  return {
    args: { command: 'library', operands: [], options: opts },
    env: options.env ?? process.env,
    stdout: process.stdout,
    note: options.onWarning ?? (line => { process.stderr.write(`${line}\n`); }),
  };
}

/** Runs `fn` with the keys of files (never a prompt); the keys are wiped or locked after it. */
export async function withKeys<T>(options: KeyOptions, about: string, fn: (keys: FileKeys, ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = contextFor(options);
  try {
    return await withFileKeys(ctx, keys => fn(keys, ctx), about, { prompt: false });
  } catch (e) {
    throw libraryError(e);
  }
}

/** Keys held for the life of a handle: released (wiped, the keyring locked) by release(). */
export interface KeySession {
  keys: FileKeys;
  ctx: CliContext;
  release(): Promise<void>;
}

export function openKeySession(options: KeyOptions, about: string): Promise<KeySession> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const released = new Promise<void>(r => { release = r; });
    const done = withKeys(options, about, (keys, ctx) => {
      resolve({ keys, ctx, release: async () => { release(); await done.catch(() => undefined); } });
      return released;
    });
    done.catch(reject); // only before resolve: a session's end never fails afterwards
  });
}

/**
 * `unwrap` with the data key kept after its first use (a handle reads the same file many times; through the
 * agent each unwrap is a request). Kept per set of stanzas: a file replaced by another is unwrapped afresh.
 */
export function cachingUnwrap(unwrap: UnwrapDataKey): { unwrap: UnwrapDataKey; wipe(): void } {
  const cache = new Map<string, Uint8Array>();
  const keyOf = (stanzas: readonly Stanza[]) => stanzas.map(s => `${s.type}:${Buffer.from(s.body).toString('base64')}`).join(',');
  return {
    unwrap: async stanzas => {
      const id = keyOf(stanzas);
      const hit = cache.get(id);
      if (hit) return hit;
      const dataKey = (await unwrap(stanzas)).slice();
      cache.set(id, dataKey);
      return dataKey;
    },
    wipe: () => { for (const k of cache.values()) k.fill(0); cache.clear(); },
  };
}
