// The CLI inside VS Code: terminals opened here get `noteseal` on their PATH and NOTESEAL_AGENT_SOCK set to
// this window's agent, through the terminal environment API (context.environmentVariableCollection: no
// shell file is touched; VS Code applies it to new terminals and offers to relaunch old ones).
// `NoteSeal: Install Command-Line Tool` puts a launcher where other terminals find it.
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { forwarderScript, isOursOrMissing, launcherName, launcherScript, onPath, writeExecutable } from './launcher';
import type { Logger } from '../shared/logger';

export class TerminalIntegration {
  /** The launcher kept current in the extension's global storage. */
  readonly launcher: string;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: Logger) {
    this.launcher = path.join(context.globalStorageUri.fsPath, 'bin', launcherName(process.platform));
  }

  /** Writes the launcher and puts its folder first on the PATH of this window's terminals. */
  activate(keyfile: string | undefined): void {
    const cli = this.context.asAbsolutePath(path.join('dist', 'cli.js'));
    try {
      writeExecutable(this.launcher, launcherScript(process.execPath, cli, process.platform, Boolean(process.versions.electron)));
    } catch (e) {
      this.log.error(`could not write the noteseal launcher: ${(e as Error).message}`);
      return;
    }
    const env = this.context.environmentVariableCollection;
    // The agent socket is per worker process: a restored terminal must not keep a dead one.
    env.persistent = false;
    env.description = 'NoteSeal: the `noteseal` command and this window\'s agent';
    env.prepend('PATH', path.dirname(this.launcher) + path.delimiter);
    if (keyfile) env.replace('NOTESEAL_KEYFILE', keyfile);
  }

  /** NOTESEAL_AGENT_SOCK for new terminals: this window's agent (a restarted worker has a new one). */
  setAgentSocket(socketPath: string | null): void {
    const env = this.context.environmentVariableCollection;
    if (socketPath) env.replace('NOTESEAL_AGENT_SOCK', socketPath); else env.delete('NOTESEAL_AGENT_SOCK');
  }

  /**
   * `NoteSeal: Install Command-Line Tool`: asks where (default ~/.local/bin), never replaces a file that
   * is not one of our launchers without asking, and says where it put it. `args` skip the dialogs (tests).
   */
  async install(args: { folder?: string; overwrite?: boolean } = {}): Promise<string | undefined> {
    let folder = args.folder;
    if (!folder) {
      const suggested = process.platform === 'win32'
        ? path.join(process.env.LOCALAPPDATA ?? os.homedir(), 'Programs', 'NoteSeal', 'bin')
        : path.join(os.homedir(), '.local', 'bin');
      const choice = await vscode.window.showInformationMessage(`Install the noteseal command in ${suggested}?`,
        { modal: true, detail: 'A small launcher script that runs the command-line tool shipped with this extension. Your shell files are not changed.' },
        'Install', 'Choose Folder…');
      if (choice === 'Choose Folder…') {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Install Here' });
        folder = picked?.[0]?.fsPath;
      } else if (choice === 'Install') {
        folder = suggested;
      }
      if (!folder) return undefined;
    }
    const target = path.join(folder, launcherName(process.platform));
    if (!isOursOrMissing(target) && !args.overwrite) {
      const ok = await vscode.window.showWarningMessage(`${target} exists and is not a NoteSeal launcher. Replace it?`, { modal: true }, 'Replace');
      if (ok !== 'Replace') return undefined;
    }
    writeExecutable(target, forwarderScript(this.launcher, process.platform));
    this.log.info(`installed the noteseal command at ${target}`);
    const hint = onPath(folder, process.env.PATH, process.platform) ? '' : ` ${folder} is not on your PATH: add it in your shell's profile.`;
    void vscode.window.showInformationMessage(`NoteSeal: installed the noteseal command at ${target}.${hint}`);
    return target;
  }
}
