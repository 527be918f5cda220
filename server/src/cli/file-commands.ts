// Commands that work on encrypted files: encrypt, decrypt, inspect, verify, recover.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs/promises';
import { isNoteSealError } from '../crypto/errors';
import {
  decryptFile, decryptVerifiedFirst, encryptFile, readHeaderFromFile, recoverFile, verifyFile,
  type Stanza, type UnwrapDataKey,
} from '../crypto/format';
import { poolThreshold } from '../crypto/cipher-choice';
import { warmCryptoPool } from '../crypto/pool';
import { parseStanza } from '../keys/stanzas';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, keyfilePath, refuseToOverwrite, type CliContext } from './context';
import { readPublicIdentity } from '../keys/identity';
import { keystoreDirFor } from '../keys/keystore';
import { STANZA_WRITE_SIGNATURE } from '../keys/write-signature';
import { findRecipientsFile, trustedWritersFor } from '../keys/sharing';
import { othersCouldWrite } from '../keys/authorship';
import { kindOfStanza, recipientIdOf, recipientStanzaId } from '../keys/recipients';
import { toHex } from '../keys/bytes';
import { ExitCode, exitCodeFor } from './exit-codes';
import { logWriterPid } from '../logs/appender';
import { readUnfinishedLog, unfinishedLogMessage } from '../logs/reader';
import { withFileKeys } from './file-keys';
import { membersFor, newFileKeysFor } from './new-file-keys';
import { withIdentityFile } from './identity-commands';
import { stdinBlocks } from './stdin';
import { writeManyToStdout, writeToStdout } from './stdout';
import { keepingDataKey, writerVerdict } from './writer-check';
import { isAgeFile, isDotenvxFile, isSopsFile } from '../formats';
import { dotenvxDecrypt, dotenvxInspectLines, dotenvxInspectReport } from './dotenvx-commands';
import { sopsDecrypt, sopsEncryptCommand, sopsInspectLines, sopsInspectReport } from './sops-commands';
import { ageDecrypt, ageEncryptCommand, ageInspectLines, ageInspectReport } from './age-commands';

/**
 * Decrypting to stdout keeps up to this much plaintext from the verifying pass: files up to this size are
 * read and decrypted once; larger ones decrypt only the part beyond it a second time.
 */
const IN_MEMORY_LIMIT = 16 * 1024 * 1024;

/**
 * NOTESEAL_TIMING=1: one stderr line with the time spent unlocking (passphrase, keyfile, Argon2id) and
 * the time spent on the file, so a benchmark can report them apart without weakening the KDF.
 */
function stopwatch(ctx: CliContext, what: string): { unlocked(): void; done(): void } {
  const t0 = performance.now();
  let t1 = t0;
  return {
    unlocked() { t1 = performance.now(); },
    done() {
      if (ctx.env.NOTESEAL_TIMING === '1') ctx.note(`noteseal: timing: unlock ${(t1 - t0).toFixed(1)} ms, ${what} ${(performance.now() - t1).toFixed(1)} ms`);
    },
  };
}

/**
 * Large inputs use the crypto worker threads, started once the key is there (`start`), not beside
 * Argon2id: each thread is about 8 MiB, and on top of the KDF's own memory (the keyfile's m) they set the
 * command's peak RSS (docs/ARCHITECTURE.md). They boot while the output is opened and the header read.
 */
async function threadsFor(file: string): Promise<{ start(): void }> {
  const none = { start() { /* small or stdin: no pool */ } };
  if (file === '-') return none;
  try {
    if ((await fs.stat(file)).size < poolThreshold()) return none;
  } catch { return none; /* the command itself reports a missing file */ }
  return { start: () => warmCryptoPool() };
}

export async function encryptCommand(ctx: CliContext): Promise<number> {
  if (ctx.args.options.has('age')) return ageEncryptCommand(ctx);
  if (ctx.args.options.has('sops')) return sopsEncryptCommand(ctx);
  allowOnly(ctx.args, 'output', 'force', 'detached');
  const [input] = expectOperands(ctx.args, 1, 1, 'file to encrypt');
  const given = ctx.args.options.get('output');
  if (input === '-' && typeof given !== 'string') throw new UsageError('encrypt: reading stdin needs -o <output file>');
  const output = typeof given === 'string' ? given : `${input}.enc`;
  if (output === '-') throw new UsageError('encrypt writes to a file, not to stdout: pass -o <file>');
  refuseToOverwrite(ctx, output);
  // Neither read from nor written into a linked folder inside a repository (the file itself: safe-open.ts).
  for (const f of input === '-' ? [output] : [input, output]) await aboutFile(f, async () => undefined);
  const threads = await threadsFor(input);
  const watch = stopwatch(ctx, 'encrypt');
  // The members of the output's folder, checked before any key is asked for.
  const members = await membersFor(ctx, output);
  if (members.recipients.length > 0 && ctx.args.options.has('detached')) throw new UsageError(`encrypt: ${output} is in a shared folder; a detached key cannot be shared`);
  await withFileKeys(ctx, async keys => {
    watch.unlocked();
    threads.start();
    const { dataKey, stanzas, options } = await newFileKeysFor(ctx, keys, output, members, ctx.args.options.has('detached'));
    try {
      await encryptFile(input === '-' ? stdinBlocks() : input, output, dataKey, stanzas, options);
    } finally {
      dataKey.fill(0);
    }
  });
  watch.done();
  ctx.note(`Encrypted ${input === '-' ? 'stdin' : input} -> ${output}`);
  return ExitCode.OK;
}

/**
 * Plaintext only leaves after the whole file has been authenticated (docs/CLI.md): the first pass
 * verifies everything and keeps the first IN_MEMORY_LIMIT bytes of plaintext; only then is anything
 * written, and the rest of a larger file is decrypted again from the same open file (the same inode, so a
 * file replaced meanwhile is not read; one modified in place fails at the changed chunk).
 */
async function decryptToStdout(ctx: CliContext, file: string, unwrap: UnwrapDataKey): Promise<void> {
  await decryptVerifiedFirst(file, unwrap, batch => writeManyToStdout(ctx.stdout, batch), { retainBytes: IN_MEMORY_LIMIT });
}

export async function decryptCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'output', 'force', 'identity');
  const [file] = expectOperands(ctx.args, 1, 1, 'file to decrypt');
  const identityFile = ctx.args.options.get('identity');
  const given = ctx.args.options.get('output');
  const output = typeof given === 'string' && given !== '-' ? given : null;
  if (output) refuseToOverwrite(ctx, output);
  // A sops file first: its metadata holds armored age files.
  if (await isSopsFile(file)) return sopsDecrypt(ctx, file, output, typeof identityFile === 'string' ? identityFile : undefined);
  if (await isAgeFile(file)) return ageDecrypt(ctx, file, output, typeof identityFile === 'string' ? identityFile : undefined);
  if (await isDotenvxFile(file)) return dotenvxDecrypt(ctx, file, output);
  const threads = await threadsFor(file);
  const watch = stopwatch(ctx, 'decrypt');
  // The data key is kept (a copy) so the write signature's key commitment can be checked afterwards.
  let dataKey: Uint8Array | undefined;
  let unfinishedLog: number | undefined;
  const run = (unwrap: UnwrapDataKey) => aboutFile(file, async () => {
    watch.unlocked();
    threads.start();
    const kept = keepingDataKey(unwrap);
    try {
      try {
        if (output) await decryptFile(file, kept.unwrap, output);
        else await decryptToStdout(ctx, file, kept.unwrap);
      } catch (e) {
        // A log its writer left unfinished (a crash) gives what was sealed, and says so (exit 4).
        if (!isNoteSealError(e, 'UNFINISHED') || !(await readHeaderFromFile(file)).logMode) throw e;
        unfinishedLog = await decryptUnfinishedLog(ctx, file, kept.unwrap, output);
      }
      dataKey = kept.dataKey()?.slice();
    } finally { kept.wipe(); }
  });
  // --identity FILE: an age identity file opens the file (like `age -i`): no keyfile, agent or passphrase.
  if (typeof identityFile === 'string') await withIdentityFile(identityFile, run);
  else await withFileKeys(ctx, keys => run(keys.unwrap), file);
  watch.done();
  // Who wrote it matters where someone else could have: below a recipients list, or when the header has a
  // recipient stanza (anyone with our public key can make one). A file only this keyring could have written
  // (no list, no recipient stanza) is not checked: its signature check is a second pass over the whole file.
  try {
    const { stanzas } = await readHeaderFromFile(file);
    const couldBeOthers = othersCouldWrite(stanzas) || await findRecipientsFile(file).then(f => f !== null, () => true);
    const verdict = couldBeOthers ? await writerVerdict(ctx, file, stanzas, dataKey ? { dataKey } : {}).catch(() => null) : null;
    if (verdict && !verdict.authentic) ctx.note(`noteseal: warning: ${verdict.warning}`);
  } finally { dataKey?.fill(0); }
  if (unfinishedLog !== undefined) {
    ctx.note(`noteseal: ${unfinishedLogMessage(file, unfinishedLog)}`);
    return ExitCode.DAMAGED_FILE;
  }
  return ExitCode.OK;
}

/**
 * `decrypt` of a log without its final chunk (logs/reader.ts readUnfinishedLog: every sealed chunk checked
 * before any is written): to standard output, or to `output` through a temporary sibling renamed into place.
 */
async function decryptUnfinishedLog(ctx: CliContext, file: string, unwrap: UnwrapDataKey, output: string | null): Promise<number> {
  if (!output) return readUnfinishedLog(file, unwrap, plain => writeToStdout(ctx.stdout, plain));
  const tmp = path.join(path.dirname(output), `.${path.basename(output)}.tmp-${randomBytes(6).toString('hex')}`);
  const out = await fs.open(tmp, 'wx', 0o600);
  try {
    const n = await readUnfinishedLog(file, unwrap, async plain => { await out.write(plain); });
    await out.sync();
    await out.close();
    await fs.rename(tmp, output);
    return n;
  } catch (e) {
    await out.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
}

const STANZA_NAMES: Record<string, string> = {
  'master-wrapped': 'master-key wrapped', detached: 'detached (key store)',
  4: 'X25519 recipient', 5: 'X-Wing recipient', 6: 'write signature',
};

/** `inspect --json`'s kind of a stanza the key hierarchy does not parse: a recipient kind, the write signature, or unknown. */
function stanzaKindName(type: number): string {
  return kindOfStanza(type)?.name ?? (type === STANZA_WRITE_SIGNATURE ? 'write-signature' : 'unknown');
}

/**
 * Recipients (named from the trusted list that governs the file, if any) and the writer: public facts, no
 * key needed. A writer is named only as checked against what this machine trusts, never the list on disk.
 */
async function sharingFacts(ctx: CliContext, file: string, stanzas: Stanza[]): Promise<{ recipients: { kind: string; id: string; member?: string }[]; writer: string; warning?: string; note?: string }> {
  const own = await readPublicIdentity(keystoreDirFor(keyfilePath(ctx))).catch(() => null);
  const trusted = await trustedWritersFor(file, { keyfilePath: keyfilePath(ctx), ownIdentity: own });
  const recipients = stanzas.map(recipientStanzaId).filter(x => x !== undefined).map(x => {
    const member = trusted.members.find(m => toHex(recipientIdOf(m.identity.kind, m.identity.publicKey)) === x.id);
    return { ...x, ...(member ? { member: member.name } : {}) };
  });
  const v = await writerVerdict(ctx, file, stanzas);
  const who = v.member ?? (v.byYou ? 'you' : trusted.listFile ? 'someone outside the list' : 'another key');
  const bound = v.check.state === 'valid' ? (v.check.path === undefined ? ', signature version 1 (binds no path)' : `, for "${v.check.path}"`) : '';
  const writer = v.check.state === 'valid'
    ? `${who} (signing key ${v.check.signer}) on ${v.check.at.toISOString()}${bound}`
    : v.check.state === 'unsigned' ? 'unsigned' : `invalid signature (${v.check.why})`;
  return { recipients, writer, ...(v.warning ? { warning: v.warning } : {}), ...(v.note ? { note: v.note } : {}) };
}

/** Header facts only: nothing here needs or reveals a key. */
export async function inspectCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'json');
  const files = expectOperands(ctx.args, 1, Infinity, 'file to inspect');
  const reports = [];
  for (const file of files) {
    if (await isSopsFile(file)) { reports.push(await sopsInspectReport(file)); continue; }
    if (await isAgeFile(file)) { reports.push(await ageInspectReport(file)); continue; }
    if (await isDotenvxFile(file)) { reports.push(await dotenvxInspectReport(ctx, file)); continue; }
    const header = await aboutFile(file, () => readHeaderFromFile(file));
    const { size } = await fs.stat(file);
    const sharing = await sharingFacts(ctx, file, header.stanzas);
    reports.push({
      file,
      version: header.version,
      suite: header.suite,
      chunkSize: header.chunkSize,
      headerLength: header.headerLength,
      fileSize: size,
      appendMode: header.appendMode,
      logMode: header.logMode,
      stanzas: header.stanzas.map(parseStanza).map(s =>
        s.kind === 'master-wrapped' ? { type: s.type, kind: s.kind, masterKeyId: s.masterKeyId }
          : s.kind === 'detached' ? { type: s.type, kind: s.kind, keyId: s.keyId }
            : { type: s.type, kind: stanzaKindName(s.type), bodyLength: s.length }),
      ...sharing,
    });
  }
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify(files.length === 1 ? reports[0] : reports, null, 2) + '\n'));
    return ExitCode.OK;
  }
  const lines: string[] = [];
  for (const r of reports) {
    if ('format' in r) { lines.push(...(r.format === 'sops' ? sopsInspectLines(r) : r.format === 'dotenvx' ? dotenvxInspectLines(r) : ageInspectLines(r))); continue; }
    lines.push(`${r.file}`,
      `  format version  ${r.version}`,
      `  suite           ${r.suite}${r.suite === 1 ? ' (AES-256-GCM chunks, HKDF-SHA256, HMAC-SHA256 header)' : ''}`,
      `  chunk size      ${r.chunkSize} bytes`,
      `  header length   ${r.headerLength} bytes`,
      `  file size       ${r.fileSize} bytes`,
      `  append mode     ${r.appendMode ? (r.logMode ? 'yes (a log: noteseal append)' : 'yes (recording)') : 'no'}`,
      `  key stanzas     ${r.stanzas.length}`);
    for (const s of r.stanzas) {
      const id = 'masterKeyId' in s ? `master key ${s.masterKeyId}` : 'keyId' in s ? `key id ${s.keyId}` : `${s.bodyLength} bytes`;
      lines.push(`    type ${s.type}: ${STANZA_NAMES[s.kind] ?? STANZA_NAMES[String(s.type)] ?? 'unknown to this build'}, ${id}`);
    }
    if (r.recipients.length > 0) {
      lines.push(`  recipients      ${r.recipients.length} besides the writer's own stanza`);
      for (const x of r.recipients) lines.push(`    ${x.kind} ${x.id}${x.member ? ` = ${x.member}` : ' (not in the recipients list)'}`);
    }
    lines.push(`  written by      ${r.writer}`);
    if (r.warning) lines.push(`  WARNING         ${r.warning}`);
    if (r.note) lines.push(`  note            ${r.note}`);
  }
  await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  return ExitCode.OK;
}

/** Authenticates every chunk of every file; reports each and exits with the first failure's code. */
export async function verifyCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'identity');
  const files = expectOperands(ctx.args, 1, Infinity, 'file to verify');
  let status: number = ExitCode.OK;
  await withFileKeys(ctx, async keys => {
    for (const file of files) {
      const kept = keepingDataKey(keys.unwrap);
      try {
        await verifyFile(file, kept.unwrap);
        // The content authenticates; its write signature must too (the key commitment with the key we hold).
        const verdict = await writerVerdict(ctx, file, (await readHeaderFromFile(file)).stanzas, { dataKey: kept.dataKey() });
        if (verdict.check.state === 'invalid') {
          ctx.note(`FAILED  ${verdict.warning}`);
          if (status === ExitCode.OK) status = ExitCode.UNVERIFIED_WRITER;
          continue;
        }
        if (!verdict.authentic) ctx.note(`noteseal: warning: ${verdict.warning}`);
        await writeToStdout(ctx.stdout, Buffer.from(`OK      ${file}${verdict.authentic ? '' : ' (content intact; writer NOT verified, see above)'}\n`));
      } catch (e) {
        if (!isNoteSealError(e)) throw e;
        ctx.note(`FAILED  ${file}: ${e.message}`);
        if (status === ExitCode.OK) status = exitCodeFor(e.code);
      } finally { kept.wipe(); }
    }
  });
  return status;
}

export async function recoverCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [file] = expectOperands(ctx.args, 1, 1, 'recording to recover');
  const writer = await logWriterPid(file);
  if (writer !== null) throw new UsageError(`recover: ${file} is being written (by pid ${writer}, which holds its lock); its writer seals it when it ends`);
  const result = await withFileKeys(ctx, keys => aboutFile(file, () => recoverFile(file, keys.unwrap)), file);
  ctx.note(`${file}: sealed and readable (${result.plaintextBytes} bytes kept, ${result.droppedBytes} bytes of torn data dropped).`);
  return ExitCode.OK;
}
