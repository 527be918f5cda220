// Unlock slots in the keyfile (issue 28), with a software P-256 key standing in for the token: the list's
// format, the MAC over it, downgrades and damage as typed errors, rotation rewrapping every slot.
// The real token (SoftHSM2 through pkcs11-tool) is test/unit/cli/unlockSlots.test.ts.
import assert from 'node:assert/strict';
import { constants as cryptoConstants, createHash, createPublicKey, diffieHellman, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import type { Pkcs11Slot, Slot, TpmSlot } from '../../../server/src/keys/slots';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith } from './helpers';

function softToken(): { privateKey: KeyObject; publicKey: Uint8Array; derive: (slot: Slot) => Promise<Uint8Array> } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey: pair.privateKey,
    publicKey: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })),
    derive: slot => Promise.resolve(new Uint8Array(diffieHellman({
      privateKey: pair.privateKey,
      publicKey: createPublicKey({ key: Buffer.from((slot as Pkcs11Slot).ephemeralKey), format: 'der', type: 'spki' }),
    }))),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form edits of parsed JSON
async function editKeyfile(keyfile: string, edit: (json: any) => void): Promise<void> {
  const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
  edit(json);
  delete json.checksum;
  json.checksum = createHash('sha256').update(JSON.stringify(json)).digest('hex');
  await fs.writeFile(keyfile, JSON.stringify(json));
}

async function withSlot(): Promise<{ keyring: Keyring; keyfile: string; token: ReturnType<typeof softToken> }> {
  const { keyring, keyfile } = await newKeyring();
  const token = softToken();
  await keyring.addPkcs11Slot({ name: 'card', token: 'Token A', keyId: '0102', publicKey: token.publicKey }, new Date('2026-12-06T12:00:00Z'));
  return { keyring, keyfile, token };
}

describe('unlock slots in the keyfile', () => {
  it('a slot is written as version 2 with its name and date, opens the same master key, and the passphrase still works', async () => {
    const { keyring, keyfile, token } = await withSlot();
    const id = keyring.masterKeyId;
    const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.equal(json.version, 2);
    assert.deepEqual(json.slots.map((s: { name: string; kind: string; created: string }) => [s.name, s.kind, s.created]),
      [['card', 'pkcs11', '2026-12-06T12:00:00.000Z']]);
    const viaSlot = openKeyring(keyfile);
    await viaSlot.unlockWithSlot('card', token.derive);
    assert.equal(viaSlot.masterKeyId, id);
    const viaPass = openKeyring(keyfile);
    await viaPass.unlock(PASSPHRASE);
    assert.equal(viaPass.masterKeyId, id);
    assert.deepEqual((await Keyring.readSlots(keyfile, { kdf: TEST_KDF_POLICY })).map(s => s.name), ['card']);
  });

  it('another key (another token) does not open the slot: WRONG_KEY; an unknown slot name: KEY_NOT_FOUND', async () => {
    const { keyfile } = await withSlot();
    await rejectsWith(openKeyring(keyfile).unlockWithSlot('card', softToken().derive), 'WRONG_KEY');
    await rejectsWith(openKeyring(keyfile).unlockWithSlot('nope', softToken().derive), 'KEY_NOT_FOUND');
  });

  it('the MAC covers the list: a slot stripped (downgraded to version 1) or renamed is DAMAGED_KEYFILE once unlocked', async () => {
    const { keyfile, token } = await withSlot();
    const original = await fs.readFile(keyfile, 'utf8');
    await editKeyfile(keyfile, j => { j.version = 1; delete j.slots; });
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
    await fs.writeFile(keyfile, original);
    await editKeyfile(keyfile, j => { j.slots[0].created = '2020-01-01T00:00:00.000Z'; });
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
    await rejectsWith(openKeyring(keyfile).unlockWithSlot('card', token.derive), 'WRONG_KEY'); // the slot's AAD names its date
  });

  it('a damaged list is a typed error before anything is tried', async () => {
    const { keyfile } = await withSlot();
    const original = await fs.readFile(keyfile, 'utf8');
    const cases: [string, (j: any) => void, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['version 1 with slots', j => { j.version = 1; }, /version-1 keyfile has no unlock slots/],
      ['version 2 without slots', j => { delete j.slots; }, /unlock slot list is malformed/],
      ['empty list', j => { j.slots = []; }, /unlock slot list is malformed/],
      ['unknown kind', j => { j.slots[0].kind = 'fido2'; }, /unknown kind/],
      ['bad name', j => { j.slots[0].name = '../x'; }, /malformed name/],
      ['reserved name', j => { j.slots[0].name = 'passphrase'; }, /malformed name/],
      ['bad date', j => { j.slots[0].created = 'yesterday'; }, /creation date/],
      ['not P-256', j => { j.slots[0].publicKey = j.slots[0].publicKey.replace(/^.{40}/, 'A'.repeat(40)); }, /publicKey/],
      ['short wrapped key', j => { j.slots[0].ciphertext = 'AAAA'; }, /bad wrapped key/],
      ['duplicate names', j => { j.slots.push(j.slots[0]); }, /same name/],
      ['too many', j => { j.slots = Array.from({ length: 17 }, (_, i) => ({ ...j.slots[0], name: `s${i}` })); }, /at most 16/],
      ['future version', j => { j.version = 3; }, /version 3 is not supported/],
    ];
    for (const [what, edit, message] of cases) {
      await fs.writeFile(keyfile, original);
      await editKeyfile(keyfile, edit);
      await assert.rejects(openKeyring(keyfile).unlock(PASSPHRASE), (e: Error & { code?: string }) =>
        e.code === 'DAMAGED_KEYFILE' && message.test(e.message), what);
    }
  });

  it('rotation rewraps every slot for the new master key; passwd keeps the slots; removing the last slot writes version 1', async () => {
    const { keyring, keyfile, token } = await withSlot();
    const second = softToken();
    await keyring.addPkcs11Slot({ name: 'hsm', token: 'Token B', keyId: 'aa', publicKey: second.publicKey });
    const before = keyring.masterKeyId;
    await keyring.rotate();
    assert.notEqual(keyring.masterKeyId, before);
    for (const [name, t] of [['card', token], ['hsm', second]] as const) {
      const k = openKeyring(keyfile);
      await k.unlockWithSlot(name, t.derive);
      assert.equal(k.masterKeyId, keyring.masterKeyId, name);
    }
    await keyring.changePassphrase('a new passphrase');
    const k = openKeyring(keyfile);
    await k.unlockWithSlot('card', token.derive);
    assert.equal(k.masterKeyId, keyring.masterKeyId);
    await rejectsWith(k.rotate(), 'INVALID_ARGUMENT');           // unlocked by a slot: no KEK, no rotation
    await rejectsWith(k.removeSlot('hsm'), 'INVALID_ARGUMENT');  // nor slot changes
    await keyring.removeSlot('card');
    await keyring.removeSlot('hsm');
    const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.equal(json.version, 1);
    assert.equal(json.slots, undefined);
    await rejectsWith(keyring.removeSlot('hsm'), 'KEY_NOT_FOUND');
  });

  it('slot names are checked: reserved, duplicate, malformed', async () => {
    const { keyring, token } = await withSlot();
    const add = (name: string) => keyring.addPkcs11Slot({ name, token: 'T', keyId: '01', publicKey: token.publicKey });
    await rejectsWith(add('card'), 'INVALID_ARGUMENT');
    await rejectsWith(add('Recovery'), 'INVALID_ARGUMENT');
    await rejectsWith(add('a b'), 'INVALID_ARGUMENT');
    await rejectsWith(keyring.addPkcs11Slot({ name: 'x', token: 'T', keyId: '01', publicKey: new Uint8Array(91) }), 'INVALID_ARGUMENT');
  });

  it('a tpm slot: the slot key is RSA-OAEP-SHA256 to the key\'s public half; rotation rewraps it without the TPM', async () => {
    const { keyring, keyfile } = await newKeyring();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const decrypt = (slot: Slot) => Promise.resolve(new Uint8Array(privateDecrypt(
      { key: rsa.privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, (slot as TpmSlot).sealedKey)));
    const fields = { name: 'tpm', pin: true, tpmPublic: new Uint8Array([1, 2]), tpmPrivate: new Uint8Array([3, 4]),
      publicKey: new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' })) };
    await keyring.addTpmSlot(fields);
    const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.deepEqual(Object.keys(json.slots[0]), ['kind', 'name', 'created', 'pin', 'tpmPublic', 'tpmPrivate', 'publicKey', 'sealedKey', 'nonce', 'ciphertext']);
    await keyring.rotate();
    const k = openKeyring(keyfile);
    await k.unlockWithSlot('tpm', decrypt);
    assert.equal(k.masterKeyId, keyring.masterKeyId);
    await editKeyfile(keyfile, j => { j.slots[0].pin = false; }); // the AAD binds the PIN flag, the MAC the list
    await rejectsWith(openKeyring(keyfile).unlockWithSlot('tpm', decrypt), 'WRONG_KEY');
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
    await rejectsWith(keyring.addTpmSlot({ ...fields, name: 'x', publicKey: new Uint8Array(91) }), 'INVALID_ARGUMENT');
  });
});
