// Who can read a file, from the file's own header: its recipient stanzas name their recipients (kind.ts),
// so the members of the folder's list are split into those the file is encrypted to and those it is not
// encrypted to yet (the list grew after its last save). A member's list entry alone never makes a reader.
import { readHeaderFromFile, type Stanza } from '../crypto/format';
import { recipientIdOf, recipientStanzaId } from './recipients';
import { toHex } from './bytes';
import { sameIdentity, type PublicIdentity } from './identity-strings';

export interface FileReaders<M> {
  /** Members with a stanza in the file. */
  readers: M[];
  /** Members of the list the file is not encrypted to yet (shared when saved again, or `noteseal updatekeys`). */
  notYet: M[];
  /** Recipient stanzas of keys that are not on the list (a removed member, or a list that changed). */
  unlisted: number;
}

/**
 * `own` is this keyfile's identity, and `youCanRead` whether this keyfile opened the file: the writer's own
 * copy is a master-key stanza, not a recipient stanza, so the own member is a reader exactly when it opens.
 * For the same reason `writer`, the member whose valid write signature the file carries (authentic, its key
 * commitment checked), reads it through their own master-key stanza.
 */
export function readersOf<M extends { identity: PublicIdentity; name?: string }>(stanzas: readonly Stanza[], members: readonly M[], own: PublicIdentity | null, youCanRead: boolean, writer?: string): FileReaders<M> {
  const inFile = new Set(stanzas.map(recipientStanzaId).filter(s => s !== undefined).map(s => `${s.kind}:${s.id}`));
  const idOf = (i: PublicIdentity) => `${i.kind}:${toHex(recipientIdOf(i.kind, i.publicKey))}`;
  const readers: M[] = [], notYet: M[] = [];
  const matched = new Set<string>();
  for (const m of members) {
    const id = idOf(m.identity);
    const isOwn = own !== null && sameIdentity(m.identity, own);
    const isWriter = writer !== undefined && m.name === writer;
    if (inFile.has(id) || (isOwn && youCanRead) || isWriter) { readers.push(m); matched.add(id); } else notYet.push(m);
  }
  if (own) matched.add(idOf(own));
  return { readers, notYet, unlisted: [...inFile].filter(id => !matched.has(id)).length };
}

/**
 * Whether the file at `file` is encrypted to anyone besides its writer's keyfile (the 👥 badge): its own
 * header decides, not a list above it. A file that cannot be read is not called shared.
 */
export async function isSharedFile(file: string): Promise<boolean> {
  return readHeaderFromFile(file).then(h => h.stanzas.some(s => recipientStanzaId(s) !== undefined), () => false);
}
