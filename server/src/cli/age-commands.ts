// age files and age identities from the command line (docs/CLI.md, "age files"):
//   decrypt|inspect|exec|grep take .age files (binary or armored);  encrypt --age [-r R…] [--armor]
//   identity --age | import <file|-> | list | forget <recipient> | export --age
// Opening uses the identities NoteSeal holds (your identity is an age1pq1 identity; imported ones), after
// the NoteSeal passphrase; a passphrase (scrypt) file asks for ITS passphrase instead, and says so.
import { createReadStream } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import readline from 'node:readline/promises';
import { bech32 } from '@scure/base';
import { NoteSealError } from '../crypto/errors';
import { replaceFileAtomic, withFlushBehind, writeAll, writeSequentially } from '../crypto/atomic';
import { openRegularFile, readRegularFile } from '../crypto/safe-open';
import { ageFileFacts, describeStanzas, isAgeError, looksArmored, newAgeHeader, SCRYPT_TYPE, sealAgeStream, type AgeRecipient, type AgeStanza } from '../formats/age';
import { armorStream, dearmorStream } from '../formats/age/armor';
import { fileBlocks, openPayloadStream, openPayloadToFile, openPayloadVerifiedFirst, readHead, readStreamHeader, sealFileToFile, verifiedFirst, warmAgeThreads } from '../formats/age/file-stream';
import { checkHeaderMac, parseHeader } from '../formats/age/header';
import { ageFileKeyFrom, ageFileKeyWith, openAgeWith } from '../formats/age-format';
import { ageRecipientFor, ageRecipientsFor } from '../formats/age-recipients';
import type { KeysAtHand } from '../formats';
import { ageIdentitiesPath, ageRecipientOf, forgetAgeIdentity, listAgeIdentities } from '../keys/age-identities';
import { wipe } from '../keys/bytes';
import { dotenvxKeysPath, forgetDotenvxKey, listDotenvxKeys } from '../keys/dotenvx-keys';
import { readPublicIdentity } from '../keys/identity';
import { encodeIdentitySecret, parseAgeIdentityFile, parsePublicIdentity } from '../keys/identity-strings';
import { keystoreDirFor } from '../keys/keystore';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, keyfilePath, keyringFor, refuseToOverwrite, withKeyring, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { readSecret } from './secrets';
import type { SearchLine, SearchQuery } from '../protocol';
import { decodeNote, isBinary, matchText } from '../search/matcher';
import { compileQuery } from '../search/query';
import { withFileKeys, type FileKeys } from './file-keys';
import { writeManyToStdout, writeToStdout } from './stdout';

/** The keys at hand in the CLI: an identity file (--identity), else the agent or the keyring (withFileKeys). */
export function cliKeysAtHand(ctx: CliContext, keys: FileKeys | null, identityFile?: string): KeysAtHand {
  return {
    unwrap: () => { throw new NoteSealError('INVALID_ARGUMENT', 'not a .enc file'); },
    async ageFileKey(stanzas) {
      if (!identityFile) return keys!.ageFileKey(stanzas);
      const held = parseAgeIdentityFile(await fs.readFile(identityFile, 'utf8'), { identitySecrets: true });
      try { return ageFileKeyFrom(held, stanzas); } finally { for (const k of held) wipe(k.secretKey); }
    },
    async filePassphrase(file) {
      ctx.note(`${file} is a passphrase-protected age file: it asks for the file's own passphrase, not your NoteSeal passphrase.`);
      return readSecret({ name: 'AGE_PASSPHRASE', prompt: `Passphrase of the age file ${file}: ` }, ctx.env);
    },
  };
}

/**
 * The whole plaintext of an age file (authenticated to the end before it is returned). `keys`: the agent's
 * or the keyring's, when the caller already has them; otherwise they are asked for only if the file needs them.
 */
export async function openAgeFileCli(ctx: CliContext, file: string, opts: { keys?: FileKeys; identityFile?: string; prompt?: boolean } = {}): Promise<Buffer> {
  // Never through a link, never a planted pipe (safe-open), as every file a repository carries.
  return openAgeBytesCli(ctx, file, await aboutFile(file, () => readRegularFile(file)), opts);
}

/** As openAgeFileCli, for bytes the caller already read (safely). */
export async function openAgeBytesCli(ctx: CliContext, file: string, bytes: Buffer, opts: { keys?: FileKeys; identityFile?: string; prompt?: boolean } = {}): Promise<Buffer> {
  return aboutFile(file, async () => {
    const open = async (keys: FileKeys | null) => {
      const { plaintext, passphrase } = await openAgeWith(bytes, cliKeysAtHand(ctx, keys, opts.identityFile), file);
      wipe(passphrase);
      return plaintext;
    };
    if (opts.keys || opts.identityFile || ageFileFacts(bytes).passphrase) return open(opts.keys ?? null);
    return withFileKeys(ctx, keys => open(keys), file, opts.prompt === false ? { prompt: false } : {});
  });
}

/** Plaintext decrypt keeps in memory before writing to stdout, as for .enc files (see ageDecrypt). */
const STDOUT_RETAIN_BYTES = 16 * 1024 * 1024;

/**
 * `decrypt` of an age file, streamed: a binary file is read chunk by chunk from one open descriptor. To a file
 * (-o): a temporary sibling, fsynced and renamed to its name only once the last chunk authenticated (age
 * itself leaves a partial file behind, cmd/age/age.go's lazyOpener). To stdout: nothing before every chunk
 * and the file's end have authenticated (the first 16 MiB kept from the checking pass, the rest decrypted
 * again); age writes each chunk as it authenticates, so a damaged file there yields a partial output first.
 * An armored file (text meant for copy and paste) is read whole.
 */
export async function ageDecrypt(ctx: CliContext, file: string, output: string | null, identityFile?: string): Promise<number> {
  const handle = await aboutFile(file, () => openRegularFile(file));
  try {
    const size = (await handle.stat()).size;
    const head = await aboutFile(file, () => readHead(handle, size));
    if (looksArmored(head)) return await ageDecryptArmored(ctx, file, handle, size, output, identityFile);
    const header = await aboutFile(file, async () => parseHeader(head));
    warmAgeThreads(size);
    const fileKey = await ageFileKeyCli(ctx, file, header.stanzas, identityFile);
    try {
      await aboutFile(file, async () => {
        checkHeaderMac(header, fileKey);
        ctx.note(`noteseal: ${AGE_NO_WRITER}`);
        if (output) await replaceFileAtomic(output, out => withFlushBehind(out, wrote => openPayloadToFile(handle, header, size, fileKey, out, wrote)), 0o600);
        else await openPayloadVerifiedFirst(handle, header, size, fileKey, parts => writeManyToStdout(ctx.stdout, parts), STDOUT_RETAIN_BYTES);
      });
    } finally { wipe(fileKey); }
    return ExitCode.OK;
  } finally { await handle.close(); }
}

/**
 * `decrypt` of an armored age file, streamed as a binary one (the text read 1 MiB at a time, line by line,
 * armor.ts dearmorStream): -o and stdout alike, with the same rules. Its errors are those of reading it
 * whole: a damaged armor is named before a header or payload failure found earlier in the text.
 */
async function ageDecryptArmored(ctx: CliContext, file: string, handle: FileHandle, size: number, output: string | null, identityFile?: string): Promise<number> {
  // fileBlocks: one descriptor, so every pass reads the same inode; a file that shrank meanwhile ends early
  // and the armor or the payload says what is missing.
  const binary = () => dearmorStream(fileBlocks(handle, size))[Symbol.asyncIterator]();
  const first = binary();
  try {
    const { header, rest } = await aboutFile(file, () => readStreamHeader(first));
    const fileKey = await ageFileKeyCli(ctx, file, header.stanzas, identityFile);
    try {
      await aboutFile(file, async () => {
        checkHeaderMac(header, fileKey);
        ctx.note(`noteseal: ${AGE_NO_WRITER}`);
        if (output) {
          await writeFileDurably(output, openPayloadStream(rest, first, fileKey), 0o600);
          return;
        }
        await verifiedFirst(from => {
          if (from === 0) return openPayloadStream(rest, first, fileKey);
          return (async function* () { // a second pass: the text again from its start
            const again = binary();
            const h = await readStreamHeader(again);
            yield* openPayloadStream(h.rest, again, fileKey, from);
          })();
        }, parts => writeManyToStdout(ctx.stdout, parts), STDOUT_RETAIN_BYTES);
      });
    } finally { wipe(fileKey); }
    return ExitCode.OK;
  } catch (e) {
    if (isAgeError(e) && !isAgeError(e, 'armor')) {
      // Read whole, the armor is checked before anything else: finish reading it to see whether it is at fault.
      await aboutFile(file, async () => { while (!(await first.next()).done); });
    }
    throw e;
  } finally {
    await first.return?.(undefined);
  }
}

/** The file key of an age header: an identity file's, the file's own passphrase, or the agent's / keyring's identities. */
async function ageFileKeyCli(ctx: CliContext, file: string, stanzas: AgeStanza[], identityFile?: string): Promise<Uint8Array> {
  const get = async (keys: FileKeys | null) => {
    const { fileKey, passphrase } = await ageFileKeyWith(stanzas, cliKeysAtHand(ctx, keys, identityFile), file);
    if (passphrase) wipe(passphrase);
    return fileKey;
  };
  return aboutFile(file, () => (identityFile || stanzas.some(s => s.args[0] === SCRYPT_TYPE) ? get(null) : withFileKeys(ctx, get, file)));
}

/**
 * writeFileAtomic for a long stream: the temporary sibling is flushed behind as it is written, so the fsync
 * before the rename waits for the tail only (age itself does not fsync at all).
 */
function writeFileDurably(target: string, data: AsyncIterable<Uint8Array | Uint8Array[]>, mode?: number): Promise<unknown> {
  return replaceFileAtomic(target, handle => withFlushBehind(handle, wrote => writeSequentially(handle, data, pieces => {
    let n = 0;
    for (const p of pieces) n += p.length;
    wrote(n);
  })), mode);
}

/** Said by decrypt (stderr): an age file is never from an authentic writer. */
export const AGE_NO_WRITER = 'age files have no writer: they carry no signature, so who wrote this one cannot be known (anyone who knows a recipient can write one)';

/** Header facts of an age file: no key needed; age has no signatures, so no writer is named. */
export interface AgeInspectReport {
  file: string; format: 'age'; armored: boolean; fileSize: number; passphrase: boolean;
  stanzas: { type: string; arguments: number; bodyLength: number }[]; recipientTypes: string; writer: string;
}

export async function ageInspectReport(file: string): Promise<AgeInspectReport> {
  const bytes = await aboutFile(file, () => readRegularFile(file));
  const facts = await aboutFile(file, async () => ageFileFacts(bytes));
  return {
    file, format: 'age' as const, armored: facts.armored, fileSize: bytes.length, passphrase: facts.passphrase,
    stanzas: facts.stanzas.map(s => ({ type: s.args[0]!, arguments: s.args.length - 1, bodyLength: s.body.length })),
    recipientTypes: describeStanzas(facts.stanzas),
    writer: 'none: age files carry no signature, so no writer can be known (anyone who knows a recipient can write one)',
  };
}

export function ageInspectLines(r: AgeInspectReport): string[] {
  const stanzas = r.stanzas;
  return [r.file,
    `  format          age (c2sp.org/age)${r.armored ? ', ASCII-armored' : ''}`,
    `  file size       ${r.fileSize} bytes`,
    `  recipients      ${stanzas.length} stanza${stanzas.length === 1 ? '' : 's'}: ${r.recipientTypes}${r.passphrase ? ' (a passphrase file)' : ''}`,
    `  written by      ${r.writer}`];
}

export async function ageEncryptCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'output', 'force', 'age', 'recipient', 'armor', 'trust');
  const [input] = expectOperands(ctx.args, 1, 1, 'file to encrypt');
  const given = ctx.args.options.get('output');
  if (input === '-' && typeof given !== 'string') throw new UsageError('encrypt: reading stdin needs -o <output file>');
  const output = typeof given === 'string' ? given : `${input}.age`;
  if (output === '-') throw new UsageError('encrypt writes to a file, not to stdout: pass -o <file>');
  refuseToOverwrite(ctx, output);
  const named = ctx.args.repeated?.get('recipient');
  let recipients, texts: string[];
  if (named?.length) {
    const ids = named.map(r => parsePublicIdentity(r));
    recipients = ids.map(ageRecipientFor);
    texts = ids.map(i => ageRecipientOf(i.kind, i.publicKey));
  } else {
    const keyfile = keyfilePath(ctx);
    const ownIdentity = await readPublicIdentity(keystoreDirFor(keyfile)).catch(() => null);
    const choice = await ageRecipientsFor(output, { keyfilePath: keyfile, ownIdentity, trust: ctx.args.options.has('trust') });
    if (choice.pinned) ctx.note(`noteseal: accepted ${choice.source} (${choice.texts.length} recipients: ${choice.texts.join(', ')}); a later change to it is refused until accepted again with --trust`);
    ({ recipients, texts } = { recipients: choice.recipients, texts: choice.texts });
    ctx.note(`noteseal: recipients from ${choice.source}`);
  }
  if (new Set(recipients.map(r => r.type)).size > 1) {
    ctx.note('noteseal: warning: this age file goes to post-quantum (age1pq1) and X25519 (age1) recipients together: it is only as strong as X25519 (age advises against mixing them)');
  }
  if (input === '-' || ctx.args.options.has('armor') || !await sealRegularFile(input, output, recipients)) {
    // Streamed: the input is read 1 MiB at a time and sealed chunk by chunk (memory bounded whatever its size).
    const source = input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 1024 * 1024 });
    const binary = sealAgeStream(source, recipients);
    await writeFileDurably(output, ctx.args.options.has('armor') ? armorStream(binary) : binary);
  }
  ctx.note(`Encrypted ${input === '-' ? 'stdin' : input} -> ${output} (age, for ${texts.length} recipient${texts.length === 1 ? '' : 's'})`);
  return ExitCode.OK;
}

/**
 * A binary age file of a regular file, every chunk written at its place (large files: sealed and written by
 * the age threads, file-stream.ts), fsynced and renamed into place; false when `input` is not a regular file.
 */
async function sealRegularFile(input: string, output: string, recipients: readonly AgeRecipient[]): Promise<boolean> {
  if (!(await fs.stat(input)).isFile()) return false; // a pipe or device: the stream path (opening a FIFO twice would lose its writer)
  const handle = await fs.open(input, 'r');
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${input} was replaced while it was being opened`);
    warmAgeThreads(st.size);
    const { header, fileKey } = newAgeHeader(recipients);
    try {
      await replaceFileAtomic(output, out => withFlushBehind(out, async wrote => {
        await writeAll(out, [header], 0);
        await sealFileToFile(handle, st.size, fileKey, out, header.length, wrote, input);
      }));
    } finally { wipe(fileKey); }
    return true;
  } finally { await handle.close(); }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Uint8Array));
  const all = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return all;
}

// ---- identities -------------------------------------------------------------------------------------------

const SUBCOMMANDS = new Set(['import', 'list', 'forget', 'export']);

/** Whether `identity` was called for one of the age subcommands (the rest stays in identity-commands.ts). */
export function isAgeIdentitySubcommand(ctx: CliContext): boolean {
  return ctx.args.operands.length > 0 && SUBCOMMANDS.has(ctx.args.operands[0]!);
}

export async function ageIdentitySubcommand(ctx: CliContext): Promise<number> {
  const [sub] = ctx.args.operands;
  keyringFor(ctx); // a clear error when there is no keyfile
  const dir = keystoreDirFor(keyfilePath(ctx));
  if (sub === 'import') {
    allowOnly(ctx.args, 'yes');
    const [, file] = expectOperands(ctx.args, 2, 2, 'identity file (or - for stdin)');
    const text = file === '-' ? (await readAll(process.stdin)).toString('utf8') : await fs.readFile(file!, 'utf8');
    const keys = parseAgeIdentityFile(text);
    try {
      const { added, already } = await withKeyring(ctx, keyring => keyring.importAgeIdentities(keys));
      for (const r of added) ctx.note(`Imported ${r.slice(0, 20)}… (sealed in the key store under your master key)`);
      for (const r of already) ctx.note(`Already held: ${r.slice(0, 20)}…`);
    } finally { for (const k of keys) wipe(k.secretKey); }
    if (file !== '-') await offerToDelete(ctx, file!);
    return ExitCode.OK;
  }
  if (sub === 'list') {
    allowOnly(ctx.args, 'json');
    expectOperands(ctx.args, 1, 1);
    const own = await readPublicIdentity(dir);
    const rows = [
      ...(own ? [{ recipient: ageRecipientOf(own.kind, own.publicKey), kind: own.kind, source: 'your NoteSeal identity' }] : []),
      ...(await listAgeIdentities(dir)).map(i => ({ ...i, source: 'imported' })),
      ...(await listDotenvxKeys(dir)).map(k => ({ recipient: k, kind: 'secp256k1', source: 'imported dotenvx key (DOTENV_PUBLIC_KEY)' })),
    ];
    if (ctx.args.options.has('json')) await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify(rows, null, 2) + '\n'));
    else await writeToStdout(ctx.stdout, Buffer.from(rows.map(r => `${r.recipient}\t${r.source}`).join('\n') + (rows.length ? '\n' : '')));
    return ExitCode.OK;
  }
  if (sub === 'forget') {
    allowOnly(ctx.args, 'yes');
    const [, recipient] = expectOperands(ctx.args, 2, 2, 'recipient (age1… or age1pq1…, or a dotenvx public key) to forget');
    if (/^0[23][0-9a-fA-F]{64}$/.test(recipient!.trim())) return forgetDotenvxCommand(ctx, dir, recipient!.trim().toLowerCase());
    if (!(await listAgeIdentities(dir)).some(i => i.recipient === recipient!.trim().toLowerCase())) {
      throw new NoteSealError('KEY_NOT_FOUND', `No imported age identity has the recipient ${recipient!.slice(0, 20)}… ('noteseal identity list' shows them).`);
    }
    if (!ctx.args.options.has('yes') && !await confirm('Forget this identity? Files only it opens become unreadable unless you keep a copy of it elsewhere. [y/N] ')) {
      throw new UsageError('identity forget: not confirmed (pass --yes to forget without asking)');
    }
    await forgetAgeIdentity(dir, recipient!);
    ctx.note(`Forgot the age identity ${recipient!.slice(0, 20)}… (${ageIdentitiesPath(dir)})`);
    return ExitCode.OK;
  }
  // export --secret: the whole identity, for a server or CI job's NOTESEAL_IDENTITY
  if (ctx.args.options.has('secret')) {
    allowOnly(ctx.args, 'secret');
    expectOperands(ctx.args, 1, 1);
    if (process.stdout.isTTY) ctx.note('noteseal: warning: this prints your SECRET identity: anyone who sees it can read every file shared with you. Put it where the program reads NOTESEAL_IDENTITY (a CI secret).');
    const { text, line } = await withKeyring(ctx, async keyring => {
      const id = await keyring.identity();
      if (!id) throw new NoteSealError('KEY_NOT_FOUND', 'This keyfile has no identity yet: run \'noteseal identity\' first.');
      return { text: id.public.text, line: encodeIdentitySecret(id.receiving.kind, id.receiving.secretKey, id.signing.secretKey) };
    });
    await writeToStdout(ctx.stdout, Buffer.from(`# NoteSeal identity secret (NOTESEAL_IDENTITY)\n# public identity: ${text}\n${line}\n`));
    return ExitCode.OK;
  }
  // export --age
  allowOnly(ctx.args, 'age');
  expectOperands(ctx.args, 1, 1);
  if (!ctx.args.options.has('age')) throw new UsageError('identity export: --age (your identity as AGE-SECRET-KEY-PQ-1…) or --secret (as NOTESEAL-SECRET-KEY-1…, for NOTESEAL_IDENTITY)');
  if (process.stdout.isTTY) ctx.note('noteseal: warning: this prints your SECRET key: anyone who sees it can read every file shared with you. Redirect it to where age needs it.');
  const line = await withKeyring(ctx, async keyring => {
    const id = await keyring.identity();
    if (!id) throw new NoteSealError('KEY_NOT_FOUND', 'This keyfile has no identity yet: run \'noteseal identity\' first.');
    if (id.receiving.kind !== 'xwing') throw new NoteSealError('INVALID_ARGUMENT', 'This identity receives with X25519, not X-Wing: it has no AGE-SECRET-KEY-PQ-1 form.');
    return bech32.encode('age-secret-key-pq-', bech32.toWords(id.receiving.secretKey), false).toUpperCase();
  });
  const own = await readPublicIdentity(dir);
  await writeToStdout(ctx.stdout, Buffer.from(`# NoteSeal identity, as an age post-quantum identity\n# public key: ${own ? ageRecipientOf(own.kind, own.publicKey) : ''}\n${line}\n`));
  return ExitCode.OK;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try { return /^y(es)?$/i.test((await rl.question(question)).trim()); } finally { rl.close(); }
}

export async function offerToDelete(ctx: CliContext, file: string): Promise<void> {
  const what = `Deleting ${file} removes its name; it does not scrub the disk (SSDs, journals, backups and snapshots may keep the old bytes).`;
  if (ctx.args.options.has('yes') || await confirm(`${what}\nDelete the plaintext identity file ${file} now? [y/N] `)) {
    await fs.unlink(file);
    ctx.note(`Deleted ${file}. ${what}`);
  } else {
    ctx.note(`${file} still holds the identity in plaintext: delete it when you no longer need it (--yes deletes it after importing). ${what}`);
  }
}

/** `identity --age`: your identity's age recipient (age1pq1… for an X-Wing identity), as the last line. */
export async function printAgeRecipient(ctx: CliContext, identityText: string, created: boolean): Promise<number> {
  const id = parsePublicIdentity(identityText);
  if (created) ctx.note('Created the identity of this keyfile.');
  ctx.note(id.kind === 'xwing'
    ? 'Your identity as an age post-quantum recipient: age 1.3+, rage and typage encrypt to it (age -r), and NoteSeal opens what they write.'
    : 'Your identity as an age X25519 recipient.');
  await writeToStdout(ctx.stdout, Buffer.from(ageRecipientOf(id.kind, id.publicKey) + '\n'));
  return ExitCode.OK;
}

/** The matching lines of one age file (decrypted in memory, zeroed after), as `noteseal grep` prints them. */
export async function grepAgeFile(ctx: CliContext, file: string, query: SearchQuery, keys: FileKeys): Promise<SearchLine[]> {
  const re = compileQuery(query);
  if (!re) return [];
  const plaintext = await openAgeFileCli(ctx, file, { keys });
  try {
    if (isBinary(plaintext)) return [];
    return matchText(decodeNote(plaintext), re, { maxMatches: Number.MAX_SAFE_INTEGER, previewChars: Infinity, contextLines: 0 }).lines;
  } finally { plaintext.fill(0); }
}

/** `identity forget <DOTENV_PUBLIC_KEY hex>`: removes an imported dotenvx private key (as for age identities). */
async function forgetDotenvxCommand(ctx: CliContext, dir: string, publicKey: string): Promise<number> {
  if (!(await listDotenvxKeys(dir)).includes(publicKey)) {
    throw new NoteSealError('KEY_NOT_FOUND', `No imported dotenvx key has the public key ${publicKey.slice(0, 20)}… ('noteseal identity list' shows them).`);
  }
  if (!ctx.args.options.has('yes') && !await confirm('Forget this dotenvx private key? Values encrypted to its public key become unreadable unless you keep a copy of it elsewhere. [y/N] ')) {
    throw new UsageError('identity forget: not confirmed (pass --yes to forget without asking)');
  }
  await forgetDotenvxKey(dir, publicKey);
  ctx.note(`Forgot the dotenvx private key of ${publicKey.slice(0, 20)}… (${dotenvxKeysPath(dir)})`);
  return ExitCode.OK;
}
