// The worker's search service: runs searches for the client with the vault's keys, streams their results
// as batched notifications, cancels them on request, and holds the plaintext cache, which it wipes (and
// every running search it ends) the moment the vault locks.
import type { SearchFileResult, SearchQuery, SearchSummary } from '../protocol';
import type { VaultService } from '../vault/vaultService';
import { WorkerError } from '../vault/workerErrors';
import { PlaintextCache } from './cache';
import { decryptNote } from './decrypt';
import { runSearch } from './engine';
import type { NoteFile } from './walk';
import { QueryError } from './query';
import { SlowPattern, ThreadMatcher } from './threadMatcher';
import { keepingDataKey, writerWarningOf } from './writer';
import { hasDotenvName, isAgePath } from '../encPaths';
import { NoteSealError } from '../crypto/errors';
import type { Keyring } from '../keys/keyring';
import { readAgeNote } from '../vault/ageNotes';
import { readDotenvxForSearch } from '../vault/dotenvxNotes';
import { MAX_NOTE_BYTES } from '../vault/encFileSystem';

/** Results are sent at most this often (and at the end), so a search over thousands of notes is a few messages. */
/** An age match's warning (age has no signatures: docs/KEYS.md, "age files have no writer"). */
const AGE_HAS_NO_WRITER = 'an age file: it carries no signature, so who wrote it cannot be known (anyone who knows a recipient can write one).';
/** A dotenvx match's warning (docs/CLI.md, "dotenvx files": no writer). */
const DOTENVX_HAS_NO_WRITER = 'a dotenvx file: its values carry no signature, so who wrote them cannot be known (anyone who knows its public key can write one).';

const BATCH_MS = 50;

export interface SearchEvents {
  found(id: number, files: SearchFileResult[], searched: number, total: number): void;
}

export class SearchService {
  readonly cache = new PlaintextCache();
  private readonly running = new Map<number, { cancelled: boolean }>();
  /** Matching runs in a thread of its own, so that a runaway pattern cannot stall saves, locking or the agent. */
  private readonly matcher: ThreadMatcher;
  /**
   * Why a note's writer is not trusted, by `.enc` path: judged when the note is decrypted, kept as long as its
   * plaintext is cached (a changed note is decrypted, so judged, again).
   */
  private readonly writerWarnings = new Map<string, string>();

  /** `matcherScript`: the bundled matcher thread; `stuckMs`: how long a note may take before the search is stopped. */
  constructor(private readonly vault: VaultService, private readonly events: SearchEvents, matcherScript: string, stuckMs?: number) {
    this.matcher = new ThreadMatcher(matcherScript, stuckMs);
    vault.onDidChange(state => { if (state.locked) this.wipe(); });
  }

  /** Lock: every running search ends, and every decrypted note held for searching is zeroed (the matcher thread goes too). */
  wipe(): void {
    for (const r of this.running.values()) r.cancelled = true;
    this.matcher.terminate(new WorkerError('LOCKED', 'NoteSeal was locked during the search.'));
    this.cache.wipe();
    this.writerWarnings.clear();
  }

  cancel(id: number): void {
    const r = this.running.get(id);
    if (r) r.cancelled = true;
  }

  /** Decrypts a note for searching and judges its writer (with the data key, for the key commitment). */
  private async open(encPath: string): Promise<Buffer> {
    const keyring = this.vault.unlocked();
    if (isAgePath(encPath)) return this.openAge(keyring, encPath);
    if (hasDotenvName(encPath)) return this.openDotenvx(keyring, encPath);
    const kept = keepingDataKey(keyring.unwrap);
    try {
      const text = await decryptNote(encPath, kept.unwrap);
      // A check that fails is no reason to trust the writer.
      const warning = await writerWarningOf(keyring, encPath, kept.dataKey())
        .catch((e: Error) => `${encPath}: its writer could not be checked (${e.message}): do not trust its content.`);
      if (warning) this.writerWarnings.set(encPath, warning); else this.writerWarnings.delete(encPath);
      return text;
    } finally { kept.wipe(); }
  }

  /**
   * An age file: opened with the age identities held (or the passphrase the user gave for it in the editor; a
   * passphrase file without one is listed as not searched). age files have no writer: a match says so.
   */
  private async openAge(keyring: Keyring, agePath: string): Promise<Buffer> {
    try {
      const text = await readAgeNote(keyring, agePath, MAX_NOTE_BYTES);
      this.writerWarnings.set(agePath, `${agePath}: ${AGE_HAS_NO_WRITER}`);
      return text;
    } catch (e) {
      if (e instanceof WorkerError && e.code === 'FILE_PASSPHRASE_NEEDED') throw new NoteSealError('WRONG_KEY', `${agePath} is a passphrase-protected age file: open it in the editor (it asks for its passphrase) to search it until NoteSeal locks.`);
      throw e;
    }
  }

  /**
   * A dotenvx `.env` file (the walk took it by its DOTENV_PUBLIC_KEY line): its values decrypted in memory with
   * the private key at hand (the worker's environment, else the key store); without one it is listed as not
   * searched. dotenvx files have no writer: a match says so.
   */
  private async openDotenvx(keyring: Keyring, file: string): Promise<Buffer> {
    const text = await readDotenvxForSearch(keyring, file, MAX_NOTE_BYTES);
    this.writerWarnings.set(file, `${file}: ${DOTENVX_HAS_NO_WRITER}`);
    return text;
  }

  async search(id: number, query: SearchQuery, roots: string[]): Promise<SearchSummary> {
    this.vault.unlocked(); // LOCKED / NOT_INITIALIZED before anything is listed
    const state = { cancelled: false };
    this.running.set(id, state);
    let batch: SearchFileResult[] = [];
    let lastSent = performance.now();
    let progress = { searched: 0, total: 0 };
    const matcher = this.matcher.begin(query); // started lazily: a literal query never starts the thread
    const send = () => {
      this.events.found(id, batch, progress.searched, progress.total);
      batch = [];
      lastSent = performance.now();
    };
    try {
      const summary = await runSearch({
        query, roots, cache: this.cache,
        // Checked per note: a lock during the search ends it with LOCKED.
        open: encPath => this.open(encPath),
        isCancelled: () => state.cancelled,
        // Only a regular expression can backtrack for ever; a literal (escaped, whole word or not) scans in linear time here.
        ...(query.isRegex ? { scan: (data: Buffer, maxMatches: number, note: NoteFile) => matcher.scan(data, maxMatches, note.relativePath) } : {}),
        onFile: (r, note) => {
          const writerWarning = this.writerWarnings.get(note.encPath);
          batch.push(writerWarning ? { ...r, writerWarning } : r);
        },
        onProgress: (searched, total) => {
          progress = { searched, total };
          if (performance.now() - lastSent >= BATCH_MS) send();
        },
      });
      if (state.cancelled) this.vault.unlocked(); // cancelled by a lock: say LOCKED, not "cancelled"
      send();
      return summary;
    } catch (e) {
      if (e instanceof QueryError || e instanceof SlowPattern) throw new WorkerError('INVALID_ARGUMENT', e.message);
      throw e;
    } finally {
      matcher.end();
      this.running.delete(id);
    }
  }
}
