// sops files in the CLI (issue 27): `noteseal decrypt` shows a sops file as `sops decrypt` does, its data key
// unwrapped from an age entry by the age identities at hand (--identity FILE, else the agent or the keyring).
import { readRegularFile } from '../crypto/safe-open';
import { wipe } from '../keys/bytes';
import path from 'node:path';
import { looksLikeSops, sopsDocument, sopsFormat, sopsStoreOf, type SopsStoreKind } from '../formats/sops';
import { acceptedRuleFor, acceptSopsConfig, acceptSopsConfigCommand, readSopsConfig, rewrapSopsText, ruleRecipients, sopsConfigState, sopsEncryptedText } from '../formats/sops-config';
import { masterKeysOf } from '../formats/sops-keys';
import type { SearchLine, SearchQuery } from '../protocol';
import { decodeNote, matchText } from '../search/matcher';
import { compileQuery } from '../search/query';
import { writeFileAtomic } from '../crypto/format';
import { isSopsFile } from '../formats';
import { cliKeysAtHand } from './age-commands';
import { allowOnly, expectOperands, UsageError } from './args';
import type { EnvFormat } from './env-files';
import { UnverifiedWriter } from './writer-check';
import { setCommand } from './dotenvx-commands';
import fs from 'node:fs/promises';
import { NoteSealError } from '../crypto/errors';
import { setSopsValue, type SetValueOptions } from '../formats/sops-set';
import { aboutFile, keyfilePath, refuseToOverwrite, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { withFileKeys, type FileKeys } from './file-keys';
import { writeToStdout } from './stdout';

/** The most of a sops file read: its values are decrypted in memory. */
const MAX_BYTES = 16 * 1024 * 1024;

/** Said by decrypt (stderr): sops values carry a MAC under the data key, no signature. */
export const SOPS_NO_WRITER = 'sops files have no writer: their MAC is made with the data key, so anyone who can open the file can have written it';

/** The plaintext view of sops bytes (values decrypted, MAC checked, metadata left out) and its store. */
export function openSopsBytesCli(ctx: CliContext, file: string, bytes: Buffer, keys: FileKeys | null, identityFile?: string): Promise<{ plaintext: Buffer; kind: SopsStoreKind }> {
  return aboutFile(file, async () => {
    const opened = await sopsFormat.open(bytes, cliKeysAtHand(ctx, keys, identityFile), file);
    wipe(opened.saveState.dataKey);
    return { plaintext: opened.plaintext, kind: opened.saveState.kind };
  });
}

/** As openSopsBytesCli, reading the file (never through a link, never unbounded) and finding the keys. */
export async function openSopsFileCli(ctx: CliContext, file: string, identityFile?: string): Promise<Buffer> {
  const bytes = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const open = async (keys: FileKeys | null) => (await openSopsBytesCli(ctx, file, bytes, keys, identityFile)).plaintext;
  return identityFile ? open(null) : withFileKeys(ctx, keys => open(keys), file);
}

/** exec: a sops file's writer cannot be known (its MAC is keyed by the data key): refused unless allowed. */
export function refuseSopsWriter(ctx: CliContext, file: string): void {
  const warning = `${file} is a sops file: ${SOPS_NO_WRITER}.`;
  if (ctx.args.options.has('allow-unverified-writer')) {
    ctx.note(`noteseal: warning: ${warning} (run anyway: --allow-unverified-writer)`);
    return;
  }
  throw new UnverifiedWriter(`exec: ${warning} Nothing was run. To run it anyway, pass --allow-unverified-writer.`);
}

/** exec: how a sops file's plaintext view gives variables (top-level scalars; INI: the keys of its sections). */
export function sopsEnvFormat(kind: SopsStoreKind): EnvFormat {
  return kind;
}

export async function sopsDecrypt(ctx: CliContext, file: string, output: string | null, identityFile?: string): Promise<number> {
  const plaintext = await openSopsFileCli(ctx, file, identityFile);
  ctx.note(`noteseal: ${SOPS_NO_WRITER}`);
  try {
    if (output) await writeFileAtomic(output, plaintext, 0o600);
    else await writeToStdout(ctx.stdout, plaintext);
  } finally { plaintext.fill(0); }
  return ExitCode.OK;
}

/**
 * `noteseal set <sops file> KEY VALUE|-`: one value changed, the file re-encrypted as a save in VS Code would.
 * VALUE is a string; with `--json` a JSON value, as `sops set` takes it (a number, bool, null, object, list).
 */
export async function sopsSetCommand(ctx: CliContext, file: string, keyPath: string, value: string, opts: SetValueOptions = {}): Promise<number> {
  const before = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const run = (keys: FileKeys | null) => aboutFile(file, () => setSopsValue(before, cliKeysAtHand(ctx, keys), file, keyPath, value, opts));
  const { bytes, added } = await withFileKeys(ctx, keys => run(keys), file);
  // Written whole or not at all (atomic rename), with the file's own mode; refused if it changed meanwhile.
  const { mode } = await fs.stat(file);
  const now = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  if (!now.equals(before)) throw new NoteSealError('INVALID_ARGUMENT', `${file} changed while it was being set: nothing written, try again`);
  await writeFileAtomic(file, bytes, mode & 0o777);
  ctx.note(`${added ? 'Added' : 'Set'} ${keyPath} in ${file} (sops: same data key, MAC and lastmodified renewed)`);
  return ExitCode.OK;
}

async function readStdinText(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(Buffer.from(c as Uint8Array));
  const all = Buffer.concat(parts);
  try { return all.toString('utf8').replace(/\r?\n$/, ''); } finally { all.fill(0); for (const p of parts) p.fill(0); }
}

/** `noteseal set`: a sops file here, any other file to dotenvx's set. */
export async function setAnyCommand(ctx: CliContext): Promise<number> {
  const [file] = ctx.args.operands;
  if (file === undefined || !(await isSopsFile(file))) return setCommand(ctx);
  allowOnly(ctx.args, 'json');
  const [, keyPath, given] = expectOperands(ctx.args, 3, 3, 'file, KEY and VALUE (- reads the value from stdin)') as [string, string, string];
  return sopsSetCommand(ctx, file, keyPath, given === '-' ? await readStdinText() : given, { json: ctx.args.options.has('json') });
}

/** What `inspect` says of a sops file: its metadata only (no key needed, no value read). */
export interface SopsInspectReport {
  file: string; format: 'sops'; store: SopsStoreKind; fileSize: number; version: string; lastModified: string;
  masterKeys: string[]; options: Record<string, string | boolean>; mac: boolean; writer: string;
}

const OPTION_NAMES = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex', 'mac_only_encrypted'];

export async function sopsInspectReport(file: string): Promise<SopsInspectReport> {
  const bytes = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const text = bytes.toString('utf8');
  const store = sopsStoreOf(file, text);
  const metadata = await aboutFile(file, async () => sopsDocument(store, text).metadata ?? {});
  const options: Record<string, string | boolean> = {};
  for (const k of OPTION_NAMES) { const v = metadata[k]; if (typeof v === 'string' && v !== '' || v === true) options[k] = v; }
  return {
    file, format: 'sops', store, fileSize: bytes.length,
    version: String(metadata['version'] ?? '?'), lastModified: String(metadata['lastmodified'] ?? '?'),
    masterKeys: await aboutFile(file, async () => masterKeysOf(metadata)), options,
    mac: typeof metadata['mac'] === 'string' && metadata['mac'] !== '', writer: `unknown: ${SOPS_NO_WRITER}`,
  };
}

export function sopsInspectLines(r: SopsInspectReport): string[] {
  return [
    r.file,
    `  format          sops ${r.version} (${r.store}), every value AES-256-GCM under one data key`,
    `  file size       ${r.fileSize} bytes`,
    `  last modified   ${r.lastModified}`,
    `  MAC             ${r.mac ? 'present (checked when the file is opened)' : 'MISSING: the values cannot be checked'}`,
    ...Object.entries(r.options).map(([k, v]) => `  ${k.padEnd(15)} ${String(v)}`),
    `  master keys     ${r.masterKeys.length}`,
    ...r.masterKeys.map(k => `    ${k}`),
    `  written by      ${r.writer}`,
  ];
}

/** grep: the matching lines of a sops file's plaintext view (the file named on the command line). */
export async function grepSopsFile(ctx: CliContext, file: string, query: SearchQuery, keys: FileKeys): Promise<SearchLine[]> {
  const re = compileQuery(query);
  if (!re) return [];
  const bytes = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const { plaintext } = await openSopsBytesCli(ctx, file, bytes, keys);
  try {
    return matchText(decodeNote(plaintext), re, { maxMatches: Number.MAX_SAFE_INTEGER, previewChars: Infinity, contextLines: 0 }).lines;
  } finally { plaintext.fill(0); }
}

/** `recipients list [--trust]` for a `.sops.yaml`: its creation rules and state; `--trust` accepts exactly what was shown. */
export async function listSopsConfig(ctx: CliContext, file: string): Promise<number> {
  const config = await readSopsConfig(file);
  const { state, at } = await sopsConfigState(keyfilePath(ctx), config);
  const shown = state === 'accepted' ? `accepted on this machine (${at})` : state === 'changed' ? `CHANGED since this machine accepted it (${at})` : 'not yet accepted on this machine';
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ file, kind: 'sops-config', rules: config.rules, sha256: config.sha256, accepted: state === 'accepted' }, null, 2) + '\n'));
  } else {
    const lines = [`${file}: ${config.rules.length} sops creation rules (unsigned); ${shown}`];
    for (const r of config.rules) {
      lines.push(`  rule ${r.index + 1}: path_regex ${r.pathRegex ?? '(any file)'}`);
      for (const a of r.age) lines.push(`    age ${a}`);
      for (const o of r.others) lines.push(`    ${o} (not written by NoteSeal)`);
      for (const [k, v] of Object.entries(r.options)) lines.push(`    ${k}: ${String(v)}`);
    }
    await writeToStdout(ctx.stdout, Buffer.from(lines.join('\n') + '\n'));
  }
  if (ctx.args.options.has('trust')) {
    if (state !== 'accepted') await acceptSopsConfig(keyfilePath(ctx), config);
    ctx.note(`Accepted ${file} on this machine: noteseal encrypt --sops and updatekeys below ${path.dirname(file)} use the rules above.`);
    return ExitCode.OK;
  }
  if (state !== 'accepted') {
    ctx.note(`${file} is not used until you accept it: review the rules above, then run ${acceptSopsConfigCommand(file)}`);
    if (state === 'changed') return ExitCode.UNTRUSTED_RECIPIENTS;
  }
  return ExitCode.OK;
}

/** `noteseal encrypt --sops <file> [-o out]`: a plaintext YAML/JSON/dotenv/INI file made a sops file by the accepted `.sops.yaml`. */
export async function sopsEncryptCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'sops', 'output', 'force');
  const [input] = expectOperands(ctx.args, 1, 1, 'file to encrypt');
  if (input === '-') throw new UsageError('encrypt --sops reads a file, not stdin (its name chooses YAML, JSON, dotenv or INI)');
  const given = ctx.args.options.get('output');
  const output = typeof given === 'string' ? given : null;
  if (output === '-') throw new UsageError('encrypt --sops writes to a file, not to stdout');
  if (output) refuseToOverwrite(ctx, output);
  const target = output ?? input;
  const bytes = await aboutFile(input, () => readRegularFile(input, { maxBytes: MAX_BYTES }));
  const text = bytes.toString('utf8');
  if (looksLikeSops(text)) throw new UsageError(`${input} is already a sops file`);
  let made: Awaited<ReturnType<typeof sopsEncryptedText>>;
  try { made = await aboutFile(input, () => sopsEncryptedText(keyfilePath(ctx), target, text)); } finally { bytes.fill(0); }
  const { sealed, kind, config, rule } = made;
  const { mode } = await fs.stat(input);
  if (!output && !(await aboutFile(input, () => readRegularFile(input, { maxBytes: MAX_BYTES }))).equals(Buffer.from(text, 'utf8'))) {
    throw new NoteSealError('INVALID_ARGUMENT', `${input} changed while it was being encrypted: nothing written, try again`);
  }
  await writeFileAtomic(output ?? input, Buffer.from(sealed, 'utf8'), output ? 0o644 : mode & 0o777);
  ctx.note(`Encrypted ${input} as a sops ${kind} file${output ? ` to ${output}` : ' in place'} for ${rule.age.length} age recipient(s) by ${config.file} (rule ${rule.index + 1}).`);
  if (!output) ctx.note('noteseal: the old plaintext was replaced by a new file (atomic rename); its blocks on the disk are not scrubbed.');
  return ExitCode.OK;
}

/** `noteseal updatekeys <sops file>`: the data key rewrapped to the accepted rule's age recipients (as `sops updatekeys`). */
export async function sopsUpdatekeys(ctx: CliContext, file: string): Promise<number> {
  const { config, rule } = await acceptedRuleFor(keyfilePath(ctx), file);
  const recipients = ruleRecipients(config, rule);
  const before = await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }));
  const text = before.toString('utf8');
  const run = (keys: FileKeys | null) => aboutFile(file, async () => {
    const opened = await sopsFormat.open(before, cliKeysAtHand(ctx, keys), file);
    opened.plaintext.fill(0);
    try { return rewrapSopsText(text, opened.saveState, recipients); } finally { wipe(opened.saveState.dataKey); }
  });
  const result = await withFileKeys(ctx, keys => run(keys), file);
  if (!result) { ctx.note(`${file}: its age recipients are already those of ${config.file} (rule ${rule.index + 1})`); return ExitCode.OK; }
  const { mode } = await fs.stat(file);
  if (!(await aboutFile(file, () => readRegularFile(file, { maxBytes: MAX_BYTES }))).equals(before)) throw new NoteSealError('INVALID_ARGUMENT', `${file} changed meanwhile: nothing written, try again`);
  await writeFileAtomic(file, result.bytes, mode & 0o777);
  for (const r of result.now.filter(r => !result.old.includes(r))) ctx.note(`+ age ${r}`);
  for (const r of result.old.filter(r => !result.now.includes(r))) ctx.note(`- age ${r}`);
  ctx.note(`Updated the age recipients of ${file} from ${config.file} (rule ${rule.index + 1}); values, MAC and other master keys unchanged.`);
  return ExitCode.OK;
}

