// Large Markdown notes open as plain text. VS Code's built-in Markdown language features re-analyse the
// whole document on every edit in the extension host; on a note of several MiB that blocks the extension
// host for seconds (measured: a plain 8 MiB .md file takes 18 s to save, typing lags 1.5 s, and VS Code
// aborts the extension host's save participants: "Aborted onWillSaveTextDocument-event after 1750ms").
// For a `noteseal:` note a delayed save is a leak, not a slowness: VS Code backs up the dirty editor in
// plaintext meanwhile. So such notes get the plain-text language; the user can switch back.
import * as vscode from 'vscode';
import type { Logger } from '../shared/logger';
import { NOTESEAL_SCHEME } from '../shared/uris';

/** Characters from which a Markdown note opens as plain text (below, saves stay well under VS Code's 1 s backup delay). */
export const LARGE_MARKDOWN_CHARS = 1024 * 1024;

/** The document's length in characters, without copying its text. */
function lengthOf(doc: vscode.TextDocument): number {
  return doc.lineCount ? doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end) : 0;
}

export function isLargeMarkdownNote(doc: Pick<vscode.TextDocument, 'uri' | 'languageId'>, length: number): boolean {
  return doc.uri.scheme === NOTESEAL_SCHEME && doc.languageId === 'markdown' && length >= LARGE_MARKDOWN_CHARS;
}

export function registerLargeNotes(log: Logger): vscode.Disposable {
  const switched = new Set<string>(); // once per note and session: a user's own choice of Markdown stays
  const check = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    if (switched.has(key) || !isLargeMarkdownNote(doc, lengthOf(doc))) return;
    switched.add(key);
    log.info('a large Markdown note opened as plain text (Markdown features would delay its saves)');
    void vscode.languages.setTextDocumentLanguage(doc, 'plaintext').then(() => vscode.window.setStatusBarMessage(
      'NoteSeal: this large note opened as plain text, so it saves in time (Change Language Mode switches back).', 15_000));
  };
  vscode.workspace.textDocuments.forEach(check);
  return vscode.workspace.onDidOpenTextDocument(check);
}
