// The agent on Windows: a named pipe instead of a Unix socket. It serves there, refuses to serve a pipe name
// another program already answers on (never becoming a second instance of someone's pipe), and names its
// clients "an unidentified program" (no peer credentials on pipes yet), so no consent is ever remembered for
// one. The pipe parts run in the Windows lane (Wine); Wine does not refuse a second listener at bind time as
// Windows does (FILE_FLAG_FIRST_PIPE_INSTANCE), so what it proves is the probe before listening.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import { AgentConnection } from '../../../server/src/agent/client';
import { defaultSocketPath, socketPathFromEnv, windowSocketPath } from '../../../server/src/agent/paths';
import { identifyPeer, peerLabel } from '../../../server/src/agent/peer';
import { AgentInUse, AgentServer, type AgentBackend } from '../../../server/src/agent/server';

const needsWindows = process.platform === 'win32' ? false : 'named pipes exist on Windows only';

function lockedBackend(): AgentBackend {
  return { kind: 'cli', keyfile: 'C:\\keyfile.json', keyring: () => null, lockedMessage: 'locked', lock() {} };
}

const testPipe = () => `\\\\.\\pipe\\noteseal-test-${randomBytes(6).toString('hex')}`;

describe('the agent over a named pipe (Windows)', () => {
  it('serves status over the pipe', { skip: needsWindows }, async () => {
    const pipe = testPipe();
    const server = new AgentServer(lockedBackend());
    await server.listen(pipe);
    try {
      const conn = await AgentConnection.open(pipe);
      assert.ok(conn, 'the client connects to the pipe');
      const { reply } = await conn.request({ op: 'status' });
      assert.equal(reply.status?.locked, true);
      conn.close();
    } finally { await server.close(); }
  });

  it('refuses to serve a pipe another program already answers on; serves it again once that one is gone', { skip: needsWindows }, async () => {
    const pipe = testPipe();
    const first = new AgentServer(lockedBackend());
    await first.listen(pipe);
    try {
      await assert.rejects(new AgentServer(lockedBackend()).listen(pipe), AgentInUse);
    } finally { await first.close(); }
    await new Promise(r => setTimeout(r, 100));
    const again = new AgentServer(lockedBackend());
    await again.listen(pipe);
    await again.close();
  });

  it('names every client "an unidentified program": no pid, so the prompt offers no session grant', { skip: needsWindows }, async () => {
    const pipe = testPipe();
    const peer = await new Promise<Awaited<ReturnType<typeof identifyPeer>>>((resolve, reject) => {
      const server = net.createServer(s => { identifyPeer(s).then(resolve, reject).finally(() => { s.destroy(); server.close(); }); });
      server.listen(pipe, () => { net.connect(pipe).on('error', () => undefined); });
    });
    assert.equal(peer, null);
    assert.deepEqual(peerLabel(peer), { name: 'an unidentified program' });
  });
});

describe('agent pipe names', () => {
  it('the default pipe and a window\'s own pipe on Windows; sockets elsewhere', () => {
    assert.equal(defaultSocketPath({ USERNAME: 'Ana Lima' }, 'win32'), '\\\\.\\pipe\\noteseal-agent-Ana_Lima');
    assert.equal(windowSocketPath(4242, { USERNAME: 'ana' }, 'win32'), '\\\\.\\pipe\\noteseal-agent-ana-vscode-4242');
    assert.match(windowSocketPath(4242, { XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux'), /noteseal[\\/]vscode-4242\.sock$/);
  });

  it('NOTESEAL_AGENT_SOCK naming a pipe is taken as it is, not resolved as a file path', () => {
    assert.equal(socketPathFromEnv({ NOTESEAL_AGENT_SOCK: '\\\\.\\pipe\\noteseal-agent-ana-vscode-7' }), '\\\\.\\pipe\\noteseal-agent-ana-vscode-7');
  });
});
