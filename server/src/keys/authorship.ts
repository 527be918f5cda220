// Who wrote a file, and whether that is someone the user trusts to write it (issue 21 §2). A file that
// reaches the user through a recipient stanza (types 4 and 5) could have been made by anyone who knows the
// user's public identity, which every recipients list carries. It is authentic only when it carries a valid
// write signature, its key commitment checked, by the user or by a member of the trusted list that governs
// it. A file with no recipient stanza opened with our own master key or key store only we could have made.
import type { Stanza } from '../crypto/format';
import { toHex } from './bytes';
import type { PublicIdentity } from './identity-strings';
import { kindOfStanza } from './recipients';
import { signedPathOf, type WriteSignatureCheck } from './write-signature';

export interface TrustedWriters {
  /** The list that governs the file, or null when none does. */
  listFile: string | null;
  /** The folder holding `.noteseal/` (what a signed path is relative to), or null without a list. */
  folder: string | null;
  /** Who may write the file besides the user: the members of the governing list, once it is trusted. */
  members: readonly { name: string; identity: PublicIdentity }[];
  /** Why the governing list is not trusted (then `members` is empty: nobody but the user is trusted). */
  refused?: string;
}

/** Whether the header has a recipient stanza: then someone other than the user could have made the file. */
export function othersCouldWrite(stanzas: readonly Stanza[]): boolean {
  return stanzas.some(s => kindOfStanza(s.type) !== undefined);
}

export interface WriterVerdict {
  /** The file is the user's own or signed (commitment checked where the key is held) by a trusted writer. */
  authentic: boolean;
  check: WriteSignatureCheck;
  /** The signer: a member's name, 'you', or a key fingerprint; undefined when unsigned. */
  signer?: string;
  /** The signer is a member of the governing list (by this name). */
  member?: string;
  byYou: boolean;
  /** What to tell the user when the file is not authentic. */
  warning?: string;
  /** Something to know about an authentic file: a version 1 signature binds no path. */
  note?: string;
}

/** Whether `id`'s signing key made the valid signature `check` describes. */
export function signedBy(id: PublicIdentity | null | undefined, check: WriteSignatureCheck): boolean {
  return check.state === 'valid' && !!id?.signingKey && toHex(id.signingKey) === check.signer;
}

/**
 * Judges a checked write signature. `stanzas` are the file's; `own` is this keyfile's public identity.
 * An unsigned file is authentic only when nobody else could have made it (no recipient stanza). A version 2
 * signature must be for this file's path (relative to the folder of its list); `pathKnown: false` where the
 * file is a temporary copy (git's textconv of an older version) and its path cannot be checked.
 */
export function judgeWriter(file: string, check: WriteSignatureCheck, stanzas: readonly Stanza[], trusted: TrustedWriters, own: PublicIdentity | null, opts: { pathKnown?: boolean } = {}): WriterVerdict {
  if (check.state === 'unsigned') {
    if (!othersCouldWrite(stanzas)) return { authentic: true, check, byYou: false };
    const where = trusted.listFile ? 'is in a shared folder but' : 'was encrypted to you by someone else and';
    return { authentic: false, check, byYou: false, warning: `${file} ${where} is not signed: anyone who knows your public identity may have written it.` };
  }
  if (check.state === 'invalid') {
    return { authentic: false, check, byYou: false, ...(check.signer ? { signer: short(check.signer) } : {}), warning: `${file}: its write signature is invalid (${check.why}): do not trust its content.` };
  }
  const signs = (id: PublicIdentity | null | undefined) => signedBy(id, check);
  const member = trusted.members.find(m => signs(m.identity));
  const signer = member?.name ?? (signs(own) ? 'you' : `signing key ${short(check.signer)}`);
  const expected = signedPathOf(file, trusted.folder);
  if (check.path !== undefined && opts.pathKnown !== false && check.path !== expected) {
    // A genuine signature, for another file: a member's staging.env.enc copied over prod.env.enc.
    return { authentic: false, check, signer, byYou: signs(own), warning: `${file} carries ${signer === 'you' ? 'your' : `${signer}'s`} signature for "${check.path}", not for "${expected}": it is a copy of another file (or was moved); do not trust it as this one.` };
  }
  const note = check.path === undefined && othersCouldWrite(stanzas) ? { note: 'its write signature is of version 1, which does not bind the file\'s path: it may be a copy of another file by the same writer' } : {};
  if (member) return { authentic: true, check, signer: member.name, member: member.name, byYou: signs(own), ...note };
  if (signs(own)) return { authentic: true, check, signer: 'you', byYou: true, ...note };
  const who = signer;
  const not = trusted.refused
    ? `who is not you, and the recipients list that governs it is not trusted here (${trusted.refused})`
    : trusted.listFile ? 'who is not a member of the recipients list that governs it' : 'who is not you, and no recipients list governs it';
  return { authentic: false, check, signer: who, byYou: false, warning: `${file} was written by ${who}, ${not}: do not trust its content.` };
}

function short(hex: string): string {
  return `${hex.slice(0, 16)}…`;
}
