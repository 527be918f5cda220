// `noteseal agent start|stop|lock|status`: a background process that holds the unlocked keyring so that
// short-lived commands need no passphrase (the ssh-agent pattern; docs/CLI.md, "Agent").
// `start` reads the passphrase, hands it to a detached child over a pipe (never argv, env or disk), and
// returns once the child serves. The child (`agent __serve`, internal) unlocks, listens, and ends on
// `stop`, its idle timeout or a signal, wiping the keys.
import fs from 'node:fs';
import { AgentConnection, AgentRefused } from '../agent/client';
import { canonicalPath, socketPathFromEnv } from '../agent/paths';
import type { AgentStatus } from '../agent/protocol';
import { AgentServer } from '../agent/server';
import { isNoteSealError } from '../crypto/errors';
import { allowOnly, expectOperands, UsageError } from './args';
import { chooseSlot, keyfilePath, keyringFor, readPin, type CliContext } from './context';
import { unlockThroughSlot } from '../keys/slot-use';
import { ExitCode, exitCodeFor } from './exit-codes';
import { readSecret } from './secrets';
import { writeToStdout } from './stdout';
import { serveCommand } from './agent-served';

export const DEFAULT_IDLE_MINUTES = 15;
const START_TIMEOUT_MS = 120_000;

function idleMinutes(ctx: CliContext): number {
  const given = ctx.args.options.get('idle-minutes');
  if (given === undefined) return DEFAULT_IDLE_MINUTES;
  const n = Number(given);
  if (typeof given !== 'string' || !Number.isFinite(n) || n < 0) throw new UsageError('--idle-minutes takes a number of minutes (0: no idle timeout)');
  return n;
}

function describe(status: AgentStatus, socketPath: string): string {
  const who = status.kind === 'vscode' ? 'NoteSeal in VS Code' : 'noteseal agent';
  return `${who} (pid ${status.pid}) at ${socketPath}: ${status.locked ? 'locked' : 'unlocked'}, keyfile ${status.keyfile}`;
}

/** The agent's status, or null when none answers. */
async function currentStatus(socketPath: string): Promise<AgentStatus | null> {
  const agent = await AgentConnection.open(socketPath);
  if (!agent) return null;
  try { return await agent.status(); } finally { agent.close(); }
}

async function sendOp(socketPath: string, op: 'lock' | 'stop'): Promise<boolean> {
  const agent = await AgentConnection.open(socketPath);
  if (!agent) return false;
  try { await agent.request({ op }); return true; } finally { agent.close(); }
}

/** Waits until nothing answers at socketPath (after `stop`). */
async function waitGone(socketPath: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!fs.existsSync(socketPath) || (await currentStatus(socketPath).catch(() => null)) === null) return;
    await new Promise(r => setTimeout(r, 50));
  }
}

async function startAgent(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'keyfile', 'idle-minutes');
  const minutes = idleMinutes(ctx);
  const socketPath = socketPathFromEnv(ctx.env);
  const keyfile = keyfilePath(ctx);
  const existing = await currentStatus(socketPath);
  if (existing) {
    if (!existing.locked && canonicalPath(existing.keyfile) === canonicalPath(keyfile)) { ctx.note(`noteseal: already running: ${describe(existing, socketPath)}`); return ExitCode.OK; }
    if (existing.kind === 'vscode') throw new UsageError(`${describe(existing, socketPath)}: unlock NoteSeal in VS Code, or set NOTESEAL_AGENT_SOCK to start a separate agent`);
    await sendOp(socketPath, 'stop');
    await waitGone(socketPath);
  }
  // refuses a missing keyfile before asking anything; an unlock slot's token is asked for its PIN once, here
  const chosen = await chooseSlot(ctx, keyringFor(ctx));
  const passphrase = chosen ? await readPin(ctx, chosen) : await readSecret({ name: 'PASSPHRASE', prompt: 'NoteSeal passphrase: ' }, ctx.env);
  const env: NodeJS.ProcessEnv = { ...ctx.env, NOTESEAL_AGENT_SOCK: socketPath };
  delete env.NOTESEAL_PASSPHRASE_FILE;
  delete env.NOTESEAL_PASSPHRASE_FD;
  delete env.NOTESEAL_PIN_FILE;
  delete env.NOTESEAL_PIN_FD;
  const slotArgs = chosen ? ['--unlock', chosen.slot.name, ...('target' in chosen ? ['--module', chosen.target.module] : [])] : [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const { spawn } = require('node:child_process') as typeof import('node:child_process'); // only `agent start` needs it
  const child = spawn(process.execPath, [process.argv[1]!, 'agent', '__serve', '--keyfile', keyfile, '--idle-minutes', String(minutes), ...slotArgs], {
    detached: true, cwd: '/', env, stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdin!.on('error', () => {});
  child.stdin!.end(passphrase, () => passphrase.fill(0));
  const answer = await new Promise<{ ok: boolean; message?: string; code?: string }>(resolve => {
    let text = '';
    const timer = setTimeout(() => resolve({ ok: false, message: 'the agent did not start in time' }), START_TIMEOUT_MS);
    child.stdout!.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) { clearTimeout(timer); try { resolve(JSON.parse(text.slice(0, end))); } catch { resolve({ ok: false, message: 'the agent sent a malformed answer' }); } }
    });
    child.once('exit', () => { clearTimeout(timer); resolve({ ok: false, message: 'the agent ended before it served' }); });
  });
  child.stdout!.destroy();
  child.unref();
  if (!answer.ok) {
    if (child.exitCode === null) child.kill();
    ctx.note(`noteseal: agent start failed: ${answer.message}`);
    return answer.code ? exitCodeFor(answer.code as Parameters<typeof exitCodeFor>[0]) : ExitCode.INTERNAL;
  }
  ctx.note(`noteseal: agent (pid ${child.pid}) serving at ${socketPath}; ${minutes > 0 ? `locks after ${minutes} idle minutes` : 'no idle timeout'}`);
  return ExitCode.OK;
}

/** The detached child: unlock with the passphrase (or with --unlock, the slot's PIN) from stdin, serve, and report readiness on stdout. */
async function serveAgent(ctx: CliContext): Promise<number> {
  const say = (answer: object) => { try { fs.writeSync(1, JSON.stringify(answer) + '\n'); } catch { /* parent gone */ } };
  const socketPath = socketPathFromEnv(ctx.env);
  const idleMs = idleMinutes(ctx) * 60_000;
  const keyring = keyringFor(ctx);
  const passphrase = fs.readFileSync(0);
  try {
    const chosen = ctx.args.options.has('unlock') ? await chooseSlot(ctx, keyring) : null;
    if (chosen) await unlockThroughSlot(keyring, chosen, passphrase, ctx.env);
    else await keyring.unlock(passphrase);
  } catch (e) {
    say(isNoteSealError(e) ? { ok: false, message: e.message, code: e.code } : { ok: false, message: (e as Error).message });
    return ExitCode.WRONG_KEY;
  } finally {
    passphrase.fill(0);
  }
  const server: AgentServer = new AgentServer({
    kind: 'cli',
    keyfile: keyring.keyfilePath,
    keyring: () => (keyring.isUnlocked ? keyring : null),
    lockedMessage: "the NoteSeal agent is locked (noteseal agent lock): run 'noteseal agent start' again",
    lock: () => keyring.lock(),
    stop: () => stop(),
    command: serveCommand,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    keyring.lock();
    await server.close();
    process.exit(ExitCode.OK);
  };
  try {
    await server.listen(socketPath);
  } catch (e) {
    keyring.lock();
    say({ ok: false, message: (e as Error).message });
    return ExitCode.USAGE;
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop());
  if (idleMs > 0) {
    const tick = Math.max(50, Math.min(idleMs / 4, 30_000));
    setInterval(() => { if (server.idleMs >= idleMs) void stop(); }, tick);
  }
  say({ ok: true });
  try { fs.closeSync(1); fs.closeSync(0); } catch { /* already closed */ }
  return new Promise<number>(() => {}); // serves until stop() exits the process
}

async function simpleOp(ctx: CliContext, op: 'lock' | 'stop'): Promise<number> {
  allowOnly(ctx.args);
  const socketPath = socketPathFromEnv(ctx.env);
  let done: boolean;
  try { done = await sendOp(socketPath, op); } catch (e) {
    if (e instanceof AgentRefused) throw new UsageError(e.message);
    throw e;
  }
  if (!done) { ctx.note(`noteseal: no agent answers at ${socketPath}`); return ExitCode.NO_AGENT; }
  if (op === 'stop') await waitGone(socketPath);
  ctx.note(op === 'stop' ? 'noteseal: agent stopped; its keys are wiped' : 'noteseal: agent locked; its keys are wiped');
  return ExitCode.OK;
}

/** Exit 0: an unlocked agent answers; 9: it is locked; 10: none answers. */
async function statusOfAgent(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'json');
  const socketPath = socketPathFromEnv(ctx.env);
  const status = await currentStatus(socketPath);
  if (ctx.args.options.has('json')) {
    await writeToStdout(ctx.stdout, Buffer.from(JSON.stringify({ socket: socketPath, running: status !== null, ...status }) + '\n'));
  } else {
    await writeToStdout(ctx.stdout, Buffer.from((status ? describe(status, socketPath) : `no agent answers at ${socketPath}`) + '\n'));
  }
  return status === null ? ExitCode.NO_AGENT : status.locked ? ExitCode.AGENT_REFUSED : ExitCode.OK;
}

export async function agentCommand(ctx: CliContext): Promise<number> {
  const [verb] = expectOperands(ctx.args, 1, 1, 'agent command (start, stop, lock or status)');
  switch (verb) {
    case 'start': return startAgent(ctx);
    case 'stop': return simpleOp(ctx, 'stop');
    case 'lock': return simpleOp(ctx, 'lock');
    case 'status': return statusOfAgent(ctx);
    case '__serve': return serveAgent(ctx);
    default: throw new UsageError(`unknown agent command '${verb}' (start, stop, lock or status)`);
  }
}
