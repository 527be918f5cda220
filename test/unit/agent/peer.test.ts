// The consent prompt's view of who connects: the kernel's answer (ss's sock_diag + /proc), never the client's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { identifyPeer, parseProcStat, parseSsUnix, peerChain, peerInode, peerLabel, runsAnything, sessionGrantable } from '../../../server/src/agent/peer';

describe('agent peer identification', () => {
  it('reads the peer inode from ss -xnH rows, and refuses an inode that appears twice (a crafted socket path)', () => {
    const rows = parseSsUnix([
      'u_str ESTAB 0      0      /run/user/1000/noteseal/agent.sock 624299 * 624298',
      'u_str ESTAB 0      0      * 624298 * 624299',
      'u_str ESTAB 0      0      /tmp/x',
      ' 700 * 1',
      'u_str ESTAB 0      0      * 700 * 701',
      'garbage',
    ].join('\n'));
    assert.deepEqual(rows, [{ ino: 624299, peer: 624298 }, { ino: 624298, peer: 624299 }, { ino: 700, peer: 1 }, { ino: 700, peer: 701 }]);
    assert.equal(peerInode(rows, 624299), 624298);
    assert.equal(peerInode(rows, 700), null);
    assert.equal(peerInode(rows, 5), null);
  });

  it('reads ppid and start time after the last ")" of /proc/<pid>/stat (a comm may hold both)', () => {
    const fields = ['S', '77', ...Array.from({ length: 17 }, (_, i) => String(i)), '123456', '0'];
    assert.deepEqual(parseProcStat(`4242 (evil) 1 2 (x) ${fields.join(' ')}`), { ppid: 77, startTime: 123456 });
    assert.equal(parseProcStat('4242 (x) S 0 1'), null);
  });

  it('knows shells, interpreters and launchers, which may never be allowed for a whole session', () => {
    for (const exe of ['/bin/sh', '/usr/bin/bash', '/usr/bin/zsh', '/usr/bin/fish', '/bin/dash', '/usr/bin/ksh', '/usr/bin/node', '/usr/bin/python3', '/usr/bin/python3.12', '/usr/bin/perl5.36', '/usr/bin/ruby', '/usr/bin/env', '/usr/bin/xargs', '/usr/bin/sudo', 'C:\\Windows\\System32\\cmd.exe', 'pwsh.exe']) {
      assert.equal(runsAnything(exe), true, exe);
    }
    for (const exe of ['/usr/bin/git', '/usr/bin/make-release', '/usr/local/bin/deploy', '/usr/bin/shred', '/usr/bin/nodemon']) assert.equal(runsAnything(exe), false, exe);
    assert.equal(sessionGrantable({ pid: 2, exe: '/usr/bin/node', parent: { pid: 1, exe: '/usr/bin/git', startTime: 5 } }), true);
    assert.equal(sessionGrantable({ pid: 2, exe: '/usr/bin/node', parent: { pid: 1, exe: '/bin/sh', startTime: 5 } }), false);
    assert.equal(sessionGrantable({ pid: 2, exe: '/usr/bin/node', parent: { pid: 1, exe: '/usr/bin/git', startTime: 0 } }), false, 'no start time, no key');
    assert.equal(sessionGrantable({ pid: 2, exe: '/usr/bin/node' }), false);
    assert.equal(sessionGrantable(null), false);
  });

  it('labels the program that ran the client, or says it is unidentified', () => {
    assert.deepEqual(peerLabel(null), { name: 'an unidentified program' });
    assert.deepEqual(peerLabel({ pid: 10, exe: '/usr/bin/node', parent: { pid: 9, exe: '/usr/bin/git', startTime: 1 } }), { name: 'git', pid: 9 });
    assert.deepEqual(peerLabel({ pid: 10, exe: '/usr/bin/python3.12' }), { name: 'python3.12', pid: 10 });
  });

  it('names the connecting process and its parent from the kernel, whatever the client claims', { skip: process.platform !== 'linux' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-peer-'));
    const sock = path.join(dir, 's.sock');
    const found = new Promise<Awaited<ReturnType<typeof identifyPeer>>>(resolve => {
      const server = net.createServer(s => { void identifyPeer(s).then(p => { resolve(p); s.destroy(); server.close(); }); });
      server.listen(sock);
    });
    // A child that renames itself (comm) to "git": the exe stays the kernel's.
    const child = spawn(process.execPath, ['-e', `process.title = 'git'; const s = require('net').connect(${JSON.stringify(sock)}); s.on('close', () => process.exit(0)); setTimeout(() => process.exit(1), 10000);`], { stdio: 'ignore' });
    try {
      const peer = await found;
      assert.ok(peer, 'identified (needs ss from iproute2)');
      assert.equal(peer.pid, child.pid);
      assert.equal(peer.exe, fs.realpathSync(process.execPath));
      assert.equal(peer.parent?.pid, process.pid);
      assert.equal(peer.parent?.exe, fs.realpathSync(process.execPath));
      assert.equal(peer.parent?.startTime, parseProcStat(fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8'))?.startTime);
      assert.ok(peer.parent!.startTime > 0);
      const node = path.basename(fs.realpathSync(process.execPath));
      assert.deepEqual(peerChain(peer).slice(-2), [node, node], 'this test runner, then the child, outermost first');
      assert.equal(sessionGrantable(peer), false, 'node is an interpreter: no session-wide grant');
    } finally {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
