// Regenerates test/vectors/age-hybrid-v1.json (docs/KEYS.md, "Identities": age's post-quantum strings) with
// NoteSeal's own key code (section `noteseal`), beside the pairs age itself publishes (section `published`,
// made by age's Go code, copied by hand from the sources named there and kept as they are).
// Run: npx esbuild test/vectors/generate-age-hybrid.ts --bundle --platform=node --log-level=warning | node
import fs from 'node:fs/promises';
import path from 'node:path';
import { bech32 } from '@scure/base';
import { encodeAgeHybridRecipient } from '../../server/src/keys/identity-strings';
import { wrapToRecipient, xwingPublicOf } from '../../server/src/keys/recipients';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fixed = (seed: number) => new Uint8Array(Array.from({ length: 32 }, (_, i) => (i * 29 + seed) & 255));

async function main(): Promise<void> {
  const here = __dirname.includes('vectors') ? __dirname : path.resolve('test/vectors');
  const file = path.join(here, 'age-hybrid-v1.json');
  // `published` is age's own data, copied by hand with its source; this script keeps it as it is.
  const { published } = JSON.parse(await fs.readFile(file, 'utf8')) as { published: unknown };
  const seed = fixed(23);
  const dataKey = fixed(5);
  const recipient = encodeAgeHybridRecipient(xwingPublicOf(seed));
  const out = {
    about: 'age post-quantum strings (age1pq1…, AGE-SECRET-KEY-PQ-1…): docs/KEYS.md "Identities"; checked by test/unit/sharing/ageHybrid.test.ts with age-encryption (typage) and noble',
    published,
    noteseal: {
      identityFile: `# created: 2026-12-01T12:00:00Z\n# public key: ${recipient}\n${bech32.encode('AGE-SECRET-KEY-PQ-', bech32.toWords(seed), false).toUpperCase()}\n`,
      seedHex: hex(seed),
      recipient,
      dataKeyHex: hex(dataKey),
      stanza5BodyHex: hex(wrapToRecipient({ kind: 'xwing', publicKey: xwingPublicOf(seed) }, dataKey).body),
    },
  };
  await fs.writeFile(file, JSON.stringify(out, null, 2) + '\n');
}
void main();
