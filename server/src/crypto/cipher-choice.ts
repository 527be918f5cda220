// Which engine seals and opens chunks: this thread for small inputs (no start-up cost, no copies), the
// worker pool for large ones (chunks are independent, so two cores work at once).
import type { FileKeys } from './derive';
import { localChunkCipher, type ChunkCipher } from './payload';
import { pooledChunkCipher, poolSize } from './pool';

/** Below this many payload bytes the pool's start-up and copying cost more than they win. */
export const POOL_THRESHOLD = 16 * 1024 * 1024;

export function chooseCipher(keys: FileKeys, sizeHint: number): ChunkCipher {
  if (sizeHint >= POOL_THRESHOLD && poolSize() > 0) return pooledChunkCipher(keys.payloadKey, keys.chunkAad);
  return localChunkCipher(keys.payloadKey, keys.chunkAad);
}
