// Which speech-recognition engine transcribes, and how it is started. Engines are programs the user has
// installed; NoteSeal never downloads one. The choice comes from `machine`-scoped settings only (a cloned
// repository's settings cannot pick the program), and the program is found on absolute PATH entries only
// (which.ts), like the capture tools.
import path from 'node:path';
import type { TranscriptionSettings } from '../protocol';
import { which } from '../which';

export type { TranscriptionSettings };

export const ENGINES = ['pocketsphinx'] as const;
export type EngineId = typeof ENGINES[number];

/** A program ready to start: audio (16 kHz mono s16le) on its stdin, text on its stdout. */
export interface EngineCommand {
  engine: EngineId;
  /** What the user calls it, for messages. */
  label: string;
  program: string;
  args: string[];
}

export class EngineError extends Error {
  constructor(readonly code: 'ENGINE_MISSING' | 'INVALID_ARGUMENT', message: string) { super(message); }
}

export const DEFAULT_POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';
/** The language of the model PocketSphinx is built with (Debian's pocketsphinx-en-us). */
export const DEFAULT_LANGUAGE = 'en-us';

/** PocketSphinx 0.8 reads audio from a file name only: the pipe is /dev/stdin, which Windows does not have. */
const WINDOWS_UNSUPPORTED = 'Transcription is not available on Windows yet: PocketSphinx reads the audio pipe as /dev/stdin, which Windows does not have.';

/** What to install, per platform, when no engine is found. */
export function engineInstallHint(platform: NodeJS.Platform = process.platform): string {
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

/** The engine the settings choose, found on an absolute PATH entry (or by absolute path); ENGINE_MISSING with what to install otherwise. */
export async function resolveEngine(s: TranscriptionSettings, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<EngineCommand> {
  const engine = s.engine || 'pocketsphinx';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new EngineError('INVALID_ARGUMENT', `noteseal.transcription.engine "${engine}" is not one NoteSeal can run (${ENGINES.join(', ')}).`);
  }
  if (platform === 'win32') throw new EngineError('ENGINE_MISSING', WINDOWS_UNSUPPORTED);
  const args = pocketsphinxArgs(s);
  const wanted = s.command || DEFAULT_POCKETSPHINX_COMMAND;
  const program = await which(wanted, env, platform);
  if (!program) {
    const named = s.command ? `The transcription engine "${wanted}" (noteseal.transcription.command) was not found` : 'No transcription engine was found: NoteSeal uses PocketSphinx (pocketsphinx_continuous)';
    const relative = s.command && /[\\/]/.test(s.command) && !path.isAbsolute(s.command) ? ' (a path must be absolute)' : '';
    throw new EngineError('ENGINE_MISSING', `${named}${relative}. ${engineInstallHint(platform)}`);
  }
  return { engine: 'pocketsphinx', label: 'PocketSphinx', program, args };
}
