// A sealed WAV (a recording, or any WAV sealed with `noteseal encrypt`) → the engine → timed segments. The
// worker (transcriptionService.ts) and the CLI (`noteseal transcribe`) share it: each brings its own keys
// (`unwrap`) and decides where the text goes. The audio is decrypted chunk by chunk in memory, mixed down to
// mono there, and each buffer is zeroed once the engine's pipe took it; nothing is written anywhere.
import path from 'node:path';
import { decryptStream, readRangeAndLength, type UnwrapDataKey } from '../crypto/format';
import { NoteSealError } from '../crypto/errors';
import { parseWavHeader, wavHeader, type PcmFormat } from '../recording/wav';
import type { EngineCommand } from './engine';
import { runEngine, type RunOptions } from './runEngine';
import { parsePocketsphinxOutput, parseWhisperOutput, TranscriptParseError, type Segment } from './transcript';

/** What both engines are given: 16 kHz 16-bit mono (more channels are mixed down in memory). */
const ENGINE_RATE = 16000;

/** The first bytes of the plaintext, enough for a WAV header with a few extra chunks. */
const HEADER_PROBE = 4096;

export interface SealedTranscript {
  segments: Segment[];
  durationSeconds: number;
}

export type TranscribeOptions = Partial<Pick<RunOptions, 'idleMs' | 'maxOutputBytes' | 'onPrivateFolder' | 'signal'>> & {
  /** PCM bytes of the recording handed to the engine so far, of `total`. */
  onProgress?: (done: number, total: number) => void;
};

function checkFormat(f: PcmFormat): void {
  if (f.bitsPerSample !== 16 || f.sampleRate !== ENGINE_RATE) {
    throw new NoteSealError('INVALID_ARGUMENT', `The transcription engine needs 16 kHz 16-bit audio; this WAV is ${f.sampleRate} Hz, ${f.bitsPerSample}-bit. Convert it (for example with sox) and seal it again.`);
  }
}

/**
 * The `limit` PCM bytes after the WAV header (anything after them, a trailing chunk, is not audio), mixed down
 * to mono, in the decrypted chunks' own buffers where it can (each zeroed once used).
 */
async function* monoPcm(plain: AsyncIterable<Buffer>, dataOffset: number, limit: number, channels: number): AsyncGenerator<Buffer> {
  let skip = dataOffset;
  let left = limit;
  let carry = Buffer.alloc(0);
  const frame = 2 * channels;
  for await (const chunk of plain) {
    let data = chunk;
    if (skip > 0) {
      const n = Math.min(skip, data.length);
      skip -= n;
      data.fill(0, 0, n);
      data = data.subarray(n);
    }
    if (data.length > left) { data.fill(0, left); data = data.subarray(0, left); }
    left -= data.length;
    if (!data.length) continue;
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

/** A WAV header for the mono PCM that follows (whisper.cpp decodes a container, not raw samples). */
async function* behindWavHeader(pcm: AsyncIterable<Buffer>, monoBytes: number): AsyncGenerator<Buffer> {
  yield wavHeader({ sampleRate: ENGINE_RATE, channels: 1, bitsPerSample: 16 }, monoBytes);
  yield* pcm;
}

/** The engine's stdout as segments; a parse failure is the engine's, with no output quoted. */
export function segmentsOf(engine: EngineCommand, text: string): Segment[] {
  if (engine.engine === 'whisper') {
    // whisper-cli exits 0 and prints nothing when it cannot decode its input (cli.cpp: `continue` past the
    // file): silence cannot be told from that failure, so no output is an error, never an empty transcript.
    if (!text.trim()) throw new TranscriptParseError('whisper.cpp printed no segment: it heard no speech or could not read the audio');
    return parseWhisperOutput(text);
  }
  return parsePocketsphinxOutput(text);
}

/** Transcribes the sealed WAV at `file` with `engine`; throws EngineRunError, TranscriptParseError or NoteSealError. */
export async function transcribeSealedWav(file: string, unwrap: UnwrapDataKey, engine: EngineCommand, o: TranscribeOptions = {}): Promise<SealedTranscript> {
  const { data: head, plaintextLength } = await readRangeAndLength(file, unwrap, 0, HEADER_PROBE);
  let wav;
  try { wav = parseWavHeader(head); } catch (e) { throw new NoteSealError('INVALID_ARGUMENT', `${path.basename(file)} does not hold a WAV recording (${(e as Error).message}).`); } finally { head.fill(0); }
  checkFormat(wav);
  const frame = 2 * wav.channels;
  const available = Math.max(0, plaintextLength - wav.dataOffset);
  const bytes = Math.min(available, wav.declaredDataBytes ?? available);
  const total = bytes - (bytes % frame);
  const monoBytes = total / wav.channels;
  const pcm = monoPcm(decryptStream(file, unwrap), wav.dataOffset, total, wav.channels);
  const { onProgress, ...run } = o;
  const text = await runEngine(engine, {
    ...run,
    audio: engine.input === 'wav' ? behindWavHeader(pcm, monoBytes) : pcm,
    // Bytes fed count mono samples (and whisper's 44-byte header): shown as the share of the recording's PCM.
    onFed: fed => onProgress?.(Math.min(total, Math.max(0, fed - (engine.input === 'wav' ? 44 : 0)) * wav.channels), total),
  });
  return { segments: segmentsOf(engine, text), durationSeconds: total / (frame * wav.sampleRate) };
}
