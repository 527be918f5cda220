// Recipient stanzas (types 4 and 5): wrapping a data key to every member, and opening with the key pairs held.
import type { Stanza } from '../../crypto/format';
import { NoteSealError } from '../../crypto/errors';
import { constantTimeEqual, toHex } from '../bytes';
import type { RawKeyPair } from '../curves';
import { RECIPIENT_ID_BYTES, recipientIdOf, type Recipient, type RecipientKind, type RecipientKindName } from './kind';
import { x25519Kind } from './x25519';
import { xwingKind } from './xwing';

export { recipientIdOf, RECIPIENT_ID_BYTES, type Recipient, type RecipientKind, type RecipientKindName } from './kind';
export { STANZA_X25519, sealToX25519, openFromX25519 } from './x25519';
export { STANZA_XWING, xwingPublicKeyProblem, xwingPublicOf } from './xwing';

export const RECIPIENT_KINDS: Record<RecipientKindName, RecipientKind> = { x25519: x25519Kind, xwing: xwingKind };

/** A receiving key pair this process holds (a NoteSeal identity's, or an age identity file's). */
export interface ReceivingKey extends RawKeyPair { kind: RecipientKindName }

export function kindOfStanza(type: number): RecipientKind | undefined {
  return Object.values(RECIPIENT_KINDS).find(k => k.stanzaType === type);
}

/** The recipient id of a well-formed recipient stanza (hex), or undefined. */
export function recipientStanzaId(stanza: Stanza): { kind: RecipientKindName; id: string } | undefined {
  const kind = kindOfStanza(stanza.type);
  if (!kind || stanza.body.length !== kind.bodyLength) return undefined;
  return { kind: kind.name, id: toHex(stanza.body.subarray(0, RECIPIENT_ID_BYTES)) };
}

export function wrapToRecipient(recipient: Recipient, dataKey: Uint8Array): Stanza {
  return RECIPIENT_KINDS[recipient.kind].wrap(recipient.publicKey, dataKey);
}

/**
 * The data key from the first recipient stanza one of `keys` opens, or null. Only stanzas whose recipient id
 * is a held key's are tried, so ten recipients cost one decapsulation, not ten.
 */
export function unwrapWithReceivingKeys(stanzas: readonly Stanza[], keys: readonly ReceivingKey[]): Uint8Array | null {
  if (keys.length === 0) return null;
  const ids = keys.map(k => recipientIdOf(k.kind, k.publicKey));
  for (const stanza of stanzas) {
    const kind = kindOfStanza(stanza.type);
    if (!kind || stanza.body.length !== kind.bodyLength) continue;
    const id = stanza.body.subarray(0, RECIPIENT_ID_BYTES);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i]!.kind !== kind.name || !constantTimeEqual(ids[i]!, id)) continue;
      const dataKey = kind.unwrap(stanza.body, keys[i]!);
      if (dataKey) return dataKey;
    }
  }
  return null;
}

/**
 * Beside the writer's own type-1 stanza: one stanza per other recipient (the writer's own identity and
 * duplicates are skipped). At most MAX_RECIPIENT_STANZAS: the format holds 16 stanzas, one is the
 * writer's and one is kept for the write signature.
 */
export const MAX_RECIPIENT_STANZAS = 14;

export function recipientStanzas(recipients: readonly Recipient[], dataKey: Uint8Array, own?: { kind: RecipientKindName; publicKey: Uint8Array }): Stanza[] {
  const seen = new Set<string>();
  if (own) seen.add(toHex(recipientIdOf(own.kind, own.publicKey)));
  const out: Stanza[] = [];
  for (const r of recipients) {
    const id = toHex(recipientIdOf(r.kind, r.publicKey));
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(wrapToRecipient(r, dataKey));
  }
  if (out.length > MAX_RECIPIENT_STANZAS) {
    throw new NoteSealError('LIMIT_EXCEEDED', `A file can be shared with at most ${MAX_RECIPIENT_STANZAS + 1} members (you and ${MAX_RECIPIENT_STANZAS} others); this list has ${out.length + 1}.`);
  }
  return out;
}
