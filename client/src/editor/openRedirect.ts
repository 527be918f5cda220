// Opening `plan.md.enc` from the Explorer, Quick Open or `code plan.md.enc` must end in one tab with the
// decrypted text editor. VS Code has no "open handler" API (#77131), so `*.enc` gets a default custom
// editor that shows nothing (never ciphertext), opens `noteseal:/…/plan.md` in the same column, and
// closes itself. Recordings (`*.wav.enc`) stay in this editor, which becomes their player. A `.enc` holding
// plaintext is never shown (client/src/encGuard.ts asks to seal it first).
import * as vscode from 'vscode';
import { customDiffTab, DiffPairing } from '../git/diffRedirect';
import type { EncGuard } from '../leak/encGuard';
import { showPlayer } from '../recording/player';
import { decryptedViewOf, NOTESEAL_SCHEME, revisionViewOf } from '../shared/uris';
import { tabUri, type VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';

export const REDIRECT_VIEW_TYPE = 'noteseal.encRedirect';
export const isRecording = (uri: vscode.Uri) => /\.wav\.enc$/i.test(uri.path);

export class EncOpenRedirect implements vscode.CustomReadonlyEditorProvider {
  private readonly diffs = new DiffPairing();

  constructor(private readonly extensionUri: vscode.Uri, private readonly worker: WorkerClient, private readonly vault: VaultController, private readonly guard: EncGuard) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const local = document.uri.scheme === 'file';
    if (local && isRecording(document.uri)) return showPlayer(panel, document.uri, this.extensionUri, this.worker, this.vault);
    panel.webview.options = { enableScripts: false };
    panel.webview.html = '<!DOCTYPE html><html><body style="font-family: sans-serif; opacity: .6">Opening the encrypted file…</body></html>';
    const column = panel.viewColumn ?? vscode.ViewColumn.Active;
    try {
      // `noteseal:/…/x.md.enc` (the view of `x.md.enc.enc`, e.g. a Save As target) is itself the text to show.
      if (document.uri.scheme === NOTESEAL_SCHEME) { await inPlaceOfPlaceholder(preview => vscode.window.showTextDocument(document.uri, { viewColumn: column, preview })); return; }
      if (!local && isRecording(document.uri)) throw new Error('recordings of other revisions cannot be played; check out that revision to play it.');
      // A `file:` document is the working copy (noteseal:, after the plaintext check); any other scheme (git:,
      // Timeline) is a revision whose own bytes are decrypted read-only, never mapped onto the working copy.
      const view = local ? decryptedViewOf(document.uri) : revisionViewOf(document.uri);
      // The user opened it (Explorer, Quick Open, Timeline): its read may unlock with the remembered key.
      // (Marked, not awaited here: an await before showTextDocument races the placeholder's own tab.)
      this.vault.userIsOpening(view);
      // One side of a diff of two .enc files (Source Control, Git: Open Changes): both become one text diff.
      const diffTab = customDiffTab(panel.viewColumn);
      if (diffTab && await this.diffs.join(diffTab, { uri: document.uri, view, local }, (original, modified) =>
        Promise.resolve(vscode.commands.executeCommand('vscode.diff', original.view, modified.view, diffTab.label, { viewColumn: column, preview: true })).then(() => undefined))) return;
      if (local) await inPlaceOfPlaceholder(preview => this.guard.openDecrypted(document.uri, { viewColumn: column, preview }));
      else await vscode.window.showTextDocument(view, { viewColumn: column, preview: true });
    } catch (e) {
      // Still locked (the passphrase box dismissed): the provider's refusal already offers Unlock and Open.
      if (!(local && this.vault.state.locked)) void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not open {0}: {1}', vscode.workspace.asRelativePath(document.uri), (e as Error).message));
    } finally {
      // Close the placeholder tab (and only it).
      const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs)
        .filter(t => t.input instanceof vscode.TabInputCustom && t.input.viewType === REDIRECT_VIEW_TYPE && tabUri(t)?.toString() === document.uri.toString());
      if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
      else panel.dispose();
    }
  }
}

/**
 * Shows the note where the placeholder is. Opened as a preview, it takes the placeholder's preview slot (an
 * Explorer click or Quick Open opens the placeholder as the group's preview), so the group holds one tab at
 * every moment; then it is pinned, as a note opened to edit should be. Opened pinned beside the placeholder,
 * it showed two tabs of the note until the placeholder's close reached the window, and a test reading the tabs
 * as the text appeared saw both (issue 23). A pinned placeholder (double-click, `code x.enc`) is closed after.
 */
async function inPlaceOfPlaceholder(show: (preview: boolean) => Thenable<vscode.TextEditor | undefined>): Promise<void> {
  const editor = await show(true);
  if (editor) await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preview: false });
}
