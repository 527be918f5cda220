// The `noteseal` launcher scripts (no vscode import, so unit tests can run them):
//   - the extension's own launcher, in its global storage, rewritten at every activation: runs the
//     bundled dist/cli.js with the Node that runs the extension host (Electron's, as Node, on desktop:
//     the way VS Code's own `code` script starts its CLI, resources/linux/bin/code.sh in microsoft/vscode);
//   - the installed one (`NoteSeal: Install Command-Line Tool`, e.g. ~/.local/bin/noteseal): a stable
//     forwarder to the first, so it keeps working when the extension updates.
import fs from 'node:fs';
import path from 'node:path';

export const LAUNCHER_MARK = 'NoteSeal launcher';

/** A string as one single-quoted sh word. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Electron needs ELECTRON_RUN_AS_NODE=1 to act as Node; a real Node (code-server, a remote host) does not. */
export function launcherScript(nodePath: string, cliPath: string, platform: NodeJS.Platform, electron: boolean): string {
  if (platform === 'win32') {
    return ['@echo off', `rem ${LAUNCHER_MARK} (written by the NoteSeal extension)`, 'setlocal',
      ...(electron ? ['set ELECTRON_RUN_AS_NODE=1'] : []), `"${nodePath}" "${cliPath}" %*`, ''].join('\r\n');
  }
  return ['#!/bin/sh', `# ${LAUNCHER_MARK} (written by the NoteSeal extension; rewritten when it updates)`,
    `${electron ? 'ELECTRON_RUN_AS_NODE=1 ' : ''}exec ${shQuote(nodePath)} ${shQuote(cliPath)} "$@"`, ''].join('\n');
}

export function forwarderScript(target: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return ['@echo off', `rem ${LAUNCHER_MARK}`, `"${target}" %*`, ''].join('\r\n');
  return ['#!/bin/sh', `# ${LAUNCHER_MARK}: forwards to the one NoteSeal keeps current`, `exec ${shQuote(target)} "$@"`, ''].join('\n');
}

export function launcherName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'noteseal.cmd' : 'noteseal';
}

/** Writes `text` as an executable file (replacing it whole: write beside, then rename). */
export function writeExecutable(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, file);
}

/** True if `file` is missing or a launcher we wrote (so replacing it destroys nothing of the user's). */
export function isOursOrMissing(file: string): boolean {
  try { return fs.readFileSync(file, 'utf8').includes(LAUNCHER_MARK); } catch (e) { return (e as NodeJS.ErrnoException).code === 'ENOENT'; }
}

/** Whether `dir` is one of the PATH's folders. */
export function onPath(dir: string, pathVar: string | undefined, platform: NodeJS.Platform): boolean {
  const norm = (d: string) => path.resolve(d).replace(/[\\/]+$/, '');
  const same = (a: string, b: string) => (platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b);
  return (pathVar ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean).some(d => same(norm(d), norm(dir)));
}
