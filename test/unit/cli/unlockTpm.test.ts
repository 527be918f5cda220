// `noteseal unlock add tpm` with a real TPM 2.0: swtpm (Debian swtpm) driven by tpm2-tools, both installed by
// scripts/setup.sh. Two swtpm states in this test's temp folder are two "machines"; each daemon is started here
// and killed (by its own pid) after.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type Run } from './slotCli';
import { freePort, swtpmMachine } from '../keys/swtpm';

const PIN = '4711';

let dir: string;
let keyfile: string;
let passFile: string;
let pinFile: string;
const daemons: number[] = [];

/** A TPM of its own ("a machine"): a swtpm daemon. Returns the TCTI for tpm2-tools. */
async function machine(name: string): Promise<string> {
  const { tcti, pid } = await swtpmMachine(path.join(dir, name));
  daemons.push(pid);
  return tcti;
}

let tpmA: string;
let tpmB: string;

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, dir, { NOTESEAL_KEYFILE: keyfile, TPM2TOOLS_TCTI: tpmA, ...env });
}

const pass = () => ({ NOTESEAL_PASSPHRASE_FILE: passFile });
const pin = (file = pinFile) => ({ NOTESEAL_PIN_FILE: file });
const PLAIN = 'the plan: canary 41c9\n';

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-tpm-'));
  keyfile = path.join(dir, 'config', 'keyfile.json');
  passFile = path.join(dir, 'pass.txt');
  pinFile = path.join(dir, 'pin.txt');
  await fs.writeFile(passFile, 'tpm test passphrase\n', { mode: 0o600 });
  await fs.writeFile(pinFile, PIN + '\n', { mode: 0o600 });
  tpmA = await machine('machine-a');
  tpmB = await machine('machine-b');
  assert.equal((await run(['init'], pass())).code, 0);
  await fs.writeFile(path.join(dir, 'plan.md'), PLAIN);
  assert.equal((await run(['encrypt', 'plan.md'], pass())).code, 0);
});
after(async () => {
  for (const pid of daemons) { try { process.kill(pid); } catch { /* already gone */ } }
  await fs.rm(dir, { recursive: true, force: true });
});

describe('noteseal unlock: TPM 2.0 slots (swtpm)', () => {
  it('add tpm --pin makes a slot; --unlock tpm decrypts with the PIN; without --unlock the TPM is used first', async () => {
    const add = await run(['unlock', 'add', 'tpm', '--pin'], { ...pass(), ...pin() });
    assert.equal(add.code, 0, add.stderr);
    const [slot] = JSON.parse((await run(['unlock', 'list', '--json'])).stdout).slots;
    assert.deepEqual([slot.name, slot.kind, slot.pin], ['tpm', 'tpm', true]);
    assert.doesNotMatch(await fs.readFile(keyfile, 'utf8'), new RegExp(PIN));
    const viaSlot = await run(['decrypt', 'plan.md.enc', '--unlock', 'tpm'], pin());
    assert.equal(viaSlot.code, 0, viaSlot.stderr);
    assert.equal(viaSlot.stdout, PLAIN);
    const first = await run(['decrypt', 'plan.md.enc'], pin());
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, PLAIN);
  });

  it('a wrong PIN: exit 2, with the tries the TPM has left', async () => {
    const wrong = path.join(dir, 'wrong.txt');
    await fs.writeFile(wrong, '0000\n');
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'tpm'], pin(wrong));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /TPM PIN of the unlock slot "tpm" is wrong\. \d+ of \d+ tries are left/);
    assert.equal(r.stdout, '');
  });

  it('the keyfile copied to another machine (another TPM) cannot use the slot; the passphrase still works there', async () => {
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'tpm'], { ...pin(), TPM2TOOLS_TCTI: tpmB });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /sealed to another TPM/);
    const viaPass = await run(['decrypt', 'plan.md.enc', '--unlock', 'passphrase'], { ...pass(), TPM2TOOLS_TCTI: tpmB });
    assert.equal(viaPass.stdout, PLAIN);
  });

  it('no TPM answering: --unlock tpm exits 13; without --unlock the passphrase is asked', async () => {
    const none = `swtpm:host=127.0.0.1,port=${await freePort()}`;
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'tpm'], { ...pin(), TPM2TOOLS_TCTI: none });
    assert.equal(r.code, 13, r.stderr);
    const fallback = await run(['decrypt', 'plan.md.enc'], { ...pin(), TPM2TOOLS_TCTI: none });
    assert.equal(fallback.code, 1, fallback.stderr); // falls back to the passphrase prompt: no terminal here
    assert.match(fallback.stderr, /no terminal to ask for the passphrase/);
  });

  it('a TPM cleared since the slot was made cannot use it (exit 2)', async () => {
    execFileSync('tpm2_clear', ['-c', 'p'], { env: { ...process.env, TPM2TOOLS_TCTI: tpmA }, stdio: 'pipe' });
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'tpm'], pin());
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /sealed to another TPM.*cleared/);
  });
});
