// Who wrote a note a search found (issue 21 §2): judged as the note is read, with its data key (for the key
// commitment), against the members the governing list trusts, as every reader does (keys/authorship.ts).
import { readHeaderFromFile, type UnwrapDataKey } from '../crypto/format';
import { judgeWriter } from '../keys/authorship';
import type { Keyring } from '../keys/keyring';
import { trustedWritersFor } from '../keys/sharing';
import { checkWriteSignature } from '../keys/write-signature';

/**
 * An unwrap that keeps a copy of the data key it hands out (the format wipes its own), so the write
 * signature's key commitment can be checked once the file has authenticated. `wipe()` when done.
 */
export function keepingDataKey(unwrap: UnwrapDataKey): { unwrap: UnwrapDataKey; dataKey(): Uint8Array | undefined; wipe(): void } {
  let kept: Uint8Array | undefined;
  return {
    unwrap: async stanzas => {
      const key = await unwrap(stanzas);
      kept?.fill(0);
      kept = Uint8Array.from(key);
      return key;
    },
    dataKey: () => kept,
    wipe: () => { kept?.fill(0); kept = undefined; },
  };
}

/** The warning the note's writer earns (not authentic), or undefined when its writer is trusted. */
export async function writerWarningOf(keyring: Keyring, encPath: string, dataKey: Uint8Array | undefined): Promise<string | undefined> {
  const own = (await keyring.identity())?.public ?? null;
  const { stanzas } = await readHeaderFromFile(encPath);
  const check = await checkWriteSignature(encPath, dataKey);
  return judgeWriter(encPath, check, stanzas, await trustedWritersFor(encPath, { keyfilePath: keyring.keyfilePath, ownIdentity: own }), own).warning;
}
