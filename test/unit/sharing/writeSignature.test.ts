// Signed writes (stanza type 6): the worker's saves are signed over the prefix, a key commitment and the
// payload; a changed byte, another data key or a crafted stanza never passes; rewrapping keeps it valid.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encryptBuffer, rewrapFile, readHeaderFromFile } from '../../../server/src/crypto/format';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { checkWriteSignature, parseWriteSignature, STANZA_WRITE_SIGNATURE } from '../../../server/src/keys/write-signature';
import { newKeyring } from '../keys/helpers';

describe('write signatures', () => {
  it('a worker save is signed by the keyfile\'s identity; a flipped byte or another data key fails; a rewrap keeps it', async () => {
    const { keyring, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const files = new EncFileSystem({ unlocked: () => keyring } as unknown as VaultService);
    const note = path.join(dir, 'plan.md');
    await files.writeFile(note, Buffer.from('signed text'.repeat(10_000)), { create: true, overwrite: true });
    const enc = note + '.enc';
    const header = await readHeaderFromFile(enc);
    assert.equal(header.stanzas.at(-1)!.type, STANZA_WRITE_SIGNATURE);
    const dataKey = await keyring.unwrap(header.stanzas);
    const ok = await checkWriteSignature(enc, dataKey);
    assert.equal(ok.state, 'valid');
    assert.equal(ok.state === 'valid' && ok.signer, Buffer.from(me.signing.publicKey).toString('hex'));
    assert.equal(ok.state === 'valid' && ok.keyCommitted, true);
    assert.equal((await checkWriteSignature(enc, new Uint8Array(32))).state, 'invalid', 'another data key: the commitment does not match');
    // Rewrap (what rotate and updatekeys do): other stanzas change, the signature stays valid.
    await rewrapFile(enc, keyring.unwrap, [...await keyring.stanzasFor(dataKey, []), header.stanzas.at(-1)!]);
    assert.equal((await checkWriteSignature(enc, dataKey)).state, 'valid');
    const bytes = await fs.readFile(enc);
    for (const at of [bytes.length - 1, header.headerLength + 5, 20]) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 1;
      await fs.writeFile(enc, copy);
      assert.equal((await checkWriteSignature(enc).catch(() => ({ state: 'invalid' as const }))).state, 'invalid', `flip at ${at}`);
    }
    // An unsigned file (written before signatures) is reported as such.
    await fs.writeFile(enc, encryptBuffer(Buffer.from('old'), dataKey, await keyring.stanzasFor(dataKey, [])));
    assert.equal((await checkWriteSignature(enc)).state, 'unsigned');
  });

  it('property: crafted signature stanzas are null, malformed or parsed, never a crash', () => {
    fc.assert(fc.property(fc.array(fc.record({ type: fc.constantFrom(1, 5, STANZA_WRITE_SIGNATURE), body: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 4 }), stanzas => {
      const r = parseWriteSignature(stanzas);
      assert.ok(r === null || r === 'malformed' || r.signature.length === 64);
    }), { numRuns: 300 });
  });
});
