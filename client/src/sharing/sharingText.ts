// The words NoteSeal shows about who can read a file and who wrote it (pure: unit-tested without VS Code).
import type { PendingList, SharingFacts } from '../../../server/src/protocol';

/** One line per member and the writer, for the modal and for tests. */
export function describeFacts(f: SharingFacts): string {
  const lines: string[] = [];
  if (!f.listFile) lines.push('This file is not shared: only your keyfile opens it.');
  else {
    lines.push(`Shared by ${f.listFile}:`);
    for (const m of f.members) lines.push(`• ${m.name} (${m.kind}, ${m.identity.slice(0, 16)}…)`);
    if (f.listProblem) lines.push(`The list is refused: ${f.listProblem}`);
  }
  const w = f.writer;
  lines.push(w.state === 'valid' ? `Last written by ${w.name ?? (w.byYou ? 'you' : `${f.listFile ? 'a key outside the list' : 'another key'} (${w.signer?.slice(0, 16)}…)`)} on ${w.at}.`
    : w.state === 'unsigned' ? 'Last written without a signature (by an older NoteSeal, or through the agent).'
      : 'Its write signature is invalid.');
  if (w.warning) lines.push(`Warning: ${w.warning}`);
  return lines.join('\n');
}

/** The lock badge's tooltip line about the writer. */
export function writerTooltip(f: SharingFacts): string {
  const w = f.writer;
  const who = w.state === 'valid' ? `Last written by ${w.name ?? (w.byYou ? 'you' : f.listFile ? 'a key outside the recipients list' : 'another key')}${w.at ? ` on ${w.at.replace('T', ' ').slice(0, 16)} UTC` : ''}`
    : w.state === 'unsigned' ? 'Not signed by its writer' : 'Its write signature is INVALID';
  return f.listFile ? `${who}; shared with ${f.members.length} member(s)` : who;
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

const WHY: Record<PendingList['reason'], string> = {
  'new': 'This machine has not accepted this list yet. A list met for the first time (or a new list in a subfolder) decides who can read what you save here.',
  'previously-pinned': 'You used this list before. NoteSeal now asks once before encrypting to a list: check that these are the people you share this folder with.',
  'rewritten': 'WARNING: this list does not extend the one you accepted: its history was rewritten, replaced or rolled back. Accept only if you know why.',
  'replaced': 'WARNING: this is a different list from the one you accepted for this folder. Accept only if you know why.',
};

/** The acceptance modal's text (listAcceptance.ts): why, then one line per member with key fingerprint and who signed them in. */
export function acceptanceText(p: PendingList, relativeFolder: string): { message: string; detail: string } {
  return {
    message: `Encrypt to the ${p.members.length} members of the recipients list of ${relativeFolder}?`,
    detail: [WHY[p.reason], '', ...p.members.map(m => `• ${m.name} — key ${m.fingerprint} (${m.kind}), signed in by ${m.addedBy}${m.addedAt ? ` on ${m.addedAt.slice(0, 10)}` : ''}`),
      '', 'Nothing was saved yet. If you do not accept, the save fails and your changes stay in the editor.'].join('\n'),
  };
}
