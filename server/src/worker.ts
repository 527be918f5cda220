// The NoteSeal worker: a background Node process started by the extension over IPC.
// All crypto, file I/O and recording run here; the extension side stays a thin UI.
// Every handler is registered through `onRequest`, typed by the protocol module; errors become
// JSON-RPC errors with a stable code (workerErrors.ts). Nothing here logs content or keys.
import { importAgeIdentityFile } from './formats/age-format';
import { acceptAgeListAt, pendingAgeList } from './formats/age-recipients';
import path from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { removeTempSiblingsInFlight } from './crypto/atomic';
import { PRODUCTION_KDF_POLICY, TEST_KDF_POLICY } from './keys/kdf';
import { absoluteKeyfilePath, defaultKeyfilePath } from './keys/location';
import {
  Method, type ClientRequest, type NotificationParamsOf, type ParamsOf, type ResultOf, type WorkerNotification,
  type WorkerInitOptions, type WorkerRequest, type WorkerRequestParamsOf, type WorkerRequestResultOf,
} from './protocol';
import { RecordingService } from './recording/recordingService';
import { TranscriptionService } from './transcription/transcriptionService';
import { SearchService } from './search/service';
import { EncFileSystem, MAX_NOTE_BYTES } from './vault/encFileSystem';
import { describeAgeNote } from './vault/ageNotes';
import { cancelFolderEncryption, encryptPlaintextFile, encryptFolder, decryptToFile } from './vault/fileCommands';
import { RecoveryStore, recoveryDirFor } from './vault/recoveryStore';
import { VaultService } from './vault/vaultService';
import { WorkerAgent } from './vault/workerAgent';
import { WRITE_JOIN_MS, WriteJoin } from './vault/writeJoin';
import { EncWatchers } from './vault/watcher';
import { acceptSopsConfigAt, opensAsSops, pendingSopsConfig, updateSopsKeys } from './vault/sopsNotes';
import { describeDotenvxNote, describeSopsNote, encryptFileAsSops, openWithKind, setValueInFile } from './vault/otherToolFiles';
import { toResponseError } from './vault/workerErrors';
import { VERSION } from './version';
import { acceptListAt, addMember, describeSharing, knownMembers, pendingList, setWorkspaceRoots } from './keys/sharing';
import { isSharedFile } from './keys/readers';

const connection = createConnection(ProposedFeatures.all);
const startedAt = Date.now();

/** Registers a handler for a request of the typed protocol; thrown errors reach the client typed. */
function onRequest<M extends ClientRequest>(method: M, handler: (params: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>>): void {
  connection.onRequest(method, async (params: ParamsOf<M>) => {
    try { return await handler(params); } catch (e) { throw toResponseError(e); }
  });
}

/** Sends a notification of the typed protocol to the client. */
function notify<N extends WorkerNotification>(method: N, params: NotificationParamsOf<N>): void {
  void connection.sendNotification(method, params);
}

/** Asks the client something only it can do (SecretStorage). */
function ask<M extends WorkerRequest>(method: M, params: WorkerRequestParamsOf<M>): Promise<WorkerRequestResultOf<M>> {
  return connection.sendRequest(method, params) as Promise<WorkerRequestResultOf<M>>;
}

let vault: VaultService | undefined;
let files: EncFileSystem | undefined;
let recordings: RecordingService | undefined;
let transcriptions: TranscriptionService | undefined;
let recovery: RecoveryStore | undefined;
/** The recipient key pair is made or checked after each unlock; recovery requests wait for it. */
let recipientReady: Promise<unknown> = Promise.resolve();
let agent: WorkerAgent | undefined;
let search: SearchService | undefined;
const watchers = new EncWatchers(events => notify(Method.fsDidChange, { events }));
const info = (message: string) => notify(Method.log, { level: 'info', message });
/** Test hosts only (a slow worker, issue 22 §2): each note's write waits this long before it starts. */
let testSlowSaveMs = 0;
/** Notes being written: a stop, an exit and a lock wait for them (writeJoin.ts). */
const writeJoin = new WriteJoin(
  async (notePath, data) => { await recipientReady; return recovery!.seal(notePath, data); },
  id => recovery!.discard(id),
  message => notify(Method.log, { level: 'warn', message }));

connection.onInitialize(params => {
  const options = (params.initializationOptions ?? {}) as WorkerInitOptions;
  testSlowSaveMs = options.testSlowSaveMs ?? 0;
  const keyfile = options.keyfile ? absoluteKeyfilePath(options.keyfile, 'The noteseal.keyfile setting') : defaultKeyfilePath();
  vault = new VaultService(keyfile, {
    get: async name => (await ask(Method.secretsGet, { name })).value,
    store: (name, value) => ask(Method.secretsStore, { name, value }),
    delete: name => ask(Method.secretsDelete, { name }),
  }, options.testFastKdf === true ? TEST_KDF_POLICY : PRODUCTION_KDF_POLICY);
  recovery = new RecoveryStore(recoveryDirFor(vault.keyfilePath));
  vault.onDidChange(state => {
    if (!state.locked) {
      recipientReady = recovery!.ensureRecipient(vault!.unlocked())
        .then(r => { if (r !== 'ok') info(`recovery key ${r}`); })
        .catch(e => notify(Method.log, { level: 'warn', message: `recovery key not available: ${(e as Error).message}` }));
    }
    // However the vault locked (command, auto-lock, the agent), a transcription stops and drops what it held.
    if (state.locked) transcriptions?.cancelAll();
    if (state.locked) files?.forgetDecrypted();
    notify(Method.vaultDidChange, state);
    info(state.locked ? 'vault locked: keys wiped from memory' : 'vault unlocked');
  });
  vault.onTokenRemoved((slot, token) => {
    info(`the token of unlock slot ${slot} was removed`);
    notify(Method.vaultTokenRemoved, { slot, token });
  });
  files = new EncFileSystem(vault, watchers);
  files.onUnfinishedLog = (real, sealedBytes) => notify(Method.logUnfinished, { path: real, sealedBytes });
  search = new SearchService(vault, { found: (id, found, searched, total) => notify(Method.searchDidFind, { id, files: found, searched, total }) }, path.join(__dirname, 'searchThread.js'));
  recordings = new RecordingService(vault, {
    level: e => notify(Method.recordingLevel, e),
    warning: e => notify(Method.recordingWarning, e),
    stopped: e => { notify(Method.recordingStopped, e); info(`recording ${e.id} ended (${e.summary.endedBy})`); },
  });
  // Its own EncFileSystem, not told the watchers: the note's change reaches VS Code as any other writer's
  // would, so an open (unmodified) meeting note shows its new transcript.
  transcriptions = new TranscriptionService(vault, new EncFileSystem(vault), (token, done, total) => notify(Method.progress, { token, done, total }));
  if (options.agent !== false) {
    agent = new WorkerAgent(vault, {
      lock: () => lockVault(),
      log: info,
      askBeforeServing: options.agentAskBeforeServing === true,
      consent: async question => (await ask(Method.agentConsent, question)).answer,
    });
  }
  return { capabilities: {}, serverInfo: { name: 'noteseal-worker', version: VERSION } };
});
let agentStart: Promise<void> | undefined;
connection.onInitialized(() => {
  info(`worker ${VERSION} started (pid ${process.pid}, node ${process.version})`);
  agentStart = agent?.start();
});
// Stopping waits for the notes being written first (their key is still needed), sealing what outlasts the bound.
connection.onShutdown(async () => { await writeJoin.settle(); agent?.close(); await recordings?.stopAll(); vault?.lock(); search?.wipe(); watchers.dispose(); });
// A save cut short by the stop leaves the old note; its unfinished temp sibling goes with the worker.
process.on('exit', () => { agent?.close(); removeTempSiblingsInFlight(); });
process.on('SIGTERM', () => process.exit(143)); // so that the 'exit' handler runs
// vscode-languageserver exits the process from its parent watchdog once VS Code's process is gone (a window
// closed while its extension host could not wait), with no shutdown request: a note being written then is
// finished first, or sealed (writeJoin.ts). Every other exit goes through here too; without writes it is at once.
const exitNow = process.exit.bind(process);
let exiting: Promise<void> | undefined;
process.exit = ((code?: number) => {
  if (!writeJoin.busy && !exiting) return exitNow(code);
  exiting ??= writeJoin.settle().finally(() => exitNow(code));
  return undefined as never;
}) as typeof process.exit;

/** Locking ends a running recording first: its data key goes with the others. */
async function lockVault() { await writeJoin.settle(WRITE_JOIN_MS, false); transcriptions?.cancelAll(); await recordings!.stopAll(); return vault!.lock(); }

onRequest(Method.workerStatus, async () => ({
  version: VERSION,
  pid: process.pid,
  uptimeSeconds: (Date.now() - startedAt) / 1000,
  node: process.version,
  locked: vault?.state().locked ?? true,
  agentSocket: await startedAgent(),
}));

/** This window's agent socket, once the agent (started with the worker) serves. */
async function startedAgent(): Promise<string | null> {
  await agentStart;
  return agent?.socketPath ?? null;
}

onRequest(Method.vaultState, () => vault!.state());
onRequest(Method.agentConfigure, p => { if (agent) agent.askBeforeServing = p.askBeforeServing === true; });
onRequest(Method.vaultInit, p => vault!.init(p.passphrase, p.remember));
onRequest(Method.vaultUnlock, p => vault!.unlock(p.passphrase, p.remember));
onRequest(Method.vaultUnlockRemembered, () => vault!.unlockRemembered());
onRequest(Method.vaultUnlockWithRecoveryKey, p => vault!.unlockWithRecoveryKey(p.recoveryKey, p.newPassphrase));
onRequest(Method.vaultLock, () => lockVault());
onRequest(Method.vaultForgetRemembered, () => vault!.forgetRemembered());
onRequest(Method.vaultSlots, async p => ({ slots: await vault!.slots(p.pkcs11Module) }));
onRequest(Method.vaultUnlockWithSlot, p => vault!.unlockWithSlot(p.name, p.pin, p.pkcs11Module, p.watchToken));
onRequest(Method.vaultTokens, async p => ({ labels: await vault!.tokenLabels(p.pkcs11Module) }));
onRequest(Method.vaultAddTokenSlot, p => vault!.addPkcs11Slot(p.passphrase, p.pkcs11Module, p.token, p.name, p.pin));
onRequest(Method.vaultTpmPresent, async () => ({ present: await vault!.tpmPresent() }));
onRequest(Method.vaultAddTpmSlot, p => vault!.addTpmSlot(p.passphrase, p.name, p.pin));
onRequest(Method.vaultRemoveSlot, p => vault!.removeSlot(p.passphrase, p.name, p.rotate, p.folder));
onRequest(Method.vaultChangePassphrase, p => vault!.changePassphrase(p.currentPassphrase, p.newPassphrase, p.remember));

onRequest(Method.fsStat, p => files!.stat(p.path));
onRequest(Method.fsReadDirectory, p => files!.readDirectory(p.path));
onRequest(Method.fsReadFile, async p => ({ data: await files!.readFile(p.path) }));
onRequest(Method.fsWriteFile, p => writeJoin.run(p.path, p.data, async () => {
  if (testSlowSaveMs) await new Promise(resolve => setTimeout(resolve, testSlowSaveMs));
  await files!.writeFile(p.path, p.data, p);
}));
onRequest(Method.fsDelete, p => files!.delete(p.path, p.recursive));
onRequest(Method.fsRename, p => files!.rename(p.from, p.to, p.overwrite));
onRequest(Method.fsCreateDirectory, p => files!.createDirectory(p.path));
onRequest(Method.fsWatch, p => watchers.watch(p.id, p.path, p.recursive));
onRequest(Method.fsUnwatch, p => watchers.unwatch(p.id));

onRequest(Method.fileEncrypt, p => encryptPlaintextFile(files!, p.path, p.deletePlaintext));
onRequest(Method.fileDecryptTo, p => decryptToFile(vault!, p.encPath, p.outPath));
onRequest(Method.fileDecryptBytes, async p => ({ data: await vault!.decryptBytes(p.data) }));
onRequest(Method.folderEncrypt, p => encryptFolder(files!, p.path, p.deletePlaintext,
  (done, total, message) => notify(Method.progress, { token: p.token, done, total, message }), p.token));
onRequest(Method.folderCancel, p => cancelFolderEncryption(p.token));

onRequest(Method.recordingDevices, p => recordings!.devices(p));
onRequest(Method.recordingStart, p => recordings!.start(p));
onRequest(Method.recordingPause, p => recordings!.pause(p.id));
onRequest(Method.recordingResume, p => recordings!.resume(p.id));
onRequest(Method.recordingStop, p => recordings!.stop(p.id));
onRequest(Method.recordingFindUnfinished, p => recordings!.findUnfinished(p.folder));
onRequest(Method.recordingRecover, p => recordings!.recover(p.path));
onRequest(Method.recordingExport, p => recordings!.export(p.encPath, p.outPath));
onRequest(Method.recordingShred, p => recordings!.shred(p.path));
onRequest(Method.recordingDescribe, p => recordings!.describe(p.path));
onRequest(Method.recoverySeal, p => writeJoin.track((async () => { await recipientReady; return { id: await recovery!.seal(p.path, p.data) }; })()));
onRequest(Method.recoveryList, async () => {
  await recipientReady;
  return recovery!.list(vault!.unlocked(), id => notify(Method.log, { level: 'warn', message: `recovery copy ${id} does not open; left in place` }));
});
onRequest(Method.recoveryRead, async p => { await recipientReady; return recovery!.read(vault!.unlocked(), p.id); });
onRequest(Method.recoveryDiscard, p => recovery!.discard(p.id));
// Search (issue 16)
onRequest(Method.searchStart, p => search!.search(p.id, p.query, p.roots));
onRequest(Method.searchCancel, p => search!.cancel(p.id));

onRequest(Method.recordingRead, async p => ({ data: await recordings!.read(p.path, p.start, p.end) }));
// Transcription (issue 31)
onRequest(Method.transcriptionStart, p => transcriptions!.transcribe(p.token, { path: p.path, notePath: p.notePath ?? null, settings: p.settings }));
onRequest(Method.transcriptionCancel, async p => { transcriptions!.cancel(p.token); });
// Sharing (issue 13)
onRequest(Method.sharingIdentity, async () => ({ identity: (await vault!.unlocked().ensureIdentity()).identity.public.text }));
onRequest(Method.sharingAddMember, p => addMember(vault!.unlocked(), p.folder, p.identity, { ...(p.name ? { name: p.name } : {}), firstName: p.firstName }));
onRequest(Method.sharingDescribe, p => describeSharing(vault!.unlocked(), p.path));
// age identities (issue 26)
onRequest(Method.ageImportIdentities, p => importAgeIdentityFile(vault!.unlocked(), p.file));
onRequest(Method.agePendingList, async p => {
  const keys = vault!.unlocked();
  return pendingAgeList(p.path, { keyfilePath: keys.keyfilePath, ownIdentity: (await keys.identity())?.public ?? null });
});
onRequest(Method.ageDescribe, p => describeAgeNote(vault!.unlocked(), p.path, MAX_NOTE_BYTES));
onRequest(Method.ageFilePassphrase, async p => { vault!.unlocked().filePassphrases.set(p.path, new TextEncoder().encode(p.passphrase)); });
onRequest(Method.ageAcceptList, async p => {
  const keys = vault!.unlocked();
  return { recipients: await acceptAgeListAt(p.listFile, p.sha256, { keyfilePath: keys.keyfilePath, ownIdentity: (await keys.identity())?.public ?? null }) };
});
// sops files (issue 27): which ones the Explorer opens through NoteSeal.
onRequest(Method.sopsOpensInEditor, async p => ({ sops: await opensAsSops(p.path, vault!.keyfilePath) }));
onRequest(Method.sopsPendingConfig, p => pendingSopsConfig(vault!.unlocked().keyfilePath, p.path));
onRequest(Method.sopsAcceptConfig, p => acceptSopsConfigAt(vault!.unlocked().keyfilePath, p.configFile, p.sha256));
onRequest(Method.sopsUpdateKeys, p => updateSopsKeys(vault!.unlocked(), p.path));
// Open with NoteSeal, Set Value…, Encrypt with sops, Who Can Read on sops/dotenvx files (issue 27).
onRequest(Method.fileOpenWithKind, p => openWithKind(p.path));
onRequest(Method.fileSetValue, p => setValueInFile(vault!.unlocked(), p.path, p.keyPath, p.value));
onRequest(Method.sopsEncrypt, p => encryptFileAsSops(vault!.unlocked().keyfilePath, p.path));
onRequest(Method.sopsDescribe, p => describeSopsNote(p.path));
onRequest(Method.dotenvxDescribe, p => describeDotenvxNote(vault!.unlocked(), p.path));
onRequest(Method.sharingKnownMembers, p => knownMembers(vault!.unlocked(), p.listFiles, p.folder));
onRequest(Method.sharingWorkspaceRoots, async p => { setWorkspaceRoots(p.roots); });
onRequest(Method.sharingPendingList, async p => {
  const keys = vault!.unlocked();
  return pendingList(p.path, { keyfilePath: keys.keyfilePath, ownIdentity: (await keys.identity())?.public ?? null });
});
onRequest(Method.sharingAcceptList, async p => {
  const keys = vault!.unlocked();
  const chain = await acceptListAt(p.listFile, p.head, { keyfilePath: keys.keyfilePath, ownIdentity: (await keys.identity())?.public ?? null });
  return { members: chain.members.length };
});
// Shared = the file's own header is encrypted to another key (a list above a file saved before it is not enough).
onRequest(Method.sharingIsShared, async p => ({ shared: await Promise.all(p.paths.map(isSharedFile)) }));

connection.listen();
