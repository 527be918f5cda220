// `node scripts/bench.mjs sops` (issue 27): a sops YAML of 1,000 values (strings, ints, bools, nested)
// opened and edited by NoteSeal's sops format (data key from an age identity, every value decrypted, the MAC
// checked; a save of one changed value: the other 999 keep their ciphertexts, MAC and lastmodified renewed,
// written crash-safely) against the independent reader the tests prove it with, `sops-age` (decrypt only, no
// MAC check), and against NoteSeal's own `.enc` of the same plaintext through the worker's file system, in
// the same run, rounds interleaved, median of 30.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../server/src/crypto/format';
import { ageFileKeyFrom } from '../../server/src/formats/age-format';
import { ageRecipientFor, parseAgeRecipients } from '../../server/src/formats/age-recipients';
import { encryptSopsText, newSopsState, sopsFormat } from '../../server/src/formats/sops';
import type { KeysAtHand } from '../../server/src/formats/types';
import { parseAgeIdentityFile } from '../../server/src/keys/identity-strings';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import { EncFileSystem } from '../../server/src/vault/encFileSystem';
import type { VaultService } from '../../server/src/vault/vaultService';
import { median, timed } from './stats';

const sopsAge = createRequire(__filename)('sops-age') as { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' }): Promise<unknown> };
const VALUES = 1000;
const ROUNDS = 30;
const WRITE = { create: true, overwrite: true };

/** 100 services of 10 values each: strings, an int, a bool, a float. */
function plaintext(): string {
  const lines: string[] = ['# bench: 1,000 values'];
  for (let s = 0; s < VALUES / 10; s++) {
    lines.push(`service_${String(s).padStart(3, '0')}:`);
    for (let k = 0; k < 7; k++) lines.push(`    secret_${k}: value-${s}-${k}-${'x'.repeat(20)}`);
    lines.push(`    port: ${5000 + s}`, '    enabled: true', `    ratio: 0.${s + 1}`);
  }
  return lines.join('\n') + '\n';
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-sops-'));
  try {
    const keygen = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen)![0];
    const recipients = parseAgeRecipients(/# public key: (age1[0-9a-z]+)/.exec(keygen)![1]!, 'bench').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    const keys = { ageFileKey: stanzas => Promise.resolve(ageFileKeyFrom(parseAgeIdentityFile(secretKey), stanzas)) } as KeysAtHand;
    const plain = plaintext();
    const sopsFile = path.join(dir, 'secrets.sops.yaml');
    fs.writeFileSync(sopsFile, encryptSopsText(plain, newSopsState('yaml', recipients, {})).text);

    const { keyring } = await Keyring.init(path.join(dir, 'keyfile.json'), 'sops bench passphrase', { kdf: TEST_KDF_POLICY });
    const files = new EncFileSystem({ unlocked: () => keyring } as unknown as VaultService);
    const encView = path.join(dir, 'same.yaml'); // shown as same.yaml, stored as same.yaml.enc
    await files.writeFile(encView, Buffer.from(plain), WRITE);
    const edited = (n: number) => Buffer.from(plain.replace(/^( {4}secret_0: )value-0-0-\S*/m, `$1changed-${n}`));

    const open = async () => {
      const opened = await sopsFormat.open(fs.readFileSync(sopsFile), keys, sopsFile);
      opened.plaintext.fill(0);
      return opened;
    };
    const times: Record<string, number[]> = {};
    const rows: [string, () => Promise<unknown>][] = [
      [`open sops YAML, NoteSeal (${VALUES} values, MAC)`, async () => { const o = await open(); o.saveState.dataKey.fill(0); }],
      ['open sops YAML, sops-age (no MAC check)', () => sopsAge.decryptSops(fs.readFileSync(sopsFile, 'utf8'), { secretKey, fileType: 'yaml' })],
      ['open .enc of the same text', () => files.readFile(encView)],
      ['edit sops YAML, NoteSeal (open + 1 value + save)', async () => {
        const o = await open();
        try { await writeFileAtomic(sopsFile, await sopsFormat.save(edited(Math.random()), o.saveState)); } finally { o.saveState.dataKey.fill(0); }
      }],
      ['save .enc of the same text (1 value changed)', async () => { await files.stat(encView); await files.writeFile(encView, edited(Math.random()), WRITE); }],
    ];
    for (let i = 0; i < ROUNDS; i++) for (const [name, fn] of rows) (times[name] ??= []).push(await timed(fn));
    console.log(`sops: a ${fs.statSync(sopsFile).size}-byte sops YAML of ${VALUES} values vs sops-age and NoteSeal's .enc of the same ${plain.length}-character text (median of ${ROUNDS})`);
    for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(48)} ${median(v).toFixed(2).padStart(8)} ms`);
    const ratio = (a: number, b: number) => (median(times[rows[a]![0]]!) / median(times[rows[b]![0]]!)).toFixed(2);
    console.log(`  NoteSeal / sops-age: open ${ratio(0, 1)}×; sops / .enc: open ${ratio(0, 2)}×, edit ${ratio(3, 4)}× (a sops open decrypts each value with AES-GCM and hashes them for the MAC; an edit is an open, one value encrypted, the MAC renewed)`);
    keyring.lock();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch(e => { console.error(e); process.exitCode = 1; });
