// `node scripts/bench.mjs dotenvx` (issue 27): a dotenvx `.env.production` of 200 values opened and saved
// through the worker's editor path (EncFileSystem: what a `noteseal:` read and save do, without IPC) against
// NoteSeal's own `.enc` of the same text, in the same run, rounds interleaved, median of 30. The dotenvx open
// decrypts 200 ECIES values (one secp256k1 ECDH each); its save re-reads the file and encrypts one changed value.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eciesEncrypt } from '../../server/src/formats/dotenvx-ecies';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import { EncFileSystem } from '../../server/src/vault/encFileSystem';
import type { VaultService } from '../../server/src/vault/vaultService';
import { median, timed } from './stats';

const VALUES = 200;
const ROUNDS = 30;
const WRITE = { create: true, overwrite: true };

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-dotenvx-'));
  try {
    const { keyring } = await Keyring.init(path.join(dir, 'keyfile.json'), 'dotenvx bench passphrase', { kdf: TEST_KDF_POLICY });
    const secret = secp256k1.utils.randomSecretKey();
    const publicKey = secp256k1.getPublicKey(secret, true);
    await keyring.importDotenvxKeys([secret]);
    const names = Array.from({ length: VALUES }, (_, i) => `SECRET_${String(i).padStart(3, '0')}`);
    const value = (i: number) => `value-${i}-${'x'.repeat(24)}`;
    const header = `#/---[DOTENV_PUBLIC_KEY]---/\nDOTENV_PUBLIC_KEY_PRODUCTION="${Buffer.from(publicKey).toString('hex')}"\n\n`;
    const dotenvxFile = path.join(dir, '.env.production');
    fs.writeFileSync(dotenvxFile, header + names.map((n, i) => `${n}="encrypted:${eciesEncrypt(publicKey, Buffer.from(value(i))).toString('base64')}"\n`).join(''));
    const files = new EncFileSystem({ unlocked: () => keyring } as unknown as VaultService);
    const view = (await files.readFile(dotenvxFile)).toString();
    const encView = path.join(dir, 'same.env'); // shown as same.env, stored as same.env.enc
    await files.writeFile(encView, Buffer.from(view), WRITE);
    const edited = (n: number) => Buffer.from(view.replace(/^(SECRET_000=")[^"]*/m, `$1changed-${n}`));

    const times: Record<string, number[]> = {};
    const rows: [string, () => Promise<unknown>][] = [
      [`open dotenvx .env (${VALUES} values)`, () => files.readFile(dotenvxFile)],
      [`open .enc of the same text`, () => files.readFile(encView)],
      [`save dotenvx .env (1 value changed)`, async () => { await files.stat(dotenvxFile); await files.writeFile(dotenvxFile, edited(Math.random()), WRITE); }],
      [`save .enc of the same text`, async () => { await files.stat(encView); await files.writeFile(encView, edited(Math.random()), WRITE); }],
    ];
    for (let i = 0; i < ROUNDS; i++) for (const [name, fn] of rows) (times[name] ??= []).push(await timed(fn));
    console.log(`dotenvx: a ${fs.statSync(dotenvxFile).size}-byte .env of ${VALUES} values vs NoteSeal's .enc of the same ${view.length}-character text (worker path, median of ${ROUNDS})`);
    for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(40)} ${median(v).toFixed(2).padStart(8)} ms`);
    const ratio = (a: string, b: string) => (median(times[a]!) / median(times[b]!)).toFixed(2);
    console.log(`  dotenvx / .enc: open ${ratio(rows[0]![0], rows[1]![0])}×, save ${ratio(rows[2]![0], rows[3]![0])}× (a dotenvx open is one secp256k1 ECDH per value; a save re-reads and decrypts the file to keep unchanged values byte for byte)`);
    keyring.lock();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch(e => { console.error(e); process.exitCode = 1; });
