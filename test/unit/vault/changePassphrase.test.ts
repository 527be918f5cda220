// Change Passphrase in the worker: the current passphrase is verified first, and the key remembered in
// SecretStorage is re-stored or forgotten, never left behind unasked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RememberedSecret } from '../../../server/src/protocol';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { VaultService } from '../../../server/src/vault/vaultService';

process.env.NOTESEAL_TEST_FAST_KDF = '1';

function setup(t: { after(fn: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-vault-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const secrets = new Map<RememberedSecret, string>();
  const vault = new VaultService(path.join(dir, 'keyfile.json'), {
    get: async n => secrets.get(n) ?? null,
    store: async (n, v) => { secrets.set(n, v); },
    delete: async n => { secrets.delete(n); },
  });
  return { vault, secrets, keyfile: path.join(dir, 'keyfile.json') };
}

const opens = async (keyfile: string, passphrase: string) => {
  const k = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
  try { await k.unlock(passphrase); return true; } catch { return false; } finally { k.lock(); }
};

describe('Change Passphrase (worker)', () => {
  it('refuses a wrong current passphrase and changes nothing', async t => {
    const { vault, keyfile } = setup(t);
    await vault.init('old passphrase 1', false);
    const before = fs.readFileSync(keyfile);
    await assert.rejects(vault.changePassphrase('not it', 'new passphrase 2', false), (e: { code?: string }) => e.code === 'WRONG_PASSPHRASE');
    assert.deepEqual(fs.readFileSync(keyfile), before);
    assert.equal(vault.state().locked, false, 'a wrong guess does not lock the vault either');
  });

  it('with the right one rewraps; the remembered key is re-stored or forgotten as asked', async t => {
    const { vault, secrets, keyfile } = setup(t);
    await vault.init('old passphrase 1', true);
    const remembered = secrets.get('masterKey');
    assert.ok(remembered);
    await vault.changePassphrase('old passphrase 1', 'new passphrase 2', true);
    assert.equal(await opens(keyfile, 'new passphrase 2'), true);
    assert.equal(await opens(keyfile, 'old passphrase 1'), false);
    assert.equal(secrets.get('masterKey'), remembered, 're-stored: the master key itself did not change');
    await vault.changePassphrase('new passphrase 2', 'third passphrase 3', false);
    assert.equal(secrets.has('masterKey'), false, 'forgotten');
    vault.lock();
    await assert.rejects(vault.unlockRemembered(), (e: { code?: string }) => e.code === 'LOCKED');
  });
});
