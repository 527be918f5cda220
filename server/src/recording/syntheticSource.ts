// A synthetic "capture tool" for tests and benchmarks: a Node one-liner that writes 16 kHz mono s16le
// PCM to stdout, in real time or as fast as the reader takes it. It goes through the same override path
// as a user's own capture command, so it exercises spawning, stopping and the recorder end to end.
import { overrideCaptureCommand, type CaptureCommand } from './captureTools';

export type SyntheticSignal =
  | 'tone'      // 440 Hz, amplitude swelling at 0.5 Hz (a level meter moves)
  | 'ramp'      // sample n = n mod 32768: every sample says where it is in the stream (alignment checks)
  | 'silence';  // all zero (a muted or denied microphone)

export interface SyntheticOptions {
  /** Audio seconds to produce, then exit 0 (Infinity: until stopped). */
  seconds?: number;
  /** Pace at the wall clock (true), or write as fast as the reader takes it (false). */
  realtime?: boolean;
  signal?: SyntheticSignal;
  /** Bytes per write; odd sizes split samples across reads, as real pipes may. */
  blockBytes?: number;
  /** Exit code on SIGINT/SIGTERM, to mimic a tool (arecord 1, ffmpeg 255). */
  exitCodeOnStop?: number;
  /** Die with this exit code after this many audio seconds (a tool crashing mid-recording). */
  crashAfterSeconds?: number;
}

// Runs as `node -e SCRIPT seconds realtime signal blockBytes exitCodeOnStop crashAfter`.
const SCRIPT = String.raw`
const [secondsArg, realtimeArg, signal, blockArg, stopCodeArg, crashArg] = process.argv.slice(1);
const RATE = 16000, BPS = 2;
const seconds = Number(secondsArg), realtime = realtimeArg === '1', block = Number(blockArg);
const totalBytes = Number.isFinite(seconds) ? Math.round(seconds * RATE) * BPS : Infinity;
const crashAt = crashArg === '' ? Infinity : Math.round(Number(crashArg) * RATE) * BPS;
// Two seconds of the tone repeat exactly (440 Hz and 0.5 Hz both fit), so it is computed once.
let period = null;
if (signal === 'tone') {
  period = Buffer.alloc(2 * RATE * BPS);
  for (let n = 0; n < 2 * RATE; n++) {
    const t = n / RATE;
    period.writeInt16LE(Math.round(12000 * (0.55 + 0.45 * Math.sin(2 * Math.PI * 0.5 * t)) * Math.sin(2 * Math.PI * 440 * t)), 2 * n);
  }
}
let sent = 0;
function bytesAt(offset, len) {            // the stream's bytes [offset, offset + len)
  const out = Buffer.alloc(len);
  if (signal === 'tone') {
    for (let o = 0; o < len;) { const p = (offset + o) % period.length; const n = Math.min(len - o, period.length - p); period.copy(out, o, p, p + n); o += n; }
  } else if (signal === 'ramp') {
    const first = offset >> 1;
    const tmp = Buffer.alloc(len + 4);
    for (let i = 0; 2 * i < tmp.length; i++) if (2 * i + 2 <= tmp.length) tmp.writeInt16LE((first + i) & 0x7fff, 2 * i);
    tmp.copy(out, 0, offset & 1, (offset & 1) + len);
  }
  return out;
}
let stopping = false;
function finish(code) { stopping = true; process.stdout.end(() => process.exit(code)); }
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => finish(Number(stopCodeArg)));
function emit(limit) {                   // writes up to the stream offset limit; false when blocked
  while (!stopping && sent < limit) {
    if (sent >= crashAt) { process.exit(3); }
    const n = Math.min(block, limit - sent, crashAt - sent);
    const ok = process.stdout.write(bytesAt(sent, n));
    sent += n;
    if (!ok) return false;
  }
  return true;
}
if (realtime) {
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.min(totalBytes, Math.floor((performance.now() - t0) / 1000 * RATE) * BPS);
    emit(due);
    if (sent >= totalBytes) { clearInterval(timer); finish(0); }
  }, 10);
} else {
  const pump = () => { if (emit(totalBytes)) { if (!stopping) finish(0); } else process.stdout.once('drain', pump); };
  pump();
}
`;

/** The capture command for a synthetic source (runs this process's Node executable). */
export function syntheticCaptureCommand(opts: SyntheticOptions = {}): CaptureCommand {
  const realtime = opts.realtime ?? true;
  const block = opts.blockBytes ?? (realtime ? 1600 : 64 * 1024);
  const cmd = overrideCaptureCommand([
    process.execPath, '-e', SCRIPT,
    String(opts.seconds ?? Infinity), realtime ? '1' : '0', opts.signal ?? 'tone', String(block),
    String(opts.exitCodeOnStop ?? 0), opts.crashAfterSeconds === undefined ? '' : String(opts.crashAfterSeconds),
  ], { env: { ELECTRON_RUN_AS_NODE: '1' } });   // inside VS Code, execPath is Electron: run it as Node
  return { ...cmd, label: `synthetic ${opts.signal ?? 'tone'}${realtime ? '' : ' (fast)'}` };
}

/** The SoX equivalent (`sox -n` synth), as a user would type it in the captureCommand setting. */
export const SOX_SYNTH_COMMAND = 'sox -q -n -t raw -r {rate} -e signed -b 16 -c {channels} - synth 3600 sine 440';
