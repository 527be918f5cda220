// Capture tools without audio hardware: exact command lines, detection order on a fake PATH, error
// mapping, device-list parsing, and stop semantics with fake tools that exit like the real ones.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  buildCaptureCommand, CaptureError, CaptureProcess, detectCaptureCommand, mapFailure, overrideCaptureCommand,
  parseArecordList, parseAvfoundationDevices, parseDshowDevices, parsePactlShortSources, parsePactlSources, parsePwDump, splitCommandLine, which,
  type CaptureCommand,
} from '../../../server/src/recording/captureTools';
import { fakeHelper, fakeTool, tempDir } from './helpers';

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<CaptureError> {
  let err: unknown;
  await assert.rejects(p, e => { err = e; return true; });
  assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${err}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

describe('capture command lines', () => {
  it('builds the exact flags from the research notes, with and without a device', () => {
    const parec = buildCaptureCommand('parec');
    assert.deepEqual(parec.args, ['--format=s16le', '--rate=16000', '--channels=1', '--raw', '--latency-msec=50']);
    assert.equal(parec.stop, 'SIGINT');
    assert.deepEqual(buildCaptureCommand('parec', { device: 'virtmic' }).args.at(-1), '--device=virtmic');
    assert.deepEqual(buildCaptureCommand('arecord', { device: 'hw:1' }).args,
      ['-q', '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw', '--buffer-time=100000', '-D', 'hw:1']);
    assert.deepEqual(buildCaptureCommand('pw-record').args, ['--rate', '16000', '--channels', '1', '--format', 's16', '-']);
    const ffLinux = buildCaptureCommand('ffmpeg', { platform: 'linux', pulse: true });
    assert.equal(ffLinux.stop, 'q');
    assert.deepEqual(ffLinux.args.slice(-11), ['-f', 'pulse', '-i', 'default', '-ac', '1', '-ar', '16000', '-f', 's16le', '-']);
    assert.deepEqual(buildCaptureCommand('ffmpeg', { platform: 'linux', pulse: false }).args.slice(-11, -8), ['-f', 'alsa', '-i']);
    assert.deepEqual(buildCaptureCommand('ffmpeg', { platform: 'darwin' }).args.slice(-11, -7), ['-f', 'avfoundation', '-i', ':0']);
    assert.deepEqual(buildCaptureCommand('ffmpeg', { platform: 'darwin', device: '2' }).args.slice(-8, -7), [':2']);
    assert.deepEqual(buildCaptureCommand('ffmpeg', { platform: 'win32', device: 'Microphone (USB)' }).args.slice(-11, -7),
      ['-f', 'dshow', '-i', 'audio=Microphone (USB)']);
    const rec = buildCaptureCommand('rec', { device: 'coreaudio-1' });
    assert.deepEqual(rec.args, ['-q', '--buffer', '640', '-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-']);
    assert.deepEqual(rec.env, { AUDIODEV: 'coreaudio-1' });
  });

  it('parses an override command line (quotes, escapes, placeholders) without a shell', () => {
    assert.deepEqual(splitCommandLine(`a "b c" 'd e' f\\ g "h\\"i" ''`), ['a', 'b c', 'd e', 'f g', 'h"i', '']);
    const c = overrideCaptureCommand('parec --device={device} --rate={rate} --channels={channels} --raw', { device: 'my mic' });
    assert.equal(c.tool, 'custom');
    assert.equal(c.command, 'parec');
    assert.deepEqual(c.args, ['--device=my mic', '--rate=16000', '--channels=1', '--raw']);
    assert.equal(c.stop, 'SIGINT');
    assert.equal(overrideCaptureCommand(['/opt/bin/ffmpeg', '-i', '{device}']).stop, 'q');
    assert.deepEqual(overrideCaptureCommand(['/opt/bin/ffmpeg', '-i', '{device}']).args, ['-i', 'default']);
    assert.equal(overrideCaptureCommand('x', { stop: 'SIGTERM' }).stop, 'SIGTERM');
    assert.throws(() => splitCommandLine('parec "unclosed'), (e: CaptureError) => e.code === 'BAD_COMMAND');
    assert.throws(() => overrideCaptureCommand('   '), (e: CaptureError) => e.code === 'BAD_COMMAND');
  });
});

describe('tool detection on a fake PATH', () => {
  const env = (dir: string) => ({ PATH: dir });

  it('Linux: parec when `pactl info` succeeds, else pw-record, arecord, ffmpeg (alsa), rec; parec last', async t => {
    const dir = tempDir(t);
    for (const n of ['parec', 'pw-record', 'arecord', 'ffmpeg', 'rec']) fakeTool(dir, n);
    fakeHelper(dir, 'pactl', 0, 'Server Name: pulseaudio\n');
    let c = await detectCaptureCommand({ platform: 'linux', env: env(dir), device: 'virtmic' });
    assert.equal(c.tool, 'parec');
    assert.equal(c.command, path.join(dir, 'parec'));
    assert.ok(c.args.includes('--device=virtmic'));

    fakeHelper(dir, 'pactl', 1, '', 'Connection failure: Connection refused\n');
    c = await detectCaptureCommand({ platform: 'linux', env: env(dir) });
    assert.equal(c.tool, 'pw-record');

    const dir2 = tempDir(t);
    fakeTool(dir2, 'arecord'); fakeTool(dir2, 'ffmpeg');
    assert.equal((await detectCaptureCommand({ platform: 'linux', env: env(dir2) })).tool, 'arecord');

    const dir3 = tempDir(t);
    fakeTool(dir3, 'ffmpeg');
    const ff = await detectCaptureCommand({ platform: 'linux', env: env(dir3) });
    assert.equal(ff.tool, 'ffmpeg');
    assert.ok(ff.args.includes('alsa'), 'no PulseAudio: ffmpeg reads ALSA');

    const dir4 = tempDir(t);
    fakeTool(dir4, 'parec'); fakeTool(dir4, 'rec');
    assert.equal((await detectCaptureCommand({ platform: 'linux', env: env(dir4) })).tool, 'rec', 'parec without a server comes last');
  });

  it('no tool at all: NO_CAPTURE_TOOL that says what to install', async t => {
    const dir = tempDir(t);
    await rejectsCode(detectCaptureCommand({ platform: 'linux', env: env(dir) }), 'NO_CAPTURE_TOOL', /apt install pulseaudio-utils/);
    await rejectsCode(detectCaptureCommand({ platform: 'darwin', env: env(dir) }), 'NO_CAPTURE_TOOL', /brew install ffmpeg/);
  });

  it('macOS: ffmpeg avfoundation, else SoX rec; the override wins over detection', async t => {
    const dir = tempDir(t);
    fakeTool(dir, 'rec');
    assert.equal((await detectCaptureCommand({ platform: 'darwin', env: env(dir) })).tool, 'rec');
    fakeTool(dir, 'ffmpeg');
    const c = await detectCaptureCommand({ platform: 'darwin', env: env(dir) });
    assert.equal(c.tool, 'ffmpeg');
    assert.ok(c.args.includes('avfoundation'));
    const mine = fakeTool(dir, 'my-capture');
    const o = await detectCaptureCommand({ platform: 'darwin', env: env(dir), override: 'my-capture --dev {device}', device: 'x' });
    assert.deepEqual([o.tool, o.command, o.args], ['custom', mine, ['--dev', 'x']], 'the override runs by its absolute path');
  });

  it('never picks a tool from the current directory or a relative PATH entry (a cloned repo could plant one)', async t => {
    const repo = tempDir(t);
    const planted = fakeTool(repo, 'parec');
    fakeTool(path.join(repo, '.'), 'arecord');
    mkdirSync(path.join(repo, 'bin'));
    fakeTool(path.join(repo, 'bin'), 'pw-record');
    const cwd = process.cwd();
    process.chdir(repo);
    try {
      for (const PATH of ['', '.', ':', '.:bin', 'bin', './bin', `:${tempDir(t)}`]) {
        await rejectsCode(detectCaptureCommand({ platform: 'linux', env: { PATH } }), 'NO_CAPTURE_TOOL');
        assert.equal(await which('parec', { PATH }, 'linux'), null, `PATH=${JSON.stringify(PATH)}`);
      }
      assert.equal(await which('./parec', { PATH: '' }, 'linux'), null, 'a relative command path is refused');
      assert.equal(await which(planted, { PATH: '' }, 'linux'), planted, 'an absolute one is fine');
      await rejectsCode(detectCaptureCommand({ platform: 'linux', env: { PATH: '.' }, override: 'parec --raw' }), 'TOOL_MISSING');
      await rejectsCode(detectCaptureCommand({ platform: 'linux', env: { PATH: '' }, override: './parec --raw' }), 'TOOL_MISSING');
      const good = tempDir(t);
      const real = fakeTool(good, 'parec');
      fakeHelper(good, 'pactl', 0, 'Server Name: pulseaudio\n');
      assert.equal((await detectCaptureCommand({ platform: 'linux', env: { PATH: `.:bin::${good}` } })).command, real, 'the absolute entry wins');
    } finally { process.chdir(cwd); }
  });

  it('Windows: ffmpeg dshow with the first listed audio device', async t => {
    const dir = tempDir(t);
    const listing = '[dshow @ 000001] "Integrated Camera" (video)\n[dshow @ 000001] "Microphone Array (Realtek)" (audio)\n[dshow @ 000001]   Alternative name "@device_cm_{33D9A762}"\n';
    const file = path.join(dir, 'ffmpeg');
    writeFileSync(file, `#!${process.execPath}\nprocess.stderr.write(${JSON.stringify(listing)});process.exitCode=1;\n`);
    chmodSync(file, 0o755);
    const c = await detectCaptureCommand({ platform: 'win32', env: { PATH: dir, PATHEXT: '' } });
    assert.equal(c.tool, 'ffmpeg');
    assert.ok(c.args.includes('audio=Microphone Array (Realtek)'), c.args.join(' '));
  });

  it('with probing, a candidate that fails is skipped for the next one that yields audio', async t => {
    const dir = tempDir(t);
    fakeHelper(dir, 'pactl', 0);
    fakeTool(dir, 'parec', { bytesPerTick: 0, stderr: 'Stream error: No such entity\n', exitAfterMs: 50, exitCode: 1 });
    fakeTool(dir, 'arecord');
    const c = await detectCaptureCommand({ platform: 'linux', env: env(dir), probeMs: 3000 });
    assert.equal(c.tool, 'arecord');
    const dir2 = tempDir(t);
    fakeHelper(dir2, 'pactl', 0);
    fakeTool(dir2, 'parec', { bytesPerTick: 0, stderr: 'Stream error: No such entity\n', exitAfterMs: 50, exitCode: 1 });
    await rejectsCode(detectCaptureCommand({ platform: 'linux', env: env(dir2), probeMs: 3000, device: 'nosuch' }), 'NO_SUCH_DEVICE', /"nosuch"/);
  });
});

describe('error mapping', () => {
  const parec = buildCaptureCommand('parec', { device: 'nosuch' });

  it('maps what the tools say to typed errors with readable messages', () => {
    const cases: Array<[string, number, string]> = [
      ['Connection failure: Connection refused\npa_context_connect() failed: Connection refused\n', 1, 'NO_AUDIO_SERVER'],
      ['Stream error: No such entity\n', 1, 'NO_SUCH_DEVICE'],
      ['arecord: main:831: audio open error: No such file or directory\nALSA lib pcm.c: Unknown PCM nosuch\n', 1, 'NO_SUCH_DEVICE'],
      ['[dshow @ 0] Could not find audio only device with name [x] among source devices of type audio.\n', 1, 'NO_SUCH_DEVICE'],
      ['arecord: main:831: audio open error: Permission denied\n', 1, 'PERMISSION_DENIED'],
      ['something odd happened\n', 2, 'TOOL_FAILED'],
    ];
    for (const [stderr, code, want] of cases) {
      const e = mapFailure(parec, { code, stderr }, 'linux');
      assert.equal(e.code, want, stderr);
      assert.ok(e.detail.stderrTail, 'keeps the tool\'s words');
    }
    const refused = mapFailure(parec, { code: 1, stderr: cases[0]![0] }, 'linux');
    assert.match(refused.message, /sound server/);
    assert.match(mapFailure(parec, { code: 1, stderr: 'Stream error: No such entity' }).message, /"nosuch"/);
    assert.match(mapFailure(parec, { code: 1, stderr: 'not authorized to capture' }, 'darwin').message, /Privacy & Security/);
  });

  it('a missing tool: TOOL_MISSING once, naming the tool and how to install it', async () => {
    const cmd: CaptureCommand = { ...buildCaptureCommand('parec'), command: 'parec-that-is-not-installed' };
    const p = CaptureProcess.start(cmd, 'linux');
    let errors = 0;
    p.on('error', () => errors++);
    const exit = await p.closed;
    assert.equal(exit.outcome, 'failed');
    assert.equal(exit.error?.code, 'TOOL_MISSING');
    assert.match(exit.error!.message, /"parec-that-is-not-installed" was not found/);
    assert.match(exit.error!.message, /apt install pulseaudio-utils/);
    await rejectsCode(p.firstData(1000), 'TOOL_MISSING');
    assert.equal(errors, 0);
  });

  it('a file that is not executable: PERMISSION_DENIED', async t => {
    const dir = tempDir(t);
    const file = path.join(dir, 'capture');
    writeFileSync(file, 'not a program');
    chmodSync(file, 0o644);
    const exit = await CaptureProcess.start(overrideCaptureCommand([file])).closed;
    assert.equal(exit.error?.code, 'PERMISSION_DENIED');
  });

  it('no audio within the timeout: NO_AUDIO', async t => {
    const dir = tempDir(t);
    const p = CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, 'mute', { bytesPerTick: 0 })]));
    await rejectsCode(p.firstData(300), 'NO_AUDIO', /no audio within 0.3 s/);
    assert.equal((await p.stop()).outcome, 'stopped');
  });
});

describe('stop semantics', () => {
  // Exit codes after a requested stop, as measured: parec 0, sox 0, arecord 1 and pw-record 1 on SIGINT,
  // ffmpeg 255 on SIGINT but 0 on `q`.
  const tools: Array<[string, Parameters<typeof fakeTool>[2], 'SIGINT' | 'q']> = [
    ['parec', { onSigint: 0 }, 'SIGINT'],
    ['rec', { onSigint: 0 }, 'SIGINT'],
    ['arecord', { onSigint: 1 }, 'SIGINT'],
    ['pw-record', { onSigint: 1 }, 'SIGINT'],
    ['ffmpeg', { onSigint: 255, onQ: 0 }, 'q'],
    ['ffmpeg-sigint', { onSigint: 255 }, 'SIGINT'],
  ];
  for (const [name, behaviour, stop] of tools) {
    it(`${name}: any exit after we asked it to stop is success, and all its output is read`, async t => {
      const dir = tempDir(t);
      const p = CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, name, behaviour)], { stop }));
      await p.firstData(3000);
      await new Promise(r => setTimeout(r, 100));
      const exit = await p.stop();
      assert.equal(exit.outcome, 'stopped', JSON.stringify(exit));
      assert.equal(exit.error, undefined);
      assert.ok(exit.bytes >= 640 && exit.bytes === p.bytesReceived);
    });
  }

  it('a tool that ignores SIGINT is terminated after the grace period', async t => {
    const dir = tempDir(t);
    const p = CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, 'stubborn', { onSigint: null, onSigterm: 0 })]));
    await p.firstData(3000);
    const t0 = Date.now();
    const exit = await p.stop(200);
    assert.equal(exit.outcome, 'stopped');
    assert.ok(Date.now() - t0 >= 150);
  });

  it('an exit before we asked: TOOL_DIED with the end of stderr when audio had arrived, else the mapped error', async t => {
    const dir = tempDir(t);
    const died = await CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, 'dies', { exitAfterMs: 300, exitCode: 1, stderr: 'Stream error: Connection terminated\n' })])).closed;
    assert.equal(died.outcome, 'failed');
    assert.equal(died.error?.code, 'TOOL_DIED');
    assert.match(died.error!.message, /exited with code 1 in the middle of the recording; the 0\.\d s captured until then were kept/);
    assert.match(died.error!.message, /Connection terminated/);
    const ended = await CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, 'ends', { exitAfterMs: 100, exitCode: 0 })])).closed;
    assert.equal(ended.outcome, 'ended');
    const refused = await CaptureProcess.start(overrideCaptureCommand([fakeTool(dir, 'refused', { bytesPerTick: 0, exitAfterMs: 10, exitCode: 1, stderr: 'pa_context_connect() failed: Connection refused\n' })])).closed;
    assert.equal(refused.error?.code, 'NO_AUDIO_SERVER');
  });
});

describe('device lists', () => {
  it('parses pactl (long and short), arecord -L, dshow and avfoundation listings', () => {
    const pactl = `Source #0
\tState: RUNNING
\tName: virtmic_sink.monitor
\tDescription: Monitor of VirtualMicSink
\tMonitor of Sink: virtmic_sink
Source #1
\tState: IDLE
\tName: virtmic
\tDescription: VirtualMic
\tMonitor of Sink: n/a
`;
    assert.deepEqual(parsePactlSources(pactl, 'virtmic'), [
      { id: 'virtmic_sink.monitor', label: 'Monitor of VirtualMicSink', isMonitor: true },
      { id: 'virtmic', label: 'VirtualMic', isDefault: true },
    ]);
    assert.deepEqual(parsePactlShortSources('0\tvirtmic_sink.monitor\tmodule-null-sink.c\ts16le 1ch 48000Hz\tRUNNING\n1\tvirtmic\tmodule-remap-source.c\ts16le 1ch 48000Hz\tIDLE\n', 'virtmic'),
      [{ id: 'virtmic_sink.monitor', label: 'virtmic_sink.monitor', isMonitor: true }, { id: 'virtmic', label: 'virtmic', isDefault: true }]);
    assert.deepEqual(parseArecordList('null\n    Discard all samples\ndefault\n    Default ALSA Output\nhw:CARD=PCH,DEV=0\n    HDA Intel PCH, ALC3246 Analog\n    Direct hardware device\n'), [
      { id: 'default', label: 'Default ALSA Output', isDefault: true },
      { id: 'hw:CARD=PCH,DEV=0', label: 'HDA Intel PCH, ALC3246 Analog' },
    ]);
    const oldDshow = '[dshow @ 0] DirectShow video devices\n[dshow @ 0]  "Webcam"\n[dshow @ 0] DirectShow audio devices\n[dshow @ 0]  "Mic (USB)"\n[dshow @ 0]     Alternative name "@device"\n';
    assert.deepEqual(parseDshowDevices(oldDshow), [{ id: 'Mic (USB)', label: 'Mic (USB)' }]);
    const avf = '[AVFoundation indev @ 0x1] AVFoundation video devices:\n[AVFoundation indev @ 0x1] [0] FaceTime HD Camera\n[AVFoundation indev @ 0x1] AVFoundation audio devices:\n[AVFoundation indev @ 0x1] [0] MacBook Pro Microphone\n[AVFoundation indev @ 0x1] [1] ZoomAudioDevice\n';
    assert.deepEqual(parseAvfoundationDevices(avf), [{ id: '0', label: 'MacBook Pro Microphone', isDefault: true }, { id: '1', label: 'ZoomAudioDevice' }]);
  });

  it('parses pw-dump: audio sources by node name, the default from the "default" metadata, [] for garbage', () => {
    // Trimmed from PipeWire 0.3.65's pw-dump on the virtual microphone of scripts/virtual-pipewire.sh.
    const node = (id: number, props: Record<string, string>) => ({ id, type: 'PipeWire:Interface:Node', info: { props } });
    const dump = [
      { id: 0, type: 'PipeWire:Interface:Core', info: { props: { 'core.name': 'pipewire-0' } } },
      node(28, { 'node.name': 'Dummy-Driver', 'factory.name': 'support.node.driver' }),
      { id: 30, type: 'PipeWire:Interface:Metadata', props: { 'metadata.name': 'settings' }, metadata: [{ subject: 0, key: 'clock.rate', value: 48000 }] },
      node(33, { 'media.class': 'Audio/Source', 'node.name': 'virtual_mic', 'node.description': 'Virtual Microphone' }),
      node(34, { 'media.class': 'Audio/Sink', 'node.name': 'virtual_mic_in', 'node.description': 'Virtual Microphone' }),
      node(40, { 'media.class': 'Audio/Duplex', 'node.name': 'usb_headset', 'node.nick': 'Headset' }),
      node(41, { 'media.class': 'Stream/Input/Audio', 'node.name': 'pw-record' }),
      node(42, { 'media.class': 'Video/Source', 'node.name': 'camera' }),
      { id: 36, type: 'PipeWire:Interface:Metadata', props: { 'metadata.name': 'default' }, metadata: [
        { subject: 0, key: 'default.audio.sink', type: 'Spa:String:JSON', value: { name: 'virtual_mic_in' } },
        { subject: 0, key: 'default.audio.source', type: 'Spa:String:JSON', value: { name: 'virtual_mic' } },
      ] },
    ];
    assert.deepEqual(parsePwDump(JSON.stringify(dump)), [
      { id: 'virtual_mic', label: 'Virtual Microphone', isDefault: true },
      { id: 'usb_headset', label: 'Headset' },
    ]);
    // Some versions print the metadata value as a JSON string.
    (dump.at(-1) as { metadata: { value: unknown }[] }).metadata[1]!.value = '{"name":"usb_headset"}';
    assert.deepEqual(parsePwDump(JSON.stringify(dump)).filter(d => d.isDefault).map(d => d.id), ['usb_headset']);
    assert.deepEqual(parsePwDump('pw-dump: error: failed to connect'), []);
    assert.deepEqual(parsePwDump('{"not":"an array"}'), []);
  });
});
