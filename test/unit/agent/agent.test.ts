// The agent with real processes: `noteseal agent start` in the background, CLI commands through it
// without a passphrase or a terminal, lock / idle timeout / stop, and another Unix user kept out.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { AgentConnection } from '../../../server/src/agent/client';
import { readHeaderFromFile } from '../../../server/src/crypto/format';
import { decodeRecoveryKey } from '../../../server/src/keys/recovery-key';
import { checkWriteSignature } from '../../../server/src/keys/write-signature';
import { CLI, runCli, waitFor, type Run } from './cliRunner';

const PASSPHRASE = 'agent test passphrase';
let dir: string;
let env: Record<string, string>;
let socketPath: string;
let recoveryKey: string;

const withPass = () => ({ ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass') });
const cli = (args: string[], e = env) => runCli(args, e, { cwd: dir });
const errors = (r: Run) => r.stderr.split('\n').filter(l => l && !l.includes('NOTESEAL_TEST_FAST_KDF')).join('\n');

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-agent-'));
  await fs.chmod(dir, 0o755); // the other-user test must reach the agent's own 0700 folder, not stop here
  await fs.mkdir(path.join(dir, 'run'), { mode: 0o755 });
  env = { HOME: dir, NOTESEAL_KEYFILE: path.join(dir, 'config', 'keyfile.json'), XDG_RUNTIME_DIR: path.join(dir, 'run') };
  socketPath = path.join(dir, 'run', 'noteseal', 'agent.sock');
  await fs.writeFile(path.join(dir, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  const init = await cli(['init'], withPass());
  assert.equal(init.code, 0, init.stderr);
  recoveryKey = init.stdout.trim();
  await fs.writeFile(path.join(dir, 'secret.txt'), 'the plaintext canary 7f3a\n');
  assert.equal((await cli(['encrypt', 'secret.txt'], withPass())).code, 0);
});
afterEach(async () => { await cli(['agent', 'stop']); });
after(() => fs.rm(dir, { recursive: true, force: true }));

async function startAgent(extra: string[] = []): Promise<void> {
  const r = await cli(['agent', 'start', ...extra], withPass());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /serving at/);
}

describe('noteseal agent', () => {
  it('start returns once it serves; decrypt and encrypt then need no passphrase and no terminal', async () => {
    const noAgent = await cli(['decrypt', 'secret.txt.enc']);
    assert.equal(noAgent.code, 1, 'without an agent and a terminal the CLI cannot ask');
    await startAgent();
    const st = await fs.stat(socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.dirname(socketPath))).mode & 0o777, 0o700);
    const status = await cli(['agent', 'status']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /unlocked/);
    const dec = await cli(['decrypt', 'secret.txt.enc']);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'the plaintext canary 7f3a\n');
    assert.equal(errors(dec), '', 'no prompt, no warning');
    await fs.writeFile(path.join(dir, 'new.txt'), 'made through the agent');
    for (const detached of [[], ['--detached']]) {
      await fs.rm(path.join(dir, 'new.txt.enc'), { force: true });
      assert.equal((await cli(['encrypt', 'new.txt', ...detached])).code, 0);
      const back = await cli(['decrypt', 'new.txt.enc'], { ...withPass(), NOTESEAL_AGENT_SOCK: path.join(dir, 'none.sock') });
      assert.equal(back.stdout, 'made through the agent', 'the passphrase path opens what the agent keyed');
    }
    assert.equal((await cli(['verify', 'secret.txt.enc', 'new.txt.enc'])).code, 0);
  });

  it('hands out one file\'s data key, never the master key; refuses another keyfile and bad requests', async () => {
    await startAgent();
    const agent = (await AgentConnection.open(socketPath))!;
    try {
      const header = await readHeaderFromFile(path.join(dir, 'secret.txt.enc'));
      const dataKey = await agent.unwrap(env.NOTESEAL_KEYFILE, header.stanzas);
      assert.equal(dataKey.length, 32);
      assert.notDeepEqual(Buffer.from(dataKey), Buffer.from(decodeRecoveryKey(recoveryKey)));
      await assert.rejects(agent.unwrap(path.join(dir, 'other.json'), header.stanzas), /serves the keyfile/);
      await assert.rejects(agent.request({ op: 'unwrap', keyfile: env.NOTESEAL_KEYFILE, stanzas: [{ type: 1, body: '!!' }] }), /malformed key stanzas/);
      const tampered = header.stanzas.map(s => ({ type: s.type, body: Uint8Array.from(s.body, (b, i) => (i === 30 ? b ^ 1 : b)) }));
      await assert.rejects(agent.unwrap(env.NOTESEAL_KEYFILE, tampered), (e: Error & { code?: string }) => e.code === 'WRONG_KEY');
    } finally { agent.close(); }
    // A version it does not speak, and an oversized frame, are refused without harm.
    const raw = async (bytes: Buffer) => new Promise<string>(resolve => {
      const s = net.connect(socketPath, () => s.end(bytes));
      let got = '';
      s.on('data', b => { got += b.toString('latin1'); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    const json = Buffer.from(JSON.stringify({ v: 99, op: 'status' }));
    const head = Buffer.alloc(8); head.writeUInt32BE(json.length, 0);
    assert.match(await raw(Buffer.concat([head, json])), /not supported/);
    const huge = Buffer.alloc(8); huge.writeUInt32BE(10 * 1024 * 1024, 0);
    assert.match(await raw(huge), /too large/);
    assert.equal((await cli(['agent', 'status'])).code, 0, 'still serving');
  });

  it('signs what the CLI writes through it as the keyfile\'s owner, once per new file\'s ticket', async () => {
    await startAgent();
    await fs.writeFile(path.join(dir, 'signed.txt'), 'signed through the agent');
    await fs.rm(path.join(dir, 'signed.txt.enc'), { force: true });
    const enc = await cli(['encrypt', 'signed.txt']);
    assert.equal(enc.code, 0, enc.stderr);
    assert.doesNotMatch(enc.stderr, /not signed/);
    const viaAgent = await checkWriteSignature(path.join(dir, 'signed.txt.enc'));
    const viaPassphrase = await checkWriteSignature(path.join(dir, 'secret.txt.enc'));
    assert.equal(viaAgent.state, 'valid');
    assert.equal(viaPassphrase.state, 'valid');
    assert.equal(viaAgent.state === 'valid' && viaAgent.signer, viaPassphrase.state === 'valid' && viaPassphrase.signer, 'signed by the same identity');
    const kf = env.NOTESEAL_KEYFILE!;
    const agent = (await AgentConnection.open(socketPath))!;
    try {
      const keys = await agent.newFileKeys(kf, false);
      keys.dataKey.fill(0);
      assert.ok(keys.signTicket, 'new keys come with a signing ticket');
      const [prefix, commitment, hash] = [new Uint8Array(31), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
      assert.equal((await agent.signWrite(kf, keys.signTicket, prefix, commitment, hash)).length, 136);
      await assert.rejects(agent.signWrite(kf, keys.signTicket, prefix, commitment, hash), /no valid signing ticket/, 'a ticket signs once');
      await assert.rejects(agent.signWrite(kf, 'a-made-up-ticket', prefix, commitment, hash), /no valid signing ticket/);
      const next = await agent.newFileKeys(kf, false);
      next.dataKey.fill(0);
      await assert.rejects(agent.request({ op: 'sign-write', keyfile: kf, ticket: next.signTicket!, prefix: 'AA', commitment: 'AA', payloadSha256: 'AA' }), /malformed write to sign/);
      await assert.rejects(agent.signWrite(path.join(dir, 'other.json'), next.signTicket!, prefix, commitment, hash), /serves the keyfile/);
      assert.equal((await cli(['agent', 'lock'])).code, 0);
      await assert.rejects(agent.signWrite(kf, next.signTicket!, prefix, commitment, hash), /locked/, 'a lock ends the tickets');
    } finally { agent.close(); }
  });

  it('after `agent lock` key requests are refused at once with a clear message (exit 9)', async () => {
    await startAgent();
    assert.equal((await cli(['agent', 'lock'])).code, 0);
    const status = await cli(['agent', 'status']);
    assert.equal(status.code, 9);
    assert.match(status.stdout, /locked/);
    const dec = await cli(['decrypt', 'secret.txt.enc']);
    assert.equal(dec.code, 9);
    assert.equal(dec.stdout, '');
    assert.match(dec.stderr, /agent at .* is locked/);
    // Lock means lock: with a terminal at hand it is still refused, not turned into a passphrase prompt.
    if (spawnSync('which', ['script']).status === 0) {
      const inTerminal = spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" decrypt secret.txt.enc`, '/dev/null'],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', NOTESEAL_TEST_FAST_KDF: '1', ...env }, input: '', encoding: 'utf8', timeout: 20_000 });
      assert.equal(inTerminal.status, 9, inTerminal.stdout);
      assert.doesNotMatch(inTerminal.stdout, /passphrase:/);
    }
    const withPassphrase = await cli(['decrypt', 'secret.txt.enc'], withPass());
    assert.equal(withPassphrase.code, 0, 'a passphrase source still works');
    assert.match(withPassphrase.stderr, /agent is locked; using the passphrase from the environment/);
  });

  it('ends after its idle timeout, wiping the keys and removing the socket', async () => {
    await startAgent(['--idle-minutes', '0.02']); // 1.2 s
    assert.equal((await cli(['decrypt', 'secret.txt.enc'])).code, 0);
    assert.ok(await waitFor(async () => !existsSync(socketPath)), 'the socket goes away');
    assert.equal((await cli(['agent', 'status'])).code, 10);
    const dec = await cli(['decrypt', 'secret.txt.enc']);
    assert.equal(dec.code, 1);
    assert.equal(dec.stdout, '');
  });

  it('`agent stop` ends it: nothing answers and the CLI falls back to the passphrase', async () => {
    await startAgent();
    const stop = await cli(['agent', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(!existsSync(socketPath));
    assert.equal((await cli(['agent', 'status'])).code, 10);
    assert.equal((await cli(['agent', 'stop'])).code, 10);
    assert.equal((await cli(['decrypt', 'secret.txt.enc'])).code, 1);
    assert.equal((await cli(['decrypt', 'secret.txt.enc'], withPass())).code, 0);
  });

  it('a wrong passphrase starts nothing; a second start reuses the running agent', async () => {
    await fs.writeFile(path.join(dir, 'wrong'), 'not it');
    const wrong = await cli(['agent', 'start'], { ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'wrong') });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.equal((await cli(['agent', 'status'])).code, 10);
    await startAgent();
    const again = await cli(['agent', 'start'], withPass());
    assert.equal(again.code, 0);
    assert.match(again.stderr, /already running/);
  });

  it('refuses a socket folder that others can enter, on both sides', async () => {
    const loose = path.join(dir, 'loose');
    await fs.mkdir(path.join(loose, 'noteseal'), { recursive: true, mode: 0o755 });
    await fs.chmod(path.join(loose, 'noteseal'), 0o755);
    const start = await cli(['agent', 'start'], { ...withPass(), XDG_RUNTIME_DIR: loose });
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /accessible to other users/);
    await startAgent();
    await fs.chmod(path.dirname(socketPath), 0o755);
    try {
      const dec = await cli(['decrypt', 'secret.txt.enc']);
      assert.equal(dec.code, 1, 'not used: the folder is no longer private');
      assert.match(dec.stderr, /not using the agent: .*accessible to other users/);
    } finally {
      await fs.chmod(path.dirname(socketPath), 0o700);
    }
  });

  it('another Unix user cannot connect to the socket', async t => {
    if (spawnSync('which', ['useradd']).status !== 0 || typeof process.getuid !== 'function' || process.getuid() !== 0) {
      t.skip('needs root and useradd to create a second Unix account');
      return;
    }
    const user = `nsagent${process.pid}`;
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
    try {
      await startAgent();
      const probe = (target: string) => spawnSync('runuser', ['-u', user, '--', process.execPath, '-e',
        `require('net').connect(process.argv[1]).on('connect', () => { console.log('CONNECTED'); process.exit(0); })
          .on('error', e => { console.log(e.code); process.exit(0); })`, target], { encoding: 'utf8', cwd: '/' });
      const denied = probe(socketPath);
      assert.equal(denied.status, 0, denied.stderr);
      assert.equal(denied.stdout.trim(), 'EACCES');
      // Positive control: the probe does connect as that user where modes allow it.
      const open = path.join(dir, 'open.sock');
      const server = net.createServer(s => s.end()).listen(open);
      await new Promise(r => server.once('listening', r));
      await fs.chmod(open, 0o777);
      try {
        assert.equal(probe(open).stdout.trim(), 'CONNECTED');
      } finally { server.close(); }
    } finally {
      spawnSync('userdel', [user]);
    }
  });
});

describe('hostile agent messages (found by the fuzzer, test/fuzz)', () => {
  it('a request whose fields are objects gets a refusal; the agent does not crash', async () => {
    await startAgent();
    const { encodeFrame, FrameReader } = await import('../../../server/src/agent/wire');
    const reply = await new Promise<unknown>((resolve, reject) => {
      const reader = new FrameReader();
      const s = net.connect(socketPath, () => s.write(encodeFrame({ v: { toString: 1 }, op: 'status' })));
      s.on('data', c => { const f = reader.push(c); if (f.length) { resolve(f[0]!.json); s.destroy(); } });
      s.on('error', reject);
      s.on('close', () => resolve('closed without a reply'));
    });
    assert.equal((reply as { error?: { kind?: string } }).error?.kind, 'version', JSON.stringify(reply));
    const status = await cli(['agent', 'status']);
    assert.equal(status.code, 0, 'the agent died');
    assert.match(status.stdout, /unlocked/);
  });
});
