// Meeting recording through the extension, in a real extension host, with real audio: a virtual
// microphone (started by the runner) hears espeak-ng speech while the worker captures and encrypts it.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { decryptBuffer } from '../../../server/src/crypto/format';
import { bestEnvelopeCorrelation } from '../../unit/recording/helpers';
import { api, externalKeyring, sleep, unlocked, waitFor, waitUntil, workspaceDir, PASSPHRASE } from './helpers';

const TEXT = 'Hello team. This is the weekly planning meeting.';
const BYTE_RATE = 32000;
const WAV_HEADER = 44;

async function decryptRecording(file: string): Promise<Buffer> {
  const k = await externalKeyring();
  try { return await decryptBuffer(fs.readFileSync(file), k.unwrap); } finally { k.lock(); }
}

const config = () => vscode.workspace.getConfiguration('noteseal.recording');

describe('meeting recording (real audio from a virtual microphone)', () => {
  let refWav: string;
  let refPcm: Buffer;
  const meetings = () => path.join(workspaceDir(), 'meetings');

  before(async () => {
    assert.ok(process.env.PULSE_SERVER, 'the runner started the virtual microphone');
    await unlocked();
    await config().update('device', 'virtmic', vscode.ConfigurationTarget.Global);
    refWav = path.join(workspaceDir(), '..', `${path.basename(workspaceDir())}-ref.wav`);
    execFileSync('espeak-ng', ['-s', '190', '-w', refWav, TEXT]);
    refPcm = execFileSync('sox', [refWav, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed', '-t', 'raw', '-'], { maxBuffer: 64 << 20 });
  });
  after(async () => {
    await config().update('device', undefined, vscode.ConfigurationTarget.Global);
    await config().update('captureCommand', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(refWav, { force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const speak = () => {
    const p = spawn('paplay', ['--device=virtmic_sink', refWav], { env: process.env, stdio: 'ignore' });
    return new Promise(r => p.on('close', r));
  };

  it('Start / Stop: the speech is captured, sealed as it arrives, and a meeting note opens', async () => {
    const noteseal = await api();
    const started = await noteseal.recording.start('Weekly sync');
    assert.ok(started, 'recording started');
    assert.match(path.basename(started.path), /^\d{4}-\d{2}-\d{2} \d{4} Weekly sync\.wav\.enc$/);
    assert.equal(path.dirname(started.path), meetings());
    const spoken = speak();
    await sleep(1500);
    const sealedWhileRecording = fs.statSync(started.path).size;
    assert.ok(sealedWhileRecording > 32_000, `chunks reach the disk while recording (${sealedWhileRecording} bytes after 1.5 s)`);
    await spoken;
    await sleep(1000);
    const stopAt = Date.now();
    const summary = await noteseal.recording.stop();
    assert.ok(summary);
    assert.equal(summary.endedBy, 'stop');
    const wall = (stopAt - Date.parse(summary.startedAt)) / 1000;
    const plain = await decryptRecording(summary.path);
    const pcm = plain.subarray(WAV_HEADER);
    const durationError = Math.abs(summary.durationSeconds - wall) / wall;
    const ratio = pcm.length / (wall * BYTE_RATE);
    const { correlation } = bestEnvelopeCorrelation(pcm, refPcm, 800);
    console.log(`    recording: wall ${wall.toFixed(2)} s, file ${summary.durationSeconds.toFixed(2)} s (error ${(durationError * 100).toFixed(2)}%), bytes ratio ${ratio.toFixed(3)}, envelope correlation ${correlation.toFixed(3)}`);
    assert.ok(durationError < 0.02, `duration within 2% of wall-clock time (${durationError})`);
    assert.ok(ratio >= 0.98 && ratio <= 1.05, `received/expected audio ${ratio}`);
    assert.ok(correlation > 0.9, `speech envelope correlation ${correlation}`);
    const enc = fs.readFileSync(summary.path);
    for (let o = 0; o + 1024 <= pcm.length; o += 4096) assert.equal(enc.indexOf(pcm.subarray(o, o + 1024)), -1, 'no plaintext PCM in the .enc file');
    // Nor anywhere else: the workspace, this host's whole state dir (user data, extensions, its TMPDIR, which
    // the worker inherits), and every file written since the recording began under /tmp (the browser
    // profile, the workspace), searched for loud 1 KiB windows.
    const windows: Buffer[] = [];
    for (let o = 0; o + 1024 <= pcm.length && windows.length < 12; o += 8192) {
      const w = pcm.subarray(o, o + 1024);
      if (new Int16Array(w.buffer, w.byteOffset, 512).some(v => Math.abs(v) > 2000)) windows.push(Buffer.from(w));
    }
    assert.ok(windows.length >= 4, 'the recording has speech to look for');
    const hits = new Set<string>();
    const since = Date.parse(summary.startedAt) - 60_000;
    const walk = (dir: string, onlyNew: boolean): void => {
      let entries: fs.Dirent[];
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) { walk(p, onlyNew); continue; }
        if (!e.isFile() || p === refWav) continue;
        try {
          const st = fs.statSync(p);
          if ((onlyNew && st.mtimeMs < since) || st.size > 256 << 20) continue;
          const bytes = fs.readFileSync(p);
          if (windows.some(w => bytes.includes(w))) hits.add(p);
        } catch { /* vanished */ }
      }
    };
    // A planted copy must be found (so an empty result means something).
    const control = path.join(workspaceDir(), 'control-plaintext.bin');
    fs.writeFileSync(control, Buffer.concat([Buffer.alloc(100), windows[1]!, Buffer.alloc(100)]));
    walk(workspaceDir(), false);
    // On the offline host os.tmpdir() is tmp/ inside the run's state dir; search all of that state dir.
    if (/noteseal-itest-/.test(os.tmpdir())) walk(path.dirname(os.tmpdir()), false);
    walk('/tmp', true);
    fs.rmSync(control);
    assert.deepEqual([...hits], [control], 'no plaintext audio on disk but the planted copy');
    // The meeting note: encrypted Markdown beside the recording, open for writing.
    const noteFile = summary.path.replace(/\.wav\.enc$/, '.md.enc');
    await waitUntil('the meeting note to open', () => vscode.window.activeTextEditor?.document.uri.path === vscode.Uri.file(noteFile.replace(/\.enc$/, '')).path);
    const note = vscode.window.activeTextEditor!.document.getText();
    assert.match(note, /^# Weekly sync/);
    assert.match(note, /Duration:\*\* \d+:\d\d/);
    assert.match(note, /\*\*Device:\*\* virtmic, via .*parec/);
    assert.match(note, /\.wav\.enc\)/);
    // Not its title: a version 2 write signature binds the file's path (which holds the title) in the clear.
    assert.ok(!fs.readFileSync(noteFile).includes(Buffer.from('**Device:**')), 'the note is encrypted');
  });

  it('Export Recording writes a plaintext WAV only where asked, with exact sizes; Shred makes every copy unreadable', async () => {
    const noteseal = await api();
    const started = await noteseal.recording.start('To shred');
    assert.ok(started);
    await sleep(1500);
    const summary = (await noteseal.recording.stop())!;
    const out = path.join(workspaceDir(), 'export.wav');
    const r = await noteseal.recording.exportTo(summary.path, out);
    assert.ok(Math.abs(r.durationSeconds - summary.durationSeconds) < 0.01);
    const wav = fs.readFileSync(out);
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.readUInt32LE(40), wav.length - 44, 'the data size is exact');
    const copy = `${summary.path}.copy`;
    fs.copyFileSync(summary.path, copy);
    assert.equal(await noteseal.recording.shred(summary.path), true);
    assert.equal(fs.existsSync(summary.path), false);
    await assert.rejects(decryptRecording(copy), (e: Error & { code?: string }) => e.code === 'KEY_NOT_FOUND');
    fs.rmSync(copy);
  });

  it('the meeting note never overwrites an existing note of the same name', async () => {
    const noteseal = await api();
    const started = (await noteseal.recording.start('Name clash'))!;
    const taken = started.path.replace(/\.wav\.enc$/, '.md.enc');
    fs.writeFileSync(taken, 'an existing note of that name');
    await sleep(800);
    const summary = (await noteseal.recording.stop())!;
    assert.equal(fs.readFileSync(taken, 'utf8'), 'an existing note of that name', 'untouched');
    const second = summary.path.replace(/\.wav\.enc$/, ' (2).md.enc');
    await waitUntil('the meeting note to open', () => vscode.window.activeTextEditor?.document.uri.path === vscode.Uri.file(second.replace(/\.enc$/, '')).path);
    assert.ok(fs.existsSync(second));
    fs.rmSync(taken);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Pause and Resume: paused audio is not recorded', async () => {
    const noteseal = await api();
    const started = (await noteseal.recording.start('Paused'))!;
    await sleep(1000);
    await vscode.commands.executeCommand('noteseal.pauseRecording');
    await sleep(2000);
    await vscode.commands.executeCommand('noteseal.resumeRecording');
    await sleep(1000);
    const stopAt = Date.now();
    const summary = (await noteseal.recording.stop())!;
    const wall = (stopAt - Date.parse(started.startedAt)) / 1000;
    assert.ok(wall > 3.8, `wall ${wall}`);
    assert.ok(Math.abs(summary.durationSeconds - (wall - 2)) < 0.35, `recorded ${summary.durationSeconds} s of ${wall} s with a 2 s pause`);
    const plain = await decryptRecording(summary.path);
    assert.equal(plain.length - WAV_HEADER, Math.round(summary.durationSeconds * BYTE_RATE));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a missing capture tool and a bad device give clear errors, and no file is left', async () => {
    const noteseal = await api();
    const before = fs.existsSync(meetings()) ? fs.readdirSync(meetings()).length : 0;
    await config().update('captureCommand', 'noteseal-no-such-capture-tool --raw', vscode.ConfigurationTarget.Global);
    await assert.rejects(noteseal.recording.start('No tool'), (e: Error) => /noteseal-no-such-capture-tool/.test(e.message) && /not found|install/i.test(e.message));
    await config().update('captureCommand', undefined, vscode.ConfigurationTarget.Global);
    await config().update('device', 'no-such-device', vscode.ConfigurationTarget.Global);
    await assert.rejects(noteseal.recording.start('Bad device'), (e: Error) => /no-such-device|No such/i.test(e.message));
    await config().update('device', 'virtmic', vscode.ConfigurationTarget.Global);
    assert.equal(fs.existsSync(meetings()) ? fs.readdirSync(meetings()).length : 0, before);
    assert.equal(noteseal.recording.isRecording(), false);
  });

  it('no sound server: a clear error without the tool\'s raw words, and no empty recording folder left behind', async () => {
    const noteseal = await api();
    const tool = path.join(workspaceDir(), '..', `${path.basename(workspaceDir())}-parec`);
    fs.writeFileSync(tool, '#!/bin/sh\necho "pa_context_connect() failed: Connection refused" >&2\nexit 1\n', { mode: 0o755 });
    const folder = path.join(workspaceDir(), 'no-mic', 'meetings');
    await config().update('folder', 'no-mic/meetings', vscode.ConfigurationTarget.Global);
    await config().update('captureCommand', `${tool} --raw`, vscode.ConfigurationTarget.Global);
    try {
      await assert.rejects(noteseal.recording.start('No server'), (e: Error) => /could not connect to the sound server/.test(e.message));
      assert.equal(fs.existsSync(path.join(workspaceDir(), 'no-mic')), false, 'neither meetings/ nor its parent was left behind');
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, 'keep.md'), 'mine');
      await assert.rejects(noteseal.recording.start('No server'));
      assert.deepEqual(fs.readdirSync(folder), ['keep.md'], 'an existing folder and its files are kept');
    } finally {
      await config().update('folder', undefined, vscode.ConfigurationTarget.Global);
      await config().update('captureCommand', undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(path.join(workspaceDir(), 'no-mic'), { recursive: true, force: true });
      fs.rmSync(tool, { force: true });
    }
  });

  it('a worker killed mid-recording: after unlock the recording is recovered, losing at most 1.5 s', async () => {
    const noteseal = await api();
    const started = (await noteseal.recording.start('Crash'))!;
    await sleep(3000);
    const capturedSeconds = (Date.now() - Date.parse(started.startedAt)) / 1000;
    const restarted = waitFor(noteseal.onDidRestartWorker, 20_000, 'the worker to restart');
    process.kill((await noteseal.workerStatus()).pid, 'SIGKILL');
    await restarted;
    await noteseal.vault.unlock(PASSPHRASE);   // recovery is offered after unlock, never done silently
    await sleep(2000);
    await assert.rejects(decryptRecording(started.path), (e: Error & { code?: string }) => e.code === 'UNFINISHED', 'not recovered without asking');
    await noteseal.recording.recoverUnfinished();
    let plain: Buffer | undefined;
    await waitUntil('the recording to be recovered', async () => { try { plain = await decryptRecording(started.path); return true; } catch { return false; } }, 15_000);
    const recovered = (plain!.length - WAV_HEADER) / BYTE_RATE;
    console.log(`    crash: captured ${capturedSeconds.toFixed(2)} s before the kill, recovered ${recovered.toFixed(2)} s`);
    assert.ok(capturedSeconds - recovered <= 1.5, `lost ${capturedSeconds - recovered} s`);
    assert.ok(recovered > 1, 'most of it is there');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
