// Passphrase (scrypt) age files in the editor (issue 26): the worker refuses to read one until it holds that
// FILE's own age passphrase (FILE_PASSPHRASE_NEEDED). The user is asked for it in a box that says plainly it
// is the file's age passphrase, not the NoteSeal passphrase; the worker keeps it in memory until the lock, so
// a save keeps the file a passphrase file without asking again.
import path from 'node:path';
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import { sealedFileOf } from '../shared/uris';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';

/** Wrong passphrases tolerated before the open fails (each one is said so in the next box). */
const MAX_TRIES = 3;

/** Runs `op` (a read of `uri`); when the worker needs the file's age passphrase, asks for it and runs `op` again. */
export async function withFilePassphrase<T>(worker: WorkerClient, uri: vscode.Uri, op: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await op();
    } catch (e) {
      if (!isWorkerError(e, 'FILE_PASSPHRASE_NEEDED') || tries === MAX_TRIES) throw e;
      const file = sealedFileOf(uri);
      const name = path.basename(file);
      const passphrase = await vscode.window.showInputBox({
        title: vscode.l10n.t('Passphrase of the age file {0}', name),
        prompt: tries
          ? vscode.l10n.t('That passphrase does not open {0}. Enter the passphrase this age file was encrypted with (age -p), not your NoteSeal passphrase.', name)
          : vscode.l10n.t('{0} is an age file protected by its own passphrase (age -p). Enter that passphrase, not your NoteSeal passphrase. It is kept in memory until NoteSeal locks.', name),
        password: true,
        ignoreFocusOut: true,
        validateInput: v => (v ? undefined : vscode.l10n.t('Enter the age file\'s passphrase.')),
      });
      if (passphrase === undefined) throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not opened: no passphrase was given for the age file {0}.', name));
      await worker.request(Method.ageFilePassphrase, { path: file, passphrase });
    }
  }
}
