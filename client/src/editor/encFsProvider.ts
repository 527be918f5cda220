// The `noteseal:` FileSystemProvider: VS Code's own text editor reads and saves decrypted notes through
// it, and every operation is forwarded to the worker, which holds the keys and touches the disk. Bytes
// cross IPC as raw bytes (structured-clone IPC). A read or save while locked asks to unlock first; if the user declines, the
// operation fails and a save leaves the editor dirty.
import * as vscode from 'vscode';
import { Method, type FileStatInfo } from '../../../server/src/protocol';
import { hasDotenvName, isAgePath } from '../../../server/src/shared';
import type { InMemoryFiles, MemoryFileOptions, MemoryStat } from '../leak/leakGuard';
import { offerList, withListAcceptance } from '../sharing/listAcceptance';
import { withFilePassphrase } from './filePassphrase';
import { logicalFsPath, NOTESEAL_SCHEME, sealedFileOf } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import { isWorkerError, WorkerCallError, type WorkerClient } from '../shared/workerClient';

/**
 * The longest a save keeps VS Code waiting (issue 22 §2). VS Code writes a hot-exit backup of a text file
 * 1000 ms after its last change if it is still modified then, and again checks `isModified()` before storing
 * it; a save that ends makes the working copy clean, which cancels the pending backup
 * (src/vs/workbench/services/workingCopy/common/workingCopyBackupTracker.ts: scheduleBackup,
 * onDidChangeDirty → discardBackup). Nothing else an extension can set stops it: the delay is 2000 ms only
 * with a short `files.autoSave` delay for the resource (filesConfigurationService.ts, hasShortAutoSaveDelay),
 * a language override would change every file of that language, and `backupDelay` is internal. LeakGuard saves
 * 250 ms after the last edit; a worker save (or an unlock prompt it raises) slower than the rest of that second
 * left the note dirty when the timer fired. So a save still running after this deadline is reported done to VS
 * Code and finished in the background, its text served from memory meanwhile; if it then fails, the text is
 * sealed into a recovery copy and the editor shows the file again (onLateWriteFailed), never a silent loss.
 * A save that finds the note's previous save still writing is reported done at once: VS Code runs one save of
 * a working copy at a time (a newer one cancels and queues behind the running one), so the deadlines of two
 * saves in a row would add up.
 */
export const SAVE_DEADLINE_MS = 150;

interface LateWrite { content: Uint8Array; stat: MemoryStat; seq: number }

export class EncFileSystemProvider implements vscode.FileSystemProvider, InMemoryFiles, vscode.Disposable {
  /** Non-secret documents served without the worker (the backup probe, the placeholder of a sealed note). */
  private readonly memory = new Map<string, { content: Uint8Array; stat: MemoryStat; acceptWrites: boolean }>();
  private readonly changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changes.event;
  private nextWatchId = 1;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Called on every read and write: the auto-lock timer counts these as activity. */
  onActivity: () => void = () => undefined;
  /**
   * Another writer replaced the note while a save of it was being sealed (the worker refused the rename:
   * CHANGED_ON_DISK). A provider error is not VS Code's modified-since refusal: save-soon saves the note again,
   * VS Code refuses that save, and the note is sealed and reverted (noteRecovery.ts changedOnDisk).
   */
  onChangedWhileSaving: (uri: vscode.Uri) => void = () => undefined;
  /** A read was refused because NoteSeal stayed locked (lockedOpens.ts offers Unlock and Open). */
  onReadRefused: (uri: vscode.Uri) => void = () => undefined;
  /**
   * Issue 21 §2: saving re-signs a note as the user's. A note whose writer the worker does not judge
   * authentic (its open warning) is saved only once the user agreed to take it over; asked on the first
   * save in the session (tests replace the modal). Declined: nothing is written and the save fails.
   */
  askTakeOver: (uri: vscode.Uri, who: string, warning: string) => Promise<boolean> = askTakeOverModal;
  /** The user declined to take `uri` over: its unsaved text is sealed and the editor reverted (editor/index.ts). */
  onTakeOverDeclined: (uri: vscode.Uri) => void = () => undefined;
  /** The notes (by path) the user agreed to sign as theirs in this session. */
  private readonly takenOver = new Set<string>();
  /** Saves reported done to VS Code and still being written (uri → what VS Code believes is on disk). */
  private readonly late = new Map<string, LateWrite>();
  /** The stat VS Code was given for a late save, while the real file is still the one that save wrote. */
  private readonly shownStats = new Map<string, { mtime: number; size: number; shown: MemoryStat }>();
  /** The writes of each note, one after another (uri → the last one's end; never rejects). */
  private readonly writes = new Map<string, Promise<void>>();
  private readonly lastWrite = new Map<string, number>();
  private writeSeq = 0;
  /**
   * A save reported done to VS Code failed afterwards (nothing written): the editor feature seals `content`
   * into a recovery copy (unless `sealed`: the worker already did, SAVE_SEALED), shows the file again and tells
   * the user; if it cannot seal, puts the text back.
   */
  onLateWriteFailed: (uri: vscode.Uri, content: Uint8Array, error: unknown, sealed: boolean) => Promise<void> = async () => undefined;
  /** Writes (by seq) whose request reached the worker: from then on the worker finishes or seals them. */
  private readonly sent = new Set<number>();
  /** Late writes whose text was sealed here when the window closed before they reached the worker (handOver). */
  private readonly handedOver = new Set<number>();
  /** Writes the worker refused SAVE_SEALED: it sealed their text itself. */
  private readonly sealedByWorker = new Set<number>();
  /** Seals a late write's text into a recovery copy (handOver); returns false if it could not. */
  sealLate: (uri: vscode.Uri, content: Uint8Array) => Promise<boolean> = async () => false;
  /**
   * The mtime VS Code holds for each note's editor (issue 22 §2: a save VS Code refuses because the file changed
   * on disk). VS Code stats a file as it reads it (fileService.ts readFile → validateReadFile → resolve) and
   * after it wrote it (fileService.ts writeFile returns `resolve(resource, { resolveMetadata: true })`); the text
   * file model keeps that stat (textFileEditorModel.ts lastResolvedFileStat) and its next save is refused
   * before this provider is called when the file's mtime is newer (fileService.ts validateWriteFile:
   * FILE_MODIFIED_SINCE). So: the version a read returned, or the first stat given after a write.
   */
  private readonly held = new Map<string, number>();
  private readonly statAfterWrite = new Set<string>();
  /** When the last writeFile of each note was called (Date.now()): a save that reached this provider. */
  private readonly writeCalledAt = new Map<string, number>();

  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController) {
    this.subscriptions.push(worker.onNotification(Method.fsDidChange, ({ events }) => {
      this.changes.fire(events.map(e => ({
        type: e.type === 'created' ? vscode.FileChangeType.Created : e.type === 'deleted' ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed,
        uri: vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: vscode.Uri.file(e.path).path }),
      })));
    }));
  }

  serveFromMemory(uri: vscode.Uri, content: Uint8Array, options: MemoryFileOptions = {}): vscode.Disposable {
    const key = uri.toString();
    const now = Date.now();
    this.memory.set(key, { content, stat: options.stat ?? { mtime: now, ctime: now, size: content.length }, acceptWrites: options.acceptWrites ?? false });
    return new vscode.Disposable(() => this.memory.delete(key));
  }

  /** VS Code reloads the clean models of these URIs (lockedUnseen.ts). */
  announceChanged(uris: readonly vscode.Uri[]): void {
    this.changes.fire(uris.map(uri => ({ type: vscode.FileChangeType.Changed, uri })));
  }

  watch(uri: vscode.Uri, options: { readonly recursive: boolean }): vscode.Disposable {
    // A view served only from memory under a query (a sealed copy in a Compare, noteRecovery.ts) has no file.
    if (uri.query && this.memory.has(uri.toString())) return new vscode.Disposable(() => undefined);
    const id = this.nextWatchId++;
    void this.worker.request(Method.fsWatch, { id, path: logicalFsPath(uri), recursive: options.recursive }).catch(() => undefined);
    return new vscode.Disposable(() => void this.worker.request(Method.fsUnwatch, { id }).catch(() => undefined));
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const s = await this.statNow(uri);
    const key = uri.toString();
    if (s.type === vscode.FileType.File && this.statAfterWrite.delete(key)) this.held.set(key, s.mtime);
    return s;
  }

  /**
   * Whether VS Code refused a save of `uri` asked at `since` (Date.now()) because the file changed on disk: no
   * write of it reached this provider since, and the file is newer than the version its editor holds (the
   * same test as fileService.ts validateWriteFile). Not changed where the held version is not known; `why` for the log.
   */
  async refusedAsChanged(uri: vscode.Uri, since: number): Promise<{ changed: boolean; why: string }> {
    const key = uri.toString();
    const held = this.held.get(key);
    if (held === undefined) return { changed: false, why: 'the version its editor holds is not known' };
    if ((this.writeCalledAt.get(key) ?? 0) >= since) return { changed: false, why: 'the save reached NoteSeal' };
    // A save of it still being written, or written and not yet stat'ed by VS Code: the file is newer because of
    // this window's own save (a save asked meanwhile is refused or queued by VS Code: textFileEditorModel.ts doSave).
    if (this.writes.has(key) || this.statAfterWrite.has(key)) return { changed: false, why: 'a save of it is still being written' };
    const now = await this.statNow(uri).then(s => s.mtime, () => undefined);
    return now !== undefined && now > held ? { changed: true, why: 'the file is newer' } : { changed: false, why: 'the file is the version its editor holds' };
  }

  private async statNow(uri: vscode.Uri): Promise<vscode.FileStat> {
    const mem = this.memory.get(uri.toString()) ?? this.late.get(uri.toString());
    if (mem) {
      const { mtime, ctime, size, readonly } = mem.stat;
      return { type: vscode.FileType.File, mtime, ctime, size, permissions: readonly ? vscode.FilePermission.Readonly : undefined };
    }
    const s: FileStatInfo = await this.call(uri, () => this.worker.request(Method.fsStat, { path: logicalFsPath(uri) }));
    const mtime = Math.round(s.mtime);
    // The file a late save wrote: VS Code holds the stat it was given then (else its next save sees a conflict).
    const shown = this.shownStats.get(uri.toString());
    if (shown && shown.mtime === mtime && shown.size === s.size) return { type: vscode.FileType.File, ...shown.shown };
    return {
      type: s.type === 'directory' ? vscode.FileType.Directory : vscode.FileType.File,
      ctime: Math.round(s.ctime), mtime, size: s.size,
      permissions: s.readonly ? vscode.FilePermission.Readonly : undefined,
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const entries = await this.call(uri, () => this.worker.request(Method.fsReadDirectory, { path: logicalFsPath(uri) }));
    return entries.map(([name, type]) => [name, type === 'directory' ? vscode.FileType.Directory : vscode.FileType.File]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const mem = this.memory.get(uri.toString()) ?? this.late.get(uri.toString());
    if (mem) return mem.content;
    this.onActivity();
    const read = () => withFilePassphrase(this.worker, uri, () => this.worker.request(Method.fsReadFile, { path: logicalFsPath(uri) }));
    const { data } = await this.withKey(uri, 'Opening an encrypted note needs the key.', read, this.vault.takeUserOpen(uri), u => this.onReadRefused(u));
    // VS Code asks for the stat it keeps at the same time as the read (fileService.ts doReadFileStream starts
    // validateReadFile and the read together), so the version read is stat'ed here, once it has been read.
    const s = await this.statNow(uri).catch(() => undefined);
    if (s) this.held.set(uri.toString(), s.mtime);
    return data;
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    const key = uri.toString();
    const mem = this.memory.get(key);
    if (mem) {
      // The probe's save lands here (and is dropped); a real note behind a placeholder must never "save" into it.
      if (!mem.acceptWrites) throw vscode.FileSystemError.NoPermissions('NoteSeal is locked: this note was sealed; unlock to restore it.');
      return;
    }
    this.onActivity();
    this.writeCalledAt.set(key, Date.now());
    this.statAfterWrite.add(key);
    const seq = ++this.writeSeq;
    this.lastWrite.set(key, seq);
    const deadline = this.writes.has(key) ? 0 : SAVE_DEADLINE_MS;
    const written = (this.writes.get(key) ?? Promise.resolve()).then(() => this.writeThrough(uri, content, options, seq));
    const end = written.then(() => this.shownAfterLateWrite(uri, seq), e => this.lateWriteFailed(uri, content, e, seq));
    this.writes.set(key, end);
    void end.finally(() => {
      if (this.writes.get(key) === end) this.writes.delete(key);
      this.sent.delete(seq); this.handedOver.delete(seq); this.sealedByWorker.delete(seq);
    });
    // In time, VS Code gets the outcome as it is (a failure keeps the editor dirty and says why). Late, the
    // save is marked late in the timer's own turn, so that its end (a later turn) always finds the mark.
    let reportedLate = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reportedLate = true;
        const now = Date.now();
        this.late.set(key, { content, stat: { mtime: now, ctime: now, size: content.length }, seq });
        resolve();
      }, deadline);
      written.then(() => { clearTimeout(timer); resolve(); }, e => {
        // Failed in time: VS Code keeps the stat it had (nothing written), so no stat after it counts as held.
        if (!reportedLate) this.statAfterWrite.delete(key);
        clearTimeout(timer); reject(e as Error);
      });
    });
  }

  /** Resolves once every save reported to VS Code has really been written, or failed and been sealed (lock, restart). */
  async whenWritten(): Promise<void> {
    while (this.writes.size) await Promise.all([...this.writes.values()]);
  }

  /** whenWritten, or false once `ms` have passed. */
  async writtenWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.whenWritten().then(() => true), new Promise<false>(resolve => { timer = setTimeout(() => resolve(false), ms); })]);
    clearTimeout(timer);
    return done;
  }

  /**
   * The window closes (deactivate, issue 22 §2): waits up to `ms` for the saves VS Code was told had ended. A
   * late save still not sent to the worker then (an unlock prompt, a question about the note's writer or list,
   * a newer save queued behind a slow one) has its text sealed here into a recovery copy and is never sent; the
   * ones the worker has are the worker's to finish or seal (server/src/vault/writeJoin.ts). Returns how many
   * were sealed here, and how many could not be (their text is lost with the window: logged).
   */
  async handOver(ms: number): Promise<{ sealed: number; notSealed: number }> {
    if (await this.writtenWithin(ms)) return { sealed: 0, notSealed: 0 };
    let sealed = 0; let notSealed = 0;
    for (const [key, late] of this.late) {
      // Only the note's newest text counts (a newer save, not late, keeps the note dirty: sealed as such), and the
      // worker has the writes it was sent.
      if (this.lastWrite.get(key) !== late.seq || this.sent.has(late.seq)) continue;
      this.handedOver.add(late.seq);
      if (await this.sealLate(vscode.Uri.parse(key), late.content)) sealed++; else notSealed++;
    }
    return { sealed, notSealed };
  }

  /** A late save was written: from now on the real file is served, under the stat VS Code was given. */
  private async shownAfterLateWrite(uri: vscode.Uri, seq: number): Promise<void> {
    const key = uri.toString();
    const late = this.late.get(key);
    if (late?.seq !== seq) return; // in time, or a later save supersedes it
    const s = await this.worker.request(Method.fsStat, { path: logicalFsPath(uri) }).catch(() => undefined);
    if (s) this.shownStats.set(key, { mtime: Math.round(s.mtime), size: s.size, shown: late.stat });
    this.late.delete(key);
  }

  private async lateWriteFailed(uri: vscode.Uri, content: Uint8Array, error: unknown, seq: number): Promise<void> {
    const key = uri.toString();
    const late = this.late.get(key);
    if (late?.seq !== seq) return; // VS Code got this failure itself (in time), or a later save supersedes it
    this.late.delete(key);
    this.shownStats.delete(key);
    if (this.lastWrite.get(key) !== seq) return; // a later save of newer text is queued: its outcome counts
    if (this.handedOver.has(seq)) return; // sealed when the window closed
    await this.onLateWriteFailed(uri, content, error, this.sealedByWorker.has(seq)).catch(() => undefined);
  }

  private async writeThrough(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }, seq: number): Promise<void> {
    await this.withKey(uri, 'Saving an encrypted note needs the key.', async () => {
      const write = () => {
        // Sealed when the window closed (handOver): the recovery copy holds this text; nothing more is written.
        if (this.handedOver.has(seq)) throw new Error('The window closed before this save reached the worker: its text is kept in a sealed recovery copy.');
        this.sent.add(seq);
        return this.worker.request(Method.fsWriteFile, { path: logicalFsPath(uri), data: content, create: options.create, overwrite: options.overwrite });
      };
      try {
        // The user declined the list that governs the note: the worker refuses the write (nothing written).
        if (await this.confirmWriter(uri) === 'listDeclined') await write();
        // A list not accepted yet refuses the save: the user may review and accept it, then it is saved.
        else await withListAcceptance(this.worker, sealedFileOf(uri), write);
      } catch (e) {
        if (isWorkerError(e, 'CHANGED_ON_DISK')) this.onChangedWhileSaving(uri);
        if (isWorkerError(e, 'SAVE_SEALED')) this.sealedByWorker.add(seq);
        throw e;
      }
    }, false);
  }

  /**
   * Throws (nothing written) when the note's writer is not authentic and the user declines to take it over.
   * A list waiting for acceptance vouches for nobody yet, so it is offered first: accepting it may vouch for
   * the writer (a teammate's note in a freshly cloned shared folder), and then nothing more is asked.
   * 'listDeclined': the user declined that list (the write is refused by the worker; no second question).
   */
  private async confirmWriter(uri: vscode.Uri): Promise<'ok' | 'listDeclined'> {
    const file = logicalFsPath(uri);
    const sealed = sealedFileOf(uri);
    // An age, dotenvx or sops file (its own view) has no writer to take over (no signatures; "Who Can Read" says so).
    if (this.takenOver.has(file) || isAgePath(sealed) || hasDotenvName(sealed) || sealed === file) return 'ok';
    // The worker judges (describeSharing → judgeWriter); a new note (not found) has no writer yet.
    const describe = () => this.worker.request(Method.sharingDescribe, { path: sealed }).catch(e => {
      if (isWorkerError(e, 'LOCKED', 'NOT_INITIALIZED')) throw e;
      return undefined;
    });
    let facts = await describe();
    // Your own valid signature, for the path the note had before it was moved or copied: the content is yours,
    // and the save signs it for its new path (the warning stays where the note is read).
    if (!facts?.writer.warning || facts.writer.byYou) return 'ok';
    // Only a refused list can be waiting for acceptance (no list, or a trusted one: nothing to offer).
    const list = facts.listFile && facts.listProblem ? await offerList(this.worker, sealed) : 'none';
    if (list === 'declined') return 'listDeclined';
    if (list === 'accepted') facts = await describe();
    const warning = facts?.writer.warning;
    if (!facts || !warning || facts.writer.byYou) return 'ok';
    const who = facts.writer.name ?? (facts.writer.signer ? vscode.l10n.t('signing key {0}…', facts.writer.signer.slice(0, 16)) : vscode.l10n.t('an unknown writer (unsigned)'));
    if (!(await this.askTakeOver(uri, who, warning))) {
      this.onTakeOverDeclined(uri);
      throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Not saved: {0} was written by {1}, whom you do not trust, and you did not agree to sign it as yours. Your changes are kept in a sealed recovery copy.', nameOf(uri), who));
    }
    this.takenOver.add(file);
    return 'ok';
  }

  async delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    await this.call(uri, () => this.worker.request(Method.fsDelete, { path: logicalFsPath(uri), recursive: options.recursive }));
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    await this.call(oldUri, () => this.worker.request(Method.fsRename, { from: logicalFsPath(oldUri), to: logicalFsPath(newUri), overwrite: options.overwrite }));
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    await this.call(uri, () => this.worker.request(Method.fsCreateDirectory, { path: logicalFsPath(uri) }));
  }

  /**
   * Runs an operation that needs the key; when locked, asks for the passphrase once and retries.
   * The key remembered in SecretStorage only for the user's own open (`userOpen`, marked by the Explorer
   * redirect): otherwise this provider cannot tell who is reading. Another
   * extension's `workspace.fs.readFile(noteseal:…)`, an editor VS Code restores at startup or a link in a
   * preview would otherwise decrypt silently. A careful user expects the remembered key to save typing
   * when *they* open a note (the Explorer and our commands unlock first, see openRedirect.ts), and a
   * visible passphrase box for anything else, which they can dismiss: the read then fails NoPermissions.
   */
  private async withKey<T>(uri: vscode.Uri, reason: string, op: () => Promise<T>, userOpen: boolean, refused?: (uri: vscode.Uri) => void): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (!isWorkerError(e, 'LOCKED', 'NOT_INITIALIZED')) throw toFileSystemError(e, uri);
      if (!(await this.vault.ensureUnlocked(reason, { useRemembered: userOpen }))) {
        if (refused) refused(uri);
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('NoteSeal is locked: unlock it (click the lock in the status bar) and try again.'));
      }
      return this.call(uri, op);
    }
  }

  private async call<T>(uri: vscode.Uri, op: () => Promise<T>): Promise<T> {
    try { return await op(); } catch (e) { throw toFileSystemError(e, uri); }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changes.dispose();
  }
}

const nameOf = (uri: vscode.Uri) => uri.path.slice(uri.path.lastIndexOf('/') + 1);

async function askTakeOverModal(uri: vscode.Uri, who: string, warning: string): Promise<boolean> {
  const sign = vscode.l10n.t('Save and Sign as Mine');
  const pick = await vscode.window.showWarningMessage(
    vscode.l10n.t('{0} was written by {1}, whom you do not trust. Saving signs it as yours: others will see you as its writer.', nameOf(uri), who),
    { modal: true, detail: warning }, sign);
  return pick === sign;
}

/** Worker errors → the FileSystemError VS Code understands (so e.g. "file not found" behaves natively). */
function toFileSystemError(e: unknown, uri: vscode.Uri): Error {
  if (!(e instanceof WorkerCallError)) return e instanceof Error ? e : new Error(String(e));
  switch (e.code) {
    case 'FileNotFound': return vscode.FileSystemError.FileNotFound(uri);
    case 'FileExists': return vscode.FileSystemError.FileExists(uri);
    case 'FileIsADirectory': return vscode.FileSystemError.FileIsADirectory(uri);
    case 'FileNotADirectory': return vscode.FileSystemError.FileNotADirectory(uri);
    case 'NoPermissions': return vscode.FileSystemError.NoPermissions(e.message);
    case 'LOCKED': case 'NOT_INITIALIZED': return vscode.FileSystemError.NoPermissions(e.message);
    default: return vscode.FileSystemError.Unavailable(`NoteSeal: ${e.message}`);
  }
}
