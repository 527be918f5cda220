// `noteseal:` URIs ↔ the real `.enc` files. `noteseal:/notes/plan.md` is the decrypted view of
// `/notes/plan.md.enc` (see server/src/encPaths.ts for why the suffix is dropped). Only plain local paths
// are mapped (uriRules.ts). A `.enc` file of another scheme (a `git:` or Timeline revision) is shown
// through `noteseal-rev:` instead, which decrypts that revision's bytes, never the working copy.
import * as vscode from 'vscode';
import { ENC_SUFFIX, isEncPath } from '../../../server/src/shared';
import { localPathProblem } from './uriRules';

export const NOTESEAL_SCHEME = 'noteseal';
/** Read-only decrypted views of `.enc` bytes from another scheme (revisionContent.ts). */
export const REVISION_SCHEME = 'noteseal-rev';

/** The schemes whose documents hold decrypted text (closed on lock). */
export function isDecryptedScheme(scheme: string): boolean {
  return scheme === NOTESEAL_SCHEME || scheme === REVISION_SCHEME;
}

/** The OS path the worker works on for a `noteseal:` URI (a logical path, without `.enc`). */
export function logicalFsPath(uri: vscode.Uri): string {
  const problem = localPathProblem(uri, NOTESEAL_SCHEME);
  if (problem) throw vscode.FileSystemError.NoPermissions(`NoteSeal refuses ${uri.toString(true)}: ${problem}.`);
  return uri.with({ scheme: 'file' }).fsPath;
}

/** `file:///notes/plan.md.enc` → `noteseal:/notes/plan.md` (local `file:` paths only). */
export function decryptedViewOf(encFile: vscode.Uri): vscode.Uri {
  const problem = localPathProblem(encFile, 'file');
  if (problem) throw new Error(`NoteSeal opens only local files: ${encFile.toString(true)} (${problem}).`);
  if (!isEncPath(encFile.path)) throw new Error(`not an .enc file: ${encFile.path}`);
  return vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: encFile.path.slice(0, -ENC_SUFFIX.length) });
}

/** `git:/notes/plan.md.enc?…` → `noteseal-rev:/notes/plan.md?<the git URI>`: the name gives the language. */
export function revisionViewOf(encUri: vscode.Uri): vscode.Uri {
  if (!isEncPath(encUri.path)) throw new Error(`not an .enc file: ${encUri.path}`);
  return vscode.Uri.from({ scheme: REVISION_SCHEME, path: encUri.path.slice(0, -ENC_SUFFIX.length), query: encUri.toString() });
}

/** The URI whose bytes a `noteseal-rev:` view decrypts. */
export function revisionSourceOf(view: vscode.Uri): vscode.Uri {
  const source = vscode.Uri.parse(view.query, true);
  if (isDecryptedScheme(source.scheme)) throw new Error('a revision view of a decrypted view');
  return source;
}
