// Which setting values count (pure: no vscode import, unit-tested). A cloned repository's
// `.vscode/settings.json` is not trusted: it must not switch auto-lock off or aim recordings outside
// the workspace. The manifest declares the auto-lock settings `application`-scoped too; reading only the
// user's own value here holds even where a host would honour a workspace value anyway.
import path from 'node:path';

/** The parts of `WorkspaceConfiguration.inspect()` used here. */
export interface Inspected<T> {
  readonly defaultValue?: T;
  readonly globalValue?: T;
  readonly workspaceValue?: T;
  readonly workspaceFolderValue?: T;
}

/** The user's value if it is valid, else the default: workspace and folder values are ignored. */
export function userValue<T>(inspected: Inspected<unknown> | undefined, fallback: T, valid: (v: unknown) => v is T): T {
  const user = inspected?.globalValue, builtIn = inspected?.defaultValue;
  return valid(user) ? user : valid(builtIn) ? builtIn : fallback;
}

export const isMinutes = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

export type FolderChoice = { folder: string } | { problem: string };

/**
 * Where recordings go. The user's own value may be absolute or relative to the (first) workspace folder;
 * a value from the workspace itself must stay inside that folder (relative, no `..` way out).
 * `root` is the workspace folder's path, or undefined when none is open.
 */
export function recordingFolder(inspected: Inspected<unknown> | undefined, root: string | undefined, fallback = 'meetings', paths: path.PlatformPath = path): FolderChoice {
  const fromWorkspace = [inspected?.workspaceFolderValue, inspected?.workspaceValue].find(v => typeof v === 'string' && v.trim());
  const value = (fromWorkspace ?? [inspected?.globalValue, inspected?.defaultValue].find(v => typeof v === 'string' && v.trim()) ?? fallback) as string;
  if (paths.isAbsolute(value) && fromWorkspace === undefined) return { folder: paths.normalize(value) };
  if (!root) return { problem: 'Open a folder first (or set noteseal.recording.folder to an absolute path in your user settings): recordings are saved there.' };
  const folder = paths.resolve(root, value);
  if (fromWorkspace !== undefined && (paths.isAbsolute(value) || !isInside(root, folder, paths))) {
    return { problem: `This workspace's settings point noteseal.recording.folder outside the workspace ("${value}"). NoteSeal ignores that: set it in your user settings, or to a folder inside the workspace.` };
  }
  return { folder };
}

/** Whether `p` is `root` or below it (both absolute). */
export function isInside(root: string, p: string, paths: path.PlatformPath = path): boolean {
  const rel = paths.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + paths.sep) && !paths.isAbsolute(rel));
}
