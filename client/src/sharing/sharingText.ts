// The words NoteSeal shows about who can read a file and who wrote it (pure: unit-tested without VS Code).
import type { AgeFileDescription, DotenvxFileDescription, PendingAgeList, PendingList, SharingFacts, SopsFileDescription } from '../../../server/src/protocol';
import { l10n } from '../shared/l10n';

/** A signature time as the tab tooltip shows it: `2026-12-06 09:48 UTC`. */
export function utcMinute(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 16)} UTC`;
}

/**
 * The modal's text: who the file itself is encrypted to (its own stanzas, never the list alone), the list's
 * members it is not encrypted to yet, and the writer. One fact per line, for the modal and for tests.
 */
export function describeFacts(f: SharingFacts): string {
  const lines: string[] = [];
  const a = f.access;
  const short = (name: string) => { const m = f.members.find(x => x.name === name); return m ? `${name} (${m.identity.slice(0, 16)}…)` : name; };
  if (!f.listFile) lines.push(a.unlisted ? l10n.t('This folder is not shared, but this file is also encrypted to {0} other key(s).', a.unlisted) : l10n.t('This file is not shared: only your keyfile opens it.'));
  else {
    const readers = a.readers.filter(n => n !== a.yourName);
    lines.push(l10n.t('Who can read this file: {0}.', [...(a.you ? [l10n.t('you')] : []), ...readers.map(short)].join(', ') || l10n.t('nobody on the list')));
    if (a.notYet.length) lines.push(l10n.t('Not shared yet with {0}: the file was last saved before they were added to {1}. Saving it again encrypts it to them.', a.notYet.map(short).join(', '), f.listFile));
    else lines.push(l10n.t('Every member of {0} can read it.', f.listFile));
    if (a.unlisted) lines.push(l10n.t('It is also encrypted to {0} key(s) not on the list (a removed member can still read this version).', a.unlisted));
    if (f.listProblem) lines.push(l10n.t('The list is refused: {0}', f.listProblem));
  }
  const w = f.writer;
  const at = w.at ? utcMinute(w.at) : '';
  lines.push(w.state === 'valid' ? l10n.t('Last written by {0} on {1}.', w.name ?? (w.byYou ? l10n.t('you') : `${f.listFile ? l10n.t('a key outside the list') : l10n.t('another key')} (${w.signer?.slice(0, 16)}…)`), at)
    : w.state === 'unsigned' ? l10n.t('Last written without a signature (by an older NoteSeal, or through the agent).')
      : l10n.t('Its write signature is invalid.'));
  if (w.warning) lines.push(l10n.t('Warning: {0}', w.warning));
  return lines.join('\n');
}

/** The lock badge's tooltip line about the writer. */
export function writerTooltip(f: SharingFacts): string {
  const w = f.writer;
  const who = w.state === 'valid' ? `Last written by ${w.name ?? (w.byYou ? 'you' : f.listFile ? 'a key outside the recipients list' : 'another key')}${w.at ? ` on ${utcMinute(w.at)}` : ''}`
    : w.state === 'unsigned' ? 'Not signed by its writer' : 'Its write signature is INVALID';
  if (!f.listFile) return who;
  const n = f.access.readers.length;
  return `${who}; ${l10n.t('readable by {0} of {1}', n, members(f.members.length))}${f.access.notYet.length ? ` (${l10n.t('not yet: {0}', f.access.notYet.join(', '))})` : ''}`;
}

/** "1 member", "2 members". */
export function members(n: number): string {
  return n === 1 ? l10n.t('1 member') : l10n.t('{0} members', n);
}

/** The warning a note opens with, or undefined when there is nothing to warn about. */
export function openWarning(f: SharingFacts): string | undefined {
  return f.writer.warning ?? (f.listProblem ? `this folder's recipients list is refused: ${f.listProblem}` : undefined);
}

/**
 * Why text pasted as a member's public identity cannot be one, or undefined: the shape only (noteseal1…,
 * age1… or age1pq1… in the bech32 alphabet); the worker parses it fully. A pasted secret key is named as such.
 */
export function identityInputProblem(value: string): string | undefined {
  const v = value.trim();
  if (/^AGE-SECRET-KEY-/i.test(v)) return 'That is a secret key: paste its public key (age1… or age1pq1…, what age-keygen -y prints), and keep the secret key to yourself.';
  return /^(noteseal1|age1pq1|age1)[02-9ac-hj-np-z]+$/.test(v) ? undefined : 'A public identity starts with noteseal1, age1 or age1pq1.';
}

const WHY: Record<PendingList['reason'], () => string> = {
  'new': () => l10n.t('This machine has not accepted this list yet. A list met for the first time (or a new list in a subfolder) decides who can read what you save here.'),
  'previously-pinned': () => l10n.t('You used this list before. NoteSeal now asks once before encrypting to a list: check that these are the people you share this folder with.'),
  'rewritten': () => l10n.t('WARNING: this list does not extend the one you accepted: its history was rewritten, replaced or rolled back. Accept only if you know why.'),
  'replaced': () => l10n.t('WARNING: this is a different list from the one you accepted for this folder. Accept only if you know why.'),
};

/**
 * The acceptance modal's text (listAcceptance.ts): why, then one line per member with key fingerprint, the
 * kind of key in words (issue 25: no algorithm names) and who signed them in.
 */
export function acceptanceText(p: PendingList, relativeFolder: string): { message: string; detail: string } {
  const line = (m: PendingList['members'][number]) => m.addedAt
    ? l10n.t('• {0} — {1}, fingerprint {2}, signed in by {3} on {4}', m.name, identityKindLabel(m.identity), m.fingerprint, m.addedBy, m.addedAt.slice(0, 10))
    : l10n.t('• {0} — {1}, fingerprint {2}, signed in by {3}', m.name, identityKindLabel(m.identity), m.fingerprint, m.addedBy);
  return {
    message: l10n.t('Encrypt to the {0} of the recipients list of {1}?', members(p.members.length), relativeFolder),
    detail: [WHY[p.reason](), '', ...p.members.map(line),
      '', l10n.t('Nothing was saved yet. If you do not accept, the save fails and your changes stay in the editor.')].join('\n'),
  };
}

/** The modal's text for a `.age-recipients` (issue 26): unsigned, so the user reads every recipient before NoteSeal encrypts to it. */
export function ageAcceptanceText(p: PendingAgeList, relativeList: string): { message: string; detail: string } {
  return {
    message: l10n.t('Encrypt this age file to the {0} recipients of {1}?', p.recipients.length, relativeList),
    detail: [
      p.reason === 'changed'
        ? l10n.t('This .age-recipients changed since you accepted it on {0}. It is not signed: anyone who can write to the folder can add a recipient there.', utcMinute(p.at ?? ''))
        : l10n.t('This machine has not accepted this .age-recipients yet. It is not signed: anyone who can write to the folder can add a recipient there.'),
      '', ...p.recipients.map(r => `• ${r}`),
      '', l10n.t('Nothing was saved yet. If you do not accept, the save fails and your changes stay in the editor.'),
    ].join('\n'),
  };
}

/** Said wherever NoteSeal would show a writer: an age file has none (issue 26). */
export function ageNoWriter(): string {
  return l10n.t('Written by: no one can be named. age files carry no signature, so anyone who knows a recipient can write one.');
}

/** Said wherever NoteSeal would show a writer: a dotenvx file has none (issue 27). */
export function dotenvxNoWriter(): string {
  return l10n.t('Written by: no one can be named. dotenvx files carry no signature, so anyone who can write the file can change a value.');
}

/** "Who Can Read This File?" for a dotenvx file: its DOTENV_PUBLIC_KEY, whether you hold the private key, and no writer. */
export function describeDotenvxFile(d: DotenvxFileDescription, relativeFile: string): string {
  return [
    l10n.t('{0} is a dotenvx file.', relativeFile),
    l10n.t('Each value is encrypted to its {0}: {1}', d.publicKeyName, d.publicKey),
    l10n.t('Whoever holds the private key of that public key (a .env.keys file, DOTENV_PRIVATE_KEY…) reads every value. Your saves encrypt changed and new values to that same key.'),
    d.privateKey === 'none'
      ? l10n.t('You do not hold its private key: the file opens write-only here (values shown encrypted; new values are encrypted to the public key).')
      : d.privateKey === 'environment'
        ? l10n.t('You hold its private key: in the environment NoteSeal was started with (DOTENV_PRIVATE_KEY…).')
        : l10n.t('You hold its private key: imported into your key store.'),
    dotenvxNoWriter(),
  ].join('\n');
}

/** Said wherever NoteSeal would show a writer: a sops file has none (issue 27). */
export function sopsNoWriter(): string {
  return l10n.t('Written by: no one can be named. sops files carry no signature: their MAC is made with the data key, so anyone who can open the file can have written it.');
}

/** "Who Can Read This File?" for a sops file: every master key its metadata names (its data key is wrapped to each), and no writer. */
export function describeSopsFile(d: SopsFileDescription, relativeFile: string): string {
  const age = d.masterKeys.filter(k => k.startsWith('age '));
  const others = d.masterKeys.filter(k => !k.startsWith('age '));
  return [
    l10n.t('{0} is a sops file ({1}).', relativeFile, d.store),
    d.masterKeys.length ? l10n.t('Its data key is wrapped to each of these keys; whoever holds one reads every value:') : l10n.t('Its metadata names no key: no one can open it.'),
    ...age.map(k => `• ${k}`),
    ...others.map(k => `• ${k}`),
    ...(others.length ? [l10n.t('NoteSeal opens sops files with age keys only; the others are kept as they are on every save.')] : []),
    l10n.t('Saves keep these recipients; NoteSeal: Update sops Keys from .sops.yaml applies the accepted .sops.yaml rule.'),
    sopsNoWriter(),
  ].join('\n');
}

/** "Who Can Read This File?" for an age file: the header's stanza types, who the next save is for, and no writer. */
export function describeAgeFile(d: AgeFileDescription, relativeFile: string, relativeSource?: string): string {
  const lines = [l10n.t('{0} is an age file ({1}).', relativeFile, d.armored ? l10n.t('ASCII-armored') : l10n.t('binary'))];
  if (d.passphrase) lines.push(l10n.t('It is protected by a passphrase: whoever knows that passphrase can read it.'));
  else lines.push(l10n.t('Its header is encrypted to: {0}. An age header does not name its recipients.', d.stanzaTypes));
  if (d.nextSave) lines.push(l10n.t('Your next save encrypts it to (from {0}):', relativeSource ?? d.nextSave.source), ...d.nextSave.recipients.map(r => `• ${r}`));
  if (d.nextSaveProblem) lines.push(l10n.t('Your next save: {0}', d.nextSaveProblem));
  lines.push(ageNoWriter());
  return lines.join('\n');
}

/** What kind of public identity `identity` is, in words (not "xwing" or "x25519"). */
export function identityKindLabel(identity: string): string {
  return identity.startsWith('noteseal1') ? l10n.t('NoteSeal identity') : identity.startsWith('age1pq1') ? l10n.t('age post-quantum key') : l10n.t('age key');
}
