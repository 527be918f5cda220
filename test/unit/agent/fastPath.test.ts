// A small `decrypt` or `exec` while `noteseal agent start` serves is run whole by the agent (cli/agent-fast.ts,
// cli/agent-served.ts): dist/cli.js then does not load the CLI bundle at all. Where the agent does not answer
// (an error, a warning, a locked agent), the whole CLI runs and says exactly what it says without the agent's
// short way (same exit status, same stdout, same stderr).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fastPlan, MAX_SERVED_FILE_BYTES } from '../../../server/src/cli/agent-fast';
import { CLI, collectOutput, type Run } from './cliRunner';

let dir: string;
/** A user's environment: no test KDF, no passphrase (the CLI setup below uses both). */
let env: Record<string, string>;
let launcherOnly: string;

function run(cli: string, args: string[], e: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, detached: true, env: { PATH: process.env.PATH ?? '', ...e }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collectOutput(child);
}
const setup = (args: string[]) => run(CLI, args, { ...env, NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass') });
/** The whole CLI, the agent's short way not taken (any other NOTESEAL_ variable turns it off; this one changes nothing else). */
const whole = (args: string[]) => run(CLI, args, { ...env, NOTESEAL_DEBUG: '0' });

async function sealed(name: string, text: string | Buffer): Promise<string> {
  await fs.writeFile(path.join(dir, name), text);
  const r = await setup(['encrypt', name]);
  assert.equal(r.code, 0, r.stderr);
  return `${name}.enc`;
}

const posix = process.platform !== 'win32';

describe('the agent\'s short way for small commands', { skip: !posix && 'POSIX only (not taken on Windows)' }, () => {
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-fast-'));
    await fs.mkdir(path.join(dir, 'run'), { mode: 0o700 });
    env = { HOME: dir, NOTESEAL_KEYFILE: path.join(dir, 'keyfile.json'), XDG_RUNTIME_DIR: path.join(dir, 'run') };
    await fs.writeFile(path.join(dir, 'pass'), 'fast path test passphrase');
    assert.equal((await setup(['init'])).code, 0);
    await sealed('.env', 'API_TOKEN=tok-fast\nSHARED=one\n');
    await sealed('loader.env', 'LD_PRELOAD=/tmp/evil.so\n');
    const good = await fs.readFile(path.join(dir, '.env.enc'));
    good[good.length - 20] ^= 1;
    await fs.writeFile(path.join(dir, 'tampered.env.enc'), good);
    const started = await setup(['agent', 'start', '--idle-minutes', '0']);
    assert.equal(started.code, 0, started.stderr);
    // dist/cli.js alone, without the bundle beside it: it can only succeed where the agent served the command.
    launcherOnly = path.join(dir, 'launcher-only', 'cli.js');
    await fs.mkdir(path.dirname(launcherOnly));
    await fs.copyFile(CLI, launcherOnly);
  });
  after(async () => {
    await setup(['agent', 'stop']);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('decrypt and exec of a small file are served by the agent without the CLI bundle', async () => {
    const d = await run(launcherOnly, ['decrypt', '.env.enc'], env);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'API_TOKEN=tok-fast\nSHARED=one\n');
    assert.equal(d.stderr, '');
    const x = await run(launcherOnly, ['exec', '.env.enc', '--', 'sh', '-c', 'printf "%s|%s" "$API_TOKEN" "$HOME"; exit 7'], env);
    assert.equal(x.code, 7, x.stderr);
    assert.equal(x.stdout, `tok-fast|${dir}`);
  });

  it('the served plaintext reaches a reader that stops early (`| head`) or reads it all, quietly', async () => {
    // Served output goes to descriptor 1 with plain writes (agent-fast.ts writeStdout): a reader that closed the
    // pipe ends it quietly with status 0 (as the whole CLI does), and a large reply arrives whole.
    const text = 'BIG=' + 'x'.repeat(60_000) + '\n';
    const name = await sealed('big.env', text);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = `${q(process.execPath)} ${q(launcherOnly)} decrypt ${name} | head -c 3; echo " status=\${PIPESTATUS[0]}"`;
    const early = await collectOutput(spawn('/bin/bash', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.equal(early.stdout, 'BIG status=0\n');
    assert.equal(early.stderr, '');
    const all = await run(launcherOnly, ['decrypt', name], env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, text);
  });

  it('where the agent does not answer, the whole CLI says exactly what it says without the short way', async () => {
    const cases = [
      ['decrypt', 'tampered.env.enc'],
      ['exec', 'tampered.env.enc', '--', 'true'],
      ['exec', 'loader.env.enc', '--', 'true'],
      ['exec', '.env.enc', '--', 'no-such-command-xyz'],
      ['decrypt', 'no-such-file.enc'],
    ];
    for (const args of cases) {
      const [a, b] = [await run(CLI, args, env), await whole(args)];
      assert.notEqual(a.code, 0, args.join(' '));
      assert.deepEqual(a, b, args.join(' '));
    }
    // And the agent really answered none of them: the launcher alone fails on each (no bundle to fall back to).
    for (const args of cases.slice(0, 3)) assert.match((await run(launcherOnly, args, env)).stderr, /cli-main\.js/, args.join(' '));
    // A success with a warning (a recipients list governs the file, not accepted here): the whole CLI says it.
    await fs.mkdir(path.join(dir, 'shared', '.noteseal'), { recursive: true });
    await fs.writeFile(path.join(dir, 'shared', '.noteseal', 'recipients'), 'not a list anyone accepted\n');
    await fs.copyFile(path.join(dir, '.env.enc'), path.join(dir, 'shared', 'x.env.enc'));
    const warned = await run(CLI, ['decrypt', 'shared/x.env.enc'], env);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /warning/);
    assert.deepEqual(warned, await whole(['decrypt', 'shared/x.env.enc']));
    assert.match((await run(launcherOnly, ['decrypt', 'shared/x.env.enc'], env)).stderr, /cli-main\.js/, 'the agent did not answer it');
    // A locked agent: the CLI's own refusal.
    assert.equal((await setup(['agent', 'lock'])).code, 0);
    const [a, b] = [await run(CLI, ['decrypt', '.env.enc'], env), await whole(['decrypt', '.env.enc'])];
    assert.equal(a.code, 9, a.stderr);
    assert.deepEqual(a, b);
    assert.equal((await setup(['agent', 'start', '--idle-minutes', '0'])).code, 0);
  });

  it('takes the short way only for a bare decrypt or exec of small files, with no other NOTESEAL_ variable', async () => {
    const e = { HOME: dir };
    const file = path.join(dir, '.env.enc');
    assert.deepEqual(fastPlan(['decrypt', file], e, 'linux'), { argv: ['decrypt', file] });
    // A file named relative to here goes to the agent by its absolute path (the agent's folder is not ours).
    assert.deepEqual(fastPlan(['decrypt', path.relative(process.cwd(), file)], e, 'linux'), { argv: ['decrypt', file] });
    assert.deepEqual(fastPlan(['exec', file, '--', 'sh', '-c', 'x'], e, 'linux'), { argv: ['exec', file, '--', 'sh', '-c', 'x'], run: { command: 'sh', args: ['-c', 'x'] } });
    assert.equal(fastPlan(['decrypt', file], e, 'win32'), null);
    assert.equal(fastPlan(['decrypt', file, '-o', 'out'], e, 'linux'), null);
    assert.equal(fastPlan(['decrypt', '--force', file], e, 'linux'), null);
    assert.equal(fastPlan(['exec', '--allow-unverified-writer', file, '--', 'true'], e, 'linux'), null);
    assert.equal(fastPlan(['exec', file, 'true'], e, 'linux'), null);
    assert.equal(fastPlan(['exec', file, '--'], e, 'linux'), null);
    assert.equal(fastPlan(['encrypt', file], e, 'linux'), null);
    assert.equal(fastPlan(['decrypt', file], { ...e, NOTESEAL_IDENTITY: 'x' }, 'linux'), null);
    assert.equal(fastPlan(['decrypt', file], { ...e, NOTESEAL_PASSPHRASE_FILE: 'x' }, 'linux'), null);
    assert.notEqual(fastPlan(['decrypt', file], { ...e, NOTESEAL_KEYFILE: 'k', NOTESEAL_AGENT_SOCK: 's' }, 'linux'), null);
    const big = path.join(dir, 'big.enc');
    await fs.writeFile(big, Buffer.alloc(MAX_SERVED_FILE_BYTES + 1));
    assert.equal(fastPlan(['decrypt', big], e, 'linux'), null);
    assert.equal(fastPlan(['decrypt', path.join(dir, 'missing.enc')], e, 'linux'), null);
  });
});
