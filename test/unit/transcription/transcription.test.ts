// Transcripts of sealed recordings (issue 31): real human speech (Debian's pocketsphinx-testdata, five
// LibriVox clips with their reference transcription) captured through the product's own Recorder, sealed,
// then transcribed by the real PocketSphinx with the audio on a pipe; the canary search finds neither the
// audio nor the transcript on disk. Engine failures (early exit, hang, garbage, flood), cancel, and the
// engine lookup (absolute PATH entries only, what to install per platform) with stand-in engines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Recorder, type RecordingKeySource, type RecordingResult } from '../../../server/src/recording/recorder';
import { parseWavHeader, wavHeader } from '../../../server/src/recording/wav';
import { engineInstallHint, pocketsphinxArgs, resolveEngine, whisperArgs } from '../../../server/src/transcription/engine';
import { defaultNotePath, TranscriptionService } from '../../../server/src/transcription/transcriptionService';
import { parsePocketsphinxOutput, parseWhisperOutput, withTranscript } from '../../../server/src/transcription/transcript';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring, PASSPHRASE, tempDir } from '../recording/helpers';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0870', '0880', '0890', '0920', '0930'].map(n => path.join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`));
const noSecrets = { get: async () => null, store: async () => {}, delete: async () => {} };

/** The reference transcription, in clip order, as one word list. */
function referenceWords(): string[] {
  const lines = readFileSync(path.join(LIBRIVOX, 'transcription'), 'utf8').split('\n').filter(Boolean);
  return lines.flatMap(l => l.replace(/<\/?s>|\(.*\)$/g, '').trim().split(/\s+/).filter(Boolean));
}

/** Word error rate: word-level edit distance over the reference's length. */
export function wordErrorRate(reference: readonly string[], hypothesis: readonly string[]): number {
  let prev = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const row = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[hypothesis.length]! / reference.length;
}

/** The transcript's words, from the note's "Transcript" section (timestamps and the byline left out). */
function transcriptWords(note: string): string[] {
  return note.split('\n').filter(l => l.startsWith('- **') && /^- \*\*\d/.test(l)).flatMap(l => l.replace(/^- \*\*[\d:]+\*\* /, '').split(' '));
}

/** The clips' PCM, concatenated as sox does for the capture command below. */
function speechPcm(): Buffer {
  return Buffer.concat(CLIPS.map(f => { const b = readFileSync(f); return b.subarray(parseWavHeader(b).dataOffset); }));
}

/** PocketSphinx alone, on the same PCM through a shell pipe (it cannot open a Node socket as /dev/stdin). */
async function pocketsphinxAlone(pcm: Buffer, cwd: string): Promise<string> {
  const child = spawn('/bin/sh', ['-c', 'cat | pocketsphinx_continuous "$@"', 'sh', ...pocketsphinxArgs({})], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  const out: Buffer[] = [];
  child.stdout.on('data', d => out.push(d));
  child.stdin.end(pcm);
  await once(child, 'close');
  return Buffer.concat(out).toString('utf8');
}

async function setup(t: TestContext) {
  const dir = tempDir(t, 'noteseal-transcribe-');
  const { keyring, keyfile } = await newKeyring(dir);
  const vault = new VaultService(keyfile, noSecrets, TEST_KDF_POLICY);
  await vault.unlock(PASSPHRASE, false);
  t.after(() => vault.lock());
  const files = new EncFileSystem(vault);
  const folders: { folder: string; emptyAfter?: boolean }[] = [];
  const progress: [number, number][] = [];
  const service = (o: { idleMs?: number; maxOutputBytes?: number } = {}) => new TranscriptionService(vault, files, (_t, done, total) => progress.push([done, total]), {
    ...o, onPrivateFolder: (folder, emptyAfter) => { folders.push({ folder, ...(emptyAfter === undefined ? {} : { emptyAfter }) }); },
  });
  return { dir, keyring, vault, files, service, folders, progress };
}

/** Records the clips through the product's Recorder (sox plays them into the capture pipe) into a sealed .wav.enc. */
async function recordSpeech(dir: string, keys: RecordingKeySource): Promise<string> {
  await fs.mkdir(path.join(dir, 'meetings'));
  const rec = new Recorder({ keys, folder: path.join(dir, 'meetings'), captureOverride: ['sox', ...CLIPS, '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-'] });
  const stopped = once(rec, 'stopped') as Promise<[RecordingResult]>;
  const started = await rec.start({ title: 'Austen reading' });
  const [result] = await stopped;
  assert.ok(result.durationSeconds > 24, `recorded ${result.durationSeconds} s of the 24.7 s of speech`);
  return started.path;
}

/**
 * Files under `roots` changed since `since` (ms), below 64 MiB, that contain any of `needles`. GNU find lists
 * the candidates (a home folder holds hundreds of thousands of files); Node reads them.
 */
async function findOnDisk(needles: Buffer[], roots: string[], since: number): Promise<string[]> {
  const find = spawn('find', [...roots, '-xdev', '(', '-name', 'node_modules', '-o', '-name', '.git', ')', '-prune', '-o',
    '-type', 'f', '-newermt', new Date(since).toISOString(), '-size', '-64M', '-print0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const out: Buffer[] = [];
  find.stdout.on('data', d => out.push(d));
  await once(find, 'close');
  const hits: string[] = [];
  for (const file of Buffer.concat(out).toString('utf8').split('\0').filter(Boolean)) {
    try {
      const bytes = await fs.readFile(file);
      if (needles.some(n => bytes.includes(n))) hits.push(file);
    } catch { /* gone, or not ours to read */ }
  }
  return hits;
}

describe('transcription with PocketSphinx (real speech, real engine)', () => {
  it('a recording made by the Recorder is transcribed into its sealed meeting note; nothing reaches the disk', async t => {
    const started = Date.now() - 1000;
    const { dir, keyring, files, service, folders, progress } = await setup(t);
    const recording = await recordSpeech(dir, keyring);
    // The meeting note the client writes when a recording stops, with the user's own notes in it.
    await files.writeFile(defaultNotePath(recording).slice(0, -4), Buffer.from('# Austen reading\n\n## Notes\n\nmy own words stay\n'), { create: true, overwrite: false });

    const result = await service().transcribe('t1', { path: recording, settings: {} });
    assert.equal(result.notePath, defaultNotePath(recording));
    assert.equal(result.engine, 'PocketSphinx');
    assert.ok(Math.abs(result.durationSeconds - 24.73) < 0.1, `${result.durationSeconds} s of audio`);
    assert.ok(progress.length > 0 && progress.at(-1)![0] === progress.at(-1)![1], 'progress reached the whole audio');

    const note = (await files.readFile(result.notePath.slice(0, -4))).toString('utf8');
    assert.match(note, /## Notes\n\nmy own words stay\n/, 'the note keeps what was in it');
    assert.match(note, /## Transcript\n\n_Transcribed on this machine by PocketSphinx/);
    assert.match(note, /- \*\*0:00\*\* /, 'segments carry their timestamps');
    const heard = transcriptWords(note);
    for (const w of ['john', 'consider', 'young', 'man', 'selfish', 'respectable']) assert.ok(heard.includes(w), `"${w}" is in the transcript: ${heard.join(' ')}`);

    // The pipe delivers the audio intact: the same words as PocketSphinx alone on the plain PCM.
    const pcm = speechPcm();
    const alone = parsePocketsphinxOutput(await pocketsphinxAlone(pcm, dir)).flatMap(s => s.text.split(' '));
    const vsAlone = wordErrorRate(alone, heard);
    assert.ok(vsAlone <= 0.03, `NoteSeal's transcript is ${(vsAlone * 100).toFixed(1)} % away from PocketSphinx alone`);
    // And against the human reference: PocketSphinx scores about 0.3 on these clips; we hold 0.45.
    const vsReference = wordErrorRate(referenceWords(), heard);
    assert.ok(vsReference <= 0.45, `word error rate against the reference: ${vsReference.toFixed(2)}`);
    t.diagnostic(`WER vs PocketSphinx alone ${vsAlone.toFixed(3)}, vs reference ${vsReference.toFixed(3)}`);

    // The engine ran in an empty private folder that was empty afterwards and is gone.
    assert.equal(folders.length, 2);
    assert.equal(folders[1]!.emptyAfter, true, 'the engine left nothing in its folder');
    assert.equal(existsSync(folders[0]!.folder), false);

    // The canary search: a fragment of the audio and a line of the transcript, nowhere on disk.
    const phrase = note.split('\n').find(l => /^- \*\*0:0\d\*\* \S+ \S+ \S+/.test(l))!.replace(/^- \*\*[\d:]+\*\* /, '');
    const needles = [pcm.subarray(200_000, 200_064), Buffer.from(phrase, 'utf8'), Buffer.from(phrase, 'utf16le')];
    const roots = [dir, os.tmpdir(), '/dev/shm', os.homedir()];
    const control = path.join(os.tmpdir(), `noteseal-transcribe-control-${process.pid}`);
    writeFileSync(control, Buffer.concat([Buffer.from('control '), needles[1]!]));
    try {
      assert.deepEqual(await findOnDisk(needles, [os.tmpdir()], started), [control], 'the planted control is found');
    } finally {
      await fs.rm(control);
    }
    assert.deepEqual(await findOnDisk(needles, roots, started), [], 'neither audio nor transcript is on disk');
  });

  it('a WAV sealed as an ordinary file (stereo) is mixed down in memory and transcribed into a new note', async t => {
    const { dir, files, service } = await setup(t);
    const mono = readFileSync(CLIPS[1]!).subarray(44);
    const stereo = Buffer.alloc(mono.length * 2);
    for (let i = 0; i < mono.length; i += 2) { stereo.writeInt16LE(mono.readInt16LE(i), 2 * i); stereo.writeInt16LE(mono.readInt16LE(i), 2 * i + 2); }
    const sealed = path.join(dir, 'clip.wav.enc');
    await files.encryptTo(sealed, Buffer.concat([wavHeader({ sampleRate: 16000, channels: 2, bitsPerSample: 16 }, stereo.length), stereo]));
    const out = path.join(dir, 'elsewhere.md.enc');
    const r = await service().transcribe('t2', { path: sealed, notePath: out, settings: { model: '/usr/share/pocketsphinx/model/en-us', language: 'en-us' } });
    assert.equal(r.notePath, out);
    const note = (await files.readFile(out.slice(0, -4))).toString('utf8');
    assert.match(note, /^# clip\n/);
    assert.match(note, /\[clip\.wav\.enc\]\(\.\/clip\.wav\.enc\)/);
    assert.match(note, /- \*\*0:00\*\* he was not/, note);
  });
});

/** A stand-in engine: a Node script that behaves as told. */
function fakeEngine(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!${process.execPath}\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('transcription engine failures leave the note as it was', () => {
  const cases: [string, string, { idleMs?: number; maxOutputBytes?: number }, RegExp][] = [
    ['exits early', `process.exit(3)`, {}, /failed \(exit code 3\)/],
    ['exits 0 without reading', `process.stdout.write('hello world\\n')`, {}, /ended before it had heard all the audio/],
    ['hangs', `process.stdin.on('data', () => {}); setInterval(() => {}, 1000)`, { idleMs: 1500 }, /stopped responding/],
    ['prints garbage', `process.stdin.resume(); process.stdin.on('end', () => process.stdout.write(Buffer.from([0, 1, 2, 255, 254, 10, 7])))`, {}, /could not be read as a transcript/],
    ['floods its output', `process.stdin.resume(); const b = Buffer.alloc(65536, 'a'); const f = () => process.stdout.write(b, f); f()`, { maxOutputBytes: 256 * 1024 }, /printed far more than a transcript/],
  ];
  for (const [title, body, opts, message] of cases) {
    it(`an engine that ${title}`, async t => {
      const { dir, files, service, folders } = await setup(t);
      const sealed = path.join(dir, 'talk.wav.enc');
      await files.encryptTo(sealed, Buffer.concat([wavHeader(undefined, 640_000), Buffer.alloc(640_000, 1)]));
      const before = '# Talk\n\nkept as it was\n';
      await files.writeFile(path.join(dir, 'talk.md'), Buffer.from(before), { create: true, overwrite: false });
      const onDisk = await fs.readFile(path.join(dir, 'talk.md.enc'));
      const engine = fakeEngine(dir, 'engine', body);
      await assert.rejects(service(opts).transcribe('t', { path: sealed, settings: { command: engine } }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'TRANSCRIPTION_FAILED');
        assert.match(e.message, message);
        return true;
      });
      assert.deepEqual(await fs.readFile(path.join(dir, 'talk.md.enc')), onDisk, 'the sealed note is byte for byte as it was');
      assert.equal(existsSync(folders[0]!.folder), false, 'the private folder is gone');
    });
  }

  it('cancel (and a lock, which cancels every transcription) stops the engine and writes nothing', async t => {
    const { dir, files, service } = await setup(t);
    const sealed = path.join(dir, 'talk.wav.enc');
    await files.encryptTo(sealed, Buffer.concat([wavHeader(undefined, 64000), Buffer.alloc(64000, 1)]));
    const engine = fakeEngine(dir, 'engine', `process.stdin.on('data', () => {}); setInterval(() => {}, 1000)`);
    const s = service();
    for (const stop of [() => s.cancel('c'), () => s.cancelAll()]) {
      const running = s.transcribe('c', { path: sealed, settings: { command: engine } });
      while (!s.isRunning) await new Promise(r => setTimeout(r, 20));
      setTimeout(stop, 300);
      await assert.rejects(running, { code: 'CANCELLED' });
      assert.equal(existsSync(path.join(dir, 'talk.md.enc')), false, 'no note was written');
    }
  });
});

describe('finding the engine', () => {
  it('only on absolute PATH entries; a path must be absolute; missing says what to install, per platform', async t => {
    const dir = tempDir(t, 'noteseal-engine-');
    const planted = path.join(dir, 'bin');
    await fs.mkdir(planted);
    fakeEngine(planted, 'pocketsphinx_continuous', '');
    const cwd = process.cwd();
    process.chdir(dir);
    t.after(() => process.chdir(cwd));
    await assert.rejects(resolveEngine({}, { PATH: 'bin:.:' }, 'linux'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ENGINE_MISSING');
      assert.match(e.message, /sudo apt install pocketsphinx pocketsphinx-en-us/);
      return true;
    });
    await assert.rejects(resolveEngine({ command: 'bin/pocketsphinx_continuous' }, { PATH: '' }, 'linux'), /a path must be absolute/);
    assert.equal((await resolveEngine({}, { PATH: planted }, 'linux')).program, path.join(planted, 'pocketsphinx_continuous'));
    assert.equal((await resolveEngine({ command: path.join(planted, 'pocketsphinx_continuous') }, { PATH: '' }, 'linux')).program, path.join(planted, 'pocketsphinx_continuous'));
    assert.match(engineInstallHint('darwin'), /noteseal\.transcription\.command/);
    await assert.rejects(resolveEngine({}, { PATH: planted }, 'win32'), /not available on Windows/);
    await assert.rejects(resolveEngine({ engine: 'vosk' }, { PATH: planted }, 'linux'), /"vosk" is not one NoteSeal can run/);
    await assert.rejects(resolveEngine({ language: 'de' }, { PATH: planted }, 'linux'), /set noteseal\.transcription\.model/);
    await assert.rejects(resolveEngine({ model: '/m', language: '../x' }, { PATH: planted }, 'linux'), /must be a model name/);
    assert.deepEqual(pocketsphinxArgs({ model: '/m', language: 'fr' }).slice(-6), ['-hmm', '/m/fr', '-lm', '/m/fr.lm.bin', '-dict', '/m/cmudict-fr.dict']);
  });

  it('parses PocketSphinx output: segments with times, fillers and alternate pronunciations dropped', () => {
    const out = 'hello world\n<s> 0.000 0.100 0.9\nhello(2) 0.110 0.500 0.8\n<sil> 0.51 0.6 0.9\nworld 0.610 1.000 0.7\n</s> 1.010 1.100 1.0\nagain\n<s> 3.5 3.6 1\nagain 3.61 4.0 1e-05\n</s> 4.0 4.1 1\n';
    assert.deepEqual(parsePocketsphinxOutput(out), [{ start: 0, end: 1.1, text: 'hello world' }, { start: 3.5, end: 4.1, text: 'again' }]);
    assert.throws(() => parsePocketsphinxOutput('hello\n\u0000\u0001 garbage\n'), /not a transcript/);
    const by = (name: string) => `_Transcribed on this machine by PocketSphinx from ${name}._`;
    const old = `# T\n\n## Transcript\n\n${by('a.wav.enc')}\n\n- **0:00** old\n\n## Later\n\nx\n`;
    assert.equal(withTranscript(old, `## Transcript\n\n${by('a.wav.enc')}\n\nnew\n`, 'a.wav.enc'), `# T\n\n## Transcript\n\n${by('a.wav.enc')}\n\nnew\n\n## Later\n\nx\n`, 'the same recording\'s transcript is replaced');
    assert.equal(withTranscript(old, `## Transcript\n\n${by('b.wav.enc')}\n\nnew\n`, 'b.wav.enc'), `${old}\n## Transcript\n\n${by('b.wav.enc')}\n\nnew\n`, 'another recording\'s transcript is kept');
    assert.equal(withTranscript('# T\n\n## Notes\n', '## Transcript\n\nnew\n', 'a.wav.enc'), '# T\n\n## Notes\n\n## Transcript\n\nnew\n');
  });

  it('whisper.cpp: whisper-cli with the chosen model, audio as a WAV on stdin (-f -), no file written; found like PocketSphinx', async t => {
    const dir = tempDir(t, 'noteseal-whisper-');
    assert.deepEqual(whisperArgs({ model: '/models/ggml-base.en.bin' }), ['-m', '/models/ggml-base.en.bin', '-l', 'en', '-np', '-f', '-']);
    assert.deepEqual(whisperArgs({ model: '/m.bin', language: 'de' }).slice(2, 4), ['-l', 'de']);
    assert.deepEqual(whisperArgs({ model: '/m.bin', language: 'auto' }).slice(2, 4), ['-l', 'auto']);
    assert.throws(() => whisperArgs({}), /needs a model file/);
    assert.throws(() => whisperArgs({ model: 'models/x.bin' }), /must be an absolute path/);
    assert.throws(() => whisperArgs({ model: '/m.bin', language: '../x' }), /must be a model name/);
    await assert.rejects(resolveEngine({ engine: 'whisper', model: '/m.bin' }, { PATH: 'bin:.' }, 'darwin'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ENGINE_MISSING');
      assert.match(e.message, /brew install whisper-cpp/);
      return true;
    });
    fakeEngine(dir, 'whisper-cli', '');
    const found = await resolveEngine({ engine: 'whisper', model: '/m.bin' }, { PATH: dir }, 'win32');
    assert.equal(found.program, path.join(dir, 'whisper-cli'), 'whisper.cpp reads stdin with fread: Windows is not refused');
    assert.equal(found.input, 'wav');
  });

  it('parses whisper-cli output (cli.cpp: a blank line, then "[hh:mm:ss.mmm --> hh:mm:ss.mmm]  text" per segment)', () => {
    // As whisper-cli prints it for whisper.cpp's samples/jfk.wav (README), and a longer run past an hour.
    const out = '\n[00:00:00.000 --> 00:00:11.000]   And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.\n'
      + '[00:00:11.000 --> 00:00:13.500]   [BLANK_AUDIO]\n[01:02:03.250 --> 01:02:05.000]   (music)\n[01:02:05.000 --> 01:02:07.120]   Thank you.\n';
    assert.deepEqual(parseWhisperOutput(out), [
      { start: 0, end: 11, text: 'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.' },
      { start: 3725, end: 3727.12, text: 'Thank you.' },
    ]);
    assert.throws(() => parseWhisperOutput('whisper_init_from_file: loading model\n'), /not a transcript/);
    assert.throws(() => parseWhisperOutput('[00:00:05.000 --> 00:00:01.000]  backwards\n'), /ends before it starts/);
  });

  it('whisper.cpp through the worker: a stand-in whisper-cli gets a WAV header and the whole PCM on stdin, its segments land in the note', async t => {
    const { dir, files, service } = await setup(t);
    const sealed = path.join(dir, 'talk.wav.enc');
    const pcm = Buffer.alloc(96_000);
    for (let i = 0; i < pcm.length; i += 2) pcm.writeInt16LE((i % 400) - 200, i);
    await files.encryptTo(sealed, Buffer.concat([wavHeader(undefined, pcm.length), pcm]));
    // Checks what it was given exactly as whisper.cpp would need it, then prints in whisper-cli's format.
    const engine = fakeEngine(dir, 'whisper-cli', `
const argv = process.argv.slice(2);
if (argv.join(' ') !== '-m ${dir}/ggml-tiny.en.bin -l en -np -f -') process.exit(9);
const parts = []; process.stdin.on('data', d => parts.push(d)); process.stdin.on('end', () => {
  const b = Buffer.concat(parts);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.readUInt32LE(40) !== ${pcm.length} || b.length !== 44 + ${pcm.length} || b.readUInt16LE(22) !== 1) process.exit(8);
  if (require('fs').readdirSync('.').length) process.exit(7);
  process.stdout.write('\\n[00:00:00.000 --> 00:00:02.500]   The budget is final.\\n[00:00:02.500 --> 00:00:03.000]   Done.\\n');
});`);
    const r = await service().transcribe('w', { path: sealed, settings: { engine: 'whisper', command: engine, model: path.join(dir, 'ggml-tiny.en.bin') } });
    assert.equal(r.engine, 'whisper.cpp');
    const note = (await files.readFile(r.notePath.slice(0, -4))).toString('utf8');
    assert.match(note, /_Transcribed on this machine by whisper\.cpp from talk\.wav\.enc\._\n\n- \*\*0:00\*\* The budget is final\.\n- \*\*0:02\*\* Done\.\n/, note);
    // whisper-cli exits 0 printing nothing when it cannot decode its input: an error, never an empty transcript.
    const silent = fakeEngine(dir, 'silent', `process.stdin.resume(); process.stdin.on('end', () => {})`);
    await assert.rejects(service().transcribe('w2', { path: sealed, notePath: path.join(dir, 'other.md.enc'), settings: { engine: 'whisper', command: silent, model: '/m.bin' } }), /printed no segment/);
    assert.equal(existsSync(path.join(dir, 'other.md.enc')), false);
  });
});
