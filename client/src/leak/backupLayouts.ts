// Where VS Code may write hot-exit backups of `noteseal:` documents, for each way VS Code runs. Pure (no
// `vscode` import) so every layout is unit-tested; the leak guard confirms the real one at run time with a
// probe (leakGuard.ts) and sweeps every candidate meanwhile.
//
// - Desktop: the main process sets `backupHome = join(userDataPath, 'Backups')`
//   (microsoft/vscode src/vs/platform/environment/electron-main/environmentMainService.ts); each window's
//   backups go to `<backupHome>/<workspace hash>/<scheme>/<hash of the resource>`. userDataPath
//   (src/vs/platform/environment/node/userDataPath.cjs) is `<portable>/user-data`, else $VSCODE_APPDATA/<product>,
//   else --user-data-dir, else per platform: Windows %APPDATA%\<product> (%USERPROFILE%\AppData\Roaming when
//   APPDATA is unset), so `C:\Users\<user>\AppData\Roaming\Code\Backups`; macOS ~/Library/Application
//   Support/<product>; Linux $XDG_CONFIG_HOME/<product> (~/.config). Paths are parsed with the host's own rules
//   (win32 or posix: `platform` below), so each platform's layout is unit-tested on any.
// - Web workbench served by a VS Code server (code-server, `code serve-web`): the backup home is under the
//   user-data "roaming" home, `<userData>/User/Backups`, on the server's disk.
// - Remote windows (SSH, WSL, containers, tunnels): the extension host and the worker run on the remote, but
//   the workbench, and so its backups, stay on the local machine: out of reach. The same holds for a
//   workbench that keeps backups in the browser's IndexedDB (vscode.dev, or no server-side user data).
import path from 'node:path';

export interface HostFacts {
  /** context.globalStorageUri: scheme and fsPath (`<userData>/User/globalStorage/<extension id>`). */
  globalStorage: { scheme: string; fsPath: string };
  /** context.logUri (`<userData>/logs/<session>/window<N>/exthost/<extension id>`), when on disk. */
  log?: { scheme: string; fsPath: string };
  /** vscode.env.remoteName (undefined for a local window). */
  remoteName?: string;
  /** vscode.env.uiKind === UIKind.Web. */
  web: boolean;
  /** process.env.VSCODE_PORTABLE (desktop portable mode keeps user data in `<portable>/user-data`). */
  portable?: string;
  /** The extension host's process.platform (default: this process's): how its paths are spelled. */
  platform?: NodeJS.Platform;
}

function pathsOf(platform: NodeJS.Platform = process.platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

export type BackupLayout = 'desktop' | 'web-server' | 'remote' | 'browser';

export interface BackupCandidates {
  layout: BackupLayout;
  /** Backup homes that exist on this machine's disk, most likely first; each holds `<workspace>/<scheme>/…`. */
  homes: string[];
  /** Why nothing here can be swept (remote, browser): what the user is told once. */
  unreachable?: string;
}

/** `<userData>` from `<userData>/User/globalStorage/<id>`, or undefined if the path has another shape. */
export function userDataFromGlobalStorage(fsPath: string, platform?: NodeJS.Platform): string | undefined {
  const p = pathsOf(platform);
  const storage = p.dirname(fsPath);
  const user = p.dirname(storage);
  if (p.basename(storage) !== 'globalStorage' || p.basename(user) !== 'User') return undefined;
  return p.dirname(user);
}

/** `<userData>` from `<userData>/logs/<session>/window<N>/exthost/<id>` (or `…/<session>/exthost<N>/<id>` on a server). */
export function userDataFromLog(fsPath: string, platform?: NodeJS.Platform): string | undefined {
  const p = pathsOf(platform);
  const parts = fsPath.split(p.sep);
  const logs = parts.lastIndexOf('logs');
  if (logs < 1 || parts.length - logs < 3) return undefined;
  return parts.slice(0, logs).join(p.sep) || p.sep;
}

export function backupCandidates(h: HostFacts): BackupCandidates {
  if (h.remoteName && !h.web) {
    return { layout: 'remote', homes: [], unreachable: `This is a remote window (${h.remoteName}): VS Code keeps its hot-exit backups on your local machine, where NoteSeal cannot reach them.` };
  }
  const p = pathsOf(h.platform);
  const userData = new Set<string>();
  if (h.globalStorage.scheme === 'file') { const u = userDataFromGlobalStorage(h.globalStorage.fsPath, h.platform); if (u) userData.add(u); }
  if (h.log?.scheme === 'file') { const u = userDataFromLog(h.log.fsPath, h.platform); if (u) userData.add(u); }
  if (!h.web && h.portable) userData.add(p.join(h.portable, 'user-data'));
  if (userData.size === 0) {
    return { layout: 'browser', homes: [], unreachable: 'This workbench keeps its hot-exit backups in the browser (IndexedDB), where NoteSeal cannot reach them.' };
  }
  // Desktop first looks in `<userData>/Backups`, a server's web workbench in `<userData>/User/Backups`; both
  // are listed for either, since a probe decides and sweeping a folder that stays empty costs nothing.
  const homes: string[] = [];
  for (const u of userData) {
    const desktop = p.join(u, 'Backups');
    const web = p.join(u, 'User', 'Backups');
    homes.push(...(h.web ? [web, desktop] : [desktop, web]));
  }
  return { layout: h.web ? 'web-server' : 'desktop', homes: [...new Set(homes)] };
}

/** The folders holding backups of `scheme` under a backup home, given the workspace folders found there. */
export function schemeFolders(home: string, workspaceEntries: readonly string[], scheme: string): string[] {
  return workspaceEntries.filter(w => w !== 'workspaces.json').map(w => path.join(home, w, scheme));
}
