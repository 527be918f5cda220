// The data key of a sops file: sops wraps the same 32-byte key once per master key. NoteSeal opens the
// `age` entries (each `enc` an armored age file holding the key) with the age identities it holds; a file
// wrapped only for PGP, KMS or Vault gets an error that names the keys that would open it. A file whose key is
// split between key groups (`key_groups`, `shamir_threshold`) opens from enough groups' shares (sops-shamir.ts).
import { NoteSealError } from '../crypto/errors';
import { wipe } from '../keys/bytes';
import { isAgeError, openAgeWithFileKey, sealAge, type AgeRecipient } from './age';
import { SopsMetadataError, type SopsMetadataObject } from './sops-metadata';
import { combineShares } from './sops-shamir';
import type { KeysAtHand } from './types';

export const DATA_KEY_LENGTH = 32;

type Entry = Record<string, unknown>;
const entries = (m: SopsMetadataObject, k: string): Entry[] => {
  const v = m[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some(e => typeof e !== 'object' || e === null)) throw new SopsMetadataError(`${k} is not a list of entries`);
  return v as Entry[];
};

/**
 * The key groups of a file as sops reads them (stores.go internalKeygroups): the top-level entries are one
 * group when there are any; else each entry of `key_groups` is a group.
 */
export function keyGroupsOf(m: SopsMetadataObject): SopsMetadataObject[] {
  if (MASTER_KEY_KINDS.some(k => entries(m, k).length > 0)) return [m];
  const groups = m['key_groups'];
  if (groups === undefined || groups === null) return [m];
  if (!Array.isArray(groups) || groups.some(g => typeof g !== 'object' || g === null || Array.isArray(g))) throw new SopsMetadataError('key_groups is not a list of key groups');
  return groups.length ? groups as SopsMetadataObject[] : [m];
}

/** How many key groups open a file split between several (sops's `shamir_threshold`; all of them when absent). */
export function shamirThresholdOf(m: SopsMetadataObject, groups: number): number {
  // A number in YAML/JSON (the YAML reader gives integers as bigint), a string in dotenv and INI metadata.
  const raw = m['shamir_threshold'];
  const t = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : raw;
  if (t === undefined || t === null || t === 0) return groups;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > groups) throw new SopsMetadataError(`shamir_threshold ${String(t)} is not a number of key groups between 1 and ${groups}`);
  return Math.max(t, 2); // sops combines at least two shares (shamir.Combine)
}

const MASTER_KEY_KINDS = ['age', 'pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault'];

/** The master keys of one group, in sops's own words: "age age1…", "PGP FBC7…", "AWS KMS arn:…". */
function groupKeys(g: SopsMetadataObject): string[] {
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

/** Every master key of the file; with several key groups each is prefixed by its group ("group 2: age age1…"). */
export function masterKeysOf(m: SopsMetadataObject): string[] {
  const groups = keyGroupsOf(m);
  if (groups.length === 1) return groupKeys(groups[0]!);
  return groups.flatMap((g, i) => groupKeys(g).map(k => `group ${i + 1}: ${k}`));
}

/** What the first `age` entry of a group that an identity NoteSeal holds opens (undefined when none does). */
async function openGroup(g: SopsMetadataObject, keys: KeysAtHand, length: number): Promise<Uint8Array | undefined> {
  for (const e of entries(g, 'age')) {
    if (typeof e['enc'] !== 'string') continue;
    try {
      const opened = await openAgeWithFileKey(Buffer.from(e['enc'], 'utf8'), stanzas => keys.ageFileKey(stanzas));
      if (opened.plaintext.length !== length) { wipe(opened.plaintext); throw new SopsMetadataError(`the age entry for ${String(e['recipient'])} holds no ${length}-byte ${length === DATA_KEY_LENGTH ? 'data key' : 'Shamir share'}`); }
      return opened.plaintext;
    } catch (err) {
      if (isAgeError(err, 'no match')) continue;
      throw err;
    }
  }
  return undefined;
}

/**
 * The data key: from the first `age` entry an identity NoteSeal holds opens; for a file whose key is split between
 * key groups (Shamir), from the shares of `shamir_threshold` groups, each opened by one of its age entries. A
 * typed WRONG_KEY naming the keys (and, split, the groups still needed) otherwise.
 */
export async function sopsDataKey(m: SopsMetadataObject, keys: KeysAtHand, file: string): Promise<Uint8Array> {
  const groups = keyGroupsOf(m);
  if (groups.length > 1) return shamirDataKey(m, groups, keys, file);
  const key = await openGroup(groups[0]!, keys, DATA_KEY_LENGTH);
  if (key) return key;
  const ages = entries(groups[0]!, 'age');
  const all = masterKeysOf(m);
  const others = all.filter(k => !k.startsWith('age '));
  throw new NoteSealError('WRONG_KEY', `No key NoteSeal holds opens the sops file ${file}. ${ages.length ? 'None of its age recipients is an identity NoteSeal holds. ' : 'It has no age recipient. '}`
    + `It opens with: ${all.join('; ') || 'no master key at all'}.${others.length ? ' NoteSeal opens only age keys: use sops with the PGP, KMS or Vault key, or add an age recipient (sops updatekeys).' : ''}`);
}

async function shamirDataKey(m: SopsMetadataObject, groups: SopsMetadataObject[], keys: KeysAtHand, file: string): Promise<Uint8Array> {
  const threshold = shamirThresholdOf(m, groups.length);
  const shares: Uint8Array[] = [];
  const missing: number[] = [];
  try {
    for (let i = 0; i < groups.length; i++) {
      const share = shares.length < threshold ? await openGroup(groups[i]!, keys, DATA_KEY_LENGTH + 1) : undefined;
      if (share) shares.push(share); else if (shares.length < threshold) missing.push(i);
    }
    if (shares.length < threshold) {
      const opened = shares.length;
      const need = threshold - opened;
      const list = missing.map(i => `group ${i + 1} (${groupKeys(groups[i]!).join(', ') || 'no master key'})`).join('; ');
      throw new NoteSealError('WRONG_KEY', `The sops file ${file} splits its data key between ${groups.length} key groups (Shamir), any ${threshold} of which open it; `
        + `the age identities NoteSeal holds open ${opened === 0 ? 'none' : `only ${opened}`}. ${need} more ${need === 1 ? 'group is' : 'groups are'} needed, from: ${list}.`
        + ' NoteSeal opens only age keys: use sops with the other keys, or add an age key of yours to enough groups.');
    }
    const key = combineShares(shares);
    if (key.length !== DATA_KEY_LENGTH) { wipe(key); throw new SopsMetadataError('the Shamir shares of this file give no 32-byte data key'); }
    return key;
  } finally { for (const s of shares) wipe(s); }
}

/** `age` entries for recipients: the data key sealed to each as an armored age file, as sops writes them. */
export function ageEntriesFor(dataKey: Uint8Array, recipients: readonly { text: string; recipient: AgeRecipient }[]): Entry[] {
  return recipients.map(r => ({ recipient: r.text, enc: sealAge(dataKey, [r.recipient], { armor: true }).toString('utf8') }));
}
