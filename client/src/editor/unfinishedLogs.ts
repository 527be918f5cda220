// A sealed log whose writer crashed (issue 29) opens with what was sealed; this says so, once per log and
// length in a window: the end it had not sealed yet is lost, and `noteseal recover` seals the rest.
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import type { WorkerClient } from '../shared/workerClient';

/** Every unfinished-log warning shown in this session, newest last (the integration tests read it). */
const shown: string[] = [];
export function unfinishedLogWarningsSoFar(): readonly string[] { return shown; }

export function registerUnfinishedLogs(worker: WorkerClient): vscode.Disposable {
  const said = new Set<string>();
  return worker.onNotification(Method.logUnfinished, ({ path, sealedBytes }) => {
    const key = `${path}\0${sealedBytes}`;
    if (said.has(key)) return;
    said.add(key);
    const warning = vscode.l10n.t('{0} was not closed cleanly: its writer stopped without sealing the end (a crash?). Shown are the {1} bytes it had sealed; whatever it had not sealed yet is lost. Run noteseal recover on it to seal it as it is.', path, sealedBytes);
    shown.push(warning);
    void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal: {0}', warning));
  });
}
