// Where the keyfile lives when nobody says otherwise. The CLI and the extension share it, so that scripts
// can decrypt what the editor saved.
import os from 'node:os';
import path from 'node:path';

/** $NOTESEAL_KEYFILE, else $XDG_CONFIG_HOME/noteseal/keyfile.json (~/.config by default). */
export function defaultKeyfilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NOTESEAL_KEYFILE) return path.resolve(env.NOTESEAL_KEYFILE);
  const config = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'noteseal', 'keyfile.json');
}
