import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { describe, it } from 'node:test';
import { KDF_FLOOR, TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { parseKeyfile } from '../../../server/src/keys/keyfile';
import { Keyring } from '../../../server/src/keys/keyring';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith, tempDir } from './helpers';
import { assertUnixMode } from '../platformModes';

/** Edits the keyfile JSON and, like a careful attacker would, recomputes the unkeyed checksum. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form edits of parsed JSON
async function editKeyfile(keyfile: string, edit: (json: any) => void, fixChecksum = true): Promise<void> {
  const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
  edit(json);
  if (fixChecksum) {
    delete json.checksum;
    json.checksum = createHash('sha256').update(JSON.stringify(json)).digest('hex');
  }
  await fs.writeFile(keyfile, JSON.stringify(json));
}

describe('keyfile', () => {
  it('round trip: init, lock, unlock with the passphrase; file mode 0600', async () => {
    const { keyring, keyfile } = await newKeyring();
    const id = keyring.masterKeyId;
    keyring.lock();
    assert.equal(keyring.isUnlocked, false);
    const again = openKeyring(keyfile);
    await again.unlock(PASSPHRASE);
    assert.equal(again.isUnlocked, true);
    assert.equal(again.masterKeyId, id);
    assertUnixMode((await fs.stat(keyfile)).mode, 0o600);
    const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.equal(json.version, 1);
    assert.equal(json.kdf.alg, 'argon2id');
    assert.deepEqual(Object.keys(json), ['format', 'version', 'kdf', 'masterKeyId', 'wrappedMasterKey', 'retired', 'mac', 'checksum']);
  });

  it('refuses to overwrite an existing keyfile at init', async () => {
    const { keyfile } = await newKeyring();
    await rejectsWith(Keyring.init(keyfile, 'x', { kdf: TEST_KDF_POLICY }), 'INVALID_ARGUMENT');
  });

  it('a wrong passphrase is WRONG_PASSPHRASE and leaves the keyring locked', async () => {
    const { keyfile } = await newKeyring();
    const keyring = openKeyring(keyfile);
    await rejectsWith(keyring.unlock('correct horse battery stapl'), 'WRONG_PASSPHRASE');
    assert.equal(keyring.isUnlocked, false);
    await rejectsWith(keyring.unlock(''), 'INVALID_ARGUMENT');
  });

  it('the same passphrase in another Unicode normalization unlocks (NFC)', async () => {
    const dir = await tempDir();
    const keyfile = `${dir}/k.json`;
    (await Keyring.init(keyfile, 'caf\u00e9', { kdf: TEST_KDF_POLICY })).keyring.lock();
    await openKeyring(keyfile).unlock('cafe\u0301');
    await openKeyring(keyfile).unlock(Buffer.from('cafe\u0301', 'utf8'));
  });

  it('a passphrase that is not valid UTF-8 is refused, never decoded lossily', async () => {
    const dir = await tempDir();
    const keyfile = `${dir}/k.json`;
    await assert.rejects(Keyring.init(keyfile, Buffer.from([0x70, 0xff, 0x71]), { kdf: TEST_KDF_POLICY }), /not valid UTF-8/);
    (await Keyring.init(keyfile, 'p\ufffdq', { kdf: TEST_KDF_POLICY })).keyring.lock();
    // Lossy decoding made every invalid byte U+FFFD: these bytes would have unlocked.
    await rejectsWith(openKeyring(keyfile).unlock(Buffer.from([0x70, 0xfe, 0x71])), 'INVALID_ARGUMENT');
    await openKeyring(keyfile).unlock(Buffer.from('p\ufffdq', 'utf8'));
  });

  const damages: [string, (keyfile: string) => Promise<void>][] = [
    ['not JSON', f => fs.writeFile(f, '{"format": "noteseal-keyfile", ')],
    ['empty', f => fs.writeFile(f, '')],
    ['another JSON file', f => fs.writeFile(f, '{"hello": 1}')],
    ['unknown version', f => editKeyfile(f, j => { j.version = 2; })],
    ['a flipped character (no checksum fix)', f => editKeyfile(f, j => {
      const c = j.wrappedMasterKey.ciphertext;
      j.wrappedMasterKey.ciphertext = (c[0] === 'A' ? 'B' : 'A') + c.slice(1);
    }, false)],
    ['bad base64', f => editKeyfile(f, j => { j.wrappedMasterKey.nonce = 'not*base64!!'; })],
    ['a missing field', f => editKeyfile(f, j => { delete j.kdf; })],
    ['a short wrapped key', f => editKeyfile(f, j => { j.wrappedMasterKey.ciphertext = 'AAAA'; })],
    ['a bad master key id', f => editKeyfile(f, j => { j.masterKeyId = 'xyz'; })],
    ['a non-integer KDF parameter', f => editKeyfile(f, j => { j.kdf.t = 1.5; })],
    ['an absurd memory parameter', f => editKeyfile(f, j => { j.kdf.m = 2 ** 40; })],
    ['parameters crafted to stall the unlock (t=64 passes)', f => editKeyfile(f, j => { j.kdf.t = 64; })],
    ['a tampered mac', f => editKeyfile(f, j => { j.mac = Buffer.alloc(32, 1).toString('base64'); })],
  ];
  for (const [what, damage] of damages) {
    it(`a keyfile with ${what} is DAMAGED_KEYFILE, not WRONG_PASSPHRASE`, async () => {
      const { keyring, keyfile } = await newKeyring();
      keyring.lock();
      await damage(keyfile);
      await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
    });
  }

  it('a changed KDF parameter is detected (the AAD binds it), even with the checksum fixed', async () => {
    const { keyring, keyfile } = await newKeyring();
    keyring.lock();
    await editKeyfile(keyfile, j => { j.kdf.t = 2; });
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'WRONG_PASSPHRASE');
  });

  it('a keyfile below the production floor is refused (downgrade), accepted only by the test policy', async () => {
    const { keyring, keyfile } = await newKeyring();
    keyring.lock();
    const text = await fs.readFile(keyfile, 'utf8');
    assert.throws(() => parseKeyfile(text, KDF_FLOOR), (e: Error & { code?: string }) => e.code === 'DAMAGED_KEYFILE' && /minimum/.test(e.message));
    assert.doesNotThrow(() => parseKeyfile(text, TEST_KDF_POLICY.floor));
    await rejectsWith(new Keyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
  });

  it('a removed retired key is caught by the keyed MAC (DAMAGED_KEYFILE)', async () => {
    const { keyring, keyfile } = await newKeyring();
    await keyring.rotate();
    keyring.lock();
    await editKeyfile(keyfile, j => { assert.equal(j.retired.length, 1); j.retired = []; });
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'DAMAGED_KEYFILE');
  });

  it('the keyfile never contains the master key or the passphrase in the clear', async () => {
    const { keyring, keyfile, recoveryKey } = await newKeyring();
    const text = await fs.readFile(keyfile, 'utf8');
    const masterKey = (keyring as unknown as { keys: { current: { key: Uint8Array } } }).keys.current.key;
    assert.ok(!text.includes(Buffer.from(masterKey).toString('base64')));
    assert.ok(!text.includes(Buffer.from(masterKey).toString('hex')));
    assert.ok(!text.includes(PASSPHRASE));
    assert.ok(!text.includes(recoveryKey.slice(0, 9)));
  });
});

describe('passphrase change and recovery', () => {
  it('changePassphrase rewraps only the master key: same id, old passphrase stops working', async () => {
    const { keyring, keyfile } = await newKeyring();
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    const before = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    await keyring.changePassphrase('a new passphrase');
    const after = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.equal(after.masterKeyId, before.masterKeyId);
    assert.notEqual(after.kdf.salt, before.kdf.salt);
    keyring.lock();
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'WRONG_PASSPHRASE');
    const reopened = openKeyring(keyfile);
    await reopened.unlock('a new passphrase');
    assert.deepEqual(await reopened.unwrap(stanzas), dataKey);
  });

  it('the recovery key sets a new passphrase when the old one is forgotten', async () => {
    const { keyring, keyfile, recoveryKey } = await newKeyring();
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    keyring.lock();
    const rescuer = openKeyring(keyfile);
    await rescuer.unlockWithRecoveryKey(recoveryKey.toLowerCase(), 'fresh start');
    assert.deepEqual(await rescuer.unwrap(stanzas), dataKey);
    rescuer.lock();
    await rejectsWith(openKeyring(keyfile).unlock(PASSPHRASE), 'WRONG_PASSPHRASE');
    await openKeyring(keyfile).unlock('fresh start');
  });

  it("another keyfile's recovery key is WRONG_KEY; a mistyped one is INVALID_ARGUMENT", async () => {
    const mine = await newKeyring();
    const theirs = await newKeyring();
    await rejectsWith(openKeyring(mine.keyfile).unlockWithRecoveryKey(theirs.recoveryKey, 'x'), 'WRONG_KEY');
    const typo = mine.recoveryKey.replace(/^./, c => (c === 'A' ? 'B' : 'A'));
    await rejectsWith(openKeyring(mine.keyfile).unlockWithRecoveryKey(typo, 'x'), 'INVALID_ARGUMENT');
    await openKeyring(mine.keyfile).unlock(PASSPHRASE); // untouched
  });

  it('refuses to overwrite a keyfile that another process changed since unlock', async () => {
    const { keyring, keyfile } = await newKeyring();
    const other = openKeyring(keyfile);
    await other.unlock(PASSPHRASE);
    await other.rotate();
    await rejectsWith(keyring.changePassphrase('whatever'), 'INVALID_ARGUMENT');
    await rejectsWith(keyring.rotate(), 'INVALID_ARGUMENT');
  });
});
