// A minimum bar for a new passphrase. Argon2id makes each guess cost about a second, but a short or
// common passphrase still falls to a targeted guesser; we ask for length and variety, and explain.
// Pure: no VS Code import, so unit tests run it in plain Node.

export const MIN_PASSPHRASE_LENGTH = 12;

const COMMON = ['password', 'passphrase', 'qwerty', 'letmein', 'welcome', 'noteseal', 'iloveyou', 'admin', 'secret', '123456', 'abc123'];

/** Rough entropy: length × log2(alphabet actually used), discounted for repeats. */
export function estimateBits(p: string): number {
  let alphabet = 0;
  if (/[a-z]/.test(p)) alphabet += 26;
  if (/[A-Z]/.test(p)) alphabet += 26;
  if (/[0-9]/.test(p)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(p)) alphabet += 33;
  const distinct = new Set([...p]).size;
  const effectiveLength = Math.min([...p].length, distinct * 2);
  return effectiveLength * Math.log2(Math.max(alphabet, 1));
}

/** Why the passphrase is too weak, or undefined when it is acceptable. */
export function passphraseProblem(p: string): string | undefined {
  if ([...p].length < MIN_PASSPHRASE_LENGTH) return `Use at least ${MIN_PASSPHRASE_LENGTH} characters (a few unrelated words work well).`;
  const lower = p.toLowerCase();
  if (COMMON.some(w => lower.includes(w)) && estimateBits(p.replace(new RegExp(COMMON.join('|'), 'gi'), '')) < 40) return 'Avoid common words like "password" as most of the passphrase.';
  if (new Set([...p]).size < 6) return 'Use more different characters: this passphrase repeats too much.';
  if (estimateBits(p) < 50) return 'Make it longer or mix in other kinds of characters.';
  return undefined;
}
