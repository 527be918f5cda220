// Meeting recording as the user sees it: the commands, the status-bar meter, the player of `*.wav.enc`, transcripts.
// May use shared/ and vault/; capture, sealing and files are the worker's (server/src/recording/).
import * as vscode from 'vscode';
import { Commands } from '../shared/commands';
import type { Core } from '../shared/index';
import type { AutoLock } from '../vault/autoLock';
import type { VaultController } from '../vault/vault';
import { RecordingController } from './recording';
import { registerTranscription, transcribeAfterRecording } from './transcribe';

export function registerRecording(context: vscode.ExtensionContext, deps: Core & { vault: VaultController; autoLock: AutoLock }): RecordingController {
  const { worker, vault, autoLock, log, command } = deps;
  const recording = new RecordingController(worker, vault, log);
  context.subscriptions.push(recording);
  // A running recording is activity (no auto-lock), and a lock ends it first.
  autoLock.busy = () => recording.isRecording;
  vault.beforeLock = async reason => {
    if (!recording.isRecording) return true;
    if (reason === 'user') {
      const ok = await vscode.window.showWarningMessage('A recording is running. Stop it and lock?', { modal: true, detail: 'Locking wipes the keys, so the recording has to end. What was captured is kept.' }, 'Stop Recording and Lock');
      if (ok !== 'Stop Recording and Lock') return false;
    }
    await recording.stop();
    return true;
  };
  command(Commands.startRecording, (args?: { title?: string }) => recording.start(args, { offerFixes: true }));
  command(Commands.stopRecording, () => recording.stop());
  command(Commands.pauseRecording, () => recording.pause());
  command(Commands.resumeRecording, () => recording.resume());
  command(Commands.selectMicrophone, () => recording.selectMicrophone());
  command(Commands.exportRecording, (uri?: vscode.Uri) => recording.exportRecording(uri));
  // Only a Uri is taken from the arguments: nothing another extension passes can skip the question.
  command(Commands.shredRecording, (uri?: unknown) => recording.shredRecording(uri instanceof vscode.Uri ? uri : undefined));
  const transcription = registerTranscription({ worker, vault, log, command });
  context.subscriptions.push(recording.onDidStop(stopped => transcribeAfterRecording(transcription, stopped)));
  return recording;
}
