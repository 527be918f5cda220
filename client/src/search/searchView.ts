// `NoteSeal: Search Encrypted Notes`: a view in its own sidebar container, shaped like VS Code's Search view
// (query box with match case / whole word / regex toggles, include and exclude globs, results grouped by
// file with the matching lines and their neighbours, a count, live as you type, cancellable). The worker
// decrypts and searches in its memory (server/src/search); this side forwards the query and the results.
//
// What reaches the disk: nothing. The webview keeps its results in its DOM only and never calls
// `setState`: VS Code saves a webview view's state in the workspace's storage (webviewViewPane.ts,
// `saveState` → Memento `webviewView.<id>`, StorageScope.WORKSPACE), so a query or a result passed to it would
// land in state.vscdb. `retainContextWhenHidden` keeps the DOM in memory while the view is hidden; locking
// clears it. The HTML holds no content (results arrive by postMessage), under a CSP with no remote source.
import * as vscode from 'vscode';
import { Method, type SearchFileResult, type SearchQuery, type SearchSummary } from '../../../server/src/protocol';
import { Commands } from '../shared/commands';
import type { Logger } from '../shared/logger';
import { NOTESEAL_SCHEME } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import { isWorkerError, type WorkerClient } from '../shared/workerClient';

export const SEARCH_VIEW_ID = 'noteseal.searchView';

type FromWebview =
  | { type: 'ready' }
  | { type: 'search'; query: SearchQuery }
  | { type: 'cancel' }
  | { type: 'unlock' }
  | { type: 'open'; path: string; line: number; start: number; end: number; preview: boolean };

export type ToWebview =
  | { type: 'start'; id: number }
  | { type: 'results'; id: number; files: SearchFileResult[]; searched: number; total: number }
  | { type: 'done'; id: number; summary: SearchSummary }
  | { type: 'error'; id: number; message: string }
  | { type: 'locked'; initialized: boolean }
  | { type: 'unlocked' }
  | { type: 'focus' };

/** Runs searches through the worker: one at a time, a new one cancels the last. */
export class SearchRunner {
  private nextId = 1;
  private current: number | undefined;
  private readonly listeners = new Map<number, (files: SearchFileResult[], searched: number, total: number) => void>();
  /** Logical paths the current search reported: the only notes a result click may open. */
  readonly reported = new Set<string>();

  constructor(private readonly worker: WorkerClient, subscriptions: vscode.Disposable[]) {
    subscriptions.push(worker.onNotification(Method.searchDidFind, p => this.listeners.get(p.id)?.(p.files, p.searched, p.total)));
  }

  /** Searches the workspace's local folders; `onResults` gets the files with matches as they come. */
  async run(query: SearchQuery, onStart: (id: number) => void, onResults: (files: SearchFileResult[], searched: number, total: number) => void): Promise<SearchSummary> {
    this.cancel();
    const id = this.nextId++;
    this.current = id;
    this.reported.clear();
    onStart(id);
    this.listeners.set(id, (files, searched, total) => {
      if (this.current !== id) return;
      for (const f of files) this.reported.add(f.path);
      onResults(files, searched, total);
    });
    const roots = (vscode.workspace.workspaceFolders ?? []).filter(f => f.uri.scheme === 'file').map(f => f.uri.fsPath);
    try {
      return await this.worker.request(Method.searchStart, { id, query, roots });
    } finally {
      this.listeners.delete(id);
      if (this.current === id) this.current = undefined;
    }
  }

  cancel(): void {
    if (this.current === undefined) return;
    const id = this.current;
    this.current = undefined;
    void this.worker.request(Method.searchCancel, { id }).catch(() => undefined);
  }

  forget(): void {
    this.cancel();
    this.reported.clear();
  }
}

/** Opens a note at a match, with the match selected. */
export async function openSearchResult(vault: VaultController, logicalPath: string, line: number, start: number, end: number, preview = true): Promise<vscode.TextEditor> {
  const uri = vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: vscode.Uri.file(logicalPath).path });
  vault.userIsOpening(uri);
  const selection = new vscode.Range(line, start, line, end);
  const editor = await vscode.window.showTextDocument(uri, { selection, preview });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

class SearchViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly runner: SearchRunner, private readonly vault: VaultController, private readonly log: Logger) {}

  post(m: ToWebview): void { void this.view?.webview.postMessage(m); }

  /** Lock: the running search ends and every result on screen goes. */
  locked(): void {
    this.runner.forget();
    this.post({ type: 'locked', initialized: this.vault.state.initialized });
  }

  focus(): void { this.post({ type: 'focus' }); }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    const script = view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'search.js'));
    const style = view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'search.css'));
    const csp = `default-src 'none'; script-src ${view.webview.cspSource}; style-src ${view.webview.cspSource}; img-src 'none'; font-src 'none'; connect-src 'none'; form-action 'none'; frame-src 'none';`;
    view.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${style}"></head><body>
<form id="form" autocomplete="off">
  <div class="row"><input id="pattern" type="text" placeholder="Search encrypted notes" aria-label="Search" spellcheck="false" autocomplete="off">
    <button type="button" class="toggle" id="matchCase" title="Match Case" aria-pressed="false">Aa</button><button type="button" class="toggle" id="wholeWord" title="Match Whole Word" aria-pressed="false"><u>ab</u></button><button type="button" class="toggle" id="isRegex" title="Use Regular Expression" aria-pressed="false">.*</button></div>
  <label for="include">files to include</label><input id="include" type="text" placeholder="e.g. *.md, ./notes/**" spellcheck="false" autocomplete="off">
  <label for="exclude">files to exclude</label><input id="exclude" type="text" placeholder="e.g. archive/**" spellcheck="false" autocomplete="off">
</form>
<div id="status" class="status" role="status"><span id="message"></span><button type="button" id="cancel" class="link" hidden>Stop</button><button type="button" id="unlock" class="link" hidden>Unlock</button></div>
<details id="problems" hidden><summary id="problemsTitle"></summary><ul id="problemList"></ul></details>
<div id="results" role="tree" aria-label="Search results"></div>
<script src="${script}"></script></body></html>`;
    view.webview.onDidReceiveMessage((m: FromWebview) => void this.handle(m).catch(e => this.log.warn(`search view: ${(e as Error).message}`)));
    view.onDidDispose(() => { this.runner.forget(); this.view = undefined; });
  }

  private async handle(m: FromWebview): Promise<void> {
    if (m.type === 'ready') {
      this.post(this.vault.state.locked ? { type: 'locked', initialized: this.vault.state.initialized } : { type: 'unlocked' });
    } else if (m.type === 'cancel') {
      this.runner.cancel();
    } else if (m.type === 'unlock') {
      if (await this.vault.ensureUnlocked('Searching encrypted notes needs the key.')) this.post({ type: 'unlocked' });
    } else if (m.type === 'open') {
      if (!this.runner.reported.has(m.path)) return; // only notes this search reported
      await openSearchResult(this.vault, m.path, m.line, m.start, m.end, m.preview);
    } else if (m.type === 'search') {
      if (this.vault.state.locked) { this.post({ type: 'locked', initialized: this.vault.state.initialized }); return; }
      let id = 0;
      try {
        const summary = await this.runner.run(m.query, started => { id = started; this.post({ type: 'start', id }); },
          (files, searched, total) => this.post({ type: 'results', id, files, searched, total }));
        this.post({ type: 'done', id, summary });
      } catch (e) {
        if (isWorkerError(e, 'LOCKED', 'NOT_INITIALIZED')) { this.locked(); return; }
        this.post({ type: 'error', id, message: (e as Error).message });
      }
    }
  }
}

/** The view, its command, and the lock hook. Returns the runner for the test API. */
export function registerSearch(context: vscode.ExtensionContext, worker: WorkerClient, vault: VaultController, log: Logger): SearchRunner {
  const runner = new SearchRunner(worker, context.subscriptions);
  const provider = new SearchViewProvider(context.extensionUri, runner, vault, log);
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(SEARCH_VIEW_ID, provider, { webviewOptions: { retainContextWhenHidden: true } }),
    vault.onDidChange(s => { if (s.locked) provider.locked(); else provider.post({ type: 'unlocked' }); }),
    vscode.commands.registerCommand(Commands.searchEncryptedNotes, async () => {
      await vscode.commands.executeCommand(`${SEARCH_VIEW_ID}.focus`);
      provider.focus();
    }),
  );
  return runner;
}
