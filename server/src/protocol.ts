// The one typed contract between the extension (client/) and the worker (server/).
// Both sides import this module; method names never appear as string literals anywhere else.
// Each side wraps its own JSON-RPC library with helpers typed by these maps, so a renamed method or a
// changed parameter type is a compile error on both sides at once.
//
// Bytes cross the IPC boundary as raw `Uint8Array`s: the client starts the worker with Node's 'advanced'
// (structured clone) IPC serialization, so binary data is copied as bytes, never as base64 or JSON arrays
// of numbers. Paths are OS paths of the real files on disk; the client maps `noteseal:` URIs to them.

export type Bytes = Uint8Array;
export type { KnownMember, PendingList, SharingFacts } from './keys/sharing';
import type { KnownMember, PendingList, SharingFacts } from './keys/sharing';
import type { PendingAgeList } from './formats/age-recipients';
export type { PendingAgeList } from './formats/age-recipients';

/** What "Open with NoteSeal" found a file to be (issue 27); `none` says why NoteSeal's view does not show it. */
export interface OpenWithKind { kind: 'enc' | 'age' | 'sops' | 'dotenvx' | 'none'; reason?: string }

/** Who can read a sops file: the master keys its metadata names, in sops's words ("age age1…", "PGP FBC7…", "AWS KMS arn:…"). */
export interface SopsFileDescription { file: string; store: string; masterKeys: string[] }

/** Who can read a dotenvx file: its public key, and where this machine holds the private key (if it does). */
export interface DotenvxFileDescription { file: string; publicKeyName: string; publicKey: string; privateKey: 'environment' | 'key store' | 'none' }

/** A `.sops.yaml` this machine has not accepted (or that changed since), as the modal shows it for one sops file. */
export interface PendingSopsConfig {
  configFile: string;
  reason: 'new' | 'changed';
  at?: string;
  sha256: string;
  /** The creation rule (1-based) that matches the file. */
  rule: number;
  /** Age recipients the rule would add to the file, and those it would take away. */
  add: string[];
  remove: string[];
  /** Master keys of other kinds the rule names (NoteSeal writes age only; they are not applied). */
  others: string[];
}

/** What Encrypt Folder did: counts, the failures, and why it stopped early (cancelled, disk full or read-only). */
export interface FolderEncryptResult {
  encrypted: number;
  skipped: number;
  failed: { path: string; message: string }[];
  stopped?: { reason: 'cancelled' | 'disk'; message: string; notAttempted: number };
}

/** An age file as "Who Can Read This File?" shows it (issue 26). */
export interface AgeFileDescription {
  file: string;
  armored: boolean;
  /** A passphrase (scrypt) file: whoever knows the passphrase; it stays one. */
  passphrase: boolean;
  /** The header's stanza types, e.g. "X25519 ×2, mlkem768x25519" (age headers do not name recipients). */
  stanzaTypes: string;
  /** Who the next save encrypts it to, and where that came from (a `.age-recipients`, a recipients list, your identity). */
  nextSave?: { source: string; recipients: string[] };
  /** Why the next save would be refused (a list not accepted yet, one that names none of your identities…). */
  nextSaveProblem?: string;
}

/** The `noteseal.transcription.*` settings, as the client read them (machine scope only). */
export interface TranscriptionSettings {
  /** `noteseal.transcription.engine`: only `pocketsphinx` for now (see docs/ARCHITECTURE.md). */
  engine?: string | null;
  /** `noteseal.transcription.command`: the engine's program, a name on an absolute PATH entry or an absolute path. */
  command?: string | null;
  /** `noteseal.transcription.model`: a model folder laid out like Debian's /usr/share/pocketsphinx/model/en-us. */
  model?: string | null;
  /** `noteseal.transcription.language`: the model's language name inside that folder (default en-us). */
  language?: string | null;
}

/** What a transcription wrote: the note, how many timed segments, how much audio, by which engine. */
export interface TranscribeResult {
  notePath: string;
  segments: number;
  durationSeconds: number;
  engine: string;
}

/** Requests the client sends to the worker. */
export interface ClientToWorkerRequests {
  'noteseal/workerStatus': { params: void; result: WorkerStatus };
  'noteseal/vault/state': { params: void; result: VaultState };
  'noteseal/vault/init': { params: { passphrase: string; remember: boolean }; result: { recoveryKey: string; state: VaultState } };
  'noteseal/vault/unlock': { params: { passphrase: string; remember: boolean }; result: VaultState };
  /** Unlocks with the master key remembered in the client's SecretStorage (asked for through `secrets/get`). */
  'noteseal/vault/unlockRemembered': { params: void; result: VaultState };
  'noteseal/vault/unlockWithRecoveryKey': { params: { recoveryKey: string; newPassphrase: string }; result: VaultState };
  'noteseal/vault/lock': { params: void; result: VaultState };
  /**
   * Unlock slots (issue 28): the keyfile's slots, read without unlocking, each with whether it can work now
   * (its token is present with `pkcs11Module`, the TPM answers). Runs no tool when the keyfile has no slot.
   */
  'noteseal/vault/slots': { params: { pkcs11Module: string | null }; result: { slots: SlotChoice[] } };
  /**
   * Unlocks through a slot with its PIN (WRONG_PIN says the tries left; TOKEN_ABSENT). `watchToken`: while
   * unlocked this way, the worker polls the token and sends `vault/tokenRemoved` once it is gone.
   */
  'noteseal/vault/unlockWithSlot': { params: { name: string; pin: string; pkcs11Module: string | null; watchToken: boolean }; result: VaultState };
  /** The labels of the tokens the PKCS#11 module shows now. */
  'noteseal/vault/tokens': { params: { pkcs11Module: string }; result: { labels: string[] } };
  /**
   * Adds a PKCS#11 slot: a P-256 key pair made on the token (PIN), the master key wrapped to it. Needs the
   * passphrase itself (verified here; an unlocked window is not enough). The keys stay unlocked as they were.
   */
  'noteseal/vault/addTokenSlot': { params: { passphrase: string; pkcs11Module: string; token: string; name: string; pin: string }; result: SlotChoice };
  /** Whether this machine's TPM answers now (Add Unlock Method offers a TPM slot only then). */
  'noteseal/vault/tpmPresent': { params: void; result: { present: boolean } };
  /**
   * Adds a TPM slot: an RSA key made in this machine's TPM (with `pin` as its auth value, if not null), the
   * master key wrapped to it, as `noteseal unlock add tpm [--pin]` does. Needs the passphrase itself.
   */
  'noteseal/vault/addTpmSlot': { params: { passphrase: string; name: string; pin: string | null }; result: SlotChoice };
  /**
   * Removes a slot (needs the passphrase). `rotate`: then rotates the master key, rewrapping every other slot
   * and the `.enc` files below `folder`, and returns the new recovery key (shown once). The passphrase itself
   * cannot be removed: it and the recovery key are always there.
   */
  'noteseal/vault/removeSlot': { params: { passphrase: string; name: string; rotate: boolean; folder: string | null }; result: SlotRemoval };
  'noteseal/vault/forgetRemembered': { params: void; result: void };
  /**
   * Verifies `currentPassphrase` (WRONG_PASSPHRASE otherwise), rewraps the master key under `newPassphrase`,
   * then re-stores (`remember: true`) or forgets (`false`) the key remembered in SecretStorage.
   */
  'noteseal/vault/changePassphrase': { params: { currentPassphrase: string; newPassphrase: string; remember: boolean }; result: void };
  'noteseal/fs/stat': { params: { path: string }; result: FileStatInfo };
  'noteseal/fs/readDirectory': { params: { path: string }; result: DirectoryEntry[] };
  'noteseal/fs/readFile': { params: { path: string }; result: { data: Bytes } };
  'noteseal/fs/writeFile': { params: { path: string; data: Bytes; create: boolean; overwrite: boolean }; result: void };
  'noteseal/fs/delete': { params: { path: string; recursive: boolean }; result: void };
  'noteseal/fs/rename': { params: { from: string; to: string; overwrite: boolean }; result: void };
  'noteseal/fs/createDirectory': { params: { path: string }; result: void };
  'noteseal/fs/watch': { params: { id: number; path: string; recursive: boolean }; result: void };
  'noteseal/fs/unwatch': { params: { id: number }; result: void };
  /** Encrypts a plaintext file to `<path>.enc` (crash-safe); deletes the plaintext only when asked. */
  'noteseal/file/encrypt': { params: { path: string; deletePlaintext: boolean }; result: { encPath: string } };
  /** The explicit export: writes the plaintext of `encPath` to `outPath`. */
  'noteseal/file/decryptTo': { params: { encPath: string; outPath: string }; result: void };
  /**
   * Decrypts `.enc` bytes the client read itself (a `git:` or Timeline revision) in memory: nothing is
   * written anywhere. Needs the vault unlocked.
   */
  'noteseal/file/decryptBytes': { params: { data: Bytes }; result: { data: Bytes } };
  /** Encrypts every plaintext file below a folder; reports `progress` notifications with `token`. */
  'noteseal/folder/encrypt': { params: { path: string; token: string; deletePlaintext: boolean }; result: FolderEncryptResult };
  'noteseal/recording/devices': { params: CaptureSettings; result: { tool: string | null; devices: AudioDeviceInfo[]; error?: string } };
  /** Starts capturing into `<folder>/<date time title>.wav.enc`; audio is sealed as it arrives. */
  'noteseal/recording/start': { params: CaptureSettings & { folder: string; title: string }; result: RecordingInfo };
  'noteseal/recording/pause': { params: { id: number }; result: void };
  'noteseal/recording/resume': { params: { id: number }; result: void };
  'noteseal/recording/stop': { params: { id: number }; result: RecordingSummary };
  /** Recordings a crash left unfinished in `folder` (found by structure, no key needed). */
  'noteseal/recording/findUnfinished': { params: { folder: string }; result: { path: string; recoverableSeconds: number }[] };
  'noteseal/recording/recover': { params: { path: string }; result: { durationSeconds: number; droppedBytes: number } };
  /** The explicit export: a plaintext WAV with exact sizes at `outPath`. */
  'noteseal/recording/export': { params: { encPath: string; outPath: string }; result: { durationSeconds: number } };
  /** Destroys the recording's detached key (every copy becomes unreadable), then deletes the file. */
  'noteseal/recording/shred': { params: { path: string }; result: void };
  /** For the player: the PCM format and length of a recording. */
  'noteseal/recording/describe': { params: { path: string }; result: RecordingFacts };
  /** For the player: decrypted PCM bytes [start, end) of the audio data (not the WAV header). */
  'noteseal/recording/read': { params: { path: string; start: number; end: number }; result: { data: Bytes } };
  /**
   * Transcribes a sealed recording into its meeting note (default `<name>.md.enc` beside it) with the engine the
   * machine-scoped settings choose; progress comes as `noteseal/progress` with the same token.
   */
  'noteseal/transcription/start': { params: { token: string; path: string; notePath?: string | null; settings: TranscriptionSettings }; result: TranscribeResult };
  'noteseal/transcription/cancel': { params: { token: string }; result: void };
  /** Seals the unsaved text of a note that could not be saved; needs no key (public-key sealing). */
  'noteseal/recovery/seal': { params: { path: string; data: Bytes }; result: { id: string } };
  /** The sealed copies waiting to be restored (needs the key). */
  'noteseal/recovery/list': { params: void; result: RecoveryCopy[] };
  /** The text of one sealed copy (needs the key). */
  'noteseal/recovery/read': { params: { id: string }; result: { path: string; data: Bytes } };
  'noteseal/recovery/discard': { params: { id: string }; result: void };
  // ---- faults and load (issue 15) ----
  /** Cancels the Encrypt Folder run with this token before its next file (the files done stay encrypted). */
  'noteseal/folder/cancel': { params: { token: string }; result: void };
  /** `noteseal.agent.askBeforeServing` changed (the initial value comes in WorkerInitOptions). */
  'noteseal/agent/configure': { params: { askBeforeServing: boolean }; result: void };
  // ---- Search inside encrypted notes (issue 16) ----
  /**
   * Searches the `.enc` notes below `roots`, decrypting in the worker's memory only. Results stream as
   * `search/didFind` notifications tagged with `id`; the request resolves with the summary when the search
   * ends (done, cancelled, or at the result limit). Needs the vault unlocked (LOCKED otherwise).
   */
  'noteseal/search/start': { params: { id: number; query: SearchQuery; roots: string[] }; result: SearchSummary };
  /** Ends the search `id` soon (its request then resolves with `cancelled: true`); unknown ids are ignored. */
  'noteseal/search/cancel': { params: { id: number }; result: void };
  // ---- sharing (issue 13): identities, recipients lists, writers ----
  /** This keyfile's public identity (created if it has none). Needs the vault unlocked. */
  'noteseal/sharing/identity': { params: void; result: { identity: string } };
  /**
   * Seals the age identities of an identity file (AGE-SECRET-KEY-1…/-PQ-1… lines) in the key store (issue 26).
   * The worker reads the file itself: the secret keys never cross this channel. Needs the vault unlocked.
   */
  'noteseal/age/importIdentities': { params: { file: string }; result: { added: string[]; already: string[] } };
  /** Adds a member to `folder`'s `.noteseal/recipients`, signed by this keyfile (creating the list). */
  'noteseal/sharing/addMember': { params: { folder: string; identity: string; name?: string; firstName: string }; result: { file: string; created: boolean; members: number; name: string } };
  /** Who can read a file (its folder's list) and who wrote it (the write signature). */
  'noteseal/sharing/describe': { params: { path: string }; result: SharingFacts };
  /** For each path: whether a `.noteseal/recipients` applies (no verification; for decorations). */
  'noteseal/sharing/isShared': { params: { paths: string[] }; result: { shared: boolean[] } };
  /** Members of other verified lists (Share Folder…: pick a member), without the caller and `folder`'s own members. */
  'noteseal/sharing/knownMembers': { params: { listFiles: string[]; folder: string }; result: { members: KnownMember[]; refused: string[] } };
  /** The window's workspace folders: a recipients list search stops at the nearer of a workspace folder and the repository's top. */
  'noteseal/sharing/workspaceRoots': { params: { roots: string[] }; result: void };
  /**
   * The list governing `path` when a write there was refused only because this machine has not accepted
   * it (new, used before this version, rewritten or replaced), with its members for review; else null.
   */
  'noteseal/sharing/pendingList': { params: { path: string }; result: PendingList | null };
  /** Accepts the list at `listFile` if it still ends at `head` (what the user reviewed); UNTRUSTED_RECIPIENTS otherwise. */
  'noteseal/sharing/acceptList': { params: { listFile: string; head: string }; result: { members: number } };
  /** The `.age-recipients` that governs the age file `path` when this machine has not accepted it (issue 26), or null. */
  'noteseal/age/pendingList': { params: { path: string }; result: PendingAgeList | null };
  /** Who can read an age file (issue 26): its header's stanza types and who the next save is for; age files have no writer. */
  'noteseal/age/describe': { params: { path: string }; result: AgeFileDescription };
  /** Accepts the `.age-recipients` at `listFile` if its text still has `sha256` (what the user reviewed). */
  'noteseal/age/acceptList': { params: { listFile: string; sha256: string }; result: { recipients: number } };
  /** Holds the own passphrase of the passphrase (scrypt) age file `path` in the worker's memory until the lock. */
  'noteseal/age/filePassphrase': { params: { path: string; passphrase: string }; result: void };
  /**
   * Whether VS Code opens the local file `path` through NoteSeal (issue 27): it carries sops metadata and has a
   * sops name, or a creation rule of a `.sops.yaml` this machine accepted matches it. Works while locked.
   */
  'noteseal/sops/opensInEditor': { params: { path: string }; result: { sops: boolean } };
  /** The `.sops.yaml` governing the sops file `path` when this machine has not accepted it, or null. */
  'noteseal/sops/pendingConfig': { params: { path: string }; result: PendingSopsConfig | null };
  /** Accepts the `.sops.yaml` at `configFile` if its text still has `sha256` (what the user reviewed). */
  'noteseal/sops/acceptConfig': { params: { configFile: string; sha256: string }; result: void };
  /** What "Open with NoteSeal" finds the local file `path` to be (by its bytes). Works while locked. */
  'noteseal/file/openWithKind': { params: { path: string }; result: OpenWithKind };
  /** `noteseal set` in VS Code: one value of a sops (`keyPath` as the CLI takes it) or dotenvx file, re-encrypted as a save. */
  'noteseal/file/setValue': { params: { path: string; keyPath: string; value: string }; result: { format: 'sops' | 'dotenvx'; added: boolean } };
  /** `noteseal encrypt --sops` in VS Code: in place, by the accepted `.sops.yaml` rule (UNTRUSTED_RECIPIENTS otherwise). */
  'noteseal/sops/encrypt': { params: { path: string }; result: { store: string; configFile: string; rule: number; ageRecipients: number } };
  /** Who can read a sops file (its metadata's master keys; nothing decrypted). */
  'noteseal/sops/describe': { params: { path: string }; result: SopsFileDescription };
  /** Who can read a dotenvx file (its public key; whether the private key is held). */
  'noteseal/dotenvx/describe': { params: { path: string }; result: DotenvxFileDescription };
  /** `sops updatekeys`: the file's data key rewrapped to the accepted rule's age recipients (UNTRUSTED_RECIPIENTS otherwise). */
  'noteseal/sops/updateKeys': { params: { path: string }; result: { added: string[]; removed: string[]; configFile: string } };
}

/** Requests the worker sends to the client: the client owns SecretStorage, the worker never touches it. */
export interface WorkerToClientRequests {
  'noteseal/secrets/get': { params: { name: RememberedSecret }; result: { value: string | null } };
  'noteseal/secrets/store': { params: { name: RememberedSecret; value: string }; result: void };
  'noteseal/secrets/delete': { params: { name: RememberedSecret }; result: void };
  /**
   * `noteseal.agent.askBeforeServing`: may this command-line client have a file key? The program is
   * identified by the kernel (server/src/agent/peer.ts); `file` is only what the client says it opens.
   */
  'noteseal/agent/consent': { params: AgentConsentQuestion; result: { answer: AgentConsentAnswer } };
}

export interface AgentConsentQuestion {
  op: 'decrypt' | 'encrypt';
  /** The program that ran the client (e.g. `git`), or "an unidentified program". */
  program: string;
  pid?: number;
  /** The file the client says it opens (a claim: the agent only sees key stanzas). */
  file?: string;
  /** The programs from the outermost known ancestor down to the client, as the kernel names them (`git`, `sh`, `node`). */
  chain?: string[];
  /**
   * Whether "Allow for This Session" may be offered: only for a parent process the kernel named that is not
   * a shell, interpreter or launcher (agent/peer.ts). Absent means false.
   */
  sessionGrant?: boolean;
}

/** `session` = clients started by this one parent process (pid and start time) may, until NoteSeal locks (only where offered: sessionGrant). A dismissed or timed-out question is `deny`. */
export type AgentConsentAnswer = 'once' | 'session' | 'deny';

/** Notifications the worker sends to the client (fire and forget). */
export interface WorkerToClientNotifications {
  'noteseal/log': { params: LogMessage };
  'noteseal/vault/didChange': { params: VaultState };
  'noteseal/fs/didChange': { params: { events: FileChange[] } };
  'noteseal/progress': { params: { token: string; done: number; total: number; message?: string } };
  /** About ten times a second while recording: the level meter and the elapsed time. */
  'noteseal/recording/level': { params: { id: number; rms: number; peak: number; seconds: number; paused: boolean } };
  'noteseal/recording/warning': { params: { id: number; code: string; message: string } };
  /** A log opened in the editor that its writer left unfinished (a crash): shown is what was sealed (issue 29). */
  'noteseal/log/unfinished': { params: { path: string; sealedBytes: number } };
  /** The token of the PKCS#11 slot NoteSeal was unlocked with is gone (`watchToken`): the client locks. */
  'noteseal/vault/tokenRemoved': { params: { slot: string; token: string } };
  /** The recording ended: by stop, or by itself (the tool died: what was captured is kept). */
  'noteseal/recording/stopped': { params: { id: number; summary: RecordingSummary } };
  /** Search (issue 16): the next files with matches of search `id`, and how far it got. */
  'noteseal/search/didFind': { params: { id: number; files: SearchFileResult[]; searched: number; total: number } };
}

export const Method = {
  workerStatus: 'noteseal/workerStatus',
  vaultState: 'noteseal/vault/state',
  vaultInit: 'noteseal/vault/init',
  vaultUnlock: 'noteseal/vault/unlock',
  vaultUnlockRemembered: 'noteseal/vault/unlockRemembered',
  vaultUnlockWithRecoveryKey: 'noteseal/vault/unlockWithRecoveryKey',
  vaultLock: 'noteseal/vault/lock',
  vaultForgetRemembered: 'noteseal/vault/forgetRemembered',
  vaultSlots: 'noteseal/vault/slots',
  vaultUnlockWithSlot: 'noteseal/vault/unlockWithSlot',
  vaultTokens: 'noteseal/vault/tokens',
  vaultAddTokenSlot: 'noteseal/vault/addTokenSlot',
  vaultTpmPresent: 'noteseal/vault/tpmPresent',
  vaultAddTpmSlot: 'noteseal/vault/addTpmSlot',
  vaultRemoveSlot: 'noteseal/vault/removeSlot',
  vaultTokenRemoved: 'noteseal/vault/tokenRemoved',
  vaultChangePassphrase: 'noteseal/vault/changePassphrase',
  fsStat: 'noteseal/fs/stat',
  fsReadDirectory: 'noteseal/fs/readDirectory',
  fsReadFile: 'noteseal/fs/readFile',
  fsWriteFile: 'noteseal/fs/writeFile',
  fsDelete: 'noteseal/fs/delete',
  fsRename: 'noteseal/fs/rename',
  fsCreateDirectory: 'noteseal/fs/createDirectory',
  fsWatch: 'noteseal/fs/watch',
  fsUnwatch: 'noteseal/fs/unwatch',
  fileEncrypt: 'noteseal/file/encrypt',
  fileDecryptTo: 'noteseal/file/decryptTo',
  fileDecryptBytes: 'noteseal/file/decryptBytes',
  folderEncrypt: 'noteseal/folder/encrypt',
  folderCancel: 'noteseal/folder/cancel',
  secretsGet: 'noteseal/secrets/get',
  secretsStore: 'noteseal/secrets/store',
  secretsDelete: 'noteseal/secrets/delete',
  agentConsent: 'noteseal/agent/consent',
  agentConfigure: 'noteseal/agent/configure',
  sharingIdentity: 'noteseal/sharing/identity',
  ageImportIdentities: 'noteseal/age/importIdentities',
  agePendingList: 'noteseal/age/pendingList',
  ageAcceptList: 'noteseal/age/acceptList',
  ageDescribe: 'noteseal/age/describe',
  ageFilePassphrase: 'noteseal/age/filePassphrase',
  sopsOpensInEditor: 'noteseal/sops/opensInEditor',
  sopsPendingConfig: 'noteseal/sops/pendingConfig',
  sopsAcceptConfig: 'noteseal/sops/acceptConfig',
  sopsUpdateKeys: 'noteseal/sops/updateKeys',
  fileOpenWithKind: 'noteseal/file/openWithKind',
  fileSetValue: 'noteseal/file/setValue',
  sopsEncrypt: 'noteseal/sops/encrypt',
  sopsDescribe: 'noteseal/sops/describe',
  dotenvxDescribe: 'noteseal/dotenvx/describe',
  sharingAddMember: 'noteseal/sharing/addMember',
  sharingDescribe: 'noteseal/sharing/describe',
  sharingIsShared: 'noteseal/sharing/isShared',
  sharingKnownMembers: 'noteseal/sharing/knownMembers',
  sharingWorkspaceRoots: 'noteseal/sharing/workspaceRoots',
  sharingPendingList: 'noteseal/sharing/pendingList',
  sharingAcceptList: 'noteseal/sharing/acceptList',
  recordingDevices: 'noteseal/recording/devices',
  recordingStart: 'noteseal/recording/start',
  recordingPause: 'noteseal/recording/pause',
  recordingResume: 'noteseal/recording/resume',
  recordingStop: 'noteseal/recording/stop',
  recordingFindUnfinished: 'noteseal/recording/findUnfinished',
  recordingRecover: 'noteseal/recording/recover',
  recordingExport: 'noteseal/recording/export',
  recordingShred: 'noteseal/recording/shred',
  recordingDescribe: 'noteseal/recording/describe',
  recordingRead: 'noteseal/recording/read',
  transcriptionStart: 'noteseal/transcription/start',
  transcriptionCancel: 'noteseal/transcription/cancel',
  recoverySeal: 'noteseal/recovery/seal',
  recoveryList: 'noteseal/recovery/list',
  recoveryRead: 'noteseal/recovery/read',
  recoveryDiscard: 'noteseal/recovery/discard',
  recordingLevel: 'noteseal/recording/level',
  recordingWarning: 'noteseal/recording/warning',
  logUnfinished: 'noteseal/log/unfinished',
  recordingStopped: 'noteseal/recording/stopped',
  log: 'noteseal/log',
  vaultDidChange: 'noteseal/vault/didChange',
  fsDidChange: 'noteseal/fs/didChange',
  progress: 'noteseal/progress',
  // Search (issue 16)
  searchStart: 'noteseal/search/start',
  searchCancel: 'noteseal/search/cancel',
  searchDidFind: 'noteseal/search/didFind',
} as const satisfies Record<string, keyof ClientToWorkerRequests | keyof WorkerToClientRequests | keyof WorkerToClientNotifications>;

export type ClientRequest = keyof ClientToWorkerRequests;
export type ParamsOf<M extends ClientRequest> = ClientToWorkerRequests[M]['params'];
export type ResultOf<M extends ClientRequest> = ClientToWorkerRequests[M]['result'];
export type WorkerRequest = keyof WorkerToClientRequests;
export type WorkerRequestParamsOf<M extends WorkerRequest> = WorkerToClientRequests[M]['params'];
export type WorkerRequestResultOf<M extends WorkerRequest> = WorkerToClientRequests[M]['result'];
export type WorkerNotification = keyof WorkerToClientNotifications;
export type NotificationParamsOf<N extends WorkerNotification> = WorkerToClientNotifications[N]['params'];

export interface WorkerStatus {
  /** NoteSeal version the worker was built from. */
  version: string;
  /** OS process id of the worker (lets tests and the status command see a restart). */
  pid: number;
  /** Seconds since the worker process started. */
  uptimeSeconds: number;
  /** Node.js version the worker runs on. */
  node: string;
  /** True while no key is held in the worker's memory. */
  locked: boolean;
  /** This window's agent socket (docs/CLI.md, "Agent"), or null when the agent is off or failed to start. */
  agentSocket: string | null;
}

export interface VaultState {
  /** A keyfile exists (setup was done). */
  initialized: boolean;
  locked: boolean;
  keyfile: string;
  /** Id of the current master key (not secret); null while locked. */
  masterKeyId: string | null;
}

export type RememberedSecret = 'masterKey';

/** An unlock slot as the unlock prompt and Remove Unlock Method show it: nothing secret. */
export interface SlotChoice {
  name: string;
  kind: 'pkcs11' | 'tpm';
  /** ISO 8601 UTC. */
  created: string;
  /** PKCS#11: the token's label. */
  token?: string;
  needsPin: boolean;
  /** It can work now: its token is present (with the configured module), or the TPM answers. */
  available: boolean;
}

export interface SlotRemoval {
  /** With `rotate`: the new recovery key (the old one no longer works); null otherwise. */
  recoveryKey: string | null;
  rewrapped: number;
  failed: { path: string; message: string }[];
}

export type FileKind = 'file' | 'directory';
export interface FileStatInfo { type: FileKind; ctime: number; mtime: number; size: number; readonly: boolean }
export type DirectoryEntry = [name: string, type: FileKind];
export interface FileChange { type: 'created' | 'changed' | 'deleted'; path: string }

/** The user's capture settings: a device id (from `devices`) and an override command, both optional. */
export interface CaptureSettings { device?: string | null; captureCommand?: string | null }
export interface AudioDeviceInfo { id: string; label: string; isDefault: boolean }
export interface RecordingInfo { id: number; path: string; startedAt: string; device: string | null; tool: string }
export interface RecordingSummary {
  path: string;
  durationSeconds: number;
  startedAt: string;
  endedAt: string;
  device: string | null;
  tool: string;
  endedBy: 'stop' | 'source-ended' | 'failed';
  /** Why it ended, when the tool died or writing failed (what was captured before is kept). */
  error?: string;
  warnings: string[];
}
export interface RecordingFacts { sampleRate: number; channels: number; bitsPerSample: number; dataBytes: number; durationSeconds: number }

/** A sealed recovery copy: `path` is the note's logical path (the `.enc` file minus `.enc`). */
export interface RecoveryCopy { id: string; path: string; savedAt: string; bytes: number }

/** Lifecycle events only: never file content, names of secrets or keys. */
export interface LogMessage {
  level: 'info' | 'warn' | 'error';
  message: string;
}

/**
 * `data` of a JSON-RPC error from the worker: a stable code the client maps to a VS Code error or message.
 * NoteSeal format and key errors keep their NoteSealErrorCode; file-system errors use the FileSystemError names.
 */
export interface WorkerErrorData { code: WorkerErrorCode }
export type WorkerErrorCode =
  | 'LOCKED' | 'NOT_INITIALIZED'
  | 'FileNotFound' | 'FileExists' | 'FileNotADirectory' | 'FileIsADirectory' | 'NoPermissions' | 'Unavailable'
  | 'WRONG_KEY' | 'WRONG_PASSPHRASE' | 'NOT_NOTESEAL' | 'UNSUPPORTED_VERSION' | 'CORRUPTED' | 'TRUNCATED'
  | 'TRAILING_DATA' | 'UNFINISHED' | 'DAMAGED_KEYFILE' | 'KEY_NOT_FOUND' | 'LIMIT_EXCEEDED' | 'INVALID_ARGUMENT'
  | 'RECORDING' | 'CAPTURE_FAILED' | 'CHANGED_ON_DISK'
  | 'ENGINE_MISSING' | 'TRANSCRIPTION_FAILED' | 'CANCELLED'
  | 'UNTRUSTED_RECIPIENTS' | 'NOT_A_REGULAR_FILE' | 'WRONG_PIN' | 'TOKEN_ABSENT'
  /** A passphrase (scrypt) age file: the editor asks for the file's own passphrase (never NoteSeal's). */
  | 'FILE_PASSPHRASE_NEEDED'
  /** A save the worker could not finish because it stopped: its text was sealed into a recovery copy (writeJoin.ts). */
  | 'SAVE_SEALED';
/** The JSON-RPC error code the worker uses for all of the above (in the server-defined range). */
export const WORKER_ERROR = -32050;

// ---- Search inside encrypted notes (issue 16) ----

/** What to look for, as VS Code's Search view asks it. */
export interface SearchQuery {
  pattern: string;
  isRegex: boolean;
  matchCase: boolean;
  wholeWord: boolean;
  /** Comma-separated globs, relative to a root (`notes/**`, `*.md`, `./top/*`); empty: every note. */
  include?: string;
  /** Comma-separated globs of notes and folders to leave out. */
  exclude?: string;
  /** Stop after this many matches (default SEARCH_MAX_RESULTS). */
  maxResults?: number;
}

/** One line with matches. Columns are UTF-16 code units, as VS Code's positions are. */
export interface SearchLine {
  /** 0-based line number. */
  line: number;
  /** The line, or a window of it around the matches for a very long line (`textStart` is its first column). */
  text: string;
  textStart: number;
  /** [start, end) columns of each match in the whole line. */
  ranges: [number, number][];
}

/** A neighbour of a matching line, for context. */
export interface SearchContextLine { line: number; text: string }

export interface SearchFileResult {
  /** The note's logical path (its `.enc` file without `.enc`): the `noteseal:` URI's path. */
  path: string;
  /** The path relative to its root, with `/` separators. */
  relativePath: string;
  lines: SearchLine[];
  context: SearchContextLine[];
  matches: number;
  /** Issue 21 §2: the note's writer is not authentic (unsigned, not a member, invalid, signed for another path). */
  writerWarning?: string;
}

export interface SearchFailure { path: string; code: string; message: string }

export interface SearchSummary {
  /** Notes considered (after the include and exclude globs). */
  totalFiles: number;
  searchedFiles: number;
  matchedFiles: number;
  matches: number;
  /** Notes whose plaintext holds NUL bytes (binary content) are not searched. */
  skippedBinary: number;
  /** Recordings (`*.wav.enc`) are not searched. */
  skippedRecordings: number;
  /** Notes that could not be opened (damaged, another keyfile, shredded key, …): listed, not fatal. */
  failed: SearchFailure[];
  /** The search stopped at `maxResults`. */
  limitHit: boolean;
  cancelled: boolean;
  elapsedMs: number;
}

export const SEARCH_MAX_RESULTS = 20_000;

/** The worker's `initializationOptions` (sent once by the client when it starts the worker). */
export interface WorkerInitOptions {
  keyfile?: string;
  /**
   * Fast, weak key derivation for test suites. The client sets it only outside ExtensionMode.Production
   * (a test or development host) and only when NOTESEAL_TEST_FAST_KDF=1; the worker reads no environment for it.
   */
  testFastKdf?: boolean;
  /** Serve the agent protocol to the CLI while unlocked (`noteseal.agent.enabled`). */
  agent?: boolean;
  /**
   * Test hosts only (issue 22 §2, a slow disk): each note's write waits this long before it starts. The client
   * sets it only outside ExtensionMode.Production, from NOTESEAL_TEST_SLOW_SAVE_MS.
   */
  testSlowSaveMs?: number;
  /** Ask the client before serving a CLI request (`noteseal.agent.askBeforeServing`); see `agent/configure`. */
  agentAskBeforeServing?: boolean;
}
