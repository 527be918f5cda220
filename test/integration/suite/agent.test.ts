// The worker as an agent, in a real extension host: the CLI (a separate process, no passphrase, no
// terminal) decrypts through this window's socket while NoteSeal is unlocked; Lock refuses it at once;
// `noteseal agent lock` locks the window; a restarted worker comes back locked on a new socket; the
// launcher on the terminals' PATH and the installed command run the CLI.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { AgentConsentAnswer, AgentConsentQuestion } from '../../../server/src/protocol';
import { collectOutput, type Run } from '../../unit/agent/cliRunner';
import { api, EXTENSION_ID, freshDir, unlocked, waitFor, waitUntil, writeEncExternally } from './helpers';

function runCli(command: string, args: string[], socket: string): Promise<Run> {
  return collectOutput(spawn(command, args, {
    detached: true, // no controlling terminal: nothing can prompt
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NOTESEAL_KEYFILE: process.env.NOTESEAL_KEYFILE!, NOTESEAL_AGENT_SOCK: socket, ELECTRON_RUN_AS_NODE: '1' },
  }));
}

const cliJs = () => path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
const cli = (args: string[], socket: string) => runCli(process.execPath, [cliJs(), ...args], socket);

describe('agent (the worker serves the CLI)', () => {
  let file: string;
  before(async () => {
    await unlocked();
    file = path.join(freshDir('agent'), '.env.enc');
    await writeEncExternally(file, 'DEPLOY_TOKEN=from-the-window\n');
  });

  it('serves a decrypt while unlocked and refuses at once after Lock', async () => {
    const noteseal = await unlocked();
    const { agentSocket } = await noteseal.workerStatus();
    assert.ok(agentSocket, 'the worker reports its agent socket');
    assert.equal(fs.statSync(agentSocket).mode & 0o777, 0o600);
    const dec = await cli(['decrypt', file], agentSocket);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'DEPLOY_TOKEN=from-the-window\n');
    const exec = await cli(['exec', file, '--', 'sh', '-c', 'echo "token=$DEPLOY_TOKEN"'], agentSocket);
    assert.equal(exec.stdout, 'token=from-the-window\n', exec.stderr);
    await noteseal.vault.lock();
    const refused = await cli(['decrypt', file], agentSocket);
    assert.equal(refused.code, 9);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /locked/);
    assert.equal((await cli(['agent', 'status'], agentSocket)).code, 9);
  });

  it('`noteseal agent lock` locks the window; `agent stop` is refused (the window owns it)', async () => {
    const noteseal = await unlocked();
    const { agentSocket } = await noteseal.workerStatus();
    const lockedEvent = waitFor(noteseal.vault.onDidChange, 10_000, 'the vault to lock');
    assert.equal((await cli(['agent', 'lock'], agentSocket!)).code, 0);
    assert.equal((await lockedEvent).locked, true);
    await unlocked();
    const stop = await cli(['agent', 'stop'], agentSocket!);
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /stops with its window/);
  });

  it('a restarted worker comes back locked, on a new socket', async () => {
    const noteseal = await unlocked();
    const before = await noteseal.workerStatus();
    const restarted = waitFor(noteseal.onDidRestartWorker, 20_000, 'the worker to restart');
    process.kill(before.pid, 'SIGKILL');
    await restarted;
    let after = await noteseal.workerStatus();
    await waitUntil('the new agent socket', async () => { after = await noteseal.workerStatus(); return after.agentSocket !== null; });
    assert.notEqual(after.agentSocket, before.agentSocket);
    assert.equal(after.locked, true);
    const r = await cli(['decrypt', file], after.agentSocket!);
    assert.equal(r.code, 9, r.stderr);
    const old = await cli(['agent', 'status'], before.agentSocket!);
    assert.equal(old.code, 10, 'nothing answers on the dead worker\'s socket');
  });

  it('noteseal.agent.askBeforeServing: the CLI waits for the answer; deny fails (9), once asks again, no session grant under an interpreter', async () => {
    const noteseal = await unlocked();
    const { agentSocket } = await noteseal.workerStatus();
    const asked: { q: AgentConsentQuestion; answer: (a: AgentConsentAnswer) => void }[] = [];
    noteseal.setAgentConsent(q => new Promise(answer => asked.push({ q, answer })));
    const config = vscode.workspace.getConfiguration('noteseal.agent');
    await config.update('askBeforeServing', true, vscode.ConfigurationTarget.Global);
    try {
      const decrypt = async (answer: AgentConsentAnswer | null) => {
        const before = asked.length;
        let exited = false;
        const run = cli(['decrypt', file], agentSocket!).finally(() => { exited = true; });
        if (answer) {
          await waitUntil('the consent question', () => asked.length > before, 15_000);
          await new Promise(r => setTimeout(r, 300));
          assert.equal(exited, false, 'the CLI waits for the answer');
          asked[asked.length - 1]!.answer(answer);
        }
        return run;
      };
      const denied = await decrypt('deny');
      assert.equal(denied.code, 9, denied.stderr);
      assert.equal(denied.stdout, '');
      assert.match(denied.stderr, /denied in VS Code/);
      // The kernel, not the client, names the program: the CLI's parent is this extension host.
      const q = asked[0]!.q;
      assert.equal(q.op, 'decrypt');
      assert.equal(q.pid, process.pid);
      assert.equal(q.program, path.basename(fs.realpathSync(process.execPath)));
      assert.equal(q.file, file);
      // The host is node, an interpreter: allowing it for the session would allow everything it runs.
      const node = path.basename(fs.realpathSync(process.execPath));
      assert.equal(q.sessionGrant, false);
      assert.deepEqual(q.chain?.slice(-2), [node, node], 'the chain ends with the host, then the CLI');

      const once = await decrypt('once');
      assert.equal(once.code, 0, once.stderr);
      assert.equal(once.stdout, 'DEPLOY_TOKEN=from-the-window\n');
      const session = await decrypt('session'); // "once" did not stick: it asks again
      assert.equal(session.code, 0, session.stderr);
      const again = await decrypt('deny'); // a session answer where none was offered counts once
      assert.equal(again.code, 9, again.stderr);
      // A session allowance for a parent that is no interpreter, and its end at lock: test/unit/agent/consent.test.ts.
    } finally {
      await config.update('askBeforeServing', undefined, vscode.ConfigurationTarget.Global);
      noteseal.setAgentConsent(async () => 'deny');
    }
    const off = await cli(['decrypt', file], agentSocket!);
    assert.equal(off.code, 0, off.stderr);
  });

  it('the terminals\' launcher and the installed command run the CLI and reach the agent', async () => {
    const noteseal = await unlocked();
    const { agentSocket } = await noteseal.workerStatus();
    const launcher = noteseal.cliLauncher();
    const status = await runCli(launcher, ['agent', 'status'], agentSocket!);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /NoteSeal in VS Code .*unlocked/);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-install-'));
    try {
      const installed = await vscode.commands.executeCommand<string>('noteseal.installCommandLineTool', { folder });
      assert.equal(installed, path.join(folder, 'noteseal'));
      const dec = await runCli(installed, ['decrypt', file], agentSocket!);
      assert.equal(dec.stdout, 'DEPLOY_TOKEN=from-the-window\n', dec.stderr);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
    await api();
  });
});
