import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptBuffer, encryptBuffer } from '../../../server/src/crypto/format';
import { parseStanza, STANZA_MASTER_WRAPPED } from '../../../server/src/keys/stanzas';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith } from './helpers';

describe('keyring: per-file data keys', () => {
  it('each file gets a fresh data key in a type-1 stanza naming the master key id', async () => {
    const { keyring } = await newKeyring();
    const a = await keyring.newFileStanzas();
    const b = await keyring.newFileStanzas();
    assert.equal(a.dataKey.length, 32);
    assert.notDeepEqual(a.dataKey, b.dataKey);
    assert.equal(a.stanzas.length, 1);
    assert.equal(a.stanzas[0].type, STANZA_MASTER_WRAPPED);
    assert.equal(a.stanzas[0].body.length, 8 + 12 + 32 + 16);
    const parsed = parseStanza(a.stanzas[0]);
    assert.equal(parsed.kind === 'master-wrapped' && parsed.masterKeyId, keyring.masterKeyId);
    assert.deepEqual(await keyring.unwrap(a.stanzas), a.dataKey);
    assert.deepEqual(await keyring.unwrap(b.stanzas), b.dataKey);
  });

  it('encrypts and decrypts through the format', async () => {
    const { keyring, keyfile } = await newKeyring();
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    const file = encryptBuffer(Buffer.from('API_TOKEN=s3cret\n'), dataKey, stanzas);
    keyring.lock();
    const other = openKeyring(keyfile);
    await other.unlock(PASSPHRASE);
    assert.equal((await decryptBuffer(file, other.unwrap)).toString(), 'API_TOKEN=s3cret\n');
  });

  it('a different master key is WRONG_KEY (and says which key the file wants)', async () => {
    const mine = await newKeyring();
    const theirs = await newKeyring();
    const { dataKey, stanzas } = await mine.keyring.newFileStanzas();
    await rejectsWith(theirs.keyring.unwrap(stanzas), 'WRONG_KEY');
    const file = encryptBuffer(Buffer.from('x'), dataKey, stanzas);
    await assert.rejects(decryptBuffer(file, theirs.keyring.unwrap), new RegExp(mine.keyring.masterKeyId!));
  });

  it('a tampered stanza is WRONG_KEY; unknown stanza types are skipped', async () => {
    const { keyring } = await newKeyring();
    const { stanzas } = await keyring.newFileStanzas();
    for (const at of [8, 20, 40, 67]) {
      const body = stanzas[0].body.slice();
      body[at] ^= 1;
      await rejectsWith(keyring.unwrap([{ type: 1, body }]), 'WRONG_KEY');
    }
    await rejectsWith(keyring.unwrap([{ type: 1, body: new Uint8Array(5) }]), 'WRONG_KEY');
    await rejectsWith(keyring.unwrap([]), 'WRONG_KEY');
    const { dataKey } = await keyring.newFileStanzas();
    const withUnknown = [{ type: 9, body: new Uint8Array([1, 2, 3]) }, ...(await keyring.newFileStanzas()).stanzas];
    assert.equal((await keyring.unwrap(withUnknown)).length, dataKey.length);
  });

  it('a header whose stanza was swapped for another file is caught by the header MAC', async () => {
    const { keyring } = await newKeyring();
    const one = await keyring.newFileStanzas();
    const two = await keyring.newFileStanzas();
    const file = encryptBuffer(Buffer.from('one'), one.dataKey, one.stanzas);
    // Same body length, so the swap keeps the header layout: only authentication can notice.
    file.set(two.stanzas[0].body, file.indexOf(Buffer.from(one.stanzas[0].body)));
    await assert.rejects(decryptBuffer(file, keyring.unwrap), (e: { code?: string }) => ['WRONG_KEY', 'CORRUPTED'].includes(e.code ?? ''));
  });

  it('a locked keyring refuses to unwrap or create keys', async () => {
    const { keyring } = await newKeyring();
    const { stanzas } = await keyring.newFileStanzas();
    keyring.lock();
    keyring.lock(); // idempotent
    await rejectsWith(keyring.unwrap(stanzas), 'INVALID_ARGUMENT');
    await rejectsWith(keyring.newFileStanzas(), 'INVALID_ARGUMENT');
    assert.equal(keyring.masterKeyId, null);
  });

  it('lock() zeroes every key buffer it held (current, retired, KEK)', async () => {
    const { keyring } = await newKeyring();
    await keyring.rotate(); // so there is a retired key too
    type Internals = { keys: { current: { key: Uint8Array }; retired: { key: Uint8Array }[] }; kek: Uint8Array };
    const internals = keyring as unknown as Internals;
    const buffers = [internals.keys.current.key, ...internals.keys.retired.map(r => r.key), internals.kek];
    assert.equal(buffers.length, 3);
    for (const b of buffers) assert.ok(b.some((x: number) => x !== 0));
    keyring.lock();
    for (const b of buffers) assert.ok(b.every((x: number) => x === 0), 'a key buffer was not zeroed');
    assert.equal(keyring.isUnlocked, false);
  });
});
