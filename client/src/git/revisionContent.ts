// Read-only decrypted views of `.enc` bytes that do not come from the working copy: a `git:` revision, a
// Timeline entry, any non-`file:` scheme. The bytes are read through that scheme's own provider
// (`workspace.fs.readFile(thatUri)`), decrypted by the worker in memory, and shown as a read-only document
// (`noteseal-rev:`); nothing is written to disk. If they cannot be decrypted, there is no content at all:
// the open fails with a clear message (never the working copy's plaintext in its place).
import * as vscode from 'vscode';
import { Method } from '../../../server/src/protocol';
import { REVISION_SCHEME, revisionSourceOf } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';

export class RevisionContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController) {}

  static register(worker: WorkerClient, vault: VaultController): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(REVISION_SCHEME, new RevisionContentProvider(worker, vault));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const source = revisionSourceOf(uri);
    const bytes = await vscode.workspace.fs.readFile(source);
    // Like any read nobody may have asked for, this asks for the passphrase rather than using the remembered
    // key (see EncFileSystemProvider.withKey), unless the open redirect marked it as the user's own open.
    if (!(await this.vault.ensureUnlocked('Showing an older revision of an encrypted note needs the key.', { useRemembered: this.vault.takeUserOpen(uri) }))) {
      throw new Error('NoteSeal is locked.');
    }
    try {
      const { data } = await this.worker.request(Method.fileDecryptBytes, { data: bytes });
      return new TextDecoder('utf-8').decode(data);
    } catch (e) {
      throw new Error(`This revision of ${source.path.split('/').pop()} cannot be decrypted: ${(e as Error).message}`);
    }
  }
}
