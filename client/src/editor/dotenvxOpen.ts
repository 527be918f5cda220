// dotenvx `.env` files (issue 27) open through the `noteseal:` view. A `.env` cannot get a default custom
// editor as `*.enc` does (openRedirect.ts): every plain `.env`, and each side of a Source Control diff of one,
// would then go through it. Instead, a text tab of a local `.env` / `.env.*` file whose first bytes hold a
// `DOTENV_PUBLIC_KEY…` line is replaced, in its own group and place, by `noteseal:` + the same path (values
// decrypted in the worker). The tab it replaces showed only what is on disk (ciphertext values); diff tabs
// and every other `.env` are left alone. sops files (issue 27) are swapped the same way (`otherViews`: the
// worker says which: sops metadata, and a sops name or an accepted `.sops.yaml` rule matching it).
import * as vscode from 'vscode';
import { DOTENVX_HEAD_BYTES, hasDotenvName, looksLikeDotenvxText, openRegularFile } from '../../../server/src/shared';
import { decryptedViewOf } from '../shared/uris';
import type { VaultController } from '../vault/vault';

/** Whether a local file is a dotenvx file by its first bytes (never through a link; false when unreadable). */
export async function isDotenvxFile(file: string): Promise<boolean> {
  try {
    const handle = await openRegularFile(file);
    try {
      const head = Buffer.alloc(DOTENVX_HEAD_BYTES);
      const { bytesRead } = await handle.read(head, 0, DOTENVX_HEAD_BYTES, 0);
      return looksLikeDotenvxText(head.subarray(0, bytesRead).toString('latin1'));
    } finally { await handle.close(); }
  } catch { return false; }
}

export class DotenvxOpens implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly vault: VaultController, private readonly log: { warn(message: string): void },
    private readonly otherViews?: (file: vscode.Uri) => Promise<vscode.Uri | undefined>) {
    this.subscription = vscode.window.tabGroups.onDidChangeTabs(e => { for (const tab of [...e.opened, ...e.changed]) void this.consider(tab); });
  }

  /**
   * The tabs VS Code restored at start-up, before NoteSeal activated (onStartupFinished: no `opened` event
   * reaches it for them), are swapped as an Explorer open is. Not the user's own open: a locked NoteSeal asks for
   * the passphrase (never a remembered key) and shows nothing decrypted until then (encFsProvider's withKey). The
   * active tab of each group is swapped last, so that it stays the one shown.
   */
  async considerOpenTabs(): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs);
    await Promise.all([...tabs.filter(t => !t.isActive), ...tabs.filter(t => t.isActive)].map(t => this.consider(t, false)));
  }

  /**
   * One swap at a time: two editors opened at once in one group (the restored tabs, and the `changed` events
   * their own swaps fire) could leave a plain tab behind. Each runs only if the plain tab is still open.
   */
  private consider(tab: vscode.Tab, userOpen = true): Promise<void> {
    const run = this.queue.then(() => this.swap(tab, userOpen));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async swap(tab: vscode.Tab, userOpen: boolean): Promise<void> {
    const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
    if (!uri || uri.scheme !== 'file') return;
    const key = uri.toString();
    const plainTabs = () => vscode.window.tabGroups.all.flatMap(g => g.tabs)
      .filter(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key);
    const plain = plainTabs().find(t => t.group.viewColumn === tab.group.viewColumn);
    if (!plain || plain.isDirty) return;
    const view = hasDotenvName(uri.path) && await isDotenvxFile(uri.fsPath) ? decryptedViewOf(uri) : await this.otherViews?.(uri);
    if (!view) return;
    try {
      if (userOpen) this.vault.userIsOpening(view);
      const column = plain.group.viewColumn;
      // As the preview it takes the plain tab's preview slot; then pinned if that tab was (openRedirect.ts).
      const editor = await vscode.window.showTextDocument(view, { viewColumn: column, preview: plain.isPreview });
      const stale = plainTabs().filter(t => t.group.viewColumn === column);
      if (stale.length) await vscode.window.tabGroups.close(stale, true);
      if (!plain.isPreview) await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preview: false });
    } catch (e) {
      this.log.warn(`a ${hasDotenvName(uri.path) ? 'dotenvx' : 'sops'} file was not opened through NoteSeal: ${(e as Error).message}`);
      if (!this.vault.state.locked) void vscode.window.showErrorMessage(vscode.l10n.t('NoteSeal could not open {0}: {1}', vscode.workspace.asRelativePath(uri), (e as Error).message));
    }
  }

  dispose(): void { this.subscription.dispose(); }
}
