// Marks decrypted notes visibly: a lock badge and tooltip on every `noteseal:` resource (tabs, Explorer).
import * as vscode from 'vscode';
import { NOTESEAL_SCHEME } from '../shared/uris';

export class EncryptedDecorations implements vscode.FileDecorationProvider {
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== NOTESEAL_SCHEME) return undefined;
    return { badge: '🔒', tooltip: vscode.l10n.t('Encrypted with NoteSeal: saved only as ciphertext'), propagate: false };
  }
}
