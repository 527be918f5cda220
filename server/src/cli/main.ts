// `noteseal`: the command-line tool. Bundled to dist/cli-main.js, started by dist/cli.js (launcher.ts). Every failure ends as one line on stderr
// and a documented exit status (exit-codes.ts, docs/CLI.md); secrets never appear in argv or output.
import { AgentRefused } from '../agent/client';
import { AgentPathError } from '../agent/paths';
import { isNoteSealError } from '../crypto/errors';
import { isSopsFile } from '../formats';
import { VERSION } from '../version';
import { allowOnly, expectOperands, parseArgs, UsageError } from './args';
import type { CliContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { agentCommand } from './agent-commands';
import { decryptCommand, encryptCommand, inspectCommand, recoverCommand, verifyCommand } from './file-commands';
import { USAGE } from './help';
import { execCommand } from './exec-command';
import { GrepExit, grepCommand, parseGrepArgs } from './grep-command';
import { NoAgent } from './file-keys';
import { gitCommand } from './git-commands';
import { setAnyCommand, sopsUpdatekeys } from './sops-commands';
import { identityCommand } from './identity-commands';
import { recipientsCommand, updatekeysCommand } from './recipients-commands';
import { initCommand, passwdCommand, rotateCommand, shredCommand } from './key-commands';
import { PromptCancelled } from './secrets';
import { StdoutClosed, writeToStdout } from './stdout';
import { UnverifiedWriter } from './writer-check';
import { unlockCommand } from './unlock-commands';
import { appendCommand, catCommand } from './log-commands';
import { transcribeCommand } from './transcribe-command';

/** `noteseal updatekeys`: a sops file by its `.sops.yaml` rule (one at a time), anything else NoteSeal's own. */
async function updatekeysAnyCommand(ctx: CliContext): Promise<number> {
  const [first] = ctx.args.operands;
  if (first === undefined || !(await isSopsFile(first))) return updatekeysCommand(ctx);
  allowOnly(ctx.args);
  const [file] = expectOperands(ctx.args, 1, 1, 'sops file (one at a time)');
  return sopsUpdatekeys(ctx, file!);
}

const COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  init: initCommand,
  encrypt: encryptCommand,
  decrypt: decryptCommand,
  inspect: inspectCommand,
  verify: verifyCommand,
  passwd: passwdCommand,
  rotate: rotateCommand,
  recover: recoverCommand,
  shred: shredCommand,
  agent: agentCommand,
  exec: execCommand,
  grep: grepCommand,
  git: gitCommand,
  identity: identityCommand,
  recipients: recipientsCommand,
  updatekeys: updatekeysAnyCommand,
  set: setAnyCommand,
  unlock: unlockCommand,
  append: appendCommand,
  cat: catCommand,
  transcribe: transcribeCommand,
};

function report(error: unknown, note: (line: string) => void, debug: boolean): number {
  if (error instanceof StdoutClosed) return ExitCode.OK;
  if (error instanceof PromptCancelled) { note('noteseal: cancelled'); return ExitCode.INTERRUPTED; }
  if (error instanceof UsageError) {
    note(`noteseal: ${error.message}`);
    note("Run 'noteseal help' for usage.");
    return ExitCode.USAGE;
  }
  if (error instanceof AgentRefused) { note(`noteseal: ${error.message}`); return ExitCode.AGENT_REFUSED; }
  if (error instanceof UnverifiedWriter) { note(`noteseal: ${error.message}`); return ExitCode.UNVERIFIED_WRITER; }
  if (error instanceof NoAgent) { note(`noteseal: ${error.message}`); return ExitCode.NO_AGENT; }
  if (error instanceof AgentPathError) { note(`noteseal: ${error.message}`); return ExitCode.USAGE; }
  if (isNoteSealError(error)) { note(`noteseal: ${error.message}`); return exitCodeFor(error.code); }
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    note(`noteseal: ${errno.message}`);
    return ExitCode.IO;
  }
  note(`noteseal: internal error: ${error instanceof Error ? error.message : String(error)} (please report this)`);
  if (debug && error instanceof Error && error.stack) note(error.stack);
  return ExitCode.INTERNAL;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const note = (line: string) => { process.stderr.write(line + '\n'); };
  try {
    const args = argv[0] === 'grep' ? parseGrepArgs(argv.slice(1)) : parseArgs(argv);
    const ctx: CliContext = { args, env, stdout: process.stdout, note };
    if (args.options.has('version')) {
      await writeToStdout(process.stdout, Buffer.from(`noteseal ${VERSION}\n`));
      return ExitCode.OK;
    }
    if (args.command === 'help' || args.options.has('help')) {
      await writeToStdout(process.stdout, Buffer.from(USAGE));
      return ExitCode.OK;
    }
    const command = COMMANDS[args.command];
    if (!command) throw new UsageError(`unknown command '${args.command}'`);
    return await command(ctx);
  } catch (e) {
    const code = report(e, note, env.NOTESEAL_DEBUG === '1');
    // grep's exit status: every failure is 2 (0 and 1 say found / not found); a cancelled prompt stays 130.
    return argv[0] === 'grep' && code !== ExitCode.OK && code !== ExitCode.INTERRUPTED ? GrepExit.ERROR : code;
  }
}

// A reader that closed the pipe (`| head`) surfaces as EPIPE in the write callbacks; without a listener
// the same error would also crash the process as an unhandled 'error' event.
process.stdout.on('error', () => {});
main(process.argv.slice(2)).then(code => { process.exitCode = code; });
