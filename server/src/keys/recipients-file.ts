// The recipients file `.noteseal/recipients` (docs/KEYS.md, "Recipients file"): a chain of signed changes.
// Pure: parsing, verification and signing of entries; the file system is in sharing.ts. The repository is
// hostile, so nothing here trusts the file: every entry must be signed by a member as of the entry before
// it (the genesis by the member it adds), each names the hash of the one before, and anything else refuses
// the whole list with a message naming the change (UNTRUSTED_RECIPIENTS).
//
//   # comment lines and blank lines are ignored
//   noteseal-recipients 1
//   {"op":"add","name":"alice","identity":"noteseal1…","prev":"<64 hex>","by":"<64 hex>","at":"<ISO 8601>","sig":"<base64>"}
//   …one entry per line, oldest first
import { createHash } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { constantTimeEqual, fromBase64, fromHex, toBase64, toHex, utf8 } from './bytes';
import { ed25519, type RawKeyPair } from './curves';
import { parsePublicIdentity, sameIdentity, shortIdentity, type PublicIdentity } from './identity-strings';

export const RECIPIENTS_HEADER = 'noteseal-recipients 1';
export const GENESIS_PREV = '0'.repeat(64);
const MAX_ENTRIES = 1000;
const MAX_NAME = 64;
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface ChainEntry {
  op: 'add' | 'remove';
  name: string;
  identity: string;
  /** Hex SHA-256 id of the entry before (GENESIS_PREV for the first). */
  prev: string;
  /** Hex Ed25519 public key of the member who signed. */
  by: string;
  /** When it was signed (the signer's clock, ISO 8601): for display only. */
  at: string;
  /** Base64 Ed25519 signature over signedBytes(entry). */
  sig: string;
}

export interface Member { name: string; identity: PublicIdentity; addedBy: string; addedAt: string }

export interface VerifiedChain {
  entries: ChainEntry[];
  /** Entry ids (hex), in order. */
  ids: string[];
  members: Member[];
}

export function untrusted(why: string): NoteSealError {
  return new NoteSealError('UNTRUSTED_RECIPIENTS', why);
}

/** What a member signs: a domain tag and the entry's fields in a fixed order. */
export function signedBytes(e: Omit<ChainEntry, 'sig'>): Uint8Array {
  return utf8(`noteseal/v1/recipients-entry\0${JSON.stringify([1, e.op, e.name, e.identity, e.prev, e.by, e.at])}`);
}

/** An entry's id: SHA-256 over what was signed and the signature. */
export function entryId(e: ChainEntry): string {
  return createHash('sha256').update(signedBytes(e)).update(utf8(e.sig)).digest('hex');
}

const NAME_OK = (n: string) => n.length > 0 && n.length <= MAX_NAME && n.trim() === n && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(n);

export function checkName(name: string): void {
  if (!NAME_OK(name)) throw new NoteSealError('INVALID_ARGUMENT', `A member's name is 1 to ${MAX_NAME} printable characters without surrounding spaces.`);
}

function parseEntry(line: string, lineNo: number): ChainEntry {
  const bad = (why: string) => untrusted(`The recipients file's line ${lineNo} is not a signed entry (${why}): nothing was encrypted to anyone.`);
  let v: unknown;
  try { v = JSON.parse(line); } catch { throw bad('not JSON'); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'at,by,identity,name,op,prev,sig') throw bad(`fields ${keys}`);
  for (const k of ['at', 'by', 'identity', 'name', 'op', 'prev', 'sig']) if (typeof o[k] !== 'string') throw bad(`${k} is not text`);
  const e = o as unknown as ChainEntry;
  if (e.op !== 'add' && e.op !== 'remove') throw bad(`unknown operation ${JSON.stringify(e.op).slice(0, 20)}`);
  if (!/^[0-9a-f]{64}$/.test(e.prev) || !/^[0-9a-f]{64}$/.test(e.by)) throw bad('prev or by is not 64 hex digits');
  if (!NAME_OK(e.name)) throw bad('bad name');
  if (e.at.length > 40) throw bad('bad time');
  const sig = fromBase64(e.sig);
  if (!sig || sig.length !== 64) throw bad('bad signature encoding');
  return e;
}

/** The line of the file each parsed entry came from (counting every line, comments included), for messages. */
const lineOf = new WeakMap<ChainEntry, number>();

/** Parses the text structurally (nothing verified yet). UNTRUSTED_RECIPIENTS for anything malformed. */
export function parseRecipientsText(text: string): ChainEntry[] {
  if (text.length > MAX_FILE_BYTES) throw untrusted('The recipients file is larger than 4 MiB: refused.');
  const lines = text.split('\n').map((l, i) => ({ line: l.replace(/\r$/, ''), no: i + 1 })).filter(l => l.line.trim() !== '' && !l.line.startsWith('#'));
  if (lines.length === 0 || lines[0]!.line.trim() !== RECIPIENTS_HEADER) {
    throw untrusted(`The recipients file does not start with "${RECIPIENTS_HEADER}": refused, nothing was encrypted to anyone.`);
  }
  const entries = lines.slice(1).map(l => { const e = parseEntry(l.line, l.no); lineOf.set(e, l.no); return e; });
  if (entries.length === 0) throw untrusted('The recipients file lists no member.');
  if (entries.length > MAX_ENTRIES) throw untrusted(`The recipients file has more than ${MAX_ENTRIES} entries: refused.`);
  return entries;
}

function describe(e: ChainEntry): string {
  return `${e.op === 'add' ? 'adds' : 'removes'} "${e.name}" (${shortIdentity(e.identity)})`;
}

/**
 * Verifies the chain and returns the members it ends with. Refuses (UNTRUSTED_RECIPIENTS) at the first entry
 * that is not signed by a member of the list as it stood before it, naming that entry and what it changes.
 */
export function verifyChain(entries: readonly ChainEntry[]): VerifiedChain {
  const members: Member[] = [];
  const ids: string[] = [];
  for (const [i, e] of entries.entries()) {
    const line = lineOf.get(e);
    const where = `${line ? `Line ${line}` : `Entry ${i + 1}`} of the recipients file ${describe(e)}`;
    let identity: PublicIdentity;
    try { identity = parsePublicIdentity(e.identity); } catch (err) { throw untrusted(`${where}, but ${(err as Error).message}`); }
    const expectedPrev = i === 0 ? GENESIS_PREV : ids[i - 1]!;
    if (e.prev !== expectedPrev) throw untrusted(`${where}, but does not follow the entry before it (the list was edited by hand or reordered): nothing was encrypted to anyone.`);
    const by = fromHex(e.by)!;
    let signer: string;
    if (i === 0) {
      if (e.op !== 'add' || !identity.signingKey || !constantTimeEqual(identity.signingKey, by)) {
        throw untrusted(`${where}: the first entry must add a NoteSeal identity and be signed by it.`);
      }
      signer = e.name;
    } else {
      const m = members.find(x => x.identity.signingKey && constantTimeEqual(x.identity.signingKey, by));
      if (!m) throw untrusted(`${where}, but is not signed by a member (signed by an unknown key ${e.by.slice(0, 16)}…): refused, nothing was encrypted to it.`);
      signer = m.name;
    }
    if (!ed25519.verify(by, signedBytes(e), fromBase64(e.sig)!)) {
      throw untrusted(`${where}, but its signature is invalid (the entry was altered after "${signer}" signed it): refused, nothing was encrypted to it.`);
    }
    const at = members.findIndex(x => sameIdentity(x.identity, identity));
    if (e.op === 'add') {
      if (at >= 0) throw untrusted(`${where}, but that identity is already a member.`);
      if (members.some(x => x.name === e.name)) throw untrusted(`${where}, but another member already has that name.`);
      members.push({ name: e.name, identity, addedBy: signer, addedAt: e.at });
    } else {
      if (at < 0) throw untrusted(`${where}, but that identity is not a member.`);
      // Every message names a removal by its name: it must be the name of the member it removes.
      if (members[at]!.name !== e.name) throw untrusted(`${where}, but the member with that identity is named "${members[at]!.name}": refused, nothing was encrypted to anyone.`);
      members.splice(at, 1);
      if (members.length === 0) throw untrusted(`${where}, the last member: a list cannot become empty.`);
    }
    ids.push(entryId(e));
  }
  return { entries: [...entries], ids, members };
}

/** A new entry signed by `signer` (an Ed25519 key pair of a current member, or of the genesis member). */
export function signEntry(fields: { op: 'add' | 'remove'; name: string; identity: string; prev: string }, signer: RawKeyPair, at = new Date()): ChainEntry {
  checkName(fields.name);
  const unsigned = { ...fields, by: toHex(signer.publicKey), at: at.toISOString() };
  return { ...unsigned, sig: toBase64(ed25519.sign(signer.secretKey, signer.publicKey, signedBytes(unsigned))) };
}

export function serializeRecipients(entries: readonly ChainEntry[]): string {
  const head = [
    '# NoteSeal recipients: the members who can read the .enc files below this folder.',
    '# Change it only with `noteseal recipients add|remove`: every change is signed by a member, and',
    '# NoteSeal refuses the whole list when an entry is not.',
    RECIPIENTS_HEADER,
  ];
  return [...head, ...entries.map(e => JSON.stringify({ op: e.op, name: e.name, identity: e.identity, prev: e.prev, by: e.by, at: e.at, sig: e.sig }))].join('\n') + '\n';
}
