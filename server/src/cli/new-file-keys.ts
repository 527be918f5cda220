// The keys of a new file the CLI writes (encrypt, the git merge driver): our own stanza from the agent or
// the keyring, a stanza for every member of the folder's verified `.noteseal/recipients` (public keys
// only, so this works through the agent too), and the write signature (made by the agent, or with the keyring).
import type { EncryptOptions, Stanza } from '../crypto/format';
import { readPublicIdentity } from '../keys/identity';
import { keystoreDirFor } from '../keys/keystore';
import { recipientStanzas } from '../keys/recipients';
import { recipientsFor } from '../keys/sharing';
import { trustedWritersFor } from '../keys/sharing';
import { signedPathOf } from '../keys/write-signature';
import { keyfilePath, type CliContext } from './context';
import type { FileKeys } from './file-keys';

export type Members = { recipients: Awaited<ReturnType<typeof recipientsFor>>; ownIdentity: Awaited<ReturnType<typeof readPublicIdentity>> };

/** The members a file at `target` is encrypted to; throws UNTRUSTED_RECIPIENTS for a list that fails its checks. Needs no key. */
export async function membersFor(ctx: CliContext, target: string): Promise<Members> {
  const keyfile = keyfilePath(ctx);
  const ownIdentity = await readPublicIdentity(keystoreDirFor(keyfile));
  return { recipients: await recipientsFor(target, { keyfilePath: keyfile, ownIdentity }), ownIdentity };
}

/** A fresh data key (the caller wipes it), its stanzas, and the options that sign the file. */
export async function newFileKeysFor(ctx: CliContext, keys: FileKeys, target: string, members: Members, detached = false): Promise<{ dataKey: Uint8Array; stanzas: Stanza[]; options: EncryptOptions }> {
  // The signature binds the path relative to the folder of the list that governs the file (docs/KEYS.md).
  const { folder } = await trustedWritersFor(target, { keyfilePath: keyfilePath(ctx), ownIdentity: members.ownIdentity });
  const { dataKey, stanzas, payloadBound } = await keys.newFileStanzas({ detached, signedPath: signedPathOf(target, folder) });
  stanzas.push(...recipientStanzas(members.recipients, dataKey, members.ownIdentity ?? undefined));
  if (!payloadBound && members.recipients.length > 0) ctx.note(`noteseal: warning: ${target} is not signed (this keyfile has no identity: run noteseal identity); members see it as unsigned`);
  return { dataKey, stanzas, options: payloadBound ? { payloadBound } : {} };
}
