// The engine's output → timed segments → the "Transcript" section of a meeting note. Pure functions.

export interface Segment {
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
  text: string;
}

export class TranscriptParseError extends Error {}

/** `word start end confidence`, as `pocketsphinx_continuous -time yes` prints each word of an utterance. */
const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/;
/** An utterance's hypothesis: words of a pronunciation dictionary (letters, digits, apostrophes, dots, dashes). */
const HYPOTHESIS_LINE = /^[\p{L}\p{M}\p{N}'’._-]+(?: [\p{L}\p{M}\p{N}'’._-]+)*$/u;

/** Silence, fillers and sentence marks: `<s>`, `</s>`, `<sil>`, `[NOISE]`, `++BREATH++`. */
function isFiller(word: string): boolean {
  return /^<.*>$/.test(word) || /^\[.*\]$/.test(word) || /^\+\+.*\+\+$/.test(word);
}

/**
 * Parses `pocketsphinx_continuous -time yes` output: per utterance, its hypothesis line, then one line per
 * word with its start and end (alternate pronunciations are marked `word(2)`). Anything else is garbage and
 * throws: a transcript is never guessed from output NoteSeal does not understand.
 */
export function parsePocketsphinxOutput(output: string): Segment[] {
  const segments: Segment[] = [];
  let current: { hypothesis: string; words: string[]; start: number | null; end: number | null } | null = null;
  const close = () => {
    if (!current) return;
    const text = current.words.length ? current.words.join(' ') : current.hypothesis;
    if (text) {
      const start = current.start ?? segments.at(-1)?.end ?? 0;
      segments.push({ start, end: current.end ?? start, text });
    }
    current = null;
  };
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (!line) continue;
    const m = WORD_LINE.exec(line);
    if (m) {
      current ??= { hypothesis: '', words: [], start: null, end: null };
      const start = Number(m[2]), end = Number(m[3]);
      if (!(end >= start)) throw new TranscriptParseError('a word ends before it starts');
      current.start ??= start;
      current.end = end;
      const word = m[1]!.replace(/\(\d+\)$/, '');
      if (!isFiller(word)) current.words.push(word);
      continue;
    }
    if (!HYPOTHESIS_LINE.test(line)) throw new TranscriptParseError('the engine printed something that is not a transcript');
    close();
    current = { hypothesis: line, words: [], start: null, end: null };
  }
  close();
  return segments;
}

/** `[00:01:02.500 --> 00:01:05.000]  text`: how whisper.cpp's whisper-cli prints a segment (cli.cpp, to_timestamp). */
const WHISPER_LINE = /^\[(\d+):(\d\d):(\d\d)[.,](\d{3}) --> (\d+):(\d\d):(\d\d)[.,](\d{3})\]\s?(.*)$/;

function seconds(h: string, m: string, s: string, ms: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

/**
 * Parses whisper-cli's stdout: one `[start --> end]  text` line per segment (blank lines between runs). A
 * segment of only a non-speech mark (`[BLANK_AUDIO]`, `(music)`) is dropped. Anything else throws.
 */
export function parseWhisperOutput(output: string): Segment[] {
  const segments: Segment[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) continue;
    const m = WHISPER_LINE.exec(line);
    if (!m) throw new TranscriptParseError('the engine printed something that is not a transcript');
    const start = seconds(m[1]!, m[2]!, m[3]!, m[4]!), end = seconds(m[5]!, m[6]!, m[7]!, m[8]!);
    if (!(end >= start)) throw new TranscriptParseError('a segment ends before it starts');
    const text = m[9]!.trim();
    if (!text || /^(\[[^\]]*\]|\([^)]*\))$/.test(text)) continue;
    segments.push({ start, end, text });
  }
  return segments;
}

/** 0:07, 12:30, 1:02:03. */
export function formatTimestamp(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(sec).padStart(2, '0')}`;
}

export const TRANSCRIPT_HEADING = '## Transcript';

/** The note's "Transcript" section: what made it, then one line per segment with its time. */
export function transcriptSection(segments: readonly Segment[], about: { engine: string; recordingName: string }): string {
  const lines = [TRANSCRIPT_HEADING, '', byline(about.engine, about.recordingName), ''];
  if (segments.length === 0) lines.push('_No speech was recognised._');
  for (const s of segments) lines.push(`- **${formatTimestamp(s.start)}** ${s.text}`);
  return lines.join('\n') + '\n';
}

/** The byline that names the recording a "Transcript" section was made from. */
function byline(engine: string, recordingName: string): string {
  return `_Transcribed on this machine by ${engine} from ${recordingName}._`;
}

/**
 * The note with `section` in it: it replaces the "## Transcript" section made from the same recording (its
 * byline names it; the section runs up to the next `#`/`##` heading or the end), or is appended after the rest
 * of the note. A transcript of another recording in the same note is never replaced.
 */
export function withTranscript(note: string, section: string, recordingName: string): string {
  const lines = note.split('\n');
  const names = (l: string) => l.startsWith('_Transcribed on this machine by ') && l.trimEnd().endsWith(` from ${recordingName}._`);
  const at = lines.findIndex((l, i) => l.trimEnd() === TRANSCRIPT_HEADING && names(lines.slice(i + 1).find(n => n.trim()) ?? ''));
  if (at < 0) return `${note.replace(/\n*$/, '')}\n\n${section}`;
  let end = lines.findIndex((l, i) => i > at && /^#{1,2} /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, at).join('\n').replace(/\n*$/, '');
  const after = lines.slice(end).join('\n');
  return `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}` : ''}`;
}

/** A note for a recording that has none yet: its name, a link to it (`link`: relative, URL-encoded; default beside the note), the transcript. */
export function newMeetingNote(recordingName: string, section: string, link = `./${encodeURIComponent(recordingName)}`): string {
  const title = recordingName.replace(/\.wav\.enc$/i, '').replace(/\.enc$/i, '');
  return [`# ${title}`, '', `- **Recording:** [${recordingName}](${link}) (encrypted; open it in VS Code to play)`, '', section].join('\n');
}
