import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RecoveryStore, recoveryDirFor } from '../../../server/src/vault/recoveryStore';
import { decryptBuffer } from '../../../server/src/crypto/format';
import { newKeyring, openKeyring, PASSPHRASE } from '../keys/helpers';
import { assertUnixMode } from '../platformModes';

const SECRET = 'CANARY-recovery-4f2a9c unsaved text';

function assertNoPlaintext(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const bytes = fs.readFileSync(path.join(dir, name));
    for (const needle of [Buffer.from(SECRET), Buffer.from(SECRET, 'utf16le'), Buffer.from(Buffer.from(SECRET).toString('base64').slice(0, 16))]) {
      assert.equal(bytes.indexOf(needle), -1, `${name} holds no plaintext`);
    }
  }
}

describe('sealed recovery copies', () => {
  it('seal while locked (no key), list and read after unlock, discard', async () => {
    const { keyring, keyfile } = await newKeyring();
    const store = new RecoveryStore(recoveryDirFor(keyfile));
    assert.equal(store.dir, keyfile.replace(/\.json$/, '.recovery'));
    assert.equal(await store.ensureRecipient(keyring), 'created');
    assert.equal(await store.ensureRecipient(keyring), 'ok');
    keyring.lock();
    const id = await store.seal('/notes/plan.md', Buffer.from(SECRET));   // a restarted, locked worker can do this
    assertNoPlaintext(store.dir);
    assertUnixMode(fs.statSync(store.dir).mode, 0o700);
    const k = openKeyring(keyfile);
    await k.unlock(PASSPHRASE);
    const copies = await store.list(k);
    assert.deepEqual(copies.map(c => [c.id, c.path, c.bytes]), [[id, '/notes/plan.md', Buffer.byteLength(SECRET)]]);
    const { path: p, data } = await store.read(k, id);
    assert.equal(p, '/notes/plan.md');
    assert.equal(data.toString(), SECRET);
    await store.discard(id);
    assert.deepEqual(await store.list(k), []);
  });

  it('a copy is a NoteSeal file the master key alone cannot open, and an altered copy does not open', async () => {
    const { keyring, keyfile } = await newKeyring();
    const store = new RecoveryStore(recoveryDirFor(keyfile));
    await store.ensureRecipient(keyring);
    const id = await store.seal('/n.md', Buffer.from(SECRET));
    const file = path.join(store.dir, `${id}.enc`);
    await assert.rejects(decryptBuffer(fs.readFileSync(file), keyring.unwrap));
    const bytes = fs.readFileSync(file); bytes[bytes.length - 5] ^= 1; fs.writeFileSync(file, bytes);
    const broken: string[] = [];
    assert.deepEqual(await store.list(keyring, b => broken.push(b)), []);
    assert.deepEqual(broken, [id], 'reported, and left in place');
    assert.ok(fs.existsSync(file));
  });

  it('a replaced public key is put back from the private key at the next unlock; ids cannot name other files', async () => {
    const { keyring, keyfile } = await newKeyring();
    const store = new RecoveryStore(recoveryDirFor(keyfile));
    await store.ensureRecipient(keyring);
    const recipient = path.join(store.dir, 'recipient.json');
    const original = fs.readFileSync(recipient, 'utf8');
    fs.writeFileSync(recipient, original.replace(/"publicKey":"[^"]+"/, `"publicKey":"${Buffer.alloc(32, 7).toString('base64url')}"`));
    assert.equal(await store.ensureRecipient(keyring), 'repaired');
    assert.equal(fs.readFileSync(recipient, 'utf8'), original);
    await assert.rejects(store.read(keyring, '../keyfile'), /id/);
    await assert.rejects(store.discard('../../etc/passwd'), /id/);
  });

  it('without a recipient (never unlocked since) sealing fails clearly', async () => {
    const { keyfile } = await newKeyring();
    await assert.rejects(new RecoveryStore(recoveryDirFor(keyfile)).seal('/n.md', Buffer.from('x')), /first time it is unlocked/);
  });
});
