// The platform's microphone capture tool: found automatically (or given by the user), started as a child
// process writing 16 kHz mono s16le PCM to stdout, stopped the way each tool flushes cleanly, and its
// failures turned into errors a user can act on. Flags and exit codes: shared/research/audio-capture.md.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { which } from '../which';
import { RECORDING_FORMAT, type PcmFormat } from './wav';

/** Kept importable from here for the recording code that always took it from this module. */
export { which };

export type StopMethod = 'SIGINT' | 'SIGTERM' | 'q';
export type CaptureToolId = 'parec' | 'pw-record' | 'arecord' | 'ffmpeg' | 'rec' | 'custom';

/** The setting a user edits to override the capture command (proposed name; the client owns settings). */
export const CAPTURE_COMMAND_SETTING = 'noteseal.recording.captureCommand';

export interface CaptureCommand {
  tool: CaptureToolId;
  /** Executable: a name looked up on PATH, or a path. */
  command: string;
  args: string[];
  /** How to ask it to stop so that it flushes what it captured. */
  stop: StopMethod;
  /** The input device, null for the system default. */
  device: string | null;
  /** What it writes to stdout; the built-in commands always write RECORDING_FORMAT. */
  format: PcmFormat;
  /** Variables set for the child on top of the worker's environment (PULSE_SERVER, AUDIODEV...). */
  env?: Record<string, string>;
  /** For messages: "parec (PulseAudio)". */
  label: string;
}

export type CaptureErrorCode =
  | 'TOOL_MISSING'       // the command is not installed (ENOENT)
  | 'NO_CAPTURE_TOOL'    // detection found no capture tool at all
  | 'NO_AUDIO_SERVER'    // PulseAudio/PipeWire not reachable ("Connection refused")
  | 'NO_SUCH_DEVICE'     // the chosen input device does not exist ("No such entity")
  | 'PERMISSION_DENIED'  // the OS refused the microphone or the executable
  | 'NO_AUDIO'           // the tool ran but produced no audio in time
  | 'TOOL_FAILED'        // the tool exited with an error before recording started
  | 'TOOL_DIED'          // the tool exited by itself in the middle of a recording (what was captured is kept)
  | 'BAD_COMMAND';       // the override command cannot be parsed

export interface CaptureErrorDetail {
  tool?: string;
  command?: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines the tool wrote to stderr. */
  stderrTail?: string;
  /** What to do about it, also part of the message. */
  hint?: string;
  /** TOOL_DIED: the audio kept. */
  capturedSeconds?: number;
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(readonly code: CaptureErrorCode, message: string, readonly detail: CaptureErrorDetail = {}) {
    super(message);
  }
}

export function isCaptureError(e: unknown, code?: CaptureErrorCode): e is CaptureError {
  return e instanceof CaptureError && (code === undefined || e.code === code);
}

// ---------------------------------------------------------------------------------------------------
// Commands

const RATE = String(RECORDING_FORMAT.sampleRate);

const LABELS: Record<CaptureToolId, string> = {
  parec: 'parec (PulseAudio/PipeWire)', 'pw-record': 'pw-record (PipeWire)', arecord: 'arecord (ALSA)',
  ffmpeg: 'ffmpeg', rec: 'rec (SoX)', custom: 'custom capture command',
};

export interface BuildOptions {
  device?: string | null;
  platform?: NodeJS.Platform;
  /** ffmpeg on Linux: read from PulseAudio (true) or ALSA (false). */
  pulse?: boolean;
  /** The executable to run instead of the tool's own name (an absolute path found on PATH). */
  executable?: string;
}

/** The exact command line for a built-in tool: 16 kHz mono s16le raw PCM on stdout. */
export function buildCaptureCommand(tool: Exclude<CaptureToolId, 'custom'>, opts: BuildOptions = {}): CaptureCommand {
  const device = opts.device || null;
  const platform = opts.platform ?? process.platform;
  const base = { tool, command: opts.executable ?? tool, device, format: { ...RECORDING_FORMAT }, label: LABELS[tool] };
  switch (tool) {
    case 'parec':
      // Without --latency-msec parec delivers 2 s blocks and loses up to 2 s on stop.
      return { ...base, stop: 'SIGINT', args: ['--format=s16le', `--rate=${RATE}`, '--channels=1', '--raw', '--latency-msec=50', ...(device ? [`--device=${device}`] : [])] };
    case 'pw-record':
      return { ...base, stop: 'SIGINT', args: ['--rate', RATE, '--channels', '1', '--format', 's16', ...(device ? ['--target', device] : []), '-'] };
    case 'arecord':
      // The default buffer once lost 0.8 s; 100 ms was exact.
      return { ...base, stop: 'SIGINT', args: ['-q', '-f', 'S16_LE', '-r', RATE, '-c', '1', '-t', 'raw', '--buffer-time=100000', ...(device ? ['-D', device] : [])] };
    case 'rec':
      // SoX reads its device from AUDIODEV. Its default 8 KiB buffer (0.25 s here) lagged 0.5 s and lost
      // 0.3 s on stop in the real-audio test; 640 bytes (20 ms) was within 0.3 %.
      return { ...base, stop: 'SIGINT', args: ['-q', '--buffer', '640', '-t', 'raw', '-r', RATE, '-e', 'signed', '-b', '16', '-c', '1', '-'], ...(device ? { env: { AUDIODEV: device } } : {}) };
    case 'ffmpeg': {
      let input: string[];
      if (platform === 'darwin') input = ['-f', 'avfoundation', '-i', device ? (device.startsWith(':') ? device : `:${device}`) : ':0'];
      else if (platform === 'win32') input = ['-f', 'dshow', '-i', `audio=${device ?? ''}`];
      else input = ['-f', opts.pulse === false ? 'alsa' : 'pulse', '-i', device ?? 'default'];
      // Stopped with `q` on stdin: SIGINT exits 255, and on Windows kill() does not flush.
      return { ...base, stop: 'q', args: ['-hide_banner', '-loglevel', 'error', ...input, '-ac', '1', '-ar', RATE, '-f', 's16le', '-'] };
    }
  }
}

/**
 * Splits a command line the way a POSIX shell would for plain words, single and double quotes and
 * backslash escapes (no variables, globs or pipes: nothing runs through a shell).
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null; else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c; inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i]; inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
    } else {
      cur += c; inWord = true;
    }
  }
  if (quote) throw new CaptureError('BAD_COMMAND', `The capture command has an unclosed ${quote} quote: ${line}`, { hint: `Fix the ${CAPTURE_COMMAND_SETTING} setting.` });
  if (inWord) out.push(cur);
  return out;
}

export interface OverrideOptions {
  device?: string | null;
  stop?: StopMethod;
  env?: Record<string, string>;
}

/**
 * A user's own capture command, from a setting: a command line string or an argv array. `{device}`,
 * `{rate}` and `{channels}` are replaced in every argument. It must write 16 kHz mono s16le PCM to stdout.
 * It is stopped with `q` on stdin when it is ffmpeg, else SIGINT, unless `stop` says otherwise.
 */
export function overrideCaptureCommand(template: string | readonly string[], opts: OverrideOptions = {}): CaptureCommand {
  const argv = typeof template === 'string' ? splitCommandLine(template) : [...template];
  if (argv.length === 0 || !argv[0]) {
    throw new CaptureError('BAD_COMMAND', 'The capture command is empty.', { hint: `Set ${CAPTURE_COMMAND_SETTING} to a command that writes 16 kHz mono s16le PCM to stdout.` });
  }
  const device = opts.device || null;
  const vars: Record<string, string> = { device: device ?? 'default', rate: RATE, channels: '1' };
  const expanded = argv.map(a => a.replace(/\{(device|rate|channels)\}/g, (_, k: string) => vars[k]!));
  const [command, ...args] = expanded as [string, ...string[]];
  const name = path.basename(command).toLowerCase().replace(/\.exe$/, '');
  return {
    tool: 'custom', command, args, device, format: { ...RECORDING_FORMAT },
    stop: opts.stop ?? (name === 'ffmpeg' ? 'q' : 'SIGINT'),
    label: `${name} (${LABELS.custom})`,
    ...(opts.env ? { env: opts.env } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Finding tools

export interface RunResult { code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }

/** Runs a short helper command (pactl, arecord -L...) with a timeout; never throws. */
export function runHelper(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 3000): Promise<RunResult> {
  return new Promise(resolve => {
    execFile(cmd, args, { env: { ...env, LC_ALL: 'C' }, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ...(error ? { error: error as NodeJS.ErrnoException } : {}) });
    });
  });
}

export interface DetectOptions {
  platform?: NodeJS.Platform;
  /** The environment the tool will run in (PATH, PULSE_SERVER...). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  device?: string | null;
  /** The user's override (the captureCommand setting); when set, no detection happens. */
  override?: string | readonly string[] | null;
  /** Stop method for the override. */
  overrideStop?: StopMethod;
  /** If > 0, start each candidate and keep the first that yields audio within this many ms. */
  probeMs?: number;
}

/** The tool candidates for this platform, best first, found on PATH (no probing). */
export async function captureCandidates(opts: DetectOptions = {}): Promise<CaptureCommand[]> {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const device = opts.device ?? null;
  const found = async (t: string) => which(t, env, platform);
  const out: CaptureCommand[] = [];
  if (platform === 'darwin') {
    const ff = await found('ffmpeg');
    if (ff) out.push(buildCaptureCommand('ffmpeg', { device, platform, executable: ff }));
    const rec = await found('rec');
    if (rec) out.push(buildCaptureCommand('rec', { device, platform, executable: rec }));
  } else if (platform === 'win32') {
    const ff = await found('ffmpeg');
    if (ff) {
      let dev = device;
      if (!dev) dev = (await listDevices(buildCaptureCommand('ffmpeg', { platform, executable: ff }), { env, platform }))[0]?.id ?? null;
      out.push(buildCaptureCommand('ffmpeg', { device: dev, platform, executable: ff }));
    }
  } else {
    const [parec, pactl, pw, arecord, ff, rec] = await Promise.all(['parec', 'pactl', 'pw-record', 'arecord', 'ffmpeg', 'rec'].map(found));
    const pulse = pactl ? (await runHelper(pactl, ['info'], env, 2000)).code === 0 : false;
    if (parec && pulse) out.push(buildCaptureCommand('parec', { device, executable: parec }));
    if (pw) out.push(buildCaptureCommand('pw-record', { device, executable: pw }));
    if (arecord) out.push(buildCaptureCommand('arecord', { device, executable: arecord }));
    if (ff) out.push(buildCaptureCommand('ffmpeg', { device, pulse, platform, executable: ff }));
    if (rec) out.push(buildCaptureCommand('rec', { device, executable: rec }));
    // parec without a reachable server still beats nothing: its own error says what is wrong.
    if (parec && !pulse) out.push(buildCaptureCommand('parec', { device, executable: parec }));
  }
  return out;
}

/**
 * The capture command to use: the user's override if set, else the best tool found on PATH (optionally
 * probed: it must return audio). Throws NO_CAPTURE_TOOL with install advice when there is none.
 */
export async function detectCaptureCommand(opts: DetectOptions = {}): Promise<CaptureCommand> {
  const platform = opts.platform ?? process.platform;
  if (opts.override && opts.override.length > 0) {
    const cmd = overrideCaptureCommand(opts.override, { device: opts.device ?? null, ...(opts.overrideStop ? { stop: opts.overrideStop } : {}) });
    // Run the override by its absolute path too: a bare name left to spawn() would be searched on PATH
    // including relative entries.
    const executable = await which(cmd.command, opts.env ?? process.env, platform);
    if (!executable) throw missingTool(cmd, platform);
    return { ...cmd, command: executable };
  }
  const candidates = await captureCandidates(opts);
  if (candidates.length === 0) {
    const hint = platform === 'darwin' ? 'Install ffmpeg (brew install ffmpeg) or SoX (brew install sox)'
      : platform === 'win32' ? 'Install ffmpeg (winget install Gyan.FFmpeg) and make sure it is on PATH'
        : 'Install one: sudo apt install pulseaudio-utils (parec), pipewire-bin (pw-record), alsa-utils (arecord) or ffmpeg';
    throw new CaptureError('NO_CAPTURE_TOOL', `No audio capture tool was found. ${hint}, or set ${CAPTURE_COMMAND_SETTING}.`, { hint });
  }
  if (!opts.probeMs) return candidates[0]!;
  let first: unknown = null;
  for (const c of candidates) {
    const cmd = opts.env ? withEnv(c, opts.env) : c;
    try {
      await probeCapture(cmd, opts.probeMs);
      return c;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

function withEnv(c: CaptureCommand, env: NodeJS.ProcessEnv): CaptureCommand {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) extra[k] = v;
  return { ...c, env: { ...extra, ...c.env } };
}

/** Starts the command, waits for its first audio bytes (or its failure), stops it. */
export async function probeCapture(cmd: CaptureCommand, timeoutMs = 2000): Promise<{ firstByteMs: number }> {
  const t0 = performance.now();
  const p = CaptureProcess.start(cmd);
  try {
    await p.firstData(timeoutMs);
    return { firstByteMs: performance.now() - t0 };
  } finally {
    await p.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// Devices

export interface AudioDevice {
  /** What the capture command takes as its device. */
  id: string;
  label: string;
  isDefault?: boolean;
  /** A PulseAudio monitor source: what the computer plays, not a microphone. */
  isMonitor?: boolean;
}

/** `pactl list sources` (LC_ALL=C) → devices. */
export function parsePactlSources(text: string, defaultSource?: string | null): AudioDevice[] {
  const out: AudioDevice[] = [];
  let cur: AudioDevice | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^Source #\d+/.test(line)) { cur = null; continue; }
    const name = /^\s+Name:\s*(.+)$/.exec(line);
    if (name) {
      cur = { id: name[1]!.trim(), label: name[1]!.trim() };
      if (cur.id.endsWith('.monitor')) cur.isMonitor = true;
      if (defaultSource && cur.id === defaultSource) cur.isDefault = true;
      out.push(cur);
      continue;
    }
    const desc = /^\s+Description:\s*(.+)$/.exec(line);
    if (desc && cur) cur.label = desc[1]!.trim();
    const mon = /^\s+Monitor of Sink:\s*(.+)$/.exec(line);
    if (mon && cur && mon[1]!.trim() !== 'n/a') cur.isMonitor = true;
  }
  return out;
}

interface PwDumpObject {
  type?: string;
  props?: Record<string, unknown>;
  info?: { props?: Record<string, unknown> };
  metadata?: { key?: string; value?: unknown }[];
}

/** `pw-dump` (JSON) → PipeWire's audio sources by node name, the default source marked; [] for garbage. */
export function parsePwDump(text: string): AudioDevice[] {
  let objects: unknown;
  try { objects = JSON.parse(text); } catch { return []; }
  if (!Array.isArray(objects)) return [];
  const out: AudioDevice[] = [];
  let defaultSource: string | null = null;
  for (const o of objects as PwDumpObject[]) {
    if (o?.type === 'PipeWire:Interface:Metadata' && o.props?.['metadata.name'] === 'default') {
      for (const m of o.metadata ?? []) {
        if (m.key !== 'default.audio.source') continue;
        // The value is JSON: parsed by pw-dump, or still a string in some versions.
        let v = m.value;
        if (typeof v === 'string') { try { v = JSON.parse(v); } catch { v = null; } }
        const name = (v as { name?: unknown } | null)?.name;
        if (typeof name === 'string') defaultSource = name;
      }
    }
    const p = o?.type === 'PipeWire:Interface:Node' ? o.info?.props : undefined;
    const name = p?.['node.name'];
    if (typeof name !== 'string' || !/^Audio\/(Source(\/Virtual)?|Duplex)$/.test(String(p?.['media.class']))) continue;
    const label = [p?.['node.description'], p?.['node.nick']].find(x => typeof x === 'string' && x) as string | undefined;
    out.push({ id: name, label: label ?? name });
  }
  for (const d of out) if (d.id === defaultSource) d.isDefault = true;
  return out;
}

/** `pactl list short sources` → devices (names only). */
export function parsePactlShortSources(text: string, defaultSource?: string | null): AudioDevice[] {
  return text.split(/\r?\n/).map(l => l.split('\t')).filter(f => f.length >= 2 && f[1]).map(f => ({
    id: f[1]!, label: f[1]!,
    ...(f[1]!.endsWith('.monitor') ? { isMonitor: true } : {}),
    ...(defaultSource && f[1] === defaultSource ? { isDefault: true } : {}),
  }));
}

/** `arecord -L` → devices: unindented lines are names, the first indented line below is the label. */
export function parseArecordList(text: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let cur: AudioDevice | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      cur = { id: line.trim(), label: line.trim() };
      if (cur.id === 'default') cur.isDefault = true;
      if (cur.id !== 'null') out.push(cur);
    } else if (cur && cur.label === cur.id) {
      cur.label = line.trim();
    }
  }
  return out;
}

/** `ffmpeg -list_devices true -f dshow -i dummy` stderr → audio devices (old and new ffmpeg layouts). */
export function parseDshowDevices(text: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let section: 'video' | 'audio' | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/DirectShow audio devices/i.test(line)) { section = 'audio'; continue; }
    if (/DirectShow video devices/i.test(line)) { section = 'video'; continue; }
    if (/Alternative name/i.test(line)) continue;
    const m = /\]\s+"(.+)"\s*(\((audio|video|none)\))?\s*$/.exec(line);
    if (!m) continue;
    const kind = m[3] ?? section;
    if (kind === 'audio' && !out.some(d => d.id === m[1])) out.push({ id: m[1]!, label: m[1]! });
  }
  return out;
}

/** `ffmpeg -f avfoundation -list_devices true -i ""` stderr → audio devices (id = index). */
export function parseAvfoundationDevices(text: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let audio = false;
  for (const line of text.split(/\r?\n/)) {
    if (/AVFoundation audio devices/i.test(line)) { audio = true; continue; }
    if (/AVFoundation video devices/i.test(line)) { audio = false; continue; }
    const m = /\]\s+\[(\d+)\]\s+(.+)$/.exec(line);
    if (audio && m) out.push({ id: m[1]!, label: m[2]!.trim(), ...(m[1] === '0' ? { isDefault: true } : {}) });
  }
  return out;
}

/**
 * The input devices the capture command can record from, where its tool can list them (PulseAudio via
 * pactl, PipeWire via pw-dump, ALSA via arecord -L, ffmpeg on Windows/macOS); [] where it cannot (the
 * default device is used).
 */
export async function listDevices(cmd: CaptureCommand, opts: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform } = {}): Promise<AudioDevice[]> {
  const platform = opts.platform ?? process.platform;
  const env = { ...(opts.env ?? process.env), ...cmd.env };
  const pactlSources = async (): Promise<AudioDevice[] | null> => {
    const pactl = await which('pactl', env, platform);
    if (!pactl) return null;
    const info = await runHelper(pactl, ['info'], env);
    if (info.code !== 0) throw mapFailure(cmd, { stderr: info.stderr || info.stdout, code: info.code });
    const def = /^Default Source:\s*(.+)$/m.exec(info.stdout)?.[1]?.trim() ?? null;
    const long = await runHelper(pactl, ['list', 'sources'], env);
    if (long.code === 0) return parsePactlSources(long.stdout, def);
    const short = await runHelper(pactl, ['list', 'short', 'sources'], env);
    return short.code === 0 ? parsePactlShortSources(short.stdout, def) : [];
  };
  // PipeWire's own view; pactl needs pipewire-pulse, which a PipeWire-only system may not run.
  const pipewireSources = async (): Promise<AudioDevice[] | null> => {
    const pwDump = await which('pw-dump', env, platform);
    if (!pwDump) return null;
    const r = await runHelper(pwDump, [], env);
    return r.code === 0 ? parsePwDump(r.stdout) : null;
  };
  switch (cmd.tool) {
    case 'parec':
      return (await pactlSources()) ?? [];
    case 'pw-record':
      return (await pipewireSources()) ?? (await pactlSources()) ?? [];
    case 'arecord': {
      const r = await runHelper(cmd.command, ['-L'], env);
      if (r.error?.code === 'ENOENT') throw missingTool(cmd, platform);
      return parseArecordList(r.stdout);
    }
    case 'ffmpeg': {
      const ffArgs = platform === 'win32' ? ['-hide_banner', '-list_devices', 'true', '-f', 'dshow', '-i', 'dummy']
        : platform === 'darwin' ? ['-hide_banner', '-f', 'avfoundation', '-list_devices', 'true', '-i', '']
          : null;
      if (!ffArgs) return (await pactlSources()) ?? [];
      const r = await runHelper(cmd.command, ffArgs, env);   // exits 1 by design ("dummy" is no input)
      if (r.error?.code === 'ENOENT') throw missingTool(cmd, platform);
      return platform === 'win32' ? parseDshowDevices(r.stderr) : parseAvfoundationDevices(r.stderr);
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------------
// Errors

/** How to install the tool, per platform. */
export function installHint(cmd: Pick<CaptureCommand, 'tool' | 'command'>, platform: NodeJS.Platform = process.platform): string {
  if (cmd.tool === 'custom') return `Check the command in the ${CAPTURE_COMMAND_SETTING} setting, or clear it to detect a tool automatically.`;
  const mac: Partial<Record<CaptureToolId, string>> = { ffmpeg: 'brew install ffmpeg', rec: 'brew install sox' };
  const linux: Partial<Record<CaptureToolId, string>> = {
    parec: 'sudo apt install pulseaudio-utils (Fedora: sudo dnf install pulseaudio-utils)',
    'pw-record': 'sudo apt install pipewire-bin (Fedora: sudo dnf install pipewire-utils)',
    arecord: 'sudo apt install alsa-utils (Fedora: sudo dnf install alsa-utils)',
    ffmpeg: 'sudo apt install ffmpeg',
    rec: 'sudo apt install sox',
  };
  const how = platform === 'darwin' ? mac[cmd.tool] : platform === 'win32' ? (cmd.tool === 'ffmpeg' ? 'winget install Gyan.FFmpeg, then restart VS Code' : undefined) : linux[cmd.tool];
  return `Install it${how ? ` (${how})` : ''}, or set ${CAPTURE_COMMAND_SETTING} to another capture command.`;
}

function toolName(cmd: Pick<CaptureCommand, 'command'>): string {
  return path.basename(cmd.command);
}

function missingTool(cmd: CaptureCommand, platform: NodeJS.Platform = process.platform): CaptureError {
  const hint = installHint(cmd, platform);
  return new CaptureError('TOOL_MISSING', `The audio capture tool "${toolName(cmd)}" was not found. ${hint}`, { tool: toolName(cmd), command: cmd.command, hint });
}

/** The last `lines` non-empty lines of a tool's stderr. */
export function stderrTail(stderr: string, lines = 4): string {
  return stderr.split(/\r?\n/).map(l => l.trim()).filter(Boolean).slice(-lines).join(' | ');
}

export interface FailureInfo {
  spawnError?: NodeJS.ErrnoException | null;
  code?: number | null;
  signal?: NodeJS.Signals | null;
  stderr?: string;
}

/** Maps a failed start of a capture tool to a CaptureError (the tool's words are kept in the detail). */
export function mapFailure(cmd: CaptureCommand, f: FailureInfo, platform: NodeJS.Platform = process.platform): CaptureError {
  const name = toolName(cmd);
  if (f.spawnError?.code === 'ENOENT') return missingTool(cmd, platform);
  const tail = stderrTail(f.stderr ?? '');
  const detail: CaptureErrorDetail = { tool: name, command: cmd.command, exitCode: f.code ?? null, signal: f.signal ?? null, stderrTail: tail };
  const said = tail ? ` ${name} said: ${tail}` : '';
  if (f.spawnError?.code === 'EACCES') {
    return new CaptureError('PERMISSION_DENIED', `"${cmd.command}" cannot be run (permission denied). Make it executable or choose another capture command.`, detail);
  }
  if (f.spawnError) return new CaptureError('TOOL_FAILED', `Could not start "${cmd.command}": ${f.spawnError.message}`, detail);
  const s = f.stderr ?? '';
  if (/connection refused|pa_context_connect|connection failure|host is down|failed to connect|couldn't connect to (the )?(pipewire|pulse)/i.test(s)) {
    const hint = 'Is a sound server (PulseAudio or PipeWire) running in this session? In a remote or container session there may be none.';
    return new CaptureError('NO_AUDIO_SERVER', `${name} could not connect to the sound server. ${hint}${said}`, { ...detail, hint });
  }
  if (/no such entity|no such device|cannot find card|unknown pcm|audio device .*not found|could not find audio only device|could not find (the )?device|invalid device|no such file or directory.*(input|device)|target not found|error opening input/i.test(s)) {
    const dev = cmd.device ? `"${cmd.device}"` : 'the default input device';
    const hint = 'Choose another microphone (the device list shows what is available).';
    return new CaptureError('NO_SUCH_DEVICE', `${name} could not open ${dev}: no such device. ${hint}${said}`, { ...detail, hint });
  }
  if (/permission denied|not permitted|access denied|not authori[sz]ed|privacy/i.test(s)) {
    const hint = platform === 'darwin' ? 'Allow the microphone for VS Code in System Settings › Privacy & Security › Microphone.'
      : platform === 'win32' ? 'Allow desktop apps to use the microphone in Settings › Privacy › Microphone.'
        : 'Check that your user may use the audio devices (the "audio" group).';
    return new CaptureError('PERMISSION_DENIED', `${name} was denied access to the microphone. ${hint}${said}`, { ...detail, hint });
  }
  const how = f.signal ? `was killed by ${f.signal}` : `exited with code ${f.code}`;
  return new CaptureError('TOOL_FAILED', `${name} ${how} before recording started.${said}`, detail);
}

// ---------------------------------------------------------------------------------------------------
// The running tool

export interface CaptureExit {
  /** stopped: exited after we asked it to (success whatever the code); ended: exited 0 by itself
   *  (a finite source); failed: anything else. */
  outcome: 'stopped' | 'ended' | 'failed';
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  bytes: number;
  /** For `failed`: the mapped error (TOOL_DIED when audio had been received). */
  error?: CaptureError;
}

const STDERR_KEEP = 8 * 1024;

/**
 * A running capture tool. Emits 'data' (Buffer) for every block of stdout. `closed` resolves once the
 * process has exited AND stdout has ended ('close', not 'exit'), so every captured byte has been emitted.
 */
export class CaptureProcess extends EventEmitter {
  readonly closed: Promise<CaptureExit>;
  private child: ChildProcess;
  private stderr = '';
  private bytes = 0;
  private stopRequested = false;
  private spawnError: NodeJS.ErrnoException | null = null;
  private exited = false;
  private timers: NodeJS.Timeout[] = [];

  private constructor(readonly cmd: CaptureCommand, private readonly platform: NodeJS.Platform) {
    super();
    this.child = spawn(cmd.command, cmd.args, {
      env: { ...process.env, ...cmd.env },
      stdio: [cmd.stop === 'q' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child.stdin?.on('error', () => { /* the tool may exit before it reads `q` */ });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString('utf8')).slice(-STDERR_KEEP); });
    this.child.stdout!.on('data', (d: Buffer) => { this.bytes += d.length; this.emit('data', d); });
    this.child.on('error', e => { this.spawnError ??= e as NodeJS.ErrnoException; });
    this.child.on('exit', () => { this.exited = true; });
    this.closed = new Promise(resolve => {
      this.child.on('close', (code, signal) => {
        this.exited = true;
        for (const t of this.timers) clearTimeout(t);
        resolve(this.outcome(code, signal));
      });
    });
  }

  static start(cmd: CaptureCommand, platform: NodeJS.Platform = process.platform): CaptureProcess {
    return new CaptureProcess(cmd, platform);
  }

  get pid(): number | undefined { return this.child.pid; }
  get bytesReceived(): number { return this.bytes; }
  get stopping(): boolean { return this.stopRequested; }

  private outcome(code: number | null, signal: NodeJS.Signals | null): CaptureExit {
    const base = { code, signal, stderrTail: stderrTail(this.stderr), bytes: this.bytes };
    if (this.spawnError) return { ...base, outcome: 'failed', error: mapFailure(this.cmd, { spawnError: this.spawnError, stderr: this.stderr }, this.platform) };
    if (this.stopRequested) return { ...base, outcome: 'stopped' };
    if (code === 0 && this.bytes > 0) return { ...base, outcome: 'ended' };
    if (this.bytes > 0) {
      const secs = this.bytes / (this.cmd.format.sampleRate * this.cmd.format.channels * this.cmd.format.bitsPerSample / 8);
      const name = toolName(this.cmd);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      return {
        ...base, outcome: 'failed',
        error: new CaptureError('TOOL_DIED', `${name} ${how} in the middle of the recording; the ${secs.toFixed(1)} s captured until then were kept.${base.stderrTail ? ` ${name} said: ${base.stderrTail}` : ''}`,
          { tool: name, command: this.cmd.command, exitCode: code, signal, stderrTail: base.stderrTail, capturedSeconds: secs }),
      };
    }
    if (code === 0 && !signal) {
      return { ...base, outcome: 'failed', error: new CaptureError('NO_AUDIO', `${toolName(this.cmd)} exited without producing any audio.`, { tool: toolName(this.cmd), command: this.cmd.command, exitCode: code, stderrTail: base.stderrTail }) };
    }
    return { ...base, outcome: 'failed', error: mapFailure(this.cmd, { code, signal, stderr: this.stderr }, this.platform) };
  }

  /** Resolves at the first audio bytes; rejects with the mapped error if the tool fails first, or NO_AUDIO after `timeoutMs`. */
  firstData(timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => { cleanup(); resolve(d); };
      const timer = setTimeout(() => {
        cleanup();
        reject(new CaptureError('NO_AUDIO', `${toolName(this.cmd)} started but produced no audio within ${(timeoutMs / 1000).toFixed(1)} s.${this.stderr ? ` It said: ${stderrTail(this.stderr)}` : ''}`,
          { tool: toolName(this.cmd), command: this.cmd.command, stderrTail: stderrTail(this.stderr) }));
      }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.removeListener('data', onData); };
      this.once('data', onData);
      void this.closed.then(exit => {
        cleanup();
        reject(exit.error ?? new CaptureError('NO_AUDIO', `${toolName(this.cmd)} exited without producing any audio.`, { tool: toolName(this.cmd), exitCode: exit.code }));
      });
    });
  }

  /** Backpressure: stop reading stdout (the tool blocks, the sound server buffers). */
  pauseOutput(): void { this.child.stdout?.pause(); }
  resumeOutput(): void { this.child.stdout?.resume(); }

  /**
   * Asks the tool to stop its own way (SIGINT/SIGTERM, or `q` on stdin), escalating to SIGTERM after
   * `graceMs` and SIGKILL after twice that; resolves with the exit once all of stdout has been read.
   */
  stop(graceMs = 3000): Promise<CaptureExit> {
    if (!this.stopRequested && !this.exited) {
      this.stopRequested = true;
      if (this.cmd.stop === 'q' && this.child.stdin) this.child.stdin.end('q');
      else this.child.kill(this.cmd.stop === 'q' ? 'SIGINT' : this.cmd.stop);
      const alive = () => this.child.exitCode === null && this.child.signalCode === null;
      this.timers.push(setTimeout(() => { if (alive()) this.child.kill('SIGTERM'); }, graceMs));
      this.timers.push(setTimeout(() => { if (alive()) this.child.kill('SIGKILL'); }, 2 * graceMs));
    }
    return this.closed;
  }

  /** Ends the tool now, without waiting for a flush (an aborted start). */
  kill(): Promise<CaptureExit> {
    this.stopRequested = true;
    if (!this.exited) this.child.kill('SIGKILL');
    return this.closed;
  }
}
