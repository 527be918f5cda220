// `noteseal recipients add|remove|list|forget` (the signed `.noteseal/recipients` of a folder) and
// `noteseal updatekeys <path>…` (rewrap headers to the current list without re-encrypting content).
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { decryptStream, encryptFile, readHeaderFromFile, rewrapFile, type Stanza } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { shortIdentity } from '../keys/identity-strings';
import { defaultOwnName } from '../keys/own-name';
import type { Keyring } from '../keys/keyring';
import { parseStanza } from '../keys/stanzas';
import { findEncryptedFiles } from '../keys/rotation';
import { serializeRecipients, signEntry, type ChainEntry } from '../keys/recipients-file';
import { acceptList, forgetFolder, readAcceptedLists } from '../keys/accepted-lists';
import {
  acceptListAt, addMember, findRecipientsFile, judgeList, keyFingerprint, newStanzasFor, notAcceptedMessage, readChain, recipientsFileIn, recipientsFor, trustedList,
  type SharingContext,
} from '../keys/sharing';
import { writeFileAtomic } from '../crypto/format';
import { STANZA_WRITE_SIGNATURE } from '../keys/write-signature';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, keyfilePath, withKeyring, type CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { writeToStdout } from './stdout';
import { acceptAgeList, acceptAgeListCommand, ageListState, findAgeRecipientsFile, readAgeRecipientsList } from '../formats/age-recipients';
import { findSopsConfig } from '../formats/sops-config';
import { listSopsConfig } from './sops-commands';
import { UnverifiedWriter, writerVerdict } from './writer-check';

function folderOf(ctx: CliContext): string {
  const d = ctx.args.options.get('dir');
  return path.resolve(typeof d === 'string' ? d : '.');
}

async function sharingContext(keyring: Keyring): Promise<SharingContext> {
  return { keyfilePath: keyring.keyfilePath, ownIdentity: (await keyring.ensureIdentity()).identity.public };
}

/** Appends entries to the list and accepts the result: our own change extends what we accepted. */
async function writeList(ctx: CliContext, file: string, entries: ChainEntry[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, Buffer.from(serializeRecipients(entries)), 0o644);
  await acceptList(keyfilePath(ctx), file, await readChain(file));
}

export async function recipientsCommand(ctx: CliContext): Promise<number> {
  const [verb, ...rest] = ctx.args.operands;
  const sub = { ...ctx, args: { ...ctx.args, command: `recipients ${verb ?? ''}`.trim(), operands: rest } };
  if (verb === 'add') return addCommand(sub);
  if (verb === 'remove') return removeCommand(sub);
  if (verb === 'list') return listCommand(sub);
  if (verb === 'forget') return forgetCommand(sub);
  throw new UsageError('recipients: expected add, remove, list or forget');
}

async function addCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'name', 'dir', 'my-name');
  const [text] = expectOperands(ctx.args, 1, 1, 'identity (noteseal1…, age1… or age1pq1…)');
  const givenName = ctx.args.options.get('name');
  const myName = ctx.args.options.get('my-name');
  const folder = folderOf(ctx);
  const firstName = typeof myName === 'string' ? myName : defaultOwnName(ctx.env);
  const r = await withKeyring(ctx, keyring => addMember(keyring, folder, text!, { ...(typeof givenName === 'string' ? { name: givenName } : {}), firstName }));
  if (r.created) {
    const how = typeof myName === 'string' || r.firstName === r.name && typeof givenName === 'string' ? '' : ' (from $USER or your login name; choose it with --my-name NAME when creating a list)';
    ctx.note(`Created ${r.file} with you ("${r.firstName}") as the first member${how}.`);
  }
  if (r.firstName === r.name && r.members === 1) {
    ctx.note(`${r.file} lists only you. Add members with 'noteseal recipients add <identity> --name NAME'.`);
    return ExitCode.OK;
  }
  ctx.note(`Added "${r.name}" to ${r.file} (${r.members} members). New saves below ${folder} are encrypted to every member;`);
  ctx.note(`run 'noteseal updatekeys ${folder}' to share the existing files now, and commit ${path.relative(process.cwd(), r.file) || r.file}.`);
  return ExitCode.OK;
}

async function removeCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'dir', 'rekey');
  const [who] = expectOperands(ctx.args, 1, 1, 'identity or name of the member to remove');
  const folder = folderOf(ctx);
  const file = recipientsFileIn(folder);
  return withKeyring(ctx, async keyring => {
    const sc = await sharingContext(keyring);
    const { chain } = await trustedList(file, sc);
    const member = chain.members.find(m => m.name === who || m.identity.text === who!.trim());
    // A removal by identity with a name is never signed under another member's name (verifyChain refuses that).
    if (!member) throw new UsageError(`no member of ${file} is named or identified by ${shortIdentity(who!)}`);
    const me = (await keyring.identity())!;
    // Who wrote each file is judged against the list as it was: the member leaving wrote theirs as a member.
    const unverified = ctx.args.options.has('rekey') ? await unverifiedBelow(ctx, keyring, folder, file) : new Map<string, string>();
    const entry = signEntry({ op: 'remove', name: member.name, identity: member.identity.text, prev: chain.ids.at(-1)! }, me.signing);
    await writeList(ctx, file, [...chain.entries, entry]);
    ctx.note(`Removed "${member.name}" from ${file}. New saves are no longer encrypted to them.`);
    ctx.note(`Warning: every copy they could read before stays readable to them, including every version in git history.`);
    if (!ctx.args.options.has('rekey')) {
      ctx.note(`The files below ${folder} still hold a key for them until they are saved again: run 'noteseal recipients remove' with --rekey`);
      ctx.note(`(new data keys, content re-encrypted) or 'noteseal updatekeys ${folder}', and rotate any secret they knew.`);
      return ExitCode.OK;
    }
    const report = await rekeyFolder(ctx, keyring, folder, file, unverified);
    return report;
  });
}

/** --rekey: every `.enc` below `folder` that this list governs gets a new data key and re-encrypted content. */
async function rekeyFolder(ctx: CliContext, keyring: Keyring, folder: string, listFile: string, unverified: ReadonlyMap<string, string>): Promise<number> {
  let status: number = ExitCode.OK;
  for (const file of await findEncryptedFiles(folder)) {
    if (await findRecipientsFile(file) !== listFile) continue;
    const warning = unverified.get(file);
    if (warning) { status = skipped(ctx, new UnverifiedWriter(warning), status); continue; }
    try {
      await aboutFile(file, async () => {
        const { stanzas } = await readHeaderFromFile(file);
        if (stanzas.map(parseStanza).some(s => s.kind === 'detached')) throw new NoteSealError('INVALID_ARGUMENT', 'has a detached (shreddable) key: not shared, left alone');
        const fresh = await newStanzasFor(keyring, file);
        try {
          // Streamed: plaintext stays in memory; the old file is replaced only once the new one is complete.
          await encryptFile(decryptStream(file, keyring.unwrap), file, fresh.dataKey, fresh.stanzas, { payloadBound: fresh.payloadBound });
        } finally { wipe(fresh.dataKey); }
      });
      ctx.note(`rekeyed  ${file}`);
    } catch (e) {
      if (e instanceof UnverifiedWriter) { status = skipped(ctx, e, status); continue; }
      ctx.note(`FAILED   ${(e as Error).message}`);
      if (status === ExitCode.OK) status = e instanceof NoteSealError ? exitCodeFor(e.code) : ExitCode.IO;
    }
  }
  return status;
}

/**
 * --rekey and updatekeys hand a file to every member and (--rekey) sign it as ours: never one that no trusted
 * writer wrote. It is left as it was, and said so.
 */
async function refuseUnverified(ctx: CliContext, file: string, stanzas: Stanza[], keyring: Keyring, dataKey?: Uint8Array): Promise<void> {
  const key = dataKey ?? await keyring.unwrap(stanzas);
  try {
    const verdict = await writerVerdict(ctx, file, stanzas, { dataKey: key });
    if (!verdict.authentic) throw new UnverifiedWriter(verdict.warning!);
  } finally { if (!dataKey) wipe(key); }
}

/** The files below `folder` governed by `listFile` that no trusted writer wrote, with why (before the list changes). */
async function unverifiedBelow(ctx: CliContext, keyring: Keyring, folder: string, listFile: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await findEncryptedFiles(folder)) {
    if (await findRecipientsFile(file) !== listFile) continue;
    const stanzas = await readHeaderFromFile(file).then(h => h.stanzas, () => null);
    if (stanzas) await refuseUnverified(ctx, file, stanzas, keyring).catch(e => { if (e instanceof UnverifiedWriter) found.set(file, e.message); });
  }
  return found;
}

/** Reports a file left alone for its writer; the command then exits UNVERIFIED_WRITER (unless something failed first). */
function skipped(ctx: CliContext, e: UnverifiedWriter, status: number): number {
  ctx.note(`SKIPPED  ${e.message} Left as it was (not rekeyed, not re-signed).`);
  return status === ExitCode.OK ? ExitCode.UNVERIFIED_WRITER : status;
}

/** `recipients list [--trust]` for a `.age-recipients`: its recipients and state; `--trust` accepts exactly what was shown. */
async function listAgeRecipientsFile(ctx: CliContext, listFile: string): Promise<number> {
  const list = await readAgeRecipientsList(listFile);
  const { state, at } = await ageListState(keyfilePath(ctx), list);
  const shown = state === 'accepted' ? `accepted on this machine (${at})` : state === 'changed' ? `CHANGED since this machine accepted it (${at})` : 'not yet accepted on this machine';
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ file: listFile, kind: 'age-recipients', recipients: list.entries.map(e => e.text), sha256: list.sha256, accepted: state === 'accepted' }, null, 2) + '\n'));
  } else {
    const lines = [`${listFile}: ${list.entries.length} age recipients (unsigned); ${shown}`];
    for (const e of list.entries) lines.push(`  ${e.text}`);
    await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  }
  if (ctx.args.options.has('trust')) {
    if (state !== 'accepted') await acceptAgeList(keyfilePath(ctx), list);
    ctx.note(`Accepted ${listFile} (${list.entries.length} age recipients) on this machine: new age files below ${path.dirname(listFile)} are encrypted to the recipients above.`);
    return ExitCode.OK;
  }
  if (state !== 'accepted') {
    ctx.note(`${listFile} is not used until you accept it: review the recipients above, then run ${acceptAgeListCommand(listFile)}`);
    if (state === 'changed') return ExitCode.UNTRUSTED_RECIPIENTS;
  }
  return ExitCode.OK;
}

async function listCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'dir', 'json', 'trust');
  expectOperands(ctx.args, 0);
  const folder = folderOf(ctx);
  const file = await findRecipientsFile(path.join(folder, 'x'));
  // A `.age-recipients` (age files, issue 26) is shown and accepted the same way: never used before that.
  const ageList = await findAgeRecipientsFile(path.join(folder, 'x'));
  // A `.sops.yaml` (sops files, issue 27) too: its creation rules are used only once accepted.
  const sopsConfig = await findSopsConfig(path.join(folder, 'x'));
  if (!file && !ageList && !sopsConfig) throw new UsageError(`no .noteseal/recipients, .age-recipients or .sops.yaml applies to ${folder}`);
  const sopsStatus = sopsConfig ? await listSopsConfig(ctx, sopsConfig) : ExitCode.OK;
  const ageStatus = ageList ? await listAgeRecipientsFile(ctx, ageList) : sopsStatus;
  if (!file) return ageStatus === ExitCode.OK ? sopsStatus : ageStatus;
  const chain = await readChain(file);
  const trust = ctx.args.options.has('trust');
  const judged = await judgeList(file, chain, await readAcceptedLists(keyfilePath(ctx)));
  const members = chain.members.map(m => ({ name: m.name, identity: m.identity.text, kind: m.identity.kind, fingerprint: keyFingerprint(m.identity), addedBy: m.addedBy, addedAt: m.addedAt }));
  const state = judged.accepted ? 'accepted on this machine' : judged.reason === 'rewritten' || judged.reason === 'replaced' ? 'DOES NOT extend what this machine accepted'
    : judged.reason === 'previously-pinned' ? 'used before on this machine, not yet accepted' : 'not yet accepted on this machine';
  // Shown first, then accepted: `--trust` accepts exactly what was printed (acceptListAt checks the head).
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ file, members, entries: chain.entries.length, pin: state, accepted: judged.accepted }, null, 2) + '\n'));
  } else {
    const lines = [`${file}: ${members.length} members, ${chain.entries.length} signed changes; ${state}`];
    for (const m of members) lines.push(`  ${m.name.padEnd(16)} ${m.fingerprint}  ${shortIdentity(m.identity)}  (${m.kind}, added by ${m.addedBy}, ${m.addedAt})`);
    await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  }
  if (trust) {
    await acceptListAt(file, chain.ids.at(-1), { keyfilePath: keyfilePath(ctx), ownIdentity: null });
    ctx.note(`Accepted ${file} (${members.length} members) on this machine: saves below ${path.dirname(path.dirname(file))} are encrypted to the members above.`);
    return ExitCode.OK;
  }
  if (!judged.accepted) {
    ctx.note(notAcceptedMessage(file, judged));
    if (judged.reason === 'rewritten' || judged.reason === 'replaced') return ExitCode.UNTRUSTED_RECIPIENTS;
  }
  return ExitCode.OK;
}

/** `recipients forget --dir D`: this machine stops remembering D's list (a deliberate end of sharing there). */
async function forgetCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'dir');
  expectOperands(ctx.args, 0);
  const folder = folderOf(ctx);
  const dropped = await forgetFolder(keyfilePath(ctx), folder);
  if (dropped === 0) { ctx.note(`This machine remembers no recipients list for ${folder}: nothing changed.`); return ExitCode.OK; }
  ctx.note(`Forgot the recipients list of ${folder}. New saves there are private unless a list is there and you accept it again.`);
  return ExitCode.OK;
}

/** Rewraps each file's header to its folder's current members (same data key, content untouched). */
export async function updatekeysCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const paths = expectOperands(ctx.args, 1, Infinity, 'file or folder');
  return withKeyring(ctx, async keyring => {
    const sc = await sharingContext(keyring);
    let status: number = ExitCode.OK;
    for (const p of paths) {
      const files = (await fs.stat(p)).isDirectory() ? await findEncryptedFiles(p) : [p];
      for (const file of files) {
        try {
          const n = await aboutFile(file, async () => {
            const { stanzas } = await readHeaderFromFile(file);
            if (stanzas.map(parseStanza).some(s => s.kind === 'detached')) throw new NoteSealError('INVALID_ARGUMENT', 'has a detached (shreddable) key: not shared, left alone');
            const recipients = await recipientsFor(file, sc);
            const dataKey = await keyring.unwrap(stanzas);
            try {
              await refuseUnverified(ctx, file, stanzas, keyring, dataKey);
              // The write signature does not cover the other stanzas: it is kept and stays valid.
              const signature = stanzas.filter(st => st.type === STANZA_WRITE_SIGNATURE);
              await rewrapFile(file, async () => dataKey.slice(), [...await keyring.stanzasFor(dataKey, recipients), ...signature]);
            } finally { wipe(dataKey); }
            return recipients.length;
          });
          ctx.note(`updated  ${file} (${n > 0 ? `${n} members` : 'not shared'})`);
        } catch (e) {
          if (e instanceof UnverifiedWriter) { status = skipped(ctx, e, status); continue; }
          ctx.note(`FAILED   ${(e as Error).message}`);
          if (status === ExitCode.OK) status = e instanceof NoteSealError ? exitCodeFor(e.code) : ExitCode.IO;
        }
      }
    }
    return status;
  });
}
