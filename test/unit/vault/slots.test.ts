// Unlock slots in the worker (issue 28), what VS Code's unlock prompt, Add/Remove Unlock Method and
// noteseal.lockOnTokenRemoval go through: a real PKCS#11 token (SoftHSM2, test/unit/keys/softhsm.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RememberedSecret } from '../../../server/src/protocol';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { VaultService } from '../../../server/src/vault/vaultService';
import { TokenWatch } from '../../../server/src/vault/tokenWatch';
import { SOFTHSM_MODULE, SOFTHSM_PIN, softHsm } from '../keys/softhsm';
import { freePort, swtpmMachine } from '../keys/swtpm';

const PASS = 'slot worker passphrase';
let dir: string;
let conf: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-vault-slots-'));
  conf = await softHsm(path.join(dir, 'hsm'), ['Card A', 'Card B']);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function setup(name: string) {
  const secrets = new Map<RememberedSecret, string>();
  const keyfile = path.join(dir, name, 'keyfile.json');
  const vault = new VaultService(keyfile, {
    get: async n => secrets.get(n) ?? null,
    store: async (n, v) => { secrets.set(n, v); },
    delete: async n => { secrets.delete(n); },
  }, TEST_KDF_POLICY);
  vault.env = { ...process.env, SOFTHSM2_CONF: conf };
  await vault.init(PASS, false);
  return { vault, secrets, keyfile };
}

const code = (c: string) => (e: { code?: string }) => e.code === c;

describe('unlock slots in the worker (SoftHSM2)', () => {
  it('lists the slots with whether each can work now; adding one needs the passphrase and makes a key on the token', async () => {
    const { vault, keyfile } = await setup('add');
    assert.deepEqual(await vault.slots(SOFTHSM_MODULE), []);
    assert.deepEqual((await vault.tokenLabels(SOFTHSM_MODULE)).sort(), ['Card A', 'Card B']);
    const before = fs.readFileSync(keyfile);
    await assert.rejects(vault.addPkcs11Slot('not it', SOFTHSM_MODULE, 'Card A', 'card', SOFTHSM_PIN), code('WRONG_PASSPHRASE'));
    await assert.rejects(vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card A', 'card', '000000'), code('WRONG_PIN'));
    await assert.rejects(vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card A', 'passphrase', SOFTHSM_PIN), code('INVALID_ARGUMENT'));
    assert.deepEqual(fs.readFileSync(keyfile), before, 'nothing written by a refused add');
    const added = await vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card A', 'card', SOFTHSM_PIN);
    assert.deepEqual({ ...added, created: '' }, { name: 'card', kind: 'pkcs11', created: '', token: 'Card A', needsPin: true, available: true });
    assert.equal(vault.state().locked, false, 'still unlocked, through the keyring that wrote the slot');
    assert.doesNotMatch(fs.readFileSync(keyfile, 'utf8'), new RegExp(SOFTHSM_PIN));
    assert.equal((await vault.slots(SOFTHSM_MODULE))[0]?.available, true);
    assert.equal((await vault.slots(null))[0]?.available, false, 'no module configured: the slot cannot work');
    vault.env = { ...process.env, SOFTHSM2_CONF: await softHsm(path.join(dir, 'no-token'), []) };
    assert.equal((await vault.slots(SOFTHSM_MODULE))[0]?.available, false, 'token absent');
    await assert.rejects(vault.unlockWithSlot('card', SOFTHSM_PIN, SOFTHSM_MODULE, false), code('TOKEN_ABSENT'));
  });

  it('unlocks with the token\'s PIN alone; a wrong PIN is WRONG_PIN and says what the token tells of the tries left', async () => {
    const { vault } = await setup('unlock');
    await vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card A', 'card', SOFTHSM_PIN);
    const id = vault.state().masterKeyId;
    vault.lock();
    await assert.rejects(vault.unlockWithSlot('card', '111111', SOFTHSM_MODULE, false),
      (e: { code?: string; message: string }) => e.code === 'WRONG_PIN' && /tries/.test(e.message));
    assert.equal(vault.state().locked, true);
    await assert.rejects(vault.unlockWithSlot('nope', SOFTHSM_PIN, SOFTHSM_MODULE, false), code('KEY_NOT_FOUND'));
    await assert.rejects(vault.unlockWithSlot('card', SOFTHSM_PIN, null, false), code('INVALID_ARGUMENT'));
    const state = await vault.unlockWithSlot('card', SOFTHSM_PIN, SOFTHSM_MODULE, false);
    assert.equal(state.locked, false);
    assert.equal(state.masterKeyId, id);
  });

  it('with watchToken, a token that disappears is reported once; a lock stops the watch', async () => {
    const { vault } = await setup('watch');
    const hsm = path.join(dir, 'watch-hsm');
    const own = await softHsm(hsm, ['Pluggable']);
    vault.env = { ...process.env, SOFTHSM2_CONF: own };
    await vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Pluggable', 'plug', SOFTHSM_PIN);
    vault.lock();
    const gone: string[] = [];
    vault.onTokenRemoved((slot, token) => gone.push(`${slot}/${token}`));
    await vault.unlockWithSlot('plug', SOFTHSM_PIN, SOFTHSM_MODULE, true);
    await new Promise(r => setTimeout(r, 4_500));
    assert.deepEqual(gone, [], 'the token is there: nothing reported');
    fs.rmSync(path.join(hsm, 'tokens'), { recursive: true }); // "unplugged"
    const deadline = Date.now() + 30_000;
    while (gone.length === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 200));
    assert.deepEqual(gone, ['plug/Pluggable']);
  });

  it('removing a slot needs the passphrase; the passphrase cannot be removed; with rotate the other slots still open', async () => {
    const { vault, secrets, keyfile } = await setup('remove');
    await vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card A', 'a', SOFTHSM_PIN);
    await vault.addPkcs11Slot(PASS, SOFTHSM_MODULE, 'Card B', 'b', SOFTHSM_PIN);
    await assert.rejects(vault.removeSlot(PASS, 'passphrase', false, null), code('INVALID_ARGUMENT'));
    await assert.rejects(vault.removeSlot('not it', 'a', false, null), code('WRONG_PASSPHRASE'));
    secrets.set('masterKey', 'stale');
    const before = vault.state().masterKeyId;
    const removed = await vault.removeSlot(PASS, 'a', true, null);
    assert.ok(removed.recoveryKey);
    assert.notEqual(vault.state().masterKeyId, before, 'rotated, and the worker holds the new key');
    assert.notEqual(secrets.get('masterKey'), 'stale', 'the remembered key follows the rotation');
    assert.deepEqual((await vault.slots(SOFTHSM_MODULE)).map(s => s.name), ['b']);
    const check = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
    await check.unlockWithRecoveryKey(removed.recoveryKey);
    check.lock();
    vault.lock();
    await vault.unlockWithSlot('b', SOFTHSM_PIN, SOFTHSM_MODULE, false);
    assert.equal(vault.state().locked, false, 'the other slot was rewrapped for the new master key');
    const plain = await vault.removeSlot(PASS, 'b', false, null);
    assert.equal(plain.recoveryKey, null);
    assert.deepEqual(await vault.slots(SOFTHSM_MODULE), []);
  });
});

describe('TokenWatch', () => {
  it('reports after two misses in a row, once; a single miss is forgiven', async () => {
    const answers = [true, false, true, false, false, false, false];
    let gone = 0;
    const watch = new TokenWatch({ module: 'm', token: 't' }, {}, () => { gone++; }, async () => answers.shift() ?? false, 20);
    const deadline = Date.now() + 5_000;
    while (gone === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 10));
    await new Promise(r => setTimeout(r, 100));
    watch.stop();
    assert.equal(gone, 1);
    assert.equal(answers.length, 2, 'stopped polling once it reported (after the 5th answer)');
  });
});

// What Add Unlock Method's "This machine's TPM" goes through (issue 28): swtpm as the TPM (test/unit/keys/swtpm.ts).
describe('TPM slots in the worker (swtpm)', () => {
  const daemons: number[] = [];
  after(() => { for (const pid of daemons) { try { process.kill(pid); } catch { /* already gone */ } } });

  it('tpmPresent says whether the TPM answers; adding a slot needs the passphrase; it unlocks with its PIN, and only with this TPM', async () => {
    const { vault, keyfile } = await setup('tpm');
    vault.env = { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${await freePort()}` };
    assert.equal(await vault.tpmPresent(), false, 'no TPM answers there');
    const a = await swtpmMachine(path.join(dir, 'tpm-a'));
    const b = await swtpmMachine(path.join(dir, 'tpm-b'));
    daemons.push(a.pid, b.pid);
    vault.env = { ...process.env, TPM2TOOLS_TCTI: a.tcti };
    assert.equal(await vault.tpmPresent(), true);
    const before = fs.readFileSync(keyfile);
    await assert.rejects(vault.addTpmSlot('not it', 'tpm', '2468'), code('WRONG_PASSPHRASE'));
    await assert.rejects(vault.addTpmSlot(PASS, 'tpm', ''), code('INVALID_ARGUMENT'));
    assert.deepEqual(fs.readFileSync(keyfile), before, 'nothing written by a refused add');
    const added = await vault.addTpmSlot(PASS, 'tpm', '2468');
    assert.deepEqual({ ...added, created: '' }, { name: 'tpm', kind: 'tpm', created: '', needsPin: true, available: true });
    assert.doesNotMatch(fs.readFileSync(keyfile, 'utf8'), /2468/);
    vault.lock();
    await assert.rejects(vault.unlockWithSlot('tpm', '1111', null, false), code('WRONG_PIN'));
    await vault.unlockWithSlot('tpm', '2468', null, false);
    assert.equal(vault.state().locked, false, 'unlocked through the TPM');
    vault.lock();
    vault.env = { ...process.env, TPM2TOOLS_TCTI: b.tcti };
    await assert.rejects(vault.unlockWithSlot('tpm', '2468', null, false), code('WRONG_KEY'));
    assert.equal(vault.state().locked, true, 'another machine\'s TPM cannot use the slot');
    const noPin = await setup('tpm-no-pin');
    noPin.vault.env = { ...process.env, TPM2TOOLS_TCTI: a.tcti };
    assert.equal((await noPin.vault.addTpmSlot(PASS, 'tpm', null)).needsPin, false);
  });
});
