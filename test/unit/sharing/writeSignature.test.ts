// Signed writes (stanza type 6): the worker's saves are signed over the prefix, a key commitment and the
// payload; a changed byte, another data key or a crafted stanza never passes; rewrapping keeps it valid.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { AppendWriter, encryptBuffer, encryptBufferToFile, encryptFile, recoverFile, rewrapFile, readHeaderFromFile, type PayloadBoundStanza } from '../../../server/src/crypto/format';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { checkWriteSignature, parseWriteSignature, STANZA_WRITE_SIGNATURE, writeSignatureStanza } from '../../../server/src/keys/write-signature';
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

  it('append mode (recordings): signed at close over every frame; a crash leaves it unsigned, and recovery keeps it so', async () => {
    const { keyring, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const sign = async (file: string, finish: boolean) => {
      const keys = await keyring.newFileStanzas({ detached: true });
      const w = await AppendWriter.create(file, keys.dataKey, keys.stanzas, { chunkSize: 1024, payloadBound: writeSignatureStanza(me.signing, keys.dataKey) });
      keys.dataKey.fill(0); // as the recorder does, right after creating: the commitment was derived already
      await w.append(Buffer.alloc(5000, 7));
      if (finish) await w.close(); else await w.abandon();
    };
    const done = path.join(dir, 'a.wav.enc');
    await sign(done, true);
    const dataKey = await keyring.unwrap((await readHeaderFromFile(done)).stanzas);
    const r = await checkWriteSignature(done, dataKey);
    assert.equal(r.state, 'valid');
    assert.equal(r.state === 'valid' && r.keyCommitted, true);
    const crashed = path.join(dir, 'b.wav.enc');
    await sign(crashed, false);
    assert.equal((await checkWriteSignature(crashed)).state, 'unsigned');
    await recoverFile(crashed, keyring.unwrap);
    assert.equal((await checkWriteSignature(crashed)).state, 'unsigned');
  });

  it('the payload hash a signed write is given is the SHA-256 of the payload on disk (a buffer, a stream)', async () => {
    // Sequential writers hash the frames as they are written (no read-back); a wrong order or a missed
    // batch would sign bytes that are not the file's. 1 KiB chunks: the largest size has two batches.
    const { dir } = await newKeyring();
    const dataKey = randomBytes(32);
    for (const size of [0, 1, 1023, 1024, 5 * 1024 * 1024 + 7]) {
      const plain = randomBytes(size);
      const given: Buffer[] = [];
      const bound: PayloadBoundStanza = { type: 0x7f, length: 32, build: (_prefix, sha) => { given.push(Buffer.from(sha)); return new Uint8Array(32); } };
      const enc = path.join(dir, `n${size}.enc`);
      await encryptBufferToFile(plain, enc, dataKey, [], { chunkSize: 1024, payloadBound: bound });
      const stream = async function* () { for (let at = 0; at < size; at += 100_000) yield plain.subarray(at, at + 100_000); };
      await encryptFile(stream(), enc + '2', dataKey, [], { chunkSize: 1024, payloadBound: bound });
      for (const [i, file] of [enc, enc + '2'].entries()) {
        const bytes = await fs.readFile(file);
        const onDisk = createHash('sha256').update(bytes.subarray((await readHeaderFromFile(file)).headerLength)).digest();
        assert.deepEqual(given[i], onDisk, `${size} bytes, ${i ? 'a stream' : 'a buffer'}`);
      }
    }
  });

  it('property: crafted signature stanzas are null, malformed or parsed, never a crash', () => {
    fc.assert(fc.property(fc.array(fc.record({ type: fc.constantFrom(1, 5, STANZA_WRITE_SIGNATURE), body: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 4 }), stanzas => {
      const r = parseWriteSignature(stanzas);
      assert.ok(r === null || r === 'malformed' || r.signature.length === 64);
    }), { numRuns: 300 });
  });
});
