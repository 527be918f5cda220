// dotenvx `.env` files from the command line (docs/CLI.md, "dotenvx files"):
//   decrypt <.env>          the plain dotenv view (values decrypted), to stdout or -o
//   exec <.env> -- cmd      (exec-command.ts) the decrypted values in the command's environment
//   set <.env> KEY VALUE|-  one value encrypted to the file's DOTENV_PUBLIC_KEY…, in place (no private key needed)
//   identity import .env.keys   the DOTENV_PRIVATE_KEY… entries sealed in the key store
// The private key comes from DOTENV_PRIVATE_KEY… in the environment (as dotenvx reads it), else from the key
// store, only when it holds one for the file's public key: through the agent (which opens the values and keeps
// the key), or after the NoteSeal passphrase.
import fs from 'node:fs/promises';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { readRegularFile } from '../crypto/safe-open';
import {
  dotenvxPublicKey, dotenvxTextOf, dotenvxVariables, isEncryptedValue, noDotenvxKey, openDotenvxText, parseDotenvKeysFile, sealedValuesOf, secretFor, secretsFromEnv, setDotenvxValue,
  type DotenvxOpener,
} from '../formats/dotenvx';
import { parseDotenvx } from '../formats/dotenvx-parse';
import { dotenvxKeysPath, listDotenvxKeys } from '../keys/dotenvx-keys';
import { wipe } from '../keys/bytes';
import { keystoreDirFor } from '../keys/keystore';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, keyfilePath, keyringFor, withKeyring, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { withFileKeys, type FileKeys } from './file-keys';
import { offerToDelete } from './age-commands';
import { writeToStdout } from './stdout';
import { UnverifiedWriter } from './writer-check';
import { isDotenvxFile } from '../formats';
import type { SearchLine, SearchQuery } from '../protocol';
import { matchText } from '../search/matcher';
import { compileQuery } from '../search/query';

/** A .env file is a config, not a database: bigger is refused before it is parsed. */
const MAX_BYTES = 1024 * 1024;

/** Said on stderr by decrypt, and by exec's refusal: who wrote a value cannot be known. */
export const DOTENVX_NO_WRITER = 'dotenvx files have no writer: their values carry no signature, so anyone who knows the public key can have written one';

/** The text of a dotenvx file, read never through a link, never unbounded (safe-open). */
export async function readDotenvxFile(file: string): Promise<string> {
  return aboutFile(file, async () => dotenvxTextOf(await readRegularFile(file, { maxBytes: MAX_BYTES })));
}

/**
 * Runs `fn` with what opens the file's values, or null when nothing is at hand: the environment's private key
 * first; then, when the key store holds one for that public key, the agent (which opens the values and keeps
 * the key) or the key store unlocked with the passphrase, as for any other file (file-keys.ts).
 */
export async function withDotenvxSecret<T>(ctx: CliContext, text: string, fn: (secret: DotenvxOpener | null) => T | Promise<T>, about?: string, options: { prompt?: boolean } = {}): Promise<T> {
  const pub = dotenvxPublicKey(parseDotenvx(text));
  const fromEnv = secretsFromEnv(ctx.env);
  try {
    const env = secretFor(fromEnv, pub.hex);
    if (env) return await fn(env);
  } finally { wipe(...fromEnv); }
  const held = await listDotenvxKeys(keystoreDirFor(keyfilePath(ctx))).catch((): string[] => []);
  if (!held.includes(pub.hex)) return fn(null);
  return withFileKeys(ctx, async keys => {
    const opener = await keys.dotenvxOpener?.(pub.hex, sealedValuesOf(text)) ?? null;
    try { return await fn(opener); } finally { if (opener instanceof Uint8Array) wipe(opener); }
  }, about, options);
}

export const noKey = noDotenvxKey;

export async function dotenvxDecrypt(ctx: CliContext, file: string, output: string | null): Promise<number> {
  const text = await readDotenvxFile(file);
  const view = await withDotenvxSecret(ctx, text, secret => aboutFile(file, async () => {
    const items = parseDotenvx(text);
    if (!secret && items.some(i => i.kind === 'entry' && isEncryptedValue(i))) throw noKey(text);
    return openDotenvxText(text, secret).view;
  }), file);
  ctx.note(`noteseal: ${DOTENVX_NO_WRITER}`);
  const bytes = Buffer.from(view, 'utf8');
  try {
    if (output) await writeFileAtomic(output, bytes, 0o600);
    else await writeToStdout(ctx.stdout, bytes);
  } finally { bytes.fill(0); }
  return ExitCode.OK;
}

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(Buffer.from(c as Uint8Array));
  const all = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return all;
}

/** exec: a dotenvx value's writer cannot be known (no signature): refused like any unverified writer unless allowed. */
function refuseDotenvxWriter(ctx: CliContext, file: string): void {
  const warning = `${file} is a dotenvx file: ${DOTENVX_NO_WRITER}.`;
  if (ctx.args.options.has('allow-unverified-writer')) {
    ctx.note(`noteseal: warning: ${warning} (run anyway: --allow-unverified-writer)`);
    return;
  }
  throw new UnverifiedWriter(`exec: ${warning} Nothing was run. To run it anyway, pass --allow-unverified-writer.`);
}

/** exec: the decrypted variables of each dotenvx file among `files` (every one refused first unless allowed). */
export async function dotenvxVariablesOf(ctx: CliContext, files: readonly string[]): Promise<Map<string, Map<string, string>>> {
  const which: string[] = [];
  for (const file of files) if (await isDotenvxFile(file)) which.push(file);
  for (const file of which) refuseDotenvxWriter(ctx, file); // before any key is asked for
  const out = new Map<string, Map<string, string>>();
  for (const file of which) {
    const text = await readDotenvxFile(file);
    out.set(file, await withDotenvxSecret(ctx, text, secret => aboutFile(file, async () => dotenvxVariables(text, secret)), file));
  }
  return out;
}

/** `noteseal set <file> KEY VALUE` (VALUE `-`: read from stdin, one final newline dropped). */
export async function setCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [file, name, given] = expectOperands(ctx.args, 3, 3, 'file, KEY and VALUE (- reads the value from stdin)') as [string, string, string];
  const text = await readDotenvxFile(file);
  if (!parseDotenvx(text).some(i => i.kind === 'entry' && /^DOTENV_PUBLIC_KEY/.test(i.name))) {
    throw new UsageError(`set: ${file} is not a dotenvx file (no DOTENV_PUBLIC_KEY… line); set changes a value of a dotenvx file`);
  }
  let value: string;
  if (given === '-') {
    const bytes = await readStdin();
    value = bytes.toString('utf8').replace(/\r?\n$/, '');
    bytes.fill(0);
  } else value = given;
  const next = await aboutFile(file, async () => setDotenvxValue(text, name, value));
  // Written whole or not at all (atomic rename), with the file's own mode; refused if it changed meanwhile.
  const { mode } = await fs.stat(file);
  if (await readDotenvxFile(file) !== text) throw new NoteSealError('INVALID_ARGUMENT', `${file} changed while it was being set: nothing written, try again`);
  await writeFileAtomic(file, Buffer.from(next.text, 'utf8'), mode & 0o777);
  ctx.note(`${next.added ? 'Added' : 'Set'} ${name} in ${file} (encrypted to its public key)`);
  return ExitCode.OK;
}

/** Whether `identity import FILE` was given a dotenvx `.env.keys` (a DOTENV_PRIVATE_KEY… line). */
export async function isDotenvxKeysImport(ctx: CliContext): Promise<boolean> {
  const [sub, file] = ctx.args.operands;
  if (sub !== 'import' || !file || file === '-') return false;
  const head = await fs.readFile(file, 'utf8').catch(() => '');
  return /^[ \t]*(?:export[ \t]+)?DOTENV_PRIVATE_KEY/m.test(head);
}

export async function dotenvxImportCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'yes');
  const [, file] = expectOperands(ctx.args, 2, 2, '.env.keys file') as [string, string];
  keyringFor(ctx); // a clear error when there is no keyfile
  const secrets = await aboutFile(file, async () => parseDotenvKeysFile(dotenvxTextOf(await readRegularFile(file, { maxBytes: MAX_BYTES }))));
  try {
    const { added, already } = await withKeyring(ctx, keyring => keyring.importDotenvxKeys(secrets));
    for (const k of added) ctx.note(`Imported the dotenvx private key of ${k} (sealed in the key store under your master key)`);
    for (const k of already) ctx.note(`Already held: the dotenvx private key of ${k}`);
    ctx.note(`noteseal: the key store's dotenvx keys: ${dotenvxKeysPath(keystoreDirFor(keyfilePath(ctx)))}`);
  } finally { wipe(...secrets); }
  await offerToDelete(ctx, file);
  return ExitCode.OK;
}

export interface DotenvxInspectReport {
  file: string; format: 'dotenvx'; fileSize: number; publicKeyName: string; publicKey: string;
  values: { encrypted: number; plain: number }; privateKey: 'environment' | 'key store' | 'none'; writer: string;
}

/** `inspect` of a dotenvx file: its public key, how many values are encrypted, where a private key is (no key is used). */
export async function dotenvxInspectReport(ctx: CliContext, file: string): Promise<DotenvxInspectReport> {
  const text = await readDotenvxFile(file);
  const { items, pub } = await aboutFile(file, async () => { const items = parseDotenvx(text); return { items, pub: dotenvxPublicKey(items) }; });
  const values = items.filter(i => i.kind === 'entry' && !/^DOTENV_PUBLIC_KEY/.test(i.name));
  const encrypted = values.filter(i => i.kind === 'entry' && isEncryptedValue(i)).length;
  const fromEnv = secretsFromEnv(ctx.env);
  const inEnv = secretFor(fromEnv, pub.hex) !== null;
  wipe(...fromEnv);
  const held = !inEnv && (await listDotenvxKeys(keystoreDirFor(keyfilePath(ctx))).catch((): string[] => [])).includes(pub.hex);
  return {
    file, format: 'dotenvx', fileSize: Buffer.byteLength(text), publicKeyName: pub.name, publicKey: pub.hex,
    values: { encrypted, plain: values.length - encrypted },
    privateKey: inEnv ? 'environment' : held ? 'key store' : 'none',
    writer: `none: ${DOTENVX_NO_WRITER}`,
  };
}

export function dotenvxInspectLines(r: DotenvxInspectReport): string[] {
  return [r.file,
    '  format          dotenvx (values encrypted with ECIES on secp256k1)',
    `  file size       ${r.fileSize} bytes`,
    `  public key      ${r.publicKeyName} ${r.publicKey}`,
    `  values          ${r.values.encrypted} encrypted, ${r.values.plain} plain`,
    `  private key     ${r.privateKey === 'none' ? 'none at hand (the file opens write-only)' : `in the ${r.privateKey}`}`,
    `  written by      ${r.writer}`];
}

/**
 * The plain dotenv view of a dotenvx file with the keys of a command that already holds them (grep, git's
 * drivers): the environment's private key first, then the agent's or key store's; WRONG_KEY when a value
 * is encrypted and no key is at hand.
 */
export async function dotenvxViewWith(ctx: CliContext, file: string, keys: FileKeys | null): Promise<string> {
  const text = await readDotenvxFile(file);
  return aboutFile(file, async () => dotenvxViewOfText(ctx, text, keys));
}

export async function dotenvxViewOfText(ctx: CliContext, text: string, keys: FileKeys | null): Promise<string> {
  const pub = dotenvxPublicKey(parseDotenvx(text));
  const fromEnv = secretsFromEnv(ctx.env);
  let opener: DotenvxOpener | null = null;
  try {
    const env = secretFor(fromEnv, pub.hex);
    const held = !env && keys && (await listDotenvxKeys(keystoreDirFor(keyfilePath(ctx))).catch((): string[] => [])).includes(pub.hex);
    opener = env ? new Uint8Array(env) : held ? await keys.dotenvxOpener?.(pub.hex, sealedValuesOf(text)) ?? null : null;
  } finally { wipe(...fromEnv); }
  try {
    if (!opener && sealedValuesOf(text).length) throw noKey(text);
    return openDotenvxText(text, opener).view;
  } finally { if (opener instanceof Uint8Array) wipe(opener); }
}

/** grep of one dotenvx file: the lines of its decrypted view that match. */
export async function grepDotenvxFile(ctx: CliContext, file: string, query: SearchQuery, keys: FileKeys): Promise<SearchLine[]> {
  const re = compileQuery(query);
  if (!re) return [];
  return matchText(await dotenvxViewWith(ctx, file, keys), re, { maxMatches: Number.MAX_SAFE_INTEGER, previewChars: Infinity, contextLines: 0 }).lines;
}
