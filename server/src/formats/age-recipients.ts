// Who a new write of an age file is for (docs/KEYS.md, "age files: recipients"), in this order:
//   1. the nearest `.age-recipients` (passage's convention: one recipient per line, `#` comments), searched
//      with the same bounds as `.noteseal/recipients` (list-search.ts); it is unsigned, so it is used only
//      once this machine accepted exactly its text (its SHA-256, beside the keyfile): a new or changed one is
//      refused (UNTRUSTED_RECIPIENTS, exit 11) until `noteseal recipients list --trust --dir D` (or
//      `encrypt --age --trust`) accepts it; it must list one of the identities NoteSeal holds;
//   2. otherwise the accepted members of the folder's `.noteseal/recipients`, each in its age form;
//   3. otherwise your own identity (age1pq1 for an X-Wing identity).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { writeFileAtomic } from '../crypto/format';
import { listAgeIdentities, ageRecipientOf } from '../keys/age-identities';
import { parsePublicIdentity, type PublicIdentity } from '../keys/identity-strings';
import { keyfileLockPath } from '../keys/keyfile';
import { keystoreDirFor } from '../keys/keystore';
import { withLock } from '../keys/lockfile';
import type { Recipient } from '../keys/recipients';
import { untrusted } from '../keys/recipients-file';
import type { SearchBounds } from '../keys/list-search';
import { findNearestListFile, findRecipientsFile, recipientsFor } from '../keys/sharing';
import { hybridRecipient, x25519Recipient, type AgeRecipient } from './age';

export const AGE_RECIPIENTS_NAME = '.age-recipients';
const MAX_BYTES = 1024 * 1024;

export interface AgeRecipientsContext extends SearchBounds {
  keyfilePath: string;
  ownIdentity: PublicIdentity | null;
  /**
   * The identity of yours that opened the file being saved (its public half), when it is one of your imported
   * age identities: "your identity" then means that one, so a file `age` wrote to your keys.txt stays one that
   * `age -d -i keys.txt` opens (your NoteSeal identity is post-quantum, which age before 1.3 cannot read).
   */
  openedBy?: Recipient | null;
  /** Accept a new or changed `.age-recipients` (the user asked for it on purpose). */
  trust?: boolean;
}

export interface AgeRecipientsChoice {
  /** Where they came from: the `.age-recipients` or `.noteseal/recipients` path, or "your identity". */
  source: string;
  /** age recipient strings (age1…, age1pq1…), for "Who Can Read This File?" and inspect. */
  texts: string[];
  recipients: AgeRecipient[];
  /** Set when a `.age-recipients` was accepted just now (`--trust`): new, or changed since accepted. */
  pinned?: 'first use' | 'accepted change';
}

export function ageRecipientFor(r: Recipient): AgeRecipient {
  return r.kind === 'xwing' ? hybridRecipient(r.publicKey) : x25519Recipient(r.publicKey);
}

/** The nearest `.age-recipients` in the folder of `target` or above: the same walk and bounds as `.noteseal/recipients`. */
export function findAgeRecipientsFile(target: string, bounds: SearchBounds = {}): Promise<string | null> {
  return findNearestListFile(target, AGE_RECIPIENTS_NAME, bounds);
}

/** The recipients of a `.age-recipients` text; a line NoteSeal cannot encrypt to is refused, never dropped. */
export function parseAgeRecipients(text: string, file: string): { recipient: Recipient; text: string }[] {
  const out: { recipient: Recipient; text: string }[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let id: PublicIdentity;
    try { id = parsePublicIdentity(line); } catch (e) {
      throw new NoteSealError('INVALID_ARGUMENT', `${file}, line ${i + 1}: ${(e as Error).message} NoteSeal encrypts to no one rather than leave a recipient out.`);
    }
    out.push({ recipient: { kind: id.kind, publicKey: id.publicKey }, text: ageRecipientOf(id.kind, id.publicKey) });
  }
  if (out.length === 0) throw new NoteSealError('INVALID_ARGUMENT', `${file} lists no recipient.`);
  return out;
}

function pinsPathFor(keyfilePath: string): string {
  return path.join(path.dirname(keyfilePath), `${path.basename(keyfilePath).replace(/\.json$/i, '')}.age-recipients-pins.json`);
}

type Pins = Record<string, { sha256: string; at: string }>;

async function readPins(file: string): Promise<Pins> {
  try {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { format?: string; pins?: Pins };
    return json.format === 'noteseal-age-recipients-pins' && json.pins && typeof json.pins === 'object' ? json.pins : {};
  } catch { return {}; }
}

/** A `.age-recipients` as read once: what is shown is exactly what is accepted (by its SHA-256). */
export interface AgeRecipientsList { file: string; text: string; sha256: string; entries: { recipient: Recipient; text: string }[] }

/** Read through safe-open: never a link's target, never a planted pipe, never more than 1 MiB. */
export async function readAgeRecipientsList(file: string): Promise<AgeRecipientsList> {
  const text = (await readRegularFile(file, { maxBytes: MAX_BYTES }).catch(e => {
    if (isNoteSealError(e, 'LIMIT_EXCEEDED')) throw untrusted(`${file} is larger than 1 MiB: refused, nothing was encrypted to anyone.`);
    throw e;
  })).toString('utf8');
  return { file, text, sha256: createHash('sha256').update(text).digest('hex'), entries: parseAgeRecipients(text, file) };
}

/** Whether this machine accepted exactly this list: 'accepted', 'new' (never accepted) or 'changed' (since `at`). */
export async function ageListState(keyfilePath: string, list: AgeRecipientsList): Promise<{ state: 'accepted' | 'new' | 'changed'; at?: string }> {
  const pin = (await readPins(pinsPathFor(keyfilePath)))[await fs.realpath(list.file)];
  if (!pin) return { state: 'new' };
  return pin.sha256 === list.sha256 ? { state: 'accepted', at: pin.at } : { state: 'changed', at: pin.at };
}

/** Accepts exactly `list` (its SHA-256) on this machine, under the keyfile's lock. */
export async function acceptAgeList(keyfilePath: string, list: AgeRecipientsList): Promise<void> {
  const pinsFile = pinsPathFor(keyfilePath);
  await fs.mkdir(path.dirname(pinsFile), { recursive: true, mode: 0o700 });
  const key = await fs.realpath(list.file);
  await withLock(keyfileLockPath(keyfilePath), { waitMs: 10_000, what: 'The keyfile' }, async () => {
    const pins = await readPins(pinsFile);
    pins[key] = { sha256: list.sha256, at: new Date().toISOString() };
    await writeFileAtomic(pinsFile, Buffer.from(JSON.stringify({ format: 'noteseal-age-recipients-pins', version: 1, pins }, null, 2) + '\n'), 0o600);
  });
}

/** How to accept a `.age-recipients` on purpose, after reading it. */
export function acceptAgeListCommand(listFile: string): string {
  return `noteseal recipients list --trust --dir ${path.dirname(listFile)}`;
}

/** The recipients of a new write of `target` by the rule above. UNTRUSTED_RECIPIENTS for a list refused. */
export async function ageRecipientsFor(target: string, ctx: AgeRecipientsContext): Promise<AgeRecipientsChoice> {
  const listFile = await findAgeRecipientsFile(target, ctx);
  if (listFile) return fromAgeRecipientsFile(listFile, ctx);
  // The folder's members, with every check of main's rule (accepted list, a list that vanished refuses).
  const members = await recipientsFor(target, ctx);
  if (members.length > 0) {
    const source = (await findRecipientsFile(target, ctx)) ?? 'the folder\'s recipients list';
    return { source, texts: members.map(m => ageRecipientOf(m.kind, m.publicKey)), recipients: members.map(ageRecipientFor) };
  }
  const own = ctx.openedBy ?? ctx.ownIdentity;
  if (!own) throw new NoteSealError('INVALID_ARGUMENT', 'This keyfile has no identity yet to encrypt the age file to: run \'noteseal identity\' first, or name recipients with -r.');
  return { source: 'your identity', texts: [ageRecipientOf(own.kind, own.publicKey)], recipients: [ageRecipientFor(own)] };
}

/** Whether `list` names one of the age identities this keyfile holds (your identity or an imported one). */
async function listsHeldIdentity(list: AgeRecipientsList, ctx: AgeRecipientsContext): Promise<boolean> {
  const held = new Set((await listAgeIdentities(keystoreDirFor(ctx.keyfilePath)).catch(() => [])).map(i => i.recipient));
  if (ctx.ownIdentity) held.add(ageRecipientOf(ctx.ownIdentity.kind, ctx.ownIdentity.publicKey));
  return list.entries.some(e => held.has(e.text));
}

/** A `.age-recipients` that governs `target` and waits for this machine's acceptance (VS Code asks), or null. */
export interface PendingAgeList { listFile: string; folder: string; reason: 'new' | 'changed'; at?: string; sha256: string; recipients: string[] }

export async function pendingAgeList(target: string, ctx: AgeRecipientsContext): Promise<PendingAgeList | null> {
  try {
    const listFile = await findAgeRecipientsFile(target, ctx);
    if (!listFile) return null;
    const list = await readAgeRecipientsList(listFile);
    if (!(await listsHeldIdentity(list, ctx))) return null; // accepting it would not make the save work
    const { state, at } = await ageListState(ctx.keyfilePath, list);
    if (state === 'accepted') return null;
    return { listFile, folder: path.dirname(listFile), reason: state, ...(at ? { at } : {}), sha256: list.sha256, recipients: list.entries.map(e => e.text) };
  } catch { return null; }
}

/** Accepts the `.age-recipients` at `listFile` if its text still has the SHA-256 the user reviewed. */
export async function acceptAgeListAt(listFile: string, sha256: string, ctx: AgeRecipientsContext): Promise<number> {
  const list = await readAgeRecipientsList(listFile);
  if (list.sha256 !== sha256) throw untrusted(`${listFile} changed while you reviewed it: nothing was accepted. Look at it again.`);
  await acceptAgeList(ctx.keyfilePath, list);
  return list.entries.length;
}

async function fromAgeRecipientsFile(listFile: string, ctx: AgeRecipientsContext): Promise<AgeRecipientsChoice> {
  const list = await readAgeRecipientsList(listFile);
  if (!(await listsHeldIdentity(list, ctx))) {
    throw untrusted(`${listFile} lists none of the identities NoteSeal holds: saving would lock you out of the file. Add your age1pq1 recipient (noteseal identity --age) to it, or import your age identity (noteseal identity import).`);
  }
  // A list the repository carries is never used silently (issue 21): not on first use, not after a change.
  const { state, at } = await ageListState(ctx.keyfilePath, list);
  let pinned: AgeRecipientsChoice['pinned'];
  if (state !== 'accepted') {
    if (!ctx.trust) {
      throw untrusted(state === 'new'
        ? `${listFile} has not been accepted on this machine (anyone who can write to the folder can add a recipient there). Nothing was encrypted. Review its recipients, then accept it: ${acceptAgeListCommand(listFile)}`
        : `${listFile} changed since this machine accepted it on ${at} (anyone who can write to the folder can add a recipient there). Nothing was encrypted. Review it, then accept it again: ${acceptAgeListCommand(listFile)}`);
    }
    await acceptAgeList(ctx.keyfilePath, list);
    pinned = state === 'new' ? 'first use' : 'accepted change';
  }
  return { source: listFile, texts: list.entries.map(e => e.text), recipients: list.entries.map(e => ageRecipientFor(e.recipient)), ...(pinned ? { pinned } : {}) };
}
