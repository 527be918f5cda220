// `noteseal exec` with real processes: variables from dotenv, JSON and YAML files reach the command,
// its exit status comes back, a tampered file starts nothing, and through the agent it needs no prompt.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cliRunner';

let dir: string;
let env: Record<string, string>;
const withPass = () => ({ ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass') });
const cli = (args: string[], e: Record<string, string> = withPass()) => runCli(args, e, { cwd: dir });

async function sealed(name: string, text: string): Promise<string> {
  await fs.writeFile(path.join(dir, name), text);
  const r = await cli(['encrypt', name]);
  assert.equal(r.code, 0, r.stderr);
  await fs.rm(path.join(dir, name));
  return `${name}.enc`;
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-exec-'));
  await fs.mkdir(path.join(dir, 'run'), { mode: 0o700 });
  env = { HOME: dir, NOTESEAL_KEYFILE: path.join(dir, 'keyfile.json'), XDG_RUNTIME_DIR: path.join(dir, 'run') };
  await fs.writeFile(path.join(dir, 'pass'), 'exec test passphrase');
  assert.equal((await cli(['init'])).code, 0);
  await sealed('.env', 'export API_TOKEN=tok-dotenv\nSHARED=from-dotenv\n');
  await sealed('config.json', '{"DB_PASS": "pw-json", "PORT": 5432, "SHARED": "from-json"}');
  await sealed('settings.yaml', "---\nREGION: 'eu-west'\nSHARED: from-yaml\n");
});
after(() => fs.rm(dir, { recursive: true, force: true }));

const show = ['--', 'sh', '-c', 'printf "%s|%s|%s|%s|%s|%s" "$API_TOKEN" "$DB_PASS" "$PORT" "$REGION" "$SHARED" "$HOME"'];

describe('noteseal exec', () => {
  it('puts the variables of dotenv, JSON and YAML files into the command\'s environment (later files win)', async () => {
    const r = await cli(['exec', '.env.enc', 'config.json.enc', 'settings.yaml.enc', ...show]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `tok-dotenv|pw-json|5432|eu-west|from-yaml|${dir}`);
    const one = await cli(['exec', 'config.json.enc', ...show]);
    assert.equal(one.stdout, `|pw-json|5432||from-json|${dir}`);
  });

  it('passes the exit status through, and a signal as 128 + its number', async () => {
    assert.equal((await cli(['exec', '.env.enc', '--', 'sh', '-c', 'exit 42'])).code, 42);
    assert.equal((await cli(['exec', '.env.enc', '--', 'sh', '-c', 'kill -TERM $$'])).code, 143);
    const missing = await cli(['exec', '.env.enc', '--', 'no-such-command-xyz']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found/);
  });

  it('a file that fails to authenticate starts nothing, even after a good one', async () => {
    const good = await fs.readFile(path.join(dir, 'config.json.enc'));
    const bad = Buffer.from(good);
    bad[bad.length - 20] ^= 1;
    await fs.writeFile(path.join(dir, 'tampered.json.enc'), bad);
    const marker = path.join(dir, 'started');
    const r = await cli(['exec', '.env.enc', 'tampered.json.enc', '--', 'sh', '-c', `touch "${marker}"`]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /tampered\.json\.enc: /);
    assert.ok(!existsSync(marker), 'the command must not have run');
    // Positive control: the same line with good files does start it.
    assert.equal((await cli(['exec', '.env.enc', 'config.json.enc', '--', 'sh', '-c', `touch "${marker}"`])).code, 0);
    assert.ok(existsSync(marker));
  });

  it('a file it cannot parse starts nothing and its value is not echoed', async () => {
    const file = await sealed('nested.json', '{"DB": {"pass": "value-canary-9q"}}');
    const r = await cli(['exec', file, '--', 'sh', '-c', 'echo started']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /DB: nested values are not supported/);
    assert.ok(!r.stderr.includes('value-canary-9q'));
  });

  it('refuses a command line without --', async () => {
    const r = await cli(['exec', '.env.enc', 'sh']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /put -- between the files and the command/);
  });

  it('through the agent: no passphrase, no terminal; refused after lock', async () => {
    assert.equal((await cli(['agent', 'start'])).code, 0);
    try {
      const r = await cli(['exec', '.env.enc', '--', 'sh', '-c', 'echo "$API_TOKEN"'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'tok-dotenv\n');
      assert.equal((await cli(['agent', 'lock'], env)).code, 0);
      const locked = await cli(['exec', '.env.enc', '--', 'sh', '-c', 'echo started'], env);
      assert.equal(locked.code, 9);
      assert.equal(locked.stdout, '');
    } finally {
      await cli(['agent', 'stop'], env);
    }
  });
});
