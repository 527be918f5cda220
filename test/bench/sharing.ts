// `node scripts/bench.mjs sharing`: what recipients cost (issue 13: 10 recipients must add under 5 ms to an
// open, with the header size). Opens a 1 KiB note (unwrap + header MAC + decrypt, as the worker does) by the
// writer and by a member, with 1 and with 10 members, and a save's cost of wrapping to 10 members.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decryptBuffer, encryptBuffer, parseHeader } from '../../server/src/crypto/format';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import type { PublicIdentity } from '../../server/src/keys/identity-strings';
import { median } from './stats';

const ROUNDS = 40;

async function time(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(); // warm up (JIT, first-use key expansion)
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) { const t = performance.now(); await fn(); out.push(performance.now() - t); }
  return median(out);
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-bench-sharing-'));
  const people = await Promise.all(Array.from({ length: 10 }, (_, i) => Keyring.init(path.join(dir, `k${i}`, 'keyfile.json'), 'bench passphrase', { kdf: TEST_KDF_POLICY })));
  const [writer, member] = [people[0]!.keyring, people[1]!.keyring];
  const ids: PublicIdentity[] = [];
  for (const p of people) ids.push((await p.keyring.identity())!.public);
  const note = Buffer.alloc(1024, 'x');
  const fileFor = async (n: number) => {
    const { dataKey, stanzas } = await writer.newFileStanzas({ recipients: ids.slice(0, n) });
    return encryptBuffer(note, dataKey, stanzas);
  };
  const alone = await fileFor(0);
  const two = await fileFor(2);
  const ten = await fileFor(10);
  const writerAlone = await time(() => decryptBuffer(alone, writer.unwrap));
  const writerTen = await time(() => decryptBuffer(ten, writer.unwrap));
  const memberTwo = await time(() => decryptBuffer(two, member.unwrap));
  const memberTen = await time(() => decryptBuffer(ten, member.unwrap));
  const wrapTen = await time(() => writer.newFileStanzas({ recipients: ids }));
  const wrapNone = await time(() => writer.newFileStanzas());
  const h = (f: Buffer) => parseHeader(f).headerLength;
  console.log(`Sharing bench: 1 KiB note, X-Wing identities, median of ${ROUNDS} (ms), node ${process.version}, ${os.availableParallelism()} CPUs`);
  console.log('| open of a 1 KiB note | ms | header bytes |');
  console.log('|---|---|---|');
  console.log(`| writer, not shared (type-1 stanza only) | ${writerAlone.toFixed(3)} | ${h(alone)} |`);
  console.log(`| writer, 10 members (9 X-Wing stanzas beside type 1) | ${writerTen.toFixed(3)} | ${h(ten)} |`);
  console.log(`| member, 2 members (one X-Wing decapsulation) | ${memberTwo.toFixed(3)} | ${h(two)} |`);
  console.log(`| member, 10 members (still one decapsulation: recipient ids) | ${memberTen.toFixed(3)} | ${h(ten)} |`);
  console.log(`Save: new data key + stanzas: alone ${wrapNone.toFixed(3)} ms, to 10 members ${wrapTen.toFixed(1)} ms (one X-Wing encapsulation each).`);
  const addedWriter = writerTen - writerAlone;
  const addedMember = memberTen - memberTwo;
  const verdict = (v: number) => (v < 5 ? 'met    ' : 'NOT met');
  console.log(`Targets (issue 13):`);
  console.log(`  ${verdict(addedWriter)} 10 recipients add ${addedWriter.toFixed(3)} ms to the writer's open (target < 5 ms), header ${h(ten)} bytes`);
  console.log(`  ${verdict(addedMember)} 10 recipients add ${addedMember.toFixed(3)} ms to a member's open vs 2 members (target < 5 ms); the member's one decapsulation costs ${(memberTwo - writerAlone).toFixed(2)} ms`);
  for (const p of people) p.keyring.lock();
  await fs.rm(dir, { recursive: true, force: true });
}
void main();
