// Where the agent's socket lives, and the checks that keep another user out of it.
//   Unix:    $XDG_RUNTIME_DIR/noteseal/agent.sock, else <os temp dir>/noteseal-<uid>/agent.sock
//            (the folder 0700 and ours, the socket 0600 and ours; anything else is refused)
//   Windows: the named pipe \\.\pipe\noteseal-agent-<user>. Pipes have no file modes; libuv creates them with
//            the default security descriptor (full control for the user, SYSTEM and Administrators, read for
//            Everyone: read alone cannot send a request). The server refuses a name another program holds
//            (server.ts); the client cannot ask who serves a pipe (Node has no GetNamedPipeServerProcessId).
//            Run as win32 under Wine in the Windows lane; see docs/RELIABILITY.md, "Windows".
// $NOTESEAL_AGENT_SOCK overrides the default path; it passes the same ownership checks.
// Node core has no SO_PEERCRED/getpeereid, so the server cannot ask a Unix client's uid: the private
// folder is what keeps other users out (connect() needs search permission on it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_SOCKET_NAME = 'agent.sock';

export class AgentPathError extends Error {
  override readonly name = 'AgentPathError';
}

function currentUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

/** The private folder for this user's agent sockets (Unix only). */
export function agentDir(env: NodeJS.ProcessEnv = process.env, uid = currentUid(), tmpdir = os.tmpdir()): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) return path.join(runtime, 'noteseal');
  return path.join(tmpdir, `noteseal-${uid ?? 'user'}`);
}

/** The default socket (or pipe) name for this user. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    const user = (env.USERNAME || os.userInfo().username).replace(/[^A-Za-z0-9_.-]/g, '_');
    return `\\\\.\\pipe\\noteseal-agent-${user}`;
  }
  return path.join(agentDir(env), DEFAULT_SOCKET_NAME);
}

/** The socket (or pipe) of one VS Code window's worker, `pid` being the worker's. */
export function windowSocketPath(pid: number, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `${defaultSocketPath(env, platform)}-vscode-${pid}`;
  return path.join(agentDir(env), `vscode-${pid}.sock`);
}

/** $NOTESEAL_AGENT_SOCK, else the default path. */
export function socketPathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.NOTESEAL_AGENT_SOCK;
  if (given && isNamedPipe(given)) return given;
  return given ? path.resolve(given) : defaultSocketPath(env);
}

/** The same file through any spelling of its path (symlinks, `..`): for comparing keyfile paths. */
export function canonicalPath(file: string): string {
  const resolved = path.resolve(file);
  try { return fs.realpathSync(resolved); } catch { return resolved; }
}

export function isNamedPipe(socketPath: string): boolean {
  return socketPath.startsWith('\\\\.\\pipe\\');
}

/** Throws unless `dir` is a real folder (no symlink), owned by us, with no access for group or others. */
export function checkPrivateDir(dir: string, uid = currentUid()): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new AgentPathError(`${dir} is not a folder (a symlink or a file is refused)`);
  if (uid !== null && st.uid !== uid) throw new AgentPathError(`${dir} belongs to uid ${st.uid}, not to us (uid ${uid}): refused`);
  if ((st.mode & 0o077) !== 0) throw new AgentPathError(`${dir} is accessible to other users (mode ${(st.mode & 0o777).toString(8)}): refused; it must be 700`);
}

/** Creates the socket's folder (mode 0700) if missing, then checks it. The folder's parent must exist. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  checkPrivateDir(dir);
}

/** Before connecting: the socket must sit in a private folder and belong to us, or it may be someone's trap. */
export function checkSocketToConnect(socketPath: string): void {
  if (isNamedPipe(socketPath)) return;
  checkPrivateDir(path.dirname(socketPath));
  const st = fs.lstatSync(socketPath);
  const uid = currentUid();
  if (!st.isSocket()) throw new AgentPathError(`${socketPath} is not a socket`);
  if (uid !== null && st.uid !== uid) throw new AgentPathError(`${socketPath} belongs to uid ${st.uid}, not to us: refused`);
}
