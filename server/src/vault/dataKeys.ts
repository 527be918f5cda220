// Data keys that `Keyring.unwrap` returns are fresh buffers the caller owns; the format's read functions
// use them to derive the file's keys and leave them be. Read paths wrap unwrap here so every data key
// they got is zeroed when the read ends, however it ends.
import type { UnwrapDataKey } from '../crypto/format';
import { wipe } from '../keys/bytes';

/** Runs a read with an `unwrap` whose data keys are wiped afterwards (the format leaves them to the caller). */
export async function withWipedDataKeys<T>(unwrap: UnwrapDataKey, read: (unwrap: UnwrapDataKey) => Promise<T>): Promise<T> {
  const keys: Uint8Array[] = [];
  try {
    return await read(async stanzas => { const k = await unwrap(stanzas); keys.push(k); return k; });
  } finally {
    for (const k of keys) wipe(k);
  }
}
