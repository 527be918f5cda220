// NoteSeal's own format (docs/FORMAT.md) behind the format interface: the same functions the provider and
// the CLI have always called, unchanged, so .enc behaves and performs as before.
import { decryptBuffer, encryptBuffer, type EncryptOptions, type Stanza } from '../crypto/format';
import { MAGIC } from '../crypto/constants';
import type { FileFormat, KeysAtHand } from './types';

export interface EncSaveState {
  newKeys: () => Promise<{ dataKey: Uint8Array; stanzas: Stanza[]; options: EncryptOptions }>;
}

export const encFormat: FileFormat<EncSaveState> = {
  name: 'enc',
  sniff: head => head.length >= MAGIC.length && MAGIC.equals(head.subarray(0, MAGIC.length)),
  async open(bytes, keys: KeysAtHand) {
    const plaintext = await decryptBuffer(bytes, keys.unwrap);
    const newKeys = keys.newEncKeys;
    return { plaintext, saveState: { newKeys: newKeys ? () => newKeys() : () => Promise.reject(new Error('no keys to save this file with')) } };
  },
  async save(plaintext, state) {
    const { dataKey, stanzas, options } = await state.newKeys();
    try { return encryptBuffer(plaintext, dataKey, stanzas, options); } finally { dataKey.fill(0); }
  },
};
