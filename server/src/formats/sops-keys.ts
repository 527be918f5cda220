// The data key of a sops file: sops wraps the same 32-byte key once per master key. NoteSeal opens the
// `age` entries (each `enc` an armored age file holding the key) with the age identities it holds; a file
// wrapped only for PGP, KMS or Vault gets an error that names the keys that would open it.
import { NoteSealError } from '../crypto/errors';
import { wipe } from '../keys/bytes';
import { isAgeError, openAgeWithFileKey, sealAge, type AgeRecipient } from './age';
import { SopsMetadataError, type SopsMetadataObject } from './sops-metadata';
import type { KeysAtHand } from './types';

export const DATA_KEY_LENGTH = 32;

type Entry = Record<string, unknown>;
const entries = (m: SopsMetadataObject, k: string): Entry[] => {
  const v = m[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some(e => typeof e !== 'object' || e === null)) throw new SopsMetadataError(`${k} is not a list of entries`);
  return v as Entry[];
};

/** The key groups of a file: the top-level entries, or `key_groups` (one group; Shamir splits are refused). */
function keyGroup(m: SopsMetadataObject): SopsMetadataObject {
  const groups = m['key_groups'];
  if (groups === undefined || groups === null) return m;
  if (!Array.isArray(groups)) throw new SopsMetadataError('key_groups is not a list');
  if (groups.length > 1) throw new NoteSealError('INVALID_ARGUMENT', 'this sops file splits its data key between key groups (Shamir): NoteSeal does not open such files');
  return (groups[0] ?? {}) as SopsMetadataObject;
}

/** Every master key of the file, in sops's own words: "age age1…", "PGP FBC7…", "AWS KMS arn:…". */
export function masterKeysOf(m: SopsMetadataObject): string[] {
  const g = keyGroup(m);
  const s = (e: Entry, k: string) => (typeof e[k] === 'string' ? e[k] as string : '?');
  return [
    ...entries(g, 'age').map(e => `age ${s(e, 'recipient')}`),
    ...entries(g, 'pgp').map(e => `PGP ${s(e, 'fp')}`),
    ...entries(g, 'kms').map(e => `AWS KMS ${s(e, 'arn')}`),
    ...entries(g, 'gcp_kms').map(e => `GCP KMS ${s(e, 'resource_id')}`),
    ...entries(g, 'azure_kv').map(e => `Azure Key Vault ${s(e, 'vault_url')}/keys/${s(e, 'name')}/${s(e, 'version')}`),
    ...entries(g, 'hc_vault').map(e => `HashiCorp Vault ${s(e, 'vault_address')}/v1/${s(e, 'engine_path')}/keys/${s(e, 'key_name')}`),
  ];
}

/** The data key, from the first `age` entry an identity NoteSeal holds opens; a typed WRONG_KEY naming the keys otherwise. */
export async function sopsDataKey(m: SopsMetadataObject, keys: KeysAtHand, file: string): Promise<Uint8Array> {
  const ages = entries(keyGroup(m), 'age');
  for (const e of ages) {
    if (typeof e['enc'] !== 'string') continue;
    try {
      const opened = await openAgeWithFileKey(Buffer.from(e['enc'], 'utf8'), stanzas => keys.ageFileKey(stanzas));
      if (opened.plaintext.length !== DATA_KEY_LENGTH) { wipe(opened.plaintext); throw new SopsMetadataError(`the age entry for ${String(e['recipient'])} holds no 32-byte data key`); }
      return opened.plaintext;
    } catch (err) {
      if (isAgeError(err, 'no match')) continue;
      throw err;
    }
  }
  const all = masterKeysOf(m);
  const others = all.filter(k => !k.startsWith('age '));
  throw new NoteSealError('WRONG_KEY', `No key NoteSeal holds opens the sops file ${file}. ${ages.length ? 'None of its age recipients is an identity NoteSeal holds. ' : 'It has no age recipient. '}`
    + `It opens with: ${all.join('; ') || 'no master key at all'}.${others.length ? ' NoteSeal opens only age keys: use sops with the PGP, KMS or Vault key, or add an age recipient (sops updatekeys).' : ''}`);
}

/** `age` entries for recipients: the data key sealed to each as an armored age file, as sops writes them. */
export function ageEntriesFor(dataKey: Uint8Array, recipients: readonly { text: string; recipient: AgeRecipient }[]): Entry[] {
  return recipients.map(r => ({ recipient: r.text, enc: sealAge(dataKey, [r.recipient], { armor: true }).toString('utf8') }));
}
