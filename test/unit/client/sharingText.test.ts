// What NoteSeal says about a file's readers and writer: the modal, the tooltip and the warning on open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptanceText, ageAcceptanceText, describeAgeFile, describeDotenvxFile, describeFacts, describeSopsFile, identityKindLabel, members, openWarning, writerTooltip } from '../../../client/src/sharing/sharingText';
import type { SharingFacts } from '../../../server/src/protocol';

const shared: SharingFacts = {
  listFile: '/repo/.noteseal/recipients',
  members: [{ name: 'alice', identity: 'noteseal1' + 'q'.repeat(40), kind: 'xwing' }, { name: 'bob', identity: 'age1' + 'q'.repeat(40), kind: 'x25519' }],
  access: { you: true, yourName: 'alice', readers: ['alice', 'bob'], notYet: [], unlisted: 0 },
  writer: { state: 'valid', name: 'bob', signer: 'ab'.repeat(32), at: '2026-12-01T12:03:00.000Z' },
};

test('readers, the last writer and when (as the tab tooltip writes times); no warning for a member\'s valid signature', () => {
  const text = describeFacts(shared);
  assert.match(text, /^Who can read this file: you, bob \(age1qqqqqqqqqqqq…\)\.\nEvery member of \/repo\/\.noteseal\/recipients can read it\./);
  assert.doesNotMatch(text, /xwing|x25519/, 'no algorithm names');
  assert.match(text, /Last written by bob on 2026-12-01 12:03 UTC\./);
  assert.equal(writerTooltip(shared), 'Last written by bob on 2026-12-01 12:03 UTC; readable by 2 of 2 members');
  assert.equal(openWarning(shared), undefined);
});

test('a member added after the last save is listed as not shared yet, never as a reader', () => {
  const before: SharingFacts = { ...shared, access: { you: true, yourName: 'alice', readers: ['alice'], notYet: ['bob'], unlisted: 0 } };
  const text = describeFacts(before);
  assert.match(text, /^Who can read this file: you\.\n/);
  assert.match(text, /Not shared yet with bob \(age1qqqqqqqqqqqq…\): the file was last saved before they were added/);
  assert.equal(writerTooltip(before), 'Last written by bob on 2026-12-01 12:03 UTC; readable by 1 of 2 members (not yet: bob)');
  assert.match(describeFacts({ ...before, access: { ...before.access, unlisted: 1 } }), /also encrypted to 1 key\(s\) not on the list/);
  assert.equal(members(1), '1 member');
  assert.equal(members(3), '3 members');
});

test('an unsigned shared file, a non-member signer and a refused list open with a warning', () => {
  assert.match(openWarning({ ...shared, writer: { state: 'unsigned', warning: 'x is in a shared folder but is not signed' } })!, /not signed/);
  const stranger: SharingFacts = { ...shared, writer: { state: 'valid', signer: 'cd'.repeat(32), at: shared.writer.at!, warning: 'signed by cdcd…, who is not a member' } };
  assert.match(describeFacts(stranger), /Last written by a key outside the list \(cdcdcdcdcdcdcdcd…\)/);
  assert.match(writerTooltip(stranger), /^Last written by a key outside the recipients list/);
  assert.match(openWarning({ ...shared, listProblem: 'Entry 3 adds "carol" but is not signed by a member' })!, /recipients list is refused: Entry 3 adds "carol"/);
  assert.equal(writerTooltip({ listFile: null, members: [], access: { you: true, readers: [], notYet: [], unlisted: 0 }, writer: { state: 'unsigned' } }), 'Not signed by its writer');
});

test('a private note (no list) names its writer as you, or as another key, never as someone outside a list', () => {
  const mine: SharingFacts = { listFile: null, members: [], access: { you: true, readers: [], notYet: [], unlisted: 0 }, writer: { state: 'valid', signer: 'ab'.repeat(32), byYou: true, at: '2026-12-01T12:03:00.000Z' } };
  assert.match(describeFacts(mine), /^This file is not shared: only your keyfile opens it\.\nLast written by you on 2026-12-01 12:03 UTC\.$/);
  assert.equal(writerTooltip(mine), 'Last written by you on 2026-12-01 12:03 UTC');
  const other: SharingFacts = { ...mine, writer: { state: 'valid', signer: 'cd'.repeat(32), at: mine.writer.at! } };
  assert.match(describeFacts(other), /Last written by another key \(cdcdcdcdcdcdcdcd…\) on /);
  assert.equal(writerTooltip(other), 'Last written by another key on 2026-12-01 12:03 UTC');
});

test('the acceptance modal names every member, their key fingerprint and who signed them in; a rewritten list is a warning', () => {
  const members = [
    { name: 'alice', fingerprint: '0a1b 2c3d 4e5f 6a7b', kind: 'xwing', identity: 'noteseal1qqqq', addedBy: 'alice', addedAt: '2026-11-20T10:00:00.000Z' },
    { name: 'ci', fingerprint: '9f8e 7d6c 5b4a 3928', kind: 'x25519', identity: 'age1qqqq', addedBy: 'alice', addedAt: '2026-11-21T10:00:00.000Z' },
    { name: 'pq', fingerprint: '1111 2222 3333 4444', kind: 'xwing', identity: 'age1pq1qqqq', addedBy: 'ci', addedAt: '' },
  ];
  const { message, detail } = acceptanceText({ listFile: '/r/config/.noteseal/recipients', folder: '/r/config', reason: 'new', head: 'h', members }, 'config');
  assert.equal(message, 'Encrypt to the 3 members of the recipients list of config?');
  assert.match(detail, /^This machine has not accepted this list yet/);
  // The kind of key in words, never an algorithm name (issue 25).
  assert.match(detail, /• alice — NoteSeal identity, fingerprint 0a1b 2c3d 4e5f 6a7b, signed in by alice on 2026-11-20\n/);
  assert.match(detail, /• ci — age key, fingerprint 9f8e 7d6c 5b4a 3928, signed in by alice on 2026-11-21\n/);
  assert.match(detail, /• pq — age post-quantum key, fingerprint 1111 2222 3333 4444, signed in by ci\n/);
  assert.doesNotMatch(detail, /xwing|x25519/);
  assert.match(detail, /Nothing was saved yet/);
  assert.match(acceptanceText({ listFile: '', folder: '', reason: 'rewritten', head: '', members }, 'x').detail, /^WARNING: .*rewritten/);
  assert.match(acceptanceText({ listFile: '', folder: '', reason: 'previously-pinned', head: '', members }, 'x').detail, /^You used this list before/);
});

test('identity kinds in words', () => {
  assert.equal(identityKindLabel('noteseal1qqqq'), 'NoteSeal identity');
  assert.equal(identityKindLabel('age1pq1qqqq'), 'age post-quantum key');
  assert.equal(identityKindLabel('age1qqqq'), 'age key');
});

test('an age file (issue 26): stanza types, who the next save is for, and never a writer; its list acceptance names every recipient', () => {
  const text = describeAgeFile({ file: '/s/a.md.age', armored: true, passphrase: false, stanzaTypes: 'X25519 ×2',
    nextSave: { source: '/s/.age-recipients', recipients: ['age1' + 'q'.repeat(20), 'age1pq1' + 'p'.repeat(20)] } }, 's/a.md.age', 's/.age-recipients');
  assert.match(text, /^s\/a\.md\.age is an age file \(ASCII-armored\)\.\nIts header is encrypted to: X25519 ×2\. An age header does not name its recipients\./);
  assert.match(text, /Your next save encrypts it to \(from s\/\.age-recipients\):\n• age1q+\n• age1pq1p+\n/);
  assert.match(text, /Written by: no one can be named\. age files carry no signature/);
  assert.doesNotMatch(text, /Last written by/);
  const refused = describeAgeFile({ file: '/s/b.age', armored: false, passphrase: false, stanzaTypes: 'mlkem768x25519', nextSaveProblem: 'not accepted' }, 'b.age');
  assert.match(refused, /Your next save: not accepted/);
  const { message, detail } = ageAcceptanceText({ listFile: '/s/.age-recipients', folder: '/s', reason: 'changed', at: '2026-12-01T12:03:00.000Z', sha256: 'a'.repeat(64), recipients: ['age1x', 'age1y'] }, 's/.age-recipients');
  assert.equal(message, 'Encrypt this age file to the 2 recipients of s/.age-recipients?');
  assert.match(detail, /changed since you accepted it on 2026-12-01 12:03 UTC/);
  assert.match(detail, /• age1x\n• age1y/);
});

test('a sops file and a dotenvx file (issue 27): every master key, the public key, whether you hold its private key, never a writer', () => {
  const sops = describeSopsFile({ file: '/r/deploy/prod.yaml', store: 'yaml', masterKeys: ['age age1' + 'q'.repeat(20), 'PGP FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4', 'AWS KMS arn:aws:kms:eu-west-1:1:key/k'] }, 'deploy/prod.yaml');
  assert.match(sops, /^deploy\/prod\.yaml is a sops file \(yaml\)\.\nIts data key is wrapped to each of these keys; whoever holds one reads every value:\n• age age1q+\n• PGP FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n• AWS KMS arn:aws:kms:eu-west-1:1:key\/k\n/);
  assert.match(sops, /NoteSeal opens sops files with age keys only/);
  assert.match(sops, /Written by: no one can be named\. sops files carry no signature/);
  assert.doesNotMatch(describeSopsFile({ file: '/a.yaml', store: 'yaml', masterKeys: ['age age1x'] }, 'a.yaml'), /age keys only/);
  const d = { file: '/r/.env.production', publicKeyName: 'DOTENV_PUBLIC_KEY_PRODUCTION', publicKey: '02' + 'ab'.repeat(32) };
  const none = describeDotenvxFile({ ...d, privateKey: 'none' }, '.env.production');
  assert.match(none, /^\.env\.production is a dotenvx file\.\nEach value is encrypted to its DOTENV_PUBLIC_KEY_PRODUCTION: 02(ab){32}\n/);
  assert.match(none, /You do not hold its private key: the file opens write-only here/);
  assert.match(describeDotenvxFile({ ...d, privateKey: 'key store' }, '.env.production'), /You hold its private key: imported into your key store\./);
  assert.match(describeDotenvxFile({ ...d, privateKey: 'environment' }, '.env.production'), /You hold its private key: in the environment/);
  assert.match(none, /Written by: no one can be named\. dotenvx files carry no signature/);
});
