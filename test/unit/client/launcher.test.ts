// The `noteseal` launchers the extension writes: they run the bundled CLI from a path with spaces and
// quotes, the installed forwarder follows the current launcher, and a user's own file is recognised.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { forwarderScript, isOursOrMissing, launcherScript, onPath, writeExecutable } from '../../../client/src/agent/launcher';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "noteseal launcher 'q' "));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('noteseal launchers', () => {
  it('the launcher runs dist/cli.js; the installed forwarder runs the launcher', { skip: process.platform === 'win32' }, () => {
    const cli = path.join(dir, "it's cli.js");
    fs.copyFileSync(path.join(ROOT, 'dist', 'cli.js'), cli);
    fs.copyFileSync(path.join(ROOT, 'dist', 'cli-main.js'), path.join(dir, 'cli-main.js')); // the bundle the launcher runs, beside it
    const launcher = path.join(dir, 'storage', 'bin', 'noteseal');
    writeExecutable(launcher, launcherScript(process.execPath, cli, 'linux', false));
    assert.equal(fs.statSync(launcher).mode & 0o777, 0o755);
    assert.match(execFileSync(launcher, ['--version'], { encoding: 'utf8' }), /^noteseal \d/);
    const installed = path.join(dir, 'local bin', 'noteseal');
    writeExecutable(installed, forwarderScript(launcher, 'linux'));
    assert.match(execFileSync(installed, ['--version'], { encoding: 'utf8' }), /^noteseal \d/);
    assert.ok(isOursOrMissing(installed) && isOursOrMissing(path.join(dir, 'none')));
    fs.writeFileSync(path.join(dir, 'mine'), '#!/bin/sh\necho my own noteseal\n');
    assert.ok(!isOursOrMissing(path.join(dir, 'mine')));
  });

  it('Electron runs as Node only through the launcher; Windows gets a .cmd with setlocal', () => {
    assert.match(launcherScript('/opt/code/code', '/x/cli.js', 'linux', true), /^ELECTRON_RUN_AS_NODE=1 exec '\/opt\/code\/code' '\/x\/cli.js' "\$@"$/m);
    const cmd = launcherScript('C:\\Code\\Code.exe', 'C:\\ext\\dist\\cli.js', 'win32', true);
    assert.match(cmd, /setlocal\r\nset ELECTRON_RUN_AS_NODE=1\r\n"C:\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" %\*/);
  });

  it('knows whether a folder is on the PATH', () => {
    assert.ok(onPath('/home/u/.local/bin', '/usr/bin:/home/u/.local/bin/', 'linux'));
    assert.ok(!onPath('/home/u/.local/bin', '/usr/bin', 'linux'));
    assert.ok(onPath('C:\\Users\\U\\bin', 'C:\\Windows;c:\\users\\u\\bin', 'win32'));
  });
});
