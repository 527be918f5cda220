// Finding a program on the PATH, for every part of the worker that runs one (capture tools, git, the agent's
// programs). Pure Node; lives on its own so that no feature reaches into another's folder for it.
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/**
 * The full path of `cmd` on the PATH of `env`, or null. On Windows, PATHEXT extensions are tried.
 * Only absolute PATH entries count: an empty entry, `.` or any relative directory would resolve against
 * the worker's current directory, where a cloned repository could plant its own `parec`. A `cmd` that is
 * a path must be absolute for the same reason.
 */
export async function which(cmd: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<string | null> {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const exts = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const isPath = cmd.includes('/') || (platform === 'win32' && cmd.includes('\\'));
  const candidates = isPath
    ? (paths.isAbsolute(cmd) ? [cmd] : [])
    : (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(d => d && paths.isAbsolute(d)).map(d => path.join(d, cmd));
  for (const c of candidates) {
    for (const ext of exts) {
      try {
        await access(c + ext, platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
        return c + ext;
      } catch { /* next */ }
    }
  }
  return null;
}
