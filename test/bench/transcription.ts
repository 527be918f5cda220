// Transcription benchmark (issue 31): `node out/test/bench/transcription.js [runs]` (default 3).
// The same real speech (Debian's pocketsphinx-testdata, five LibriVox clips, 24.7 s) transcribed by
// PocketSphinx alone on the plain WAV (`-infile x.wav`, a file it reads itself) and through NoteSeal (the
// sealed WAV decrypted chunk by chunk in memory onto its stdin, the text parsed), alternated, in the same
// run. Prints the time per audio-minute of each, NoteSeal's share added, and the extra memory of this process
// (the worker's side: decryption, the pipe, the parsing) while the engine runs, sampled every 20 ms.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encryptFile } from '../../server/src/crypto/format';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import { parseWavHeader, wavHeader } from '../../server/src/recording/wav';
import { pocketsphinxArgs, resolveEngine } from '../../server/src/transcription/engine';
import { transcribeSealedWav } from '../../server/src/transcription/sealedAudio';
import { median, timed } from './stats';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0870', '0880', '0890', '0920', '0930'].map(n => path.join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`));

/** PocketSphinx alone: the plain WAV named on its command line (it skips a `.wav` file's header itself). */
async function engineAlone(program: string, wav: string, cwd: string): Promise<void> {
  const args = pocketsphinxArgs({}).map(a => (a === '/dev/stdin' ? wav : a));
  const child = spawn(program, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.resume();
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`pocketsphinx_continuous exited ${code}`);
}

export async function benchTranscription(runs = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-transcribe-'));
  try {
    const pcm = Buffer.concat(CLIPS.map(f => { const b = fs.readFileSync(f); return b.subarray(parseWavHeader(b).dataOffset); }));
    const audioSeconds = pcm.length / 32000;
    const plain = path.join(dir, 'speech.wav');
    fs.writeFileSync(plain, Buffer.concat([wavHeader(undefined, pcm.length), pcm]));
    const { keyring } = await Keyring.init(path.join(dir, 'keyfile.json'), 'bench passphrase', { kdf: TEST_KDF_POLICY });
    const sealed = path.join(dir, 'speech.wav.enc');
    const keys = await keyring.newFileStanzas();
    await encryptFile(plain, sealed, keys.dataKey, keys.stanzas);
    keys.dataKey.fill(0);
    const engine = await resolveEngine({});

    const alone: number[] = [], through: number[] = [], extraMiB: number[] = [];
    let segments = 0;
    for (let i = 0; i < runs; i++) {
      alone.push(await timed(() => engineAlone(engine.program, plain, dir)));
      (globalThis as { gc?: () => void }).gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
      through.push(await timed(async () => { segments = (await transcribeSealedWav(sealed, keyring.unwrap, engine)).segments.length; }));
      clearInterval(sampler);
      extraMiB.push((peak - base) / 2 ** 20);
    }
    keyring.lock();
    const perMinute = (ms: number) => ms / 1000 / (audioSeconds / 60);
    const a = median(alone), t = median(through);
    return {
      audioSeconds, runs, segments,
      engineAloneSecondsPerAudioMinute: perMinute(a),
      throughNoteSealSecondsPerAudioMinute: perMinute(t),
      addedPercent: ((t - a) / a) * 100,
      workerExtraMiB: median(extraMiB),
      processRssMiB: process.memoryUsage().rss / 2 ** 20,
      // Wall-clock times: on a loaded machine the two sides share the cores with others (say so beside the figures).
      loadAverage: os.loadavg()[0]!,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchTranscription(Number(process.argv[2] ?? 3)).then(r => {
    console.log(`transcription (PocketSphinx, ${r.audioSeconds.toFixed(1)} s of real speech, median of ${r.runs}): engine alone on the plain WAV `
      + `${r.engineAloneSecondsPerAudioMinute.toFixed(1)} s per audio-minute; through NoteSeal (sealed, decrypted onto its stdin) `
      + `${r.throughNoteSealSecondsPerAudioMinute.toFixed(1)} s per audio-minute (${r.addedPercent >= 0 ? '+' : ''}${r.addedPercent.toFixed(1)} %, target under 10 %); `
      + `the worker's extra memory while it runs ${r.workerExtraMiB.toFixed(1)} MiB (process RSS ${r.processRssMiB.toFixed(0)} MiB); ${r.segments} segments; load average ${r.loadAverage.toFixed(1)}`);
    console.log(JSON.stringify(r));
  }, e => { console.error(e); process.exit(1); });
}
