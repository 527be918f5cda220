// Accepting a recipients list in VS Code (issue 21 §1): a save (or Encrypt File) below a list this machine
// has not accepted is refused by the worker (UNTRUSTED_RECIPIENTS, nothing written). The user is then shown
// every member of that list, with a short fingerprint of their key and who signed them in, in a modal, and
// the write is retried only if they accept. The worker accepts only the list the user saw (its head).
import path from 'node:path';
import * as vscode from 'vscode';
import { Method, type PendingAgeList, type PendingList } from '../../../server/src/protocol';
import { isAgePath } from '../../../server/src/shared';
import { acceptanceText, ageAcceptanceText } from './sharingText';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';

const accept = () => vscode.l10n.t('Accept and Encrypt to These Members');

/** The modal question: true when the user accepts the list. */
async function askInModal(pending: PendingList): Promise<boolean> {
  const { message, detail } = acceptanceText(pending, vscode.workspace.asRelativePath(pending.folder));
  const show = pending.reason === 'rewritten' || pending.reason === 'replaced' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const label = accept();
  return await show(message, { modal: true, detail }, label) === label;
}

/** The same question for an age file's `.age-recipients` (unsigned: every recipient is listed). */
async function askAgeInModal(pending: PendingAgeList): Promise<boolean> {
  const { message, detail } = ageAcceptanceText(pending, vscode.workspace.asRelativePath(pending.listFile));
  const accept = vscode.l10n.t('Accept and Encrypt to These Recipients');
  const show = pending.reason === 'changed' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return await show(message, { modal: true, detail }, accept) === accept;
}

/** Who answers the question: the modal, or (integration tests, through the test API) a replacement. */
export const listAcceptance = { ask: askInModal, askAge: askAgeInModal };

/**
 * After a write of `encPath` failed with UNTRUSTED_RECIPIENTS: asks the user to accept the list that governs
 * it, when acceptance is what is missing. True when accepted (retry the write), false otherwise.
 */
export async function offerListAcceptance(worker: WorkerClient, encPath: string): Promise<boolean> {
  return await offerList(worker, encPath) === 'accepted';
}

/**
 * Before a write of many files below `folder` (Encrypt Folder): when the list governing it waits for
 * acceptance, asks first. False only when the user declined (then nothing should be encrypted).
 */
export async function acceptListBeforeBulkWrite(worker: WorkerClient, folder: string): Promise<boolean> {
  return await offerList(worker, path.join(folder, 'any.enc')) !== 'declined';
}

/** Offers the list that waits for acceptance at `encPath` (an age file: its `.age-recipients`), if any: 'none' when no list waits. */
export async function offerList(worker: WorkerClient, encPath: string): Promise<'none' | 'accepted' | 'declined'> {
  if (isAgePath(encPath)) return offerAgeList(worker, encPath);
  const pending = await worker.request(Method.sharingPendingList, { path: encPath }).catch(() => null);
  if (!pending) return 'none';
  if (!(await listAcceptance.ask(pending))) return 'declined';
  await worker.request(Method.sharingAcceptList, { listFile: pending.listFile, head: pending.head });
  return 'accepted';
}

/** An age file is governed by the nearest `.age-recipients` (or, without one, by the `.noteseal/recipients` members). */
async function offerAgeList(worker: WorkerClient, agePath: string): Promise<'none' | 'accepted' | 'declined'> {
  const pending = await worker.request(Method.agePendingList, { path: agePath }).catch(() => null);
  if (!pending) return offerList(worker, agePath.slice(0, -'.age'.length) + '.enc');
  if (!(await listAcceptance.askAge(pending))) return 'declined';
  await worker.request(Method.ageAcceptList, { listFile: pending.listFile, sha256: pending.sha256 });
  return 'accepted';
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
