// The key store's imported dotenvx keys: sealed (no secret on disk), listed without a key, opened only for
// their public key while unlocked, rewrapped by rotation, and a tampered entry is DAMAGED_KEYFILE.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { dotenvxKeysPath, listDotenvxKeys, publicHexOfSecret } from '../../../server/src/keys/dotenvx-keys';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Keyring } from '../../../server/src/keys/keyring';

const roots: string[] = [];
after(() => Promise.all(roots.map(r => fs.rm(r, { recursive: true, force: true }))));

async function freshKeyring(): Promise<Keyring> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-dotenvx-keys-'));
  roots.push(root);
  return (await Keyring.init(path.join(root, 'keyfile.json'), 'pass phrase', { kdf: TEST_KDF_POLICY })).keyring;
}

describe('key store: imported dotenvx keys', () => {
  it('seals them, lists public keys only, opens one per public key while unlocked; rotation rewraps; tampering is caught', async () => {
    const keyring = await freshKeyring();
    const secrets = [secp256k1.utils.randomSecretKey(), secp256k1.utils.randomSecretKey()];
    const publics = secrets.map(s => publicHexOfSecret(s)!);
    assert.deepEqual((await keyring.importDotenvxKeys(secrets)).added, publics);
    assert.deepEqual((await keyring.importDotenvxKeys(secrets.slice(0, 1))).already, publics.slice(0, 1));
    const file = dotenvxKeysPath(keyring.keystoreDir);
    const stored = (await fs.readFile(file)).toString('latin1').toLowerCase();
    for (const s of secrets.map(x => Buffer.from(x))) for (const form of [s.toString('hex'), s.toString('base64').replace(/=+$/, '')]) assert.ok(!stored.includes(form.toLowerCase()), 'a secret is on disk');
    assert.deepEqual(await listDotenvxKeys(keyring.keystoreDir), publics);
    assert.deepEqual(Buffer.from((await keyring.dotenvxSecretKey(publics[1]!))!), Buffer.from(secrets[1]!));
    assert.equal(await keyring.dotenvxSecretKey('02' + '11'.repeat(32)), null);
    await keyring.rotate();
    const rewrapped = JSON.parse(await fs.readFile(file, 'utf8')) as { keys: { publicKey: string; masterKeyId: string }[] };
    assert.ok(rewrapped.keys.every(e => e.masterKeyId === keyring.masterKeyId), 'rewrapped under the new master key');
    assert.deepEqual(Buffer.from((await keyring.dotenvxSecretKey(publics[0]!))!), Buffer.from(secrets[0]!));
    // An entry claiming another public key (swapped) fails its AAD: DAMAGED_KEYFILE, never another file's key.
    [rewrapped.keys[0]!.publicKey, rewrapped.keys[1]!.publicKey] = [rewrapped.keys[1]!.publicKey, rewrapped.keys[0]!.publicKey];
    await fs.writeFile(file, JSON.stringify({ format: 'noteseal-dotenvx-keys', version: 1, ...rewrapped }));
    await assert.rejects(keyring.dotenvxSecretKey(publics[0]!), (e: Error) => isNoteSealError(e, 'DAMAGED_KEYFILE'));
    keyring.lock();
    await assert.rejects(keyring.dotenvxSecretKey(publics[0]!), /locked/);
  });
});
