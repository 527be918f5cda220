// A diff of two `.enc` files (Source Control, `Git: Open Changes`, Timeline compare) reaches NoteSeal's
// default custom editor twice: VS Code's editor resolver builds a diff of two custom editors, one per side
// (customEditors.ts in microsoft/vscode, createDiffEditorInput), and resolves both at once, inside a tab whose
// input the API cannot name (the Tab API knows text, text-diff, custom, webview, notebook and terminal
// inputs). Redirecting each side alone gave two plain tabs and no diff. Here the two sides meet: the second
// opens VS Code's text diff editor on the decrypted views (a revision read-only as `noteseal-rev:`, the
// working copy as `noteseal:`) in place of the custom diff tab, which is closed.
import * as vscode from 'vscode';

export interface DiffSide { uri: vscode.Uri; view: vscode.Uri; local: boolean }

const KNOWN_INPUTS = [vscode.TabInputText, vscode.TabInputTextDiff, vscode.TabInputCustom, vscode.TabInputWebview,
  vscode.TabInputNotebook, vscode.TabInputNotebookDiff, vscode.TabInputTerminal];
/** How long the first side waits for the second (they arrive within milliseconds of each other). */
const PAIRING_MS = 2_000;

/** The custom-editor diff tab a side is being resolved in, if it is one: active in its group, of no known kind, "a ↔ b". */
export function customDiffTab(column: vscode.ViewColumn | undefined): vscode.Tab | undefined {
  const group = vscode.window.tabGroups.all.find(g => g.viewColumn === column) ?? vscode.window.tabGroups.activeTabGroup;
  const tab = group.activeTab;
  if (!tab || KNOWN_INPUTS.some(k => tab.input instanceof k) || !tab.label.includes(' ↔ ')) return undefined;
  return tab;
}

/** The working copy goes on the right, as git's own diffs put it; otherwise the order VS Code resolved them in. */
export function orderSides(first: DiffSide, second: DiffSide): [DiffSide, DiffSide] {
  return first.local && !second.local ? [second, first] : [first, second];
}

export class DiffPairing {
  private readonly waiting = new Map<string, { side: DiffSide; done: (pair: boolean) => void }>();

  /**
   * Joins `side` to its diff tab. Resolves true once the diff is shown (by whichever side came second),
   * false if the other side never came (the caller then opens this side alone).
   */
  async join(tab: vscode.Tab, side: DiffSide, show: (original: DiffSide, modified: DiffSide) => Promise<void>): Promise<boolean> {
    const key = `${tab.group.viewColumn}\0${tab.label}`;
    const first = this.waiting.get(key);
    if (!first) {
      return new Promise(resolve => {
        const timer = setTimeout(() => { this.waiting.delete(key); resolve(false); }, PAIRING_MS);
        this.waiting.set(key, { side, done: pair => { clearTimeout(timer); resolve(pair); } });
      });
    }
    this.waiting.delete(key);
    try {
      const [original, modified] = orderSides(first.side, side);
      await show(original, modified);
      await vscode.window.tabGroups.close(tab, true).then(undefined, () => undefined);
      first.done(true);
      return true;
    } catch (e) {
      first.done(true);
      throw e;
    }
  }
}
