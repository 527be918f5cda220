// The VS Code worker's agent (server/src/vault/workerAgent.ts) with a real vault and real sockets (issue 21 §4):
// "Allow for This Session" covers one parent process (pid and start time), never a program; it is not offered
// when the parent is a shell or an interpreter; the question shows the chain; and a lock ends every signing
// ticket at once, so a ticket from before a lock signs nothing after the next unlock.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { AgentConnection } from '../../../server/src/agent/client';
import type { PeerProcess } from '../../../server/src/agent/peer';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import type { AgentConsentAnswer, AgentConsentQuestion } from '../../../server/src/protocol';
import { VaultService } from '../../../server/src/vault/vaultService';
import { WorkerAgent } from '../../../server/src/vault/workerAgent';
import { newKeyring, PASSPHRASE } from '../keys/helpers';

const noSecrets = { get: async () => null, store: async () => {}, delete: async () => {} };

async function setup(t: { after(fn: () => unknown): void }) {
  const { keyfile, dir } = await newKeyring();
  const run = path.join(dir, 'run');
  await fs.mkdir(run, { mode: 0o700 });
  const vault = new VaultService(keyfile, noSecrets, TEST_KDF_POLICY);
  await vault.unlock(PASSPHRASE, false);
  const asked: AgentConsentQuestion[] = [];
  const state: { answer: AgentConsentAnswer; peer: PeerProcess | null } = { answer: 'session', peer: null };
  const agent = new WorkerAgent(vault, {
    lock: async () => vault.lock(), log: () => undefined, env: { XDG_RUNTIME_DIR: run },
    consent: async q => { asked.push(q); return state.answer; }, askBeforeServing: true, identify: async () => state.peer,
  });
  await agent.start();
  t.after(() => agent.close());
  const conn = (await AgentConnection.open(agent.socketPath!))!;
  t.after(() => conn.close());
  const newKeys = async () => { const k = await conn.newFileKeys(keyfile, false); k.dataKey.fill(0); return k; };
  return { vault, keyfile, asked, state, conn, newKeys };
}

const peerUnder = (parent: { pid: number; exe: string; startTime: number }, ...above: string[]): PeerProcess =>
  ({ pid: 5000, exe: '/usr/bin/node', parent, ancestors: ['/usr/bin/node', parent.exe, ...above] });

test('a session allowance covers one parent process (pid and start time), not every process of its program', async t => {
  const { asked, state, newKeys } = await setup(t);
  state.peer = peerUnder({ pid: 4242, exe: '/usr/bin/make-release', startTime: 777 }, '/usr/bin/bash');
  await newKeys();
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.sessionGrant, true);
  assert.deepEqual(asked[0]!.chain, ['bash', 'make-release', 'node']);
  await newKeys();
  assert.equal(asked.length, 1, 'the same parent process: allowed for the session, not asked again');
  state.peer = peerUnder({ pid: 4242, exe: '/usr/bin/make-release', startTime: 999 });
  await newKeys();
  assert.equal(asked.length, 2, 'the pid reused by a later process: asked');
  state.peer = peerUnder({ pid: 4343, exe: '/usr/bin/make-release', startTime: 777 });
  state.answer = 'once';
  await newKeys();
  assert.equal(asked.length, 3, 'another process of the same program: asked');
});

test('no session-wide grant when the parent is a shell or an interpreter; the chain is shown (git → sh → node)', async t => {
  const { asked, state, newKeys } = await setup(t);
  for (const exe of ['/bin/sh', '/usr/bin/bash', '/usr/bin/zsh', '/usr/bin/fish', '/bin/dash', '/usr/bin/node', '/usr/bin/python3.12', '/usr/bin/perl']) {
    state.peer = peerUnder({ pid: 4242, exe, startTime: 777 }, '/usr/bin/git');
    const before = asked.length;
    await newKeys();
    await newKeys();
    assert.equal(asked.length, before + 2, `${exe}: a "session" answer counts once`);
    assert.equal(asked.at(-1)!.sessionGrant, false, exe);
    assert.deepEqual(asked.at(-1)!.chain, ['git', path.basename(exe), 'node']);
  }
  state.peer = null;
  await newKeys();
  await newKeys();
  assert.equal(asked.at(-1)!.sessionGrant, false, 'an unidentified program is asked each time');
  assert.equal(asked.at(-1)!.program, 'an unidentified program');
});

test('a lock ends every signing ticket at once: a ticket from before it signs nothing after the next unlock', async t => {
  const { vault, keyfile, state, conn, newKeys } = await setup(t);
  state.peer = peerUnder({ pid: 4242, exe: '/usr/bin/make-release', startTime: 777 });
  const [prefix, commitment, hash] = [new Uint8Array(31), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  const kept = await newKeys();
  const used = await newKeys();
  assert.ok(kept.signTicket && used.signTicket);
  assert.equal((await conn.signWrite(keyfile, used.signTicket, prefix, commitment, hash)).length, 136, 'a ticket signs while unlocked');
  vault.lock(); // in VS Code: no request reaches the agent between the lock and the unlock
  await vault.unlock(PASSPHRASE, false);
  await assert.rejects(conn.signWrite(keyfile, kept.signTicket, prefix, commitment, hash), /no valid signing ticket/);
  const fresh = await newKeys();
  assert.equal((await conn.signWrite(keyfile, fresh.signTicket!, prefix, commitment, hash)).length, 136, 'a new unlock, new tickets');
});
