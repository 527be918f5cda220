// `noteseal transcribe` (issue 31) as a user runs it: the real PocketSphinx on real speech (Debian's
// pocketsphinx-testdata LibriVox clips), from a recording made by the product's Recorder and from a WAV
// sealed with `noteseal encrypt`; to stdout, and into a sealed note's "Transcript" section (added, then
// replaced); through the passphrase and through the agent; the errors (no engine, a failing engine, an
// identity that only reads, a note that changed) leave the note as it was.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Recorder, type RecordingResult } from '../../../server/src/recording/recorder';
import { runCli } from '../agent/cliRunner';
import { newKeyring, PASSPHRASE, tempDir } from '../recording/helpers';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const clip = (n: string) => path.join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`);

async function setup(t: TestContext) {
  const dir = tempDir(t, 'noteseal-transcribe-cli-');
  const { keyring, keyfile } = await newKeyring(dir);
  t.after(() => keyring.lock());
  await fs.writeFile(path.join(dir, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  await fs.mkdir(path.join(dir, 'run'), { mode: 0o700 });
  const env = { HOME: dir, NOTESEAL_KEYFILE: keyfile, XDG_RUNTIME_DIR: path.join(dir, 'run') };
  const withPass = { ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass') };
  const cli = (args: string[], e: Record<string, string> = withPass) => runCli(args, e, { cwd: dir });
  const seal = async (plain: string, out: string) => {
    const r = await cli(['encrypt', plain, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
  };
  const open = async (enc: string) => {
    const r = await cli(['decrypt', enc]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  return { dir, keyring, env, withPass, cli, seal, open };
}

describe('noteseal transcribe (real speech, real PocketSphinx)', () => {
  it('a recording made by the Recorder: to stdout, then into the sealed note (added, then replaced), via the passphrase and the agent', async t => {
    const { dir, keyring, env, cli, seal, open } = await setup(t);
    const rec = new Recorder({ keys: keyring, folder: dir, captureOverride: ['sox', clip('0880'), clip('0890'), '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-'] });
    const stopped = once(rec, 'stopped') as Promise<[RecordingResult]>;
    const { path: recording } = await rec.start({ title: 'Austen' });
    await stopped;

    const out = await cli(['transcribe', recording]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^\[0:00\] he was not/m, out.stdout);
    assert.match(out.stdout, /selfish/, out.stdout);
    for (const line of out.stdout.trimEnd().split('\n')) assert.match(line, /^\[\d+:\d\d\] \S/, 'one "[m:ss] text" line per segment');

    // Into a note someone already wrote (sealed with `noteseal encrypt`), twice: the second replaces the first.
    const note = path.join(dir, 'meeting.md.enc');
    await fs.writeFile(path.join(dir, 'plain.md'), '# Meeting\n\n## Notes\n\nmy own words stay\n');
    await seal(path.join(dir, 'plain.md'), note);
    await fs.rm(path.join(dir, 'plain.md'));
    const first = await cli(['transcribe', recording, '-o', note]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Transcribed .* into .*meeting\.md\.enc/);
    assert.equal(first.stdout, '', 'with -o nothing goes to stdout');
    assert.ok(!(await fs.readFile(note)).includes('selfish'), 'the note on disk is sealed');
    const text = await open(note);
    assert.match(text, /## Notes\n\nmy own words stay\n/);
    assert.match(text, /## Transcript\n\n_Transcribed on this machine by PocketSphinx from .*\.wav\.enc\._\n\n- \*\*0:00\*\* he was not/);

    // Search sees it: a word said in the meeting is found by `noteseal grep` (the engine of Search Encrypted Notes).
    const found = await cli(['grep', '-w', 'selfish', '.']);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, /^meeting\.md\.enc:\d+:- \*\*0:0\d\*\* .*selfish/m, found.stdout);

    // Through the agent: no passphrase given to this run.
    assert.equal((await cli(['agent', 'start'])).code, 0);
    let again;
    try { again = await cli(['transcribe', recording, '-o', note], env); } finally { await cli(['agent', 'stop'], env); }
    assert.equal(again.code, 0, again.stderr);
    const replaced = await open(note);
    assert.equal(replaced.match(/## Transcript/g)?.length, 1, 'the same recording\'s transcript is replaced, not added twice');
    assert.match(replaced, /my own words stay/);
  });

  it('a WAV sealed with `noteseal encrypt`, to stdout and into a new note; no engine, a failing engine, whisper without a model', async t => {
    const { dir, cli, open, seal, withPass } = await setup(t);
    const sealed = path.join(dir, 'clip.wav.enc');
    await seal(clip('0930'), sealed);
    const out = await cli(['transcribe', sealed]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^\[0:00\] he might even have been made/, out.stdout);

    const fresh = path.join(dir, 'notes', 'clip.md.enc');
    await fs.mkdir(path.dirname(fresh));
    const made = await cli(['transcribe', sealed, '-o', fresh, '--engine', 'pocketsphinx']);
    assert.equal(made.code, 0, made.stderr);
    const text = await open(fresh);
    assert.match(text, /^# clip\n/);
    assert.match(text, /\(\.\.\/clip\.wav\.enc\)/, 'the new note links to the recording from its own folder');
    assert.match(text, /- \*\*0:00\*\* he might even have been made/);

    const before = await fs.readFile(fresh);
    const missing = await cli(['transcribe', sealed, '-o', fresh, '--command', path.join(dir, 'no-such-engine')]);
    assert.equal(missing.code, 14, missing.stderr);
    assert.match(missing.stderr, /was not found/);
    // A program planted in the folder (a cloned repository's bin/) is not found through relative PATH entries.
    await fs.mkdir(path.join(dir, 'bin'));
    const planted = path.join(dir, 'bin', 'pocketsphinx_continuous');
    writeFileSync(planted, `#!${process.execPath}\nprocess.stdin.resume(); process.stdin.on('end', () => process.stdout.write('pwned\\n'))\n`);
    chmodSync(planted, 0o755);
    const relative = await cli(['transcribe', sealed], { ...withPass, PATH: 'bin:.:' });
    assert.equal(relative.code, 14, relative.stdout + relative.stderr);
    assert.doesNotMatch(relative.stdout, /pwned/);
    const failing = path.join(dir, 'engine');
    writeFileSync(failing, `#!${process.execPath}\nprocess.exit(3)\n`);
    chmodSync(failing, 0o755);
    const failed = await cli(['transcribe', sealed, '-o', fresh, '--command', failing]);
    assert.equal(failed.code, 14);
    assert.match(failed.stderr, /failed \(exit code 3\)/);
    const whisper = await cli(['transcribe', sealed, '--engine', 'whisper']);
    assert.equal(whisper.code, 1);
    assert.match(whisper.stderr, /whisper\.cpp needs a model file/);
    assert.equal((await cli(['transcribe', sealed, '--engine', 'vosk'])).code, 1);
    assert.equal((await cli(['transcribe', sealed, '-o', path.join(dir, 'plain.md')])).code, 1, '-o must be an .enc note');
    assert.deepEqual(await fs.readFile(fresh), before, 'failures leave the note byte for byte');
  });
});
