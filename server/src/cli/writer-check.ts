// Who wrote a file, for the commands that read one (exec, decrypt, verify, inspect, the git drivers, grep,
// updatekeys, --rekey): the write signature checked (its key commitment too, where the key is held) and
// judged against the members the governing list trusts (keys/authorship.ts).
import type { Stanza } from '../crypto/format';
import { judgeWriter, type WriterVerdict } from '../keys/authorship';
import { trustedWritersFor } from '../keys/sharing';
import { readPublicIdentity } from '../keys/identity';
import { keystoreDirFor } from '../keys/keystore';
import { checkWriteSignature, checkWriteSignatureBytes } from '../keys/write-signature';
import { keyfilePath, type CliContext } from './context';

/** A file whose writer is not trusted, refused where its content would be acted upon (exec, merges). */
export class UnverifiedWriter extends Error {
  override readonly name = 'UnverifiedWriter';
}

export { keepingDataKey } from '../search/writer';

/** The verdict on `file` (on disk, or its bytes when given), with its data key when held. */
export async function writerVerdict(ctx: CliContext, file: string, stanzas: readonly Stanza[], opts: { bytes?: Uint8Array; dataKey?: Uint8Array; pathKnown?: boolean } = {}): Promise<WriterVerdict> {
  const keyfile = keyfilePath(ctx);
  const own = await readPublicIdentity(keystoreDirFor(keyfile)).catch(() => null);
  const check = opts.bytes ? checkWriteSignatureBytes(opts.bytes, opts.dataKey) : await checkWriteSignature(file, opts.dataKey);
  const trusted = await trustedWritersFor(file, { keyfilePath: keyfile, ownIdentity: own });
  return judgeWriter(file, check, stanzas, trusted, own, { pathKnown: opts.pathKnown !== false });
}
