// Which members a file is encrypted to: the nearest `.noteseal/recipients` above it (like `.sops.yaml`
// creation rules), verified as a signed chain (recipients-file.ts), checked against what this machine
// pinned for that list the first time it trusted it (TOFU; the pins live beside the keyfile, never in the
// repository), and only used when the writer is a member. Every write path calls `recipientsFor`: the
// worker's saves, Encrypt File/Folder, and the CLI's encrypt.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readHeaderFromFile, writeFileAtomic, type PayloadBoundStanza } from '../crypto/format';
import { checkWriteSignature, signedPathOf, writeSignatureStanza } from './write-signature';
import { judgeWriter, signedBy, type TrustedWriters } from './authorship';
import { sameIdentity, type PublicIdentity } from './identity-strings';
import {
  entryId, GENESIS_PREV, parseRecipientsText, serializeRecipients, signEntry, untrusted, verifyChain, type ChainEntry, type Member, type VerifiedChain,
} from './recipients-file';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { parsePublicIdentity, shortIdentity } from './identity-strings';
import type { Keyring, NewFileKeys } from './keyring';
import type { Recipient } from './recipients';
import {
  acceptInto, acceptList, extendsRecord, readAcceptedLists, recordOf, rememberedFolders, updateAcceptedLists, type AcceptedLists, type Acceptance,
} from './accepted-lists';
import { checkListPlacement, RECIPIENTS_DIR, RECIPIENTS_NAME, recipientsFileIn, searchedFolders, type SearchBounds } from './list-search';
import { readersOf } from './readers';

export { RECIPIENTS_DIR, RECIPIENTS_NAME, recipientsFileIn } from './list-search';
const MAX_LIST_BYTES = 4 * 1024 * 1024;

/**
 * The folders of this window's VS Code workspace (the worker sets them; the CLI has none): a list search
 * stops at the workspace folder when it is nearer than the repository's top.
 */
let windowRoots: readonly string[] = [];
export function setWorkspaceRoots(roots: readonly string[]): void { windowRoots = [...roots]; }
const boundsOf = (b: SearchBounds = {}): SearchBounds => ({ workspaceRoots: b.workspaceRoots ?? windowRoots, ...(b.home ? { home: b.home } : {}) });

/**
 * The nearest `.noteseal/recipients` in the folder of `target` or above it, but never above the top of its
 * repository, workspace folder or home (list-search.ts), or null.
 */
export async function findRecipientsFile(target: string, bounds: SearchBounds = {}): Promise<string | null> {
  return findNearestListFile(target, path.join(RECIPIENTS_DIR, RECIPIENTS_NAME), bounds);
}

/**
 * The nearest `relative` (a recipients list: `.noteseal/recipients`, `.age-recipients`) in the folder of
 * `target` or above it, within the same bounds (list-search.ts), or null: the one walk for every kind of list.
 */
export async function findNearestListFile(target: string, relative: string, bounds: SearchBounds = {}): Promise<string | null> {
  for (const dir of await searchedFolders(target, boundsOf(bounds))) {
    const candidate = path.join(dir, relative);
    const st = await fs.lstat(candidate).catch(() => null);
    if (st) {
      // A link could point the list anywhere (another repository's list, a device): only a regular file counts.
      if (!st.isFile()) throw untrusted(`${candidate} is not a regular file (a link or a folder): refused, nothing was encrypted to anyone.`);
      return candidate;
    }
  }
  return null;
}

// ---- the list for a file --------------------------------------------------------------------------------

/**
 * Verified chains by the SHA-256 of their exact text: verification is a pure function of the bytes, and
 * decoding ten 2 KB identities and checking their signatures took ~5 ms per save.
 */
const verified = new Map<string, VerifiedChain>();

export async function readChain(listFile: string): Promise<VerifiedChain> {
  // The repository is hostile: never through a link, never a pipe or device (a FIFO would block every save),
  // never a huge "list" read into memory before refusing it.
  const text = (await readRegularFile(listFile, { maxBytes: MAX_LIST_BYTES }).catch(e => {
    if (isNoteSealError(e, 'LIMIT_EXCEEDED')) throw untrusted(`${listFile} is larger than 4 MiB: refused, nothing was encrypted to anyone.`);
    throw e;
  })).toString('utf8');
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

export interface SharingContext extends SearchBounds {
  keyfilePath: string;
  /** This keyfile's public identity, or null if it has none yet. */
  ownIdentity: PublicIdentity | null;
}

export interface TrustedList { file: string; chain: VerifiedChain; record: Acceptance }

/** Why a list that verifies is not (yet) used on this machine: each is solved by accepting it, after review. */
export type NotAcceptedReason = 'new' | 'previously-pinned' | 'rewritten' | 'replaced';

export type ListJudgement =
  | { accepted: true; record: Acceptance; folder: string; real: string }
  | { accepted: false; reason: NotAcceptedReason; folder: string; real: string; since?: string };

/** Where `chain` (read from `listFile`) stands against what this machine accepted. No side effects. */
export async function judgeList(listFile: string, chain: VerifiedChain, lists: AcceptedLists): Promise<ListJudgement> {
  const real = await fs.realpath(listFile);
  const folder = path.dirname(path.dirname(real));
  const knownHere = lists.accepted.find(a => a.folders.includes(folder));
  const record = recordOf(lists, chain);
  if (knownHere && knownHere.genesis !== chain.ids[0]) return { accepted: false, reason: 'replaced', folder, real, since: knownHere.at };
  if (record && extendsRecord(chain, record)) return { accepted: true, record, folder, real };
  if (record) return { accepted: false, reason: 'rewritten', folder, real, since: record.at };
  const legacy = lists.legacy[real];
  if (legacy) return { accepted: false, reason: extendsRecord(chain, legacy) ? 'previously-pinned' : 'rewritten', folder, real, since: legacy.at };
  return { accepted: false, reason: 'new', folder, real };
}

/** The sentence and the way out for a list that is not accepted (the CLI's stderr, VS Code's error). */
export function notAcceptedMessage(listFile: string, j: Extract<ListJudgement, { accepted: false }>): string {
  const why = {
    'new': 'this machine has not accepted it yet (a list met for the first time, or a nested list below one it knows, could hand your saves to anyone)',
    'previously-pinned': `this machine used it before (first used ${j.since}), and NoteSeal now asks once before encrypting to a list`,
    'rewritten': `it does not extend what this machine accepted on ${j.since}: its history was rewritten, replaced or rolled back`,
    'replaced': `it is a different list from the one this machine accepted for ${j.folder} on ${j.since}`,
  }[j.reason];
  return `The recipients list ${listFile} is not trusted: ${why}. Nothing was encrypted. Review its members with `
    + `'noteseal recipients list --dir ${j.folder}' and accept it with 'noteseal recipients list --dir ${j.folder} --trust' (in VS Code: save again and accept).`;
}

/**
 * The verified list at `listFile`, for a write: placed where only the user could have written it, listing
 * this keyfile's identity, and accepted on this machine (its record moves forward when the list grew by
 * member-signed changes, and learns a new folder when the same list is met at a new path, a clone).
 * UNTRUSTED_RECIPIENTS otherwise.
 */
export async function trustedList(listFile: string, ctx: SharingContext): Promise<TrustedList> {
  await checkListPlacement(listFile);
  const chain = await readChain(listFile);
  const own = ctx.ownIdentity;
  if (!own) throw untrusted(`${listFile} shares this folder, but this keyfile has no identity yet: run 'noteseal identity' (or unlock in VS Code) first.`);
  if (!chain.members.some(m => sameIdentity(m.identity, own))) {
    throw untrusted(`You are not a member of the recipients list ${listFile}: NoteSeal does not encrypt to a list that does not include you. Ask a member to run 'noteseal recipients add <your identity>'.`);
  }
  const j = await judgeList(listFile, chain, await readAcceptedLists(ctx.keyfilePath));
  if (!j.accepted) throw untrusted(notAcceptedMessage(listFile, j));
  if (j.record.head !== chain.ids.at(-1) || !j.record.folders.includes(j.folder)) {
    await updateAcceptedLists(ctx.keyfilePath, async lists => {
      const again = await judgeList(listFile, chain, lists);
      if (again.accepted) acceptInto(lists, again.folder, again.real, chain);
    });
  }
  return { file: listFile, chain, record: j.record };
}

/**
 * The folder of a list this machine accepted (or pinned) that governed `target` and is gone: between the
 * file's folder and the list that now applies (`listFile`, or the search's top when none does).
 */
async function vanishedList(target: string, listFile: string | null, ctx: SharingContext, lists: AcceptedLists): Promise<string | undefined> {
  const remembered = new Set(rememberedFolders(lists));
  if (remembered.size === 0) return undefined;
  const stopAt = listFile ? path.dirname(path.dirname(listFile)) : null;
  for (const dir of await searchedFolders(target, boundsOf(ctx))) {
    if (dir === stopAt) return undefined;
    const real = await fs.realpath(dir).catch(() => dir);
    if (remembered.has(real)) return dir;
  }
  return undefined;
}

/** The members a new write of `target` is encrypted to ([] when no recipients file applies). */
export async function recipientsFor(target: string, ctx: SharingContext): Promise<Recipient[]> {
  const listFile = await findRecipientsFile(target, ctx);
  const gone = await vanishedList(target, listFile, ctx, await readAcceptedLists(ctx.keyfilePath));
  if (gone) {
    throw untrusted(`The recipients list this machine accepted for ${gone} is gone: NoteSeal will not quietly stop sharing (or share with another list). Nothing was encrypted. `
      + `Restore ${recipientsFileIn(gone)} (git checkout), or, to stop sharing there on purpose, run 'noteseal recipients forget --dir ${gone}'.`);
  }
  if (!listFile) return [];
  const { chain } = await trustedList(listFile, ctx);
  return chain.members.map(m => ({ kind: m.identity.kind, publicKey: m.identity.publicKey }));
}

export interface AcceptedGoverningList { listFile: string; folder: string; members: Member[] }

/**
 * For trust-writers (issue 21 §2): the members of the list that governs `filePath`, only when this machine
 * accepted that list; null when no list governs it or the one that does is not accepted (new, rewritten,
 * replaced, misplaced, or does not verify). Accepts nothing and records nothing.
 */
export async function acceptedGoverningList(filePath: string, ctx: SharingContext): Promise<AcceptedGoverningList | null> {
  try {
    const listFile = await findRecipientsFile(filePath, ctx);
    if (!listFile) return null;
    await checkListPlacement(listFile);
    const chain = await readChain(listFile);
    const j = await judgeList(listFile, chain, await readAcceptedLists(ctx.keyfilePath));
    return j.accepted ? { listFile, folder: path.dirname(path.dirname(listFile)), members: chain.members } : null;
  } catch (e) {
    if (e instanceof NoteSealError && e.code === 'UNTRUSTED_RECIPIENTS') return null;
    throw e;
  }
}

/** A list waiting for the user's acceptance, as the acceptance question shows it. */
export interface PendingList {
  listFile: string;
  folder: string;
  reason: NotAcceptedReason;
  /** The head the user is shown: acceptance applies only if the list still ends there. */
  head: string;
  /** `identity`: the member's public identity text (noteseal1…, age1…), for its kind in words. */
  members: { name: string; fingerprint: string; kind: string; identity: string; addedBy: string; addedAt: string }[];
}

/** The list governing `target` when a write is refused only because it is not accepted yet; else null. */
export async function pendingList(target: string, ctx: SharingContext): Promise<PendingList | null> {
  const listFile = await findRecipientsFile(target, ctx).catch(() => null);
  if (!listFile) return null;
  try {
    await checkListPlacement(listFile);
    const chain = await readChain(listFile);
    if (!ctx.ownIdentity || !chain.members.some(m => sameIdentity(m.identity, ctx.ownIdentity!))) return null;
    const j = await judgeList(listFile, chain, await readAcceptedLists(ctx.keyfilePath));
    if (j.accepted) return null;
    return { listFile, folder: path.dirname(path.dirname(listFile)), reason: j.reason, head: chain.ids.at(-1)!, members: membersForReview(chain) };
  } catch { return null; }
}

export function membersForReview(chain: VerifiedChain): PendingList['members'] {
  return chain.members.map(m => ({ name: m.name, fingerprint: keyFingerprint(m.identity), kind: m.identity.kind, identity: m.identity.text, addedBy: m.addedBy, addedAt: m.addedAt }));
}

/** A short fingerprint of a member's key: the first 16 hex digits of the SHA-256 of its identity text. */
export function keyFingerprint(identity: PublicIdentity): string {
  return createHash('sha256').update(identity.text).digest('hex').slice(0, 16).replace(/(.{4})(?!$)/g, '$1 ');
}

/** Accepts the list at `listFile` when it still verifies and still ends at `head` (what the user reviewed). */
export async function acceptListAt(listFile: string, head: string | undefined, ctx: SharingContext): Promise<VerifiedChain> {
  await checkListPlacement(listFile);
  const chain = await readChain(listFile);
  if (head !== undefined && chain.ids.at(-1) !== head) throw untrusted(`${listFile} changed while you reviewed it: nothing was accepted. Look at it again.`);
  await acceptList(ctx.keyfilePath, listFile, chain);
  return chain;
}

/**
 * A fresh data key for a new write of `target`, wrapped for this keyfile and every member of its list, and
 * the write signature the format fills in once the payload is written (when this keyfile has an identity).
 */
export async function newStanzasFor(keyring: Keyring, target: string): Promise<NewFileKeys & { payloadBound?: PayloadBoundStanza }> {
  const identity = await keyring.identity();
  const ctx = { keyfilePath: keyring.keyfilePath, ownIdentity: identity?.public ?? null };
  const recipients = await recipientsFor(target, ctx);
  const keys = await keyring.newFileStanzas({ recipients });
  // Version 2: the signature binds the path relative to the folder of the list that governs the file.
  const signedPath = identity ? signedPathOf(target, (await trustedWritersFor(target, ctx)).folder) : undefined;
  return identity ? { ...keys, payloadBound: writeSignatureStanza(identity.signing, keys.dataKey, signedPath) } : keys;
}

/**
 * Adds a member to `folder`'s `.noteseal/recipients`, signed by this keyfile's identity (created if missing).
 * Without a list, creates one whose first member (the genesis) is this keyfile, named `firstName` (or
 * `name` when the identity added is this keyfile's own). The list is verified and must be accepted on this
 * machine first; a name or identity already there is refused. The new list (or the grown one) is accepted.
 */
export async function addMember(keyring: Keyring, folder: string, identityText: string, opts: { name?: string; firstName: string }): Promise<{ file: string; created: boolean; members: number; name: string; firstName?: string }> {
  const identity = parsePublicIdentity(identityText);
  const file = recipientsFileIn(folder);
  const me = (await keyring.ensureIdentity()).identity;
  const mine = sameIdentity(identity, me.public);
  const exists = await fs.lstat(file).then(() => true, () => false);
  const chain = exists ? (await trustedList(file, { keyfilePath: keyring.keyfilePath, ownIdentity: me.public })).chain : null;
  const refuse = (why: string) => new NoteSealError('INVALID_ARGUMENT', why);
  if (chain && mine) {
    const self = chain.members.find(m => sameIdentity(m.identity, me.public))!;
    throw refuse(`You are already a member of ${file} as "${self.name}": nothing changed. A member's name is part of the signed history and cannot be changed.`);
  }
  const name = opts.name ?? (mine ? opts.firstName : shortIdentity(identity.text));
  const entries: ChainEntry[] = chain ? [...chain.entries] : [];
  const members: { name: string; identity: PublicIdentity }[] = chain ? [...chain.members] : [];
  let prev = chain ? chain.ids.at(-1)! : GENESIS_PREV;
  const append = (e: ChainEntry, who: PublicIdentity) => { entries.push(e); members.push({ name: e.name, identity: who }); prev = entryId(e); };
  let firstName: string | undefined;
  if (!chain) {
    firstName = mine ? name : opts.firstName;
    if (!mine && firstName === name) throw refuse(`You and the new member would both be named "${name}": choose another name for one of you.`);
    append(signEntry({ op: 'add', name: firstName, identity: me.public.text, prev }, me.signing), me.public);
  }
  if (!mine) {
    if (members.some(m => sameIdentity(m.identity, identity))) throw refuse(`${shortIdentity(identity.text)} is already a member of ${file}.`);
    if (members.some(m => m.name === name)) throw refuse(`A member is already named "${name}": choose another name.`);
    append(signEntry({ op: 'add', name, identity: identity.text, prev }, me.signing), identity);
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, Buffer.from(serializeRecipients(entries)), 0o644);
  await acceptList(keyring.keyfilePath, file, await readChain(file));
  return { file, created: !chain, members: members.length, name, ...(firstName !== undefined ? { firstName } : {}) };
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
  /**
   * From the file's own header: `readers` are the members it is encrypted to, `notYet` the members it is not
   * encrypted to yet (both by name), `unlisted` how many other keys it is encrypted to. `you`: this keyfile opens it.
   */
  access: { you: boolean; yourName?: string; readers: string[]; notYet: string[]; unlisted: number };
  /** Why the list is refused (it applies, but NoteSeal will not encrypt to it). */
  listProblem?: string;
  /** `byYou`: the signer is this keyfile's own signing key (a private note has no list to name it). */
  writer: { state: 'unsigned' | 'invalid' | 'valid'; name?: string; signer?: string; byYou?: boolean; at?: string; warning?: string };
}

function ownName(members: Member[] | null, own: PublicIdentity | null): { yourName?: string } {
  const mine = own ? members?.find(m => sameIdentity(m.identity, own)) : undefined;
  return mine ? { yourName: mine.name } : {};
}

/** Who can read `file` and who wrote it (for "Who Can Read This File?", the lock badge's tooltip and the warning a note opens with). */
export async function describeSharing(keyring: Keyring, file: string): Promise<SharingFacts> {
  const listFile = await findRecipientsFile(file).catch(() => null);
  const own = (await keyring.identity())?.public ?? null;
  const ctx = { keyfilePath: keyring.keyfilePath, ownIdentity: own };
  let members: Member[] | null = null;
  let listProblem: string | undefined;
  if (listFile) {
    try { members = (await trustedList(listFile, ctx)).chain.members; }
    catch (e) { listProblem = (e as Error).message; members = (await readChain(listFile).catch(() => null))?.members ?? null; }
  }
  const { stanzas } = await readHeaderFromFile(file);
  let dataKey: Uint8Array | undefined;
  try { dataKey = await keyring.unwrap(stanzas); } catch { /* the writer is still reported without the key check */ }
  const youCanRead = dataKey !== undefined;
  // The writer is judged against what this machine trusts (trustedWritersFor), as every reader does.
  const w = await checkWriteSignature(file, dataKey).finally(() => dataKey?.fill(0));
  const v = judgeWriter(file, w, stanzas, await trustedWritersFor(file, ctx), own);
  // Readers are the file's own stanzas (and its authentic writer's own copy); members added since are "not yet" (issue 25).
  // Who can decrypt is a fact of the header, not of trust: the member of the list shown whose key made a valid
  // signature (commitment checked) holds the writer's own copy, whether or not this machine accepted the list.
  const signerMember = (members ?? []).find(m => signedBy(m.identity, w))?.name;
  const access = readersOf(stanzas, members ?? [], own, youCanRead, signerMember);
  return {
    listFile,
    members: (members ?? []).map(m => ({ name: m.name, identity: m.identity.text, kind: m.identity.kind })),
    access: { you: youCanRead, ...ownName(members, own), readers: access.readers.map(m => m.name), notYet: access.notYet.map(m => m.name), unlisted: access.unlisted },
    ...(listProblem ? { listProblem } : {}),
    writer: {
      state: w.state,
      ...(v.member ? { name: v.member } : {}),
      ...(w.state !== 'unsigned' && w.signer ? { signer: w.signer } : {}),
      ...(v.byYou ? { byYou: true } : {}),
      ...(w.state === 'valid' ? { at: w.at.toISOString() } : {}),
      ...(v.warning ? { warning: v.warning } : {}),
    },
  };
}

/**
 * The members who may write `filePath`: the ONE place every reader asks (exec, decrypt, inspect, verify,
 * the git drivers, grep, search, updatekeys, --rekey and VS Code). The list is found as `recipientsFor`
 * finds it (bounded by the repository, the workspace folder or home) and counts only once this machine has
 * accepted it (`acceptedGoverningList`). Reading judges writers, it does not encrypt: the reader need not be
 * a member, and nothing is accepted here. A list that is not accepted trusts nobody but the user.
 */
export async function trustedWritersFor(filePath: string, ctx: SharingContext): Promise<TrustedWriters> {
  let listFile: string | null;
  try { listFile = await findRecipientsFile(filePath, ctx); } catch (e) {
    return { listFile: null, folder: null, members: [], refused: (e as Error).message };
  }
  if (!listFile) return { listFile: null, folder: null, members: [] };
  const folder = path.dirname(path.dirname(listFile));
  try {
    const accepted = await acceptedGoverningList(filePath, ctx);
    if (accepted && accepted.listFile === listFile) return { listFile, folder, members: accepted.members };
    return { listFile, folder, members: [], refused: `${listFile} is not accepted on this machine (review it with \`noteseal recipients list --trust --dir ${folder}\`)` };
  } catch (e) {
    return { listFile, folder, members: [], refused: (e as Error).message };
  }
}
