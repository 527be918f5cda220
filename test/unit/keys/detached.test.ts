import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptBuffer, decryptFile, encryptBuffer, encryptFile } from '../../../server/src/crypto/format';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Keyring } from '../../../server/src/keys/keyring';
import { keystoreDirFor } from '../../../server/src/keys/keystore';
import { parseStanza, STANZA_DETACHED } from '../../../server/src/keys/stanzas';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith } from './helpers';
import { assertUnixMode } from '../platformModes';

describe('detached data keys and shredding', () => {
  it('a detached key lives in the key store beside the keyfile (0600), referenced by a type-2 stanza', async () => {
    const { keyring, keyfile } = await newKeyring();
    const { dataKey, stanzas, detachedKeyId } = await keyring.newFileStanzas({ detached: true });
    assert.equal(stanzas.length, 1);
    assert.equal(stanzas[0].type, STANZA_DETACHED);
    const parsed = parseStanza(stanzas[0]);
    assert.equal(parsed.kind === 'detached' && parsed.keyId, detachedKeyId);
    const entry = path.join(keystoreDirFor(keyfile), `${detachedKeyId}.key`);
    assert.equal(keystoreDirFor(keyfile), path.join(path.dirname(keyfile), 'keyfile.keys'));
    assertUnixMode((await fs.stat(entry)).mode, 0o600);
    const text = await fs.readFile(entry, 'utf8');
    assert.ok(!text.includes(Buffer.from(dataKey).toString('base64')), 'stored wrapped, never raw');
    assert.deepEqual(await keyring.unwrap(stanzas), dataKey);
  });

  it('shred makes the file unreadable for good: KEY_NOT_FOUND with a clear message', async () => {
    const { keyring, keyfile, dir } = await newKeyring();
    const { dataKey, stanzas, detachedKeyId } = await keyring.newFileStanzas({ detached: true });
    const file = path.join(dir, 'meeting.webm.enc');
    async function* audio() { yield Buffer.alloc(100_000, 7); }
    await encryptFile(audio(), file, dataKey, stanzas, { chunkSize: 4096 });
    const out = path.join(dir, 'out.webm');
    await decryptFile(file, keyring.unwrap, out);
    assert.equal((await fs.readFile(out)).length, 100_000);

    await keyring.shred(detachedKeyId!);
    const entry = path.join(keystoreDirFor(keyfile), `${detachedKeyId}.key`);
    await assert.rejects(fs.access(entry));
    await rejectsWith(decryptFile(file, keyring.unwrap, path.join(dir, 'again.webm')), 'KEY_NOT_FOUND');
    await assert.rejects(decryptFile(file, keyring.unwrap, path.join(dir, 'again.webm')), /shredded/);
    await assert.rejects(fs.access(path.join(dir, 'again.webm')), 'no output file left behind');
    // Even with the passphrase, from a fresh keyring, even after unlocking again.
    const fresh = openKeyring(keyfile);
    await fresh.unlock(PASSPHRASE);
    await rejectsWith(fresh.unwrap(stanzas), 'KEY_NOT_FOUND');
    await rejectsWith(keyring.shred(detachedKeyId!), 'KEY_NOT_FOUND');
  });

  it('shredding one key leaves the others readable', async () => {
    const { keyring } = await newKeyring();
    const a = await keyring.newFileStanzas({ detached: true });
    const b = await keyring.newFileStanzas({ detached: true });
    const fileB = encryptBuffer(Buffer.from('b'), b.dataKey, b.stanzas);
    await keyring.shred(a.detachedKeyId!);
    assert.equal((await decryptBuffer(fileB, keyring.unwrap)).toString(), 'b');
  });

  it('key ids are validated (no path traversal through shred)', async () => {
    const { keyring } = await newKeyring();
    await rejectsWith(keyring.shred('../keyfile'), 'INVALID_ARGUMENT');
    await rejectsWith(keyring.shred('ABCDEF'), 'INVALID_ARGUMENT');
  });

  it('another keyring cannot use my key store entry (WRONG_KEY), and a damaged entry is reported', async () => {
    const mine = await newKeyring();
    const { stanzas, detachedKeyId } = await mine.keyring.newFileStanzas({ detached: true });
    const other = await newKeyring(); // a different master key, pointed at my key store
    const intruder = new Keyring(other.keyfile, { kdf: TEST_KDF_POLICY, keystoreDir: mine.keyring.keystoreDir });
    await intruder.unlock(PASSPHRASE);
    await rejectsWith(intruder.unwrap(stanzas), 'WRONG_KEY');
    const entry = path.join(mine.keyring.keystoreDir, `${detachedKeyId}.key`);
    await fs.writeFile(entry, '{"broken":');
    await rejectsWith(mine.keyring.unwrap(stanzas), 'DAMAGED_KEYFILE');
  });
});

describe('damaged key store entries (found by the fuzzer, test/fuzz)', () => {
  it('an entry that is JSON but not an object is DAMAGED_KEYFILE, not a TypeError', async () => {
    const { keyring, keyfile } = await newKeyring();
    const { detachedKeyId, stanzas } = await keyring.newFileStanzas({ detached: true });
    for (const text of ['null', '3', '"x"', '[]', 'true']) {
      await fs.writeFile(path.join(keystoreDirFor(keyfile), `${detachedKeyId}.key`), text);
      await rejectsWith(keyring.unwrap(stanzas), 'DAMAGED_KEYFILE');
    }
  });
});
