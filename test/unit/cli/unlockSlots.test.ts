// `noteseal unlock` with a real PKCS#11 token: SoftHSM2 (Debian softhsm2) through OpenSC's pkcs11-tool, both
// installed by scripts/setup.sh. Each token lives in this test's temp folder (SOFTHSM2_CONF) and goes with it.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type Run } from './slotCli';
import { SOFTHSM_MODULE, SOFTHSM_PIN, softHsm } from '../keys/softhsm';

const MODULE = SOFTHSM_MODULE;
const PIN = SOFTHSM_PIN;

let dir: string;
let keyfile: string;
let passFile: string;
let pinFile: string;

/** A SoftHSM2 configuration of its own (a "machine" or a "user"), with one token per label given. */
const softhsm = (name: string, labels: string[]) => softHsm(path.join(dir, name), labels);

let machine: string;

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, dir, { NOTESEAL_KEYFILE: keyfile, SOFTHSM2_CONF: machine, ...env });
}

const pass = () => ({ NOTESEAL_PASSPHRASE_FILE: passFile });
const pin = (file = pinFile) => ({ NOTESEAL_PIN_FILE: file });

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-slots-'));
  keyfile = path.join(dir, 'config', 'keyfile.json');
  passFile = path.join(dir, 'pass.txt');
  pinFile = path.join(dir, 'pin.txt');
  await fs.writeFile(passFile, 'slot test passphrase\n', { mode: 0o600 });
  await fs.writeFile(pinFile, PIN + '\n', { mode: 0o600 });
  machine = await softhsm('machine', ['NoteSeal A', 'Other']);
  const init = await run(['init'], pass());
  assert.equal(init.code, 0, init.stderr);
  await fs.writeFile(path.join(dir, 'plan.md'), 'the plan: canary 7d1f\n');
  const enc = await run(['encrypt', 'plan.md'], pass());
  assert.equal(enc.code, 0, enc.stderr);
});
after(() => fs.rm(dir, { recursive: true, force: true }));

describe('noteseal unlock: PKCS#11 slots on a real token (SoftHSM2)', () => {
  it('list shows only the passphrase at first; add pkcs11 makes a key on the token and a named, dated slot', async () => {
    const empty = await run(['unlock', 'list', '--json']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout).slots, []);
    const add = await run(['unlock', 'add', 'pkcs11', '--module', MODULE, '--token', 'NoteSeal A', '--name', 'card'], { ...pass(), ...pin() });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /Added unlock slot "card"/);
    const list = await run(['unlock', 'list', '--json']);
    const [slot] = JSON.parse(list.stdout).slots;
    assert.equal(slot.name, 'card');
    assert.equal(slot.kind, 'pkcs11');
    assert.equal(slot.token, 'NoteSeal A');
    assert.ok(Math.abs(Date.parse(slot.created) - Date.now()) < 60_000);
    assert.match((await run(['unlock', 'list'])).stdout, /^passphrase .*\ncard {3}pkcs11, token "NoteSeal A"/);
    // The keyfile holds no PIN and no master key in the clear.
    const text = await fs.readFile(keyfile, 'utf8');
    assert.doesNotMatch(text, new RegExp(PIN));
  });

  it('--unlock card decrypts with the token\'s PIN alone; without --unlock the present token is used first', async () => {
    const viaSlot = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE], pin());
    assert.equal(viaSlot.code, 0, viaSlot.stderr);
    assert.equal(viaSlot.stdout, 'the plan: canary 7d1f\n');
    const first = await run(['decrypt', 'plan.md.enc'], { ...pin(), NOTESEAL_PKCS11_MODULE: MODULE });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'the plan: canary 7d1f\n');
  });

  it('agent start --unlock card asks the PIN once; then decrypt needs no secret at all', async () => {
    const sock = { NOTESEAL_AGENT_SOCK: path.join(dir, 'agent.sock') };
    const start = await run(['agent', 'start', '--unlock', 'card', '--module', MODULE, '--idle-minutes', '2'], { ...sock, ...pin() });
    assert.equal(start.code, 0, start.stderr);
    try {
      const r = await run(['decrypt', 'plan.md.enc'], sock);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'the plan: canary 7d1f\n');
    } finally {
      assert.equal((await run(['agent', 'stop'], sock)).code, 0);
    }
  });

  it('a wrong PIN: exit 2, says so and what the token tells about tries left; nothing decrypted', async () => {
    const wrongPin = path.join(dir, 'wrong-pin.txt');
    await fs.writeFile(wrongPin, '000000\n');
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE], pin(wrongPin));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /PIN of the token "NoteSeal A" is wrong\. .*tries/);
    assert.equal(r.stdout, '');
  });

  it('token absent: --unlock card exits 13; without --unlock the passphrase is asked instead; a set passphrase file wins', async () => {
    const elsewhere = await softhsm('no-token', []);
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE], { ...pin(), SOFTHSM2_CONF: elsewhere });
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, /token "NoteSeal A" is not present/);
    // Without --unlock and without the token, it falls back to asking the passphrase (no terminal here: exit 1 naming it).
    const fallback = await run(['decrypt', 'plan.md.enc'], { ...pin(), NOTESEAL_PKCS11_MODULE: MODULE, SOFTHSM2_CONF: elsewhere });
    assert.equal(fallback.code, 1, fallback.stderr);
    assert.match(fallback.stderr, /no terminal to ask for the passphrase/);
    // A passphrase source set on purpose is used even with the token present: no PIN is asked.
    const scripted = await run(['decrypt', 'plan.md.enc'], { ...pass(), NOTESEAL_PKCS11_MODULE: MODULE });
    assert.equal(scripted.code, 0, scripted.stderr);
    assert.equal(scripted.stdout, 'the plan: canary 7d1f\n');
  });

  it('another user\'s token with the same label and PIN does not open the slot (exit 2)', async () => {
    const stranger = await softhsm('stranger', ['NoteSeal A']);
    const r = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE], { ...pin(), SOFTHSM2_CONF: stranger });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does not hold this slot's key/);
    assert.equal(r.stdout, '');
  });

  it('usage errors: no module, unknown slot, removing the passphrase; the PIN never comes from an argument', async () => {
    assert.equal((await run(['decrypt', 'plan.md.enc', '--unlock', 'card'], pin())).code, 1);
    assert.match((await run(['decrypt', 'plan.md.enc', '--unlock', 'nope', '--module', MODULE], pin())).stderr, /no unlock slot named "nope"/);
    assert.equal((await run(['unlock', 'remove', 'passphrase'], pass())).code, 1);
    assert.equal((await run(['unlock', 'add', 'pkcs11', '--module', MODULE, '--pin', PIN], pass())).code, 1);
    const noPin = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE]);
    assert.equal(noPin.code, 1);
    assert.match(noPin.stderr, /NOTESEAL_PIN_FILE/);
  });

  it('remove --rotate: the slot is gone, the master key is new, and the other slot was rewrapped and still opens', async () => {
    const add = await run(['unlock', 'add', 'pkcs11', '--module', MODULE, '--token', 'Other'], { ...pass(), ...pin() });
    assert.equal(add.code, 0, add.stderr);
    const old = await fs.readFile(keyfile, 'utf8');
    const rm = await run(['unlock', 'remove', 'card', '--rotate', dir], pass());
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout.trim(), /^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/);
    assert.deepEqual(JSON.parse((await run(['unlock', 'list', '--json'])).stdout).slots.map((s: { name: string }) => s.name), ['Other']);
    assert.notEqual(JSON.parse(old).masterKeyId, JSON.parse(await fs.readFile(keyfile, 'utf8')).masterKeyId);
    const viaOther = await run(['decrypt', 'plan.md.enc', '--unlock', 'Other', '--module', MODULE], pin());
    assert.equal(viaOther.code, 0, viaOther.stderr);
    assert.equal(viaOther.stdout, 'the plan: canary 7d1f\n');
    const gone = await run(['decrypt', 'plan.md.enc', '--unlock', 'card', '--module', MODULE], pin());
    assert.equal(gone.code, 1);
    const plain = await run(['unlock', 'remove', 'Other'], pass());
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /older copy of the keyfile still opens/);
    assert.equal(JSON.parse(await fs.readFile(keyfile, 'utf8')).version, 1);
  });
});
