// "NoteSeal: Install Command-Line Tool" on Windows writes noteseal.cmd (a forwarder to the launcher the
// extension keeps current). Run here through a real cmd.exe (the Windows lane): the forwarder and the launcher
// start the CLI with every argument intact, from a folder whose path holds a space.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forwarderScript, launcherName, launcherScript, writeExecutable } from '../../../client/src/agent/launcher';
import { ROOT } from '../agent/cliRunner';

function runCmd(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.ComSpec || 'cmd.exe', ['/d', '/s', '/c', `"${[file, ...args].map(a => `"${a}"`).join(' ')}"`],
      { windowsVerbatimArguments: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTESEAL_TEST_FAST_KDF: '1' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', b => { stdout += b; });
    child.stderr.on('data', b => { stderr += b; });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

describe('the Windows launcher noteseal.cmd, through a real cmd.exe (the lane)', { skip: process.platform === 'win32' ? false : 'runs where cmd.exe is' }, () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal launcher ')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the installed forwarder runs the launcher, which runs the CLI: --version and a usage error with its exit status', async () => {
    assert.equal(launcherName('win32'), 'noteseal.cmd');
    const launcher = path.join(dir, 'storage', 'bin', launcherName('win32'));
    writeExecutable(launcher, launcherScript(process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'win32', false));
    const installed = path.join(dir, 'Programs', 'NoteSeal', 'bin', launcherName('win32'));
    writeExecutable(installed, forwarderScript(launcher, 'win32'));
    const version = await runCmd(installed, ['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^noteseal \d+\.\d+\.\d+/);
    const usage = await runCmd(installed, ['decrypt', 'a b.enc', 'second']);
    assert.equal(usage.code, 1, 'the CLI\'s exit status comes back through both scripts');
    assert.match(usage.stderr, /decrypt/);
  });
});
