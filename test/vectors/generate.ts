// Regenerates test/vectors/v1.json. Run: npx esbuild test/vectors/generate.ts --bundle --platform=node --log-level=warning | node
// Vectors use fixed salts so they are reproducible; real files always get a random salt.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encryptBufferDeterministic } from '../../server/src/crypto/format';
import type { Stanza } from '../../server/src/crypto/header';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dataKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const salt = (n: number) => Buffer.from(Array.from({ length: 16 }, (_, i) => (i * 17 + n) & 255));
const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + 7) & 255));
const stanza1: Stanza = { type: 1, body: Buffer.from('example wrapped data key (opaque to the format)') };
const stanza2: Stanza = { type: 2, body: Buffer.from('detached-key-id-0001') };

interface Vector {
  name: string; chunkSize: number; flags: number; saltHex: string; stanzas: { type: number; bodyHex: string }[];
  plaintextHex?: string; plaintextPattern?: { length: number; rule: string }; plaintextSha256?: string; fileHex: string; expect: string;
}
const vectors: Vector[] = [];

function positive(name: string, length: number, opts: { chunkSize?: number; flags?: number; stanzas?: Stanza[]; saltSeed?: number; text?: string } = {}): Buffer {
  const plaintext = opts.text !== undefined ? Buffer.from(opts.text) : pattern(length);
  const chunkSize = opts.chunkSize ?? 1024;
  const stanzas = opts.stanzas ?? [stanza1];
  const s = salt(opts.saltSeed ?? vectors.length);
  const file = encryptBufferDeterministic(plaintext, dataKey, stanzas, { chunkSize, salt: s, flags: opts.flags ?? 0 });
  vectors.push({
    name, chunkSize, flags: opts.flags ?? 0, saltHex: hex(s), stanzas: stanzas.map(x => ({ type: x.type, bodyHex: hex(x.body) })),
    ...(plaintext.length > 4096 && opts.text === undefined
      ? { plaintextPattern: { length: plaintext.length, rule: 'byte i = (31 * i + 7) mod 256' } }
      : { plaintextHex: hex(plaintext) }),
    plaintextSha256: createHash('sha256').update(plaintext).digest('hex'),
    fileHex: hex(file), expect: 'ok',
  });
  return file;
}

function negative(name: string, base: Vector, file: Uint8Array, expect: string): void {
  const { plaintextHex: _p, plaintextPattern: _q, plaintextSha256: _s, ...rest } = base;
  vectors.push({ ...rest, name, fileHex: hex(file), expect });
}

positive('empty plaintext: one empty final chunk', 0);
positive('short text', 0, { text: 'NoteSeal test vector\n' });
positive('one byte less than a chunk', 1023);
const exact = positive('exactly one chunk: a full chunk and an empty final chunk', 1024);
const multi = positive('several chunks, two stanzas', 3000, { stanzas: [stanza1, stanza2] });
const appendFile = positive('append mode (a closed recording)', 2058, { flags: 1 });
positive('no stanzas, 4 KiB chunks', 5000, { chunkSize: 4096, stanzas: [] });
positive('64 KiB default chunk size', 65536 + 100, { chunkSize: 65536 });

const byName = (n: string) => vectors.find(v => v.name.startsWith(n))!;
const frame = 1024 + 17;
const hdr = (stanzaBytes: number) => 31 + 1 + stanzaBytes + 32;
const h1 = hdr(3 + stanza1.body.length);
const h2 = hdr(3 + stanza1.body.length + 3 + stanza2.body.length);

negative('truncated at a chunk boundary', byName('exactly one chunk'), exact.subarray(0, h1 + frame), 'TRUNCATED');
negative('truncated inside a chunk', byName('several chunks'), multi.subarray(0, h2 + frame + 100), 'TRUNCATED');
negative('recording without its final chunk', byName('append mode'), appendFile.subarray(0, h1 + 2 * frame), 'UNFINISHED');
negative('a byte after the final chunk', byName('several chunks'), Buffer.concat([multi, Buffer.of(0)]), 'TRAILING_DATA');
const swapped = Buffer.from(multi);
multi.copy(swapped, h2, h2 + frame, h2 + 2 * frame);
multi.copy(swapped, h2 + frame, h2, h2 + frame);
negative('first two chunks swapped', byName('several chunks'), swapped, 'CORRUPTED');
const dropped = Buffer.concat([multi.subarray(0, h2), multi.subarray(h2 + frame)]);
negative('first chunk dropped', byName('several chunks'), dropped, 'CORRUPTED');
const macFlip = Buffer.from(exact); macFlip[h1 - 1]! ^= 1;
negative('header MAC altered', byName('exactly one chunk'), macFlip, 'WRONG_KEY');
const stanzaFlip = Buffer.from(exact); stanzaFlip[40]! ^= 0x80;
negative('stanza body altered', byName('exactly one chunk'), stanzaFlip, 'WRONG_KEY');
const v2 = Buffer.from(exact); v2[8] = 2;
negative('version 2', byName('exactly one chunk'), v2, 'UNSUPPORTED_VERSION');
const suite2 = Buffer.from(exact); suite2[9] = 2;
negative('suite 2 (not yet defined)', byName('exactly one chunk'), suite2, 'UNSUPPORTED_VERSION');
const magic = Buffer.from(exact); magic[1] = 0x4f;
negative('wrong magic', byName('exactly one chunk'), magic, 'NOT_NOTESEAL');
const small = Buffer.from(exact); small.writeUInt32BE(512, 11);
negative('chunk size below the limit', byName('exactly one chunk'), small, 'LIMIT_EXCEEDED');
const finalLen = Buffer.from(exact); finalLen.writeUInt32BE(1024, h1 + frame + 1);
negative('final chunk claims a full chunk', byName('exactly one chunk'), finalLen, 'CORRUPTED');
const tagFlip = Buffer.from(multi); tagFlip[multi.length - 1]! ^= 1;
negative('final tag altered', byName('several chunks'), tagFlip, 'CORRUPTED');

const out = {
  format: 'NoteSeal .enc version 1 (docs/FORMAT.md)',
  dataKeyHex: hex(dataKey),
  note: 'All vectors use dataKeyHex. Negative vectors (expect != "ok") must fail with that error and release no plaintext.',
  vectors,
};
const target = path.join(process.cwd(), 'test/vectors/v1.json');
writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${vectors.length} vectors to ${target}`);
