// `noteseal exec <file.enc>... -- <command> [args]`: runs a command with the variables of decrypted
// dotenv, JSON or YAML files in its environment (the pattern of `sops exec-env` and `op run`). Every
// file is decrypted and parsed in memory before anything starts: a file that fails to authenticate or
// parse starts nothing. Nothing is written anywhere; the command's exit status is passed through.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import { decryptBuffer } from '../crypto/format';
import { allowOnly, UsageError } from './args';
import { aboutFile, type CliContext } from './context';
import { EnvFileError, envFormatOf, parseEnvText } from './env-files';
import { withFileKeys } from './file-keys';
import { isAgeFile } from '../formats';
import { openAgeFileCli } from './age-commands';

/** A config that big is not a config, and would not fit an environment anyway (ARG_MAX). */
const MAX_FILE_BYTES = 1024 * 1024;

async function variablesOf(ctx: CliContext, files: readonly string[]): Promise<Map<string, string>> {
  return withFileKeys(ctx, async keys => {
    const vars = new Map<string, string>();
    for (const file of files) {
      const plaintext = await aboutFile(file, async () => {
        const { size } = await fs.stat(file);
        if (size > MAX_FILE_BYTES) throw new UsageError(`exec: ${file} is larger than ${MAX_FILE_BYTES} bytes: not a config file`);
        // An age file opens with the age identities NoteSeal holds (docs/CLI.md, "age files").
        return await isAgeFile(file) ? openAgeFileCli(ctx, file, { keys }) : decryptBuffer(await fs.readFile(file), keys.unwrap);
      });
      try {
        // Later files override earlier ones, as later lines of one dotenv file do.
        for (const [name, value] of parseEnvText(plaintext.toString('utf8'), envFormatOf(file))) vars.set(name, value);
      } catch (e) {
        if (e instanceof EnvFileError) throw new UsageError(`exec: ${file}: ${e.message}`);
        throw e;
      } finally {
        plaintext.fill(0);
      }
    }
    return vars;
  }, files[0]);
}

/** The command's exit status; killed by a signal: 128 + its number, as a shell reports it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, note: (line: string) => void): Promise<number> {
  return new Promise(resolve => {
    // Required here, not at the top: every other command would pay for loading child_process.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child: ChildProcess = spawn(command, args, { stdio: 'inherit', env });
    // Ctrl-C and Ctrl-\ reach the command from the terminal itself; we wait for its status.
    const ignore = () => {};
    const forward = (signal: NodeJS.Signals) => () => { child.kill(signal); };
    const handlers: [NodeJS.Signals, () => void][] = [['SIGINT', ignore], ['SIGQUIT', ignore], ['SIGTERM', forward('SIGTERM')], ['SIGHUP', forward('SIGHUP')]];
    for (const [s, h] of handlers) process.on(s, h);
    const done = (code: number) => { for (const [s, h] of handlers) process.off(s, h); resolve(code); };
    child.once('error', (e: NodeJS.ErrnoException) => {
      note(`noteseal: exec: ${command}: ${e.code === 'ENOENT' ? 'command not found' : e.message}`);
      done(e.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 0)));
  });
}

export async function execCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const split = ctx.args.beforeSeparator;
  if (split === undefined) throw new UsageError('exec: put -- between the files and the command: noteseal exec <file.enc>... -- <command> [args]');
  const files = ctx.args.operands.slice(0, split);
  const [command, ...args] = ctx.args.operands.slice(split);
  if (files.length === 0) throw new UsageError('exec: missing file to decrypt before --');
  if (command === undefined) throw new UsageError('exec: missing command after --');
  const vars = await variablesOf(ctx, files);
  const env = { ...ctx.env, ...Object.fromEntries(vars) };
  // Running as Node inside Electron (VS Code's launcher) needs ELECTRON_RUN_AS_NODE; the command must not inherit it.
  if (process.versions.electron && !vars.has('ELECTRON_RUN_AS_NODE')) delete env.ELECTRON_RUN_AS_NODE;
  return run(command, args, env, ctx.note);
}
