// Records a meeting: spawns the capture tool and seals its PCM into an append-mode .enc file as it
// arrives, under a fresh DETACHED data key per meeting (shredding that key destroys the recording).
//
// The plaintext inside is a WAV file (streaming header, see wav.ts). Chunks are 16 KiB of plaintext,
// about 0.5 s of audio: each is sealed, written and fsynced as soon as it fills, so a crash of the worker
// loses at most the partial chunk (< 0.52 s) plus what was in flight in the pipe (~50 ms). While paused
// nothing is written, so the partial chunk waits for the next audio (or for stop) to be sealed.
import { describeIoError } from '../ioErrors';
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppendWriter } from '../crypto/format';
import type { NewFileKeys } from '../keys/index';
import type { HeldLock } from '../keys/lockfile';
import { CaptureError, CaptureProcess, detectCaptureCommand, type CaptureCommand, type CaptureExit, type StopMethod } from './captureTools';
import type { HeldIdentity } from '../keys/identity';
import { writeSignatureStanza } from '../keys/write-signature';
import { lockRecording } from './files';
import { recordingFileName } from './naming';
import { byteRate, bytesPerFrame, wavHeader, WAV_HEADER_LENGTH } from './wav';

/** Plaintext bytes per sealed chunk: 16 KiB = 0.512 s of 16 kHz mono s16le. */
export const RECORDING_CHUNK_SIZE = 16 * 1024;

/** What the recorder needs from the keyring: a fresh detached data key per recording. */
export interface RecordingKeySource {
  newFileStanzas(options: { detached: true }): Promise<NewFileKeys>;
  /** The keyfile's identity, whose signing key signs the recording when it closes (none: unsigned). */
  identity?(): Promise<HeldIdentity | null>;
}

export interface RecorderOptions {
  keys: RecordingKeySource;
  /** Where recordings go when start() gets no folder or path. */
  folder?: string;
  /** A fixed capture command (tests, the synthetic source); else the override or detection below. */
  capture?: CaptureCommand;
  /** The user's captureCommand setting (string template or argv). */
  captureOverride?: string | readonly string[] | null;
  overrideStop?: StopMethod;
  /** Extra environment for the capture tool and detection (PULSE_SERVER...). */
  env?: Record<string, string>;
  chunkSize?: number;
  /** The level meter's window (default 100 ms of audio). */
  levelIntervalMs?: number;
  /** How long the tool may take to deliver its first audio (default 5 s). */
  startTimeoutMs?: number;
  /** Captured bytes waiting to be sealed above which stdout is paused (default 1 MiB = 32 s of audio). */
  maxBufferedBytes?: number;
  now?: () => Date;
}

export interface StartOptions {
  /** Folder for a file named "YYYY-MM-DD HHMM <title>.wav.enc" (default: the recorder's folder). */
  folder?: string;
  /** Exact path instead of a generated name (must not exist). */
  path?: string;
  title?: string;
  /** Input device id (from listDevices); null or absent for the default. */
  device?: string | null;
}

export interface RecordingStarted {
  path: string;
  /** ISO time of the first captured sample. */
  startedAt: string;
  device: string | null;
  tool: string;
  /** The detached key id: what `shred` takes to destroy this recording. */
  keyId: string;
}

export interface LevelEvent {
  /** RMS and peak of the last window, 0..1 of full scale. */
  rms: number;
  peak: number;
  /** RMS in dBFS (-Infinity for digital silence). */
  dbfs: number;
  /** Audio seconds in the file so far. */
  seconds: number;
  paused: boolean;
}

export interface ElapsedEvent {
  /** Audio seconds in the file (excludes pauses). */
  seconds: number;
  /** Wall-clock seconds since the first sample (includes pauses). */
  wallSeconds: number;
  paused: boolean;
}

export interface RecordingWarning { code: 'SILENT_INPUT'; message: string }

export interface PauseSpan {
  /** Audio position in the file where the pause sits. */
  atSeconds: number;
  pausedAt: string;
  resumedAt: string | null;
}

export interface RecordingResult {
  path: string;
  durationSeconds: number;
  /** PCM bytes in the file (after the 44-byte WAV header). */
  bytes: number;
  /** Size of the .enc file. */
  fileBytes: number;
  device: string | null;
  tool: string;
  keyId: string;
  startedAt: string;
  endedAt: string;
  pauses: PauseSpan[];
  /** stop: stop() was called; source-ended: the tool exited 0 by itself; failed: the tool died or writing failed. */
  endedBy: 'stop' | 'source-ended' | 'failed';
  /** The error that ended it, when endedBy is failed (the audio before it is kept). */
  error?: { code: string; message: string };
  warnings: RecordingWarning[];
}

type State = 'idle' | 'starting' | 'recording' | 'paused' | 'stopping' | 'stopped';

/** Events: level (every ~100 ms of audio), elapsed (every audio second, and on pause/resume), warning,
 *  error (the recording ended by itself: TOOL_DIED, WRITE_FAILED; 'stopped' follows), stopped. */
export interface RecorderEvents {
  level: [LevelEvent];
  elapsed: [ElapsedEvent];
  warning: [RecordingWarning];
  error: [Error & { code?: string }];
  stopped: [RecordingResult];
}

export class Recorder extends EventEmitter<RecorderEvents> {
  private state: State = 'idle';
  private capture: CaptureProcess | null = null;
  private cmd: CaptureCommand | null = null;
  private writer: AppendWriter | null = null;
  /** Held from before the file exists until it is closed: other windows must not recover it meanwhile. */
  private fileLock: HeldLock | null = null;
  private filePath = '';
  private keyId = '';
  private startedAt: Date | null = null;
  private readonly chunkSize: number;
  private readonly now: () => Date;
  // PCM path
  private carry: Buffer | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<void> | null = null;
  private outputPaused = false;
  private acceptedBytes = 0;    // PCM handed to the writer or waiting for it (not paused audio)
  private writeError: Error | null = null;
  // meters
  private levelFrames = 0;
  private levelSumSq = 0;
  private levelPeak = 0;
  private levelWindowFrames = 1600;
  private lastElapsedSecond = -1;
  private firstSecondBytes = 0;
  private firstSecondNonZero = false;
  private warnings: RecordingWarning[] = [];
  private pauses: PauseSpan[] = [];
  // ending
  private result: RecordingResult | null = null;
  private done: Promise<RecordingResult> | null = null;
  private endedBy: RecordingResult['endedBy'] = 'stop';
  private endError: (Error & { code?: string }) | null = null;
  private abandoned = false;
  /** Paused: captured audio is metered but not written, until resume (or for good, after a stop while paused). */
  private dropping = false;

  constructor(private readonly opts: RecorderOptions) {
    super();
    this.chunkSize = opts.chunkSize ?? RECORDING_CHUNK_SIZE;
    this.now = opts.now ?? (() => new Date());
  }

  get isPaused(): boolean { return this.state === 'paused'; }
  get currentState(): State { return this.state; }
  get path(): string { return this.filePath; }
  /** Audio seconds in the file so far. */
  get seconds(): number { return this.cmd ? this.acceptedBytes / byteRate(this.cmd.format) : 0; }
  /** Pid of the capture tool (tests). */
  get toolPid(): number | undefined { return this.capture?.pid; }

  /**
   * Starts the tool and resolves once its first audio has arrived and the encrypted file exists. Rejects
   * with a CaptureError (TOOL_MISSING, NO_AUDIO_SERVER, NO_SUCH_DEVICE, NO_AUDIO...) and leaves no file
   * and no key behind when the tool fails to start.
   */
  async start(so: StartOptions = {}): Promise<RecordingStarted> {
    if (this.state !== 'idle') throw new Error(`start: the recorder is ${this.state}`);
    this.state = 'starting';
    try {
      const cmd = this.opts.capture
        ?? await detectCaptureCommand({
          device: so.device ?? null,
          override: this.opts.captureOverride ?? null,
          ...(this.opts.overrideStop ? { overrideStop: this.opts.overrideStop } : {}),
          env: { ...process.env, ...this.opts.env },
        });
      this.cmd = { ...cmd, env: { ...this.opts.env, ...cmd.env } };
      const frame = bytesPerFrame(cmd.format);
      this.levelWindowFrames = Math.max(1, Math.round(cmd.format.sampleRate * (this.opts.levelIntervalMs ?? 100) / 1000));
      const capture = CaptureProcess.start(this.cmd);
      this.capture = capture;
      capture.on('data', (d: Buffer) => this.onData(d, frame));
      await capture.firstData(this.opts.startTimeoutMs ?? 5000).catch(async e => {
        await capture.kill();
        throw e;
      });
      // Everything received so far was captured before now: date the first sample back by its length
      // (a loaded event loop may see the first bytes late, several blocks at once).
      this.startedAt = new Date(this.now().getTime() - Math.round(1000 * capture.bytesReceived / byteRate(cmd.format)));
      try {
        await this.openFile(so);
      } catch (e) {
        await capture.kill();
        throw e;
      }
      this.state = 'recording';
      this.done = capture.closed.then(exit => this.finish(exit));
      this.pump();
      return { path: this.filePath, startedAt: this.startedAt.toISOString(), device: this.cmd.device, tool: this.cmd.label, keyId: this.keyId };
    } catch (e) {
      this.state = 'stopped';
      throw e;
    }
  }

  private async openFile(so: StartOptions): Promise<void> {
    const keys = await this.opts.keys.newFileStanzas({ detached: true });
    const identity = await this.opts.keys.identity?.().catch(() => null);
    const payloadBound = identity ? writeSignatureStanza(identity.signing, keys.dataKey) : undefined;
    try {
      this.keyId = keys.detachedKeyId ?? '';
      const folder = so.folder ?? this.opts.folder;
      if (!so.path && !folder) throw new Error('start: no folder or path for the recording');
      for (let n = 1; ; n++) {
        this.filePath = so.path ?? path.join(folder!, recordingFileName(this.startedAt!, so.title ?? 'Recording', n));
        try {
          this.fileLock = await lockRecording(this.filePath);
        } catch (e) {
          if (so.path || n > 1000) throw e;
          continue;   // another window is recording under this name
        }
        try {
          this.writer = await AppendWriter.create(this.filePath, keys.dataKey, keys.stanzas, { chunkSize: this.chunkSize, ...(payloadBound ? { payloadBound } : {}) });
          break;
        } catch (e) {
          await this.releaseFileLock();
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || so.path || n > 1000) throw e;
        }
      }
    } finally {
      keys.dataKey.fill(0);
    }
    // The WAV header goes first, in the queue ahead of any PCM.
    this.inflight = this.writer.append(wavHeader(this.cmd!.format)).then(() => { this.inflight = null; this.pump(); }, e => this.onWriteError(e));
  }

  // --- the PCM path -------------------------------------------------------------------------------

  private onData(d: Buffer, frame: number): void {
    if (this.state === 'stopped') return;
    // Whole sample frames only: an odd byte waits for its partner, so pause/resume never shifts samples.
    let buf = d;
    if (this.carry) { buf = Buffer.concat([this.carry, d]); this.carry = null; }
    const whole = buf.length - (buf.length % frame);
    if (whole < buf.length) this.carry = Buffer.from(buf.subarray(whole));
    if (whole === 0) return;
    const pcm = buf.subarray(0, whole);
    this.meter(pcm);
    if (this.dropping) return;                    // captured while paused: not recorded (also what a stop flushes)
    if (this.writeError) return;
    this.pending.push(pcm === d ? Buffer.from(pcm) : pcm);
    this.pendingBytes += pcm.length;
    this.acceptedBytes += pcm.length;
    if (this.pendingBytes > (this.opts.maxBufferedBytes ?? 1024 * 1024) && !this.outputPaused) {
      this.outputPaused = true;
      this.capture?.pauseOutput();
    }
    this.pump();
    this.emitElapsed();
  }

  /** One append at a time; what arrives meanwhile is batched into the next (few, large writes under load). */
  private pump(): void {
    if (this.inflight || !this.writer || this.pendingBytes === 0 || this.writeError) return;
    const batch = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.inflight = this.writer.append(batch).then(() => {
      batch.fill(0);
      this.inflight = null;
      if (this.outputPaused && this.pendingBytes < (this.opts.maxBufferedBytes ?? 1024 * 1024) / 2) {
        this.outputPaused = false;
        this.capture?.resumeOutput();
      }
      this.pump();
    }, e => this.onWriteError(e));
  }

  private onWriteError(e: unknown): void {
    this.inflight = null;
    if (this.writeError) return;
    const err = Object.assign(new Error(`Writing the recording failed: ${describeIoError(e)}. The recording stopped; the audio sealed until then is kept and can be recovered.`), { code: 'WRITE_FAILED' });
    this.writeError = err;
    this.endedBy = 'failed';
    this.endError = err;
    for (const b of this.pending) b.fill(0);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.outputPaused) this.capture?.resumeOutput();
    if (this.listenerCount('error') > 0) this.emit('error', err);
    void this.capture?.stop();
  }

  private async drain(): Promise<void> {
    while (this.inflight || (this.pendingBytes > 0 && !this.writeError && this.writer)) {
      if (this.inflight) await this.inflight.catch(() => undefined);
      else this.pump();
    }
  }

  private meter(pcm: Buffer): void {
    const f = this.cmd!.format;
    // 16-bit mono and stereo: read samples directly (the rare unaligned buffer is copied first).
    const aligned = pcm.byteOffset % 2 === 0 ? pcm : Buffer.from(pcm);
    const s = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.length >> 1);
    const perFrame = f.channels;
    if (this.firstSecondBytes < byteRate(f)) {
      const n = Math.min(s.length, (byteRate(f) - this.firstSecondBytes) >> 1);
      for (let i = 0; i < n && !this.firstSecondNonZero; i++) if (s[i] !== 0) this.firstSecondNonZero = true;
      this.firstSecondBytes += 2 * n;
      if (this.firstSecondBytes >= byteRate(f) && !this.firstSecondNonZero) {
        const w: RecordingWarning = {
          code: 'SILENT_INPUT',
          message: 'The first second of the recording is digital silence (all zero). The microphone may be muted, or the ' +
            'operating system may deny microphone access (macOS: System Settings › Privacy & Security › Microphone).',
        };
        this.warnings.push(w);
        this.emit('warning', w);
      }
    }
    let sumSq = this.levelSumSq;
    let peak = this.levelPeak;
    let frames = this.levelFrames;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      sumSq += v * v;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
      if ((i + 1) % perFrame === 0 && ++frames === this.levelWindowFrames) {
        const rms = Math.sqrt(sumSq / (frames * perFrame)) / 32768;
        this.emit('level', { rms, peak: peak / 32768, dbfs: rms > 0 ? 20 * Math.log10(rms) : -Infinity, seconds: this.seconds, paused: this.state === 'paused' } satisfies LevelEvent);
        sumSq = 0; peak = 0; frames = 0;
      }
    }
    this.levelSumSq = sumSq;
    this.levelPeak = peak;
    this.levelFrames = frames;
  }

  private emitElapsed(force = false): void {
    const seconds = this.seconds;
    const whole = Math.floor(seconds);
    if (!force && whole === this.lastElapsedSecond) return;
    this.lastElapsedSecond = whole;
    const wallSeconds = this.startedAt ? (this.now().getTime() - this.startedAt.getTime()) / 1000 : 0;
    this.emit('elapsed', { seconds, wallSeconds, paused: this.state === 'paused' } satisfies ElapsedEvent);
  }

  // --- controls -----------------------------------------------------------------------------------

  /** Stops writing audio (the tool keeps running, so resuming is instant and the stream stays aligned). */
  pause(): void {
    if (this.state !== 'recording') return;
    this.state = 'paused';
    this.dropping = true;
    this.pauses.push({ atSeconds: this.seconds, pausedAt: this.now().toISOString(), resumedAt: null });
    this.emitElapsed(true);
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'recording';
    this.dropping = false;
    this.pauses[this.pauses.length - 1]!.resumedAt = this.now().toISOString();
    this.emitElapsed(true);
  }

  /** Stops the tool its own way, seals everything it captured and closes the file. */
  async stop(): Promise<RecordingResult> {
    if (this.state === 'idle' || this.state === 'starting') throw new Error(`stop: the recorder is ${this.state}`);
    if (this.state === 'recording' || this.state === 'paused') {
      if (this.state === 'paused') this.pauses[this.pauses.length - 1]!.resumedAt = this.now().toISOString();
      this.state = 'stopping';
      void this.capture!.stop();
    }
    return this.done!;
  }

  /** Ends like a crash would: no final chunk (the file reads as UNFINISHED until recovered). Tests only. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    this.state = 'stopped';
    await this.capture?.kill();
    await this.drain();
    await this.writer?.abandon();
    await this.releaseFileLock();   // as the crashed process's pid would be dead
  }

  private async releaseFileLock(): Promise<void> {
    const lock = this.fileLock;
    this.fileLock = null;
    await lock?.release();
  }

  private async finish(exit: CaptureExit): Promise<RecordingResult> {
    const wasStopping = this.state === 'stopping' || this.state === 'stopped';
    if (this.abandoned) {
      this.endedBy = 'failed';
      this.endError ??= Object.assign(new Error('The recording was abandoned without being closed.'), { code: 'ABANDONED' });
    }
    if (!this.endError) {
      if (exit.outcome === 'failed' && !wasStopping) {
        this.endedBy = 'failed';
        this.endError = exit.error ?? new CaptureError('TOOL_DIED', 'The capture tool stopped unexpectedly.');
      } else if (exit.outcome === 'ended' && !wasStopping) {
        this.endedBy = 'source-ended';
      }
    }
    this.state = 'stopping';
    await this.drain();
    let closeError: unknown = null;
    if (this.abandoned) {
      // abandon() closes the file without its final chunk.
    } else if (!this.writeError) {
      try { await this.writer!.close(); } catch (e) { closeError = e; }
    } else {
      await this.writer!.abandon().catch(() => undefined);
    }
    await this.releaseFileLock();
    this.state = 'stopped';
    const fileBytes = await stat(this.filePath).then(s => s.size, () => 0);
    const f = this.cmd!.format;
    this.result = {
      path: this.filePath,
      durationSeconds: this.acceptedBytes / byteRate(f),
      bytes: this.acceptedBytes,
      fileBytes,
      device: this.cmd!.device,
      tool: this.cmd!.label,
      keyId: this.keyId,
      startedAt: this.startedAt!.toISOString(),
      endedAt: this.now().toISOString(),
      pauses: this.pauses,
      endedBy: this.endedBy,
      warnings: this.warnings,
    };
    if (closeError && !this.endError) {
      this.endedBy = this.result.endedBy = 'failed';
      this.endError = Object.assign(new Error(`Closing the recording failed: ${describeIoError(closeError)}. The audio sealed until then is kept and can be recovered.`), { code: 'WRITE_FAILED' });
    }
    if (this.endError) {
      this.result.error = { code: this.endError.code ?? 'ERROR', message: this.endError.message };
      if (this.endError.code !== 'WRITE_FAILED' && !this.abandoned && this.listenerCount('error') > 0) this.emit('error', this.endError);
    }
    this.emit('stopped', this.result);
    return this.result;
  }
}

/** The PCM data bytes of a recording whose plaintext is `plaintextBytes` long. */
export function pcmBytesOf(plaintextBytes: number): number {
  return Math.max(0, plaintextBytes - WAV_HEADER_LENGTH);
}
