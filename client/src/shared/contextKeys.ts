// The context keys package.json's `when` clauses read, so that the palette offers only what can be done now
// (Unlock while locked, Lock while unlocked, Stop Recording while recording…).
import * as vscode from 'vscode';
import type { VaultState } from '../../../server/src/protocol';

export const ContextKeys = {
  initialized: 'noteseal.initialized',
  locked: 'noteseal.locked',
  recording: 'noteseal.recording',
  recordingPaused: 'noteseal.recordingPaused',
} as const;

const last = new Map<string, boolean>();

function set(key: string, value: boolean): void {
  if (last.get(key) === value) return;
  last.set(key, value);
  void vscode.commands.executeCommand('setContext', key, value);
}

export function showVaultContext(state: VaultState): void {
  set(ContextKeys.initialized, state.initialized);
  set(ContextKeys.locked, state.locked);
}

export function showRecordingContext(recording: boolean, paused: boolean): void {
  set(ContextKeys.recording, recording);
  set(ContextKeys.recordingPaused, recording && paused);
}
