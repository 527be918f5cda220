// Which speech-recognition engine transcribes, and how it is started. Engines are programs the user has
// installed; NoteSeal never downloads one. The choice comes from `machine`-scoped settings only (a cloned
// repository's settings cannot pick the program), and the program is found on absolute PATH entries only
// (which.ts), like the capture tools.
import path from 'node:path';
import type { TranscriptionSettings } from '../protocol';
import { which } from '../which';

export type { TranscriptionSettings };

export const ENGINES = ['pocketsphinx', 'whisper'] as const;
export type EngineId = typeof ENGINES[number];

/** A program ready to start: audio (16 kHz mono s16le) on its stdin, text on its stdout. */
export interface EngineCommand {
  engine: EngineId;
  /** What the user calls it, for messages. */
  label: string;
  program: string;
  args: string[];
  /** What goes down the pipe: raw PCM (PocketSphinx) or the same PCM behind a WAV header (whisper.cpp decodes a container). */
  input: 'pcm' | 'wav';
  /** Longest silence on both pipes before the engine counts as hung (whisper.cpp reads everything first, then thinks). */
  idleMs?: number;
}

export class EngineError extends Error {
  constructor(readonly code: 'ENGINE_MISSING' | 'INVALID_ARGUMENT', message: string) { super(message); }
}

export const DEFAULT_POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';
/** whisper.cpp's command-line tool (examples/cli; `whisper-cli` in its builds and Homebrew's whisper-cpp). */
export const DEFAULT_WHISPER_COMMAND = 'whisper-cli';
/** whisper.cpp reads the whole input before its first segment, and a large model on a CPU takes minutes per window. */
export const WHISPER_IDLE_MS = 15 * 60_000;
/** The language of the model PocketSphinx is built with (Debian's pocketsphinx-en-us). */
export const DEFAULT_LANGUAGE = 'en-us';

/** PocketSphinx 0.8 reads audio from a file name only: the pipe is /dev/stdin, which Windows does not have. */
const WINDOWS_UNSUPPORTED = 'Transcription is not available on Windows yet: PocketSphinx reads the audio pipe as /dev/stdin, which Windows does not have.';

/** What to install, per platform, when no engine is found. */
export function engineInstallHint(platform: NodeJS.Platform = process.platform, engine: EngineId = 'pocketsphinx'): string {
  if (engine === 'whisper') {
    const get = platform === 'darwin' ? 'brew install whisper-cpp' : 'build it from github.com/ggml-org/whisper.cpp';
    return `Install whisper.cpp's command-line tool (${get}) and download a ggml model file, then set noteseal.transcription.command to whisper-cli's full path if it is not on PATH, and noteseal.transcription.model to the model file.`;
  }
  if (platform === 'linux') {
    return 'Install PocketSphinx and its US English model (Debian/Ubuntu: sudo apt install pocketsphinx pocketsphinx-en-us), then run Transcribe again.';
  }
  if (platform === 'win32') return WINDOWS_UNSUPPORTED;
  // PocketSphinx 0.8's pocketsphinx_continuous (what NoteSeal drives) has no current macOS package: it is
  // built from the cmusphinx sources (tag 5prealpha) and named in the setting.
  return 'Build PocketSphinx 0.8 (github.com/cmusphinx/pocketsphinx, tag 5prealpha), then set noteseal.transcription.command to the full path of its pocketsphinx_continuous and noteseal.transcription.model to its model folder.';
}

/** A model name is a plain file name: no separators, nothing that climbs out of the model folder. */
function checkLanguage(language: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(language) || language.includes('..')) {
    throw new EngineError('INVALID_ARGUMENT', `noteseal.transcription.language must be a model name such as en-us, not "${language}".`);
  }
  return language;
}

/**
 * PocketSphinx 0.8's command line: the audio comes raw (16 kHz mono s16le) on /dev/stdin, `-time yes`
 * prints each utterance's words with their times, and `-logfn /dev/null` keeps its log (which repeats
 * every hypothesis) off the disk and off stderr. With a model folder, the three model files are named
 * from it the way Debian lays them out: `<model>/<lang>/` (acoustic), `<model>/<lang>.lm.bin`,
 * `<model>/cmudict-<lang>.dict`.
 */
export function pocketsphinxArgs(s: TranscriptionSettings): string[] {
  const args = ['-infile', '/dev/stdin', '-samprate', '16000', '-time', 'yes', '-logfn', '/dev/null'];
  const language = checkLanguage(s.language || DEFAULT_LANGUAGE);
  if (s.model) {
    if (!path.isAbsolute(s.model)) throw new EngineError('INVALID_ARGUMENT', `noteseal.transcription.model must be an absolute path (not "${s.model}").`);
    args.push('-hmm', path.join(s.model, language), '-lm', path.join(s.model, `${language}.lm.bin`), '-dict', path.join(s.model, `cmudict-${language}.dict`));
  } else if (language !== DEFAULT_LANGUAGE) {
    throw new EngineError('INVALID_ARGUMENT', `PocketSphinx's own model is US English (en-us). For ${language}, set noteseal.transcription.model to a PocketSphinx model folder for that language.`);
  }
  return args;
}

/** whisper.cpp's language code: `en` from `en-us`, `auto` as it is. */
export function whisperLanguage(language: string | null | undefined): string {
  const l = checkLanguage(language || DEFAULT_LANGUAGE);
  return l === 'auto' ? l : l.split(/[-_]/)[0]!.toLowerCase();
}

/**
 * whisper.cpp's `whisper-cli` (examples/cli/cli.cpp): `-f -` reads the input from stdin into memory and decodes
 * it with miniaudio (examples/common-whisper.cpp, read_audio_data), so a WAV header goes first; each segment is
 * printed to stdout as `[hh:mm:ss.mmm --> hh:mm:ss.mmm]  text`; `-np` silences everything else (stderr), and no
 * `-o…` flag is given, so it writes no file. The model is a file the user chose (ggml-*.bin).
 */
export function whisperArgs(s: TranscriptionSettings): string[] {
  if (!s.model) throw new EngineError('INVALID_ARGUMENT', 'whisper.cpp needs a model file: set noteseal.transcription.model to the full path of a ggml model (for example ggml-base.en.bin).');
  if (!path.isAbsolute(s.model)) throw new EngineError('INVALID_ARGUMENT', `noteseal.transcription.model must be an absolute path (not "${s.model}").`);
  return ['-m', s.model, '-l', whisperLanguage(s.language), '-np', '-f', '-'];
}

/** The engine the settings choose, found on an absolute PATH entry (or by absolute path); ENGINE_MISSING with what to install otherwise. */
export async function resolveEngine(s: TranscriptionSettings, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<EngineCommand> {
  const engine = s.engine || 'pocketsphinx';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new EngineError('INVALID_ARGUMENT', `noteseal.transcription.engine "${engine}" is not one NoteSeal can run (${ENGINES.join(', ')}).`);
  }
  const whisper = engine === 'whisper';
  // whisper.cpp reads stdin with fread (Windows: in binary mode), so it needs no /dev/stdin; PocketSphinx 0.8 does.
  if (platform === 'win32' && !whisper) throw new EngineError('ENGINE_MISSING', WINDOWS_UNSUPPORTED);
  const args = whisper ? whisperArgs(s) : pocketsphinxArgs(s);
  const wanted = s.command || (whisper ? DEFAULT_WHISPER_COMMAND : DEFAULT_POCKETSPHINX_COMMAND);
  const program = await which(wanted, env, platform);
  const label = whisper ? 'whisper.cpp' : 'PocketSphinx';
  if (!program) {
    const named = s.command ? `The transcription engine "${wanted}" (noteseal.transcription.command) was not found`
      : `No transcription engine was found: NoteSeal uses ${whisper ? "whisper.cpp's whisper-cli" : 'PocketSphinx (pocketsphinx_continuous)'}`;
    const relative = s.command && /[\\/]/.test(s.command) && !path.isAbsolute(s.command) ? ' (a path must be absolute)' : '';
    throw new EngineError('ENGINE_MISSING', `${named}${relative}. ${engineInstallHint(platform, whisper ? 'whisper' : 'pocketsphinx')}`);
  }
  return whisper
    ? { engine: 'whisper', label, program, args, input: 'wav', idleMs: WHISPER_IDLE_MS }
    : { engine: 'pocketsphinx', label, program, args, input: 'pcm' };
}
