// git's drivers on Windows (issue 24): git runs a driver's command line through its MSYS2 sh, which finds a bare
// name only as name or name.exe, never through %PATHEXT%; the launcher "Install Command-Line Tool" writes there is
// noteseal.cmd. So the drivers name noteseal.cmd on Windows, `git check` looks for that file on a `;`-separated
// PATH (which Windows may spell `Path`), and the driver's command line, found that way, runs the CLI. git.exe
// itself does not run under Wine: the last step is proven with cmd.exe, the rest is on docs/RELIABILITY.md's list.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forwarderScript, launcherName, launcherScript, writeExecutable } from '../../../client/src/agent/launcher';
import { commandGitWouldRun, driverProgram, gitConfigFor } from '../../../server/src/cli/git-setup';
import { ROOT } from '../agent/cliRunner';

describe('git drivers name the program the platform\'s git shell finds', () => {
  it('noteseal.cmd on Windows, the same file the launcher installs; noteseal elsewhere', () => {
    assert.equal(driverProgram('win32'), launcherName('win32'));
    assert.equal(driverProgram('linux'), launcherName('linux'));
    for (const platform of ['win32', 'linux', 'darwin'] as const) {
      const config = new Map(gitConfigFor(platform));
      assert.equal(config.get('diff.noteseal.textconv'), `${launcherName(platform)} git textconv`);
      assert.equal(config.get('merge.noteseal.driver'), `${launcherName(platform)} git merge-driver %O %A %B %P`);
    }
  });
});

describe('`git check` finds the driver program on this platform\'s PATH', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal git drivers ')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('on a PATH of two entries (the second holds the program), spelled as this platform spells it', () => {
    const bin = path.join(dir, 'Programs', 'NoteSeal', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const program = driverProgram();
    writeExecutable(path.join(bin, program), forwarderScript(path.join(dir, 'launcher'), process.platform));
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const value = [empty, bin].join(path.delimiter);
    const env = process.platform === 'win32' ? { Path: value } : { PATH: value };
    assert.equal(commandGitWouldRun(program, dir, env), fs.realpathSync(path.join(bin, program)));
    assert.equal(commandGitWouldRun(program, dir, { PATH: empty }), null);
  });
});

describe('the textconv driver\'s command line runs the CLI through noteseal.cmd (the lane)', { skip: process.platform === 'win32' ? false : 'runs where cmd.exe is' }, () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal git driver ')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a file git hands over (a path with a space) comes back as the placeholder line git shows', async () => {
    const launcher = path.join(dir, 'storage', 'bin', launcherName('win32'));
    writeExecutable(launcher, launcherScript(process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'win32', false));
    const bin = path.join(dir, 'Programs', 'NoteSeal', 'bin');
    writeExecutable(path.join(bin, launcherName('win32')), forwarderScript(launcher, 'win32'));
    const file = path.join(dir, 'old version.enc');
    fs.writeFileSync(file, 'not an encrypted file');
    const command = `${new Map(gitConfigFor('win32')).get('diff.noteseal.textconv')} "${file}"`;
    // One PATH entry whatever its case (Windows' environment is case-insensitive, a copied object is not).
    const env: NodeJS.ProcessEnv = { NOTESEAL_TEST_FAST_KDF: '1' };
    for (const [k, v] of Object.entries(process.env)) if (k.toLowerCase() !== 'path') env[k] = v;
    env.Path = `${bin};${Object.entries(process.env).find(([k]) => k.toLowerCase() === 'path')?.[1] ?? ''}`;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.env.ComSpec || 'cmd.exe', ['/d', '/s', '/c', `"${command}"`], {
        windowsVerbatimArguments: true, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
        env,
      });
      let stdout = '', stderr = '';
      child.stdout.on('data', b => { stdout += b; });
      child.stderr.on('data', b => { stderr += b; });
      child.on('error', reject);
      child.on('close', code => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, `${out.stderr} ${out.stdout}`);
    assert.match(out.stdout, /^\[NoteSeal: not a NoteSeal file this version can read; ciphertext sha256:[0-9a-f]{16}\]/);
  });
});
