// Git for encrypted files, inside VS Code:
//   - `NoteSeal: Set Up Git for Encrypted Files` runs the bundled CLI's `noteseal git setup` in the chosen
//     workspace folder (no crypto here: the CLI writes .gitattributes and the local git config), then
//     `noteseal git check`, and offers to install the command when git started by VS Code would not find it;
//   - conflict CodeLenses on decrypted notes. The merge driver leaves git's standard markers inside the
//     encrypted file; VS Code's merge-conflict extension decorates them in any editor, but registers its
//     "Accept Current / Incoming / Both" CodeLenses for file-like schemes only (codelensProvider.ts in
//     microsoft/vscode extensions/merge-conflict: file, vscode-vfs, untitled, vscode-userdata), so a
//     `noteseal:` note would lack them. These lenses put the cursor in the conflict and run that extension's
//     own commands (merge-conflict.accept.*), so the resolution is VS Code's, not ours.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { Commands } from '../shared/commands';
import type { Logger } from '../shared/logger';
import { NOTESEAL_SCHEME } from '../shared/uris';

const RESOLVE_COMMAND = Commands.resolveConflict;
type Side = 'current' | 'incoming' | 'both';
const LENSES: readonly [Side, string][] = [['current', 'Accept Current Change'], ['incoming', 'Accept Incoming Change'], ['both', 'Accept Both Changes']];

/** Lines that open a conflict (git's `<<<<<<<` marker, 7 characters and a space or the line's end). */
export function conflictStarts(text: string): number[] {
  const out: number[] = [];
  text.split('\n').forEach((line, i) => { if (/^<{7}(?:[ \r]|$)/.test(line)) out.push(i); });
  return out;
}

class ConflictLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return conflictStarts(document.getText()).flatMap(line => {
      const range = new vscode.Range(line, 0, line, 0);
      return LENSES.map(([side, title]) => new vscode.CodeLens(range, { title, command: RESOLVE_COMMAND, arguments: [document.uri, line, side] }));
    });
  }
}

async function resolveConflict(uri: unknown, line: unknown, side: unknown): Promise<void> {
  if (!(uri instanceof vscode.Uri) || uri.scheme !== NOTESEAL_SCHEME || typeof line !== 'number' || !LENSES.some(([s]) => s === side)) return;
  const editor = await vscode.window.showTextDocument(uri, { preserveFocus: false });
  const at = new vscode.Position(Math.min(line + 1, editor.document.lineCount - 1), 0);
  editor.selection = new vscode.Selection(at, at);
  await vscode.commands.executeCommand(`merge-conflict.accept.${side as Side}`);
}

/** Runs the bundled CLI in `cwd` with the Node that runs this extension host (as the launcher does). */
function runCli(context: vscode.ExtensionContext, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  return new Promise(resolve => {
    execFile(process.execPath, [context.asAbsolutePath('dist/cli.js'), ...args], { cwd, env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter(f => f.uri.scheme === 'file');
  if (folders.length <= 1) return folders[0];
  const fromActive = active && folders.find(f => active.path.startsWith(f.uri.path + '/'));
  if (fromActive) return fromActive;
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Set up git for encrypted files in which folder?' });
}

/** `NoteSeal: Set Up Git for Encrypted Files`. Returns what the CLI printed (for tests), or undefined. */
async function setUpGit(context: vscode.ExtensionContext, log: Logger, target?: unknown): Promise<string | undefined> {
  // A folder given by the Explorer (or a test) as a file: Uri, else the workspace folder.
  const given = target instanceof vscode.Uri && target.scheme === 'file' ? target.fsPath : undefined;
  const cwd = given ?? (await pickFolder())?.uri.fsPath;
  if (!cwd) throw new Error('open a folder that is a git repository first.');
  const setup = await runCli(context, ['git', 'setup'], cwd);
  if (setup.code !== 0) throw new Error(setup.stderr.trim().replace(/^noteseal: /, '') || `noteseal git setup failed (exit ${setup.code})`);
  for (const line of setup.stdout.trim().split('\n')) log.info(`git setup: ${line}`);
  const changes = setup.stdout.split('\n').filter(l => /^(\.gitattributes|git config):/.test(l));
  const summary = changes.length ? `set up git for encrypted files (${changes.length} change${changes.length > 1 ? 's' : ''}: ${changes.join('; ')}).` : 'git was already set up for encrypted files.';
  // git started by VS Code (Source Control) runs the drivers with this window's PATH, not a terminal's.
  const check = await runCli(context, ['git', 'check'], cwd);
  if (/noteseal(\.cmd)? is not on the PATH/.test(check.stdout)) {
    const install = 'Install Command-Line Tool';
    void vscode.window.showWarningMessage(`NoteSeal: ${summary} git runs \`noteseal\` from the PATH, where it is not yet: install it so that merges and diffs outside this window's terminals work.`, install)
      .then(pick => { if (pick === install) void vscode.commands.executeCommand(Commands.installCommandLineTool); });
  } else {
    void vscode.window.showInformationMessage(`NoteSeal: ${summary}`);
  }
  return setup.stdout;
}

export function registerGitSupport(context: vscode.ExtensionContext, log: Logger): void {
  context.subscriptions.push(
    vscode.languages.registerCodeLensProvider({ scheme: NOTESEAL_SCHEME }, new ConflictLenses()),
    vscode.commands.registerCommand(RESOLVE_COMMAND, resolveConflict),
    vscode.commands.registerCommand(Commands.setUpGit, async (target?: unknown) => {
      try { return await setUpGit(context, log, target); } catch (e) {
        log.error(`${Commands.setUpGit} failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`NoteSeal: ${(e as Error).message}`);
        return undefined;
      }
    }),
  );
}
