// Which members a file is encrypted to: the nearest `.noteseal/recipients` above it (like `.sops.yaml`
// creation rules), verified as a signed chain (recipients-file.ts), checked against what this machine
// pinned for that list the first time it trusted it (TOFU; the pins live beside the keyfile, never in the
// repository), and only used when the writer is a member. Every write path calls `recipientsFor`: the
// worker's saves, Encrypt File/Folder, and the CLI's encrypt.
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readHeaderFromFile, writeFileAtomic, type PayloadBoundStanza } from '../crypto/format';
import { toHex } from './bytes';
import { checkWriteSignature, writeSignatureStanza, type WriteSignatureCheck } from './write-signature';
import { sameIdentity, type PublicIdentity } from './identity-strings';
import {
  entryId, GENESIS_PREV, parseRecipientsText, serializeRecipients, signEntry, untrusted, verifyChain, type ChainEntry, type Member, type VerifiedChain,
} from './recipients-file';
import { NoteSealError } from '../crypto/errors';
import { parsePublicIdentity, shortIdentity } from './identity-strings';
import type { Keyring, NewFileKeys } from './keyring';
import type { Recipient } from './recipients';

export const RECIPIENTS_DIR = '.noteseal';
export const RECIPIENTS_NAME = 'recipients';
const MAX_LIST_BYTES = 4 * 1024 * 1024;

export function recipientsFileIn(dir: string): string {
  return path.join(dir, RECIPIENTS_DIR, RECIPIENTS_NAME);
}

/** The nearest `.noteseal/recipients` in the folder of `target` or above it, or null. */
export async function findRecipientsFile(target: string): Promise<string | null> {
  return findNearestListFile(target, path.join(RECIPIENTS_DIR, RECIPIENTS_NAME));
}

/**
 * The nearest `relative` (a recipients list: `.noteseal/recipients`, `.age-recipients`) in the folder of
 * `target` or above it, or null: the one walk, so every kind of list has the same search bounds.
 */
export async function findNearestListFile(target: string, relative: string): Promise<string | null> {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const candidate = path.join(dir, relative);
    const st = await fs.lstat(candidate).catch(() => null);
    if (st) {
      // A link could point the list anywhere (another repository's list, a device): only a regular file counts.
      if (!st.isFile()) throw untrusted(`${candidate} is not a regular file (a link or a folder): refused, nothing was encrypted to anyone.`);
      return candidate;
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

// ---- pins (trust on first use) --------------------------------------------------------------------------

export interface Pin { genesis: string; head: string; length: number; at: string }

/** `~/.config/noteseal/keyfile.json` -> `~/.config/noteseal/keyfile.pins.json`. */
export function pinsPathFor(keyfilePath: string): string {
  return path.join(path.dirname(keyfilePath), `${path.basename(keyfilePath).replace(/\.json$/i, '')}.pins.json`);
}

async function readPins(file: string): Promise<Record<string, Pin>> {
  try {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { format?: string; pins?: Record<string, Pin> };
    return json.format === 'noteseal-recipient-pins' && json.pins && typeof json.pins === 'object' ? json.pins : {};
  } catch {
    return {};
  }
}

export async function writePin(keyfilePath: string, listFile: string, chain: VerifiedChain): Promise<void> {
  const file = pinsPathFor(keyfilePath);
  const pins = await readPins(file);
  pins[await fs.realpath(listFile)] = { genesis: chain.ids[0]!, head: chain.ids.at(-1)!, length: chain.ids.length, at: new Date().toISOString() };
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, Buffer.from(JSON.stringify({ format: 'noteseal-recipient-pins', version: 1, pins }, null, 2) + '\n'), 0o600);
}

export async function readPin(keyfilePath: string, listFile: string): Promise<Pin | undefined> {
  return (await readPins(pinsPathFor(keyfilePath)))[await fs.realpath(listFile)];
}

/** Whether `chain` starts with the pinned genesis and contains the pinned head where it was. */
export function extendsPin(chain: VerifiedChain, pin: Pin): boolean {
  return chain.ids[0] === pin.genesis && chain.ids.length >= pin.length && chain.ids[pin.length - 1] === pin.head;
}

// ---- the list for a file --------------------------------------------------------------------------------

/**
 * Verified chains by the SHA-256 of their exact text: verification is a pure function of the bytes, and
 * decoding ten 2 KB identities and checking their signatures took ~5 ms per save.
 */
const verified = new Map<string, VerifiedChain>();

export async function readChain(listFile: string): Promise<VerifiedChain> {
  // The repository is hostile: never read a huge "list" into memory before refusing it.
  const handle = await fs.open(listFile, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  let text: string;
  try {
    if ((await handle.stat()).size > MAX_LIST_BYTES) throw untrusted(`${listFile} is larger than 4 MiB: refused, nothing was encrypted to anyone.`);
    text = await handle.readFile('utf8');
  } finally { await handle.close(); }
  const digest = createHash('sha256').update(text).digest('hex');
  const cached = verified.get(digest);
  if (cached) return cached;
  try {
    const chain = verifyChain(parseRecipientsText(text));
    if (verified.size >= 16) verified.delete(verified.keys().next().value!);
    verified.set(digest, chain);
    return chain;
  } catch (e) {
    if (e instanceof Error) e.message = `${listFile}: ${e.message}`;
    throw e;
  }
}

export interface SharingContext {
  keyfilePath: string;
  /** This keyfile's public identity, or null if it has none yet. */
  ownIdentity: PublicIdentity | null;
}

export interface TrustedList { file: string; chain: VerifiedChain; pin: Pin | undefined }

/**
 * The verified list at `listFile`, checked against its pin (and pinned on first use, or moved forward when
 * it grew). UNTRUSTED_RECIPIENTS when the chain does not verify, no longer extends the pin, or does not
 * list this keyfile's identity.
 */
export async function trustedList(listFile: string, ctx: SharingContext): Promise<TrustedList> {
  const chain = await readChain(listFile);
  const pin = await readPin(ctx.keyfilePath, listFile);
  const folder = path.dirname(path.dirname(listFile));
  if (pin && !extendsPin(chain, pin)) {
    throw untrusted(`Warning: the recipients list ${listFile} no longer extends what this machine trusted on ${pin.at} `
      + `(${pin.length} entries): its history was rewritten or replaced. Nothing was encrypted. Review it with `
      + `'noteseal recipients list --dir ${folder}' and accept it with 'noteseal recipients list --dir ${folder} --trust'.`);
  }
  const own = ctx.ownIdentity;
  if (!own) throw untrusted(`${listFile} shares this folder, but this keyfile has no identity yet: run 'noteseal identity' (or unlock in VS Code) first.`);
  if (!chain.members.some(m => sameIdentity(m.identity, own))) {
    throw untrusted(`You are not a member of the recipients list ${listFile}: NoteSeal does not encrypt to a list that does not include you. Ask a member to run 'noteseal recipients add <your identity>'.`);
  }
  if (!pin || pin.head !== chain.ids.at(-1)) await writePin(ctx.keyfilePath, listFile, chain);
  return { file: listFile, chain, pin };
}

/** The members a new write of `target` is encrypted to ([] when no recipients file applies). */
export async function recipientsFor(target: string, ctx: SharingContext): Promise<Recipient[]> {
  const listFile = await findRecipientsFile(target);
  if (!listFile) return [];
  const { chain } = await trustedList(listFile, ctx);
  return chain.members.map(m => ({ kind: m.identity.kind, publicKey: m.identity.publicKey }));
}

/**
 * A fresh data key for a new write of `target`, wrapped for this keyfile and every member of its list, and
 * the write signature the format fills in once the payload is written (when this keyfile has an identity).
 */
export async function newStanzasFor(keyring: Keyring, target: string): Promise<NewFileKeys & { payloadBound?: PayloadBoundStanza }> {
  const identity = await keyring.identity();
  const recipients = await recipientsFor(target, { keyfilePath: keyring.keyfilePath, ownIdentity: identity?.public ?? null });
  const keys = await keyring.newFileStanzas({ recipients });
  return identity ? { ...keys, payloadBound: writeSignatureStanza(identity.signing, keys.dataKey) } : keys;
}

export interface WriterReport {
  check: WriteSignatureCheck;
  /** The member who signed, by name, when a list applies and lists the signer. */
  member?: string;
  /** The signer is `own` (this keyfile's identity): a private note has no list to name it. */
  byYou?: boolean;
  /** A warning to show when opening, or undefined when all is well. */
  warning?: string;
}

/**
 * Who wrote `file`, judged against the list that applies to it (`members`, or null when it is not shared).
 * Shared files must be signed by a member; an unshared unsigned file (written before signatures) is fine.
 */
export async function writerOf(file: string, members: readonly { name: string; identity: PublicIdentity }[] | null, dataKey?: Uint8Array, own?: PublicIdentity | null): Promise<WriterReport> {
  const check = await checkWriteSignature(file, dataKey);
  if (check.state === 'unsigned') return { check, ...(members ? { warning: `${file} is in a shared folder but is not signed: anyone who can write to the repository may have written it.` } : {}) };
  if (check.state === 'invalid') return { check, warning: `${file}: its write signature is invalid (${check.why}).` };
  const signs = (id: PublicIdentity | null | undefined) => !!id?.signingKey && toHex(id.signingKey) === check.signer;
  const member = members?.find(m => signs(m.identity));
  const byYou = signs(own) ? { byYou: true } : {};
  if (members && !member) return { check, ...byYou, warning: `${file} was signed by ${check.signer.slice(0, 16)}…, who is not a member of its folder's recipients list.` };
  return { check, ...byYou, ...(member ? { member: member.name } : {}) };
}

/**
 * Adds a member to `folder`'s `.noteseal/recipients`, signed by this keyfile's identity (created if missing).
 * Without a list, creates one whose first member (the genesis) is this keyfile, named `firstName`.
 * The list is verified (and pinned) first; a name or identity already there is refused.
 */
export async function addMember(keyring: Keyring, folder: string, identityText: string, opts: { name?: string; firstName: string }): Promise<{ file: string; created: boolean; members: number; name: string }> {
  const identity = parsePublicIdentity(identityText);
  const name = opts.name ?? shortIdentity(identity.text);
  const file = recipientsFileIn(folder);
  const me = (await keyring.ensureIdentity()).identity;
  const exists = await fs.lstat(file).then(() => true, () => false);
  const chain = exists ? (await trustedList(file, { keyfilePath: keyring.keyfilePath, ownIdentity: me.public })).chain : null;
  const entries: ChainEntry[] = chain ? [...chain.entries] : [];
  const members: { name: string; identity: PublicIdentity }[] = chain ? [...chain.members] : [];
  let prev = chain ? chain.ids.at(-1)! : GENESIS_PREV;
  const append = (e: ChainEntry, who: PublicIdentity) => { entries.push(e); members.push({ name: e.name, identity: who }); prev = entryId(e); };
  const refuse = (why: string) => new NoteSealError('INVALID_ARGUMENT', why);
  if (!chain) {
    const own = opts.firstName === name && !sameIdentity(identity, me.public) ? `${opts.firstName} (1)` : opts.firstName;
    append(signEntry({ op: 'add', name: own, identity: me.public.text, prev }, me.signing), me.public);
  }
  if (chain || !sameIdentity(identity, me.public)) {
    if (members.some(m => sameIdentity(m.identity, identity))) throw refuse(`${shortIdentity(identity.text)} is already a member of ${file}.`);
    if (members.some(m => m.name === name)) throw refuse(`A member is already named "${name}": choose another name.`);
    append(signEntry({ op: 'add', name, identity: identity.text, prev }, me.signing), identity);
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, Buffer.from(serializeRecipients(entries)), 0o644);
  await writePin(keyring.keyfilePath, file, await readChain(file));
  return { file, created: !chain, members: members.length, name };
}

/** Someone "Share Folder…" can offer: a member of another list this machine trusts. */
export interface KnownMember { name: string; identity: string; kind: string; list: string }

/**
 * The members of `listFiles` (other folders' lists), for "Share Folder…: pick a member". Only lists that
 * verify and extend their pin count (a member slipped into a tampered list must not be offered as a known
 * person); a refused list is reported by name. Without the caller and without who `folder`'s list already has.
 */
export async function knownMembers(keyring: Keyring, listFiles: readonly string[], folder: string): Promise<{ members: KnownMember[]; refused: string[] }> {
  const ctx = { keyfilePath: keyring.keyfilePath, ownIdentity: (await keyring.identity())?.public ?? null };
  const here = await findRecipientsFile(path.join(folder, 'a file'));
  const already = here ? await trustedList(here, ctx).then(t => t.chain.members, () => []) : [];
  const members: KnownMember[] = [];
  const refused: string[] = [];
  for (const list of listFiles.slice(0, 64)) {
    if (list === here) continue;
    let chain: VerifiedChain;
    try { chain = (await trustedList(list, ctx)).chain; } catch { refused.push(list); continue; }
    for (const m of chain.members) {
      if ((ctx.ownIdentity && sameIdentity(m.identity, ctx.ownIdentity)) || already.some(a => sameIdentity(a.identity, m.identity))) continue;
      if (members.some(k => k.identity === m.identity.text)) continue;
      members.push({ name: m.name, identity: m.identity.text, kind: m.identity.kind, list });
    }
  }
  return { members, refused };
}

export interface SharingFacts {
  /** The list that applies, or null when the file is not shared. */
  listFile: string | null;
  members: { name: string; identity: string; kind: string }[];
  /** Why the list is refused (it applies, but NoteSeal will not encrypt to it). */
  listProblem?: string;
  /** `byYou`: the signer is this keyfile's own signing key (a private note has no list to name it). */
  writer: { state: 'unsigned' | 'invalid' | 'valid'; name?: string; signer?: string; byYou?: boolean; at?: string; warning?: string };
}

/** Who can read `file` and who wrote it (for "Who Can Read This File?" and the lock badge's tooltip). */
export async function describeSharing(keyring: Keyring, file: string): Promise<SharingFacts> {
  const listFile = await findRecipientsFile(file).catch(() => null);
  const own = (await keyring.identity())?.public ?? null;
  let members: Member[] | null = null;
  let listProblem: string | undefined;
  if (listFile) {
    try { members = (await trustedList(listFile, { keyfilePath: keyring.keyfilePath, ownIdentity: own })).chain.members; }
    catch (e) { listProblem = (e as Error).message; members = (await readChain(listFile).catch(() => null))?.members ?? null; }
  }
  let dataKey: Uint8Array | undefined;
  try { dataKey = await keyring.unwrap((await readHeaderFromFile(file)).stanzas); } catch { /* the writer is still reported without the key check */ }
  const w = await writerOf(file, members, dataKey, own).finally(() => dataKey?.fill(0));
  return {
    listFile,
    members: (members ?? []).map(m => ({ name: m.name, identity: m.identity.text, kind: m.identity.kind })),
    ...(listProblem ? { listProblem } : {}),
    writer: {
      state: w.check.state,
      ...(w.member ? { name: w.member } : {}),
      ...(w.check.state !== 'unsigned' && w.check.signer ? { signer: w.check.signer } : {}),
      ...(w.byYou ? { byYou: true } : {}),
      ...(w.check.state === 'valid' ? { at: w.check.at.toISOString() } : {}),
      ...(w.warning ? { warning: w.warning } : {}),
    },
  };
}
