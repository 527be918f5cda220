// Where the keyfile lives when nobody says otherwise. The CLI and the extension share it, so that scripts
// can decrypt what the editor saved.
import os from 'node:os';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';

/**
 * A keyfile path given by the user (the `noteseal.keyfile` setting, $NOTESEAL_KEYFILE): `~` is expanded, and
 * it must then be absolute. A relative path would resolve against the current directory, which may be a
 * cloned repository holding a keyfile of its author's choosing. Throws INVALID_ARGUMENT naming `source`.
 */
export function absoluteKeyfilePath(given: string, source: string, home: string = os.homedir()): string {
  const expanded = given === '~' ? home : /^~[\\/]/.test(given) ? path.join(home, given.slice(2)) : given;
  if (!path.isAbsolute(expanded)) {
    throw new NoteSealError('INVALID_ARGUMENT', `${source} must be an absolute path (or start with ~/), not "${given}".`);
  }
  return path.normalize(expanded);
}

/**
 * $NOTESEAL_KEYFILE (absolute or ~/…), else the per-user configuration folder's noteseal/keyfile.json:
 *   Unix:    $XDG_CONFIG_HOME (absolute), else ~/.config
 *   Windows: %APPDATA% (the roaming profile, C:\Users\<user>\AppData\Roaming), else
 *            %USERPROFILE%\AppData\Roaming. The profile's ACL admits only the user, SYSTEM and
 *            Administrators, and files created there inherit it: that is what keeps the keyfile private on
 *            Windows, where a file mode cannot (docs/KEYS.md, "Windows").
 */
export function defaultKeyfilePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (env.NOTESEAL_KEYFILE) return absoluteKeyfilePath(env.NOTESEAL_KEYFILE, 'NOTESEAL_KEYFILE', home);
  if (platform === 'win32') {
    const appData = env.APPDATA && path.win32.isAbsolute(env.APPDATA) ? env.APPDATA : path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, 'noteseal', 'keyfile.json');
  }
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(config, 'noteseal', 'keyfile.json');
}
