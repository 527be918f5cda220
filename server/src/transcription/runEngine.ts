// Runs a transcription engine with the audio on its stdin and its text on its stdout: no file holds either.
// The engine starts in an empty private folder (0700) that is also its TMPDIR, so a temp or log file it
// writes anyway lands where NoteSeal removes it; the folder is checked and removed afterwards. The engine's
// stderr is read and dropped (it never reaches a log or a message: an engine may echo what it heard there).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EngineCommand } from './engine';

export class EngineRunError extends Error {
  constructor(readonly code: 'TRANSCRIPTION_FAILED' | 'CANCELLED', message: string) { super(message); }
}

export interface RunOptions {
  /** PCM bytes, 16 kHz mono s16le; each buffer is zeroed once the engine has it. */
  audio: AsyncIterable<Buffer>;
  /** Called with the audio bytes handed over so far. */
  onFed?: (bytes: number) => void;
  signal?: AbortSignal;
  /** Longest time the engine may neither take audio nor print anything before it counts as hung. */
  idleMs?: number;
  /** Most stdout the engine may print (a flood is an error, not an out-of-memory). */
  maxOutputBytes?: number;
  /** Told the private folder's name while the engine runs, and whether it was empty afterwards (tests). */
  onPrivateFolder?: (folder: string, emptyAfter?: boolean) => void;
}

export const DEFAULT_IDLE_MS = 120_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function wipeAll(buffers: Buffer[]): void {
  for (const b of buffers) b.fill(0);
  buffers.length = 0;
}

/**
 * Node gives a child's stdin as a socket (libuv's socketpair), and PocketSphinx 0.8 opens its input by name:
 * opening /dev/stdin on a socket fails (ENXIO). So /bin/cat sits between them and the shell hands the engine a
 * real pipe: `/bin/cat | engine args…`, the engine and its arguments passed as "$0" "$@", never parsed by the shell.
 */
function realPipe(engine: EngineCommand): [string, string[]] {
  if (process.platform === 'win32') return [engine.program, engine.args];
  return ['/bin/sh', ['-c', '/bin/cat | "$0" "$@"', engine.program, ...engine.args]];
}

/** Kills the engine, the shell and cat together (their process group). */
function killGroup(child: ReturnType<typeof spawn>): void {
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch { /* already gone */ }
}

/** Resolves when the pipe can take more, or when the engine is gone (no listener is left behind). */
function drainedOrClosed(stdin: NodeJS.EventEmitter, child: NodeJS.EventEmitter): Promise<void> {
  return new Promise(resolve => {
    const done = () => { stdin.off('drain', done); child.off('close', done); resolve(); };
    stdin.on('drain', done);
    child.on('close', done);
  });
}

/** The engine's stdout as text (the caller wipes nothing: strings cannot be wiped; it is dropped after parsing). */
export async function runEngine(engine: EngineCommand, o: RunOptions): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'noteseal-engine-'));
  o.onPrivateFolder?.(folder);
  const out: Buffer[] = [];
  try {
    return await new Promise<string>((resolve, reject) => {
      const [program, args] = realPipe(engine);
      const child = spawn(program, args, {
        cwd: folder,
        detached: process.platform !== 'win32',   // its own process group: a kill reaches the engine, not only the shell
        env: { ...process.env, TMPDIR: folder, TMP: folder, TEMP: folder },
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const idleMs = o.idleMs ?? engine.idleMs ?? DEFAULT_IDLE_MS;
      let settled = false, outBytes = 0, fed = 0, stdinDone = false;
      let idle: NodeJS.Timeout | undefined;
      const fail = (code: EngineRunError['code'], message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        killGroup(child);
        wipeAll(out);
        reject(new EngineRunError(code, message));
      };
      const touch = () => {
        clearTimeout(idle);
        if (settled) return; // output that arrives after the end must not start a timer nobody clears (it held the process 120 s)
        idle = setTimeout(() => fail('TRANSCRIPTION_FAILED', `${engine.label} stopped responding (nothing for ${Math.round((idleMs) / 1000)} s) and was stopped.`), idleMs);
      };
      const onAbort = () => fail('CANCELLED', 'Transcription cancelled.');
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      touch();
      child.on('error', e => fail('TRANSCRIPTION_FAILED', `${engine.label} could not be started (${(e as NodeJS.ErrnoException).code ?? e.message}).`));
      child.stdout.on('data', (d: Buffer) => {
        touch();
        outBytes += d.length;
        if (outBytes > (o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)) {
          fail('TRANSCRIPTION_FAILED', `${engine.label} printed far more than a transcript (over ${Math.round((o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES) / 1024)} KiB) and was stopped.`);
          return;
        }
        out.push(d);
      });
      child.stderr.on('data', (d: Buffer) => { d.fill(0); });
      // EPIPE: the engine ended before it took all the audio.
      let stdinBroken = false;
      child.stdin.on('error', () => { stdinBroken = true; });
      child.on('close', (code, signal) => {
        o.signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        if (code !== 0) return fail('TRANSCRIPTION_FAILED', `${engine.label} failed (${signal ? `signal ${signal}` : `exit code ${code}`}) after ${fed} of the audio's bytes; the note was not changed.`);
        if (!stdinDone || stdinBroken) return fail('TRANSCRIPTION_FAILED', `${engine.label} ended before it had heard all the audio; the note was not changed.`);
        settled = true;
        clearTimeout(idle);
        const text = Buffer.concat(out);
        wipeAll(out);
        resolve(text.toString('utf8'));
        text.fill(0);
      });
      void (async () => {
        try {
          for await (const chunk of o.audio) {
            if (settled) { chunk.fill(0); break; }
            const more = child.stdin.write(chunk, () => chunk.fill(0));
            fed += chunk.length;
            o.onFed?.(fed);
            touch();
            if (!more) await drainedOrClosed(child.stdin, child);
          }
          if (!settled) { stdinDone = true; child.stdin.end(); }
        } catch (e) {
          fail('TRANSCRIPTION_FAILED', `The recording could not be read: ${(e as Error).message}`);
        }
      })();
    });
  } finally {
    const left = await readdir(folder).catch(() => []);
    o.onPrivateFolder?.(folder, left.length === 0);
    await rm(folder, { recursive: true, force: true });
  }
}
