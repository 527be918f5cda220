// Shared by the recording tests: temp dirs, a fast test keyring, fake capture tools, audio analysis.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';

export const PASSPHRASE = 'recording test passphrase';

export function tempDir(t: { after(fn: () => unknown): void }, prefix = 'noteseal-rec-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function newKeyring(dir: string): Promise<{ keyring: Keyring; keyfile: string }> {
  const keyfile = path.join(dir, 'keyfile.json');
  const { keyring } = await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY });
  return { keyring, keyfile };
}

export interface FakeToolBehaviour {
  /** Exit code on SIGINT; null: ignore SIGINT. */
  onSigint?: number | null;
  /** Exit code on SIGTERM (default 143-like: 0 for simplicity unless set). */
  onSigterm?: number | null;
  /** Exit code when `q` arrives on stdin (ffmpeg); absent: stdin is not read. */
  onQ?: number;
  /** Bytes of PCM per 20 ms tick (default 640 = real time at 16 kHz mono s16le); 0: none. */
  bytesPerTick?: number;
  /** Written to stderr at start. */
  stderr?: string;
  /** Exit by itself after this many ms with `exitCode`. */
  exitAfterMs?: number;
  exitCode?: number;
}

/** Writes an executable Node script `name` into `dir` that behaves like a capture tool. */
export function fakeTool(dir: string, name: string, b: FakeToolBehaviour = {}): string {
  const file = path.join(dir, name);
  const script = `#!${process.execPath}
const b = ${JSON.stringify(b)};
if (b.stderr) process.stderr.write(b.stderr);
const sig = (s, code) => process.on(s, () => { if (code === null) return; clearInterval(t); process.stdout.end(() => process.exit(code)); });
sig('SIGINT', b.onSigint === undefined ? 0 : b.onSigint);
sig('SIGTERM', b.onSigterm === undefined ? 0 : b.onSigterm);
if (b.onQ !== undefined) process.stdin.on('data', d => { if (String(d).includes('q')) { clearInterval(t); process.stdout.end(() => process.exit(b.onQ)); } });
const n = b.bytesPerTick === undefined ? 640 : b.bytesPerTick;
let k = 0;
const t = setInterval(() => { if (n) { const buf = Buffer.alloc(n); for (let i = 0; i < n; i += 2) buf.writeInt16LE((k++ % 200) * 50, i); process.stdout.write(buf); } }, 20);
if (b.exitAfterMs !== undefined) setTimeout(() => { clearInterval(t); process.stdout.end(() => process.exit(b.exitCode ?? 0)); }, b.exitAfterMs);
`;
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return file;
}

/** A simple executable shell-free script that prints `stdout` and exits with `code` (pactl stand-in). */
export function fakeHelper(dir: string, name: string, code: number, stdout = '', stderr = ''): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!${process.execPath}\nprocess.stdout.write(${JSON.stringify(stdout)});process.stderr.write(${JSON.stringify(stderr)});process.exitCode=${code};\n`);
  chmodSync(file, 0o755);
  return file;
}

// --- audio analysis -------------------------------------------------------------------------------

export function samples(pcm: Buffer): Int16Array {
  const b = pcm.byteOffset % 2 === 0 ? pcm : Buffer.from(pcm);
  return new Int16Array(b.buffer, b.byteOffset, b.length >> 1);
}

/** RMS envelope in windows of `windowSamples`. */
export function envelope(pcm: Buffer, windowSamples: number): number[] {
  const s = samples(pcm);
  const out: number[] = [];
  for (let o = 0; o + windowSamples <= s.length; o += windowSamples) {
    let sum = 0;
    for (let i = o; i < o + windowSamples; i++) sum += s[i]! * s[i]!;
    out.push(Math.sqrt(sum / windowSamples) / 32768);
  }
  return out;
}

/** Best Pearson correlation of `ref` against `rec` over every lag where ref fits inside rec. */
export function bestCorrelation(rec: number[], ref: number[]): { correlation: number; lag: number } {
  let best = { correlation: -1, lag: -1 };
  const n = ref.length;
  for (let lag = 0; lag + n <= rec.length; lag++) {
    let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (let i = 0; i < n; i++) {
      const x = rec[lag + i]!, y = ref[i]!;
      sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
    }
    const c = (n * sxy - sx * sy) / (Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy)) || 1);
    if (c > best.correlation) best = { correlation: c, lag };
  }
  return best;
}

/**
 * Best envelope correlation of a recording against a reference, over every lag in steps of `stepSamples`:
 * the recording's window grid is shifted by sub-window offsets too, so the lag is found to the step.
 */
export function bestEnvelopeCorrelation(rec: Buffer, ref: Buffer, windowSamples: number, stepSamples = windowSamples / 10): { correlation: number; lagSeconds: number } {
  const refEnv = envelope(ref, windowSamples);
  let best = { correlation: -1, lagSeconds: 0 };
  for (let shift = 0; shift < windowSamples; shift += stepSamples) {
    const r = bestCorrelation(envelope(rec.subarray(2 * shift), windowSamples), refEnv);
    if (r.correlation > best.correlation) best = { correlation: r.correlation, lagSeconds: (r.lag * windowSamples + shift) / 16000 };
  }
  return best;
}
