// Transcription in the real extension host (issue 31): real human speech (Debian's pocketsphinx-testdata)
// recorded through the extension's own Start Recording, then "NoteSeal: Transcribe Recording" with the real
// PocketSphinx; the transcript lands in the sealed meeting note, and a workspace's settings cannot choose
// the engine's program.
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { TranscribeResult } from '../../../server/src/protocol';
import { closeAllEditors, unlocked, waitUntil, workspaceDir } from './helpers';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0870', '0880', '0890', '0920', '0930'].map(n => path.join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`));
const recordingConfig = () => vscode.workspace.getConfiguration('noteseal.recording');

/**
 * Writes the workspace's .vscode/settings.json (or removes it) and waits until VS Code has read it, seen by a
 * resource-scoped sentinel in the same file (machine-scoped values do not show up as workspace values).
 */
async function workspaceSettings(values: Record<string, unknown> | undefined): Promise<void> {
  const file = path.join(workspaceDir(), '.vscode', 'settings.json');
  const sentinel = values ? 'meetings' : undefined;
  if (values) { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, JSON.stringify({ ...values, 'noteseal.recording.folder': sentinel })); } else fs.rmSync(file, { force: true });
  await waitUntil('VS Code to read the workspace settings', () => recordingConfig().inspect('folder')?.workspaceValue === sentinel, 30_000);
}

describe('transcription (real speech, real PocketSphinx)', function () {
  this.timeout(300_000);
  after(async () => {
    await recordingConfig().update('captureCommand', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('noteseal.transcription').update('afterRecording', undefined, vscode.ConfigurationTarget.Global);
    await workspaceSettings(undefined);
    await closeAllEditors();
  });

  it('Transcribe Recording writes the transcript into the sealed meeting note; a workspace cannot choose the engine', async () => {
    const noteseal = await unlocked();
    // sox plays the clips into the capture pipe: the recording is made by the extension's own capture path.
    await recordingConfig().update('captureCommand', `sox ${CLIPS.join(' ')} -t raw -r 16000 -c 1 -b 16 -e signed-integer -L -`, vscode.ConfigurationTarget.Global);
    const started = await noteseal.recording.start('Austen reading');
    assert.ok(started);
    const note = started.path.replace(/\.wav\.enc$/, '.md');
    await waitUntil('the recording to end and its meeting note to open', () => vscode.window.activeTextEditor?.document.uri.path === vscode.Uri.file(note).path, 30_000);

    const pwned = path.join(workspaceDir(), 'pwned');
    const evil = path.join(workspaceDir(), 'evil-engine.sh');
    fs.writeFileSync(evil, `#!/bin/sh\ntouch '${pwned}'\n`, { mode: 0o755 });
    await workspaceSettings({
      'noteseal.transcription.command': evil, 'noteseal.transcription.engine': 'whisper', 'noteseal.transcription.model': workspaceDir(),
    });

    const result = await vscode.commands.executeCommand<TranscribeResult | undefined>('noteseal.transcribeRecording', vscode.Uri.file(started.path));
    assert.ok(result, 'the command finished');
    assert.equal(result.engine, 'PocketSphinx');
    assert.equal(result.notePath, `${note}.enc`);
    assert.equal(fs.existsSync(pwned), false, 'the workspace\'s engine command never ran');
    await waitUntil('the note to show its transcript', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return doc?.uri.path === vscode.Uri.file(note).path && doc.getText().includes('## Transcript');
    }, 30_000);
    const text = vscode.window.activeTextEditor!.document.getText();
    assert.match(text, /^# Austen reading\n/, 'the meeting note the recording wrote, with the transcript added');
    for (const w of ['consider', 'selfish', 'respectable']) assert.ok(text.includes(w), `"${w}" in: ${text}`);
    assert.ok(!fs.readFileSync(`${note}.enc`).includes(Buffer.from('respectable')), 'the note on disk is sealed');
    fs.rmSync(evil);
  });

  it('noteseal.transcription.afterRecording: a recording that stops is transcribed into the meeting note it just wrote', async () => {
    const noteseal = await unlocked();
    await workspaceSettings(undefined);
    await vscode.workspace.getConfiguration('noteseal.transcription').update('afterRecording', true, vscode.ConfigurationTarget.Global);
    await recordingConfig().update('captureCommand', `sox ${CLIPS[1]} ${CLIPS[2]} -t raw -r 16000 -c 1 -b 16 -e signed-integer -L -`, vscode.ConfigurationTarget.Global);
    const started = await noteseal.recording.start('Austen again');
    assert.ok(started);
    // The note may be "<name> (2).md" when one with the recording's name exists: whichever opens is the one transcribed.
    await waitUntil('the meeting note to open with the transcript in it', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return !!doc && doc.uri.scheme === 'noteseal' && doc.getText().startsWith('# Austen again') && doc.getText().includes('selfish');
    }, 180_000);
    const text = vscode.window.activeTextEditor!.document.getText();
    assert.match(text, /## Notes\n/, 'the meeting note Stop Recording wrote');
    assert.match(text, /## Transcript\n\n_Transcribed on this machine by PocketSphinx from .*Austen again.*\.wav\.enc\._\n\n- \*\*0:00\*\* he was not/);
  });
});
