// The launcher's short way through the agent (launcher.ts, docs/CLI.md "Agent"): `noteseal decrypt FILE` and
// `noteseal exec FILE... -- COMMAND [ARGS]` of small files, while an agent started with `noteseal agent start`
// serves, are sent whole to the agent (protocol op 'command'), which runs them with the very code the CLI runs
// (agent-served.ts): every check included. Only the plaintext (decrypt) or the variables (exec) come back; the
// CLI bundle is not loaded, which is most of such a command's time. Anything else — an option, a larger file,
// no agent, a locked one, any warning or error — runs the whole CLI as before, which then says what it says
// today: the agent answers only where the whole CLI would succeed without a word on stderr.
// Built-in modules only (the launcher must stay small).
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { checkSocketToConnect, socketPathFromEnv } from '../agent/paths';
import { AGENT_PROTOCOL_VERSION, type AgentReply } from '../agent/protocol';
import { encodeFrame, FrameReader } from '../agent/wire';
import { ExitCode } from './exit-codes';
import { childEnv, runCommand } from './run-command';

/** The environment variables `decrypt` and `exec` read (the keyfile's and the socket's place, the trust lists' home). */
export const SERVED_ENV: readonly string[] = ['HOME', 'USER', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'NOTESEAL_KEYFILE', 'NOTESEAL_AGENT_SOCK'];
/** Larger files go through the whole CLI (one reply carries at most 128 KiB). */
export const MAX_SERVED_FILE_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 60_000;

export interface FastPlan {
  /** What the agent runs: the command line with its files by absolute path. */
  argv: string[];
  /** exec: the command and its arguments. */
  run?: { command: string; args: string[] };
}

/** The command line the agent may serve whole, or null (then the whole CLI runs). */
export function fastPlan(argv: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): FastPlan | null {
  if (platform === 'win32') return null;
  if (Object.keys(env).some(name => name.startsWith('NOTESEAL_') && !SERVED_ENV.includes(name))) return null;
  const [verb, ...rest] = argv;
  let files: string[];
  let tail: string[] = [];
  if (verb === 'decrypt') {
    if (rest.length !== 1) return null;
    files = rest;
  } else if (verb === 'exec') {
    const sep = rest.indexOf('--');
    if (sep < 1 || sep === rest.length - 1) return null;
    files = rest.slice(0, sep);
    tail = rest.slice(sep);
  } else return null;
  let total = 0;
  for (const f of files) {
    if (f === '' || f.startsWith('-')) return null;
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    total += st.size;
  }
  if (total > MAX_SERVED_FILE_BYTES) return null;
  return { argv: [verb!, ...files.map(f => path.resolve(f)), ...tail], ...(verb === 'exec' ? { run: { command: tail[1]!, args: tail.slice(2) } } : {}) };
}

/** The variables of `env` the agent needs for the plan (SERVED_ENV). */
function servedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SERVED_ENV) { const v = env[name]; if (v !== undefined) out[name] = v; }
  return out;
}

/** The agent's output for the plan, or null where the whole CLI must run (no agent, refused, any failure). */
export function throughAgent(plan: FastPlan, env: NodeJS.ProcessEnv): Promise<Buffer | null> {
  const socketPath = socketPathFromEnv(env);
  try { checkSocketToConnect(socketPath); } catch { return Promise.resolve(null); }
  // Required here: the launcher loads no more than it needs for the commands it does not serve.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const { connect } = require('node:net') as typeof net;
  return new Promise(resolve => {
    const reader = new FrameReader();
    const socket = connect(socketPath);
    let settled = false;
    const finish = (blob: Buffer | null) => {
      clearTimeout(timer);
      socket.destroy();
      reader.clear();
      if (settled) { blob?.fill(0); return; }
      settled = true;
      resolve(blob);
    };
    let timer = setTimeout(() => finish(null), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(null), REQUEST_TIMEOUT_MS);
      socket.write(encodeFrame({ v: AGENT_PROTOCOL_VERSION, op: 'command', argv: plan.argv, env: servedEnv(env) }));
    });
    socket.on('data', chunk => {
      let frame;
      try { frame = reader.push(chunk)[0]; } catch { finish(null); return; }
      if (!frame) return;
      const reply = frame.json as AgentReply | null;
      if (reply && typeof reply === 'object' && reply.v === AGENT_PROTOCOL_VERSION && reply.ok === true) finish(frame.blob);
      else { frame.blob.fill(0); finish(null); }
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}

/** The agent's output for the plan checked: the plaintext (decrypt) or the variables (exec); null when malformed. */
export function servedOutput(plan: FastPlan, out: Buffer): Buffer | Map<string, string> | null {
  if (!plan.run) return out;
  let pairs: unknown;
  try { pairs = JSON.parse(out.toString('utf8')); } catch { pairs = null; } finally { out.fill(0); }
  if (!Array.isArray(pairs)) return null;
  const vars = new Map<string, string>();
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') return null;
    vars.set(p[0], p[1]);
  }
  return vars;
}

/** Hands the agent's output on as the whole CLI would: decrypt's plaintext to stdout, or exec's command run. */
export async function finishServed(plan: FastPlan, served: Buffer | Map<string, string>): Promise<number> {
  if (plan.run && served instanceof Map) {
    return runCommand(plan.run.command, plan.run.args, childEnv(process.env, served), line => { process.stderr.write(line + '\n'); });
  }
  const out = served as Buffer;
  // As the CLI does (main.ts, stdout.ts): a reader that closed the pipe (`| head`) ends output quietly; any
  // other failure to write is reported the same way (exit 7).
  const failed = await writeStdout(out);
  out.fill(0);
  const errno = failed as NodeJS.ErrnoException | null | undefined;
  if (!errno || errno.code === 'EPIPE') return ExitCode.OK;
  if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    process.stderr.write(`noteseal: ${errno.message}\n`);
    return ExitCode.IO;
  }
  process.stderr.write(`noteseal: internal error: ${errno.message} (please report this)\n`);
  return ExitCode.INTERNAL;
}

/**
 * Writes all of `out` to descriptor 1. Straight `writeSync` calls where they can (a file, a terminal, a blocking
 * pipe): setting up `process.stdout` (a stream object over the descriptor) is a measurable share of a small
 * command's start (docs/ARCHITECTURE.md, the agent's rows); a descriptor that would block (EAGAIN: a
 * non-blocking pipe) gets the rest through `process.stdout`, which waits for it.
 */
async function writeStdout(out: Buffer): Promise<Error | null | undefined> {
  let done = 0;
  try {
    while (done < out.length) done += fs.writeSync(1, out, done, out.length - done);
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return e as Error;
  }
  process.stdout.on('error', () => {});
  return new Promise<Error | null | undefined>(resolve => {
    try { process.stdout.write(out.subarray(done), resolve); } catch (e) { resolve(e as Error); }
  });
}
