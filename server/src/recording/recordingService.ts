// The worker's side of meeting recording: one Recorder at a time, its events forwarded to the client,
// and the recording files' lifecycle (recover, export, shred, describe and read for the player).
// Capture errors become JSON-RPC errors with a readable message and hint; keys come from the vault.
import fs from 'node:fs/promises';
import path from 'node:path';
import { readRangeAndLength } from '../crypto/format';
import type { AudioDeviceInfo, CaptureSettings, RecordingFacts, RecordingInfo, RecordingSummary } from '../protocol';
import { WorkerError } from '../vault/workerErrors';
import type { VaultService } from '../vault/vaultService';
import { detectCaptureCommand, isCaptureError, listDevices } from './captureTools';
import { exportWav, findUnfinishedRecordings, recoverRecording, withRecordingLock } from './files';
import { Recorder, type RecordingResult } from './recorder';
import { parseWavHeader, WAV_HEADER_LENGTH, audioFromPlaintextSize } from './wav';
import { withWipedDataKeys } from '../vault/dataKeys';

export interface RecordingEvents {
  level(e: { id: number; rms: number; peak: number; seconds: number; paused: boolean }): void;
  warning(e: { id: number; code: string; message: string }): void;
  stopped(e: { id: number; summary: RecordingSummary }): void;
}

/** A CaptureError's message with its hint, as one line the user can act on. */
function captureFailure(e: unknown): never {
  if (isCaptureError(e)) {
    const hint = e.detail.hint && !e.message.includes(e.detail.hint) ? ` ${e.detail.hint}` : '';
    throw new WorkerError('CAPTURE_FAILED', `${e.message}${hint}`);
  }
  throw e;
}

/** Removes `folder` and its parents up to `top` while they are empty (rmdir refuses a folder with anything in it). */
async function removeEmptyFolders(folder: string, top: string): Promise<void> {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    if (!(await fs.rmdir(dir).then(() => true, () => false)) || dir === path.resolve(top) || dir === path.dirname(dir)) return;
  }
}

function summaryOf(r: RecordingResult): RecordingSummary {
  return {
    path: r.path, durationSeconds: r.durationSeconds, startedAt: r.startedAt, endedAt: r.endedAt, device: r.device, tool: r.tool,
    endedBy: r.endedBy, ...(r.error ? { error: r.error.message } : {}), warnings: r.warnings.map(w => w.message),
  };
}

export class RecordingService {
  private active: { id: number; recorder: Recorder } | null = null;
  private nextId = 1;

  constructor(private readonly vault: VaultService, private readonly events: RecordingEvents) {}

  get isRecording(): boolean { return this.active !== null; }

  async devices(s: CaptureSettings): Promise<{ tool: string | null; devices: AudioDeviceInfo[]; error?: string }> {
    try {
      const cmd = await detectCaptureCommand({ device: s.device ?? null, override: s.captureCommand || null });
      const devices = await listDevices(cmd);
      return { tool: cmd.tool, devices: devices.filter(d => !d.isMonitor).map(d => ({ id: d.id, label: d.label, isDefault: !!d.isDefault })) };
    } catch (e) {
      if (isCaptureError(e)) return { tool: null, devices: [], error: e.message };
      throw e;
    }
  }

  async start(p: CaptureSettings & { folder: string; title: string }): Promise<RecordingInfo> {
    if (this.active) throw new WorkerError('RECORDING', 'A recording is already running: stop it first.');
    const keys = this.vault.unlocked();
    // The first folder this made, if any: a recording that does not start leaves no empty folder behind.
    const made = await fs.mkdir(p.folder, { recursive: true });
    const recorder = new Recorder({ keys, folder: p.folder, captureOverride: p.captureCommand || null });
    const id = this.nextId++;
    this.active = { id, recorder };
    recorder.on('level', l => this.events.level({ id, rms: l.rms, peak: l.peak, seconds: l.seconds, paused: l.paused }));
    recorder.on('warning', w => this.events.warning({ id, code: w.code, message: w.message }));
    recorder.on('stopped', r => {
      if (this.active?.id === id) this.active = null;
      this.events.stopped({ id, summary: summaryOf(r) });
    });
    try {
      const started = await recorder.start({ title: p.title, device: p.device ?? null });
      return { id, path: started.path, startedAt: started.startedAt, device: started.device, tool: started.tool };
    } catch (e) {
      this.active = null;
      if (made) await removeEmptyFolders(p.folder, made);
      return captureFailure(e);
    }
  }

  private recorder(id: number): Recorder {
    if (!this.active || this.active.id !== id) throw new WorkerError('INVALID_ARGUMENT', 'That recording is not running.');
    return this.active.recorder;
  }

  pause(id: number): void { this.recorder(id).pause(); }
  resume(id: number): void { this.recorder(id).resume(); }

  async stop(id: number): Promise<RecordingSummary> {
    return summaryOf(await this.recorder(id).stop());
  }

  /** Stops whatever is recording (worker shutdown, sleep): the audio so far is sealed and kept. */
  async stopAll(): Promise<void> {
    if (this.active) await this.active.recorder.stop().catch(() => undefined);
  }

  async findUnfinished(folder: string) {
    const found = await findUnfinishedRecordings(folder).catch(e => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
    // The one being recorded right now is unfinished by design.
    return found.filter(f => f.path !== this.active?.recorder.path).map(f => ({ path: f.path, recoverableSeconds: f.recoverableSeconds }));
  }

  async recover(path: string) {
    const r = await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => recoverRecording(path, unwrap));
    return { durationSeconds: r.durationSeconds, droppedBytes: r.droppedBytes };
  }

  async export(encPath: string, outPath: string) {
    const r = await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => exportWav(encPath, unwrap, outPath));
    return { durationSeconds: r.durationSeconds };
  }

  async shred(path: string): Promise<void> {
    if (this.active?.recorder.path === path) throw new WorkerError('RECORDING', 'Stop the recording before shredding it.');
    const keyring = this.vault.unlocked();
    // Under the recording's lock: never the key of a file another window is still recording. And only the
    // key that verifies this file's header MAC: a crafted header may list other recordings' key ids.
    await withRecordingLock(path, async () => {
      await keyring.shredFileKey(path);
      await fs.unlink(path);
    });
  }

  async describe(path: string): Promise<RecordingFacts> {
    const { data, plaintextLength } = await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => readRangeAndLength(path, unwrap, 0, WAV_HEADER_LENGTH));
    const wav = parseWavHeader(data);
    const { dataBytes, durationSeconds } = audioFromPlaintextSize(plaintextLength, wav);
    return { sampleRate: wav.sampleRate, channels: wav.channels, bitsPerSample: wav.bitsPerSample, dataBytes, durationSeconds };
  }

  /** Decrypted PCM [start, end) of the audio data; at most 4 MiB per call. */
  async read(path: string, start: number, end: number): Promise<Uint8Array> {
    if (end - start > 4 * 1024 * 1024) throw new WorkerError('INVALID_ARGUMENT', 'Read at most 4 MiB at a time.');
    const { data } = await withWipedDataKeys(this.vault.unlocked().unwrap, unwrap => readRangeAndLength(path, unwrap, WAV_HEADER_LENGTH + start, WAV_HEADER_LENGTH + end));
    return data;
  }
}
