// How the worker and the CLI decrypt a note for searching: the whole file in memory (header authenticated
// first, too-large files refused before their payload is read), with every data key unwrap handed out zeroed.
import { decryptFileToBuffer, type UnwrapDataKey } from '../crypto/format';
import { withWipedDataKeys } from '../vault/dataKeys';

/** The editor's limit too (MAX_NOTE_BYTES in vault/encFileSystem.ts): larger notes are listed as failures. */
export const MAX_SEARCH_NOTE_BYTES = 256 * 1024 * 1024;

export function decryptNote(encPath: string, unwrap: UnwrapDataKey): Promise<Buffer> {
  return withWipedDataKeys(unwrap, u => decryptFileToBuffer(encPath, u, { maxBytes: MAX_SEARCH_NOTE_BYTES }));
}
