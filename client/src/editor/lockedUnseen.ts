// Locked means unseen. Closing a note's editor does not end its text model: VS Code keeps it (the extension
// host's documents hold a reference for minutes, src/vs/workbench/api/browser/mainThreadDocuments.ts,
// BoundModelReferenceCollection), and reopening it (Explorer, Quick Open's recent editors, a search result,
// a link) shows that model at once, only then reloading it in the background
// (src/vs/workbench/contrib/files/browser/editors/textFileEditorInput.ts: `reload: { async: true }`). That
// reload asks the provider for a stat first and reads nothing if the etag (mtime and size) is unchanged
// (src/vs/platform/files/common/fileService.ts, FILE_NOT_MODIFIED_SINCE), so the locked readFile was never
// reached and the decrypted text stayed reachable after a lock.
//
// An extension cannot dispose a model, but it can replace what the model holds: a file-change event
// (FileChangeType.Changed) makes VS Code reload every resolved, clean model of that URI
// (src/vs/workbench/services/textfile/common/textFileEditorModelManager.ts, onDidFilesChange ->
// queueModelReload). While that reload runs the provider serves a read-only "locked" text from memory, with
// a stat unlike the real file's. Afterwards the model holds only that text and an etag the real file does
// not have. The mtime is one millisecond older than the file's, so a save from that text is VS Code's
// "file is newer" conflict, never a silent overwrite of the note.
//
// A reopen then shows that text, read-only. VS Code's background reload of it stopped at the provider's
// stat in our host (1.139: the stat was seen, no readFile), so NoteSeal does not count on it: when such a
// document becomes the active editor, LockedNotes asks for the passphrase itself and, once unlocked,
// reverts the editor (`workbench.action.files.revert` reads with the etag disabled, `forceReadFromFile`).
import * as vscode from 'vscode';
import type { InMemoryFiles } from '../leak/leakGuard';
import type { Logger } from '../shared/logger';
import { NOTESEAL_SCHEME } from '../shared/uris';
import type { VaultController } from '../vault/vault';

export const LOCKED_TEXT = 'NoteSeal is locked. Unlock NoteSeal (the lock in the status bar) to see this note.\n';
const LOCKED_BYTES = new TextEncoder().encode(LOCKED_TEXT);
/** How long VS Code may take to reload the models (it reloads them one by one, each from memory). */
const RELOAD_TIMEOUT_MS = 5000;

export interface ChangeAnnouncer extends InMemoryFiles {
  stat(uri: vscode.Uri): Thenable<vscode.FileStat>;
  /** Fires a Changed file event for each URI (VS Code reloads their clean models). */
  announceChanged(uris: readonly vscode.Uri[]): void;
}

/**
 * Replaces the text of every clean `noteseal:` model VS Code still holds (open or closed) by LOCKED_TEXT.
 * Dirty ones are left alone (the caller sealed and reverted them, or keeps them open on purpose).
 * Returns the number of documents still holding other text afterwards (0 when all were replaced).
 */
/** The stat each hidden note's locked text was served with (to serve it again: LockedNotes). */
const hiddenStats = new Map<string, { mtime: number; ctime: number; size: number; readonly: true }>();

/** The hiding under way, if any: while it runs, the provider serves LOCKED_TEXT for the notes it hides. */
let hiding: Promise<number> = Promise.resolve(0);

/** Resolves once no hiding is under way (a recovery copy put back before would be read as the locked text). */
export async function hidingDone(): Promise<void> {
  for (let h = hiding; ; h = hiding) { await h.catch(() => 0); if (h === hiding) return; }
}

export function hideCachedNotes(files: ChangeAnnouncer, log: Logger): Promise<number> {
  const run = hiding.catch(() => 0).then(() => hideNow(files, log));
  hiding = run;
  return run;
}

async function hideNow(files: ChangeAnnouncer, log: Logger): Promise<number> {
  const docs = vscode.workspace.textDocuments.filter(d => d.uri.scheme === NOTESEAL_SCHEME && !d.isClosed && !d.isDirty && d.getText() !== LOCKED_TEXT);
  if (!docs.length) return 0;
  const served: vscode.Disposable[] = [];
  for (const doc of docs) {
    // stat needs no key; a note deleted meanwhile gets time 0 (still unlike anything the model knows).
    const real = await files.stat(doc.uri).then(s => s.mtime, () => 1);
    const mtime = Math.max(0, real - 1);
    const stat = { mtime, ctime: mtime, size: LOCKED_BYTES.length, readonly: true as const };
    hiddenStats.set(doc.uri.toString(), stat);
    served.push(files.serveFromMemory(doc.uri, LOCKED_BYTES, { stat }));
  }
  const pending = () => docs.filter(d => !d.isClosed && !d.isDirty && d.getText() !== LOCKED_TEXT);
  try {
    await new Promise<void>(resolve => {
      const timer = setTimeout(finish, RELOAD_TIMEOUT_MS);
      const subs = [vscode.workspace.onDidChangeTextDocument(check), vscode.workspace.onDidCloseTextDocument(check)];
      function finish() { clearTimeout(timer); for (const s of subs) s.dispose(); resolve(); }
      function check() { if (!pending().length) finish(); }
      files.announceChanged(docs.map(d => d.uri));
      check();
    });
  } finally {
    for (const s of served) s.dispose();
  }
  const left = pending().length;
  if (left) log.warn(`${left} closed note(s) still held decrypted text after the lock; VS Code did not reload them`);
  return left;
}

export const isLockedText = (text: string) => text === LOCKED_TEXT;

/**
 * Notes NoteRecovery is putting unsaved text back into. While any is, LockedNotes reverts nothing: the revert
 * command acts on whichever editor is active when it runs, which may by then be the note being restored.
 */
export const restoringNotes = new Set<string>();

type Vault = Pick<VaultController, 'state' | 'onDidChange' | 'ensureUnlocked' | 'takeUserOpen'>;

/** A note reopened after a lock shows LOCKED_TEXT: its opening asks to unlock, and an unlock brings its text back. */
export class LockedNotes implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];
  private readonly revealing = new Set<string>();

  constructor(private readonly vault: Vault, private readonly files: ChangeAnnouncer, private readonly log: Logger) {
    this.subscriptions = [
      // Typing into the locked text while locked would leave a dirty note that cannot be saved, which VS Code
      // backs up after 1 s (workingCopyBackupTracker.ts): put the locked text back at once.
      vscode.workspace.onDidChangeTextDocument(e => { if (e.contentChanges.length) void this.undoTyping(e.document); }),
      vscode.window.onDidChangeActiveTextEditor(e => void this.reveal(e)),
      vault.onDidChange(s => { if (!s.locked) void this.reveal(vscode.window.activeTextEditor); }),
    ];
    void this.reveal(vscode.window.activeTextEditor);
  }

  private async reveal(editor: vscode.TextEditor | undefined): Promise<void> {
    const doc = editor?.document;
    if (!doc || doc.uri.scheme !== NOTESEAL_SCHEME || doc.isDirty || !isLockedText(doc.getText())) return;
    const key = doc.uri.toString();
    if (this.revealing.has(key) || restoringNotes.size) return;
    this.revealing.add(key);
    try {
      // The Explorer's open marked this read as the user's own (the remembered key may answer).
      const userOpen = this.vault.takeUserOpen(doc.uri);
      if (this.vault.state.locked && !(await this.vault.ensureUnlocked('Opening an encrypted note needs the key.', { useRemembered: userOpen }))) return;
      await hidingDone(); // a revert while the locked text is still served would read that text again
      if (vscode.window.activeTextEditor?.document !== doc || !isLockedText(doc.getText()) || restoringNotes.size) return;
      await vscode.commands.executeCommand('workbench.action.files.revert');
      if (!isLockedText(doc.getText())) hiddenStats.delete(key);
    } catch (e) {
      this.log.warn(`a note reopened after a lock could not be loaded: ${(e as Error).message}`);
    } finally {
      this.revealing.delete(key);
    }
  }

  /** Notes whose typing is being undone: each keystroke is an event, and one revert at a time serves them all. */
  private readonly undoing = new Set<string>();

  private async undoTyping(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const stat = hiddenStats.get(key);
    if (!stat || this.undoing.has(key) || !this.vault.state.locked || !doc.isDirty || vscode.window.activeTextEditor?.document !== doc) return;
    // One at a time: overlapping reverts (one per keystroke) ended each other's memory serving, and a revert
    // then read through the locked worker, which asked for the passphrase and left the note dirty.
    this.undoing.add(key);
    const served = this.files.serveFromMemory(doc.uri, LOCKED_BYTES, { stat });
    try {
      // Keystrokes typed while a revert runs make the note dirty again: revert until it stays clean.
      for (let i = 0; i < 20 && doc.isDirty && !doc.isClosed && vscode.window.activeTextEditor?.document === doc; i++) {
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
    } finally { served.dispose(); this.undoing.delete(key); }
    void vscode.window.showInformationMessage('NoteSeal is locked: this note cannot be edited. Unlock NoteSeal to see and edit it.');
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
