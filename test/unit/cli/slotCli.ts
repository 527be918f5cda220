// Running the built CLI for the unlock-slot tests (unlockSlots, unlockTpm): no controlling terminal, so a
// missing PIN or passphrase source fails instead of prompting.
import { spawn } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'cli.js');

export interface Run { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd, detached: true, env: { PATH: process.env.PATH ?? '', HOME: cwd, NOTESEAL_TEST_FAST_KDF: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = ''; let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout: out, stderr: err }));
  });
}
