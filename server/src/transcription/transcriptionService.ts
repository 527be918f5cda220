// The worker's side of transcription: decrypt a sealed recording in memory, hand its PCM to the engine on a
// pipe, read the text from a pipe, and seal the transcript into the meeting note beside the recording.
// Nothing is written until the engine has finished and its output parsed: a failure, a cancel or a lock
// leaves the note as it was. A lock cancels every transcription (cancelAll) and the buffers are zeroed.
import path from 'node:path';
import { decryptStream, readRangeAndLength } from '../crypto/format';
import { isEncPath, logicalPathOf } from '../encPaths';
import type { EncFileSystem } from '../vault/encFileSystem';
import type { VaultService } from '../vault/vaultService';
import { WorkerError } from '../vault/workerErrors';
import { withWipedDataKeys } from '../vault/dataKeys';
import type { TranscribeResult, TranscriptionSettings } from '../protocol';
import { parseWavHeader, type PcmFormat } from '../recording/wav';
import { EngineError, resolveEngine } from './engine';
import { EngineRunError, runEngine, type RunOptions } from './runEngine';
import { newMeetingNote, parsePocketsphinxOutput, transcriptSection, TranscriptParseError, withTranscript, type Segment } from './transcript';

export interface TranscribeRequest {
  /** The sealed recording (`*.wav.enc`, or any WAV sealed with `noteseal encrypt`). */
  path: string;
  /** The `.md.enc` note to write the transcript into; default: `<name>.md.enc` beside the recording. */
  notePath?: string | null;
  settings: TranscriptionSettings;
}


/** What the engine needs (16 kHz 16-bit): mono as is, more channels mixed down in memory. */
const ENGINE_RATE = 16000;

/** The first bytes of the plaintext, enough for a WAV header with a few extra chunks. */
const HEADER_PROBE = 4096;

/** The meeting note beside a recording: `meeting.wav.enc` → `meeting.md.enc`. */
export function defaultNotePath(recording: string): string {
  const base = path.basename(recording).replace(/\.enc$/i, '').replace(/\.wav$/i, '');
  return path.join(path.dirname(recording), `${base}.md.enc`);
}

function checkFormat(f: PcmFormat): void {
  if (f.bitsPerSample !== 16 || f.sampleRate !== ENGINE_RATE) {
    throw new WorkerError('INVALID_ARGUMENT', `The transcription engine needs 16 kHz 16-bit audio; this WAV is ${f.sampleRate} Hz, ${f.bitsPerSample}-bit. Convert it (for example with sox) and seal it again.`);
  }
}

/** The PCM after the WAV header, mixed down to mono, in the decrypted chunks' own buffers (each zeroed once used). */
async function* monoPcm(plain: AsyncIterable<Buffer>, dataOffset: number, channels: number): AsyncGenerator<Buffer> {
  let skip = dataOffset;
  let carry = Buffer.alloc(0);
  const frame = 2 * channels;
  for await (const chunk of plain) {
    let data = chunk;
    if (skip > 0) {
      const n = Math.min(skip, data.length);
      skip -= n;
      data.fill(0, 0, n);
      data = data.subarray(n);
      if (!data.length) continue;
    }
    if (channels === 1) { yield data; continue; }
    const joined = carry.length ? Buffer.concat([carry, data]) : data;
    carry.fill(0);
    if (joined !== data) data.fill(0);
    const whole = joined.length - (joined.length % frame);
    const mono = Buffer.alloc(whole / channels);
    for (let i = 0, o = 0; i < whole; i += frame, o += 2) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += joined.readInt16LE(i + 2 * c);
      mono.writeInt16LE(Math.round(sum / channels), o);
    }
    carry = Buffer.from(joined.subarray(whole));
    joined.fill(0);
    yield mono;
  }
  carry.fill(0);
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
      const { segments, durationSeconds } = await withWipedDataKeys(keys.unwrap, async unwrap => {
        const { data: head, plaintextLength } = await readRangeAndLength(r.path, unwrap, 0, HEADER_PROBE);
        let wav;
        try { wav = parseWavHeader(head); } catch (e) { throw new WorkerError('INVALID_ARGUMENT', `${path.basename(r.path)} does not hold a WAV recording (${(e as Error).message}).`); } finally { head.fill(0); }
        checkFormat(wav);
        const total = Math.max(0, plaintextLength - wav.dataOffset);
        const perMono = wav.channels;
        const text = await runEngine(engine, {
          ...this.runOptions,
          audio: monoPcm(decryptStream(r.path, unwrap), wav.dataOffset, wav.channels),
          onFed: fed => this.progress(token, Math.min(total, fed * perMono), total),
          signal: controller.signal,
        }).catch(asWorkerError);
        let segments: Segment[];
        try { segments = parsePocketsphinxOutput(text); } catch (e) { return asWorkerError(e); }
        return { segments, durationSeconds: total / (2 * wav.channels * wav.sampleRate) };
      });
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
