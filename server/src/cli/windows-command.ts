// How `noteseal exec` starts a command on Windows. CreateProcess finds only `name.exe` on the PATH, while a
// user who types `noteseal exec .env.enc -- npm test` expects what cmd.exe finds: `npm.cmd`, through
// %PATHEXT%. And a .cmd or .bat file is not a program: it runs in cmd.exe, which parses its command line
// again (Node refuses to spawn one without a shell since CVE-2024-27980). So the target is resolved here as
// cmd.exe would, and a batch file gets a command line whose every cmd.exe metacharacter is escaped with ^
// (the scheme of the cross-spawn package, which npm's tools use), or is refused when an argument cannot be
// passed through a batch file safely: a line break ends the command, and a % may be expanded as a variable
// (the "BatBadBut" class of bugs, CVE-2024-24576); ^ cannot escape % on cmd.exe's command line. Pure (no spawn), so every case is unit-tested anywhere.
import path from 'node:path';

export interface WindowsSpawn {
  file: string;
  args: string[];
  /** cmd.exe's line is built here; Node must not quote it again. */
  verbatim: boolean;
}

export class WindowsCommandError extends Error {
  override readonly name = 'WindowsCommandError';
}

/** A variable of a Windows environment copied into a plain object, whose names are case-insensitive there. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const key = Object.keys(env).find(k => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

function extensions(env: NodeJS.ProcessEnv): string[] {
  const list = (envValue(env, 'PATHEXT') || '.COM;.EXE;.BAT;.CMD').split(';').map(e => e.trim().toLowerCase()).filter(e => e.startsWith('.'));
  return list.length ? list : ['.com', '.exe', '.bat', '.cmd'];
}

/**
 * The file cmd.exe would run for `command`: a path is tried as given and with each %PATHEXT% extension; a bare
 * name in the current folder, then in each %PATH% folder, the same way. Null when none exists.
 */
export function resolveWindowsCommand(command: string, env: NodeJS.ProcessEnv, cwd: string, isFile: (p: string) => boolean): string | null {
  const win = path.win32;
  const exts = extensions(env);
  const hasKnownExt = exts.includes(win.extname(command).toLowerCase());
  const candidates = (base: string) => [...(hasKnownExt ? [base] : []), ...exts.map(e => base + e)];
  const isPath = /[\\/]/.test(command) || win.isAbsolute(command);
  const dirs = isPath ? [''] : [cwd, ...(envValue(env, 'PATH') ?? '').split(';').map(d => d.replace(/^"(.*)"$/, '$1')).filter(Boolean)];
  for (const dir of dirs) {
    for (const c of candidates(dir ? win.join(dir, command) : win.resolve(cwd, command))) if (isFile(c)) return c;
  }
  return null;
}

const CMD_META = /([()\][%!^"`<>&|;, *?])/g;

/** One argument for a program's command line (the MSVCRT rules), then with cmd.exe's metacharacters escaped. */
export function escapeForCmd(arg: string): string {
  let quoted = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1');
  quoted = `"${quoted}"`;
  return quoted.replace(CMD_META, '^$1');
}

/** What to spawn for `command args` on Windows; throws WindowsCommandError when it cannot be run safely. */
export function windowsSpawn(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, isFile: (p: string) => boolean): WindowsSpawn {
  const file = resolveWindowsCommand(command, env, cwd, isFile);
  if (file === null) return { file: command, args: [...args], verbatim: false }; // spawn reports ENOENT: "command not found"
  if (!/\.(cmd|bat)$/i.test(file)) return { file, args: [...args], verbatim: false };
  const bad = args.find(a => /[\r\n%]/.test(a));
  if (bad !== undefined) {
    throw new WindowsCommandError(`${path.win32.basename(file)} is a batch file, and cmd.exe would expand or cut the argument ${JSON.stringify(bad)} ` +
      '(a % or a line break cannot be passed to a batch file safely): run the program it wraps directly');
  }
  const line = [file.replace(CMD_META, '^$1'), ...args.map(escapeForCmd)].join(' ');
  // /d: no AutoRun commands from the registry; /v:off: no !delayed! expansion, whatever the registry says.
  return { file: envValue(env, 'ComSpec') || 'cmd.exe', args: ['/d', '/v:off', '/s', '/c', `"${line}"`], verbatim: true };
}
