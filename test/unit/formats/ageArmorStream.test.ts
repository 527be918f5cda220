// Armored age files read line by line (issue 26): dearmorStream gives exactly what dearmor gives, the same
// bytes or the same error, however the text is cut into blocks; and the streamed reader (armor, header,
// payload chunk by chunk) gives every C2SP vector (cctv-age) its expected result, as openAge does whole.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { allVectors } from './cctvVectors';
import { isAgeError, sealAge, x25519Identity, x25519Recipient, type AgeIdentity } from '../../../server/src/formats/age';
import { ageIdentityOf } from '../../../server/src/formats/age/identities';
import { armor, dearmor, dearmorStream, looksArmored } from '../../../server/src/formats/age/armor';
import { openPayloadStream, readStreamHeader } from '../../../server/src/formats/age/file-stream';
import { checkHeaderMac } from '../../../server/src/formats/age/header';
import { unwrapFileKey } from '../../../server/src/formats/age';
import { x25519 } from '@noble/curves/ed25519.js';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';

const all = allVectors;

function* blocks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function* asAsync(it: Iterable<Buffer>): AsyncGenerator<Buffer> { yield* it; }

async function streamed(bytes: Buffer, block: number): Promise<Buffer | string> {
  try {
    const parts: Buffer[] = [];
    for await (const b of dearmorStream(asAsync(blocks(bytes, block)))) parts.push(b);
    return Buffer.concat(parts);
  } catch (e) { return (e as Error).message; }
}
function whole(bytes: Buffer): Buffer | string {
  try { return dearmor(bytes); } catch (e) { return (e as Error).message; }
}

/** As the CLI reads an armored file: the stream, and an armor error preferred to any later failure. */
async function openStreamed(file: Buffer, identities: AgeIdentity[], block: number): Promise<Buffer> {
  const src = dearmorStream(asAsync(blocks(file, block)))[Symbol.asyncIterator]();
  try {
    const { header, rest } = await readStreamHeader(src);
    const fileKey = unwrapFileKey(header.stanzas, identities);
    checkHeaderMac(header, fileKey);
    const out: Buffer[] = [];
    for await (const batch of openPayloadStream(rest, src, fileKey)) out.push(...batch);
    return Buffer.concat(out);
  } catch (e) {
    if (isAgeError(e) && !isAgeError(e, 'armor')) while (!(await src.next()).done);
    throw e;
  }
}

const FAILURES: Record<string, string> = { 'header failure': 'header', 'armor failure': 'armor', 'no match': 'no match', 'HMAC failure': 'HMAC', 'payload failure': 'payload' };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('age armor read line by line', () => {
  it('dearmorStream = dearmor on every armored C2SP vector and on damaged copies, in any block size', async () => {
    const texts = all.filter(v => looksArmored(v.file)).map(v => v.file);
    assert.ok(texts.length >= 20, `${texts.length} armored vectors`);
    const big = randomBytes(48 * 30 + 7);
    const ours = Buffer.from(`\n  -----BEGIN AGE ENCRYPTED FILE-----\r\n${big.toString('base64').replace(/.{64}/g, '$&\r\n')}\r\n-----END AGE ENCRYPTED FILE-----\r\n\n `);
    texts.push(ours);
    // Damaged copies: each byte class changed at a few places (line ends, padding, spaces, letters, cuts).
    const damaged: Buffer[] = [];
    for (const t of texts.slice(0, 6).concat([ours])) {
      for (const at of [0, 1, 5, 36, 37, 70, 100, Math.floor(t.length / 2), t.length - 40, t.length - 35, t.length - 2, t.length - 1]) {
        if (at < 0 || at >= t.length) continue;
        for (const c of [0x20, 0x0a, 0x0d, 0x3d, 0x41, 0x2d]) { const b = Buffer.from(t); b[at] = c; damaged.push(b); }
        damaged.push(Buffer.concat([t.subarray(0, at), t.subarray(at + 1)]));
        damaged.push(Buffer.concat([t.subarray(0, at), Buffer.from('\n'), t.subarray(at)]));
      }
      damaged.push(Buffer.concat([Buffer.alloc(1025, 0x20), t]), Buffer.concat([Buffer.alloc(1024, 0x0a), t]), Buffer.concat([t, Buffer.from('x')]));
    }
    let same = 0;
    for (const t of texts.concat(damaged)) {
      const expected = whole(t);
      for (const block of [3, 65, 4096]) {
        const got = await streamed(t, block);
        assert.deepEqual(got, expected, `block ${block} of ${JSON.stringify(t.subarray(0, 80).toString('latin1'))}…`);
        same++;
      }
    }
    console.log(`${texts.length + damaged.length} texts (${texts.length} intact), ${same} comparisons, all equal`);
  });

  it('the streamed reader gives every C2SP vector its expected result', async () => {
    // Passphrase vectors left to ageVectors.test: their scrypt work (minutes here) is the same unwrap code;
    // what is streamed (armor, header, payload) is the same for every stanza type.
    for (const v of all.filter(x => !x.meta.has('passphrase'))) {
      const identities: AgeIdentity[] = [];
      for (const line of v.meta.get('identity') ?? []) identities.push(...parseAgeIdentityFile(line).map(ageIdentityOf));
      const expect = v.meta.get('expect')![0]!;
      // A binary vector goes through the same reader as its armored form would: the stream after dearmor.
      const file = looksArmored(v.file) ? v.file : armor(v.file);
      for (const block of [4096]) {
        if (expect === 'success') {
          assert.equal(sha256(await openStreamed(file, identities, block)), v.meta.get('payload')![0], v.name);
          continue;
        }
        await assert.rejects(openStreamed(file, identities, block), e => {
          assert.ok(isAgeError(e), `${v.name}: not an AgeError: ${String(e)}`);
          assert.equal(e.failure, FAILURES[expect], `${v.name}: ${e.failure} failure (${e.message}) instead of ${expect}`);
          return true;
        }, v.name);
      }
    }
  });

  it('a file of many chunks, cut anywhere, fails as a whole read does', async () => {
    const secret = randomBytes(32);
    const id = x25519Identity(secret);
    const plain = randomBytes(3 * 64 * 1024 + 10);
    const armored = sealAge(plain, [x25519Recipient(x25519.getPublicKey(secret))], { armor: true });
    assert.ok((await openStreamed(armored, [id], 4096)).equals(plain));
    for (const cut of [armored.length - 40, armored.length - 100, Math.floor(armored.length / 2)]) {
      await assert.rejects(openStreamed(armored.subarray(0, cut), [id], 4096), e => isAgeError(e, 'armor'));
    }
  });
});
