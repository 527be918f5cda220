// Keys for programs with nobody to type a passphrase (servers, CI jobs): an age identity given on purpose,
// as `--identity FILE`, NOTESEAL_IDENTITY (the AGE-SECRET-KEY-… or NOTESEAL-SECRET-KEY-… lines themselves)
// or NOTESEAL_IDENTITY_FILE.
// It opens the files shared to it (its public key is a member of their folder); it never writes: a new file
// needs a keyfile (the agent or a passphrase) for its own stanza and its write signature.
import fs from 'node:fs/promises';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import type { UnwrapDataKey } from '../crypto/format';
import type { AgeStanza } from '../formats/age';
import { ageFileKeyFrom } from '../formats/age-format';
import { wipe } from '../keys/bytes';
import { parseAgeIdentityFile } from '../keys/identity-strings';
import { unwrapWithReceivingKeys, type ReceivingKey } from '../keys/recipients';
import { UsageError } from './args';
import type { CliContext } from './context';

export interface GivenIdentity {
  /** Where it came from, for messages: `NOTESEAL_IDENTITY`, or the file's path. Never the secret. */
  where: string;
  unwrap: UnwrapDataKey;
  /** The file key of an age header this identity opens (an age file shared to it); a typed AgeError otherwise. */
  ageFileKey(stanzas: readonly AgeStanza[]): Uint8Array;
  wipe(): void;
}

/** The identity given on purpose, or null. `--identity FILE` first, then the environment (only one of its two variables). */
export async function identityGiven(ctx: CliContext): Promise<GivenIdentity | null> {
  const option = ctx.args.options.get('identity');
  const text = ctx.env.NOTESEAL_IDENTITY;
  const file = ctx.env.NOTESEAL_IDENTITY_FILE;
  if (typeof option !== 'string' && text !== undefined && file !== undefined) {
    throw new UsageError('set only one of NOTESEAL_IDENTITY and NOTESEAL_IDENTITY_FILE');
  }
  if (typeof option === 'string') return fromText(await fs.readFile(option, 'utf8'), `the identity file ${option}`);
  if (file !== undefined && file !== '') return fromText(await fs.readFile(file, 'utf8'), `the identity file ${file} (NOTESEAL_IDENTITY_FILE)`);
  if (text !== undefined && text !== '') return fromText(text, 'NOTESEAL_IDENTITY');
  return null;
}

function fromText(text: string, where: string): GivenIdentity {
  let keys: ReceivingKey[];
  try {
    keys = parseAgeIdentityFile(text, { identitySecrets: true });
  } catch (e) {
    // parseAgeIdentityFile speaks of "the identity file"; name where it really came from.
    if (isNoteSealError(e)) throw new NoteSealError(e.code, `${where}: ${e.message}`);
    throw e;
  }
  return {
    where,
    unwrap: stanzas => {
      const dataKey = unwrapWithReceivingKeys(stanzas, keys);
      if (!dataKey) throw new NoteSealError('WRONG_KEY', `No key in ${where} opens this file (it was not shared to it).`);
      return dataKey;
    },
    ageFileKey: stanzas => ageFileKeyFrom(keys, stanzas),
    wipe: () => { for (const k of keys) wipe(k.secretKey); },
  };
}

const notOurs = (e: unknown) => isNoteSealError(e, 'WRONG_KEY') || isNoteSealError(e, 'KEY_NOT_FOUND');

/**
 * `unwrap`, falling back to the identity for a file it does not open ('after'), or the identity first and
 * `unwrap` for a file not shared to it ('first': the identity costs nothing, an unlocked keyring is already paid for).
 * When neither opens the file, the error is the first one's.
 */
export function orIdentity(unwrap: UnwrapDataKey, identity: GivenIdentity | null, order: 'after' | 'first' = 'after'): UnwrapDataKey {
  if (!identity) return unwrap;
  const [a, b] = order === 'after' ? [unwrap, identity.unwrap] : [identity.unwrap, unwrap];
  return async stanzas => {
    try {
      return await a(stanzas);
    } catch (first) {
      if (!notOurs(first)) throw first;
      try { return await b(stanzas); } catch (second) { throw notOurs(second) ? first : second; }
    }
  };
}
