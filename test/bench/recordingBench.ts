// Benchmark of the recording path: a synthetic source writing PCM as fast as the recorder takes it
// (default 2 hours of audio = 230 MB), sealed exactly as a meeting would be. Reports CPU time of this
// process per audio second (the capture tool's own CPU is not counted) and peak RSS, which must stay flat.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyFile } from '../../server/src/crypto/format';
import { Keyring } from '../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Recorder, type RecordingResult } from '../../server/src/recording/recorder';
import { syntheticCaptureCommand } from '../../server/src/recording/syntheticSource';
import { byteRate, RECORDING_FORMAT, WAV_HEADER_LENGTH } from '../../server/src/recording/wav';

export interface RecordingBenchOptions {
  /** Audio seconds to record (default 7200). */
  seconds?: number;
  /** Where the .enc goes (default: /dev/shm when present, so the disk's noise stays out). */
  dir?: string;
  /** Decrypt and authenticate the whole file afterwards (not timed). Default true. */
  verify?: boolean;
}

export interface RecordingBenchResult {
  audioSeconds: number;
  wallSeconds: number;
  /** Audio seconds recorded per wall second. */
  speed: number;
  cpuSeconds: number;
  cpuMsPerAudioSecond: number;
  /** RSS once the recording was 10% done, and the highest seen after (sampled every 50 ms), MiB. */
  rssAtTenPercentMiB: number;
  peakRssMiB: number;
  rssGrowthMiB: number;
  fileBytes: number;
  verified: boolean;
}

const MiB = 1024 * 1024;

export async function benchRecording(opts: RecordingBenchOptions = {}): Promise<RecordingBenchResult> {
  const seconds = opts.seconds ?? 7200;
  const base = opts.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const dir = await mkdtemp(path.join(base, 'noteseal-rec-bench-'));
  try {
    const { keyring } = await Keyring.init(path.join(dir, 'keyfile.json'), 'bench passphrase', { kdf: TEST_KDF_POLICY });
    const recorder = new Recorder({ keys: keyring, folder: dir, capture: syntheticCaptureCommand({ realtime: false, seconds, signal: 'tone' }) });
    const total = seconds * byteRate(RECORDING_FORMAT);
    let rssAtTen = 0;
    let peak = 0;
    const sampler = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (!rssAtTen && recorder.seconds >= seconds / 10) rssAtTen = rss;
      if (rssAtTen) peak = Math.max(peak, rss);
    }, 50);
    const stopped = new Promise<RecordingResult>(resolve => recorder.once('stopped', resolve));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await recorder.start({ title: 'bench' });
    const result = await stopped;
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (!rssAtTen) rssAtTen = peak;
    if (result.bytes !== total || result.error) throw new Error(`bench recording ended early: ${result.bytes} of ${total} bytes, ${result.error?.message ?? ''}`);
    let verified = false;
    if (opts.verify ?? true) {
      const v = await verifyFile(result.path, keyring.unwrap);
      verified = v.plaintextBytes === total + WAV_HEADER_LENGTH;
    }
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      audioSeconds: seconds, wallSeconds, speed: seconds / wallSeconds, cpuSeconds,
      cpuMsPerAudioSecond: (cpuSeconds * 1000) / seconds,
      rssAtTenPercentMiB: rssAtTen / MiB, peakRssMiB: peak / MiB, rssGrowthMiB: (peak - rssAtTen) / MiB,
      fileBytes: result.fileBytes, verified,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
