// Accepting a recipients list in VS Code (issue 21 §1): a save (or Encrypt File) below a list this machine
// has not accepted is refused by the worker (UNTRUSTED_RECIPIENTS, nothing written). The user is then shown
// every member of that list, with a short fingerprint of their key and who signed them in, in a modal, and
// the write is retried only if they accept. The worker accepts only the list the user saw (its head).
import * as vscode from 'vscode';
import { Method, type PendingList } from '../../server/src/protocol';
import { isWorkerError, type WorkerClient } from './workerClient';

const ACCEPT = 'Accept and Encrypt to These Members';

const WHY: Record<PendingList['reason'], string> = {
  'new': 'This machine has not accepted this list yet. A list met for the first time (or a new list in a subfolder) decides who can read what you save here.',
  'previously-pinned': 'You used this list before. NoteSeal now asks once before encrypting to a list: check that these are the people you share this folder with.',
  'rewritten': 'WARNING: this list does not extend the one you accepted: its history was rewritten, replaced or rolled back. Accept only if you know why.',
  'replaced': 'WARNING: this is a different list from the one you accepted for this folder. Accept only if you know why.',
};

/** The modal's text: why, then one line per member. Pure (exported for a unit test). */
export function acceptanceText(p: PendingList, relativeFolder: string): { message: string; detail: string } {
  return {
    message: `Encrypt to the ${p.members.length} members of the recipients list of ${relativeFolder}?`,
    detail: [WHY[p.reason], '', ...p.members.map(m => `• ${m.name} — key ${m.fingerprint} (${m.kind}), signed in by ${m.addedBy}${m.addedAt ? ` on ${m.addedAt.slice(0, 10)}` : ''}`),
      '', 'Nothing was saved yet. If you do not accept, the save fails and your changes stay in the editor.'].join('\n'),
  };
}

/** The modal question: true when the user accepts the list. */
async function askInModal(pending: PendingList): Promise<boolean> {
  const { message, detail } = acceptanceText(pending, vscode.workspace.asRelativePath(pending.folder));
  const show = pending.reason === 'rewritten' || pending.reason === 'replaced' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return await show(message, { modal: true, detail }, ACCEPT) === ACCEPT;
}

/** Who answers the question: the modal, or (integration tests, through the test API) a replacement. */
export const listAcceptance = { ask: askInModal };

/**
 * After a write of `encPath` failed with UNTRUSTED_RECIPIENTS: asks the user to accept the list that governs
 * it, when acceptance is what is missing. True when accepted (retry the write), false otherwise.
 */
export async function offerListAcceptance(worker: WorkerClient, encPath: string): Promise<boolean> {
  const pending = await worker.request(Method.sharingPendingList, { path: encPath }).catch(() => null);
  if (!pending || !(await listAcceptance.ask(pending))) return false;
  await worker.request(Method.sharingAcceptList, { listFile: pending.listFile, head: pending.head });
  return true;
}

/** Runs a write; if it is refused for a list not accepted yet and the user accepts that list, runs it once more. */
export async function withListAcceptance<T>(worker: WorkerClient, encPath: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isWorkerError(e, 'UNTRUSTED_RECIPIENTS') && await offerListAcceptance(worker, encPath)) return write();
    throw e;
  }
}
