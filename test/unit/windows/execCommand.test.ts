// `noteseal exec` on Windows: the command is found as cmd.exe finds it (%PATHEXT%, so `npm` is npm.cmd), and a
// .cmd/.bat target runs through cmd.exe with every argument arriving exactly as given (quotes, spaces, & | % ^ !).
// The resolution and quoting are pure and tested everywhere; the round trip through a real cmd.exe and a real
// batch file runs in the Windows lane (Wine's cmd.exe).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapeForCmd, resolveWindowsCommand, windowsSpawn, WindowsCommandError } from '../../../server/src/cli/windows-command';
import { runCli } from '../agent/cliRunner';

const files = (...list: string[]) => (p: string) => list.some(f => f.toLowerCase() === p.toLowerCase());
const ENV = { Path: 'C:\\tools;"C:\\Program Files\\nodejs"', PATHEXT: '.COM;.EXE;.BAT;.CMD', ComSpec: 'C:\\Windows\\system32\\cmd.exe' };

describe('finding the command as cmd.exe does (pure)', () => {
  it('a bare name through %PATH% and %PATHEXT%, the current folder first; a path as given or with an extension', () => {
    assert.equal(resolveWindowsCommand('npm', ENV, 'C:\\work', files('C:\\Program Files\\nodejs\\npm.cmd')), 'C:\\Program Files\\nodejs\\npm.cmd');
    assert.equal(resolveWindowsCommand('npm', ENV, 'C:\\work', files('C:\\Program Files\\nodejs\\npm.cmd', 'C:\\tools\\npm.exe')), 'C:\\tools\\npm.exe');
    assert.equal(resolveWindowsCommand('tool', ENV, 'C:\\work', files('C:\\work\\tool.bat', 'C:\\tools\\tool.exe')), 'C:\\work\\tool.bat');
    assert.equal(resolveWindowsCommand('git.exe', ENV, 'C:\\work', files('C:\\tools\\git.exe')), 'C:\\tools\\git.exe');
    assert.equal(resolveWindowsCommand('.\\run', ENV, 'C:\\work', files('C:\\work\\run.cmd')), 'C:\\work\\run.cmd');
    assert.equal(resolveWindowsCommand('missing', ENV, 'C:\\work', files()), null);
    assert.equal(resolveWindowsCommand('x', { PATH: 'C:\\a', PATHEXT: '.PS1' }, 'C:\\w', files('C:\\a\\x.ps1')), 'C:\\a\\x.ps1');
  });

  it('a batch file runs in %ComSpec% with a verbatim, fully escaped line; a program runs directly', () => {
    const bat = windowsSpawn('npm', ['run', 'a&b'], ENV, 'C:\\work', files('C:\\Program Files\\nodejs\\npm.cmd'));
    assert.equal(bat.file, 'C:\\Windows\\system32\\cmd.exe');
    assert.equal(bat.verbatim, true);
    assert.deepEqual(bat.args.slice(0, 4), ['/d', '/v:off', '/s', '/c']);
    assert.equal(bat.args[4], '"C:\\Program^ Files\\nodejs\\npm.cmd ^"run^" ^"a^&b^""');
    assert.deepEqual(windowsSpawn('git', ['log'], ENV, 'C:\\work', files('C:\\tools\\git.exe')), { file: 'C:\\tools\\git.exe', args: ['log'], verbatim: false });
    assert.deepEqual(windowsSpawn('nope', ['x'], ENV, 'C:\\work', files()), { file: 'nope', args: ['x'], verbatim: false });
    for (const bad of ['two\nlines', '%PATH%', '100%']) {
      assert.throws(() => windowsSpawn('npm', [bad], ENV, 'C:\\work', files('C:\\tools\\npm.cmd')), WindowsCommandError, bad);
    }
    assert.deepEqual(windowsSpawn('git', ['%PATH%'], ENV, 'C:\\work', files('C:\\tools\\git.exe')).args, ['%PATH%'], 'a program gets % as it is');
  });

  it('escapes quotes and trailing backslashes by the MSVCRT rules and every cmd.exe metacharacter with ^', () => {
    assert.equal(escapeForCmd('plain'), '^"plain^"');
    assert.equal(escapeForCmd('say "hi"'), '^"say^ \\^"hi\\^"^"');
    assert.equal(escapeForCmd('dir\\'), '^"dir\\\\^"');
    assert.equal(escapeForCmd('%PATH%'), '^"^%PATH^%^"');
  });
});

describe('noteseal exec on Windows, through a real cmd.exe (the lane)', { skip: process.platform === 'win32' ? false : 'runs where cmd.exe is' }, () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-exec-win-'));
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.writeFile(path.join(dir, 'bin', 'show.js'), 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), secret: process.env.SECRET }))');
    await fs.writeFile(path.join(dir, 'bin', 'show.cmd'), '@"%NS_NODE%" "%~dp0show.js" %*\r\n');
    await fs.writeFile(path.join(dir, 'pass'), 'exec on windows passphrase\n');
    env = {
      ...process.env as Record<string, string>,
      PATH: `${path.join(dir, 'bin')};${process.env.PATH ?? ''}`, NS_NODE: process.execPath,
      NOTESEAL_KEYFILE: path.join(dir, 'config', 'keyfile.json'), NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass'),
    };
    assert.equal((await runCli(['init'], env, { cwd: dir })).code, 0);
    await fs.writeFile(path.join(dir, '.env'), 'SECRET=from the sealed file\n');
    assert.equal((await runCli(['encrypt', '.env'], env, { cwd: dir })).code, 0);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('runs show.cmd found through PATHEXT, every argument intact, the variables set', async () => {
    const args = ['plain', 'with space', 'a&b|c>d', 'quo"te', 'back\\slash\\', '^caret', '(paren)', '!bang!', ''];
    const r = await runCli(['exec', '.env.enc', '--', 'show', ...args], env, { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { argv: args, secret: 'from the sealed file' });
  });

  it('refuses to pass a % to a batch file (cmd.exe would expand it), with exit 126 and the reason', async () => {
    const r = await runCli(['exec', '.env.enc', '--', 'show', '%SECRET%'], env, { cwd: dir });
    assert.equal(r.code, 126);
    assert.match(r.stderr, /batch file.*run the program it wraps directly/);
    assert.equal(r.stdout, '');
  });

  it('a missing command is "command not found", exit 127', async () => {
    const r = await runCli(['exec', '.env.enc', '--', 'no-such-tool-here'], env, { cwd: dir });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /command not found/);
  });
});
