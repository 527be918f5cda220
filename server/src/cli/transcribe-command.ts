// `noteseal transcribe <recording.wav.enc> [-o note.md.enc] [--engine pocketsphinx|whisper]`: the same
// transcription as VS Code's "Transcribe Recording" (server/src/transcription/), with the CLI's keys (the
// agent, an identity, or the passphrase). The audio is decrypted in memory onto the engine's stdin and the
// text read from its stdout. Without -o the transcript goes to stdout; with -o its "Transcript" section is
// added to (or replaced in) the sealed note, written crash-safely under a fresh data key only once the
// engine has finished, and only if the note did not change meanwhile.
import fs from 'node:fs/promises';
import path from 'node:path';
import { decryptFileToBuffer, encryptBufferToFile, readHeaderFromFile } from '../crypto/format';
import { NoteSealError } from '../crypto/errors';
import { isAgeFile, isDotenvxFile } from '../formats';
import type { TranscriptionSettings } from '../protocol';
import { EngineError, ENGINES, resolveEngine, type EngineCommand } from '../transcription/engine';
import { EngineRunError } from '../transcription/runEngine';
import { transcribeSealedWav, type SealedTranscript } from '../transcription/sealedAudio';
import { formatTimestamp, newMeetingNote, transcriptSection, TranscriptParseError, withTranscript } from '../transcription/transcript';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { withFileKeys, type FileKeys } from './file-keys';
import { membersFor, newFileKeysFor } from './new-file-keys';
import { writeToStdout } from './stdout';
import { keepingDataKey, UnverifiedWriter, writerVerdict } from './writer-check';

/** The largest note `-o` reads into memory to add the transcript. */
const MAX_NOTE_BYTES = 64 * 1024 * 1024;

function option(ctx: CliContext, name: string): string | null {
  const v = ctx.args.options.get(name);
  return typeof v === 'string' ? v : null;
}

/** The engine from the flags only (never from a repository's files): --engine, --command, --model, --language. */
export function transcribeSettings(ctx: CliContext): TranscriptionSettings {
  const engine = option(ctx, 'engine');
  if (engine !== null && !(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`transcribe: --engine must be ${ENGINES.join(' or ')}, not "${engine}"`);
  const model = option(ctx, 'model');
  return { engine, command: option(ctx, 'command'), model: model === null ? null : path.resolve(model), language: option(ctx, 'language') };
}

/** A link from the note's folder to the recording, for a note made from nothing. */
function linkTo(note: string, recording: string): string {
  return path.relative(path.dirname(path.resolve(note)), path.resolve(recording)).split(path.sep).map(encodeURIComponent).join('/');
}

/** The note's plaintext (or null when there is none yet), refused when someone NoteSeal does not trust wrote it. */
async function readNote(ctx: CliContext, note: string, keys: FileKeys): Promise<Buffer | null> {
  try { await fs.lstat(note); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; throw e; }
  if (await isAgeFile(note) || await isDotenvxFile(note)) throw new UsageError(`transcribe: ${note} is not a NoteSeal note; -o writes the transcript into a NoteSeal .enc note`);
  const kept = keepingDataKey(keys.unwrap);
  try {
    const plain = await decryptFileToBuffer(note, kept.unwrap, { maxBytes: MAX_NOTE_BYTES });
    // The note is re-signed as ours with the transcript in it: a text someone untrusted wrote would be laundered.
    const verdict = await writerVerdict(ctx, path.resolve(note), (await readHeaderFromFile(note)).stanzas, { ...(kept.dataKey() ? { dataKey: kept.dataKey()! } : {}) });
    if (!verdict.authentic && !ctx.args.options.has('allow-unverified-writer')) {
      plain.fill(0);
      throw new UnverifiedWriter(`${note}: ${verdict.warning} Nothing written; pass --allow-unverified-writer to add the transcript to it anyway.`);
    }
    if (!verdict.authentic) ctx.note(`noteseal: warning: ${verdict.warning}`);
    return plain;
  } finally { kept.wipe(); }
}

/** Adds the section to the note (or makes the note) and seals it in place, crash-safe; refused if the note changed meanwhile. */
async function sealIntoNote(ctx: CliContext, keys: FileKeys, note: string, recording: string, section: string): Promise<void> {
  const before = await fs.stat(note).catch(() => null);
  const existing = await readNote(ctx, note, keys);
  const name = path.basename(recording);
  const text = existing ? withTranscript(existing.toString('utf8'), section, name) : newMeetingNote(name, section, linkTo(note, recording));
  existing?.fill(0);
  const bytes = Buffer.from(text, 'utf8');
  const members = await membersFor(ctx, note);
  const { dataKey, stanzas, options } = await newFileKeysFor(ctx, keys, note, members);
  try {
    await encryptBufferToFile(bytes, note, dataKey, stanzas, {
      ...options,
      beforeRename: async () => {
        const now = await fs.stat(note).catch(() => null);
        const same = before === null ? now === null : now !== null && now.ino === before.ino && now.size === before.size && now.mtimeMs === before.mtimeMs;
        if (!same) throw new NoteSealError('INVALID_ARGUMENT', `${note} changed while the recording was transcribed: nothing written, try again`);
      },
    });
  } finally {
    dataKey.fill(0);
    bytes.fill(0);
  }
}

/** The transcript on stdout: `[m:ss] text`, one segment a line. */
async function printTranscript(ctx: CliContext, t: SealedTranscript): Promise<void> {
  const out = Buffer.from(t.segments.map(s => `[${formatTimestamp(s.start)}] ${s.text}\n`).join(''), 'utf8');
  try { await writeToStdout(ctx.stdout, out); } finally { out.fill(0); }
}

/** An engine's failure: its message (never its output) and the exit status scripts can test for. */
function engineFailure(ctx: CliContext, e: unknown): number | null {
  if (e instanceof EngineRunError && e.code === 'CANCELLED') { ctx.note('noteseal: transcription cancelled; nothing written'); return ExitCode.INTERRUPTED; }
  if (e instanceof EngineError && e.code === 'INVALID_ARGUMENT') { ctx.note(`noteseal: ${e.message}`); return ExitCode.USAGE; }
  if (e instanceof EngineError || e instanceof EngineRunError) { ctx.note(`noteseal: ${e.message}`); return ExitCode.TRANSCRIPTION; }
  if (e instanceof TranscriptParseError) {
    ctx.note(`noteseal: the engine's output could not be read as a transcript (${e.message}); nothing written`);
    return ExitCode.TRANSCRIPTION;
  }
  return null;
}

export async function transcribeCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'output', 'engine', 'command', 'model', 'language', 'allow-unverified-writer');
  const [recording] = expectOperands(ctx.args, 1, 1, 'recording to transcribe (a sealed .wav.enc)') as [string];
  const note = option(ctx, 'output');
  if (note === '-') throw new UsageError('transcribe: without -o the transcript goes to stdout; -o names the .enc note to write it into');
  if (note !== null && !/\.enc$/i.test(note)) throw new UsageError(`transcribe: the transcript goes into an encrypted note: ${note} must end in .enc`);
  const settings = transcribeSettings(ctx);
  const controller = new AbortController();
  // Ctrl-C: the engine runs in its own process group, so the terminal's SIGINT does not reach it; stop it here.
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let engine: EngineCommand;
    try { engine = await resolveEngine(settings); } catch (e) { const code = engineFailure(ctx, e); if (code !== null) return code; throw e; }
    for (const f of note ? [recording, note] : [recording]) await aboutFile(f, async () => undefined);
    return await withFileKeys(ctx, async keys => {
      if (note && keys.source === 'identity') {
        throw new UsageError('transcribe: an identity only reads: -o needs your keyfile (unlock NoteSeal or run \'noteseal agent start\', or set NOTESEAL_PASSPHRASE_FILE)');
      }
      let transcript: SealedTranscript;
      try {
        transcript = await aboutFile(recording, () => transcribeSealedWav(recording, keys.unwrap, engine, { signal: controller.signal }));
      } catch (e) {
        const code = engineFailure(ctx, e);
        if (code !== null) return code;
        throw e;
      }
      if (controller.signal.aborted) return engineFailure(ctx, new EngineRunError('CANCELLED', 'cancelled'))!;
      if (!note) {
        await printTranscript(ctx, transcript);
      } else {
        await aboutFile(note, () => sealIntoNote(ctx, keys, note, recording, transcriptSection(transcript.segments, { engine: engine.label, recordingName: path.basename(recording) })));
        ctx.note(`Transcribed ${recording} (${transcript.segments.length} segment${transcript.segments.length === 1 ? '' : 's'}, ${Math.round(transcript.durationSeconds)} s of audio, ${engine.label}) into ${note}`);
      }
      return ExitCode.OK;
    }, recording);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
