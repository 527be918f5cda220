// The keys of a file the library writes. With a keyfile (the agent or a passphrase): as `noteseal encrypt`
// makes them (cli/new-file-keys.ts): the writer's own stanza, every member of the folder's accepted list,
// the write signature; plus the recipients the program names. With only an identity: the recipients the
// program names and nobody else (never a list it was not told to trust), unsigned; none named: refused.
import { randomBytes } from 'node:crypto';
import { KEY_LENGTH } from '../crypto/constants';
import type { EncryptOptions, Stanza } from '../crypto/format';
import { parsePublicIdentity } from '../keys/identity-strings';
import { recipientStanzas, type Recipient } from '../keys/recipients';
import { membersFor, newFileKeysFor } from '../cli/new-file-keys';
import type { KeySession } from './keys';

/** `recipients` of the write call, else $NOTESEAL_RECIPIENTS (age1…, age1pq1…, noteseal1…; separated by commas or white space). */
export function recipientsGiven(given: readonly string[] | undefined, env: NodeJS.ProcessEnv): Recipient[] {
  const texts = given ?? (env.NOTESEAL_RECIPIENTS ?? '').split(/[\s,]+/);
  return texts.filter(t => t.trim() !== '').map(t => parsePublicIdentity(t));
}

export async function newFileKeys(session: KeySession, target: string, given: readonly string[] | undefined): Promise<{ dataKey: Uint8Array; stanzas: Stanza[]; signing: EncryptOptions }> {
  const explicit = recipientsGiven(given, session.ctx.env);
  if (session.keys.source === 'identity') {
    // Refuses, naming the key sources that can write.
    if (explicit.length === 0) await session.keys.newFileStanzas({});
    const dataKey = randomBytes(KEY_LENGTH);
    return { dataKey, stanzas: recipientStanzas(explicit, dataKey), signing: {} };
  }
  const members = await membersFor(session.ctx, target);
  const { dataKey, stanzas, options } = await newFileKeysFor(session.ctx, session.keys, target, { ...members, recipients: [...members.recipients, ...explicit] });
  return { dataKey, stanzas, signing: options };
}
