// Regenerates test/vectors/keys-v1.json (docs/KEYS.md) with NoteSeal's own key code.
// Run: npx esbuild test/vectors/generate-keys.ts --bundle --platform=node --log-level=warning | node
// The keys are fixed; ephemeral keys, nonces and salts are random but recorded in the output.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encryptFile } from '../../server/src/crypto/format';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import { keystoreDirFor } from '../../server/src/keys/keystore';
import { encodeAgeRecipient } from '../../server/src/keys/identity-strings';
import { x25519 } from '../../server/src/keys/curves';
import { wrapToRecipient } from '../../server/src/keys/recipients';
import { xwingPublicOf } from '../../server/src/keys/recipients';
import { decodeRecoveryKey } from '../../server/src/keys/recovery-key';
import { entryId, GENESIS_PREV, serializeRecipients, signEntry } from '../../server/src/keys/recipients-file';
import { writeSignatureStanza } from '../../server/src/keys/write-signature';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fixed = (seed: number) => new Uint8Array(Array.from({ length: 32 }, (_, i) => (i * 29 + seed) & 255));

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-vectors-'));
  const keyfile = path.join(dir, 'keyfile.json');
  const passphrase = 'vector passphrase ünïcödé';
  const { keyring, recoveryKey } = await Keyring.init(keyfile, passphrase, { kdf: TEST_KDF_POLICY });
  const masterKey = decodeRecoveryKey(recoveryKey);
  const dataKey = fixed(3);
  const [type1Fixed] = await keyring.stanzasFor(dataKey, []); // the type-1 stanza of the fixed data key
  const detached = await keyring.newFileStanzas({ detached: true });
  const entryText = await fs.readFile(path.join(keystoreDirFor(keyfile), `${detached.detachedKeyId}.key`), 'utf8');
  const identity = (await keyring.identity())!;
  const identityJson = await fs.readFile(path.join(keystoreDirFor(keyfile), 'identity.json'), 'utf8');

  const ageSecret = fixed(11);
  const agePublic = x25519.publicOf(ageSecret);
  const { bech32 } = await import('@scure/base');
  const ageIdentity = bech32.encode('AGE-SECRET-KEY-', bech32.toWords(ageSecret), false).toUpperCase();
  const type4 = wrapToRecipient({ kind: 'x25519', publicKey: agePublic }, dataKey);
  const xwingSeed = fixed(17);
  const type5 = wrapToRecipient({ kind: 'xwing', publicKey: xwingPublicOf(xwingSeed) }, dataKey);

  // A recipients chain: the keyfile's identity as genesis, then an age member, then a removal.
  const e1 = signEntry({ op: 'add', name: 'alice', identity: identity.public.text, prev: GENESIS_PREV }, identity.signing, new Date('2026-12-01T12:00:00Z'));
  const e2 = signEntry({ op: 'add', name: 'ci', identity: encodeAgeRecipient(agePublic), prev: entryId(e1) }, identity.signing, new Date('2026-12-01T12:01:00Z'));
  const e3 = signEntry({ op: 'remove', name: 'ci', identity: encodeAgeRecipient(agePublic), prev: entryId(e2) }, identity.signing, new Date('2026-12-01T12:02:00Z'));

  // A signed file (two chunks of 1 KiB) under the fixed data key.
  const plain = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 31 + 7) & 255));
  await fs.writeFile(path.join(dir, 'p'), plain);
  await encryptFile(path.join(dir, 'p'), path.join(dir, 'p.enc'), dataKey, [type1Fixed!], { chunkSize: 1024, payloadBound: writeSignatureStanza(identity.signing, dataKey, undefined, () => Date.parse('2026-12-01T12:03:00Z')) });
  const signedFile = await fs.readFile(path.join(dir, 'p.enc'));

  const out = {
    about: 'docs/KEYS.md vectors; checked by test/unit/sharing/keyVectors.test.ts with an independent implementation',
    keyfile: { passphrase, json: await fs.readFile(keyfile, 'utf8'), masterKeyHex: hex(masterKey), recoveryKey },
    dataKeyHex: hex(dataKey),
    stanza1: { bodyHex: hex(type1Fixed!.body) },
    keyStoreEntry: { json: entryText, dataKeyHex: hex(detached.dataKey) },
    identity: { json: identityJson, text: identity.public.text },
    stanza4: { ageIdentity, ageRecipient: encodeAgeRecipient(agePublic), bodyHex: hex(type4.body) },
    stanza5: { seedHex: hex(xwingSeed), bodyHex: hex(type5.body) },
    recipientsFile: { text: serializeRecipients([e1, e2, e3]), members: ['alice'], ids: [entryId(e1), entryId(e2), entryId(e3)] },
    writeSignature: { fileHex: hex(signedFile), plaintextLength: plain.length, signerHex: hex(identity.signing.publicKey), at: '2026-12-01T12:03:00.000Z' },
  };
  keyring.lock();
  await fs.writeFile(path.join(__dirname.includes('vectors') ? __dirname : path.resolve('test/vectors'), 'keys-v1.json'), JSON.stringify(out, null, 2) + '\n');
  await fs.rm(dir, { recursive: true, force: true });
}
void main();
