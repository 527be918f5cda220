// The worker's side of transcription: decrypt a sealed recording in memory, hand its PCM to the engine on a
// pipe, read the text from a pipe, and seal the transcript into the meeting note beside the recording.
// Nothing is written until the engine has finished and its output parsed: a failure, a cancel or a lock
// leaves the note as it was. A lock cancels every transcription (cancelAll) and the buffers are zeroed.
import path from 'node:path';
import { isEncPath, logicalPathOf } from '../encPaths';
import type { EncFileSystem } from '../vault/encFileSystem';
import type { VaultService } from '../vault/vaultService';
import { WorkerError } from '../vault/workerErrors';
import { withWipedDataKeys } from '../vault/dataKeys';
import type { TranscribeResult, TranscriptionSettings } from '../protocol';
import { EngineError, resolveEngine } from './engine';
import { EngineRunError, type RunOptions } from './runEngine';
import { transcribeSealedWav } from './sealedAudio';
import { newMeetingNote, transcriptSection, TranscriptParseError, withTranscript } from './transcript';

export interface TranscribeRequest {
  /** The sealed recording (`*.wav.enc`, or any WAV sealed with `noteseal encrypt`). */
  path: string;
  /** The `.md.enc` note to write the transcript into; default: `<name>.md.enc` beside the recording. */
  notePath?: string | null;
  settings: TranscriptionSettings;
}


/** The meeting note beside a recording: `meeting.wav.enc` → `meeting.md.enc`. */
export function defaultNotePath(recording: string): string {
  const base = path.basename(recording).replace(/\.enc$/i, '').replace(/\.wav$/i, '');
  return path.join(path.dirname(recording), `${base}.md.enc`);
}

function asWorkerError(e: unknown): never {
  if (e instanceof EngineError) throw new WorkerError(e.code, e.message);
  if (e instanceof EngineRunError) throw new WorkerError(e.code, e.message);
  if (e instanceof TranscriptParseError) throw new WorkerError('TRANSCRIPTION_FAILED', `The engine's output could not be read as a transcript (${e.message}); the note was not changed.`);
  throw e;
}

export class TranscriptionService {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly vault: VaultService,
    private readonly files: Pick<EncFileSystem, 'readFile' | 'writeFile'>,
    private readonly progress: (token: string, done: number, total: number) => void,
    private readonly runOptions: Partial<Pick<RunOptions, 'idleMs' | 'maxOutputBytes' | 'onPrivateFolder'>> = {},
  ) {}

  get isRunning(): boolean { return this.running.size > 0; }

  cancel(token: string): void { this.running.get(token)?.abort(); }

  /** A lock: every running transcription stops, its engine killed and its buffers zeroed. */
  cancelAll(): void { for (const c of this.running.values()) c.abort(); }

  async transcribe(token: string, r: TranscribeRequest): Promise<TranscribeResult> {
    if (this.running.has(token)) throw new WorkerError('INVALID_ARGUMENT', 'That transcription is already running.');
    const notePath = r.notePath || defaultNotePath(r.path);
    if (!isEncPath(notePath)) throw new WorkerError('INVALID_ARGUMENT', `The transcript goes into an encrypted note: ${path.basename(notePath)} must end in .enc.`);
    const keys = this.vault.unlocked();
    const engine = await resolveEngine(r.settings).catch(asWorkerError);
    const controller = new AbortController();
    this.running.set(token, controller);
    try {
      const { segments, durationSeconds } = await withWipedDataKeys(keys.unwrap, unwrap => transcribeSealedWav(r.path, unwrap, engine, {
        ...this.runOptions,
        signal: controller.signal,
        onProgress: (done, total) => this.progress(token, done, total),
      })).catch(asWorkerError);
      if (controller.signal.aborted) throw new WorkerError('CANCELLED', 'Transcription cancelled.');
      await this.writeNote(notePath, r.path, transcriptSection(segments, { engine: engine.label, recordingName: path.basename(r.path) }));
      return { notePath, segments: segments.length, durationSeconds, engine: engine.label };
    } finally {
      this.running.delete(token);
    }
  }

  /** Into the note's "Transcript" section (replaced if there is one), or a new note if there is none yet. */
  private async writeNote(notePath: string, recording: string, section: string): Promise<void> {
    const logical = logicalPathOf(notePath);
    const existing = await this.files.readFile(logical).catch(e => {
      if ((e as { code?: string }).code === 'FileNotFound') return null;
      throw e;
    });
    const text = existing ? withTranscript(existing.toString('utf8'), section, path.basename(recording)) : newMeetingNote(path.basename(recording), section);
    existing?.fill(0);
    const bytes = Buffer.from(text, 'utf8');
    try {
      await this.files.writeFile(logical, bytes, { create: existing === null, overwrite: existing !== null });
    } finally {
      bytes.fill(0);
    }
  }
}
