// sops key groups (issue 27): a data key split by Shamir's secret sharing between `key_groups`, any
// `shamir_threshold` of which open the file. No sops binary runs here and ../shared/testdata/sops holds no
// split file, so this proves the pieces separately: the field arithmetic against published values (sops's
// shamir_test.go and Vault's anti-log table), the combination against this test's own split (written from the
// scheme, with its own multiplication: carry-less product reduced by long division), and the file format
// (sops's stores.go: `key_groups` of age entries, each holding one share, `shamir_threshold`) end to end
// through NoteSeal's sops format with real age identities.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { ageFileKeyFrom } from '../../../server/src/formats/age-format';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { encryptSopsText, newSopsState, sopsDocument, sopsFormat, type SopsSaveState } from '../../../server/src/formats/sops';
import { ageEntriesFor, DATA_KEY_LENGTH, masterKeysOf } from '../../../server/src/formats/sops-keys';
import { combineShares, gfMul } from '../../../server/src/formats/sops-shamir';
import type { KeysAtHand } from '../../../server/src/formats/types';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';

/** The test's own GF(2^8) product: carry-less multiplication, then the remainder by x^8+x^4+x^3+x+1. */
function refMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) p ^= a << i;
  for (let bit = 14; bit >= 8; bit--) if ((p >> bit) & 1) p ^= 0x11b << (bit - 8);
  return p;
}

/** Shamir's split as sops's shamir.Split lays shares out: {y1..yN, x}, distinct random x in 1..255. */
function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  const xs: number[] = [];
  while (xs.length < parts) { const x = 1 + randomBytes(1)[0]! % 255; if (!xs.includes(x)) xs.push(x); }
  const shares = xs.map(x => { const s = new Uint8Array(secret.length + 1); s[secret.length] = x; return s; });
  secret.forEach((value, idx) => {
    const coefficients = [value, ...randomBytes(threshold - 1)];
    xs.forEach((x, i) => {
      let y = 0; // Horner's rule
      for (let c = coefficients.length - 1; c >= 0; c--) y = refMul(y, x) ^ coefficients[c]!;
      shares[i]![idx] = y;
    });
  });
  return shares;
}

describe('sops Shamir key groups: the field and the scheme', () => {
  it('GF(2^8) products as sops\'s tests and Vault\'s tables give them', () => {
    assert.equal(gfMul(3, 7), 9);
    assert.equal(gfMul(3, 0), 0);
    assert.equal(gfMul(0, 3), 0);
    // The first 16 entries of Vault's (and sops's) anti-log table: the powers of 0xe5.
    const antiLog = [0x01, 0xe5, 0x4c, 0xb5, 0xfb, 0x9f, 0xfc, 0x12, 0x03, 0x34, 0xd4, 0xc4, 0x16, 0xba, 0x1f, 0x36];
    let x = 1;
    for (const expected of antiLog) { assert.equal(x, expected); x = gfMul(x, 0xe5); }
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b += 7) assert.equal(gfMul(a, b), refMul(a, b), `${a}·${b}`);
  });

  it('any threshold of the shares gives the secret back; fewer give something else; bad share sets are refused', () => {
    const secret = new Uint8Array(randomBytes(32));
    const shares = split(secret, 5, 3);
    for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) for (let k = j + 1; k < 5; k++) {
      assert.deepEqual(combineShares([shares[i]!, shares[j]!, shares[k]!]), secret, `${i},${j},${k}`);
    }
    assert.deepEqual(combineShares(shares), secret, 'all five');
    assert.notDeepEqual(combineShares([shares[0]!, shares[1]!]), secret, 'two of a 3-of-5 split');
    // A hand-checked 2-of-2 split of one byte: f(x) = 0x42 + 0x05·x at x = 1 and x = 2.
    assert.deepEqual(combineShares([Uint8Array.of(0x42 ^ 0x05, 1), Uint8Array.of(0x42 ^ refMul(0x05, 2), 2)]), Uint8Array.of(0x42));
    assert.throws(() => combineShares([shares[0]!]), /fewer than two/);
    assert.throws(() => combineShares([shares[0]!, shares[0]!]), /same point/);
    assert.throws(() => combineShares([shares[0]!, shares[1]!.subarray(1)]), /differ in length/);
  });
});

describe('sops Shamir key groups: files', () => {
  const people = [0, 1, 2].map(() => {
    const keygen = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const secret = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen)![0];
    const recipient = parseAgeRecipients(/# public key: (age1[0-9a-z]+)/.exec(keygen)![1]!, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    return { secret, recipient };
  });
  const stranger = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))![0];
  const holding = (...who: number[]): KeysAtHand => {
    const text = [stranger, ...who.map(i => people[i]!.secret)].join('\n');
    return { ageFileKey: stanzas => Promise.resolve(ageFileKeyFrom(parseAgeIdentityFile(text), stanzas)) } as KeysAtHand;
  };
  const PLAIN = '# settings\ndb:\n    password: hunter2\n    port: 5432\n';

  /** A YAML sops file whose data key is split 2-of-3 between three key groups, one age key each (as sops writes it). */
  function splitFile(): { text: string; dataKey: Uint8Array } {
    const dataKey = new Uint8Array(randomBytes(DATA_KEY_LENGTH));
    const state: SopsSaveState = newSopsState('yaml', people[0]!.recipient, {}, dataKey);
    const shares = split(dataKey, 3, 2);
    delete state.metadata['age'];
    state.metadata['shamir_threshold'] = 2;
    state.metadata['key_groups'] = shares.map((share, i) => ({ age: ageEntriesFor(share, people[i]!.recipient) }));
    return { text: encryptSopsText(PLAIN, state).text, dataKey };
  }

  it('dotenv and JSON: the flattened sops_key_groups__… lines and the JSON metadata open the same way', async () => {
    for (const [kind, file, plain] of [['dotenv', 'split.sops.env', 'A=1\nB=two\n'], ['json', 'split.sops.json', '{\n\t"a": "x"\n}\n']] as const) {
      const dataKey = new Uint8Array(randomBytes(DATA_KEY_LENGTH));
      const state = newSopsState(kind, people[0]!.recipient, {}, dataKey);
      delete state.metadata['age'];
      state.metadata['shamir_threshold'] = 2;
      state.metadata['key_groups'] = split(dataKey, 3, 2).map((share, i) => ({ age: ageEntriesFor(share, people[i]!.recipient) }));
      const text = encryptSopsText(plain, state).text;
      if (kind === 'dotenv') assert.match(text, /^sops_key_groups__list_2__map_age__list_0__map_recipient=age1/m);
      assert.equal((await sopsFormat.open(Buffer.from(text), holding(1, 2), file)).plaintext.toString(), plain, kind);
      await assert.rejects(sopsFormat.open(Buffer.from(text), holding(2), file), /1 more group is needed/);
    }
  });

  it('two of three groups open it; a save keeps the groups, the threshold and every share; the saved file opens with the other two', async () => {
    const { text, dataKey } = splitFile();
    assert.match(text, /shamir_threshold: 2/);
    const opened = await sopsFormat.open(Buffer.from(text), holding(0, 2), 'split.sops.yaml');
    assert.equal(opened.plaintext.toString(), PLAIN);
    assert.deepEqual(opened.saveState.dataKey, dataKey);
    const saved = (await sopsFormat.save(Buffer.from(PLAIN.replace('hunter2', 'hunter3')), opened.saveState)).toString();
    const metadataOf = (t: string) => sopsDocument('yaml', t).metadata!;
    assert.deepEqual(metadataOf(saved)['key_groups'], metadataOf(text)['key_groups'], 'the same groups and shares');
    assert.equal(Number(metadataOf(saved)['shamir_threshold']), 2);
    const again = await sopsFormat.open(Buffer.from(saved), holding(1, 2), 'split.sops.yaml');
    assert.match(again.plaintext.toString(), /password: hunter3/);
    assert.deepEqual(masterKeysOf(metadataOf(saved)), people.map((p, i) => `group ${i + 1}: age ${p.recipient[0]!.text}`));
  });

  it('one group\'s key only: WRONG_KEY naming the groups and keys still needed, no value in the message', async () => {
    const { text } = splitFile();
    await assert.rejects(sopsFormat.open(Buffer.from(text), holding(1), 'split.sops.yaml'), (e: unknown) => {
      const m = (e as Error).message;
      assert.ok(isNoteSealError(e, 'WRONG_KEY'), m);
      assert.match(m, /3 key groups \(Shamir\), any 2 of which open it/);
      assert.match(m, /open only 1\. 1 more group is needed, from: group 1 \(age age1[0-9a-z]+\); group 3 \(age age1/);
      assert.ok(m.includes(people[0]!.recipient[0]!.text) && m.includes(people[2]!.recipient[0]!.text) && !m.includes(`group 2 (`));
      assert.doesNotMatch(m, /hunter2/);
      return true;
    });
    await assert.rejects(sopsFormat.open(Buffer.from(text), holding(), 'split.sops.yaml'), /open none\. 2 more groups are needed/);
  });
});
