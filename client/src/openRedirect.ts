// Opening `plan.md.enc` from the Explorer, Quick Open or `code plan.md.enc` must end in one tab with the
// decrypted text editor. VS Code has no "open handler" API (#77131), so `*.enc` gets a default custom
// editor that shows nothing (never ciphertext), opens `noteseal:/…/plan.md` in the same column, and
// closes itself. Recordings (`*.wav.enc`) stay in this editor, which becomes their player.
import * as vscode from 'vscode';
import { showPlayer } from './player';
import { decryptedViewOf } from './uris';
import { tabUri, type VaultController } from './vault';
import type { WorkerClient } from './workerClient';

export const REDIRECT_VIEW_TYPE = 'noteseal.encRedirect';
export const isRecording = (uri: vscode.Uri) => /\.wav\.enc$/i.test(uri.path);

export class EncOpenRedirect implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly extensionUri: vscode.Uri, private readonly worker: WorkerClient, private readonly vault: VaultController) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    if (isRecording(document.uri)) return showPlayer(panel, document.uri, this.extensionUri, this.worker, this.vault);
    panel.webview.options = { enableScripts: false };
    panel.webview.html = '<!DOCTYPE html><html><body style="font-family: sans-serif; opacity: .6">Opening the encrypted file…</body></html>';
    const view = decryptedViewOf(document.uri);
    const column = panel.viewColumn ?? vscode.ViewColumn.Active;
    try {
      await vscode.window.showTextDocument(view, { viewColumn: column, preview: false });
    } catch (e) {
      void vscode.window.showErrorMessage(`NoteSeal could not open ${vscode.workspace.asRelativePath(document.uri)}: ${(e as Error).message}`);
    } finally {
      // Close the placeholder tab (and only it).
      const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs)
        .filter(t => t.input instanceof vscode.TabInputCustom && t.input.viewType === REDIRECT_VIEW_TYPE && tabUri(t)?.toString() === document.uri.toString());
      if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
      else panel.dispose();
    }
  }
}
