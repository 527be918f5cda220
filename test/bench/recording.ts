// Recording benchmark, standalone: `node out/test/bench/recording.js [audio seconds] [dir]` (default 7200 s, /dev/shm).
import { benchRecording } from './recordingBench';

export { benchRecording };

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? process.env.BENCH_RECORDING_SECONDS ?? 7200);
  const dir = process.argv[3] ?? process.env.BENCH_RECORDING_DIR;
  benchRecording({ seconds, ...(dir ? { dir } : {}) }).then(r => {
    console.log(`recording: ${r.audioSeconds} s of 16 kHz mono audio (${(r.fileBytes / 1e6).toFixed(0)} MB sealed) in ${r.wallSeconds.toFixed(1)} s ` +
      `(${r.speed.toFixed(0)}x real time); CPU ${r.cpuMsPerAudioSecond.toFixed(3)} ms per audio second; ` +
      `RSS ${r.rssAtTenPercentMiB.toFixed(0)} MiB at 10% -> peak ${r.peakRssMiB.toFixed(0)} MiB (growth ${r.rssGrowthMiB.toFixed(1)} MiB); verified ${r.verified}`);
    console.log(JSON.stringify(r));
  }, e => { console.error(e); process.exit(1); });
}
