// Imported age identities in the key store: sealed under the master key (no secret in the file), listed
// without unlocking, opened only while unlocked, rewrapped by a rotation, refused when altered.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bech32 } from '@scure/base';
import { generateX25519Identity, generateHybridIdentity } from 'age-encryption';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { ageIdentitiesPath, forgetAgeIdentity, listAgeIdentities } from '../../../server/src/keys/age-identities';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Keyring } from '../../../server/src/keys/keyring';

const roots: string[] = [];
after(() => Promise.all(roots.map(r => fs.rm(r, { recursive: true, force: true }))));

async function freshKeyring(): Promise<Keyring> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-age-ids-'));
  roots.push(root);
  return (await Keyring.init(path.join(root, 'keyfile.json'), 'pass phrase', { kdf: TEST_KDF_POLICY })).keyring;
}

describe('key store: imported age identities', () => {
  it('seals them (no secret on disk), lists them without a key, opens them only while unlocked; rotation rewraps', async () => {
    const keyring = await freshKeyring();
    const lines = [await generateX25519Identity(), await generateHybridIdentity()];
    const keys = parseAgeIdentityFile(lines.join('\n'));
    const secrets = keys.map(k => Buffer.from(k.secretKey));
    const { added } = await keyring.importAgeIdentities(keys);
    assert.equal(added.length, 2);
    assert.deepEqual((await keyring.importAgeIdentities(parseAgeIdentityFile(lines[0]!))).already.length, 1);
    const stored = await fs.readFile(ageIdentitiesPath(keyring.keystoreDir));
    for (const s of secrets) {
      for (const form of [s.toString('hex'), s.toString('base64'), s.toString('base64url'), bech32.encode('age-secret-key-', bech32.toWords(s), false)]) {
        assert.ok(!stored.toString('latin1').toLowerCase().includes(form.toLowerCase().replace(/=+$/, '')), 'a secret is on disk');
      }
    }
    assert.ok(!stored.includes('AGE-SECRET-KEY'));
    const listed = await listAgeIdentities(keyring.keystoreDir);
    assert.deepEqual(listed.map(l => l.kind).sort(), ['x25519', 'xwing']);
    const held = await keyring.ageReceivingKeys();
    assert.equal(held.length, 3, 'own identity and two imported');
    assert.deepEqual(held.slice(1).map(k => Buffer.from(k.secretKey)), secrets);
    await keyring.rotate();
    const after = JSON.parse(await fs.readFile(ageIdentitiesPath(keyring.keystoreDir), 'utf8')) as { identities: { masterKeyId: string }[] };
    assert.ok(after.identities.every(e => e.masterKeyId === keyring.masterKeyId), 'rewrapped under the new master key');
    assert.deepEqual((await keyring.ageReceivingKeys()).slice(1).map(k => Buffer.from(k.secretKey)), secrets);
    keyring.lock();
    await assert.rejects(keyring.ageReceivingKeys(), /locked/);
    assert.equal(await forgetAgeIdentity(keyring.keystoreDir, listed[0]!.recipient), true);
    assert.equal((await listAgeIdentities(keyring.keystoreDir)).length, 1);
  });

  it('an altered entry is DAMAGED_KEYFILE, not a silent skip', async () => {
    const keyring = await freshKeyring();
    await keyring.importAgeIdentities(parseAgeIdentityFile(await generateX25519Identity()));
    const file = ageIdentitiesPath(keyring.keystoreDir);
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { identities: { recipient: string }[] };
    const other = parseAgeIdentityFile(await generateX25519Identity())[0]!;
    json.identities[0]!.recipient = bech32.encode('age', bech32.toWords(other.publicKey));
    await fs.writeFile(file, JSON.stringify(json));
    await assert.rejects(keyring.ageReceivingKeys(), e => isNoteSealError(e, 'DAMAGED_KEYFILE'));
  });
});
