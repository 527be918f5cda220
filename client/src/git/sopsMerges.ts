// An unresolved git merge of a sops file, said where the user works (issue 27, "Git"). A sops document
// cannot hold conflict markers, so the merge driver and every save of a view that still has markers keep the
// file valid with ours' values and seal the view in its metadata (`noteseal_merge`, server/src/formats/
// sops-pending.ts). That is no failure, but it must not pass for a resolved save: when a sops view with markers
// opens or is saved and its file holds a sealed merge, NoteSeal says so once (again after a save without markers).
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { logicalFsPath, NOTESEAL_SCHEME, sealedFileOf } from '../shared/uris';
import { conflictStarts } from './gitSupport';

/** The metadata key of a sealed merge, as YAML/JSON (`noteseal_merge:`), dotenv (`sops_noteseal_merge=`) and INI write it. */
const SEALED_MERGE = /(?:^|[\s"_])noteseal_merge"?\s*[:=]/m;

export function registerSopsMergeNotices(): vscode.Disposable {
  const told = new Set<string>();
  const look = async (doc: vscode.TextDocument) => {
    if (doc.uri.scheme !== NOTESEAL_SCHEME) return;
    const key = doc.uri.toString();
    const file = sealedFileOf(doc.uri);
    if (file !== logicalFsPath(doc.uri) || conflictStarts(doc.getText()).length === 0) { told.delete(key); return; }
    let sealed = false;
    try { sealed = SEALED_MERGE.test(await readFile(file, 'utf8')); } catch { return; }
    if (!sealed || told.has(key)) return;
    told.add(key);
    void vscode.window.showWarningMessage(vscode.l10n.t(
      'NoteSeal: {0} has an unresolved git merge. Until every conflict is resolved and saved, the file keeps ours\' values (what sops and your teammates read) and this text, conflict markers included, stays sealed inside it. Resolve, save, then git add the file.',
      vscode.workspace.asRelativePath(file)));
  };
  return vscode.Disposable.from(
    vscode.workspace.onDidOpenTextDocument(doc => void look(doc)),
    vscode.workspace.onDidSaveTextDocument(doc => void look(doc)),
  );
}
