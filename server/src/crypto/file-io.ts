// Opening an encrypted file: read and parse the header, get the data key, check the header MAC.
import type { FileHandle } from 'node:fs/promises';
import { MAX_HEADER_LENGTH } from './constants';
import { deriveFileKeys, type FileKeys } from './derive';
import { NoteSealError } from './errors';
import { headerMacMatches, parseHeader, type ParsedHeader, type Stanza } from './header';
import { openRegularFile } from './safe-open';
import { fileSource, readAt } from './source';

/** Gets a file's data key from its stanzas; throws NoteSealError WRONG_KEY or KEY_NOT_FOUND. */
export type UnwrapDataKey = (stanzas: readonly Stanza[]) => Uint8Array | Promise<Uint8Array>;

/**
 * Gets the data key and checks the header MAC in constant time. The data key returned by `unwrap`
 * stays the caller's (it may be cached); the keys derived from it are the caller's to dispose().
 */
export async function unlockHeader(header: ParsedHeader, unwrap: UnwrapDataKey): Promise<FileKeys> {
  return (await unlockHeaderWithDataKey(header, unwrap)).keys;
}

/** As unlockHeader, also returning the data key (recovery re-encrypts under it). */
export async function unlockHeaderWithDataKey(header: ParsedHeader, unwrap: UnwrapDataKey): Promise<{ keys: FileKeys; dataKey: Uint8Array }> {
  const dataKey = await unwrap(header.stanzas);
  const keys = deriveFileKeys(dataKey, header.salt, header.prefix);
  if (!headerMacMatches(header, keys.headerMacKey)) {
    keys.dispose();
    throw new NoteSealError('WRONG_KEY', 'the key does not open this file, or its header was altered');
  }
  return { keys, dataKey };
}

export async function readHeaderFromHandle(handle: FileHandle): Promise<{ header: ParsedHeader; size: number }> {
  const { size } = await handle.stat();
  const header = parseHeader(await readAt(handle, 0, Math.min(size, MAX_HEADER_LENGTH)));
  return { header, size };
}

export interface OpenedFile {
  handle: FileHandle;
  header: ParsedHeader;
  keys: FileKeys;
  /** Owned by whoever `unwrap` got it from; not zeroed here. */
  dataKey: Uint8Array;
  /** The size when opened; reading stops there. */
  size: number;
  /** Idempotent: a rewrite closes it before its rename (Windows cannot rename over a file held open), then again in finally. */
  close(): Promise<void>;
}

/** Opens, parses and unlocks an encrypted file; the caller must close() it. */
export async function openEncryptedFile(path: string, unwrap: UnwrapDataKey): Promise<OpenedFile> {
  const handle = await openRegularFile(path);
  try {
    const { header, size } = await readHeaderFromHandle(handle);
    const { keys, dataKey } = await unlockHeaderWithDataKey(header, unwrap);
    let closed = false;
    return { handle, header, keys, dataKey, size, async close() { if (closed) return; closed = true; keys.dispose(); await handle.close(); } };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads a plain file in fresh blocks of `blockSize` bytes (never reused, so they can be sealed in place). */
export async function* readFileBlocks(path: string, blockSize: number): AsyncGenerator<Buffer> {
  const handle = await openRegularFile(path);
  try {
    const src = fileSource(handle, 0, (await handle.stat()).size); // prefetches the next block
    for (;;) {
      const block = await src.read(blockSize);
      if (block.length === 0) return;
      yield block;
    }
  } finally {
    await handle.close();
  }
}
