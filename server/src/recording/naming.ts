// File names of recordings: "2026-11-23 1405 Weekly sync.wav.enc", in local time, safe on every OS.

export const RECORDING_SUFFIX = '.wav.enc';
const MAX_TITLE_CHARS = 80;

/** A title that is safe as part of a file name on Windows, macOS and Linux. Never empty. */
export function sanitizeTitle(title: string): string {
  let t = title.normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')   // control characters (newlines, tabs, ...)
    .replace(/[<>:"/\\|?*]/g, '-')                    // reserved on Windows; '/' everywhere
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s-]+/, '');                        // no hidden files, no leading dashes (option-like)
  const chars = Array.from(t);                       // whole code points: never split a surrogate pair
  if (chars.length > MAX_TITLE_CHARS) t = chars.slice(0, MAX_TITLE_CHARS).join('');
  t = t.replace(/[.\s]+$/, '');                      // Windows drops trailing dots and spaces
  return t || 'Recording';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "YYYY-MM-DD HHMM" in local time. */
export function recordingTimestamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}${pad(d.getMinutes())}`;
}

/** "2026-11-23 1405 Weekly sync.wav.enc"; `n` > 1 adds " (n)" for a name already taken. */
export function recordingFileName(startedAt: Date, title: string, n = 1): string {
  return `${recordingTimestamp(startedAt)} ${sanitizeTitle(title)}${n > 1 ? ` (${n})` : ''}${RECORDING_SUFFIX}`;
}
