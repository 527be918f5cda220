// Runs the built CLI (dist/cli.js) as a user or a script would: no controlling terminal (setsid), stdin
// closed unless given, a private HOME and XDG_RUNTIME_DIR, the fast test KDF.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface Run { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], env: Record<string, string>, opts: { cwd?: string; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd, detached: true, env: { PATH: process.env.PATH ?? '', NOTESEAL_TEST_FAST_KDF: '1', ...env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    collectOutput(child).then(resolve, reject);
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}

/** A child's exit code and its whole stdout and stderr, once it has closed. */
export function collectOutput(child: ChildProcess): Promise<Run> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout: out, stderr: err }));
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise(r => setTimeout(r, 100));
  }
  return false;
}
