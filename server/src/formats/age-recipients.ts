// Who a new write of an age file is for (docs/KEYS.md, "age files: recipients"), in this order:
//   1. the nearest `.age-recipients` (passage's convention: one recipient per line, `#` comments), searched
//      with the same bounds as `.noteseal/recipients`; it is unsigned, so it is pinned on first use (its
//      SHA-256, beside the keyfile) and a changed one is refused until accepted again (`--trust`), and it
//      must list one of the identities NoteSeal holds (else you could not read your own save);
//   2. otherwise the accepted members of the folder's `.noteseal/recipients`, each in its age form;
//   3. otherwise your own identity (age1pq1 for an X-Wing identity).
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { listAgeIdentities, ageRecipientOf } from '../keys/age-identities';
import { parsePublicIdentity, type PublicIdentity } from '../keys/identity-strings';
import { keystoreDirFor } from '../keys/keystore';
import type { Recipient } from '../keys/recipients';
import { untrusted } from '../keys/recipients-file';
import { findNearestListFile, findRecipientsFile, recipientsFor } from '../keys/sharing';
import { hybridRecipient, x25519Recipient, type AgeRecipient } from './age';

export const AGE_RECIPIENTS_NAME = '.age-recipients';
const MAX_BYTES = 1024 * 1024;

export interface AgeRecipientsContext {
  keyfilePath: string;
  ownIdentity: PublicIdentity | null;
  /** Accept a `.age-recipients` that changed since it was pinned (the user reviewed it). */
  trust?: boolean;
}

export interface AgeRecipientsChoice {
  /** Where they came from: the `.age-recipients` or `.noteseal/recipients` path, or "your identity". */
  source: string;
  /** age recipient strings (age1…, age1pq1…), for "Who Can Read This File?" and inspect. */
  texts: string[];
  recipients: AgeRecipient[];
  /** Set when a `.age-recipients` was pinned just now (first use) or accepted again. */
  pinned?: 'first use' | 'accepted change';
}

export function ageRecipientFor(r: Recipient): AgeRecipient {
  return r.kind === 'xwing' ? hybridRecipient(r.publicKey) : x25519Recipient(r.publicKey);
}

/** The nearest `.age-recipients` in the folder of `target` or above: the same walk and bounds as `.noteseal/recipients`. */
export function findAgeRecipientsFile(target: string): Promise<string | null> {
  return findNearestListFile(target, AGE_RECIPIENTS_NAME);
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

async function readPins(file: string): Promise<Record<string, { sha256: string; at: string }>> {
  try {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { format?: string; pins?: Record<string, { sha256: string; at: string }> };
    return json.format === 'noteseal-age-recipients-pins' && json.pins && typeof json.pins === 'object' ? json.pins : {};
  } catch { return {}; }
}

async function readListFile(file: string): Promise<string> {
  const handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    if ((await handle.stat()).size > MAX_BYTES) throw untrusted(`${file} is larger than 1 MiB: refused, nothing was encrypted to anyone.`);
    return await handle.readFile('utf8');
  } finally { await handle.close(); }
}

/** The recipients of a new write of `target` by the rule above. UNTRUSTED_RECIPIENTS for a list refused. */
export async function ageRecipientsFor(target: string, ctx: AgeRecipientsContext): Promise<AgeRecipientsChoice> {
  const listFile = await findAgeRecipientsFile(target);
  if (listFile) return fromAgeRecipientsFile(listFile, ctx);
  if (await findRecipientsFile(target)) {
    const members = await recipientsFor(target, ctx);
    const source = (await findRecipientsFile(target))!;
    return { source, texts: members.map(m => ageRecipientOf(m.kind, m.publicKey)), recipients: members.map(ageRecipientFor) };
  }
  const own = ctx.ownIdentity;
  if (!own) throw new NoteSealError('INVALID_ARGUMENT', 'This keyfile has no identity yet to encrypt the age file to: run \'noteseal identity\' first, or name recipients with -r.');
  return { source: 'your identity', texts: [ageRecipientOf(own.kind, own.publicKey)], recipients: [ageRecipientFor(own)] };
}

async function fromAgeRecipientsFile(listFile: string, ctx: AgeRecipientsContext): Promise<AgeRecipientsChoice> {
  const text = await readListFile(listFile);
  const entries = parseAgeRecipients(text, listFile);
  const held = new Set((await listAgeIdentities(keystoreDirFor(ctx.keyfilePath)).catch(() => [])).map(i => i.recipient));
  if (ctx.ownIdentity) held.add(ageRecipientOf(ctx.ownIdentity.kind, ctx.ownIdentity.publicKey));
  if (!entries.some(e => held.has(e.text))) {
    throw untrusted(`${listFile} lists none of the identities NoteSeal holds: saving would lock you out of the file. Add your age1pq1 recipient (noteseal identity --age) to it, or import your age identity (noteseal identity import).`);
  }
  const digest = createHash('sha256').update(text).digest('hex');
  const pinsFile = pinsPathFor(ctx.keyfilePath);
  const pins = await readPins(pinsFile);
  const key = await fs.realpath(listFile);
  const pin = pins[key];
  let pinned: AgeRecipientsChoice['pinned'];
  if (!pin || pin.sha256 !== digest) {
    if (pin && !ctx.trust) {
      throw untrusted(`${listFile} changed since this machine accepted it on ${pin.at} (anyone who can write to the folder can add a recipient there). Nothing was encrypted. Review it, then accept it with --trust.`);
    }
    pinned = pin ? 'accepted change' : 'first use';
    pins[key] = { sha256: digest, at: new Date().toISOString() };
    await fs.mkdir(path.dirname(pinsFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(pinsFile, Buffer.from(JSON.stringify({ format: 'noteseal-age-recipients-pins', version: 1, pins }, null, 2) + '\n'), 0o600);
  }
  return { source: listFile, texts: entries.map(e => e.text), recipients: entries.map(e => ageRecipientFor(e.recipient)), ...(pinned ? { pinned } : {}) };
}
