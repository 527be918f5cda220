// A repository's `.sops.yaml` (sops's creation rules): which age recipients and options a new sops file
// below it gets, by `path_regex`. The repository is not trusted: like a `.age-recipients`, a `.sops.yaml` is
// used only once this machine accepted exactly its text (`noteseal recipients list --trust --dir D`), and a
// changed one is refused until accepted again, so a pushed rule cannot add a recipient silently.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { readRegularFile } from '../crypto/safe-open';
import { keyfileLockPath } from '../keys/keyfile';
import type { SearchBounds } from '../keys/list-search';
import { withLock } from '../keys/lockfile';
import { findNearestListFile } from '../keys/sharing';
import type { AgeRecipient } from './age';
import { ageRecipientFor, parseAgeRecipients } from './age-recipients';
import { wipe } from '../keys/bytes';
import { encryptSopsText, looksLikeSops, newSopsState, sopsDocument, sopsStoreOf, type SopsSaveState, type SopsStoreKind } from './sops';
import { ageEntriesFor, keyGroupsOf } from './sops-keys';
import { goRegex } from './sops-metadata';

export const SOPS_CONFIG_NAME = '.sops.yaml';
const MAX_BYTES = 1024 * 1024;
const PINS_FORMAT = 'noteseal-sops-config-pins';

/** The options of a creation rule sops copies into a new file's metadata. */
export const RULE_OPTIONS = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex', 'mac_only_encrypted'] as const;

export interface SopsRule {
  index: number;
  pathRegex?: string;
  age: string[];
  /** Master keys of other kinds the rule names (NoteSeal writes only age): "pgp …", "kms …". */
  others: string[];
  options: Record<string, string | boolean>;
}

export interface SopsConfig { file: string; text: string; sha256: string; rules: SopsRule[] }

const bad = (file: string, why: string) => new NoteSealError('INVALID_ARGUMENT', `${file}: ${why}`);

const listOf = (v: unknown): string[] => (typeof v === 'string' ? v.split(',').map(s => s.trim()).filter(Boolean)
  : Array.isArray(v) ? v.flatMap(x => (typeof x === 'string' ? [x.trim()] : typeof x === 'object' && x && typeof (x as { recipient?: unknown }).recipient === 'string' ? [(x as { recipient: string }).recipient] : [])) : []);

export async function readSopsConfig(file: string): Promise<SopsConfig> {
  const text = (await readRegularFile(file, { maxBytes: MAX_BYTES })).toString('utf8');
  let doc: unknown;
  try { doc = parse(text, { maxAliasCount: 0 }); } catch { throw bad(file, 'is not valid YAML'); }
  const rules = (doc as { creation_rules?: unknown } | null)?.creation_rules;
  if (!Array.isArray(rules)) throw bad(file, 'has no creation_rules list');
  return {
    file, text, sha256: createHash('sha256').update(text).digest('hex'),
    rules: rules.map((r: Record<string, unknown>, index) => {
      if (typeof r !== 'object' || r === null) throw bad(file, `creation rule ${index + 1} is not a mapping`);
      const groups = Array.isArray(r['key_groups']) ? r['key_groups'] as Record<string, unknown>[] : [];
      if (groups.length > 1) throw bad(file, `creation rule ${index + 1} splits the key between key groups (Shamir): NoteSeal does not write such files`);
      const source = groups[0] ?? r;
      const options: Record<string, string | boolean> = {};
      for (const k of RULE_OPTIONS) {
        const v = r[k];
        if (typeof v === 'string' && v !== '') { if (k.endsWith('regex')) goRegex(v, k); options[k] = v; } else if (v === true) options[k] = true;
      }
      if (typeof r['path_regex'] === 'string') goRegex(r['path_regex'], 'path_regex');
      return {
        index, ...(typeof r['path_regex'] === 'string' ? { pathRegex: r['path_regex'] } : {}), age: listOf(source['age']), options,
        others: [...listOf(source['pgp']).map(k => `pgp ${k}`), ...listOf(source['kms']).map(k => `kms ${k}`), ...listOf(source['gcp_kms']).map(k => `gcp_kms ${k}`),
          ...listOf(source['azure_keyvault']).map(k => `azure_keyvault ${k}`), ...listOf(source['hc_vault_transit_uri']).map(k => `hc_vault ${k}`)],
      };
    }),
  };
}

/** The first rule whose path_regex matches `target` (its path below the config's folder, '/'-separated), as sops picks. */
export function ruleFor(config: SopsConfig, target: string): SopsRule {
  const rel = path.relative(path.dirname(config.file), path.resolve(target)).split(path.sep).join('/');
  const rule = config.rules.find(r => r.pathRegex === undefined || goRegex(r.pathRegex, 'path_regex').test(rel));
  if (!rule) throw bad(config.file, `no creation rule's path_regex matches ${rel}`);
  if (rule.age.length === 0) throw bad(config.file, `creation rule ${rule.index + 1} (for ${rel}) names no age recipient${rule.others.length ? ` (only ${rule.others.join(', ')}): NoteSeal writes age only` : ''}`);
  return rule;
}

export function findSopsConfig(target: string, bounds: SearchBounds = {}): Promise<string | null> {
  return findNearestListFile(target, SOPS_CONFIG_NAME, bounds);
}

/** `keyfile.json` → `keyfile.sops-pins.json`: the `.sops.yaml` texts this machine accepted, by real path. */
export function sopsPinsPathFor(keyfilePath: string): string {
  return path.join(path.dirname(keyfilePath), `${path.basename(keyfilePath).replace(/\.json$/i, '')}.sops-pins.json`);
}

type Pins = Record<string, { sha256: string; at: string }>;

async function readPins(file: string): Promise<Pins> {
  let text: string;
  try { text = await fs.readFile(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const v = JSON.parse(text) as { format?: string; pins?: Pins };
  if (v.format !== PINS_FORMAT || typeof v.pins !== 'object' || v.pins === null) throw new NoteSealError('DAMAGED_KEYFILE', `${file} (the .sops.yaml files this machine accepted) does not parse`);
  return v.pins;
}

export async function sopsConfigState(keyfilePath: string, config: SopsConfig): Promise<{ state: 'accepted' | 'new' | 'changed'; at?: string }> {
  const pin = (await readPins(sopsPinsPathFor(keyfilePath)))[await fs.realpath(config.file)];
  if (!pin) return { state: 'new' };
  return pin.sha256 === config.sha256 ? { state: 'accepted', at: pin.at } : { state: 'changed', at: pin.at };
}

export async function acceptSopsConfig(keyfilePath: string, config: SopsConfig): Promise<void> {
  const pinsFile = sopsPinsPathFor(keyfilePath);
  await fs.mkdir(path.dirname(pinsFile), { recursive: true, mode: 0o700 });
  const key = await fs.realpath(config.file);
  await withLock(keyfileLockPath(keyfilePath), { waitMs: 10_000, what: 'The keyfile' }, async () => {
    const pins = await readPins(pinsFile);
    pins[key] = { sha256: config.sha256, at: new Date().toISOString() };
    await writeFileAtomic(pinsFile, Buffer.from(JSON.stringify({ format: PINS_FORMAT, version: 1, pins }, null, 2) + '\n'), 0o600);
  });
}

export function acceptSopsConfigCommand(file: string): string {
  return `noteseal recipients list --trust --dir ${path.dirname(file)}`;
}

/** The accepted `.sops.yaml` governing `target` and its rule for it; UNTRUSTED_RECIPIENTS when not accepted (as it is). */
export async function acceptedRuleFor(keyfilePath: string, target: string, bounds: SearchBounds = {}): Promise<{ config: SopsConfig; rule: SopsRule }> {
  const file = await findSopsConfig(target, bounds);
  if (!file) throw new NoteSealError('INVALID_ARGUMENT', `no ${SOPS_CONFIG_NAME} applies to ${target}: sops files are made by its creation rules`);
  const config = await readSopsConfig(file);
  const { state, at } = await sopsConfigState(keyfilePath, config);
  if (state !== 'accepted') {
    throw new NoteSealError('UNTRUSTED_RECIPIENTS', state === 'new'
      ? `${file} has not been accepted on this machine (anyone who can write to the repository can add a recipient there). Nothing was encrypted. Review its rules, then accept it: ${acceptSopsConfigCommand(file)}`
      : `${file} changed since this machine accepted it on ${at}. Nothing was encrypted. Review it, then accept it again: ${acceptSopsConfigCommand(file)}`);
  }
  return { config, rule: ruleFor(config, target) };
}

/** The age recipients of a rule, parsed (a line NoteSeal cannot encrypt to is refused, never dropped). */
export function ruleRecipients(config: SopsConfig, rule: SopsRule): { text: string; recipient: AgeRecipient }[] {
  return parseAgeRecipients(rule.age.join('\n'), `${config.file} (rule ${rule.index + 1})`).map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
}

/** The `age` recipients a sops file's metadata lists, in order. */
export function ageRecipientsOf(state: SopsSaveState): string[] {
  const entries = state.metadata['age'];
  return Array.isArray(entries) ? entries.map(e => String((e as { recipient?: unknown }).recipient)) : [];
}

/**
 * `text` (an opened sops file, `state` its save state) with its data key rewrapped to exactly `recipients`' age
 * keys (as `sops updatekeys`): values, MAC and other master keys unchanged. Null when they are those already.
 */
export function rewrapSopsText(text: string, state: SopsSaveState, recipients: readonly { text: string; recipient: AgeRecipient }[]): { bytes: Buffer; old: string[]; now: string[] } | null {
  // A key split between key groups: a top-level age list would make sops read one group (stores.go), so refused.
  if (keyGroupsOf(state.metadata).length > 1) throw new NoteSealError('INVALID_ARGUMENT', 'this sops file splits its data key between key groups (Shamir): NoteSeal does not update its keys (use sops updatekeys)');
  const old = ageRecipientsOf(state);
  const now = recipients.map(r => r.text);
  if (old.length === now.length && old.every((r, i) => r === now[i])) return null;
  const doc = sopsDocument(state.kind, text);
  return { bytes: Buffer.from(doc.print({ ...state.metadata, age: ageEntriesFor(state.dataKey, recipients) }), 'utf8'), old, now };
}

/**
 * A plaintext YAML/JSON/dotenv/INI text made a sops file by the accepted `.sops.yaml` rule for `target` (as
 * `sops -e` does): a fresh data key wrapped to the rule's age recipients, with the rule's options.
 * UNTRUSTED_RECIPIENTS when the `.sops.yaml` is not accepted. `noteseal encrypt --sops` and VS Code's
 * Encrypt with sops both come here.
 */
export async function sopsEncryptedText(keyfilePath: string, target: string, text: string): Promise<{ sealed: string; kind: SopsStoreKind; config: SopsConfig; rule: SopsRule }> {
  const { config, rule } = await acceptedRuleFor(keyfilePath, target);
  if (looksLikeSops(text)) throw new NoteSealError('INVALID_ARGUMENT', `${target} is already a sops file`);
  const kind = sopsStoreOf(target, text);
  const state = newSopsState(kind, ruleRecipients(config, rule), rule.options);
  try {
    return { sealed: encryptSopsText(text, state).text, kind, config, rule };
  } finally { wipe(state.dataKey); }
}
