// Who is on the other end of an agent connection, for the consent prompt ("Allow "git" (pid 4242)...").
// Node has no SO_PEERCRED, so on Linux we ask the kernel another way:
//   1. our accepted socket's inode: fstat of its file descriptor;
//   2. its peer's inode: `ss -xn` (iproute2) reads it from the kernel's sock_diag netlink interface
//      (UNIX_DIAG_PEER);
//   3. the process holding the peer: the one whose /proc/<pid>/fd/* links to `socket:[<peer inode>]`
//      (we scan ourselves rather than parse ss's `users:` field, which quotes process names that the
//      processes choose themselves);
//   4. the programs that ran that process: /proc/<pid>/stat (ppid, start time) and /proc/<ppid>/exe, up a
//      few generations (the chain the prompt shows: `git → sh → node`).
// ss prints socket paths raw, so a crafted path could fake a row: an inode that appears twice is
// treated as unknown.
// How far to trust it: every fact comes from the kernel, none from the client. The executable path is
// the one the kernel exec'd (a process can rename its `comm`, not its `exe`). It names the program, not
// its intent: any process of the same user can ptrace or start such a program, so this is a prompt
// that shows the user who asks, not a wall against malware already running as the user. Where the
// peer cannot be identified (no ss, not Linux, a process that exited) the result is null and the
// prompt says "an unidentified program": a name the client claims is never shown as fact.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';

export interface PeerProcess {
  /** The process holding the socket (the `noteseal` CLI, usually). */
  pid: number;
  exe: string;
  /**
   * The process that started it (git, make, a shell...), when it still runs. `startTime` (clock ticks after
   * boot, /proc/<pid>/stat field 22) tells it from a later process that reuses its pid.
   */
  parent?: { pid: number; exe: string; startTime: number };
  /** The executables from the client up (client, parent, grandparent...), as far as they can be read. */
  ancestors?: string[];
}

/** How many generations above the client the prompt shows. */
const CHAIN_DEPTH = 4;

/**
 * Programs that run other programs on anyone's behalf: a shell (textconv runs through `sh -c`, a terminal
 * through bash), an interpreter, a launcher. Allowing one "for the session" would allow every process it
 * ever starts, so a client whose parent is one of these is allowed once at a time.
 */
const RUNS_ANYTHING = /^(?:(?:ba|da|z|k|mk|c|tc|a|fi|yash|posh|r?)sh|fish|nu|elvish|xonsh|busybox|toybox|env|xargs|nohup|setsid|timeout|nice|sudo|doas|su|runuser|script|screen|tmux|expect|watch|make|gmake|node(?:js)?|deno|bun|python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|irb|php[0-9.]*|lua(?:jit)?[0-9.]*|tclsh[0-9.]*|wish[0-9.]*|guile[0-9.]*|racket|Rscript|R|julia|osascript|pwsh|powershell|cmd(?:\.exe)?|java|dotnet|awk|gawk|mawk|vim?|nvim|emacs|code|code-server|cursor|electron)$/i;

/** Whether `exe` is a shell, an interpreter or a launcher (RUNS_ANYTHING); tolerant of `.exe` and versions. */
export function runsAnything(exe: string): boolean {
  return RUNS_ANYTHING.test((exe.split(/[\\/]/).pop() ?? exe).replace(/\.exe$/i, '')); // either separator: a Windows path read anywhere
}

/**
 * Whether "Allow for This Session" may be offered for this peer: only for a parent the kernel named, with a
 * start time, that is not a shell, interpreter or launcher.
 */
export function sessionGrantable(peer: PeerProcess | null): peer is PeerProcess & { parent: NonNullable<PeerProcess['parent']> } {
  return !!peer?.parent && peer.parent.startTime > 0 && !runsAnything(peer.parent.exe);
}

/** What a session allowance is keyed by: the parent process itself (pid and start time), not its program. */
export function sessionKeyOf(peer: PeerProcess & { parent: NonNullable<PeerProcess['parent']> }): string {
  return `${peer.parent.pid}@${peer.parent.startTime}:${peer.parent.exe}`;
}

/** The chain the prompt shows, outermost first: `git → sh → node`. */
export function peerChain(peer: PeerProcess | null): string[] {
  if (!peer) return [];
  const exes = peer.ancestors ?? [peer.exe, ...(peer.parent ? [peer.parent.exe] : [])];
  return exes.map(e => path.basename(e)).reverse();
}

/** The socket rows of `ss -xnH`: local inode and peer inode. */
export function parseSsUnix(out: string): { ino: number; peer: number }[] {
  const rows: { ino: number; peer: number }[] = [];
  for (const line of out.split('\n')) {
    // u_str ESTAB 0 0 /path/agent.sock 624299 * 624298
    const m = /\s(\d+)\s+\S+\s+(\d+)\s*$/.exec(line);
    if (m) rows.push({ ino: Number(m[1]), peer: Number(m[2]) });
  }
  return rows;
}

/** The peer inode of socket `ino`, or null when the rows do not say so unambiguously. */
export function peerInode(rows: readonly { ino: number; peer: number }[], ino: number): number | null {
  const mine = rows.filter(r => r.ino === ino);
  return mine.length === 1 && mine[0]!.peer > 0 ? mine[0]!.peer : null;
}

/** The pids whose file descriptors hold socket `ino` (several after a fork). */
function holdersOf(ino: number): number[] {
  const link = `socket:[${ino}]`;
  const pids: number[] = [];
  let entries: string[];
  try { entries = fs.readdirSync('/proc'); } catch { return pids; }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try { fds = fs.readdirSync(`/proc/${name}/fd`); } catch { continue; } // another user's, or gone
    for (const fd of fds) {
      try { if (fs.readlinkSync(`/proc/${name}/fd/${fd}`) === link) { pids.push(Number(name)); break; } } catch { /* closed meanwhile */ }
    }
  }
  return pids;
}

function exeOf(pid: number): string | null {
  try { return fs.readlinkSync(`/proc/${pid}/exe`); } catch { return null; }
}

/** ppid and start time from /proc/<pid>/stat; null when gone. */
export function parseProcStat(stat: string): { ppid: number; startTime: number } | null {
  // pid (comm) state ppid ... starttime(22nd): comm may hold spaces and parentheses, so read after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  return Number.isInteger(ppid) && ppid > 0 ? { ppid, startTime: Number.isSafeInteger(startTime) ? startTime : 0 } : null;
}

function statOf(pid: number): { ppid: number; startTime: number } | null {
  try { return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return null; }
}

function startTimeOf(pid: number): number {
  return statOf(pid)?.startTime ?? 0;
}

function runSs(): Promise<string | null> {
  return new Promise(resolve => {
    execFile('ss', ['-xnH'], { timeout: 3_000, maxBuffer: 8 * 1024 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
      (err, stdout) => resolve(err ? null : stdout));
  });
}

/** The process on the other end of `socket`, or null when the kernel cannot tell us (see above). */
export async function identifyPeer(socket: net.Socket): Promise<PeerProcess | null> {
  if (process.platform !== 'linux') return null;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  let ours: number;
  try { ours = fs.fstatSync(fd).ino; } catch { return null; }
  const out = await runSs();
  if (out === null) return null;
  const peer = peerInode(parseSsUnix(out), ours);
  if (peer === null) return null;
  const holders = holdersOf(peer);
  // A socket shared by several processes (fork) names none of them for sure.
  if (holders.length !== 1) return null;
  const pid = holders[0]!;
  const exe = exeOf(pid);
  if (!exe) return null;
  const ppid = statOf(pid)?.ppid ?? null;
  // The start time read before and after its exe: a parent that exited meanwhile, its pid reused, shows a change.
  const parentStart = ppid ? startTimeOf(ppid) : 0;
  const parentExe = ppid ? exeOf(ppid) : null;
  const ancestors = [exe];
  for (let p = ppid; p && p > 1 && ancestors.length <= CHAIN_DEPTH; p = statOf(p)?.ppid ?? null) {
    const e = exeOf(p);
    if (!e) break;
    ancestors.push(e);
  }
  const parent = ppid && parentExe && parentStart && parentStart === startTimeOf(ppid) ? { pid: ppid, exe: parentExe, startTime: parentStart } : undefined;
  return { pid, exe, ancestors, ...(parent ? { parent } : {}) };
}

/** The name a prompt shows: the program that ran the client (git, make...), else the client itself. */
export function peerLabel(peer: PeerProcess | null): { name: string; pid?: number } {
  if (!peer) return { name: 'an unidentified program' };
  const who = peer.parent ?? peer;
  return { name: path.basename(who.exe), pid: who.pid };
}
