// Sharing in VS Code (issue 13): Copy My Public Identity, Share Folder…, Who Can Read This File?, and a
// decoration on shared encrypted files. All keys, signatures and list checks stay in the worker; this
// module only asks and shows.
import * as vscode from 'vscode';
import { defaultOwnName, ENC_SUFFIX, hasDotenvName, isAgePath, isSealedPath } from '../../../server/src/shared';
import { Method, type DotenvxFileDescription, type SopsFileDescription } from '../../../server/src/protocol';
import { ageNoWriter, describeAgeFile, describeDotenvxFile, describeSopsFile, dotenvxNoWriter, describeFacts, identityInputProblem, identityKindLabel, members, openWarning, writerTooltip } from './sharingText';
import { Commands } from '../shared/commands';
import { commandFileOf, decryptedViewOf, logicalFsPath, NOTESEAL_SCHEME, sealedFileOf } from '../shared/uris';
import type { VaultController } from '../vault/vault';
import type { WorkerClient } from '../shared/workerClient';

export class SharedDecorations implements vscode.FileDecorationProvider {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  constructor(private readonly worker: WorkerClient) {}
  refresh(): void { this.changed.fire(undefined); }
  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    const file = uri.scheme === 'file' && uri.fsPath.endsWith(ENC_SUFFIX) ? uri.fsPath : undefined;
    if (!file) return undefined;
    const { shared } = await this.worker.request(Method.sharingIsShared, { paths: [file] }).catch(() => ({ shared: [false] }));
    return shared[0] ? { badge: '👥', tooltip: vscode.l10n.t('Encrypted to other people too (NoteSeal: Who Can Read This File?)'), propagate: false } : undefined;
  }
}

/**
 * The lock badge's tooltip on a decrypted note names its last writer (cached until the note is saved,
 * reopened, or changed on disk by someone else: a `git pull` brings another writer).
 */
export class WriterDecorations implements vscode.FileDecorationProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly tooltips = new Map<string, string>();
  constructor(private readonly worker: WorkerClient, private readonly vault: VaultController) {}
  forget(uri: vscode.Uri): void { this.tooltips.delete(uri.toString()); this.changed.fire([uri]); }
  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    if (uri.scheme !== NOTESEAL_SCHEME || this.vault.state.locked) return undefined;
    if (isAgePath(sealedFileOf(uri))) return { tooltip: ageNoWriter(), propagate: false };
    if (hasDotenvName(sealedFileOf(uri))) return { tooltip: dotenvxNoWriter(), propagate: false };
    let tooltip = this.tooltips.get(uri.toString());
    if (tooltip === undefined) {
      const facts = await this.worker.request(Method.sharingDescribe, { path: logicalFsPath(uri) + ENC_SUFFIX }).catch(() => undefined);
      if (!facts) return undefined;
      tooltip = writerTooltip(facts);
      this.tooltips.set(uri.toString(), tooltip);
    }
    return { tooltip, propagate: false };
  }
}

const SHARE_NOW = () => vscode.l10n.t('Share It Now');
const isRecordingPath = (file: string) => /\.wav\.enc$/i.test(file);

type MemberPick = vscode.QuickPickItem & { identity?: string; memberName?: string };

/**
 * Who to add: a member of another shared folder in this workspace (only from lists that verify on this
 * machine, see knownMembers in the worker), or a pasted identity. Undefined when the user cancels.
 */
async function pickMember(worker: WorkerClient, folder: vscode.Uri, title: string): Promise<{ identity?: string; name?: string } | undefined> {
  const lists = (await vscode.workspace.findFiles('**/.noteseal/recipients', undefined, 64)).map(u => u.fsPath);
  const { members, refused } = lists.length
    ? await worker.request(Method.sharingKnownMembers, { listFiles: lists, folder: folder.fsPath }).catch(() => ({ members: [], refused: [] }))
    : { members: [], refused: [] };
  if (!members.length) return {};
  const paste: MemberPick = { label: vscode.l10n.t('$(clippy) Paste a public identity…'), alwaysShow: true };
  const items: MemberPick[] = [paste, { label: vscode.l10n.t('Members of other shared folders'), kind: vscode.QuickPickItemKind.Separator },
    ...members.map(m => ({
      label: m.name, identity: m.identity, memberName: m.name,
      description: `${identityKindLabel(m.identity)} · ${vscode.workspace.asRelativePath(m.list)}`,
      detail: m.identity.slice(0, 24) + '…' + m.identity.slice(-8),
    }))];
  const placeHolder = refused.length
    ? vscode.l10n.t('Pick a member or paste an identity ({0} list(s) not offered: they do not verify on this machine)', refused.length)
    : vscode.l10n.t('Pick a member or paste an identity');
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true });
  if (!pick) return undefined;
  return pick === paste ? {} : { identity: pick.identity!, name: pick.memberName! };
}

/** Every warning a note opened with in this session, newest last (the integration tests read it: a notification cannot be). */
const openWarningsShown: string[] = [];
export function openWarningsSoFar(): readonly string[] { return openWarningsShown; }

/** How long Share It Now waits for its save to reach the disk before it checks who can read the note. */
const SHARE_WRITE_WAIT_MS = 30_000;

export function registerSharing(context: vscode.ExtensionContext, worker: WorkerClient, vault: VaultController,
  command: (id: string, run: (...args: never[]) => unknown) => void, noteChanges: vscode.Event<vscode.FileChangeEvent[]>): void {
  // The worker's list search stops at the nearer of the repository's top and the workspace folder.
  const sendRoots = () => void worker.request(Method.sharingWorkspaceRoots, {
    roots: (vscode.workspace.workspaceFolders ?? []).filter(f => f.uri.scheme === 'file').map(f => f.uri.fsPath),
  }).catch(() => undefined);
  sendRoots();
  context.subscriptions.push(vscode.workspace.onDidChangeWorkspaceFolders(sendRoots), worker.onDidRestart(sendRoots));
  const decorations = new SharedDecorations(worker);
  const writers = new WriterDecorations(worker, vault);
  context.subscriptions.push(vscode.window.registerFileDecorationProvider(decorations), vscode.window.registerFileDecorationProvider(writers),
    vscode.workspace.createFileSystemWatcher('**/.noteseal/recipients').onDidChange(() => decorations.refresh()),
    vscode.workspace.onDidSaveTextDocument(doc => { if (doc.uri.scheme === NOTESEAL_SCHEME) writers.forget(doc.uri); }),
    noteChanges(events => { for (const e of events) writers.forget(e.uri); }),
    // A note opens with a clear warning when it is shared but unsigned, signed by a non-member, or its signature fails.
    vscode.workspace.onDidOpenTextDocument(doc => {
      if (doc.uri.scheme !== NOTESEAL_SCHEME || vault.state.locked) return;
      writers.forget(doc.uri);
      void worker.request(Method.sharingDescribe, { path: logicalFsPath(doc.uri) + ENC_SUFFIX }).then(facts => {
        const warning = openWarning(facts);
        if (warning) openWarningsShown.push(warning);
        if (warning) void vscode.window.showWarningMessage(vscode.l10n.t('NoteSeal: {0}', warning), vscode.l10n.t('Who Can Read This File?'))
          .then(pick => { if (pick) void vscode.commands.executeCommand(Commands.whoCanRead, doc.uri); });
      }, () => undefined);
    }));

  command(Commands.copyPublicIdentity, async () => {
    if (!(await vault.ensureUnlocked('Your identity is stored under your key.'))) return undefined;
    const { identity } = await worker.request(Method.sharingIdentity);
    await vscode.env.clipboard.writeText(identity);
    void vscode.window.showInformationMessage(vscode.l10n.t('Your NoteSeal public identity is on the clipboard. It is public: send it to whoever shares a folder with you.'));
    return identity;
  });

  command(Commands.shareFolder, async (uri?: vscode.Uri) => {
    const folder = uri?.scheme === 'file' ? uri : vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!folder) { void vscode.window.showErrorMessage(vscode.l10n.t('Choose a folder in the Explorer to share.')); return undefined; }
    const title = vscode.l10n.t('Share {0}', vscode.workspace.asRelativePath(folder));
    if (!(await vault.ensureUnlocked('Adding a member is signed with your key.'))) return undefined;
    const member = await pickMember(worker, folder, title);
    if (!member) return undefined;
    const identity = member.identity ?? await vscode.window.showInputBox({
      title, prompt: vscode.l10n.t('Paste the member\'s public identity (noteseal1…, age1… or age1pq1…)'), ignoreFocusOut: true,
      validateInput: identityInputProblem,
    });
    if (!identity) return undefined;
    const name = await vscode.window.showInputBox({
      title: vscode.l10n.t('Member name'), prompt: vscode.l10n.t('How the list names them (shown as the writer of their saves)'), ignoreFocusOut: true, value: member.name ?? '',
      validateInput: v => (v.trim() && v.trim() === v && v.length <= 64 ? undefined : vscode.l10n.t('1 to 64 characters, no surrounding spaces.')),
    });
    if (!name) return undefined;
    // A new list names you too: asked, prefilled as the CLI's `recipients add` would name you ($USER, else the login name).
    const listExists = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, '.noteseal', 'recipients')).then(() => true, () => false);
    const firstName = listExists ? defaultOwnName(process.env) : await vscode.window.showInputBox({
      title: vscode.l10n.t('Your name in the new list'), prompt: vscode.l10n.t('How the new list names you, its first member (shown as the writer of your saves)'), ignoreFocusOut: true,
      value: defaultOwnName(process.env), validateInput: v => (v.trim() && v.trim() === v && v.length <= 64 ? undefined : vscode.l10n.t('1 to 64 characters, no surrounding spaces.')),
    });
    if (!firstName) return undefined;
    const r = await worker.request(Method.sharingAddMember, { folder: folder.fsPath, identity: identity.trim(), name, firstName });
    decorations.refresh();
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} {1}: {2}. New saves below this folder are encrypted to all of them; commit the file. Existing files are shared when saved again (Who Can Read This File? offers Share It Now).',
      r.created ? vscode.l10n.t('Created') : vscode.l10n.t('Updated'), vscode.workspace.asRelativePath(r.file), members(r.members)));
    return r;
  });

  command(Commands.whoCanRead, async (uri?: vscode.Uri) => {
    const file = commandFileOf(uri);
    if (!file) { void vscode.window.showErrorMessage(vscode.l10n.t('Choose an encrypted file (.enc) or open a note.')); return undefined; }
    if (!(await vault.ensureUnlocked('Checking the writer needs your key.'))) return undefined;
    if (!isSealedPath(file)) {
      // A sops or dotenvx file (issue 27), whatever its name: the keys its metadata names; nothing decrypted.
      const { kind } = await worker.request(Method.fileOpenWithKind, { path: file });
      const relative = vscode.workspace.asRelativePath(file);
      let described: SopsFileDescription | DotenvxFileDescription;
      let text: string;
      if (kind === 'sops') { const d = await worker.request(Method.sopsDescribe, { path: file }); described = d; text = describeSopsFile(d, relative); }
      else if (kind === 'dotenvx') { const d = await worker.request(Method.dotenvxDescribe, { path: file }); described = d; text = describeDotenvxFile(d, relative); }
      else { void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not an encrypted file NoteSeal knows: choose a .enc, age, sops or dotenvx file, or open a note.', relative)); return undefined; }
      const [first, ...rest] = text.split('\n');
      // No button follows the modal: not waited for, so the command returns what it showed.
      void vscode.window.showInformationMessage(first!, { modal: true, detail: rest.join('\n') }).then(undefined, () => undefined);
      return { kind, ...described };
    }
    if (isAgePath(file)) {
      const age = await worker.request(Method.ageDescribe, { path: file });
      const [first, ...rest] = describeAgeFile(age, vscode.workspace.asRelativePath(file), age.nextSave && vscode.workspace.asRelativePath(age.nextSave.source)).split('\n');
      await (age.nextSaveProblem ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(first!, { modal: true, detail: rest.join('\n') });
      return age;
    }
    const facts = await worker.request(Method.sharingDescribe, { path: file });
    const text = describeFacts(facts);
    const [first, ...rest] = text.split('\n');
    // Only a note this keyfile opens, under a list NoteSeal accepts, can be shared now (recordings keep their own keys).
    const shareNow = facts.access.you && facts.access.notYet.length > 0 && !facts.listProblem && !isRecordingPath(file) ? [SHARE_NOW()] : [];
    const show = facts.writer.warning || facts.listProblem ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const pick = await show(first!, { modal: true, detail: rest.join('\n') }, ...shareNow);
    if (pick === SHARE_NOW()) await shareNowByResaving(file, facts.access.notYet);
    return facts;
  });

  /** Saves the note again through the `noteseal:` view: the save encrypts it to every member of its list. */
  async function shareNowByResaving(file: string, to: string[]): Promise<void> {
    const view = decryptedViewOf(vscode.Uri.file(file));
    const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === view.toString());
    if (open?.isDirty) { if (!(await open.save())) throw new Error(vscode.l10n.t('the note could not be saved, so it is not shared yet.')); }
    else await vscode.workspace.fs.writeFile(view, await vscode.workspace.fs.readFile(view));
    // A save that outlasts the provider's deadline is reported done and finished in the background
    // (encFsProvider.ts SAVE_DEADLINE_MS): checked before it lands, the note looked "still not encrypted".
    await vault.whenWritten(SHARE_WRITE_WAIT_MS);
    decorations.refresh();
    const after = await worker.request(Method.sharingDescribe, { path: file });
    const still = after.access.notYet.filter(n => to.includes(n));
    if (still.length) void vscode.window.showWarningMessage(vscode.l10n.t('{0} is saved, but still not encrypted to {1}.', vscode.workspace.asRelativePath(file), still.join(', ')));
    else void vscode.window.showInformationMessage(vscode.l10n.t('{0} is now encrypted to {1} too. Commit it so that they get this version.', vscode.workspace.asRelativePath(file), to.join(', ')));
  }
}
