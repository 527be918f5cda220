// Running `exec`'s command: shared by the CLI (exec-command.ts) and the launcher's agent path (agent-fast.ts),
// so a command run either way gets the same environment, signals and exit status. Built-in modules only.
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import os from 'node:os';
import { windowsSpawn, type WindowsSpawn } from './windows-command';

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

/** The command's environment: ours with the files' variables over it. */
export function childEnv(base: NodeJS.ProcessEnv, vars: ReadonlyMap<string, string>): NodeJS.ProcessEnv {
  const env = { ...base, ...Object.fromEntries(vars) };
  // Running as Node inside Electron (VS Code's launcher) needs ELECTRON_RUN_AS_NODE; the command must not inherit it.
  if (process.versions.electron && !vars.has('ELECTRON_RUN_AS_NODE')) delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

/** The command's exit status; killed by a signal: 128 + its number, as a shell reports it. */
export function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv, note: (line: string) => void): Promise<number> {
  return new Promise(resolve => {
    // Required here, not at the top: every other command would pay for loading child_process.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    let target: WindowsSpawn = { file: command, args, verbatim: false };
    if (process.platform === 'win32') {
      try { target = windowsSpawn(command, args, env, process.cwd(), isFile); } catch (e) {
        note(`noteseal: exec: ${command}: ${(e as Error).message}`);
        resolve(126);
        return;
      }
    }
    const child: ChildProcess = spawn(target.file, target.args, { stdio: 'inherit', env, windowsVerbatimArguments: target.verbatim });
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
