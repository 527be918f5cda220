// Keeps decrypted notes out of VS Code's hot-exit backups.
//
// VS Code backs up every dirty editor about 1 s after the last edit, for any scheme and whatever
// `files.hotExit` says (#90667, #197811); in VS Code 1.139 the only thing that stops it is the document
// being clean when that timer fires (docs/ARCHITECTURE.md, "Leak defence"). So:
//  1. save-soon: a `noteseal:` document is saved (encrypted by the worker) 250 ms after its last edit,
//     well inside the 1 s window;
//  2. sealed recovery: when that save fails (locked, disk full), the text is sealed by the worker into an
//     encrypted recovery copy (noteRecovery.ts), so what the sweeper destroys is not lost; one VS Code refused
//     because the file changed on disk is sealed and the editor reverted at once (noteRecovery.ts changedOnDisk);
//  3. sweeper: the backup VS Code then writes is destroyed as soon as it appears (a file watcher on every
//     candidate backup home of backupLayouts.ts, a 200 ms poll as the fallback), and once at start for
//     what a crash left behind. A probe finds which home this VS Code really uses; where none can be
//     reached (remote windows, browser storage) the user is told once what protection remains.
import { lstatSync, watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { backupCandidates, type BackupCandidates } from './backupLayouts';
import { backupFilesSync, shredBackupsSync, shredFileSync } from './backupShredder';
import type { Logger } from '../shared/logger';
import { NOTESEAL_SCHEME } from '../shared/uris';

export const SAVE_SOON_MS = 250;
const SWEEP_EVERY_MS = 200;
/** VS Code backs up after 1 s (2 s with auto-save on); a probe that saw nothing by then will not. */
const PROBE_TIMEOUT_MS = 8000;
/** While probing, a backup younger than this may still be being written. */
const PROBE_SETTLE_MS = 400;
const TOLD_KEY = 'noteseal.backupsUnreachableTold';

export interface MemoryStat { mtime: number; ctime: number; size: number; /** Shown read-only (the locked text). */ readonly?: boolean }
export interface MemoryFileOptions {
  /** What stat reports (default: now, the content's length). */
  stat?: MemoryStat;
  /** Saves succeed and are dropped (the probe); otherwise they fail (a sealed note's placeholder). */
  acceptWrites?: boolean;
}
export interface InMemoryFiles {
  /** Serves `uri` from memory (no key, no worker) until disposed. */
  serveFromMemory(uri: vscode.Uri, content: Uint8Array, options?: MemoryFileOptions): vscode.Disposable;
}

export class LeakGuard implements vscode.Disposable {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly poller: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private probe: { marker: Buffer; found?: (home: string) => void } | undefined;
  private readonly probeUris = new Set<string>();
  /** Number of backups destroyed since start (for the log and tests). */
  swept = 0;
  readonly candidates: BackupCandidates;
  /** The backup home VS Code was seen writing to (by the probe or the sweeper); undefined until then. */
  confirmedHome: string | undefined;
  /**
   * Called with a document whose save-soon failed (the recovery copy is made there), and when that save was
   * asked (Date.now()): a save VS Code refused before the provider was called is told apart by it.
   */
  onSaveFailed: (doc: vscode.TextDocument, since: number) => Promise<void> = async () => undefined;
  /** Called after a save-soon succeeded. */
  onSaved: (doc: vscode.TextDocument) => void = () => undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: Logger) {
    this.subscriptions.push(vscode.workspace.onDidChangeTextDocument(e => {
      if (e.document.uri.scheme !== NOTESEAL_SCHEME || this.probeUris.has(e.document.uri.toString()) || !e.document.isDirty) return;
      this.scheduleSave(e.document);
    }));
    this.candidates = backupCandidates({
      globalStorage: context.globalStorageUri, log: context.logUri, remoteName: vscode.env.remoteName,
      web: vscode.env.uiKind === vscode.UIKind.Web, portable: process.env.VSCODE_PORTABLE,
    });
    if (this.candidates.homes.length) {
      this.poller = setInterval(() => this.requestSweep(), SWEEP_EVERY_MS);
      this.requestSweep(); // what a crash left behind (VS Code may already have restored it into an editor)
    }
  }

  /** Where the sweeper looks (for tests and the log): the confirmed home first. */
  get homes(): string[] {
    return this.confirmedHome ? [this.confirmedHome, ...this.candidates.homes.filter(h => h !== this.confirmedHome)] : this.candidates.homes;
  }

  /** Dirty notes restored by VS Code before we were active get the same treatment as fresh edits. */
  saveDirtyNotesSoon(): void {
    for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === NOTESEAL_SCHEME && doc.isDirty) this.scheduleSave(doc);
  }

  private scheduleSave(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); void this.saveSoon(doc); }, SAVE_SOON_MS));
  }

  /** Notes whose last save lost a race with another writer (the worker refused its rename: CHANGED_ON_DISK). */
  private readonly lostRace = new Set<string>();

  /**
   * A save of `uri` failed because another writer replaced the note meanwhile (the worker's own check). The
   * save-soon that failed saves once more, right after VS Code has finished with the failed save: VS Code's
   * modified-since check refuses it, which onSaveFailed tells apart (the text sealed, the editor reverted).
   */
  savedOverByAnotherWriter(uri: vscode.Uri): void {
    this.lostRace.add(uri.toString());
  }

  private async saveSoon(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed || !doc.isDirty) return;
    // A failed save keeps the editor dirty and VS Code shows why; the text is sealed, the sweeper handles the
    // backup. One refused because the file changed on disk is sealed and reverted at once (onSaveFailed).
    let since = Date.now();
    let saved = await doc.save().then(ok => ok, () => false);
    if (!saved && this.lostRace.delete(doc.uri.toString()) && !doc.isClosed && doc.isDirty) {
      since = Date.now();
      saved = await doc.save().then(ok => ok, () => false);
    }
    if (saved) this.onSaved(doc);
    else if (!doc.isClosed && doc.isDirty) await this.onSaveFailed(doc, since).catch(e => this.log.warn(`could not seal a recovery copy: ${(e as Error).message}`));
  }

  /**
   * Finds the backup home this VS Code really uses: a throwaway, non-secret `noteseal:` document served from
   * memory is kept dirty until VS Code backs it up, then saved (to memory) so VS Code drops the backup.
   * Where nothing can be confirmed the user is told once which protection remains.
   */
  async calibrate(files: InMemoryFiles, attempts = 2): Promise<string | undefined> {
    if (!this.candidates.homes.length) { this.tellUnreachable(this.candidates.unreachable!); return undefined; }
    // A window that is still restoring can miss the first probe: try a few times before telling the user.
    for (let i = 0; i < attempts; i++) {
      const home = await this.probeOnce(files, PROBE_TIMEOUT_MS);
      if (home) {
        this.confirmedHome = home;
        this.log.info(`hot-exit backups of this window go to ${home} (confirmed by a probe); the sweeper watches it`);
        return home;
      }
    }
    // Not a reason to alarm the user: every candidate is swept anyway, and the first real backup the sweeper
    // destroys confirms its home (in our host VS Code did not always back up the probe document).
    this.log.info(`no hot-exit backup of the probe appeared in ${this.candidates.homes.join(', ')}; sweeping every candidate`);
    return undefined;
  }

  private async probeOnce(files: InMemoryFiles, timeoutMs: number): Promise<string | undefined> {
    const marker = `noteseal-backup-probe-${randomBytes(8).toString('hex')}`;
    // Not under VS Code's user data: documents there got no backup in our host. The path is never touched.
    const uri = vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: vscode.Uri.file(path.join(os.tmpdir(), `${marker}.txt`)).path });
    const served = files.serveFromMemory(uri, new Uint8Array(), { acceptWrites: true });
    this.probeUris.add(uri.toString());
    try {
      const found = new Promise<string | undefined>(resolve => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        this.probe = { marker: Buffer.from(marker), found: home => { clearTimeout(timer); resolve(home); } };
      });
      const doc = await vscode.workspace.openTextDocument(uri);
      // Edited in an editor (without taking the focus), as a user edits a note: VS Code did not back up a
      // document changed only through workspace.applyEdit in our host.
      const editor = await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true });
      await editor.edit(b => b.insert(new vscode.Position(0, 0), marker));
      // Each content change schedules a new backup: nudge it again if the first one did not come.
      const nudge = setInterval(() => { if (!doc.isClosed) void editor.edit(b => b.insert(new vscode.Position(0, 0), ' ')).then(undefined, () => undefined); }, 2000);
      const home = await found.finally(() => clearInterval(nudge));
      await doc.save().then(undefined, () => undefined); // clean: VS Code drops its backup, the tab closes silently
      const tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri.toString());
      if (tabs.length) await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
      return home;
    } finally {
      this.probe = undefined;
      this.probeUris.delete(uri.toString());
      served.dispose();
    }
  }

  private tellUnreachable(why: string): void {
    this.log.warn(`backups out of reach: ${why}`);
    if (this.context.globalState.get<boolean>(TOLD_KEY)) return;
    void this.context.globalState.update(TOLD_KEY, true);
    void vscode.window.showWarningMessage(`${why} What protects unsaved text here: notes are saved encrypted ${SAVE_SOON_MS} ms after each edit, and a note that cannot be saved is sealed into an encrypted recovery copy. A note left unsaved for more than a second (locked) may still be backed up by VS Code in plaintext until it is saved or reverted.`);
  }

  private requestSweep(): void {
    if (this.sweeping) { this.sweepAgain = true; return; }
    this.sweeping = this.sweepAll().finally(() => {
      this.sweeping = undefined;
      if (this.sweepAgain) { this.sweepAgain = false; this.requestSweep(); }
    });
  }

  /** Settles when every backup that exists now has been destroyed (tests). */
  async sweepNow(): Promise<void> {
    while (this.sweeping) await this.sweeping;
    this.requestSweep();
    while (this.sweeping) await this.sweeping;
  }

  private async sweepAll(): Promise<void> {
    for (const home of this.homes) {
      this.ensureWatcher(home);
      for (const file of backupFilesSync(home, NOTESEAL_SCHEME)) await this.destroy(home, file);
    }
  }

  /** A watcher on the backup home sweeps the moment VS Code writes (the poll is the fallback). */
  private ensureWatcher(home: string): void {
    if (this.watchers.has(home)) return;
    try {
      const w = watch(home, { recursive: true, persistent: false }, () => this.requestSweep());
      w.on('error', () => { w.close(); this.watchers.delete(home); });
      this.watchers.set(home, w);
    } catch { /* not there yet: the poll retries */ }
  }

  /** Destroys one backup file (backupShredder.ts); while probing, the probe's own backup only confirms the home. */
  private async destroy(home: string, p: string): Promise<void> {
    let probe = false;
    const keep = this.probe && ((head: Buffer, mtimeMs: number) => {
      if (head.includes(this.probe!.marker)) { this.probe!.found?.(home); probe = true; return false; }
      // The watcher can fire while VS Code is still writing: leave a fresh file for the next round, or the
      // probe would destroy its own backup unread.
      return Date.now() - mtimeMs < PROBE_SETTLE_MS;
    });
    // When VS Code created it (birth time; the last write where the file system keeps none): the log says how
    // long the plaintext was on disk, the window the leak table states (docs/ARCHITECTURE.md).
    let born = 0;
    try { const st = lstatSync(p); born = st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs; } catch { /* gone already */ }
    let result;
    try { result = shredFileSync(p, keep || undefined); } catch { return; }
    if (result !== 'destroyed' || probe) return;
    if (!this.confirmedHome) { this.confirmedHome = home; this.log.info(`hot-exit backups of this window go to ${home} (seen by the sweeper)`); }
    this.swept++;
    const onDisk = born ? `; it was on disk for ${Math.max(0, Math.round(Date.now() - born))} ms` : '';
    this.log.warn(`destroyed a hot-exit backup of an encrypted note (a save had not happened in time${onDisk})`);
  }

  /**
   * For deactivate(): destroys every backup there is now, synchronously (on desktop VS Code has written its
   * shutdown backups by then; nothing asynchronous is sure to run to its end while the window goes down).
   */
  sweepSync(): number {
    const n = shredBackupsSync(this.homes, NOTESEAL_SCHEME);
    this.swept += n;
    return n;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    clearInterval(this.poller);
    for (const w of this.watchers.values()) w.close();
    for (const s of this.subscriptions) s.dispose();
  }
}
