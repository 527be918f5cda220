// age identities from the keys NoteSeal already knows: an age identity file's lines (keys/identity-strings)
// and NoteSeal's own X-Wing receiving key, which is an age mlkem768x25519 identity as it is.
import type { ReceivingKey } from '../../keys/recipients';
import type { AgeIdentity } from './recipient';
import { x25519Identity } from './x25519';
import { hybridIdentity } from './mlkem768x25519';

/** The age identity of a receiving key pair (a copy of its secret: the caller wipes both). */
export function ageIdentityOf(key: ReceivingKey): AgeIdentity {
  const secret = new Uint8Array(key.secretKey);
  return key.kind === 'xwing' ? hybridIdentity(secret) : x25519Identity(secret, key.publicKey);
}
