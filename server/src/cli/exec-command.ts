// `noteseal exec <file.enc>... -- <command> [args]`: runs a command with the variables of decrypted
// dotenv, JSON or YAML files in its environment (the pattern of `sops exec-env` and `op run`). Every
// file is decrypted and parsed in memory before anything starts: a file that fails to authenticate or
// parse starts nothing. Nothing is written anywhere; the command's exit status is passed through.
import { decryptBuffer, isNoteSealError, parseHeader } from '../crypto/format';
import { readRegularFile } from '../crypto/safe-open';
import { isLoaderVariable } from '../loaderVariables';
import { allowOnly, UsageError } from './args';
import { aboutFile, type CliContext } from './context';
import { EnvFileError, envFormatOf, parseEnvText } from './env-files';
import { withFileKeys, type FileKeys } from './file-keys';
import { dotenvxVariablesOf } from './dotenvx-commands';
import { isAgeFile, isSopsFile } from '../formats';
import { openSopsBytesCli, refuseSopsWriter, sopsEnvFormat } from './sops-commands';
import { openAgeBytesCli } from './age-commands';
import { keepingDataKey, UnverifiedWriter, writerVerdict } from './writer-check';
import { childEnv, runCommand } from './run-command';

/** A config that big is not a config, and would not fit an environment anyway (ARG_MAX). */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * A config acted upon must come from someone the user trusts: its write signature is checked (the key
 * commitment too) against the list that governs it. Refused unless the user said otherwise on purpose.
 */
async function checkWriter(ctx: CliContext, file: string, bytes: Uint8Array, dataKey: Uint8Array | undefined): Promise<void> {
  const verdict = await writerVerdict(ctx, file, parseHeader(bytes).stanzas, { bytes, ...(dataKey ? { dataKey } : {}) });
  if (verdict.authentic) return;
  if (ctx.args.options.has('allow-unverified-writer')) {
    ctx.note(`noteseal: warning: ${verdict.warning} (run anyway: --allow-unverified-writer)`);
    return;
  }
  throw new UnverifiedWriter(`exec: ${verdict.warning} Nothing was run. To run it anyway, pass --allow-unverified-writer.`);
}

/** An age file's writer cannot be known (no signature): refused like any unverified writer unless allowed. */
function refuseAgeWriter(ctx: CliContext, file: string): void {
  const warning = `${file} is an age file: age files carry no signature, so who wrote it cannot be known (anyone who knows a recipient can write one).`;
  if (ctx.args.options.has('allow-unverified-writer')) {
    ctx.note(`noteseal: warning: ${warning} (run anyway: --allow-unverified-writer)`);
    return;
  }
  throw new UnverifiedWriter(`exec: ${warning} Nothing was run. To run it anyway, pass --allow-unverified-writer.`);
}

/** Sets a file's variables, refusing a loader variable not allowed by name. */
function addVariables(ctx: CliContext, file: string, entries: Iterable<[string, string]>, vars: Map<string, string>): void {
  for (const [name, value] of entries) {
    if (isLoaderVariable(name) && !allowedByName(ctx, name)) {
      throw new UsageError(`exec: ${file} sets ${name}, which changes how programs load code: refused, nothing was run. `
        + `If you mean it, name it: noteseal exec --allow-env ${name} … (docs/CLI.md lists these variables)`);
    }
    vars.set(name, value);
  }
}

/** The variables of `files`, in order (later files win); the library's loadEnv reads them here too, never prompting (`prompt: false`). */
export async function variablesOf(ctx: CliContext, files: readonly string[], keyOptions: { prompt?: boolean } = {}): Promise<Map<string, string>> {
  // dotenvx files need their own secp256k1 keys (the environment or the key store), not the file keys.
  const dotenvx = await dotenvxVariablesOf(ctx, files);
  const all = async (keys: FileKeys | null) => {
    const vars = new Map<string, string>();
    for (const file of files) {
      const fromDotenvx = dotenvx.get(file);
      if (fromDotenvx) { addVariables(ctx, file, fromDotenvx, vars); continue; }
      if (!keys) throw new Error('unreachable: file keys are asked for whenever a file is not a dotenvx file');
      let plaintext: Buffer;
      // Never through a link (a repository could point one at another repository's config), never unbounded.
      const readConfig = () => readRegularFile(file, { maxBytes: MAX_FILE_BYTES }).catch(e => {
        if (isNoteSealError(e, 'LIMIT_EXCEEDED')) throw new UsageError(`exec: ${file} is larger than ${MAX_FILE_BYTES} bytes: not a config file`);
        throw e;
      });
      let format = envFormatOf(file);
      if (await isSopsFile(file)) {
        // sops files carry a MAC under the data key, no signature: their writer is never known either.
        const bytes = await aboutFile(file, readConfig);
        refuseSopsWriter(ctx, file);
        const opened = await openSopsBytesCli(ctx, file, bytes, keys);
        plaintext = opened.plaintext;
        format = sopsEnvFormat(opened.kind);
      } else if (await isAgeFile(file)) {
        // age files carry no signature: their writer is never known, so they are never an authentic writer.
        const bytes = await aboutFile(file, readConfig);
        refuseAgeWriter(ctx, file);
        plaintext = await openAgeBytesCli(ctx, file, bytes, { keys });
      } else {
        const kept = keepingDataKey(keys.unwrap);
        try {
          plaintext = await aboutFile(file, async () => {
            const bytes = await readConfig();
            const text = await decryptBuffer(bytes, kept.unwrap);
            try { await checkWriter(ctx, file, bytes, kept.dataKey()); } catch (e) { text.fill(0); throw e; }
            return text;
          });
        } finally { kept.wipe(); }
      }
      try {
        // Later files override earlier ones, as later lines of one dotenv file do.
        addVariables(ctx, file, parseEnvText(plaintext.toString('utf8'), format), vars);
      } catch (e) {
        if (e instanceof EnvFileError) throw new UsageError(`exec: ${file}: ${e.message}`);
        throw e;
      } finally {
        plaintext.fill(0);
      }
    }
    return vars;
  };
  return files.every(f => dotenvx.has(f)) ? all(null) : withFileKeys(ctx, all, files[0], keyOptions);
}

/** `--allow-env NAME` (repeatable) lets a config set that loader variable. */
function allowedByName(ctx: CliContext, name: string): boolean {
  return (ctx.args.repeated?.get('allow-env') ?? []).some(n => n.toUpperCase() === name.toUpperCase());
}

/** The command to run and its files' variables, every check done (nothing has run yet). */
export async function execPlan(ctx: CliContext): Promise<{ command: string; args: string[]; vars: Map<string, string> }> {
  allowOnly(ctx.args, 'allow-unverified-writer', 'allow-env', 'identity');
  const split = ctx.args.beforeSeparator;
  if (split === undefined) throw new UsageError('exec: put -- between the files and the command: noteseal exec <file.enc>... -- <command> [args]');
  const files = ctx.args.operands.slice(0, split);
  const [command, ...args] = ctx.args.operands.slice(split);
  if (files.length === 0) throw new UsageError('exec: missing file to decrypt before --');
  if (command === undefined) throw new UsageError('exec: missing command after --');
  // An age file is refused before any key is asked for (its writer can never be known).
  if (!ctx.args.options.has('allow-unverified-writer')) {
    for (const file of files) {
      if (await isSopsFile(file)) refuseSopsWriter(ctx, file);
      else if (await isAgeFile(file)) refuseAgeWriter(ctx, file);
    }
  }
  return { command, args, vars: await variablesOf(ctx, files) };
}

export async function execCommand(ctx: CliContext): Promise<number> {
  const { command, args, vars } = await execPlan(ctx);
  return runCommand(command, args, childEnv(ctx.env, vars), ctx.note);
}
