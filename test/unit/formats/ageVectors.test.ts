// Conformance: every C2SP age test vector (cctv-age, a pinned devDependency) gives exactly its expected
// result: the right plaintext for `success`, and the typed failure it names for every other one. A vector
// this build cannot run would be listed by name (docs/FORMAT.md, "age files"); today there is none.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { allVectors, type Vector } from './cctvVectors';
import { isAgeError, openAge, scryptIdentity, type AgeFailure, type AgeIdentity } from '../../../server/src/formats/age';
import { ageIdentityOf } from '../../../server/src/formats/age/identities';
import { dearmor, looksArmored } from '../../../server/src/formats/age/armor';
import { parseHeader } from '../../../server/src/formats/age/header';
import { openPayload } from '../../../server/src/formats/age/stream';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';

const FAILURES: Record<string, AgeFailure> = {
  'header failure': 'header', 'armor failure': 'armor', 'no match': 'no match', 'HMAC failure': 'HMAC', 'payload failure': 'payload',
};
/** Vectors this build cannot run, by name, with why (none today: X25519, mlkem768x25519, scrypt and armor are all implemented). */
const CANNOT_RUN = new Map<string, string>();

function identitiesOf(v: Vector): AgeIdentity[] {
  const ids: AgeIdentity[] = [];
  for (const line of v.meta.get('identity') ?? []) ids.push(...parseAgeIdentityFile(line).map(ageIdentityOf));
  for (const p of v.meta.get('passphrase') ?? []) ids.push(scryptIdentity(Buffer.from(p, 'utf8')));
  return ids;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const all = allVectors;

describe('age format: the C2SP test vectors (cctv-age)', () => {
  it(`has the whole set (${all.length} vectors); cannot run: ${CANNOT_RUN.size === 0 ? 'none' : [...CANNOT_RUN.keys()].join(', ')}`, () => {
    assert.ok(all.length >= 140, `only ${all.length} vectors found`);
  });
  for (const v of all) {
    const expect = v.meta.get('expect')![0]!;
    it(`${v.name}: ${expect}`, { skip: CANNOT_RUN.get(v.name) ?? false }, () => {
      const identities = identitiesOf(v);
      if (expect === 'success') {
        const opened = openAge(v.file, identities);
        assert.equal(sha256(opened.plaintext), v.meta.get('payload')![0]);
        assert.equal(opened.armored, v.meta.get('armored')?.[0] === 'yes');
        return;
      }
      const failure = FAILURES[expect];
      assert.ok(failure, `unknown expectation ${expect}`);
      assert.throws(() => openAge(v.file, identities), e => {
        assert.ok(isAgeError(e), `not an AgeError: ${String(e)}`);
        assert.equal(e.failure, failure, `${e.failure} failure (${e.message}) instead of ${failure}`);
        return true;
      });
      if (failure === 'payload') {
        // openAge releases nothing; the chunks that authenticated before the failure are what the vector hashes.
        const binary = looksArmored(v.file) ? dearmor(v.file) : v.file;
        const header = parseHeader(binary);
        const fileKey = identities.map(i => i.unwrap(header.stanzas)).find(k => k)!;
        const released: Buffer[] = [];
        assert.throws(() => { for (const c of openPayload(fileKey, binary.subarray(header.payloadOffset))) released.push(c); });
        assert.equal(sha256(Buffer.concat(released)), v.meta.get('payload')![0]);
      }
    });
  }
});
