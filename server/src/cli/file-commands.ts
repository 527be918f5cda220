// Commands that work on encrypted files: encrypt, decrypt, inspect, verify, recover.
import fs from 'node:fs/promises';
import { isNoteSealError } from '../crypto/errors';
import {
  decryptBuffer, decryptFile, decryptStream, encryptFile, readHeaderFromFile, recoverFile, verifyFile,
  type UnwrapDataKey,
} from '../crypto/format';
import { parseStanza } from '../keys/stanzas';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, refuseToOverwrite, withKeyring, type CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { writeToStdout } from './stdout';

/** Files up to this size are decrypted in memory in one go; larger ones are verified fully, then streamed. */
const IN_MEMORY_LIMIT = 64 * 1024 * 1024;

export async function encryptCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'output', 'force', 'detached');
  const [input] = expectOperands(ctx.args, 1, 1, 'file to encrypt');
  const given = ctx.args.options.get('output');
  if (input === '-' && typeof given !== 'string') throw new UsageError('encrypt: reading stdin needs -o <output file>');
  const output = typeof given === 'string' ? given : `${input}.enc`;
  if (output === '-') throw new UsageError('encrypt writes to a file, not to stdout: pass -o <file>');
  refuseToOverwrite(ctx, output);
  await withKeyring(ctx, async keyring => {
    const { dataKey, stanzas } = await keyring.newFileStanzas({ detached: ctx.args.options.has('detached') });
    try {
      await encryptFile(input === '-' ? process.stdin : input, output, dataKey, stanzas);
    } finally {
      dataKey.fill(0);
    }
  });
  ctx.note(`Encrypted ${input === '-' ? 'stdin' : input} -> ${output}`);
  return ExitCode.OK;
}

/**
 * Plaintext only leaves after the whole file has been authenticated: small files are decrypted in memory
 * from one read; large ones are verified first and then streamed (a file changed between the two passes
 * still fails, but some output may have been written by then).
 */
async function decryptToStdout(ctx: CliContext, file: string, unwrap: UnwrapDataKey): Promise<void> {
  const { size } = await fs.stat(file);
  if (size <= IN_MEMORY_LIMIT) {
    const plaintext = await decryptBuffer(await fs.readFile(file), unwrap);
    try { await writeToStdout(ctx.stdout, plaintext); } finally { plaintext.fill(0); }
    return;
  }
  await verifyFile(file, unwrap);
  for await (const chunk of decryptStream(file, unwrap)) {
    try { await writeToStdout(ctx.stdout, chunk); } finally { chunk.fill(0); }
  }
}

export async function decryptCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'output', 'force');
  const [file] = expectOperands(ctx.args, 1, 1, 'file to decrypt');
  const given = ctx.args.options.get('output');
  const output = typeof given === 'string' && given !== '-' ? given : null;
  if (output) refuseToOverwrite(ctx, output);
  await withKeyring(ctx, keyring => aboutFile(file, async () => {
    if (output) await decryptFile(file, keyring.unwrap, output);
    else await decryptToStdout(ctx, file, keyring.unwrap);
  }));
  return ExitCode.OK;
}

const STANZA_NAMES: Record<string, string> = { 'master-wrapped': 'master-key wrapped', detached: 'detached (key store)' };

/** Header facts only: nothing here needs or reveals a key. */
export async function inspectCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'json');
  const files = expectOperands(ctx.args, 1, Infinity, 'file to inspect');
  const reports = [];
  for (const file of files) {
    const header = await aboutFile(file, () => readHeaderFromFile(file));
    const { size } = await fs.stat(file);
    reports.push({
      file,
      version: header.version,
      suite: header.suite,
      chunkSize: header.chunkSize,
      headerLength: header.headerLength,
      fileSize: size,
      appendMode: header.appendMode,
      stanzas: header.stanzas.map(parseStanza).map(s =>
        s.kind === 'master-wrapped' ? { type: s.type, kind: s.kind, masterKeyId: s.masterKeyId }
          : s.kind === 'detached' ? { type: s.type, kind: s.kind, keyId: s.keyId }
            : { type: s.type, kind: s.kind, bodyLength: s.length }),
    });
  }
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify(files.length === 1 ? reports[0] : reports, null, 2) + '\n'));
    return ExitCode.OK;
  }
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.file}`,
      `  format version  ${r.version}`,
      `  suite           ${r.suite}${r.suite === 1 ? ' (AES-256-GCM chunks, HKDF-SHA256, HMAC-SHA256 header)' : ''}`,
      `  chunk size      ${r.chunkSize} bytes`,
      `  header length   ${r.headerLength} bytes`,
      `  file size       ${r.fileSize} bytes`,
      `  append mode     ${r.appendMode ? 'yes (recording)' : 'no'}`,
      `  key stanzas     ${r.stanzas.length}`);
    for (const s of r.stanzas) {
      const id = 'masterKeyId' in s ? `master key ${s.masterKeyId}` : 'keyId' in s ? `key id ${s.keyId}` : `${s.bodyLength} bytes`;
      lines.push(`    type ${s.type}: ${STANZA_NAMES[s.kind] ?? 'unknown to this build'}, ${id}`);
    }
  }
  await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  return ExitCode.OK;
}

/** Authenticates every chunk of every file; reports each and exits with the first failure's code. */
export async function verifyCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const files = expectOperands(ctx.args, 1, Infinity, 'file to verify');
  let status: number = ExitCode.OK;
  await withKeyring(ctx, async keyring => {
    for (const file of files) {
      try {
        await verifyFile(file, keyring.unwrap);
        await writeToStdout(ctx.stdout, Buffer.from(`OK      ${file}\n`));
      } catch (e) {
        if (!isNoteSealError(e)) throw e;
        ctx.note(`FAILED  ${file}: ${e.message}`);
        if (status === ExitCode.OK) status = exitCodeFor(e.code);
      }
    }
  });
  return status;
}

export async function recoverCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [file] = expectOperands(ctx.args, 1, 1, 'recording to recover');
  const result = await withKeyring(ctx, keyring => aboutFile(file, () => recoverFile(file, keyring.unwrap)));
  ctx.note(`${file}: sealed and readable (${result.plaintextBytes} bytes kept, ${result.droppedBytes} bytes of torn data dropped).`);
  return ExitCode.OK;
}
