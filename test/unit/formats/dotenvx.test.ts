// dotenvx files without the CLI: ECIES byte for byte against dotenvx's own primitives (the eciesjs it bundles),
// the parser keeping every byte, saves that change only edited lines, write-only opening, typed errors, and a
// property test of the parser on crafted input (never a crash, never a value in a message).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { eciesDecrypt, eciesEncrypt } from '../../../server/src/formats/dotenvx-ecies';
import { DotenvxParseError, parseDotenvx, quoteValue, serializeDotenvx } from '../../../server/src/formats/dotenvx-parse';
import { dotenvxFormat, openDotenvxText, parseDotenvKeysFile, saveDotenvxText, setDotenvxValue } from '../../../server/src/formats/dotenvx';
import { formatOfBytes } from '../../../server/src/formats';

interface Primitives { encrypt(publicKey: string, value: string): string; decrypt(privateKey: string, value: string): string }
const dotenvx = createRequire(__filename)('@dotenvx/primitives') as Primitives;

const secret = secp256k1.utils.randomSecretKey();
const secretHex = Buffer.from(secret).toString('hex');
const publicHex = Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex');
const lines = (s: string) => s.split('\n');

function fileWith(values: Record<string, string>): string {
  return [
    '#/-------------------[DOTENV_PUBLIC_KEY]--------------------/',
    `DOTENV_PUBLIC_KEY_PRODUCTION="${publicHex}"`,
    '',
    '# .env.production',
    ...Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(dotenvx.encrypt(publicHex, v))}`),
    'PLAIN_ONE=plain   # kept as is',
    '',
  ].join('\n');
}

describe('dotenvx: ECIES as eciesjs does it', () => {
  it('encrypts byte for byte as dotenvx does with the same ephemeral key and nonce, and each side decrypts the other', () => {
    // dotenvx's bundled eciesjs draws 32 bytes (the ephemeral secret) then 16 (the nonce): record them.
    const drawn: Uint8Array[] = [];
    const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    let n = 7;
    globalThis.crypto.getRandomValues = (<T extends ArrayBufferView>(a: T): T => {
      const b = a as unknown as Uint8Array;
      for (let i = 0; i < b.length; i++) b[i] = (n++ * 131) & 255;
      drawn.push(Uint8Array.from(b));
      return a;
    }) as typeof globalThis.crypto.getRandomValues;
    let theirs: Buffer;
    try { theirs = Buffer.from(dotenvx.encrypt(publicHex, 'byte for byte ✓').slice('encrypted:'.length), 'base64'); } finally { globalThis.crypto.getRandomValues = real; }
    assert.deepEqual(drawn.map(d => d.length), [32, 16]);
    const ours = eciesEncrypt(Buffer.from(publicHex, 'hex'), Buffer.from('byte for byte ✓'), { ephemeralSecret: drawn[0]!, nonce: drawn[1]! });
    assert.equal(ours.toString('base64'), theirs.toString('base64'));
    // Random ones, both ways.
    const mine = eciesEncrypt(Buffer.from(publicHex, 'hex'), Buffer.from('from NoteSeal'));
    assert.equal(dotenvx.decrypt(secretHex, `encrypted:${mine.toString('base64')}`), 'from NoteSeal');
    assert.equal(eciesDecrypt(secret, theirs)?.toString(), 'byte for byte ✓');
    const flipped = Buffer.from(theirs); flipped[flipped.length - 1]! ^= 1;
    assert.equal(eciesDecrypt(secret, flipped), null);
    assert.equal(eciesDecrypt(secp256k1.utils.randomSecretKey(), theirs), null);
  });
});

describe('dotenvx: the file', () => {
  it('parses and writes back every byte: BOM, CRLF, export, comments, quotes, multi-line values, no final newline', () => {
    const text = '\uFEFF# top\r\nexport A=1\r\n  B = \'two # not a comment\'  # comment\nC="multi\nline \\" q"\n\nD=`back`\n#end\nE=';
    const items = parseDotenvx(text);
    assert.equal(serializeDotenvx(items), text);
    const values = Object.fromEntries(items.flatMap(i => i.kind === 'entry' ? [[i.name, i.value]] : []));
    assert.deepEqual(values, { A: '1', B: 'two # not a comment', C: 'multi\nline " q', D: 'back', E: '' });
    for (const v of ['plain', 'has "double"', 'both \' and "', 'new\nline and \' and "', 'back\\slash', '']) {
      const [entry] = parseDotenvx(`K=${quoteValue(v)}\n`);
      assert.equal(entry!.kind === 'entry' && entry.value, v);
    }
  });

  it('opens the plain view, saves unchanged bytes, and an edit of one value changes that one line only', () => {
    const file = fileWith({ DB_PASSWORD: 'hunter2', API_KEY: 'k-123' });
    assert.equal(formatOfBytes(Buffer.from(file))?.name, 'dotenvx');
    const { view, state } = openDotenvxText(file, secret);
    assert.ok(view.includes('DB_PASSWORD="hunter2"') && view.includes('API_KEY="k-123"') && view.includes('PLAIN_ONE=plain   # kept as is'));
    assert.equal(saveDotenvxText(view, state), file);
    const edited = saveDotenvxText(view.replace('API_KEY="k-123"', 'API_KEY="k-456"') + 'NEW_ONE=fresh\n', state);
    const [before, after] = [lines(file), lines(edited)];
    assert.deepEqual(before.filter(l => !after.includes(l)).map(l => l.split('=')[0]), ['API_KEY'], 'only the edited line went');
    assert.deepEqual(after.filter(l => !before.includes(l)).map(l => l.split('=')[0]), ['API_KEY', 'NEW_ONE'], 'only it and the new one came');
    const byName = (name: string) => after.find(l => l.startsWith(`${name}=`))!.slice(name.length + 1);
    assert.equal(dotenvx.decrypt(secretHex, JSON.parse(byName('API_KEY')) as string), 'k-456');
    assert.equal(dotenvx.decrypt(secretHex, JSON.parse(byName('NEW_ONE')) as string), 'fresh');
    assert.equal(byName('DB_PASSWORD'), before.find(l => l.startsWith('DB_PASSWORD='))!.slice('DB_PASSWORD='.length));
  });

  it('opens write-only without the private key: values stay encrypted, a new value is encrypted to the public key', async () => {
    const file = fileWith({ DB_PASSWORD: 'hunter2' });
    const opened = await dotenvxFormat.open(Buffer.from(file), { unwrap: async () => { throw new Error('no'); }, ageFileKey: async () => { throw new Error('no'); }, filePassphrase: async () => { throw new Error('no'); } }, '.env');
    const view = opened.plaintext.toString();
    assert.equal(view, file);
    const saved = (await dotenvxFormat.save(Buffer.from(view.replace('PLAIN_ONE=plain', 'PLAIN_ONE=changed')), opened.saveState)).toString();
    const line = lines(saved).find(l => l.startsWith('PLAIN_ONE='))!;
    assert.match(line, /^PLAIN_ONE="encrypted:[A-Za-z0-9+/=]+" {3}# kept as is$/);
    assert.equal(dotenvx.decrypt(secretHex, JSON.parse(line.slice(10, line.indexOf('"   #') + 1)) as string), 'changed');
  });

  it('set: replaces one value in place or appends one, as dotenvx set does', () => {
    const file = fileWith({ A: '1', B: '2' });
    const set = setDotenvxValue(file, 'A', 'one');
    assert.equal(set.added, false);
    assert.deepEqual(lines(set.text).map((l, i) => l === lines(file)[i]), lines(file).map(l => !l.startsWith('A=')));
    const added = setDotenvxValue(file.trimEnd(), 'C', 'three');
    assert.equal(added.added, true);
    assert.equal(added.text.slice(0, file.trimEnd().length), file.trimEnd());
    assert.throws(() => setDotenvxValue(file, 'DOTENV_PUBLIC_KEY', 'x'), /a key, not a value/);
  });

  it('errors name the line and key, never a value: tampered, wrong key, malformed, two public keys, .env.keys', () => {
    const file = fileWith({ DB_PASSWORD: 'hunter2' });
    const tampered = file.replace(/(DB_PASSWORD="encrypted:)(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'));
    assert.throws(() => openDotenvxText(tampered, secret), (e: Error) => isNoteSealError(e, 'CORRUPTED') && /^line 5: the value of DB_PASSWORD does not decrypt/.test(e.message));
    assert.throws(() => openDotenvxText(file, secp256k1.utils.randomSecretKey()), /line 5: the value of DB_PASSWORD/);
    assert.throws(() => parseDotenvx('A=1\nB="never closed\n'), (e: Error) => e instanceof DotenvxParseError && e.line === 2 && !e.message.includes('never closed\n'));
    assert.throws(() => parseDotenvx('ok=1\nthis is not dotenv hunter2\n'), (e: Error) => e.message === 'line 2: expected KEY=VALUE, a # comment or a blank line');
    assert.throws(() => openDotenvxText(`${file}DOTENV_PUBLIC_KEY="${publicHex}"\n`, secret), /line 7: a second public key/);
    assert.throws(() => openDotenvxText(file.replace(publicHex, 'zz' + publicHex.slice(2)), secret), /line 2: DOTENV_PUBLIC_KEY_PRODUCTION is not a compressed/);
    const keys = parseDotenvKeysFile(`# keys\nDOTENV_PRIVATE_KEY_PRODUCTION=${secretHex}\n`);
    assert.equal(Buffer.from(keys[0]!).toString('hex'), secretHex);
    assert.throws(() => parseDotenvKeysFile('DOTENV_PRIVATE_KEY=deadbeef\n'), (e: Error) => /line 1: DOTENV_PRIVATE_KEY is not/.test(e.message) && !e.message.includes('deadbeef'));
  });

  it('property: crafted input parses to the same bytes or gives a typed error naming a line, never a value', () => {
    const CANARY = 'Zq9:canary'; // a ':' cannot be in a key name: the canary is always (part of) a value
    const name = fc.constantFrom('A', 'DB_PASSWORD', 'export B', 'DOTENV_PUBLIC_KEY', 'x.y-z');
    const piece = fc.constantFrom(CANARY, ' ', '"', "'", '`', '#', '=', '\\', '\\n', 'encrypted:', 'encrypted:AAAA', publicHex, '\r', '\t', '\u00e9');
    const value = fc.array(piece, { maxLength: 8 }).map(p => p.join(''));
    const line = fc.oneof(
      fc.tuple(name, fc.constantFrom('=', ' = ', '= '), value).map(([n, s, v]) => `${n}${s}${v}`),
      value.map(v => `# ${v}`),
      fc.constant(''),
      value,
    );
    const text = fc.tuple(fc.array(line, { maxLength: 10 }), fc.constantFrom('\n', '\r\n')).map(([ls, eol]) => ls.join(eol));
    fc.assert(fc.property(text, t => {
      let items;
      try { items = parseDotenvx(t); } catch (e) {
        assert.ok(e instanceof DotenvxParseError, String(e));
        assert.match(e.message, /^line \d+: /);
        assert.ok(!e.message.includes(CANARY), e.message);
        return;
      }
      assert.equal(serializeDotenvx(items), t);
      try { openDotenvxText(t, secret); } catch (e) {
        assert.ok(isNoteSealError(e), String(e));
        assert.ok(!e.message.includes(CANARY), e.message);
      }
    }), { numRuns: 1500 });
  });

  it('property: any value written into the plain view reads back as the same value', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), v => {
      const [entry] = parseDotenvx(`K=${quoteValue(v)}\n`);
      assert.equal(entry!.kind === 'entry' ? entry.value : null, v);
    }), { numRuns: 1000 });
  });
});
